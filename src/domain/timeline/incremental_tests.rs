//! Timelines kept up to date change by change (writes, relocations, consents, horizon moves)
//! equal the timelines built from scratch on the same roster, and answer the same.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{date, Time};
use proptest::prelude::*;

use super::*;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::country::Country;
use crate::domain::decision::{decide_ticket, TicketQuestion};
use crate::domain::fixtures::{consent, daily, numbered_agent, numbered_agent_id, numbered_shift, org, policy};
use crate::domain::ids::OrgId;
use crate::domain::on_shift::on_shift;
use crate::domain::policy::{PlanKind, TicketCategory};
use crate::domain::roster::{Agent, Consent, Org, RosterChanges, Shift, TimeOff};
use crate::domain::snapshot::Snapshot;

const TWO_THREADS: Parallelism = Parallelism::new(std::num::NonZeroUsize::new(2).unwrap());
const COUNTRIES: [&str; 5] = ["IE", "US", "GB", "IN", "DE"];
/// 2026-03-20T00:00:00Z: the horizon spans the spring DST change.
const START: i64 = 1_773_964_800;
const N_AGENTS: usize = 6;
const N_SHIFTS: usize = 10;
const CONSENT_ORG: &str = "std-eu";

fn at_minute(minute: i64) -> Instant {
    Instant::from_second(START + minute * 60).unwrap()
}

fn minutes(start_minute: i64, length_minutes: i64) -> Interval {
    Interval::new(at_minute(start_minute), at_minute(start_minute + length_minutes)).unwrap()
}

/// One write to the stored roster, or a move of the clock.
#[derive(Clone, Debug)]
enum Step {
    UpsertAgent {
        agent_idx: usize,
        country_idx: usize,
        relocates: bool,
    },
    DeleteAgent {
        agent_idx: usize,
    },
    /// A one-off shift (a trip when `trip_country` is given), or a nightly one when `nightly`.
    UpsertShift {
        shift_idx: usize,
        agent_idx: usize,
        start: i64,
        length: i64,
        sev1_only: bool,
        trip_country: Option<usize>,
        nightly: bool,
    },
    DeleteShift {
        shift_idx: usize,
    },
    UpsertTimeOff {
        entry_idx: usize,
        agent_idx: usize,
        start: i64,
        length: i64,
    },
    DeleteTimeOff {
        entry_idx: usize,
    },
    GrantConsent {
        agent_idx: usize,
        expires: i64,
    },
    RevokeConsent {
        agent_idx: usize,
    },
    /// The clock moves on by this many minutes, and the horizon with it.
    Roll {
        minutes: i64,
    },
}

fn step_strategy() -> impl Strategy<Value = Step> {
    let minute = -8 * 1440i64..(45 * 1440);
    prop_oneof![
        3 => (0..N_AGENTS, 0..COUNTRIES.len(), any::<bool>())
            .prop_map(|(agent_idx, country_idx, relocates)| Step::UpsertAgent { agent_idx, country_idx, relocates }),
        1 => (0..N_AGENTS).prop_map(|agent_idx| Step::DeleteAgent { agent_idx }),
        5 => (0..N_SHIFTS, 0..N_AGENTS, minute.clone(), 30i64..(30 * 60), proptest::bool::weighted(0.2),
              proptest::option::weighted(0.2, 0..COUNTRIES.len()), proptest::bool::weighted(0.15))
            .prop_map(|(shift_idx, agent_idx, start, length, sev1_only, trip_country, nightly)| Step::UpsertShift {
                shift_idx, agent_idx, start, length, sev1_only, trip_country, nightly,
            }),
        1 => (0..N_SHIFTS).prop_map(|shift_idx| Step::DeleteShift { shift_idx }),
        2 => (0..3usize, 0..N_AGENTS, minute.clone(), 60i64..(3 * 1440))
            .prop_map(|(entry_idx, agent_idx, start, length)| Step::UpsertTimeOff { entry_idx, agent_idx, start, length }),
        1 => (0..3usize).prop_map(|entry_idx| Step::DeleteTimeOff { entry_idx }),
        1 => (0..N_AGENTS, 0i64..(20 * 1440)).prop_map(|(agent_idx, expires)| Step::GrantConsent { agent_idx, expires }),
        1 => (0..N_AGENTS).prop_map(|agent_idx| Step::RevokeConsent { agent_idx }),
        2 => (0i64..(4 * 1440)).prop_map(|minutes| Step::Roll { minutes }),
    ]
}

/// What the database would hold: the model the full build reads.
#[derive(Default)]
struct Stored {
    agents: BTreeMap<String, Agent>,
    shifts: BTreeMap<String, Shift>,
    time_off: BTreeMap<String, TimeOff>,
    consents: BTreeMap<String, Consent>,
}

fn orgs() -> Vec<Org> {
    vec![
        org("eea", "eu-west-1", PlanKind::EeaOnly),
        org(CONSENT_ORG, "eu-central-1", PlanKind::Standard),
        org("std-us", "us-east-1", PlanKind::Standard),
    ]
}

impl Stored {
    fn agent_roster(&self, agent_id: &str) -> Option<AgentRoster> {
        let agent = self.agents.get(agent_id)?.clone();
        let shifts = self.shifts.values().filter(|shift| shift.agent_id.as_str() == agent_id).cloned().collect();
        let time_off = self.time_off.values().filter(|entry| entry.agent_id.as_str() == agent_id).cloned().collect();
        Some(AgentRoster::new(agent, shifts, time_off))
    }

    /// Applies a write; returns the changes a replica would read back for it.
    fn write(&mut self, step: &Step) -> RosterChanges {
        let mut changed_agents: BTreeSet<String> = BTreeSet::new();
        let mut consents_changed = false;
        match step {
            Step::UpsertAgent { agent_idx, country_idx, relocates } => {
                let relocations: &[(&str, &str)] = if *relocates { &[("2026-03-25T12:00:00Z", "GB")] } else { &[] };
                let agent = numbered_agent(*agent_idx, COUNTRIES[*country_idx], relocations);
                changed_agents.insert(agent.agent_id.as_str().to_owned());
                self.agents.insert(agent.agent_id.as_str().to_owned(), agent);
            }
            Step::DeleteAgent { agent_idx } => {
                let agent_id = numbered_agent_id(*agent_idx);
                if self.agents.remove(&agent_id).is_some() {
                    self.shifts.retain(|_, shift| shift.agent_id.as_str() != agent_id);
                    self.time_off.retain(|_, entry| entry.agent_id.as_str() != agent_id);
                    consents_changed = self.consents.remove(&agent_id).is_some();
                    changed_agents.insert(agent_id);
                }
            }
            Step::UpsertShift { shift_idx, agent_idx, start, length, sev1_only, trip_country, nightly } => {
                let agent_id = numbered_agent_id(*agent_idx);
                if self.agents.contains_key(&agent_id) {
                    let mut shift = numbered_shift(*shift_idx, *agent_idx, minutes(*start, *length), *sev1_only);
                    if *nightly {
                        let night = daily(
                            shift.shift_id.as_str(),
                            &agent_id,
                            date(2026, 3, 10).at(22, 0, 0, 0),
                            Time::constant(2, 30, 0, 0),
                        );
                        shift.schedule = night.schedule;
                    }
                    shift.country = trip_country.map(|country_idx| Country::parse(COUNTRIES[country_idx]).unwrap());
                    if let Some(before) = self.shifts.insert(shift.shift_id.as_str().to_owned(), shift) {
                        changed_agents.insert(before.agent_id.as_str().to_owned());
                    }
                    changed_agents.insert(agent_id);
                }
            }
            Step::DeleteShift { shift_idx } => {
                if let Some(before) = self.shifts.remove(&format!("shift-{shift_idx}")) {
                    changed_agents.insert(before.agent_id.as_str().to_owned());
                }
            }
            Step::UpsertTimeOff { entry_idx, agent_idx, start, length } => {
                let agent_id = numbered_agent_id(*agent_idx);
                if self.agents.contains_key(&agent_id) {
                    let entry = TimeOff {
                        time_off_id: format!("off-{entry_idx}").as_str().into(),
                        agent_id: agent_id.as_str().into(),
                        period: minutes(*start, *length),
                        source: None,
                    };
                    if let Some(before) = self.time_off.insert(format!("off-{entry_idx}"), entry) {
                        changed_agents.insert(before.agent_id.as_str().to_owned());
                    }
                    changed_agents.insert(agent_id);
                }
            }
            Step::DeleteTimeOff { entry_idx } => {
                if let Some(before) = self.time_off.remove(&format!("off-{entry_idx}")) {
                    changed_agents.insert(before.agent_id.as_str().to_owned());
                }
            }
            Step::GrantConsent { agent_idx, expires } => {
                let agent_id = numbered_agent_id(*agent_idx);
                if self.agents.contains_key(&agent_id) {
                    let expires_at = at_minute(*expires).to_string();
                    self.consents.insert(agent_id.clone(), consent(CONSENT_ORG, "t-consent", &agent_id, &expires_at));
                    consents_changed = true;
                }
            }
            Step::RevokeConsent { agent_idx } => {
                consents_changed = self.consents.remove(&numbered_agent_id(*agent_idx)).is_some();
            }
            Step::Roll { .. } => {}
        }
        let agents = changed_agents.into_iter().map(|agent_id| {
            let now = self.agent_roster(&agent_id);
            (AgentId::new(agent_id).unwrap(), now)
        });
        let consent_org = orgs().into_iter().find(|org| org.org_id == CONSENT_ORG).unwrap();
        let orgs = consents_changed.then(|| {
            (OrgId::new(CONSENT_ORG.to_owned()).unwrap(), Some(consent_org), self.consents.values().cloned().collect())
        });
        RosterChanges { agents: agents.collect(), orgs: orgs.into_iter().collect() }
    }

    fn full_build(&self, now: Instant) -> Snapshot {
        Snapshot::build(
            policy(HolidayCalendar::Target2),
            orgs(),
            self.agents.values().cloned().collect(),
            self.shifts.values().cloned().collect(),
            self.time_off.values().cloned().collect(),
            self.consents.values().cloned().collect(),
        )
        .with_timelines(now, TWO_THREADS)
    }
}

/// Pieces with those cut only where nothing changes (a horizon's old end) joined again.
fn joined(pieces: &[Piece]) -> Vec<Piece> {
    let mut joined: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match joined.last_mut() {
            Some(last)
                if last.end_us == piece.start_us
                    && Piece { start_us: piece.start_us, end_us: piece.end_us, ..*last } == *piece =>
            {
                last.end_us = piece.end_us;
            }
            _ => joined.push(*piece),
        }
    }
    joined
}

type Canonical = (Option<Grid>, Vec<StaffingIndex>, BTreeMap<AgentId, Vec<Piece>>, Vec<BTreeSet<(AgentId, u8)>>);

/// What the timelines hold, with slots (which depend on the order agents came in) replaced by
/// agent IDs.
fn canonical(timelines: &StaffedTimelines) -> Canonical {
    let id_of =
        |slot: u32| timelines.agents.get(slot as usize).cloned().flatten().map(|timeline| timeline.agent_id.clone());
    let pieces = timelines
        .agents
        .iter()
        .flatten()
        .map(|timeline| (timeline.agent_id.clone(), joined(&timeline.pieces)))
        .collect();
    let members = timelines
        .members
        .iter()
        .map(|chunks| {
            chunks
                .iter()
                .flat_map(|chunk| chunk.iter())
                .map(|member| (id_of(member.slot).unwrap(), member.classes))
                .collect()
        })
        .collect();
    (timelines.grid, timelines.indexes.clone(), pieces, members)
}

fn roster_view(snapshot: &Snapshot) -> (Vec<AgentRoster>, Vec<Consent>, usize) {
    let roster = snapshot.roster();
    (roster.agents().cloned().collect(), roster.consents_of(CONSENT_ORG).cloned().collect(), roster.n_shifts())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn timelines_kept_change_by_change_equal_those_built_from_scratch(
        steps in prop::collection::vec(step_strategy(), 1..30),
        questions in prop::collection::vec((0usize..3, 0usize..4, -1440i64..(30 * 1440), any::<bool>()), 6),
    ) {
        let mut stored = Stored::default();
        let mut now = at_minute(0);
        let mut kept = stored.full_build(now);
        for step in &steps {
            kept = match step {
                Step::Roll { minutes } => {
                    now += SignedDuration::from_mins(*minutes);
                    kept.rolled_to(now, TWO_THREADS)
                }
                write => kept.with_changes(stored.write(write), TWO_THREADS),
            };
        }
        let full = stored.full_build(now);
        prop_assert_eq!(roster_view(&kept), roster_view(&full));
        prop_assert_eq!(canonical(kept.timelines()), canonical(full.timelines()));
        for (org_idx, severity_idx, minute, consented_ticket) in questions {
            let question = TicketQuestion {
                org_id: ["eea", CONSENT_ORG, "std-us"][org_idx],
                ticket_id: if consented_ticket { "t-consent" } else { "t-other" },
                severity: Severity::ALL[severity_idx],
                category: TicketCategory::ProductSupport,
                at: now + SignedDuration::from_mins(minute) + SignedDuration::from_secs(17),
            };
            prop_assert_eq!(decide_ticket(&kept, &question), decide_ticket(&full, &question));
            let (plan, tagged) = [(PlanKind::EeaOnly, true), (PlanKind::Standard, true), (PlanKind::Standard, false)][org_idx];
            prop_assert_eq!(
                on_shift(&kept, plan, tagged, question.severity, question.at),
                on_shift(&full, plan, tagged, question.severity, question.at)
            );
        }
    }
}

#[test]
fn a_write_copies_only_the_buckets_its_agent_touches() {
    let mut stored = Stored::default();
    let before = stored.full_build(at_minute(0));
    let mut kept = before.clone();
    for agent_idx in 0..N_AGENTS {
        let step = Step::UpsertAgent { agent_idx, country_idx: 0, relocates: false };
        kept = kept.with_changes(stored.write(&step), TWO_THREADS);
    }
    let step = Step::UpsertShift {
        shift_idx: 0,
        agent_idx: 2,
        start: 600,
        length: 480,
        sev1_only: false,
        trip_country: None,
        nightly: false,
    };
    let after = kept.with_changes(stored.write(&step), TWO_THREADS);
    let index = |snapshot: &Snapshot| snapshot.timelines().index(EligibilityClass::EeaOnly, Severity::Sev2).clone();
    let (kept_index, after_index) = (index(&kept), index(&after));
    let copied =
        kept_index.buckets.iter().zip(&after_index.buckets).filter(|(old, new)| !Arc::ptr_eq(old, new)).count();
    // An 8-hour shift from 10:00 lies in two 6-hour buckets; the other 170-odd are shared.
    assert_eq!(copied, 2);
    assert_eq!(after_index.count_at(at_minute(700)), 1);
    assert_eq!(kept_index.count_at(at_minute(700)), 0);
    assert_eq!(after.timelines().agents_at(EligibilityClass::EeaOnly, at_minute(700)).len(), 1);
}

//! Each kind of change, the errors they name, and the property that a simulation equals the plain
//! report of a roster rebuilt from scratch with the changes applied.

use proptest::prelude::*;

use super::*;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::coverage::{coverage_report, Gap, GapCause};
use crate::domain::fixtures::{
    agent, at_minute, instant, interval, minutes, numbered_agent, numbered_agent_id, numbered_shift, one_off, policy,
    time_off,
};
use crate::domain::policy::{PlanKind, Severity};

/// Monday 7 December 2026: the Irish agent works 08:00-16:00Z, the German one 16:00-24:00Z; the
/// German one moves to the US from 20:00Z on 8 December (after the window).
fn stored() -> Snapshot {
    Snapshot::build(
        policy(HolidayCalendar::None),
        vec![],
        vec![agent("ie-1", "IE", &[]), agent("de-1", "DE", &[("2026-12-08T20:00:00Z", "US")])],
        vec![
            one_off("ie-day", "ie-1", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z"),
            one_off("de-evening", "de-1", "2026-12-07T16:00:00Z", "2026-12-08T00:00:00Z"),
        ],
        vec![time_off("ie-leave", "ie-1", "2026-12-09T00:00:00Z", "2026-12-10T00:00:00Z")],
        vec![],
    )
}

fn monday() -> CoverageQuestion {
    CoverageQuestion {
        plan: PlanKind::EeaOnly,
        eea_tagged: true,
        window: interval("2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z"),
        min_staff: 1,
    }
}

fn gap(start: &str, end: &str, eligible_on_shift: u32, cause: GapCause) -> Gap {
    Gap { interval: interval(start, end), eligible_on_shift, cause }
}

fn hour(hour: u32) -> String {
    if hour == 24 {
        "2026-12-08T00:00:00Z".to_owned()
    } else {
        format!("2026-12-07T{hour:02}:00:00Z")
    }
}

fn sev1_gap(from_hour: u32, to_hour: u32, cause: GapCause) -> Gap {
    gap(&hour(from_hour), &hour(to_hour), 0, cause)
}

fn shift(shift_id: &str, agent_id: &str, from_hour: u32, to_hour: u32) -> Shift {
    one_off(shift_id, agent_id, &hour(from_hour), &hour(to_hour))
}

fn id<T: for<'a> From<&'a str>>(text: &str) -> T {
    T::from(text)
}

/// Applies `changes` to the stored roster, simulates Monday's report, and checks the Sev1 gaps
/// opened and closed and the agents touched.
fn check(changes: Vec<HypotheticalChange>, opened: &[Gap], closed: &[Gap], touched: &[&str]) {
    let stored = stored();
    let hypothetical = apply_changes(&stored, &changes).unwrap_or_else(|errors| panic!("{changes:?}: {errors:?}"));
    let simulation = simulate(&stored, &hypothetical.snapshot, &monday(), Parallelism::SEQUENTIAL);
    let sev1 = &simulation.gap_changes[0];
    assert_eq!(sev1.severity, Severity::Sev1);
    assert_eq!((sev1.opened.as_slice(), sev1.closed.as_slice()), (opened, closed), "{changes:?}");
    let touched_ids: Vec<&str> = hypothetical.touched_agent_ids.iter().map(AgentId::as_str).collect();
    assert_eq!(touched_ids, touched, "{changes:?}");
    // The report is the one the changed roster gives.
    assert_eq!(simulation.report, coverage_report(&hypothetical.snapshot, &monday(), Parallelism::SEQUENTIAL));
}

#[test]
fn with_no_changes_nothing_opens_or_closes() {
    check(vec![], &[], &[], &[]);
}

#[test]
fn an_absence_opens_a_gap_caused_by_time_off() {
    let absence =
        HypotheticalChange::Absence { agent_id: id("ie-1"), period: interval(&hour(10), "2026-12-07T12:30:00Z") };
    check(vec![absence], &[gap(&hour(10), "2026-12-07T12:30:00Z", 0, GapCause::StaffOnTimeOff)], &[], &["ie-1"]);
}

#[test]
fn a_relocation_outside_the_eea_opens_a_gap_from_its_instant() {
    let relocation = HypotheticalChange::Relocation {
        agent_id: id("ie-1"),
        effective_at: instant(&hour(12)),
        country: Country::parse("US").unwrap(),
    };
    check(vec![relocation], &[sev1_gap(12, 16, GapCause::OnlyIneligibleStaff)], &[], &["ie-1"]);
}

#[test]
fn a_relocation_replaces_the_location_changes_after_it() {
    // The stored move to the US on 8 December gives way: from 7 December the agent is in France
    // for good, so an evening shift on the 8th stays eligible.
    let relocation = HypotheticalChange::Relocation {
        agent_id: id("de-1"),
        effective_at: instant(&hour(20)),
        country: Country::parse("FR").unwrap(),
    };
    let stored = stored();
    let hypothetical = apply_changes(&stored, &[relocation]).unwrap();
    let moved = &hypothetical.snapshot.agent("de-1").unwrap().agent;
    assert_eq!(moved.country_at(instant("2026-12-09T00:00:00Z")).to_string(), "FR");
    assert_eq!(moved.country_at(instant("2026-12-07T19:00:00Z")).to_string(), "DE");
    assert_eq!(moved.location_changes.len(), 1);
}

#[test]
fn an_added_shift_closes_the_gap_it_covers() {
    check(
        vec![HypotheticalChange::AddShift(shift("de-early", "de-1", 0, 5))],
        &[],
        &[sev1_gap(0, 5, GapCause::NoOneScheduled)],
        &["de-1"],
    );
}

#[test]
fn a_removed_shift_opens_the_gap_it_covered() {
    check(
        vec![HypotheticalChange::RemoveShift(id("de-evening"))],
        &[sev1_gap(16, 24, GapCause::NoOneScheduled)],
        &[],
        &["de-1"],
    );
}

#[test]
fn a_changed_shift_opens_and_closes_what_its_new_times_do() {
    check(
        vec![HypotheticalChange::ChangeShift(shift("ie-day", "ie-1", 6, 14))],
        &[sev1_gap(14, 16, GapCause::NoOneScheduled)],
        &[sev1_gap(6, 8, GapCause::NoOneScheduled)],
        &["ie-1"],
    );
}

#[test]
fn a_shift_moved_to_another_agent_touches_both() {
    check(vec![HypotheticalChange::ChangeShift(shift("de-evening", "ie-1", 16, 24))], &[], &[], &["de-1", "ie-1"]);
}

#[test]
fn an_added_agent_given_a_shift_by_a_later_change_closes_a_gap() {
    check(
        vec![
            HypotheticalChange::AddAgent(agent("fr-1", "FR", &[])),
            HypotheticalChange::AddShift(shift("fr-night", "fr-1", 0, 4)),
        ],
        &[],
        &[sev1_gap(0, 4, GapCause::NoOneScheduled)],
        &["fr-1"],
    );
}

#[test]
fn a_shift_removed_and_added_back_as_it_was_touches_no_one() {
    check(
        vec![
            HypotheticalChange::RemoveShift(id("ie-day")),
            HypotheticalChange::AddShift(shift("ie-day", "ie-1", 8, 16)),
        ],
        &[],
        &[],
        &[],
    );
}

/// The fields `changes` are refused for.
fn check_refused(changes: Vec<HypotheticalChange>, fields: &[&str]) {
    let errors = apply_changes(&stored(), &changes).expect_err("refused");
    let refused: Vec<&str> = errors.iter().map(|violation| violation.field.as_str()).collect();
    assert_eq!(refused, fields, "{errors:?}");
}

#[test]
fn a_change_that_refers_to_what_does_not_exist_names_its_field() {
    let nobody = || id::<AgentId>("nobody");
    let us = Country::parse("US").unwrap();
    let cases: Vec<(Vec<HypotheticalChange>, &[&str])> = vec![
        (
            vec![HypotheticalChange::Absence { agent_id: nobody(), period: monday().window }],
            &["changes[0].absence.agent_id"],
        ),
        (
            vec![HypotheticalChange::Relocation { agent_id: nobody(), effective_at: instant(&hour(1)), country: us }],
            &["changes[0].relocation.agent_id"],
        ),
        (vec![HypotheticalChange::AddShift(shift("ie-day", "ie-1", 1, 2))], &["changes[0].add_shift.shift.shift_id"]),
        (vec![HypotheticalChange::AddShift(shift("new", "nobody", 1, 2))], &["changes[0].add_shift.shift.agent_id"]),
        (vec![HypotheticalChange::RemoveShift(id("no-such-shift"))], &["changes[0].remove_shift.shift_id"]),
        (
            vec![HypotheticalChange::RemoveShift(id("ie-day")), HypotheticalChange::RemoveShift(id("ie-day"))],
            &["changes[1].remove_shift.shift_id"],
        ),
        (
            vec![HypotheticalChange::ChangeShift(shift("no-such-shift", "ie-1", 1, 2))],
            &["changes[0].change_shift.shift.shift_id"],
        ),
        (
            vec![HypotheticalChange::ChangeShift(shift("ie-day", "nobody", 1, 2))],
            &["changes[0].change_shift.shift.agent_id"],
        ),
        (vec![HypotheticalChange::AddAgent(agent("ie-1", "IE", &[]))], &["changes[0].add_agent.agent.agent_id"]),
        // Changes apply in order: an agent added after the shift that names it is too late.
        (
            vec![
                HypotheticalChange::AddShift(shift("fr-night", "fr-1", 0, 4)),
                HypotheticalChange::AddAgent(agent("fr-1", "FR", &[])),
            ],
            &["changes[0].add_shift.shift.agent_id"],
        ),
        // Every refused change is named, not only the first.
        (
            vec![
                HypotheticalChange::RemoveShift(id("no-such-shift")),
                HypotheticalChange::AddShift(shift("fine", "ie-1", 1, 2)),
                HypotheticalChange::Absence { agent_id: nobody(), period: monday().window },
            ],
            &["changes[0].remove_shift.shift_id", "changes[2].absence.agent_id"],
        ),
    ];
    for (changes, fields) in cases {
        check_refused(changes, fields);
    }
}

#[test]
fn the_stored_snapshot_is_left_as_it_was() {
    let stored = stored();
    let before: Vec<AgentRoster> = stored.agents().cloned().collect();
    let changes = vec![
        HypotheticalChange::Absence { agent_id: id("ie-1"), period: monday().window },
        HypotheticalChange::RemoveShift(id("de-evening")),
        HypotheticalChange::AddAgent(agent("fr-1", "FR", &[])),
        HypotheticalChange::ChangeShift(shift("ie-day", "fr-1", 0, 8)),
    ];
    let hypothetical = apply_changes(&stored, &changes).unwrap();
    assert_eq!(stored.agents().cloned().collect::<Vec<_>>(), before);
    assert_eq!((stored.n_agents(), stored.n_shifts()), (2, 2));
    assert_eq!((hypothetical.snapshot.n_agents(), hypothetical.snapshot.n_shifts()), (3, 1));
    // An agent the changes left alone is shared, not copied.
    let untouched = HypotheticalChange::AddShift(shift("extra", "ie-1", 1, 2));
    let hypothetical = apply_changes(&stored, &[untouched]).unwrap();
    assert!(std::ptr::eq(stored.agent("de-1").unwrap(), hypothetical.snapshot.agent("de-1").unwrap()));
}

// The property: random rosters and random changes, against a model that applies the same
// changes to plain lists and builds the roster from scratch.

const COUNTRIES: [&str; 5] = ["IE", "US", "GB", "IN", "DE"];
const WINDOW_MINUTES: i64 = 3 * 1440;

/// Agents (country), shifts (agent, start minute, length, Sev1 alone), time off (agent, start
/// minute, length).
type RandomRoster = (Vec<usize>, Vec<(usize, i64, i64, bool)>, Vec<(usize, i64, i64)>);

fn random_roster() -> impl Strategy<Value = RandomRoster> {
    (1usize..5).prop_flat_map(|n_agents| {
        (
            prop::collection::vec(0..COUNTRIES.len(), n_agents),
            prop::collection::vec(
                (0..n_agents, -600i64..WINDOW_MINUTES, 30i64..(16 * 60), proptest::bool::weighted(0.2)),
                0..10,
            ),
            prop::collection::vec((0..n_agents, 0i64..WINDOW_MINUTES, 30i64..1440), 0..3),
        )
    })
}

/// A change as drawn: its kind, and numbers it picks its agent, shift, times and country by.
type ChangeSeed = (u8, usize, i64, i64, usize, bool);

fn change_seeds() -> impl Strategy<Value = Vec<ChangeSeed>> {
    prop::collection::vec(
        (0u8..6, 0usize..100, -600i64..WINDOW_MINUTES, 30i64..(12 * 60), 0usize..100, any::<bool>()),
        0..8,
    )
}

/// The roster as plain lists: what the model changes and rebuilds.
#[derive(Clone)]
struct Model {
    agents: Vec<Agent>,
    shifts: Vec<Shift>,
    time_off: Vec<TimeOff>,
}

impl Model {
    fn of((countries, shifts, time_off): &RandomRoster) -> Model {
        Model {
            agents: countries
                .iter()
                .enumerate()
                .map(|(agent_idx, country_idx)| numbered_agent(agent_idx, COUNTRIES[*country_idx], &[]))
                .collect(),
            shifts: shifts
                .iter()
                .enumerate()
                .map(|(shift_idx, (agent_idx, start, length, sev1_only))| {
                    numbered_shift(shift_idx, *agent_idx, minutes(*start, *length), *sev1_only)
                })
                .collect(),
            time_off: time_off
                .iter()
                .enumerate()
                .map(|(entry_idx, (agent_idx, start, length))| TimeOff {
                    time_off_id: format!("off-{entry_idx}").as_str().into(),
                    agent_id: numbered_agent_id(*agent_idx).as_str().into(),
                    period: minutes(*start, *length),
                    source: None,
                })
                .collect(),
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::build(
            policy(HolidayCalendar::None),
            vec![],
            self.agents.clone(),
            self.shifts.clone(),
            self.time_off.clone(),
            vec![],
        )
    }

    /// A one-off shift of the agent `agent_pick` picks; every third one is a trip, worked from
    /// a country of its own.
    fn new_shift(&self, shift_id: String, (agent_pick, start, length, sev1_only): (usize, i64, i64, bool)) -> Shift {
        let agent_id = self.agents[agent_pick % self.agents.len()].agent_id.clone();
        let trip =
            (agent_pick % 3 == 0).then(|| Country::parse(COUNTRIES[(start.unsigned_abs() as usize) % 5]).unwrap());
        Shift {
            shift_id: shift_id.as_str().into(),
            agent_id,
            country: trip,
            ..numbered_shift(0, 0, minutes(start, length), sev1_only)
        }
    }

    /// Turns a drawn seed into a change that refers only to what exists, and applies it here.
    fn change(
        &mut self,
        change_idx: usize,
        (kind, pick, start, length, other_pick, flag): ChangeSeed,
    ) -> HypotheticalChange {
        let agent_id = self.agents[pick % self.agents.len()].agent_id.clone();
        let kind = if self.shifts.is_empty() && matches!(kind, 3 | 4) { 2 } else { kind };
        match kind {
            0 => {
                let period = minutes(start, length);
                self.time_off.push(TimeOff {
                    time_off_id: absence_time_off_id(change_idx),
                    agent_id: agent_id.clone(),
                    period,
                    source: None,
                });
                HypotheticalChange::Absence { agent_id, period }
            }
            1 => {
                let (effective_at, country) = (at_minute(start), Country::parse(COUNTRIES[other_pick % 5]).unwrap());
                let agent = self.agents.iter_mut().find(|agent| agent.agent_id == agent_id).unwrap();
                agent.location_changes.retain(|change| change.effective_at < effective_at);
                agent.location_changes.push(LocationChange { effective_at, country });
                HypotheticalChange::Relocation { agent_id, effective_at, country }
            }
            2 => {
                let shift = self.new_shift(format!("added-{change_idx}"), (pick, start, length, flag));
                self.shifts.push(shift.clone());
                HypotheticalChange::AddShift(shift)
            }
            3 => {
                let removed = self.shifts.remove(pick % self.shifts.len());
                HypotheticalChange::RemoveShift(removed.shift_id)
            }
            4 => {
                let shift_idx = pick % self.shifts.len();
                let changed =
                    self.new_shift(self.shifts[shift_idx].shift_id.to_string(), (other_pick, start, length, flag));
                self.shifts[shift_idx] = changed.clone();
                HypotheticalChange::ChangeShift(changed)
            }
            _ => {
                let added = agent(&format!("added-agent-{change_idx}"), COUNTRIES[other_pick % 5], &[]);
                self.agents.push(added.clone());
                HypotheticalChange::AddAgent(added)
            }
        }
    }
}

/// The minutes of `window` inside some gap of `gaps`, each with the gap's cause and headcount.
fn gap_minutes(gaps: &[Gap], window: Interval) -> Vec<Option<(GapCause, u32)>> {
    let n_minutes = window.end().duration_since(window.start()).as_mins();
    (0..n_minutes)
        .map(|minute| {
            let at = window.start() + jiff::SignedDuration::from_mins(minute);
            gaps.iter().find(|gap| gap.interval.contains(at)).map(|gap| (gap.cause, gap.eligible_on_shift))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The simulated report is the plain report of the roster rebuilt with the changes; what
    /// opened is, minute by minute, what is a gap under the changes and was not before (with its
    /// cause under the changes), and what closed the other way round (with its cause before).
    #[test]
    fn a_simulation_equals_the_report_of_the_roster_rebuilt_with_the_changes(
        roster in random_roster(),
        seeds in change_seeds(),
        eea_only in any::<bool>(),
        eea_tagged in any::<bool>(),
        min_staff in 1u32..3,
    ) {
        let mut model = Model::of(&roster);
        let stored = model.snapshot();
        let kept: Vec<AgentRoster> = stored.agents().cloned().collect();
        let changes: Vec<HypotheticalChange> =
            seeds.iter().enumerate().map(|(change_idx, seed)| model.change(change_idx, *seed)).collect();
        let rebuilt = model.snapshot();
        let window = Interval::new(at_minute(0), at_minute(WINDOW_MINUTES)).unwrap();
        let plan = if eea_only { PlanKind::EeaOnly } else { PlanKind::Standard };
        let question = CoverageQuestion { plan, eea_tagged, window, min_staff };

        let hypothetical = apply_changes(&stored, &changes).unwrap();
        let on_two_threads = Parallelism::new(std::num::NonZeroUsize::new(2).unwrap());
        let simulation = simulate(&stored, &hypothetical.snapshot, &question, on_two_threads);
        let expected_after = coverage_report(&rebuilt, &question, Parallelism::SEQUENTIAL);
        prop_assert_eq!(&simulation.report, &expected_after);

        let expected_before = coverage_report(&stored, &question, Parallelism::SEQUENTIAL);
        for ((before, after), changed) in expected_before.iter().zip(&expected_after).zip(&simulation.gap_changes) {
            prop_assert_eq!(changed.severity, after.severity);
            let (before_minutes, after_minutes) = (gap_minutes(&before.gaps, window), gap_minutes(&after.gaps, window));
            let opened_minutes = gap_minutes(&changed.opened, window);
            let closed_minutes = gap_minutes(&changed.closed, window);
            for minute in 0..before_minutes.len() {
                let (was, is) = (before_minutes[minute], after_minutes[minute]);
                prop_assert_eq!(opened_minutes[minute], is.filter(|_| was.is_none()), "opened at minute {}", minute);
                prop_assert_eq!(closed_minutes[minute], was.filter(|_| is.is_none()), "closed at minute {}", minute);
            }
        }

        // The stored roster is as it was, and the touched agents are those whose roster differs.
        prop_assert_eq!(stored.agents().cloned().collect::<Vec<_>>(), kept);
        let differing: Vec<AgentId> = rebuilt
            .agents()
            .filter(|roster| stored.agent(roster.agent.agent_id.as_str()) != Some(*roster))
            .map(|roster| roster.agent.agent_id.clone())
            .collect();
        prop_assert_eq!(&hypothetical.touched_agent_ids, &differing);
    }
}

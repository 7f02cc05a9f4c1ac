//! Builders shared by the domain's tests.

use std::sync::Arc;

use jiff::civil::{date, Time};

use super::calendar::HolidayCalendar;
use super::country::Country;
use super::interval::Interval;
use super::policy::{PlanKind, PlanSettings, Policy, PolicyFacts, Severity, SeveritySet, DEFAULT_POLICY_FACTS};
use super::recurrence::RecurringSchedule;
use super::roster::{Agent, AgentDraft, Consent, Org, Schedule, Shift, TimeOff};
use super::snapshot::Snapshot;
use super::time::{Instant, Zone};

pub fn instant(text: &str) -> Instant {
    text.parse().unwrap()
}

pub fn policy(eea_only_holidays: HolidayCalendar) -> Arc<Policy> {
    let settings = PlanSettings { eea_only_holidays, ..PlanSettings::default() };
    Arc::new(Policy::new(PolicyFacts::parse(DEFAULT_POLICY_FACTS).unwrap(), settings))
}

pub fn org(org_id: &str, region: &str, plan: PlanKind) -> Org {
    Org { org_id: org_id.into(), cloud_region: region.into(), plan }
}

pub fn agent(agent_id: &str, country: &str, relocations: &[(&str, &str)]) -> Agent {
    Agent::new(AgentDraft {
        agent_id: agent_id.into(),
        display_name: format!("Agent {agent_id}"),
        country: country.into(),
        time_zone: "Europe/Brussels".into(),
        severities: vec![],
        location_changes: relocations.iter().map(|(at, country)| (Some(instant(at)), (*country).to_owned())).collect(),
        source: None,
    })
    .unwrap()
}

pub fn one_off(shift_id: &str, agent_id: &str, start: &str, end: &str) -> Shift {
    Shift {
        shift_id: shift_id.into(),
        agent_id: agent_id.into(),
        severities: Default::default(),
        country: None,
        schedule: Schedule::OneOff(Interval::new(instant(start), instant(end)).unwrap()),
        source: None,
    }
}

/// A one-off shift worked from `country` rather than from where the agent lives: a trip.
pub fn trip(shift_id: &str, agent_id: &str, start: &str, end: &str, country: &str) -> Shift {
    Shift { country: Some(Country::parse(country).unwrap()), ..one_off(shift_id, agent_id, start, end) }
}

pub fn daily(shift_id: &str, agent_id: &str, start: jiff::civil::DateTime, end: Time) -> Shift {
    Shift {
        shift_id: shift_id.into(),
        agent_id: agent_id.into(),
        severities: Default::default(),
        country: None,
        schedule: Schedule::Recurring(Box::new(
            RecurringSchedule::new(Zone::brussels(), start, end, "FREQ=DAILY", vec![]).unwrap(),
        )),
        source: None,
    }
}

/// Agents a and b (BE) and their shifts: a works 22:00-02:30 and b 02:30-10:00 in Brussels,
/// every night from 1 January 2026, handing over at 02:30.
pub fn hand_over_at_0230() -> (Vec<Agent>, Vec<Shift>) {
    let agents = vec![agent("a", "BE", &[]), agent("b", "BE", &[])];
    let shifts = vec![
        daily("a-nights", "a", date(2026, 1, 1).at(22, 0, 0, 0), Time::constant(2, 30, 0, 0)),
        daily("b-mornings", "b", date(2026, 1, 1).at(2, 30, 0, 0), Time::constant(10, 0, 0, 0)),
    ];
    (agents, shifts)
}

pub fn time_off(time_off_id: &str, agent_id: &str, start: &str, end: &str) -> TimeOff {
    TimeOff {
        time_off_id: time_off_id.into(),
        agent_id: agent_id.into(),
        period: Interval::new(instant(start), instant(end)).unwrap(),
        source: None,
    }
}

pub fn consent(org_id: &str, ticket_id: &str, agent_id: &str, expires_at: &str) -> Consent {
    Consent {
        org_id: org_id.into(),
        ticket_id: ticket_id.into(),
        agent_id: agent_id.into(),
        expires_at: instant(expires_at),
    }
}

pub fn interval(start: &str, end: &str) -> Interval {
    Interval::new(instant(start), instant(end)).unwrap()
}

/// A snapshot of orgs, agents and their shifts alone: no time off, no consents.
pub fn shifts_snapshot(
    eea_only_holidays: HolidayCalendar,
    orgs: Vec<Org>,
    agents: Vec<Agent>,
    shifts: Vec<Shift>,
) -> Snapshot {
    Snapshot::build(policy(eea_only_holidays), orgs, agents, shifts, vec![], vec![])
}

/// An EEA-only org ("acme", eu-west-1) and an Irish agent ("ie-1") with `shifts`.
pub fn eea_only_org_snapshot(holidays: HolidayCalendar, shifts: Vec<Shift>) -> Snapshot {
    Snapshot::build(
        policy(holidays),
        vec![org("acme", "eu-west-1", PlanKind::EeaOnly)],
        vec![agent("ie-1", "IE", &[])],
        shifts,
        vec![],
        vec![],
    )
}

// Random rosters, as the property tests draw them: agents, shifts and time off by number.

/// The ID of agent number `agent_idx` of a random roster.
pub fn numbered_agent_id(agent_idx: usize) -> String {
    format!("agent-{agent_idx}")
}

pub fn numbered_agent(agent_idx: usize, country: &str, relocations: &[(&str, &str)]) -> Agent {
    agent(&numbered_agent_id(agent_idx), country, relocations)
}

/// Shift number `shift_idx` of a random roster: agent number `agent_idx` over `period`, for Sev1
/// alone when `sev1_only`.
pub fn numbered_shift(shift_idx: usize, agent_idx: usize, period: Interval, sev1_only: bool) -> Shift {
    Shift {
        shift_id: format!("shift-{shift_idx}").as_str().into(),
        agent_id: numbered_agent_id(agent_idx).as_str().into(),
        severities: if sev1_only { SeveritySet::from_severities([Severity::Sev1]) } else { Default::default() },
        country: None,
        schedule: Schedule::OneOff(period),
        source: None,
    }
}

/// A random roster's time off, drawn as (agent number, start minute, length in minutes), each
/// entry numbered by its place; `minutes` turns a start and a length into a period.
pub fn drawn_time_off(drawn: &[(usize, i64, i64)], minutes: impl Fn(i64, i64) -> Interval) -> Vec<TimeOff> {
    drawn
        .iter()
        .enumerate()
        .map(|(entry_idx, &(agent_idx, start_minute, length_minutes))| TimeOff {
            time_off_id: format!("off-{entry_idx}").as_str().into(),
            agent_id: numbered_agent_id(agent_idx).as_str().into(),
            period: minutes(start_minute, length_minutes),
            source: None,
        })
        .collect()
}

// A random roster as the timeline and watch properties draw it: up to five agents of mixed
// countries (some relocating), one-off shifts and time off within four weeks of 2026-03-20,
// and a nightly shift for everyone across the spring DST change; three orgs, one consent.

const RANDOM_COUNTRIES: [&str; 5] = ["IE", "US", "GB", "IN", "DE"];
/// 2026-03-20T00:00:00Z, where a random roster's minutes count from.
const RANDOM_ROSTER_ORIGIN: i64 = 1_773_964_800;

/// Minute `minute` of a random roster (negative before its origin).
pub fn at_minute(minute: i64) -> Instant {
    Instant::from_second(RANDOM_ROSTER_ORIGIN + minute * 60).unwrap()
}

/// The `length_minutes` from `start_minute`.
pub fn minutes(start_minute: i64, length_minutes: i64) -> Interval {
    Interval::new(at_minute(start_minute), at_minute(start_minute + length_minutes)).unwrap()
}

/// Agents (country, relocates), shifts (agent, start minute, length, Sev1 alone) and time off
/// (agent, start minute, length).
pub type RandomRoster = (Vec<(usize, bool)>, Vec<(usize, i64, i64, bool)>, Vec<(usize, i64, i64)>);

pub fn random_roster() -> impl proptest::strategy::Strategy<Value = RandomRoster> {
    use proptest::prelude::*;
    (1usize..6).prop_flat_map(|n_agents| {
        (
            prop::collection::vec((0..RANDOM_COUNTRIES.len(), any::<bool>()), n_agents),
            prop::collection::vec(
                (0..n_agents, -7 * 1440i64..(21 * 1440), 30i64..(30 * 60), proptest::bool::weighted(0.2)),
                0..12,
            ),
            prop::collection::vec((0..n_agents, -7 * 1440i64..(21 * 1440), 60i64..(3 * 1440)), 0..3),
        )
    })
}

/// The snapshot of a random roster: orgs "eea" (EEA-only), "std-eu" and "std-us" (standard),
/// and a consent of agent 1 for ticket "t-consent" of "std-eu".
pub fn random_roster_snapshot((agents, shifts, time_off): &RandomRoster) -> Snapshot {
    let agent_list = agents
        .iter()
        .enumerate()
        .map(|(agent_idx, (country_idx, relocates))| {
            let relocations: &[(&str, &str)] = if *relocates { &[("2026-03-25T12:00:00Z", "GB")] } else { &[] };
            numbered_agent(agent_idx, RANDOM_COUNTRIES[*country_idx], relocations)
        })
        .collect();
    let mut shift_list: Vec<Shift> = shifts
        .iter()
        .enumerate()
        .map(|(shift_idx, (agent_idx, start, length, sev1_only))| {
            numbered_shift(shift_idx, *agent_idx, minutes(*start, *length), *sev1_only)
        })
        .collect();
    for agent_idx in 0..agents.len() {
        shift_list.push(daily(
            &format!("nights-{agent_idx}"),
            &numbered_agent_id(agent_idx),
            date(2026, 1, 1).at(22, 0, 0, 0),
            Time::constant(2, 30, 0, 0),
        ));
    }
    let consents = vec![consent("std-eu", "t-consent", &numbered_agent_id(1), "2026-03-30T00:00:00Z")];
    Snapshot::build(
        policy(HolidayCalendar::Target2),
        vec![
            org("eea", "eu-west-1", PlanKind::EeaOnly),
            org("std-eu", "eu-central-1", PlanKind::Standard),
            org("std-us", "us-east-1", PlanKind::Standard),
        ],
        agent_list,
        shift_list,
        drawn_time_off(time_off, minutes),
        consents,
    )
}

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

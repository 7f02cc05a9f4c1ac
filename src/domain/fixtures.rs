//! Builders shared by the domain's tests.

use std::sync::Arc;

use jiff::civil::Time;

use super::calendar::HolidayCalendar;
use super::interval::Interval;
use super::policy::{PlanKind, PlanSettings, Policy, PolicyFacts, DEFAULT_POLICY_FACTS};
use super::recurrence::RecurringSchedule;
use super::roster::{Agent, AgentDraft, Org, Schedule, Shift, TimeOff};
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

pub fn time_off(time_off_id: &str, agent_id: &str, start: &str, end: &str) -> TimeOff {
    TimeOff {
        time_off_id: time_off_id.into(),
        agent_id: agent_id.into(),
        period: Interval::new(instant(start), instant(end)).unwrap(),
        source: None,
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

//! The roster: orgs, consents, agents, and each agent's shifts and time off, as one immutable
//! collection that eligibility reads; the entities themselves live in the submodules, with the
//! checks that turn a caller's draft into one. Every check names the field it is about.

use std::collections::{BTreeMap, HashSet};

use super::country::Country;
use super::interval::{merge, Interval};
use super::policy::{Severity, SeveritySet};
use super::time::Instant;

mod agent;
mod org;
mod shift;
#[cfg(test)]
mod tests;

pub use agent::{Agent, AgentDraft, LocationChange, MAX_DISPLAY_NAME_CHARS};
pub use org::{Consent, Org};
pub use shift::{Schedule, ScheduleDraft, Shift, ShiftDraft, TimeOff};

/// The longest identifier accepted, in bytes.
pub const MAX_ID_BYTES: usize = 128;
/// The most location changes one agent may carry, and exdates one shift.
pub const MAX_LIST_ENTRIES: usize = 1_000;

/// One agent with everything scheduled for it.
#[derive(Clone, Debug)]
pub struct AgentRoster {
    pub agent: Agent,
    /// Sorted by `shift_id`.
    pub shifts: Vec<Shift>,
    /// Sorted by `time_off_id`.
    pub time_off: Vec<TimeOff>,
    /// The time off periods, sorted and merged.
    pub time_off_merged: Vec<Interval>,
}

/// Orgs, agents with their shifts and time off, and consents, as of one committed write:
/// everything eligibility needs to know about people, and nothing precomputed.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    orgs: BTreeMap<String, Org>,
    agents: BTreeMap<String, AgentRoster>,
    /// Keyed by (org, ticket, agent).
    consents: BTreeMap<(String, String, String), Consent>,
}

/// One problem with one field of a request, named by its path (`shifts[2].recurring.rrule`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> FieldViolation {
        FieldViolation { field: field.into(), description: description.into() }
    }

    /// The same violation, seen from an enclosing message (`agents[3]` + `.country`).
    pub fn within(self, prefix: &str) -> FieldViolation {
        FieldViolation { field: format!("{prefix}.{}", self.field), description: self.description }
    }
}

/// Collects violations while a draft is checked, so a caller sees all of them at once.
#[derive(Default)]
pub struct Violations(pub Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Keeps the value of a check, or records its violation and returns `None`.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        result.map_err(|error| self.add(field, error.to_string())).ok()
    }

    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldViolation>> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self.0)
        }
    }
}

/// Checks a caller-chosen identifier: present, short, printable.
pub fn check_id(violations: &mut Violations, field: &str, id: &str) {
    if id.is_empty() {
        violations.add(field, "is required");
    } else if id.len() > MAX_ID_BYTES {
        violations.add(field, format!("is longer than {MAX_ID_BYTES} bytes"));
    } else if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        violations.add(field, "must not contain whitespace or control characters");
    }
}

fn check_severities(violations: &mut Violations, field: &str, numbers: &[i32]) -> SeveritySet {
    let mut severities = Vec::with_capacity(numbers.len());
    for (severity_idx, number) in numbers.iter().enumerate() {
        match Severity::from_number(i64::from(*number)) {
            Some(severity) => severities.push(severity),
            None => {
                violations.add(format!("{field}[{severity_idx}]"), format!("{number} is not a severity from 1 to 4"))
            }
        }
    }
    SeveritySet::from_severities(severities)
}

fn check_country(violations: &mut Violations, field: &str, code: &str) -> Option<Country> {
    violations.check(field, Country::parse(code))
}

fn check_interval(
    violations: &mut Violations,
    start_field: &str,
    end_field: &str,
    start: Option<Instant>,
    end: Option<Instant>,
) -> Option<Interval> {
    if start.is_none() {
        violations.add(start_field, "is required");
    }
    if end.is_none() {
        violations.add(end_field, "is required");
    }
    let (start, end) = (start?, end?);
    let interval = Interval::new(start, end);
    if interval.is_none() {
        violations.add(end_field, "must be after the start");
    }
    interval
}

impl Roster {
    /// Builds a roster; shifts and time off of unknown agents are dropped (storage keeps them
    /// consistent through foreign keys, so there are none).
    pub fn build(
        orgs: Vec<Org>,
        agents: Vec<Agent>,
        shifts: Vec<Shift>,
        time_off: Vec<TimeOff>,
        consents: Vec<Consent>,
    ) -> Roster {
        let mut rosters: BTreeMap<String, AgentRoster> = agents
            .into_iter()
            .map(|agent| {
                let roster =
                    AgentRoster { agent, shifts: Vec::new(), time_off: Vec::new(), time_off_merged: Vec::new() };
                (roster.agent.agent_id.clone(), roster)
            })
            .collect();
        for shift in shifts {
            if let Some(roster) = rosters.get_mut(&shift.agent_id) {
                roster.shifts.push(shift);
            }
        }
        for entry in time_off {
            if let Some(roster) = rosters.get_mut(&entry.agent_id) {
                roster.time_off.push(entry);
            }
        }
        for roster in rosters.values_mut() {
            roster.shifts.sort_by(|left, right| left.shift_id.cmp(&right.shift_id));
            roster.time_off.sort_by(|left, right| left.time_off_id.cmp(&right.time_off_id));
            roster.time_off_merged = merge(roster.time_off.iter().map(|entry| entry.period).collect());
        }
        Roster {
            orgs: orgs.into_iter().map(|org| (org.org_id.clone(), org)).collect(),
            agents: rosters,
            consents: consents
                .into_iter()
                .map(|consent| ((consent.org_id.clone(), consent.ticket_id.clone(), consent.agent_id.clone()), consent))
                .collect(),
        }
    }

    /// This roster with shifts and time off replaced: entries named in `removed_*` go, the
    /// `added_*` ones come in (an update is a removal plus an addition). Agents, orgs and
    /// consents stay as they are.
    pub fn with_entries_replaced(
        &self,
        removed_shift_ids: &HashSet<&str>,
        added_shifts: &[Shift],
        removed_time_off_ids: &HashSet<&str>,
        added_time_off: &[TimeOff],
    ) -> Roster {
        let mut shifts: Vec<Shift> = Vec::with_capacity(self.n_shifts() + added_shifts.len());
        let mut time_off: Vec<TimeOff> = Vec::with_capacity(added_time_off.len());
        for roster in self.agents.values() {
            shifts.extend(
                roster.shifts.iter().filter(|shift| !removed_shift_ids.contains(shift.shift_id.as_str())).cloned(),
            );
            time_off.extend(
                roster
                    .time_off
                    .iter()
                    .filter(|entry| !removed_time_off_ids.contains(entry.time_off_id.as_str()))
                    .cloned(),
            );
        }
        shifts.extend(added_shifts.iter().cloned());
        time_off.extend(added_time_off.iter().cloned());
        Roster::build(
            self.orgs.values().cloned().collect(),
            self.agents.values().map(|roster| roster.agent.clone()).collect(),
            shifts,
            time_off,
            self.consents.values().cloned().collect(),
        )
    }

    pub fn org(&self, org_id: &str) -> Option<&Org> {
        self.orgs.get(org_id)
    }

    /// Orgs in `org_id` order, starting after `after`.
    pub fn orgs_after<'a>(&'a self, after: Option<&'a str>) -> impl Iterator<Item = &'a Org> + 'a {
        let lower = after.map_or(std::ops::Bound::Unbounded, |id| std::ops::Bound::Excluded(id.to_owned()));
        self.orgs.range((lower, std::ops::Bound::Unbounded)).map(|(_, org)| org)
    }

    pub fn agent(&self, agent_id: &str) -> Option<&AgentRoster> {
        self.agents.get(agent_id)
    }

    /// Agents in `agent_id` order.
    pub fn agents(&self) -> impl Iterator<Item = &AgentRoster> {
        self.agents.values()
    }

    /// Agents in `agent_id` order, starting after `after`.
    pub fn agents_after<'a>(&'a self, after: Option<&'a str>) -> impl Iterator<Item = &'a AgentRoster> + 'a {
        let lower = after.map_or(std::ops::Bound::Unbounded, |id| std::ops::Bound::Excluded(id.to_owned()));
        self.agents.range((lower, std::ops::Bound::Unbounded)).map(|(_, roster)| roster)
    }

    pub fn n_agents(&self) -> usize {
        self.agents.len()
    }

    pub fn n_shifts(&self) -> usize {
        self.agents.values().map(|roster| roster.shifts.len()).sum()
    }

    pub fn consent(&self, org_id: &str, ticket_id: &str, agent_id: &str) -> Option<&Consent> {
        self.consents.get(&(org_id.to_owned(), ticket_id.to_owned(), agent_id.to_owned()))
    }

    /// Consents of one org, in (ticket, agent) order.
    pub fn consents_of<'a>(&'a self, org_id: &'a str) -> impl Iterator<Item = &'a Consent> + 'a {
        self.consents.values().filter(move |consent| consent.org_id == org_id)
    }

    /// Whether any consent names this org's ticket: such a ticket may have more eligible staff
    /// than the precomputed timelines know.
    pub fn has_consents_for(&self, org_id: &str, ticket_id: &str) -> bool {
        let from = (org_id.to_owned(), ticket_id.to_owned(), String::new());
        self.consents.range(from..).next().is_some_and(|((org, ticket, _), _)| org == org_id && ticket == ticket_id)
    }
}

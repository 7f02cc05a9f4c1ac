//! The roster: orgs, consents, agents, and each agent's shifts and time off, as one immutable
//! collection that eligibility reads; the entities themselves live in the submodules, with the
//! checks that turn a caller's draft into one. Every check names the field it is about.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::country::Country;
use super::ids::{AgentId, OrgId};
use super::interval::{merge, Interval};
use super::policy::{Severity, SeveritySet};
use super::validation::Violations;

mod agent;
mod org;
mod shift;
#[cfg(test)]
mod tests;

pub use agent::{Agent, AgentDraft, LocationChange, MAX_DISPLAY_NAME_CHARS};
pub use org::{Consent, Org};
pub use shift::{Schedule, ScheduleDraft, Shift, ShiftDraft, TimeOff};

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
    orgs: BTreeMap<OrgId, Org>,
    /// Sorted by `agent_id`, one per ID: an agent's position here is its index in the
    /// snapshot's timelines, so the hot path finds both with one lookup.
    agents: Vec<AgentRoster>,
    /// Each agent's position in `agents`: one hash and one comparison, where a search of the
    /// sorted list would touch a dozen agents' memory.
    positions: HashMap<AgentId, usize>,
    /// Keyed by (org, ticket, agent), as strings so that a question's borrowed identifiers
    /// look a consent up without a check.
    consents: BTreeMap<(String, String, String), Consent>,
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
        // One roster per agent ID, the last given winning, as a map's insert would.
        let by_id: BTreeMap<AgentId, Agent> = agents.into_iter().map(|agent| (agent.agent_id.clone(), agent)).collect();
        let mut rosters: Vec<AgentRoster> = by_id
            .into_values()
            .map(|agent| AgentRoster { agent, shifts: Vec::new(), time_off: Vec::new(), time_off_merged: Vec::new() })
            .collect();
        let positions: HashMap<AgentId, usize> =
            rosters.iter().enumerate().map(|(agent_idx, roster)| (roster.agent.agent_id.clone(), agent_idx)).collect();
        for shift in shifts {
            if let Some(agent_idx) = positions.get(&shift.agent_id) {
                rosters[*agent_idx].shifts.push(shift);
            }
        }
        for entry in time_off {
            if let Some(agent_idx) = positions.get(&entry.agent_id) {
                rosters[*agent_idx].time_off.push(entry);
            }
        }
        for roster in &mut rosters {
            roster.shifts.sort_by(|left, right| left.shift_id.cmp(&right.shift_id));
            roster.time_off.sort_by(|left, right| left.time_off_id.cmp(&right.time_off_id));
            roster.time_off_merged = merge(roster.time_off.iter().map(|entry| entry.period).collect());
        }
        Roster {
            orgs: orgs.into_iter().map(|org| (org.org_id.clone(), org)).collect(),
            agents: rosters,
            positions,
            consents: consents
                .into_iter()
                .map(|consent| {
                    let key = (
                        consent.org_id.as_str().to_owned(),
                        consent.ticket_id.as_str().to_owned(),
                        consent.agent_id.as_str().to_owned(),
                    );
                    (key, consent)
                })
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
        for roster in &self.agents {
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
            self.agents.iter().map(|roster| roster.agent.clone()).collect(),
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
        let lower = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        self.orgs.range::<str, _>((lower, std::ops::Bound::Unbounded)).map(|(_, org)| org)
    }

    pub fn agent(&self, agent_id: &str) -> Option<&AgentRoster> {
        self.agent_at(agent_id).map(|(_, roster)| roster)
    }

    /// The agent with its position in `agents()` order.
    pub fn agent_at(&self, agent_id: &str) -> Option<(usize, &AgentRoster)> {
        self.positions.get(agent_id).map(|agent_idx| (*agent_idx, &self.agents[*agent_idx]))
    }

    /// Agents in `agent_id` order.
    pub fn agents(&self) -> impl ExactSizeIterator<Item = &AgentRoster> {
        self.agents.iter()
    }

    /// Agents in `agent_id` order, starting after `after`.
    pub fn agents_after<'a>(&'a self, after: Option<&'a str>) -> impl Iterator<Item = &'a AgentRoster> + 'a {
        let first =
            after.map_or(0, |after| self.agents.partition_point(|roster| roster.agent.agent_id.as_str() <= after));
        self.agents[first..].iter()
    }

    pub fn n_agents(&self) -> usize {
        self.agents.len()
    }

    pub fn n_shifts(&self) -> usize {
        self.agents.iter().map(|roster| roster.shifts.len()).sum()
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

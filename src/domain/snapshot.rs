//! An immutable picture of the roster and the policy at one moment. Every read (decisions,
//! lists) is answered from one of these; a write builds the next one and swaps it in.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::interval::{merge, Interval};
use super::policy::Policy;
use super::roster::{Agent, Consent, Org, Shift, TimeOff};
use super::time::Instant;
use super::timeline::StaffedTimelines;

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

/// The roster and policy in force, as of one committed write.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub policy: Arc<Policy>,
    orgs: BTreeMap<String, Org>,
    agents: BTreeMap<String, AgentRoster>,
    /// Keyed by (org, ticket, agent).
    consents: BTreeMap<(String, String, String), Consent>,
    /// Staffing precomputed over a horizon for the hot path; empty until `with_timelines`.
    timelines: Arc<StaffedTimelines>,
}

impl Snapshot {
    /// Builds a snapshot; shifts and time off of unknown agents are dropped (storage keeps them
    /// consistent through foreign keys, so there are none).
    pub fn build(
        policy: Arc<Policy>,
        orgs: Vec<Org>,
        agents: Vec<Agent>,
        shifts: Vec<Shift>,
        time_off: Vec<TimeOff>,
        consents: Vec<Consent>,
    ) -> Snapshot {
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
        Snapshot {
            policy,
            orgs: orgs.into_iter().map(|org| (org.org_id.clone(), org)).collect(),
            agents: rosters,
            consents: consents
                .into_iter()
                .map(|consent| ((consent.org_id.clone(), consent.ticket_id.clone(), consent.agent_id.clone()), consent))
                .collect(),
            timelines: Arc::default(),
        }
    }

    /// This snapshot with staffing precomputed around `built_at` (see [`StaffedTimelines`]).
    pub fn with_timelines(mut self, built_at: Instant) -> Snapshot {
        self.timelines = Arc::new(StaffedTimelines::build(&self, built_at));
        self
    }

    pub fn timelines(&self) -> &StaffedTimelines {
        &self.timelines
    }

    /// Whether any consent names this org's ticket: such a ticket may have more eligible staff
    /// than the precomputed timelines know.
    pub fn has_consents_for(&self, org_id: &str, ticket_id: &str) -> bool {
        let from = (org_id.to_owned(), ticket_id.to_owned(), String::new());
        self.consents.range(from..).next().is_some_and(|((org, ticket, _), _)| org == org_id && ticket == ticket_id)
    }

    /// This snapshot with shifts and time off replaced: entries named in `removed_*` go, the
    /// `added_*` ones come in (an update is a removal plus an addition). Agents, orgs and
    /// consents stay as they are.
    pub fn with_entries_replaced(
        &self,
        removed_shift_ids: &HashSet<&str>,
        added_shifts: &[Shift],
        removed_time_off_ids: &HashSet<&str>,
        added_time_off: &[TimeOff],
    ) -> Snapshot {
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
        Snapshot::build(
            self.policy.clone(),
            self.orgs.values().cloned().collect(),
            self.agents.values().map(|roster| roster.agent.clone()).collect(),
            shifts,
            time_off,
            self.consents.values().cloned().collect(),
        )
    }

    /// A snapshot with the policy and nothing else.
    pub fn empty(policy: Arc<Policy>) -> Snapshot {
        Snapshot::build(policy, Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new())
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
}

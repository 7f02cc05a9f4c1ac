//! The roster: orgs, consents, agents, and each agent's shifts and time off, as one immutable
//! collection that eligibility reads; the entities themselves live in the submodules, with the
//! checks that turn a caller's draft into one. Every check names the field it is about.
//!
//! The collections are persistent maps: a roster with a few agents changed shares everything
//! else with the one it came from, so a write costs what it changes (`with_changes`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

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
#[derive(Clone, Debug, PartialEq)]
pub struct AgentRoster {
    pub agent: Agent,
    /// Sorted by `shift_id`.
    pub shifts: Vec<Shift>,
    /// Sorted by `time_off_id`.
    pub time_off: Vec<TimeOff>,
    /// The time off periods, sorted and merged.
    pub time_off_merged: Vec<Interval>,
}

impl AgentRoster {
    /// The agent with its entries, sorted by ID.
    pub fn new(agent: Agent, mut shifts: Vec<Shift>, mut time_off: Vec<TimeOff>) -> AgentRoster {
        shifts.sort_by(|left, right| left.shift_id.cmp(&right.shift_id));
        time_off.sort_by(|left, right| left.time_off_id.cmp(&right.time_off_id));
        let time_off_merged = merge(time_off.iter().map(|entry| entry.period).collect());
        AgentRoster { agent, shifts, time_off, time_off_merged }
    }
}

/// An agent's roster with its slot: a number that stays the agent's for as long as it is in the
/// roster (whatever is added or removed around it), which indexes the snapshot's timelines.
#[derive(Clone, Debug)]
pub struct Slotted {
    pub slot: u32,
    pub roster: Arc<AgentRoster>,
}

/// One org as now stored (`None`: gone), with all its consents.
pub type OrgChange = (OrgId, Option<Org>, Vec<Consent>);

/// What changed in the stored roster since a snapshot was built: each changed agent as now
/// stored (`None`: gone), and each changed org with all its consents as now stored.
#[derive(Clone, Debug, Default)]
pub struct RosterChanges {
    pub agents: Vec<(AgentId, Option<AgentRoster>)>,
    pub orgs: Vec<OrgChange>,
}

/// One agent's change, as the timelines apply it: the roster it had (with its slot) and the one
/// it has now.
#[derive(Clone, Debug)]
pub struct AgentChange {
    pub before: Option<Slotted>,
    pub after: Option<Slotted>,
}

/// A consent's key: (org, ticket, agent), as strings so that a question's borrowed identifiers
/// look a consent up without a check.
type ConsentKey = (String, String, String);

/// Orgs, agents with their shifts and time off, and consents, as of one committed write:
/// everything eligibility needs to know about people, and nothing precomputed.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    orgs: imbl::OrdMap<OrgId, Org>,
    /// In `agent_id` order, for listings and reports.
    agents: imbl::OrdMap<AgentId, Slotted>,
    /// The same agents by hash: the hot path finds an agent and its slot with one lookup.
    positions: imbl::HashMap<AgentId, Slotted>,
    /// Slots freed by removed agents, taken again before new ones are numbered.
    free_slots: Vec<u32>,
    /// One past the highest slot ever given out.
    n_slots: u32,
    n_shifts: usize,
    consents: imbl::OrdMap<ConsentKey, Consent>,
}

fn consent_key(consent: &Consent) -> ConsentKey {
    (consent.org_id.as_str().to_owned(), consent.ticket_id.as_str().to_owned(), consent.agent_id.as_str().to_owned())
}

impl Roster {
    /// Builds a roster; shifts and time off of unknown agents are dropped (storage keeps them
    /// consistent through foreign keys, so there are none). Slots follow `agent_id` order.
    pub fn build(
        orgs: Vec<Org>,
        agents: Vec<Agent>,
        shifts: Vec<Shift>,
        time_off: Vec<TimeOff>,
        consents: Vec<Consent>,
    ) -> Roster {
        // One roster per agent ID, the last given winning, as a map's insert would.
        let mut by_id: BTreeMap<AgentId, (Agent, Vec<Shift>, Vec<TimeOff>)> =
            agents.into_iter().map(|agent| (agent.agent_id.clone(), (agent, Vec::new(), Vec::new()))).collect();
        for shift in shifts {
            if let Some((_, shifts, _)) = by_id.get_mut(&shift.agent_id) {
                shifts.push(shift);
            }
        }
        for entry in time_off {
            if let Some((_, _, time_off)) = by_id.get_mut(&entry.agent_id) {
                time_off.push(entry);
            }
        }
        let mut roster = Roster {
            orgs: orgs.into_iter().map(|org| (org.org_id.clone(), org)).collect(),
            consents: consents.into_iter().map(|consent| (consent_key(&consent), consent)).collect(),
            ..Roster::default()
        };
        for (agent_id, (agent, shifts, time_off)) in by_id {
            roster.put_agent(agent_id, AgentRoster::new(agent, shifts, time_off));
        }
        roster
    }

    /// Puts an agent in (replacing one with its ID, which keeps its slot); returns what it
    /// replaced and what it put in.
    fn put_agent(&mut self, agent_id: AgentId, agent_roster: AgentRoster) -> AgentChange {
        let before = self.positions.get(&agent_id).cloned();
        let slot = match &before {
            Some(before) => before.slot,
            None => self.free_slots.pop().unwrap_or_else(|| {
                self.n_slots += 1;
                self.n_slots - 1
            }),
        };
        self.n_shifts =
            self.n_shifts - before.as_ref().map_or(0, |before| before.roster.shifts.len()) + agent_roster.shifts.len();
        let after = Slotted { slot, roster: Arc::new(agent_roster) };
        self.agents.insert(agent_id.clone(), after.clone());
        self.positions.insert(agent_id, after.clone());
        AgentChange { before, after: Some(after) }
    }

    /// Takes an agent out, freeing its slot.
    fn take_agent(&mut self, agent_id: &AgentId) -> AgentChange {
        let before = self.positions.remove(agent_id);
        if let Some(before) = &before {
            self.agents.remove(agent_id);
            self.free_slots.push(before.slot);
            self.n_shifts -= before.roster.shifts.len();
        }
        AgentChange { before, after: None }
    }

    /// This roster with `changes` applied, sharing everything unchanged with this one; with the
    /// agents' changes, for the timelines to follow.
    pub fn with_changes(&self, changes: RosterChanges) -> (Roster, Vec<AgentChange>) {
        let mut roster = self.clone();
        // One change per agent, the last given winning: each agent's old contribution is taken
        // out of the timelines exactly once.
        let latest: BTreeMap<AgentId, Option<AgentRoster>> = changes.agents.into_iter().collect();
        let mut agent_changes = Vec::with_capacity(latest.len());
        for (agent_id, now) in latest {
            let change = match now {
                Some(agent_roster) => roster.put_agent(agent_id, agent_roster),
                None => roster.take_agent(&agent_id),
            };
            if change.before.is_some() || change.after.is_some() {
                agent_changes.push(change);
            }
        }
        for (org_id, org, consents) in changes.orgs {
            let gone: Vec<ConsentKey> = roster.consents_of(org_id.as_str()).map(consent_key).collect();
            for key in gone {
                roster.consents.remove(&key);
            }
            match org {
                Some(org) => {
                    roster.orgs.insert(org_id, org);
                }
                None => {
                    roster.orgs.remove(&org_id);
                }
            }
            for consent in consents {
                roster.consents.insert(consent_key(&consent), consent);
            }
        }
        (roster, agent_changes)
    }

    /// This roster with shifts and time off replaced: entries named in `removed_*` go, the
    /// `added_*` ones come in (an update is a removal plus an addition). Agents, orgs and
    /// consents stay as they are; only the agents whose entries change are rebuilt.
    pub fn with_entries_replaced(
        &self,
        removed_shift_ids: &HashSet<&str>,
        added_shifts: &[Shift],
        removed_time_off_ids: &HashSet<&str>,
        added_time_off: &[TimeOff],
    ) -> Roster {
        let mut touched: BTreeMap<&AgentId, (Vec<Shift>, Vec<TimeOff>)> = BTreeMap::new();
        for roster in self.agents() {
            let removes_shift = roster.shifts.iter().any(|shift| removed_shift_ids.contains(shift.shift_id.as_str()));
            let removes_time_off =
                roster.time_off.iter().any(|entry| removed_time_off_ids.contains(entry.time_off_id.as_str()));
            if removes_shift || removes_time_off {
                touched.insert(&roster.agent.agent_id, (Vec::new(), Vec::new()));
            }
        }
        for shift in added_shifts {
            touched.entry(&shift.agent_id).or_default().0.push(shift.clone());
        }
        for entry in added_time_off {
            touched.entry(&entry.agent_id).or_default().1.push(entry.clone());
        }
        let mut changes = RosterChanges::default();
        for (agent_id, (added_shifts, added_time_off)) in touched {
            let Some(before) = self.agent(agent_id.as_str()) else { continue };
            let shifts =
                kept_and_added(&before.shifts, removed_shift_ids, |shift| shift.shift_id.as_str(), added_shifts);
            let time_off = kept_and_added(
                &before.time_off,
                removed_time_off_ids,
                |entry| entry.time_off_id.as_str(),
                added_time_off,
            );
            changes.agents.push((agent_id.clone(), Some(AgentRoster::new(before.agent.clone(), shifts, time_off))));
        }
        self.with_changes(changes).0
    }

    pub fn org(&self, org_id: &str) -> Option<&Org> {
        self.orgs.get(org_id)
    }

    /// Orgs in `org_id` order, starting after `after`.
    pub fn orgs_after<'a>(&'a self, after: Option<&'a str>) -> impl Iterator<Item = &'a Org> + 'a {
        let lower = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        self.orgs.range::<_, str>((lower, std::ops::Bound::Unbounded)).map(|(_, org)| org)
    }

    pub fn agent(&self, agent_id: &str) -> Option<&AgentRoster> {
        self.agent_at(agent_id).map(|(_, roster)| roster)
    }

    /// The agent with its slot.
    pub fn agent_at(&self, agent_id: &str) -> Option<(usize, &AgentRoster)> {
        self.positions.get(agent_id).map(|slotted| (slotted.slot as usize, slotted.roster.as_ref()))
    }

    /// Agents in `agent_id` order.
    pub fn agents(&self) -> impl Iterator<Item = &AgentRoster> {
        self.agents.values().map(|slotted| slotted.roster.as_ref())
    }

    /// Agents in `agent_id` order, with their slots.
    pub fn slotted_agents(&self) -> impl Iterator<Item = &Slotted> {
        self.agents.values()
    }

    /// Agents in `agent_id` order, starting after `after`.
    pub fn agents_after<'a>(&'a self, after: Option<&'a str>) -> impl Iterator<Item = &'a AgentRoster> + 'a {
        let lower = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        self.agents.range::<_, str>((lower, std::ops::Bound::Unbounded)).map(|(_, slotted)| slotted.roster.as_ref())
    }

    pub fn n_agents(&self) -> usize {
        self.agents.len()
    }

    /// One past the highest slot in use or freed.
    pub fn n_slots(&self) -> usize {
        self.n_slots as usize
    }

    pub fn n_shifts(&self) -> usize {
        self.n_shifts
    }

    pub fn consent(&self, org_id: &str, ticket_id: &str, agent_id: &str) -> Option<&Consent> {
        self.consents.get(&(org_id.to_owned(), ticket_id.to_owned(), agent_id.to_owned()))
    }

    /// Consents of one org, in (ticket, agent) order.
    pub fn consents_of<'a>(&'a self, org_id: &'a str) -> impl Iterator<Item = &'a Consent> + 'a {
        let from = (org_id.to_owned(), String::new(), String::new());
        self.consents.range(from..).map(|(_, consent)| consent).take_while(move |consent| consent.org_id == org_id)
    }

    /// Whether any consent names this org's ticket: such a ticket may have more eligible staff
    /// than the precomputed timelines know.
    pub fn has_consents_for(&self, org_id: &str, ticket_id: &str) -> bool {
        let from = (org_id.to_owned(), ticket_id.to_owned(), String::new());
        self.consents.range(from..).next().is_some_and(|((org, ticket, _), _)| org == org_id && ticket == ticket_id)
    }
}

/// The `entries` whose ID is not among `removed`, then the `added` ones.
fn kept_and_added<T: Clone>(entries: &[T], removed: &HashSet<&str>, id: impl Fn(&T) -> &str, added: Vec<T>) -> Vec<T> {
    entries.iter().filter(|entry| !removed.contains(id(entry))).cloned().chain(added).collect()
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

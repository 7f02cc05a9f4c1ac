//! An immutable picture of the roster and the policy at one moment, with staffing precomputed
//! for the hot path. Every read (decisions, lists) is answered from one of these; a write builds
//! the next one and swaps it in.

use std::sync::Arc;

use super::eligibility::EligibilityContext;
use super::parallel::Parallelism;
use super::policy::PlanKind;
use super::policy::Policy;
use super::roster::{Agent, AgentRoster, Consent, Org, Roster, RosterChanges, Shift, TimeOff};
use super::time::Instant;
use super::timeline::StaffedTimelines;

/// The roster and policy in force, as of one committed write.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub policy: Arc<Policy>,
    roster: Roster,
    /// Staffing precomputed over a horizon for the hot path; empty until `with_timelines`.
    timelines: Arc<StaffedTimelines>,
}

impl Snapshot {
    /// What eligibility is judged against for the tickets of `plan` (EEA-tagged or not) that no
    /// consent names: the roster and policy facts of this snapshot.
    pub fn eligibility_context(&self, plan: PlanKind, eea_tagged: bool) -> EligibilityContext<'_> {
        EligibilityContext { roster: self.roster(), facts: &self.policy.facts, plan, eea_tagged, ticket: None }
    }

    /// Builds a snapshot; see [`Roster::build`].
    pub fn build(
        policy: Arc<Policy>,
        orgs: Vec<Org>,
        agents: Vec<Agent>,
        shifts: Vec<Shift>,
        time_off: Vec<TimeOff>,
        consents: Vec<Consent>,
    ) -> Snapshot {
        Snapshot::of_roster(policy, Roster::build(orgs, agents, shifts, time_off, consents))
    }

    /// A snapshot with the policy and nothing else.
    pub fn empty(policy: Arc<Policy>) -> Snapshot {
        Snapshot::of_roster(policy, Roster::default())
    }

    /// This snapshot with staffing precomputed around `built_at` (see [`StaffedTimelines`]), on
    /// as many threads as `parallelism` allows.
    pub fn with_timelines(mut self, built_at: Instant, parallelism: Parallelism) -> Snapshot {
        self.timelines = Arc::new(StaffedTimelines::build(&self.roster, &self.policy.facts, built_at, parallelism));
        self
    }

    /// This snapshot with `changes` applied: the roster and the timelines share everything the
    /// changes do not touch with this one, and cost what the changed agents' shifts cost.
    pub fn with_changes(&self, changes: RosterChanges, parallelism: Parallelism) -> Snapshot {
        let (roster, agent_changes) = self.roster.with_changes(changes);
        let timelines = self.timelines.with_changes(&roster, &self.policy.facts, &agent_changes, parallelism);
        Snapshot { policy: self.policy.clone(), roster, timelines: Arc::new(timelines) }
    }

    /// This snapshot with its timelines' horizon moved to `now`, adding and dropping only the
    /// stretches of time the move adds and drops (see [`StaffedTimelines::rolled_to`]).
    pub fn rolled_to(&self, now: Instant, parallelism: Parallelism) -> Snapshot {
        let timelines = self.timelines.rolled_to(&self.roster, &self.policy.facts, now, parallelism);
        Snapshot { policy: self.policy.clone(), roster: self.roster.clone(), timelines: Arc::new(timelines) }
    }

    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    pub fn timelines(&self) -> &StaffedTimelines {
        &self.timelines
    }

    // The reads the layers above answer from the snapshot in force, passed on to its roster.

    pub fn org(&self, org_id: &str) -> Option<&Org> {
        self.roster.org(org_id)
    }

    /// Orgs in `org_id` order, starting after `after`.
    pub fn orgs_after<'a>(&'a self, after: Option<&'a str>) -> impl Iterator<Item = &'a Org> + 'a {
        self.roster.orgs_after(after)
    }

    pub fn agent(&self, agent_id: &str) -> Option<&AgentRoster> {
        self.roster.agent(agent_id)
    }

    /// The agent with its slot, which indexes the timelines too.
    pub fn agent_at(&self, agent_id: &str) -> Option<(usize, &AgentRoster)> {
        self.roster.agent_at(agent_id)
    }

    /// Agents in `agent_id` order.
    pub fn agents(&self) -> impl Iterator<Item = &AgentRoster> {
        self.roster.agents()
    }

    /// Agents in `agent_id` order, starting after `after`.
    pub fn agents_after<'a>(&'a self, after: Option<&'a str>) -> impl Iterator<Item = &'a AgentRoster> + 'a {
        self.roster.agents_after(after)
    }

    pub fn n_agents(&self) -> usize {
        self.roster.n_agents()
    }

    pub fn n_shifts(&self) -> usize {
        self.roster.n_shifts()
    }

    /// Consents of one org, in (ticket, agent) order.
    pub fn consents_of<'a>(&'a self, org_id: &'a str) -> impl Iterator<Item = &'a Consent> + 'a {
        self.roster.consents_of(org_id)
    }

    /// A snapshot of `roster` under `policy`, with no precomputed timelines yet.
    pub fn of_roster(policy: Arc<Policy>, roster: Roster) -> Snapshot {
        Snapshot { policy, roster, timelines: Arc::default() }
    }
}

//! What-if: hypothetical changes laid over the stored roster (agents absent, relocated or added;
//! shifts added, removed or changed), and the coverage report the changed roster would give,
//! compared with the stored roster's. Nothing here changes the snapshot it starts from: the
//! hypothetical roster is a new one that shares every agent the changes leave alone with it, and
//! only the agents they touch are rebuilt (`Roster::with_changes`, the path writes take).
//!
//! The changes apply in order, each to the roster the ones before it left, and each is checked
//! against that roster; every violation names the change's field (`changes[3].absence.agent_id`).

use std::collections::{BTreeMap, HashMap};

use super::country::Country;
use super::coverage::{coverage_reports_compared, gap_changes, CoverageQuestion, RequirementCoverage};
use super::ids::{AgentId, ShiftId, TimeOffId};
use super::interval::Interval;
use super::parallel::Parallelism;
use super::roster::{Agent, AgentRoster, LocationChange, RosterChanges, Shift, TimeOff};
use super::snapshot::Snapshot;
use super::sync::RequirementGapChanges;
use super::time::Instant;
use super::validation::FieldViolation;
use super::working_time::{breaches_gained, Warning, WorkingTimeSettings};

/// The most changes one simulation may carry.
pub const MAX_CHANGES: usize = 1_000;

/// One hypothetical change to the roster, already checked on its own (IDs, instants, countries,
/// the shift's schedule); what it refers to is checked when it is applied.
#[derive(Clone, Debug, PartialEq)]
pub enum HypotheticalChange {
    /// The agent does not work during `period`, as if it had time off then.
    Absence {
        agent_id: AgentId,
        period: Interval,
    },
    /// From `effective_at` on, the agent works from `country`; its location changes at or after
    /// that instant give way to this one.
    Relocation {
        agent_id: AgentId,
        effective_at: Instant,
        country: Country,
    },
    /// A shift with a new ID, for an agent that exists.
    AddShift(Shift),
    RemoveShift(ShiftId),
    /// Replaces the shift with the same ID (which may move it to another agent).
    ChangeShift(Shift),
    /// An agent with a new ID and nothing scheduled yet.
    AddAgent(Agent),
}

impl HypotheticalChange {
    /// The name of the change's kind, as the wire's `HypotheticalChange` names its case.
    pub fn kind_field(&self) -> &'static str {
        match self {
            HypotheticalChange::Absence { .. } => "absence",
            HypotheticalChange::Relocation { .. } => "relocation",
            HypotheticalChange::AddShift(_) => "add_shift",
            HypotheticalChange::RemoveShift(_) => "remove_shift",
            HypotheticalChange::ChangeShift(_) => "change_shift",
            HypotheticalChange::AddAgent(_) => "add_agent",
        }
    }
}

/// The roster as the changes leave it.
#[derive(Clone, Debug)]
pub struct Hypothetical {
    /// The stored snapshot's policy with the changed roster. It has no precomputed timelines:
    /// a report never reads them.
    pub snapshot: Snapshot,
    /// The agents whose roster differs from the stored one, in ID order.
    pub touched_agent_ids: Vec<AgentId>,
}

/// What a simulation answers: the report under the changes and, per requirement, the gaps the
/// changes open and close against the stored roster's report over the same question.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    pub report: Vec<RequirementCoverage>,
    /// One per requirement, in the report's order.
    pub gap_changes: Vec<RequirementGapChanges>,
}

/// The time-off ID an absence is given in the hypothetical roster. It names the change, so two
/// absences never share one; it lives only in that roster, so it cannot clash with a stored one.
pub fn absence_time_off_id(change_idx: usize) -> TimeOffId {
    TimeOffId::new(format!("what-if-absence-{change_idx}")).expect("a well-formed ID")
}

/// Applies `changes`, in order, to the roster of `stored`; `stored` itself is left as it is.
/// Every change that refers to what does not exist (or adds what already does) is a violation,
/// and all of them are reported.
pub fn apply_changes(stored: &Snapshot, changes: &[HypotheticalChange]) -> Result<Hypothetical, Vec<FieldViolation>> {
    let mut overlay = Overlay { stored, changed: BTreeMap::new(), shift_owners: None };
    let mut violations = Vec::new();
    for (change_idx, change) in changes.iter().enumerate() {
        let field = |path: &str| format!("changes[{change_idx}].{}.{path}", change.kind_field());
        if let Err(violation) = overlay.apply(change_idx, change, &field) {
            violations.push(violation);
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    let agent_changes = overlay
        .changed
        .into_iter()
        .map(|(agent_id, roster)| {
            let AgentRoster { agent, shifts, time_off, time_off_merged: _ } = roster;
            (agent_id, Some(AgentRoster::new(agent, shifts, time_off)))
        })
        .collect();
    let (roster, _) = stored.roster().with_changes(RosterChanges { agents: agent_changes, orgs: Vec::new() });
    let snapshot = Snapshot::of_roster(stored.policy.clone(), roster);
    let touched_agent_ids = touched_agents(stored, &snapshot);
    Ok(Hypothetical { snapshot, touched_agent_ids })
}

/// The agents whose roster differs between two states of a roster (one added, removed, or
/// changed in any way), in ID order.
pub fn touched_agents(before: &Snapshot, after: &Snapshot) -> Vec<AgentId> {
    let mut touched: Vec<AgentId> = after
        .agents()
        .filter(|roster| {
            before
                .agent(roster.agent.agent_id.as_str())
                .is_none_or(|earlier| !std::ptr::eq(earlier, *roster) && earlier != *roster)
        })
        .chain(before.agents().filter(|roster| after.agent(roster.agent.agent_id.as_str()).is_none()))
        .map(|roster| roster.agent.agent_id.clone())
        .collect();
    touched.sort();
    touched
}

/// The report `question` asks for under `hypothetical`, and per requirement the gaps it has and
/// the stored roster's report does not (opened) and the other way round (closed). Both reports
/// come from one sweep, in which only the touched agents count differently.
pub fn simulate(
    stored: &Snapshot,
    hypothetical: &Snapshot,
    question: &CoverageQuestion,
    parallelism: Parallelism,
) -> Simulation {
    let compared = coverage_reports_compared(stored, hypothetical, question, parallelism);
    let gap_changes = compared
        .before
        .iter()
        .zip(&compared.after)
        .map(|(before, after)| {
            let (opened, closed) = gap_changes(&before.gaps, &after.gaps);
            RequirementGapChanges {
                plan: question.plan,
                eea_tagged: question.eea_tagged,
                severity: after.severity,
                opened,
                closed,
            }
        })
        .collect();
    Simulation { report: compared.after, gap_changes }
}

/// The breaches of the Working Time Directive that the touched agents gain inside `window`
/// between the stored roster and the hypothetical one, agents in the order given.
pub fn working_time_warnings(
    (stored, hypothetical): (&Snapshot, &Snapshot),
    touched_agent_ids: &[AgentId],
    window: Interval,
    settings: &WorkingTimeSettings,
    parallelism: Parallelism,
) -> Vec<Warning> {
    let rules = &stored.policy.facts.working_time;
    let agents: Vec<_> = touched_agent_ids
        .iter()
        .filter_map(|agent_id| Some((stored.agent(agent_id.as_str()), hypothetical.agent(agent_id.as_str())?)))
        .collect();
    parallelism
        .map_in_order(&agents, |(before, after)| {
            breaches_gained(*before, after, window, rules, settings)
                .into_iter()
                .map(|breach| Warning { agent_id: after.agent.agent_id.clone(), breach })
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect()
}

/// The changes applied so far, over the stored roster.
struct Overlay<'a> {
    stored: &'a Snapshot,
    /// The agents the changes so far touched, as they left them (entries not yet re-sorted).
    changed: BTreeMap<AgentId, AgentRoster>,
    /// Which agent each shift belongs to, as the changes so far left it; built from the stored
    /// roster when a change first asks.
    shift_owners: Option<HashMap<ShiftId, AgentId>>,
}

impl Overlay<'_> {
    fn has_agent(&self, agent_id: &AgentId) -> bool {
        self.changed.contains_key(agent_id) || self.stored.agent(agent_id.as_str()).is_some()
    }

    /// The agent as the changes so far left it, copied from the stored roster on first touch.
    /// Only called for an agent that `has_agent`.
    fn agent_mut(&mut self, agent_id: &AgentId) -> &mut AgentRoster {
        let stored = self.stored;
        self.changed.entry(agent_id.clone()).or_insert_with(|| {
            stored.agent(agent_id.as_str()).cloned().expect("checked by has_agent before the first touch")
        })
    }

    fn shift_owners(&mut self) -> &mut HashMap<ShiftId, AgentId> {
        let stored = self.stored;
        self.shift_owners.get_or_insert_with(|| {
            stored
                .agents()
                .flat_map(|roster| roster.shifts.iter().map(|shift| (shift.shift_id.clone(), shift.agent_id.clone())))
                .collect()
        })
    }

    fn unknown_agent(&self, agent_id: &AgentId, field: String) -> Result<(), FieldViolation> {
        if self.has_agent(agent_id) {
            Ok(())
        } else {
            Err(FieldViolation::new(field, format!("agent {agent_id:?} not found")))
        }
    }

    fn apply(
        &mut self,
        change_idx: usize,
        change: &HypotheticalChange,
        field: &dyn Fn(&str) -> String,
    ) -> Result<(), FieldViolation> {
        match change {
            HypotheticalChange::Absence { agent_id, period } => {
                self.unknown_agent(agent_id, field("agent_id"))?;
                let absence = TimeOff {
                    time_off_id: absence_time_off_id(change_idx),
                    agent_id: agent_id.clone(),
                    period: *period,
                    source: None,
                };
                self.agent_mut(agent_id).time_off.push(absence);
            }
            HypotheticalChange::Relocation { agent_id, effective_at, country } => {
                self.unknown_agent(agent_id, field("agent_id"))?;
                let agent = &mut self.agent_mut(agent_id).agent;
                // Changes are sorted by instant: the earlier ones stay, and this one comes last.
                agent.location_changes.retain(|change| change.effective_at < *effective_at);
                agent.location_changes.push(LocationChange { effective_at: *effective_at, country: *country });
            }
            HypotheticalChange::AddShift(shift) => {
                if let Some(owner) = self.shift_owners().get(&shift.shift_id) {
                    return Err(FieldViolation::new(
                        field("shift.shift_id"),
                        format!(
                            "shift {:?} already exists (agent {owner:?}); change_shift replaces one",
                            shift.shift_id
                        ),
                    ));
                }
                self.unknown_agent(&shift.agent_id, field("shift.agent_id"))?;
                self.shift_owners().insert(shift.shift_id.clone(), shift.agent_id.clone());
                self.agent_mut(&shift.agent_id).shifts.push(shift.clone());
            }
            HypotheticalChange::RemoveShift(shift_id) => {
                let Some(owner) = self.shift_owners().remove(shift_id) else {
                    return Err(FieldViolation::new(field("shift_id"), format!("shift {shift_id:?} not found")));
                };
                self.agent_mut(&owner).shifts.retain(|shift| shift.shift_id != *shift_id);
            }
            HypotheticalChange::ChangeShift(shift) => {
                let Some(owner) = self.shift_owners().get(&shift.shift_id).cloned() else {
                    return Err(FieldViolation::new(
                        field("shift.shift_id"),
                        format!("shift {:?} not found; add_shift adds one", shift.shift_id),
                    ));
                };
                self.unknown_agent(&shift.agent_id, field("shift.agent_id"))?;
                let replaced = self.agent_mut(&owner);
                let source = replaced
                    .shifts
                    .iter()
                    .find(|stored| stored.shift_id == shift.shift_id)
                    .and_then(|stored| stored.source.clone());
                replaced.shifts.retain(|stored| stored.shift_id != shift.shift_id);
                // The shift is the same entry, changed: it keeps the source that owns it.
                let changed = Shift { source, ..shift.clone() };
                self.shift_owners().insert(shift.shift_id.clone(), shift.agent_id.clone());
                self.agent_mut(&shift.agent_id).shifts.push(changed);
            }
            HypotheticalChange::AddAgent(agent) => {
                if self.has_agent(&agent.agent_id) {
                    return Err(FieldViolation::new(
                        field("agent.agent_id"),
                        format!("agent {:?} already exists", agent.agent_id),
                    ));
                }
                self.changed.insert(agent.agent_id.clone(), AgentRoster::new(agent.clone(), Vec::new(), Vec::new()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

//! A simulation's hypothetical changes, from the wire.

use super::{agent_from_pb, question_instant_field, shift_from_pb, window_field};
use crate::domain::country::Country;
use crate::domain::ids::{AgentId, ShiftId};
use crate::domain::validation::{FieldViolation, Violations, WindowReporting, WindowRules};
use crate::domain::what_if::{HypotheticalChange, MAX_CHANGES};
use crate::pb;
use crate::pb::hypothetical_change::{Absence, AddAgent, AddShift, Change, ChangeShift, Relocation, RemoveShift};

/// Converts every change, each violation named by the change's position
/// (`changes[3].absence.interval.end_at`). More than [`MAX_CHANGES`] are refused before any
/// conversion.
pub fn changes_from_pb(changes: Vec<pb::HypotheticalChange>) -> Result<Vec<HypotheticalChange>, Vec<FieldViolation>> {
    if changes.len() > MAX_CHANGES {
        return Err(vec![FieldViolation::new(
            "changes",
            format!("at most {MAX_CHANGES} changes per simulation (got {})", changes.len()),
        )]);
    }
    let mut converted = Vec::with_capacity(changes.len());
    let mut violations = Vec::new();
    for (change_idx, change) in changes.into_iter().enumerate() {
        match change_from_pb(change) {
            Ok(change) => converted.push(change),
            Err(found) => violations
                .extend(found.into_iter().map(|violation| violation.within(&format!("changes[{change_idx}]")))),
        }
    }
    if violations.is_empty() {
        Ok(converted)
    } else {
        Err(violations)
    }
}

/// One change, checked on its own; fields are named from inside the change (`absence.agent_id`).
pub fn change_from_pb(change: pb::HypotheticalChange) -> Result<HypotheticalChange, Vec<FieldViolation>> {
    let pb::HypotheticalChange { change } = change;
    let mut violations = Violations::default();
    let Some(change) = change else {
        violations.add(
            "change",
            "is required: one of absence, relocation, add_shift, remove_shift, change_shift or add_agent",
        );
        return Err(violations.0);
    };
    match change {
        Change::Absence(Absence { agent_id, interval }) => {
            let agent_id = AgentId::check(&mut violations, "absence.agent_id", agent_id);
            let period = match interval {
                None => {
                    violations.add("absence.interval", "is required");
                    None
                }
                Some(pb::TimeWindow { start_at, end_at }) => {
                    let rules = WindowRules {
                        start_field: "absence.interval.start_at",
                        end_field: "absence.interval.end_at",
                        longest: None,
                        reporting: WindowReporting::Every,
                    };
                    window_field(&mut violations, &rules, start_at, end_at)
                }
            };
            violations.finish(|| HypotheticalChange::Absence {
                agent_id: agent_id.expect("checked above"),
                period: period.expect("checked above"),
            })
        }
        Change::Relocation(Relocation { agent_id, effective_at, country }) => {
            let agent_id = AgentId::check(&mut violations, "relocation.agent_id", agent_id);
            let effective_at = match effective_at {
                None => {
                    violations.add("relocation.effective_at", "is required");
                    None
                }
                sent => question_instant_field("relocation.effective_at", sent, &mut violations.0),
            };
            let country = violations.check("relocation.country", Country::parse(&country));
            violations.finish(|| HypotheticalChange::Relocation {
                agent_id: agent_id.expect("checked above"),
                effective_at: effective_at.expect("checked above"),
                country: country.expect("checked above"),
            })
        }
        Change::AddShift(AddShift { shift }) => {
            let Some(shift) = shift else { return Err(required("add_shift.shift")) };
            shift_from_pb(shift, None)
                .map(HypotheticalChange::AddShift)
                .map_err(|found| within("add_shift.shift", found))
        }
        Change::RemoveShift(RemoveShift { shift_id }) => {
            let shift_id = ShiftId::check(&mut violations, "remove_shift.shift_id", shift_id);
            violations.finish(|| HypotheticalChange::RemoveShift(shift_id.expect("checked above")))
        }
        Change::ChangeShift(ChangeShift { shift }) => {
            let Some(shift) = shift else { return Err(required("change_shift.shift")) };
            shift_from_pb(shift, None)
                .map(HypotheticalChange::ChangeShift)
                .map_err(|found| within("change_shift.shift", found))
        }
        Change::AddAgent(AddAgent { agent }) => {
            let Some(agent) = agent else { return Err(required("add_agent.agent")) };
            agent_from_pb(agent, None)
                .map(HypotheticalChange::AddAgent)
                .map_err(|found| within("add_agent.agent", found))
        }
    }
}

fn required(field: &str) -> Vec<FieldViolation> {
    vec![FieldViolation::new(field, "is required")]
}

fn within(prefix: &str, violations: Vec<FieldViolation>) -> Vec<FieldViolation> {
    violations.into_iter().map(|violation| violation.within(prefix)).collect()
}

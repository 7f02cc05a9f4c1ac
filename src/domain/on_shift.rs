//! Who is on shift now (`ListOnShift`): the eligible agents on duty for a severity at an
//! instant, each with the shift that puts them there and when that stretch of duty ends. Answered
//! from the precomputed timelines when the 48 hours ahead lie inside their horizon, else from
//! each agent's shift pieces over those hours.

use jiff::SignedDuration;

use super::country::Country;
use super::eligibility::{piece_covers, shift_pieces, EligibilityClass, ShiftPiece};
use super::ids::{AgentId, ShiftId};
use super::interval::{Interval, QUESTIONS_END_BEFORE_THE_END_OF_TIME};
use super::policy::{PlanKind, Severity};
use super::roster::AgentRoster;
use super::snapshot::Snapshot;
use super::time::Instant;

/// One eligible agent on shift at an instant, and the shift that puts them there.
#[derive(Clone, Debug, PartialEq)]
pub struct OnShift {
    pub agent_id: AgentId,
    pub country: Country,
    pub shift_id: ShiftId,
    /// When this stretch of eligible duty ends (the shift's end, a relocation or time off).
    pub until: Instant,
}

/// The eligible agents on shift for `severity` at `at`, in agent order.
pub fn on_shift(
    snapshot: &Snapshot,
    plan: PlanKind,
    eea_tagged: bool,
    severity: Severity,
    at: Instant,
) -> Vec<OnShift> {
    let context = snapshot.eligibility_context(plan, eea_tagged);
    let probe = Interval::following(at, SignedDuration::from_hours(48)).expect(QUESTIONS_END_BEFORE_THE_END_OF_TIME);
    let timelines = snapshot.timelines();
    if timelines.covers(probe) {
        let class = EligibilityClass::of(plan, eea_tagged);
        return timelines
            .agents_at(class, at)
            .into_iter()
            .filter_map(|agent_idx| {
                let roster = snapshot.agent(timelines.agent_id(agent_idx))?;
                on_shift_from_pieces(roster, &timelines.agent_pieces(class, agent_idx), severity, at)
            })
            // The slow path sees 48 hours ahead; so does this one.
            .map(|mut found| {
                found.until = found.until.min(probe.end());
                found
            })
            .collect();
    }
    snapshot
        .agents()
        .filter_map(|roster| on_shift_from_pieces(roster, &shift_pieces(&context, roster, probe), severity, at))
        .collect()
}

/// Whether the agent is on eligible duty for `severity` at `at`, given its shift pieces around
/// `at` (in shift, then time order), and until when.
pub fn on_shift_from_pieces(
    roster: &AgentRoster,
    pieces: &[ShiftPiece],
    severity: Severity,
    at: Instant,
) -> Option<OnShift> {
    if roster.time_off_merged.iter().any(|period| period.contains(at)) {
        return None;
    }
    let piece_idx = pieces
        .iter()
        .position(|piece| piece.eligible && piece.interval.contains(at) && piece_covers(roster, piece, severity))?;
    let piece = &pieces[piece_idx];
    // Pieces of one occurrence follow each other; a cut where eligibility did not change (a
    // policy date that does not concern this agent) does not end the stretch.
    let mut stretch_end = piece.interval.end();
    for next in &pieces[piece_idx + 1..] {
        if next.shift_idx != piece.shift_idx || next.interval.start() != stretch_end || !next.eligible {
            break;
        }
        stretch_end = next.interval.end();
    }
    let next_time_off = roster.time_off_merged.iter().map(|period| period.start()).find(|start| *start > at);
    let shift = &roster.shifts[piece.shift_idx];
    Some(OnShift {
        agent_id: roster.agent.agent_id.clone(),
        country: piece.country,
        shift_id: shift.shift_id.clone(),
        until: next_time_off.map_or(stretch_end, |start| start.min(stretch_end)),
    })
}

//! Staffed timelines held in the snapshot over a rolling horizon, so the hot path answers with
//! lookups: per eligibility class and severity, how many distinct eligible agents are on shift
//! at every instant, and which agents those are.
//!
//! Built once per snapshot, off the request path; questions outside the horizon (or about a
//! ticket with consents, which only widen eligibility for that ticket) take the full computation.

use jiff::SignedDuration;

use super::coverage::{agent_timeline_for, on_all_cores};
use super::eligibility::{shift_pieces, EligibilityContext, ShiftPiece};
use super::interval::{merge, Interval};
use super::policy::{PlanKind, Severity};
use super::snapshot::{AgentRoster, Snapshot};
use super::time::Instant;

/// How far back and ahead of the snapshot's build instant the timelines reach.
pub const HORIZON_BACK: SignedDuration = SignedDuration::from_hours(7 * 24);
pub const HORIZON_AHEAD: SignedDuration = SignedDuration::from_hours(36 * 24);

/// The three ways a set of tickets limits who is eligible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EligibilityClass {
    EeaOnly,
    StandardEeaTagged,
    StandardUntagged,
}

impl EligibilityClass {
    pub const ALL: [EligibilityClass; 3] =
        [EligibilityClass::EeaOnly, EligibilityClass::StandardEeaTagged, EligibilityClass::StandardUntagged];

    pub fn of(plan: PlanKind, eea_tagged: bool) -> EligibilityClass {
        match (plan, eea_tagged) {
            (PlanKind::EeaOnly, _) => EligibilityClass::EeaOnly,
            (PlanKind::Standard, true) => EligibilityClass::StandardEeaTagged,
            (PlanKind::Standard, false) => EligibilityClass::StandardUntagged,
        }
    }

    fn context(self) -> EligibilityContext<'static> {
        let (plan, eea_tagged) = match self {
            EligibilityClass::EeaOnly => (PlanKind::EeaOnly, true),
            EligibilityClass::StandardEeaTagged => (PlanKind::Standard, true),
            EligibilityClass::StandardUntagged => (PlanKind::Standard, false),
        };
        EligibilityContext { plan, eea_tagged, ticket: None }
    }

    fn index(self) -> usize {
        match self {
            EligibilityClass::EeaOnly => 0,
            EligibilityClass::StandardEeaTagged => 1,
            EligibilityClass::StandardUntagged => 2,
        }
    }
}

/// One agent's stretch of eligible duty, for listing who is on shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stretch {
    pub interval: Interval,
    pub agent_idx: u32,
    pub piece_idx: u32,
}

/// The staffing of one eligibility class and severity.
#[derive(Clone, Debug, Default)]
pub struct StaffingIndex {
    /// A step function: `counts[i]` distinct eligible agents in `[starts[i], starts[i + 1])`.
    starts: Vec<Instant>,
    counts: Vec<u32>,
    /// Where the count is above zero, merged.
    staffed: Vec<Interval>,
}

impl StaffingIndex {
    fn from_agent_intervals(intervals: impl Iterator<Item = Interval>) -> StaffingIndex {
        let mut events: Vec<(Instant, i32)> = Vec::new();
        for interval in intervals {
            events.push((interval.start, 1));
            events.push((interval.end, -1));
        }
        events.sort_unstable();
        let (mut starts, mut counts) = (Vec::new(), Vec::new());
        let mut count: i32 = 0;
        let mut event_idx = 0;
        while event_idx < events.len() {
            let at = events[event_idx].0;
            while event_idx < events.len() && events[event_idx].0 == at {
                count += events[event_idx].1;
                event_idx += 1;
            }
            starts.push(at);
            counts.push(count.max(0) as u32);
        }
        let staffed = merge(
            starts
                .windows(2)
                .zip(&counts)
                .filter(|(_, count)| **count > 0)
                .filter_map(|(pair, _)| Interval::new(pair[0], pair[1]))
                .collect(),
        );
        StaffingIndex { starts, counts, staffed }
    }

    /// Distinct eligible agents on shift at `at`.
    pub fn count_at(&self, at: Instant) -> u32 {
        match self.starts.partition_point(|start| *start <= at) {
            0 => 0,
            after => self.counts[after - 1],
        }
    }

    /// The staffed stretches overlapping `range`, clipped to it.
    pub fn staffed_within(&self, range: Interval) -> Vec<Interval> {
        let first = self.staffed.partition_point(|interval| interval.end <= range.start);
        self.staffed[first..]
            .iter()
            .take_while(|interval| interval.start < range.end)
            .filter_map(|interval| interval.intersection(&range))
            .collect()
    }
}

const BUCKET: SignedDuration = SignedDuration::from_hours(1);

/// Everything precomputed for one snapshot.
#[derive(Clone, Debug, Default)]
pub struct StaffedTimelines {
    /// `None` when nothing was precomputed (an empty snapshot).
    horizon: Option<Interval>,
    /// Agent IDs in snapshot order: the agent indexes below.
    agent_ids: Vec<String>,
    /// `[class][severity]`.
    indexes: Vec<Vec<StaffingIndex>>,
    /// `[class]`: every agent's pieces in the horizon, and stretches bucketed by hour.
    pieces: Vec<Vec<Vec<ShiftPiece>>>,
    stretches: Vec<Vec<Vec<Stretch>>>,
}

impl StaffedTimelines {
    pub fn build(snapshot: &Snapshot, built_at: Instant) -> StaffedTimelines {
        let horizon = Interval::new(
            built_at.saturating_sub(HORIZON_BACK).expect("saturates"),
            built_at.saturating_add(HORIZON_AHEAD).expect("saturates"),
        )
        .expect("the horizon is not empty");
        let rosters: Vec<&AgentRoster> = snapshot.agents().collect();
        let mut indexes = Vec::new();
        let mut all_pieces = Vec::new();
        let mut all_stretches = Vec::new();
        let n_buckets = (horizon.duration_secs() / BUCKET.as_secs()) as usize + 1;
        for class in EligibilityClass::ALL {
            let context = class.context();
            let pieces: Vec<Vec<ShiftPiece>> =
                on_all_cores(&rosters, |roster| shift_pieces(snapshot, &context, roster, horizon));
            let per_severity: Vec<StaffingIndex> = Severity::ALL
                .iter()
                .map(|severity| {
                    StaffingIndex::from_agent_intervals(
                        rosters
                            .iter()
                            .zip(&pieces)
                            .flat_map(|(roster, agent_pieces)| agent_timeline_for(roster, agent_pieces, *severity)),
                    )
                })
                .collect();
            let mut buckets: Vec<Vec<Stretch>> = vec![Vec::new(); n_buckets];
            for (agent_idx, agent_pieces) in pieces.iter().enumerate() {
                for (piece_idx, piece) in agent_pieces.iter().enumerate().filter(|(_, piece)| piece.eligible) {
                    let stretch =
                        Stretch { interval: piece.interval, agent_idx: agent_idx as u32, piece_idx: piece_idx as u32 };
                    let first = bucket_of(horizon, piece.interval.start);
                    let last = bucket_of(horizon, piece.interval.end - SignedDuration::from_nanos(1));
                    for bucket in buckets.iter_mut().take(last + 1).skip(first) {
                        bucket.push(stretch);
                    }
                }
            }
            indexes.push(per_severity);
            all_pieces.push(pieces);
            all_stretches.push(buckets);
        }
        let agent_ids = rosters.iter().map(|roster| roster.agent.agent_id.clone()).collect();
        StaffedTimelines { horizon: Some(horizon), agent_ids, indexes, pieces: all_pieces, stretches: all_stretches }
    }

    /// Whether `range` lies inside the precomputed horizon.
    pub fn covers(&self, range: Interval) -> bool {
        self.horizon.is_some_and(|horizon| horizon.start <= range.start && range.end <= horizon.end)
    }

    pub fn horizon(&self) -> Option<Interval> {
        self.horizon
    }

    pub fn index(&self, class: EligibilityClass, severity: Severity) -> &StaffingIndex {
        &self.indexes[class.index()][severity as usize]
    }

    /// The eligible pieces (agent index in snapshot order, piece) containing `at`.
    pub fn pieces_at(&self, class: EligibilityClass, at: Instant) -> Vec<(usize, &ShiftPiece)> {
        let Some(horizon) = self.horizon.filter(|horizon| horizon.contains(at)) else { return Vec::new() };
        let pieces = &self.pieces[class.index()];
        self.stretches[class.index()][bucket_of(horizon, at)]
            .iter()
            .filter(|stretch| stretch.interval.contains(at))
            .map(|stretch| {
                (stretch.agent_idx as usize, &pieces[stretch.agent_idx as usize][stretch.piece_idx as usize])
            })
            .collect()
    }

    pub fn agent_id(&self, agent_idx: usize) -> &str {
        &self.agent_ids[agent_idx]
    }

    /// The agent's pieces (eligible or not) within the horizon, for following a stretch on.
    pub fn agent_pieces(&self, class: EligibilityClass, agent_idx: usize) -> &[ShiftPiece] {
        &self.pieces[class.index()][agent_idx]
    }
}

fn bucket_of(horizon: Interval, at: Instant) -> usize {
    (at.duration_since(horizon.start).as_secs().max(0) / BUCKET.as_secs()) as usize
}

#[cfg(test)]
mod tests;

//! Staffed timelines held in the snapshot over a rolling horizon, so the hot path answers with
//! lookups: per eligibility class and severity, how many distinct eligible agents are on shift
//! at every instant, and which agents those are.
//!
//! Built once per snapshot, off the request path; questions outside the horizon (or about a
//! ticket with consents, which only widen eligibility for that ticket) take the full computation.

use std::sync::Arc;

use jiff::SignedDuration;

use super::eligibility::{access_reason, eligible_duty, shift_pieces, EligibilityClass, ShiftPiece};
use super::ids::AgentId;
use super::interval::{merge, Interval};
use super::parallel::Parallelism;
use super::policy::{PolicyFacts, Severity};
use super::roster::{AgentRoster, Roster};
use super::time::Instant;

/// How far back and ahead of the snapshot's build instant the timelines reach.
pub const HORIZON_BACK: SignedDuration = SignedDuration::from_hours(7 * 24);
pub const HORIZON_AHEAD: SignedDuration = SignedDuration::from_hours(36 * 24);

/// One agent's stretch of eligible duty, for listing who is on shift; microseconds, to keep it
/// small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stretch {
    pub start_us: i64,
    pub end_us: i64,
    pub agent_idx: u32,
    pub piece_idx: u32,
}

/// What one eligibility class adds to the shared pieces.
#[derive(Clone, Debug, Default)]
struct ClassTimelines {
    /// Per severity; severities with equal staffing share one index.
    indexes: Vec<Arc<StaffingIndex>>,
    /// `[agent][piece]`: whether the piece is eligible for the class.
    eligible: Vec<Vec<bool>>,
    /// The eligible pieces, and per bucket of the horizon the stretches overlapping it.
    stretches: Vec<Stretch>,
    buckets: Vec<Vec<u32>>,
}

/// The staffing of one eligibility class and severity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StaffingIndex {
    /// A step function: `counts[i]` distinct eligible agents in `[starts[i], starts[i + 1])`;
    /// instants as microseconds, half the size of `Instant`.
    starts: Vec<i64>,
    counts: Vec<u32>,
    /// Where the count is above zero, merged.
    staffed: Vec<Interval>,
}

impl StaffingIndex {
    fn from_agent_intervals(intervals: impl Iterator<Item = Interval>) -> StaffingIndex {
        let mut events: Vec<(Instant, i32)> = Vec::new();
        for interval in intervals {
            events.push((interval.start(), 1));
            events.push((interval.end(), -1));
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
            starts.push(at.as_microsecond());
            counts.push(count.max(0) as u32);
        }
        let staffed = merge(
            starts
                .windows(2)
                .zip(&counts)
                .filter(|(_, count)| **count > 0)
                .filter_map(|(pair, _)| {
                    Interval::new(Instant::from_microsecond(pair[0]).ok()?, Instant::from_microsecond(pair[1]).ok()?)
                })
                .collect(),
        );
        StaffingIndex { starts, counts, staffed }
    }

    /// Distinct eligible agents on shift at `at`.
    pub fn count_at(&self, at: Instant) -> u32 {
        let at = at.as_microsecond();
        match self.starts.partition_point(|start| *start <= at) {
            0 => 0,
            after => self.counts[after - 1],
        }
    }

    /// The staffed stretches overlapping `range`, clipped to it.
    pub fn staffed_within(&self, range: Interval) -> Vec<Interval> {
        let first = self.staffed.partition_point(|interval| interval.end() <= range.start());
        self.staffed[first..]
            .iter()
            .take_while(|interval| interval.start() < range.end())
            .filter_map(|interval| interval.intersection(&range))
            .collect()
    }
}

/// Stretches are found through buckets of this length: long enough that a shift spans few.
const BUCKET: SignedDuration = SignedDuration::from_hours(6);

/// Everything precomputed for one snapshot.
#[derive(Clone, Debug, Default)]
pub struct StaffedTimelines {
    /// `None` until timelines are built (`Snapshot::with_timelines`).
    horizon: Option<Interval>,
    /// Agent IDs in snapshot order: the agent indexes below.
    agent_ids: Vec<AgentId>,
    /// `[agent]`: every agent's pieces in the horizon (eligibility as for EEA_ONLY).
    pieces: Vec<Vec<ShiftPiece>>,
    /// `[class]`.
    classes: Vec<ClassTimelines>,
}

impl StaffedTimelines {
    /// Builds the timelines around `built_at`, expanding agents' shifts on as many threads as
    /// `parallelism` allows.
    pub fn build(
        roster: &Roster,
        facts: &PolicyFacts,
        built_at: Instant,
        parallelism: Parallelism,
    ) -> StaffedTimelines {
        let horizon = Interval::new(
            built_at.saturating_sub(HORIZON_BACK).expect("saturates"),
            built_at.saturating_add(HORIZON_AHEAD).expect("saturates"),
        )
        .expect("the horizon is not empty");
        let agent_rosters: Vec<&AgentRoster> = roster.agents().collect();
        // Pieces are cut at the same instants for every class (no ticket, so no consent); only
        // eligibility differs. They are expanded once and judged once per class.
        let pieces: Vec<Vec<ShiftPiece>> = parallelism.map_in_order(&agent_rosters, |agent_roster| {
            shift_pieces(&EligibilityClass::EeaOnly.context(roster, facts), agent_roster, horizon)
        });
        let n_buckets = (horizon.duration_secs() / BUCKET.as_secs()) as usize + 1;
        let mut classes = Vec::with_capacity(EligibilityClass::ALL.len());
        for class in EligibilityClass::ALL {
            let context = class.context(roster, facts);
            let eligible: Vec<Vec<bool>> = agent_rosters
                .iter()
                .zip(&pieces)
                .map(|(agent_roster, agent_pieces)| {
                    agent_pieces
                        .iter()
                        .map(|piece| {
                            access_reason(
                                &context,
                                agent_roster.agent.agent_id.as_str(),
                                piece.country,
                                piece.interval.start(),
                            )
                            .allows()
                        })
                        .collect()
                })
                .collect();
            let class_pieces =
                |agent_idx: usize| -> Vec<ShiftPiece> { with_eligibility(&pieces[agent_idx], &eligible[agent_idx]) };
            let mut per_severity: Vec<Arc<StaffingIndex>> = Vec::with_capacity(Severity::ALL.len());
            for severity in Severity::ALL {
                let index = StaffingIndex::from_agent_intervals(agent_rosters.iter().enumerate().flat_map(
                    |(agent_idx, agent_roster)| eligible_duty(agent_roster, &class_pieces(agent_idx), severity),
                ));
                let shared = per_severity.iter().find(|known| ***known == index).cloned();
                per_severity.push(shared.unwrap_or_else(|| Arc::new(index)));
            }
            let mut stretches: Vec<Stretch> = Vec::new();
            let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); n_buckets];
            for (agent_idx, agent_pieces) in pieces.iter().enumerate() {
                for (piece_idx, piece) in
                    agent_pieces.iter().enumerate().filter(|(piece_idx, _)| eligible[agent_idx][*piece_idx])
                {
                    let stretch_idx = stretches.len() as u32;
                    stretches.push(Stretch {
                        start_us: piece.interval.start().as_microsecond(),
                        end_us: piece.interval.end().as_microsecond(),
                        agent_idx: agent_idx as u32,
                        piece_idx: piece_idx as u32,
                    });
                    let first = bucket_of(horizon, piece.interval.start());
                    let last = bucket_of(horizon, piece.interval.end() - SignedDuration::from_nanos(1));
                    for bucket in buckets.iter_mut().take(last + 1).skip(first) {
                        bucket.push(stretch_idx);
                    }
                }
            }
            for bucket in &mut buckets {
                bucket.shrink_to_fit();
            }
            classes.push(ClassTimelines { indexes: per_severity, eligible, stretches, buckets });
        }
        let agent_ids = agent_rosters.iter().map(|agent_roster| agent_roster.agent.agent_id.clone()).collect();
        StaffedTimelines { horizon: Some(horizon), agent_ids, pieces, classes }
    }

    /// Whether one of the agent's shift pieces that `counts` contains `at`: the agent is on
    /// duty then. `None` when the horizon does not hold `at` or the agent is not in the
    /// timelines at `agent_idx` (its position in the roster the timelines were built from); the
    /// caller then expands the agent's shifts itself.
    pub fn on_duty_at(
        &self,
        (agent_idx, agent_id): (usize, &str),
        at: Instant,
        counts: impl Fn(&ShiftPiece) -> bool,
    ) -> Option<bool> {
        // Pieces are clipped to the horizon, so any instant inside it is answered.
        if !self.horizon.is_some_and(|horizon| horizon.contains(at)) {
            return None;
        }
        if self.agent_ids.get(agent_idx).is_none_or(|id| id.as_str() != agent_id) {
            return None;
        }
        Some(self.pieces[agent_idx].iter().any(|piece| piece.interval.contains(at) && counts(piece)))
    }

    /// Whether `range` lies inside the precomputed horizon.
    pub fn covers(&self, range: Interval) -> bool {
        self.horizon.is_some_and(|horizon| horizon.start() <= range.start() && range.end() <= horizon.end())
    }

    pub fn horizon(&self) -> Option<Interval> {
        self.horizon
    }

    pub fn index(&self, class: EligibilityClass, severity: Severity) -> &StaffingIndex {
        &self.classes[class.index()].indexes[severity as usize]
    }

    /// The agents (indexes in snapshot order) with an eligible piece containing `at`.
    pub fn agents_at(&self, class: EligibilityClass, at: Instant) -> Vec<usize> {
        let Some(horizon) = self.horizon.filter(|horizon| horizon.contains(at)) else { return Vec::new() };
        let timelines = &self.classes[class.index()];
        let at_us = at.as_microsecond();
        let mut agents: Vec<usize> = timelines.buckets[bucket_of(horizon, at)]
            .iter()
            .map(|stretch_idx| &timelines.stretches[*stretch_idx as usize])
            .filter(|stretch| stretch.start_us <= at_us && at_us < stretch.end_us)
            .map(|stretch| stretch.agent_idx as usize)
            .collect();
        agents.sort_unstable();
        agents.dedup();
        agents
    }

    pub fn agent_id(&self, agent_idx: usize) -> &str {
        self.agent_ids[agent_idx].as_str()
    }

    /// The agent's pieces within the horizon, judged for the class, for following a stretch on.
    pub fn agent_pieces(&self, class: EligibilityClass, agent_idx: usize) -> Vec<ShiftPiece> {
        with_eligibility(&self.pieces[agent_idx], &self.classes[class.index()].eligible[agent_idx])
    }
}

/// Pieces with the eligibility of one class.
fn with_eligibility(pieces: &[ShiftPiece], eligible: &[bool]) -> Vec<ShiftPiece> {
    pieces.iter().zip(eligible).map(|(piece, eligible)| ShiftPiece { eligible: *eligible, ..*piece }).collect()
}

fn bucket_of(horizon: Interval, at: Instant) -> usize {
    (at.duration_since(horizon.start()).as_secs().max(0) / BUCKET.as_secs()) as usize
}

#[cfg(test)]
mod tests;

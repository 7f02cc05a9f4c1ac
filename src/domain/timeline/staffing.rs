//! The staffing counts of the timelines: the bucket grid of a horizon, and per class and
//! severity a step function cut into its buckets, which changes copy one bucket at a time.

use std::sync::Arc;

use jiff::SignedDuration;

use super::{HORIZON_AHEAD, HORIZON_BACK};
use crate::domain::interval::Interval;
use crate::domain::time::Instant;

/// The horizon is cut into buckets of this length, aligned on the Unix epoch: long enough that a
/// shift spans few, short enough that a change copies little.
const BUCKET: SignedDuration = SignedDuration::from_hours(6);
pub(super) const BUCKET_US: i64 = BUCKET.as_micros() as i64;
/// A bucket's pending changes are summed (equal instants folded) once they grow past this, so a
/// full build holds about as many changes as there are distinct instants, not one per shift.
const FOLD_PENDING_AT: usize = 4_096;

/// The interval between two held instants, in microseconds.
pub(super) fn interval_us(start_us: i64, end_us: i64) -> Interval {
    Interval::new(
        Instant::from_microsecond(start_us).expect("held instants are valid"),
        Instant::from_microsecond(end_us).expect("held instants are valid"),
    )
    .expect("held pieces are not empty")
}

/// The bucket grid of one horizon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Grid {
    pub(super) start_us: i64,
    pub(super) n_buckets: usize,
}

impl Grid {
    /// The grid around `built_at`: whole buckets from at least `HORIZON_BACK` before it to at
    /// least `HORIZON_AHEAD` after it.
    pub(super) fn around(built_at: Instant) -> Grid {
        let earliest = built_at.saturating_sub(HORIZON_BACK).expect("saturates").as_microsecond();
        let latest = built_at.saturating_add(HORIZON_AHEAD).expect("saturates").as_microsecond();
        let start_us = earliest.div_euclid(BUCKET_US) * BUCKET_US;
        let n_buckets = (latest - start_us).div_euclid(BUCKET_US) as usize + 1;
        Grid { start_us, n_buckets }
    }

    pub(super) fn end_us(self) -> i64 {
        self.start_us + self.n_buckets as i64 * BUCKET_US
    }

    pub(super) fn horizon(self) -> Interval {
        interval_us(self.start_us, self.end_us())
    }

    pub(super) fn bucket_start_us(self, bucket_idx: usize) -> i64 {
        self.start_us + bucket_idx as i64 * BUCKET_US
    }

    /// The bucket holding `at_us`, which lies inside the horizon.
    pub(super) fn bucket_of(self, at_us: i64) -> usize {
        ((at_us - self.start_us) / BUCKET_US) as usize
    }

    /// The buckets `[start_us, end_us)` overlaps, once clipped to the horizon.
    pub(super) fn buckets_of(self, start_us: i64, end_us: i64) -> std::ops::Range<usize> {
        let (start_us, end_us) = (start_us.max(self.start_us), end_us.min(self.end_us()));
        if start_us >= end_us {
            return 0..0;
        }
        self.bucket_of(start_us)..self.bucket_of(end_us - 1) + 1
    }
}

/// Part of a step function: from `starts[i]` to the next start (or the bucket's end), `counts[i]`
/// distinct eligible agents. `starts[0]` is the bucket's start; no two neighbours have the same
/// count, so two buckets that count the same are equal however they were reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct StepBucket {
    starts: Vec<i64>,
    counts: Vec<u32>,
}

impl StepBucket {
    pub(super) fn empty(start_us: i64) -> StepBucket {
        StepBucket { starts: vec![start_us], counts: vec![0] }
    }

    /// This bucket with `changes` ((instant, +1 or -1) from that instant on) added.
    pub(super) fn with_changes(&self, changes: &mut [(i64, i32)]) -> StepBucket {
        changes.sort_unstable();
        let (mut starts, mut counts) = (Vec::with_capacity(self.starts.len()), Vec::with_capacity(self.starts.len()));
        let (mut step_idx, mut change_idx) = (0, 0);
        let (mut base, mut added): (i64, i64) = (0, 0);
        loop {
            let at = match (self.starts.get(step_idx), changes.get(change_idx)) {
                (Some(step), Some((change, _))) => (*step).min(*change),
                (Some(step), None) => *step,
                (None, Some((change, _))) => *change,
                (None, None) => break,
            };
            while self.starts.get(step_idx) == Some(&at) {
                base = i64::from(self.counts[step_idx]);
                step_idx += 1;
            }
            while changes.get(change_idx).is_some_and(|(change, _)| *change == at) {
                added += i64::from(changes[change_idx].1);
                change_idx += 1;
            }
            let count = (base + added).max(0) as u32;
            if counts.last() != Some(&count) {
                starts.push(at);
                counts.push(count);
            }
        }
        starts.shrink_to_fit();
        counts.shrink_to_fit();
        StepBucket { starts, counts }
    }

    pub(super) fn count_at(&self, at_us: i64) -> u32 {
        match self.starts.partition_point(|start| *start <= at_us) {
            0 => 0,
            after => self.counts[after - 1],
        }
    }
}

/// Changes to one step function, gathered per bucket before any bucket is copied. Applying
/// them (`StaffingIndex::apply`) visits only the buckets they touch and leaves this empty, so
/// that one can serve every step function a write changes.
pub(super) struct PendingSteps {
    per_bucket: Vec<Vec<(i64, i32)>>,
    /// The buckets changes went to, each at least once.
    touched: Vec<usize>,
}

impl PendingSteps {
    pub(super) fn new(grid: Grid) -> PendingSteps {
        PendingSteps { per_bucket: vec![Vec::new(); grid.n_buckets], touched: Vec::new() }
    }

    /// Adds `sign` (+1 or -1) over `interval`, clipped to the horizon.
    pub(super) fn add(&mut self, grid: Grid, interval: Interval, sign: i32) {
        let (start_us, end_us) = (interval.start().as_microsecond(), interval.end().as_microsecond());
        for bucket_idx in grid.buckets_of(start_us, end_us) {
            let bucket_start = grid.bucket_start_us(bucket_idx);
            let pending = &mut self.per_bucket[bucket_idx];
            if pending.is_empty() {
                self.touched.push(bucket_idx);
            }
            pending.push((start_us.max(bucket_start), sign));
            if end_us < bucket_start + BUCKET_US {
                pending.push((end_us, -sign));
            }
            if pending.len() >= FOLD_PENDING_AT {
                fold(pending);
            }
        }
    }
}

/// Sums changes at equal instants, dropping those that cancel out.
fn fold(pending: &mut Vec<(i64, i32)>) {
    pending.sort_unstable();
    pending.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1 += later.1;
        }
        same
    });
    pending.retain(|(_, change)| *change != 0);
}

/// The staffing of one eligibility class and severity: a step function over the horizon, in
/// buckets that changes copy one at a time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StaffingIndex {
    pub(super) grid_start_us: i64,
    pub(super) buckets: Vec<Arc<StepBucket>>,
}

impl StaffingIndex {
    pub(super) fn empty(grid: Grid) -> StaffingIndex {
        StaffingIndex {
            grid_start_us: grid.start_us,
            buckets: (0..grid.n_buckets)
                .map(|bucket_idx| Arc::new(StepBucket::empty(grid.bucket_start_us(bucket_idx))))
                .collect(),
        }
    }

    /// Applies `pending`, copying only the buckets whose counts it changes; returns which those
    /// are.
    pub(super) fn apply(&mut self, pending: &mut PendingSteps) -> Vec<usize> {
        let mut changed = Vec::new();
        pending.touched.sort_unstable();
        pending.touched.dedup();
        for bucket_idx in pending.touched.drain(..) {
            let changes = &mut pending.per_bucket[bucket_idx];
            // An agent written again as it was takes out what it puts back in: such a bucket
            // keeps its copy.
            fold(changes);
            if changes.is_empty() {
                continue;
            }
            self.buckets[bucket_idx] = Arc::new(self.buckets[bucket_idx].with_changes(changes));
            changes.clear();
            changed.push(bucket_idx);
        }
        changed
    }

    /// Distinct eligible agents on shift at `at`.
    pub fn count_at(&self, at: Instant) -> u32 {
        let at_us = at.as_microsecond();
        if at_us < self.grid_start_us {
            return 0;
        }
        let bucket_idx = ((at_us - self.grid_start_us) / BUCKET_US) as usize;
        self.buckets.get(bucket_idx).map_or(0, |bucket| bucket.count_at(at_us))
    }

    /// The first instant after `at` and before `until` at which the count differs from the
    /// count at `at`; `None` when it holds until `until` (or the end of the horizon, if sooner).
    pub fn next_change_after(&self, at: Instant, until: Instant) -> Option<Instant> {
        let grid = Grid { start_us: self.grid_start_us, n_buckets: self.buckets.len() };
        let (at_us, until_us) = (at.as_microsecond(), until.as_microsecond());
        let count_now = self.count_at(at);
        grid.buckets_of(at_us, until_us)
            .flat_map(|bucket_idx| {
                let bucket = &self.buckets[bucket_idx];
                bucket.starts.iter().zip(&bucket.counts)
            })
            .find(|(start, count)| **start > at_us && **start < until_us && **count != count_now)
            .map(|(start, _)| Instant::from_microsecond(*start).expect("held instants are valid"))
    }

    /// The staffed stretches (count above zero) overlapping `range`, merged and clipped to it.
    pub fn staffed_within(&self, range: Interval) -> Vec<Interval> {
        let grid = Grid { start_us: self.grid_start_us, n_buckets: self.buckets.len() };
        let (range_start, range_end) = (range.start().as_microsecond(), range.end().as_microsecond());
        let mut staffed: Vec<(i64, i64)> = Vec::new();
        for bucket_idx in grid.buckets_of(range_start, range_end) {
            let bucket = &self.buckets[bucket_idx];
            let bucket_end = grid.bucket_start_us(bucket_idx) + BUCKET_US;
            for (step_idx, (start, count)) in bucket.starts.iter().zip(&bucket.counts).enumerate() {
                if *count == 0 {
                    continue;
                }
                let end = bucket.starts.get(step_idx + 1).copied().unwrap_or(bucket_end);
                let (start, end) = ((*start).max(range_start), end.min(range_end));
                if start >= end {
                    continue;
                }
                match staffed.last_mut() {
                    Some(last) if last.1 == start => last.1 = end,
                    _ => staffed.push((start, end)),
                }
            }
        }
        staffed.into_iter().map(|(start, end)| interval_us(start, end)).collect()
    }
}

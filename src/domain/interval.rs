//! Half-open intervals of instants, `[start, end)`, and the few set operations coverage needs.

use super::time::Instant;

/// A half-open interval `[start, end)`. Never empty when built through [`Interval::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub start: Instant,
    pub end: Instant,
}

impl Interval {
    /// `None` when `end` is not after `start`.
    pub fn new(start: Instant, end: Instant) -> Option<Interval> {
        (start < end).then_some(Interval { start, end })
    }

    pub fn contains(&self, instant: Instant) -> bool {
        self.start <= instant && instant < self.end
    }

    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn intersection(&self, other: &Interval) -> Option<Interval> {
        Interval::new(self.start.max(other.start), self.end.min(other.end))
    }

    pub fn duration_secs(&self) -> i64 {
        self.end.as_second() - self.start.as_second()
    }
}

/// Sorts and merges intervals that overlap or touch, so no instant is counted twice.
pub fn merge(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_unstable();
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        match merged.last_mut() {
            Some(last) if interval.start <= last.end => last.end = last.end.max(interval.end),
            _ => merged.push(interval),
        }
    }
    merged
}

/// `intervals` minus `removed`; both sorted and merged, the result too.
pub fn subtract(intervals: &[Interval], removed: &[Interval]) -> Vec<Interval> {
    let mut result = Vec::with_capacity(intervals.len());
    let mut removed_idx = 0;
    for interval in intervals {
        let mut cursor = interval.start;
        while removed_idx < removed.len() && removed[removed_idx].end <= cursor {
            removed_idx += 1;
        }
        let mut probe_idx = removed_idx;
        while probe_idx < removed.len() && removed[probe_idx].start < interval.end {
            let cut = removed[probe_idx];
            if cut.start > cursor {
                result.push(Interval { start: cursor, end: cut.start });
            }
            cursor = cursor.max(cut.end);
            probe_idx += 1;
        }
        if cursor < interval.end {
            result.push(Interval { start: cursor, end: interval.end });
        }
    }
    result
}

/// The intersection of two sorted, merged lists.
pub fn intersect(left: &[Interval], right: &[Interval]) -> Vec<Interval> {
    let (mut left_idx, mut right_idx) = (0, 0);
    let mut result = Vec::new();
    while left_idx < left.len() && right_idx < right.len() {
        if let Some(common) = left[left_idx].intersection(&right[right_idx]) {
            result.push(common);
        }
        if left[left_idx].end <= right[right_idx].end {
            left_idx += 1;
        } else {
            right_idx += 1;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(second: i64) -> Instant {
        Instant::from_second(second).unwrap()
    }

    fn iv(start: i64, end: i64) -> Interval {
        Interval::new(at(start), at(end)).unwrap()
    }

    fn covered(intervals: &[Interval], second: i64) -> bool {
        intervals.iter().any(|interval| interval.contains(at(second)))
    }

    #[test]
    fn merging_joins_touching_and_overlapping_intervals() {
        assert_eq!(merge(vec![iv(5, 8), iv(0, 2), iv(2, 4), iv(7, 9)]), vec![iv(0, 4), iv(5, 9)]);
    }

    #[test]
    fn subtracting_cuts_holes_and_trims_ends() {
        assert_eq!(subtract(&[iv(0, 10)], &[iv(2, 3), iv(8, 12)]), vec![iv(0, 2), iv(3, 8)]);
        assert_eq!(subtract(&[iv(0, 10)], &[iv(-5, 20)]), vec![]);
    }

    fn arbitrary_intervals() -> impl Strategy<Value = Vec<Interval>> {
        prop::collection::vec((0i64..100, 1i64..20), 0..8)
            .prop_map(|pairs| merge(pairs.into_iter().map(|(start, len)| iv(start, start + len)).collect()))
    }

    proptest! {
        #[test]
        fn set_operations_agree_with_pointwise_membership(left in arbitrary_intervals(), right in arbitrary_intervals()) {
            let difference = subtract(&left, &right);
            let common = intersect(&left, &right);
            for second in -1..125 {
                let (in_left, in_right) = (covered(&left, second), covered(&right, second));
                prop_assert_eq!(covered(&difference, second), in_left && !in_right);
                prop_assert_eq!(covered(&common, second), in_left && in_right);
            }
        }
    }
}

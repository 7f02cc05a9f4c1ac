//! Half-open intervals of instants, `[start, end)`, and the few set operations coverage needs.

use jiff::SignedDuration;

use super::time::Instant;

/// Why a question's window after its instant is never empty: callers take question instants
/// from 1970 up to 2200 (checked where they arrive), years before the end of time.
pub const QUESTIONS_END_BEFORE_THE_END_OF_TIME: &str = "a question's instant lies years before the end of time";

/// A half-open interval `[start, end)`, never empty: its fields are private, so every interval
/// comes from [`Interval::new`] or an operation on intervals that keeps `start < end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    start: Instant,
    end: Instant,
}

impl Interval {
    /// `None` when `end` is not after `start`.
    pub fn new(start: Instant, end: Instant) -> Option<Interval> {
        (start < end).then_some(Interval { start, end })
    }

    /// The `length` from `start` on; `None` when it is empty: a length not above zero, or a
    /// start at the end of time, after which nothing follows.
    pub fn following(start: Instant, length: SignedDuration) -> Option<Interval> {
        Interval::new(start, start.saturating_add(length).ok()?)
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn end(&self) -> Instant {
        self.end
    }

    /// The smallest interval holding both: for joining a stretch to the one it follows.
    pub fn hull(&self, other: &Interval) -> Interval {
        Interval { start: self.start.min(other.start), end: self.end.max(other.end) }
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

    #[test]
    fn an_interval_is_built_only_when_it_is_not_empty() {
        let cases = [
            (at(0), at(1), Some((0, 1))),
            (at(1), at(1), None),
            (at(2), at(1), None),
            (Instant::MAX, Instant::MAX, None),
        ];
        for (start, end, expected) in cases {
            let expected = expected.map(|(start, end)| (at(start), at(end)));
            let built = Interval::new(start, end).map(|interval| (interval.start(), interval.end()));
            assert_eq!(built, expected, "{start} .. {end}");
        }
    }

    #[test]
    fn the_length_following_an_instant_is_empty_only_at_the_end_of_time_or_without_length() {
        let cases = [
            (at(10), SignedDuration::from_secs(5), Some(iv(10, 15))),
            (at(10), SignedDuration::ZERO, None),
            (at(10), SignedDuration::from_secs(-5), None),
            (Instant::MAX, SignedDuration::from_secs(1), None),
        ];
        for (start, length, expected) in cases {
            assert_eq!(Interval::following(start, length), expected, "{start} + {length:?}");
        }
    }

    #[test]
    fn the_hull_of_two_intervals_holds_both() {
        let cases = [(iv(0, 2), iv(2, 5), iv(0, 5)), (iv(3, 4), iv(0, 1), iv(0, 4)), (iv(0, 9), iv(2, 3), iv(0, 9))];
        for (left, right, expected) in cases {
            assert_eq!(left.hull(&right), expected, "{left:?} {right:?}");
        }
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

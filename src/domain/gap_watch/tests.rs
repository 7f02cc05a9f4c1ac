//! The forward watch's next look against the views themselves: nothing a watch reports (a gap
//! starting, ending, coming into view, or the window moving on) happens before it.

use proptest::prelude::*;

use super::*;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::fixtures::{
    at_minute, eea_only_org_snapshot, instant, one_off, random_roster, random_roster_snapshot,
};

fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

#[test]
fn a_gap_in_progress_keeps_its_start_and_the_next_look_is_its_end() {
    // Sev1 around the clock: an Irish agent on shift 08:00-20:00 UTC on 7 and 8 December 2026.
    let snapshot = eea_only_org_snapshot(
        HolidayCalendar::None,
        vec![
            one_off("d7", "ie-1", "2026-12-07T08:00:00Z", "2026-12-07T20:00:00Z"),
            one_off("d8", "ie-1", "2026-12-08T08:00:00Z", "2026-12-08T20:00:00Z"),
        ],
    );
    let requirement =
        GapRequirement { plan: PlanKind::EeaOnly, eea_tagged: true, severity: Severity::Sev1, min_staff: 1 };
    let view = view_gaps(&snapshot, &requirement, instant("2026-12-07T22:00:00Z"), hours(6), Parallelism::SEQUENTIAL);
    let intervals: Vec<(Instant, Instant)> =
        view.gaps.iter().map(|gap| (gap.interval.start(), gap.interval.end())).collect();
    assert_eq!(intervals, vec![(instant("2026-12-07T20:00:00Z"), instant("2026-12-08T08:00:00Z"))]);
    assert_eq!(view.recheck_at, instant("2026-12-08T00:00:00Z"), "midnight UTC comes before the gap's end");
    let later = view_gaps(&snapshot, &requirement, instant("2026-12-08T01:00:00Z"), hours(6), Parallelism::SEQUENTIAL);
    assert_eq!(later.gaps, view.gaps, "the same gap, whole, after the window moved on");
    assert_eq!(later.recheck_at, instant("2026-12-08T08:00:00Z"));
    // From 02:00 the evening gap of the 8th (from 20:00) is within 18 hours.
    let far = view_gaps(&snapshot, &requirement, instant("2026-12-08T01:00:00Z"), hours(18), Parallelism::SEQUENTIAL);
    assert_eq!(far.gaps.len(), 1);
    assert_eq!(far.recheck_at, instant("2026-12-08T02:00:00.000001Z"));
}

#[test]
fn a_gap_cut_by_the_end_of_the_window_is_looked_at_again_when_the_window_reaches_further() {
    // Nobody on shift: one Sev1 gap from the window's start to its end.
    let snapshot = eea_only_org_snapshot(HolidayCalendar::None, vec![]);
    let requirement =
        GapRequirement { plan: PlanKind::EeaOnly, eea_tagged: true, severity: Severity::Sev1, min_staff: 1 };
    let view = view_gaps(&snapshot, &requirement, instant("2026-12-07T10:00:00Z"), hours(3), Parallelism::SEQUENTIAL);
    assert_eq!(view.gaps[0].interval.end(), instant("2026-12-09T00:00:00Z"));
    // 21:00 + 3 hours + a day reaches midnight on the 9th: the window then ends on the 10th.
    assert_eq!(view.recheck_at, instant("2026-12-07T21:00:00Z"));
    let later = view_gaps(&snapshot, &requirement, view.recheck_at, hours(3), Parallelism::SEQUENTIAL);
    assert_eq!(later.gaps[0].interval.end(), instant("2026-12-10T00:00:00Z"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Between a look and the next one the view holds the same gaps, none of which starts.
    #[test]
    fn nothing_a_gap_watch_reports_happens_before_its_next_look(
        roster in random_roster(),
        questions in prop::collection::vec((0usize..3, 0usize..4, 1u32..3, -2 * 1440i64..(14 * 1440), 1i64..96, 0u64..1000), 1..4),
    ) {
        let snapshot = random_roster_snapshot(&roster);
        for (plan_idx, severity_idx, min_staff, minute, look_ahead_hours, seed) in questions {
            let (plan, eea_tagged) = [(PlanKind::EeaOnly, true), (PlanKind::Standard, true), (PlanKind::Standard, false)][plan_idx];
            let requirement = GapRequirement { plan, eea_tagged, severity: Severity::ALL[severity_idx], min_staff };
            let now = at_minute(minute) + SignedDuration::from_secs(17);
            let look_ahead = hours(look_ahead_hours);
            let view = view_gaps(&snapshot, &requirement, now, look_ahead, Parallelism::SEQUENTIAL);
            prop_assert!(view.recheck_at > now);
            // Asked together, the four severities share a report and get the views they get alone.
            let together: Vec<GapRequirement> =
                Severity::ALL.iter().map(|severity| GapRequirement { severity: *severity, ..requirement }).collect();
            let views = view_gaps_together(&snapshot, &together, now, look_ahead, Parallelism::SEQUENTIAL);
            prop_assert_eq!(&views[severity_idx], &view);
            prop_assert_eq!(views.len(), 4);
            let span = (view.recheck_at - now).as_micros() as u64;
            let mut probes: Vec<Instant> = (0..4)
                .map(|probe_idx| now + SignedDuration::from_micros(((seed * 7919 + probe_idx * 104_729) % span.max(1)) as i64))
                .collect();
            probes.push(view.recheck_at - SignedDuration::from_micros(1));
            // Every whole hour before the next look (the window's ends move on whole hours).
            let first_hour = now.as_second().div_euclid(3600) + 1;
            probes.extend((0..48).map(|hour| Instant::from_second((first_hour + hour) * 3600).unwrap()).filter(|probe| *probe < view.recheck_at));
            for probe in probes.into_iter().filter(|probe| *probe > now) {
                let later = view_gaps(&snapshot, &requirement, probe, look_ahead, Parallelism::SEQUENTIAL);
                prop_assert_eq!(&later.gaps, &view.gaps, "the view changed at {} before the look at {}", probe, view.recheck_at);
                for gap in &view.gaps {
                    prop_assert_eq!(gap.interval.start() <= probe, gap.interval.start() <= now, "a gap started at {}", gap.interval.start());
                }
            }
        }
    }
}

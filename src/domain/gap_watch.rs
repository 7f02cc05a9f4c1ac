//! The managers' forward watch (`WatchGaps`): the gaps of a requirement that overlap a
//! look-ahead from now, each whole, and the next instant at which that view can change while the
//! roster stays as it is: a gap starts or ends, or one comes within the look-ahead.

use jiff::SignedDuration;

use super::coverage::{coverage_report, CoverageQuestion, Gap, RequirementCoverage};
use super::interval::Interval;
use super::parallel::Parallelism;
use super::policy::{PlanKind, Severity};
use super::snapshot::Snapshot;
use super::time::Instant;

/// Gaps are worked out from a day before the look-ahead's start to a day after its end, both
/// rounded out to whole UTC days: a gap is reported whole as far as that reaches, and its ends
/// do not move as the look-ahead slides, only when the window moves on at midnight UTC.
const REACH_AROUND_VIEW: SignedDuration = SignedDuration::from_hours(24);
const DAY_SECONDS: i64 = 24 * 3600;

/// What a manager watches: one severity under a plan (and EEA tag), and the headcount it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GapRequirement {
    pub plan: PlanKind,
    /// Matters for STANDARD only.
    pub eea_tagged: bool,
    pub severity: Severity,
    pub min_staff: u32,
}

/// The gaps overlapping the look-ahead, and when the view can next change.
#[derive(Clone, Debug, PartialEq)]
pub struct GapView {
    pub gaps: Vec<Gap>,
    pub recheck_at: Instant,
}

/// The whole-day window gaps are worked out over for a look-ahead of `look_ahead` from `now`.
fn window_around(now: Instant, look_ahead: SignedDuration) -> Interval {
    let floor_day = |instant: Instant| {
        Instant::from_second(instant.as_second().div_euclid(DAY_SECONDS) * DAY_SECONDS).expect("a day start")
    };
    let start = floor_day(now.saturating_sub(REACH_AROUND_VIEW).expect("saturates"));
    let end = floor_day(now.saturating_add(look_ahead + REACH_AROUND_VIEW).expect("saturates"))
        + SignedDuration::from_secs(DAY_SECONDS);
    Interval::new(start, end).expect("a window of whole days")
}

/// The requirement's gaps that overlap `[now, now + look_ahead)`, each as it stands in the
/// whole-day window around it (so a gap that began before `now` keeps its start), and the first
/// instant after `now` at which a gap of that window starts, ends or comes within the
/// look-ahead, or the window moves on (either of its ends reaches the next midnight UTC).
pub fn view_gaps(
    snapshot: &Snapshot,
    requirement: &GapRequirement,
    now: Instant,
    look_ahead: SignedDuration,
    parallelism: Parallelism,
) -> GapView {
    view_gaps_together(snapshot, std::slice::from_ref(requirement), now, look_ahead, parallelism)
        .pop()
        .expect("one view per requirement")
}

/// `view_gaps` for each of `requirements`, in their order; those that differ only in severity
/// share one coverage report, which covers every severity of a plan at once.
pub fn view_gaps_together(
    snapshot: &Snapshot,
    requirements: &[GapRequirement],
    now: Instant,
    look_ahead: SignedDuration,
    parallelism: Parallelism,
) -> Vec<GapView> {
    let window = window_around(now, look_ahead);
    let mut reports: Vec<(GapRequirement, Vec<RequirementCoverage>)> = Vec::new();
    requirements
        .iter()
        .map(|requirement| {
            let shares_report = |(asked, _): &&(GapRequirement, Vec<RequirementCoverage>)| {
                (asked.plan, asked.eea_tagged, asked.min_staff.max(1))
                    == (requirement.plan, requirement.eea_tagged, requirement.min_staff.max(1))
            };
            let report_idx = match reports.iter().position(|report| shares_report(&report)) {
                Some(report_idx) => report_idx,
                None => {
                    let question = CoverageQuestion {
                        plan: requirement.plan,
                        eea_tagged: requirement.eea_tagged,
                        window,
                        min_staff: requirement.min_staff.max(1),
                    };
                    reports.push((*requirement, coverage_report(snapshot, &question, parallelism)));
                    reports.len() - 1
                }
            };
            let gaps = reports[report_idx]
                .1
                .iter()
                .find(|coverage| coverage.severity == requirement.severity)
                .map(|coverage| coverage.gaps.clone())
                .unwrap_or_default();
            view_of(gaps, now, look_ahead)
        })
        .collect()
}

/// The gaps of the window that overlap the look-ahead, and when the view can next change.
fn view_of(all: Vec<Gap>, now: Instant, look_ahead: SignedDuration) -> GapView {
    let view_end = now + look_ahead;
    // The window moves on when either of its ends would: its start at the next midnight after
    // `now - reach`, its end at the next one after `now + look_ahead + reach`.
    let next_midnight_after = |instant: Instant| {
        Instant::from_second((instant.as_second().div_euclid(DAY_SECONDS) + 1) * DAY_SECONDS).expect("a day start")
    };
    let start_moves = next_midnight_after(now - REACH_AROUND_VIEW) + REACH_AROUND_VIEW;
    let end_moves = next_midnight_after(view_end + REACH_AROUND_VIEW) - REACH_AROUND_VIEW - look_ahead;
    let mut recheck_at = start_moves.min(end_moves);
    for gap in &all {
        let (start, end) = (gap.interval.start(), gap.interval.end());
        for boundary in [start, end] {
            if boundary > now {
                recheck_at = recheck_at.min(boundary);
            }
        }
        // Within the look-ahead from just after `start - look_ahead`.
        if start >= view_end {
            recheck_at = recheck_at.min(start - look_ahead + SignedDuration::from_micros(1));
        }
    }
    let gaps = all.into_iter().filter(|gap| gap.interval.end() > now && gap.interval.start() < view_end).collect();
    GapView { gaps, recheck_at }
}

#[cfg(test)]
mod tests;

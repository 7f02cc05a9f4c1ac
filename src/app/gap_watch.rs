//! The managers' forward watch (`WatchGaps`): the gaps of chosen requirements within a look-ahead,
//! the current ones first, then each one opened or closed by a write, started or ended as time
//! passes, or come within the look-ahead.

use jiff::SignedDuration;

use super::watch::{InForce, SnapshotFollower, WindowCause};
use super::{App, AppError};
use crate::clock::WallClock;
use crate::domain::coverage::Gap;
use crate::domain::gap_watch::{view_gaps_together, GapRequirement, GapView};
use crate::domain::parallel::Parallelism;
use crate::domain::snapshot::Snapshot;
use crate::domain::time::Instant;

/// What happened to a gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapEventKind {
    /// A gap within the look-ahead as the watch starts.
    Current,
    /// A gap that is new: a write opened it, or time brought it within the look-ahead.
    Opened,
    /// A gap that is no more before its end: a write closed it (or changed it, and the changed
    /// gap is opened).
    Closed,
    Started,
    Ended,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GapEvent {
    pub requirement_idx: usize,
    pub kind: GapEventKind,
    pub cause: WindowCause,
    pub gap: Gap,
    pub roster_version: i64,
    pub at: Instant,
}

/// One requirement's gaps as last reported, each with whether it has started.
struct Tracked {
    requirement: GapRequirement,
    gaps: Vec<(Gap, bool)>,
    recheck_at: Instant,
}

/// The requirements of one `WatchGaps` call.
pub struct GapWatch {
    tracked: Vec<Tracked>,
    look_ahead: SignedDuration,
    follower: SnapshotFollower,
}

/// Each requirement's view at `at`, worked out off the async runtime (a view runs a coverage
/// report over a few days, shared by requirements that differ only in severity).
async fn views(
    snapshot: std::sync::Arc<Snapshot>,
    requirements: Vec<(usize, GapRequirement)>,
    at: Instant,
    look_ahead: SignedDuration,
) -> Result<Vec<(usize, GapView)>, AppError> {
    tokio::task::spawn_blocking(move || {
        let (indices, requirements): (Vec<usize>, Vec<GapRequirement>) = requirements.into_iter().unzip();
        let views = view_gaps_together(&snapshot, &requirements, at, look_ahead, Parallelism::SEQUENTIAL);
        indices.into_iter().zip(views).collect()
    })
    .await
    .map_err(|error| AppError::internal(format!("gap watch task failed: {error}")))
}

/// One requirement's gaps as some earlier look saw them, each with whether it had started, and
/// the roster version of that look: where a watch that carries on from it (the gap webhook under
/// a new leader) starts.
pub struct EarlierGaps {
    pub gaps: Vec<(Gap, bool)>,
    pub roster_version: i64,
}

impl App {
    /// Starts a gap watch: the gaps within `look_ahead` from now of each requirement.
    pub async fn watch_gaps(
        &self,
        requirements: Vec<GapRequirement>,
        look_ahead: SignedDuration,
        clock: WallClock,
    ) -> Result<(GapWatch, Vec<GapEvent>), AppError> {
        let earlier = requirements.iter().map(|_| None).collect();
        self.resume_gap_watch(requirements, earlier, look_ahead, clock).await
    }

    /// Starts a gap watch that carries on from what an earlier look saw: a requirement with
    /// earlier gaps gets the events that lead from them to its gaps now (with the cause
    /// ROSTER_CHANGED when the roster version moved since, TIME_PASSED when it did not), one
    /// without gets one CURRENT event per gap.
    pub async fn resume_gap_watch(
        &self,
        requirements: Vec<GapRequirement>,
        earlier: Vec<Option<EarlierGaps>>,
        look_ahead: SignedDuration,
        clock: WallClock,
    ) -> Result<(GapWatch, Vec<GapEvent>), AppError> {
        let (follower, InForce { snapshot, version }) = SnapshotFollower::new(self, clock);
        let at = follower.now();
        let asked = requirements.iter().copied().enumerate().collect();
        let mut events = Vec::new();
        let mut tracked = Vec::with_capacity(requirements.len());
        for (((requirement_idx, view), requirement), earlier) in
            views(snapshot, asked, at, look_ahead).await?.into_iter().zip(requirements).zip(earlier)
        {
            let gaps = match earlier {
                Some(earlier) => {
                    let cause = if earlier.roster_version == version {
                        WindowCause::TimePassed
                    } else {
                        WindowCause::RosterChanged
                    };
                    let mut event = |kind, cause, gap| {
                        events.push(GapEvent { requirement_idx, kind, cause, gap, roster_version: version, at });
                    };
                    changes_since(&earlier.gaps, view.gaps, at, cause, &mut event)
                }
                None => {
                    let gaps = view.gaps.into_iter().map(|gap| (gap, gap.interval.start() <= at)).collect::<Vec<_>>();
                    events.extend(gaps.iter().map(|(gap, _)| GapEvent {
                        requirement_idx,
                        kind: GapEventKind::Current,
                        cause: WindowCause::CurrentState,
                        gap: *gap,
                        roster_version: version,
                        at,
                    }));
                    gaps
                }
            };
            tracked.push(Tracked { requirement, gaps, recheck_at: view.recheck_at });
        }
        Ok((GapWatch { tracked, look_ahead, follower }, events))
    }
}

/// The events that lead from `known` (gaps as last reported, each with whether it had started)
/// to `now_gaps` at `at`, given to `event` as (kind, cause, gap); `cause` is that of the gaps a
/// write or the look-ahead opened or closed. Answers the gaps now, each with whether it has
/// started.
fn changes_since(
    known: &[(Gap, bool)],
    now_gaps: Vec<Gap>,
    at: Instant,
    cause: WindowCause,
    event: &mut impl FnMut(GapEventKind, WindowCause, Gap),
) -> Vec<(Gap, bool)> {
    for (gap, _) in known.iter().filter(|(gap, _)| !now_gaps.contains(gap)) {
        if gap.interval.end() <= at {
            event(GapEventKind::Ended, WindowCause::TimePassed, *gap);
        } else {
            event(GapEventKind::Closed, cause, *gap);
        }
    }
    let mut gaps = Vec::with_capacity(now_gaps.len());
    for gap in now_gaps {
        let started_now = gap.interval.start() <= at;
        match known.iter().find(|(known, _)| *known == gap) {
            Some((_, started_before)) => {
                if started_now && !started_before {
                    event(GapEventKind::Started, WindowCause::TimePassed, gap);
                }
            }
            None => event(GapEventKind::Opened, cause, gap),
        }
        gaps.push((gap, started_now));
    }
    gaps
}

impl GapWatch {
    pub fn roster_version(&self) -> i64 {
        self.follower.roster_version()
    }

    /// Each requirement's gaps as last reported, each with whether it had started, in the
    /// order the watch was given them.
    pub fn reported_gaps(&self) -> impl Iterator<Item = &[(Gap, bool)]> {
        self.tracked.iter().map(|tracked| tracked.gaps.as_slice())
    }

    /// Waits until something happens to a gap and returns what. Cancel-safe, as a window
    /// watch's `next_updates` is.
    pub async fn next_events(&mut self) -> Result<Vec<GapEvent>, AppError> {
        loop {
            let due = self.tracked.iter().map(|tracked| tracked.recheck_at).min();
            self.follower.wait(due).await?;
            let events = self.look().await?;
            if !events.is_empty() {
                return Ok(events);
            }
        }
    }

    async fn look(&mut self) -> Result<Vec<GapEvent>, AppError> {
        let (InForce { snapshot, version }, roster_changed) = self.follower.snapshot();
        let at = self.follower.now();
        let asked = self
            .tracked
            .iter()
            .enumerate()
            .filter(|(_, tracked)| roster_changed || tracked.recheck_at <= at)
            .map(|(requirement_idx, tracked)| (requirement_idx, tracked.requirement))
            .collect();
        let looked = views(snapshot, asked, at, self.look_ahead).await?;
        self.follower.looked(version, roster_changed);
        let cause = if roster_changed { WindowCause::RosterChanged } else { WindowCause::TimePassed };
        let mut events = Vec::new();
        for (requirement_idx, view) in looked {
            let tracked = &mut self.tracked[requirement_idx];
            let mut event = |kind, cause, gap| {
                events.push(GapEvent { requirement_idx, kind, cause, gap, roster_version: version, at });
            };
            tracked.gaps = changes_since(&tracked.gaps, view.gaps, at, cause, &mut event);
            tracked.recheck_at = view.recheck_at;
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests;

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

impl App {
    /// Starts a gap watch: the gaps within `look_ahead` from now of each requirement.
    pub async fn watch_gaps(
        &self,
        requirements: Vec<GapRequirement>,
        look_ahead: SignedDuration,
        clock: WallClock,
    ) -> Result<(GapWatch, Vec<GapEvent>), AppError> {
        let (follower, InForce { snapshot, version }) = SnapshotFollower::new(self, clock);
        let at = follower.now();
        let asked = requirements.iter().copied().enumerate().collect();
        let mut events = Vec::new();
        let mut tracked = Vec::with_capacity(requirements.len());
        for ((requirement_idx, view), requirement) in
            views(snapshot, asked, at, look_ahead).await?.into_iter().zip(requirements)
        {
            let gaps = view.gaps.into_iter().map(|gap| (gap, gap.interval.start() <= at)).collect::<Vec<_>>();
            events.extend(gaps.iter().map(|(gap, _)| GapEvent {
                requirement_idx,
                kind: GapEventKind::Current,
                cause: WindowCause::CurrentState,
                gap: *gap,
                roster_version: version,
                at,
            }));
            tracked.push(Tracked { requirement, gaps, recheck_at: view.recheck_at });
        }
        Ok((GapWatch { tracked, look_ahead, follower }, events))
    }
}

impl GapWatch {
    pub fn roster_version(&self) -> i64 {
        self.follower.roster_version()
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
        let mut event = |requirement_idx, kind, cause, gap| {
            events.push(GapEvent { requirement_idx, kind, cause, gap, roster_version: version, at });
        };
        for (requirement_idx, view) in looked {
            let tracked = &mut self.tracked[requirement_idx];
            for (gap, _) in tracked.gaps.iter().filter(|(gap, _)| !view.gaps.contains(gap)) {
                if gap.interval.end() <= at {
                    event(requirement_idx, GapEventKind::Ended, WindowCause::TimePassed, *gap);
                } else {
                    event(requirement_idx, GapEventKind::Closed, cause, *gap);
                }
            }
            let mut gaps = Vec::with_capacity(view.gaps.len());
            for gap in view.gaps {
                let started_now = gap.interval.start() <= at;
                match tracked.gaps.iter().find(|(known, _)| *known == gap) {
                    Some((_, started_before)) => {
                        if started_now && !started_before {
                            event(requirement_idx, GapEventKind::Started, WindowCause::TimePassed, gap);
                        }
                    }
                    None => event(requirement_idx, GapEventKind::Opened, cause, gap),
                }
                gaps.push((gap, started_now));
            }
            tracked.gaps = gaps;
            tracked.recheck_at = view.recheck_at;
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests;

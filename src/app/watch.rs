//! Live windows (`WatchWindows`): a watch holds its subscriptions' last answers and looks again
//! when time reaches the instant one can change, or when a snapshot with other replicas' or this
//! one's writes comes into force; it reports the subscriptions whose answers changed.

use std::sync::Arc;
use std::time::Duration;

use super::error::decision_error;
use super::{App, AppError};
use crate::clock::WallClock;
use crate::domain::decision::{DecisionError, TicketDecision, TicketQuestion};
use crate::domain::policy::{Severity, TicketCategory};
use crate::domain::snapshot::Snapshot;
use crate::domain::time::Instant;
use crate::domain::watch::{
    changes_between, read_window, reads_from_timelines, WindowChange, WindowReading, WindowState,
};

/// The snapshot in force and the roster version it holds, published together.
#[derive(Clone)]
pub(super) struct InForce {
    pub(super) snapshot: Arc<Snapshot>,
    pub(super) version: i64,
}

/// The longest a watch sleeps without reading the wall clock again, so that a clock that is
/// stepped (not slewed) delays no look by more than this.
const LONGEST_SLEEP: Duration = Duration::from_secs(1);
/// The least time between two looks for new snapshots: writes that come faster are answered
/// together, so a watch costs at most five looks a second however busy the writers are, and a
/// write's change reaches the stream at most this much later.
const ROSTER_LOOK_SPACING: Duration = Duration::from_millis(200);

/// One (org, severity, category) a watch follows, with the ticket whose consents count.
#[derive(Clone, Debug)]
pub struct WindowSubscription {
    pub org_id: String,
    /// Empty when no ticket is named (then no consent counts).
    pub ticket_id: String,
    pub severity: Severity,
    pub category: TicketCategory,
}

impl WindowSubscription {
    fn question(&self, at: Instant) -> TicketQuestion<'_> {
        TicketQuestion {
            org_id: &self.org_id,
            ticket_id: &self.ticket_id,
            severity: self.severity,
            category: self.category,
            at,
        }
    }
}

/// Why a watch reports an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowCause {
    /// The first answer of each subscription, as the watch starts.
    CurrentState,
    /// Time reached a window boundary, a shift's start or end, or the like.
    TimePassed,
    /// A committed write (through any replica) changed the answer.
    RosterChanged,
}

/// A subscription's new answer and what changed in it.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowUpdate {
    pub subscription_idx: usize,
    pub cause: WindowCause,
    /// Empty for the first answer.
    pub changes: Vec<WindowChange>,
    /// The roster version the answer reflects.
    pub roster_version: i64,
    pub at: Instant,
    /// `None` while the org does not exist.
    pub decision: Option<TicketDecision>,
}

/// A subscription's last answer: its state and when to look again (`None` while the org does
/// not exist, when only a write can change the answer).
struct Followed {
    subscription: WindowSubscription,
    state: Option<WindowState>,
    recheck_at: Option<Instant>,
}

/// The subscriptions of one `WatchWindows` call.
pub struct WindowWatch {
    followed: Vec<Followed>,
    follower: SnapshotFollower,
}

/// What a watch needs to follow the snapshots in force: the channel they are published on, the
/// roster version it last looked at, its clock, and the spacing of its looks at new snapshots.
pub(super) struct SnapshotFollower {
    in_force: tokio::sync::watch::Receiver<InForce>,
    version: i64,
    clock: WallClock,
    /// A new snapshot has come into force since the last look.
    roster_look_pending: bool,
    /// When the last look at a new snapshot was taken.
    last_roster_look: tokio::time::Instant,
}

impl SnapshotFollower {
    /// Follows `app`'s snapshots from the one in force, which it returns.
    pub(super) fn new(app: &App, clock: WallClock) -> (SnapshotFollower, InForce) {
        let mut in_force = app.in_force.subscribe();
        let current = in_force.borrow_and_update().clone();
        let follower = SnapshotFollower {
            in_force,
            version: current.version,
            clock,
            roster_look_pending: false,
            last_roster_look: tokio::time::Instant::now(),
        };
        (follower, current)
    }

    pub(super) fn now(&self) -> Instant {
        (self.clock)()
    }

    pub(super) fn roster_version(&self) -> i64 {
        self.version
    }

    /// Returns once `due` has come or a new snapshot may be looked at. Cancel-safe: a new
    /// snapshot seen stays to be looked at.
    pub(super) async fn wait(&mut self, due: Option<Instant>) -> Result<(), AppError> {
        loop {
            let now = self.now();
            let roster_look_in =
                self.roster_look_pending.then(|| ROSTER_LOOK_SPACING.saturating_sub(self.last_roster_look.elapsed()));
            if due.is_some_and(|due| due <= now) || roster_look_in == Some(Duration::ZERO) {
                return Ok(());
            }
            let until_due = due.map_or(LONGEST_SLEEP, |due| (due - now).unsigned_abs().min(LONGEST_SLEEP));
            let sleep = roster_look_in.map_or(until_due, |roster_look_in| roster_look_in.min(until_due));
            tokio::select! {
                changed = self.in_force.changed(), if !self.roster_look_pending => {
                    if changed.is_err() {
                        return Err(AppError::unavailable("the server is stopping"));
                    }
                    self.roster_look_pending = true;
                }
                () = tokio::time::sleep(sleep) => {}
            }
        }
    }

    /// The snapshot to look at, and whether it holds writes the last look did not.
    pub(super) fn snapshot(&mut self) -> (InForce, bool) {
        let in_force = self.in_force.borrow_and_update().clone();
        let roster_changed = in_force.version != self.version;
        (in_force, roster_changed)
    }

    /// Notes that a look at `version` is done; until then a new snapshot stays to be looked at.
    pub(super) fn looked(&mut self, version: i64, roster_changed: bool) {
        self.version = version;
        self.roster_look_pending = false;
        if roster_changed {
            self.last_roster_look = tokio::time::Instant::now();
        }
    }
}

impl App {
    /// Starts a watch: each subscription's answer now, or the first subscription's error (an
    /// org that does not exist is NOT_FOUND, `subscriptions[i].org_id`).
    pub fn watch_windows(
        &self,
        subscriptions: Vec<WindowSubscription>,
        clock: WallClock,
    ) -> Result<(WindowWatch, Vec<WindowUpdate>), AppError> {
        let (follower, InForce { snapshot, version }) = SnapshotFollower::new(self, clock);
        let at = follower.now();
        let mut followed = Vec::with_capacity(subscriptions.len());
        let mut updates = Vec::with_capacity(subscriptions.len());
        for (subscription_idx, subscription) in subscriptions.into_iter().enumerate() {
            let reading = read_window(&snapshot, &subscription.question(at)).map_err(|error| match error {
                DecisionError::UnknownOrg(id) => {
                    AppError::NotFound { entity: "org", id, field: format!("subscriptions[{subscription_idx}].org_id") }
                }
                error => decision_error(error),
            })?;
            followed.push(Followed {
                subscription,
                state: Some(WindowState::of(&reading.decision)),
                recheck_at: Some(reading.recheck_at),
            });
            updates.push(WindowUpdate {
                subscription_idx,
                cause: WindowCause::CurrentState,
                changes: Vec::new(),
                roster_version: version,
                at,
                decision: Some(reading.decision),
            });
        }
        Ok((WindowWatch { followed, follower }, updates))
    }
}

impl WindowWatch {
    /// The roster version of the last look.
    pub fn roster_version(&self) -> i64 {
        self.follower.roster_version()
    }

    /// Waits until some subscription's answer changes and returns the new answers. Cancel-safe:
    /// dropped while waiting or looking, it loses nothing, and the next call picks up where it
    /// stood.
    pub async fn next_updates(&mut self) -> Result<Vec<WindowUpdate>, AppError> {
        loop {
            let due = self.followed.iter().filter_map(|followed| followed.recheck_at).min();
            self.follower.wait(due).await?;
            let updates = self.look().await?;
            if !updates.is_empty() {
                return Ok(updates);
            }
        }
    }

    /// Answers again every subscription that is due, or all of them when a new roster version
    /// is in force; returns those whose answers changed. Answers that expand shifts agent by
    /// agent are worked out off the async runtime. Nothing is changed until all are in.
    async fn look(&mut self) -> Result<Vec<WindowUpdate>, AppError> {
        let (InForce { snapshot, version }, roster_changed) = self.follower.snapshot();
        let at = self.follower.now();
        let asked: Vec<(usize, WindowSubscription)> = self
            .followed
            .iter()
            .enumerate()
            .filter(|(_, followed)| roster_changed || followed.recheck_at.is_some_and(|recheck_at| recheck_at <= at))
            .map(|(subscription_idx, followed)| (subscription_idx, followed.subscription.clone()))
            .collect();
        let quick = asked.iter().all(|(_, subscription)| reads_from_timelines(&snapshot, &subscription.question(at)));
        let readings = if quick {
            read_windows(&snapshot, &asked, at)
        } else {
            tokio::task::spawn_blocking(move || read_windows(&snapshot, &asked, at))
                .await
                .map_err(|error| AppError::internal(format!("window watch task failed: {error}")))?
        };
        self.follower.looked(version, roster_changed);
        let cause = if roster_changed { WindowCause::RosterChanged } else { WindowCause::TimePassed };
        let mut updates = Vec::new();
        for (subscription_idx, reading) in readings {
            let followed = &mut self.followed[subscription_idx];
            let (decision, recheck_at) = match reading {
                Ok(reading) => (Some(reading.decision), Some(reading.recheck_at)),
                Err(DecisionError::UnknownOrg(_)) => (None, None),
                Err(error) => return Err(decision_error(error)),
            };
            followed.recheck_at = recheck_at;
            let state = decision.as_ref().map(WindowState::of);
            let changes = match (&followed.state, &state) {
                (Some(before), Some(after)) => changes_between(before, after),
                (Some(_), None) => vec![WindowChange::OrgRemoved],
                (None, Some(_)) => vec![WindowChange::OrgRestored],
                (None, None) => Vec::new(),
            };
            followed.state = state;
            if !changes.is_empty() {
                updates.push(WindowUpdate { subscription_idx, cause, changes, roster_version: version, at, decision });
            }
        }
        Ok(updates)
    }
}

/// Each asked subscription's answer at `at`.
fn read_windows(
    snapshot: &Snapshot,
    asked: &[(usize, WindowSubscription)],
    at: Instant,
) -> Vec<(usize, Result<WindowReading, DecisionError>)> {
    asked
        .iter()
        .map(|(subscription_idx, subscription)| (*subscription_idx, read_window(snapshot, &subscription.question(at))))
        .collect()
}

#[cfg(test)]
pub(super) mod tests;

//! Keeping the snapshot current: after writes, this replica's and other replicas' (notified or
//! polled), the snapshot moves on by what the change log says changed, costing what those
//! agents cost; a full rebuild runs at start-up and whenever the log cannot tell. Also the
//! rolling precomputed horizon, and whether the database answers.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::error::{storage_error, RequestField};
use super::watch::InForce;
use super::{machine_parallelism, App, AppError};
use crate::clock;
use crate::domain::snapshot::Snapshot;
use crate::storage::{self, StorageError, Store, StoredChanges};

/// How often the snapshot is compared with the database when no notification arrives.
const CATCH_UP_INTERVAL: Duration = Duration::from_millis(500);
/// How long one look at the database may take before it counts as lost (a rebuild included).
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the listening connection is read for notifications.
const LISTENER_POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How often the precomputed horizon moves forward.
const HORIZON_ROLL_INTERVAL: Duration = Duration::from_secs(30 * 60);

/// What reading the change log made of the snapshot in force.
pub(super) enum Step {
    /// Nothing was committed after it.
    UpToDate,
    /// The log cannot tell what changed.
    Rebuild,
    /// Moved on to this roster version, with this many agents changed.
    Moved(Snapshot, i64, usize),
}

/// Reads what was committed after roster version `since` and moves `current`, the snapshot
/// holding `since`, on by it; on the calling thread, which is off the async runtime.
fn step_from(store: &Store, since: i64, current: &Snapshot) -> Result<Step, StorageError> {
    let stored = store.read_consistent_here(move |connection| storage::load_changes_since(connection, since))?;
    Ok(step_by(stored, since, current))
}

/// What the change log's answer (`load_changes_since(since)`) makes of `current`, the snapshot
/// holding roster version `since`.
pub(super) fn step_by(stored: Option<StoredChanges>, since: i64, current: &Snapshot) -> Step {
    match stored {
        None => Step::Rebuild,
        Some(stored) if stored.version <= since => Step::UpToDate,
        Some(stored) => {
            let (version, n_agents) = (stored.version, stored.changes.agents.len());
            Step::Moved(current.with_changes(stored.changes, machine_parallelism()), version, n_agents)
        }
    }
}

impl App {
    /// Rebuilds the snapshot, with its precomputed timelines, from one consistent read of the
    /// database. The build runs off the async runtime; readers keep the old snapshot meanwhile.
    pub async fn refresh(&self) -> Result<(), AppError> {
        let _refreshing = self.refresh_lock.lock().await;
        self.rebuild().await
    }

    /// Returns once the snapshot in force holds every write up to roster version `version`:
    /// at once when it already does, or after a catch-up, its own or one that another caller
    /// started after `version` was committed. Writers waiting together share one catch-up.
    pub(super) async fn refresh_covering(&self, version: i64) -> Result<(), AppError> {
        if self.loaded_version.load(Ordering::SeqCst) >= version {
            return Ok(());
        }
        let _refreshing = self.refresh_lock.lock().await;
        // The catch-up that held the lock may have read this version already.
        if self.loaded_version.load(Ordering::SeqCst) >= version {
            return Ok(());
        }
        self.advance().await
    }

    /// The highest roster version this replica's writers have committed.
    pub(super) fn note_committed(&self, version: i64) {
        self.committed_version.fetch_max(version, Ordering::SeqCst);
    }

    /// Returns once the snapshot in force holds every write this replica has committed; for
    /// a writer holding the write lock, which needs the state before its own change.
    pub(super) async fn refresh_covering_own_writes(&self) -> Result<(), AppError> {
        self.refresh_covering(self.committed_version.load(Ordering::SeqCst)).await
    }

    /// Moves the snapshot on to the newest committed version by what changed since the one it
    /// holds, as the change log names it; rebuilds it from scratch when the log cannot tell.
    /// For callers that hold the refresh lock.
    async fn advance(&self) -> Result<(), AppError> {
        let since = self.loaded_version.load(Ordering::SeqCst);
        if since < 0 {
            return self.rebuild().await;
        }
        let (store, current) = (self.store.clone(), self.snapshot());
        let started = std::time::Instant::now();
        let step = tokio::task::spawn_blocking(move || step_from(&store, since, &current))
            .await
            .map_err(|error| AppError::internal(format!("snapshot update failed: {error}")))?
            .map_err(|error| storage_error(error, RequestField::Unnamed))?;
        self.take_step(step, since, started).await
    }

    /// Puts in force what a step (`step_from`) made of the snapshot holding roster version
    /// `since`, begun at `started`; for callers that hold the refresh lock.
    pub(super) async fn take_step(&self, step: Step, since: i64, started: std::time::Instant) -> Result<(), AppError> {
        match step {
            Step::UpToDate => Ok(()),
            Step::Rebuild => {
                tracing::info!(
                    snapshot.version = since,
                    "the change log cannot bring the snapshot up to date; rebuilding"
                );
                self.rebuild().await
            }
            Step::Moved(snapshot, version, n_agents) => {
                tracing::debug!(
                    snapshot.version = version,
                    snapshot.changed_agents = n_agents,
                    elapsed_us = started.elapsed().as_micros() as u64,
                    "snapshot moved on"
                );
                self.put_in_force(snapshot, version);
                Ok(())
            }
        }
    }

    /// Builds the snapshot from everything stored; for callers that hold the refresh lock.
    async fn rebuild(&self) -> Result<(), AppError> {
        let stored = self
            .store
            .read_consistent(storage::load_all)
            .await
            .map_err(|error| storage_error(error, RequestField::Unnamed))?;
        let (policy, version, now) = (self.policy.clone(), stored.version, clock::now());
        let started = std::time::Instant::now();
        let snapshot = tokio::task::spawn_blocking(move || {
            Snapshot::build(policy, stored.orgs, stored.agents, stored.shifts, stored.time_off, stored.consents)
                .with_timelines(now, machine_parallelism())
        })
        .await
        .map_err(|error| AppError::internal(format!("snapshot build failed: {error}")))?;
        tracing::debug!(
            snapshot.agents = snapshot.n_agents(),
            snapshot.shifts = snapshot.n_shifts(),
            snapshot.version = version,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "snapshot rebuilt"
        );
        self.put_in_force(snapshot, version);
        Ok(())
    }

    /// Swaps `snapshot` in as the one holding every write up to roster version `version`, and
    /// tells the watches.
    fn put_in_force(&self, snapshot: Snapshot, version: i64) {
        let snapshot = Arc::new(snapshot);
        self.snapshot.store(snapshot.clone());
        *self.swapped_at.lock().expect("the swap time lock is never poisoned") = std::time::Instant::now();
        self.loaded_version.store(version, Ordering::SeqCst);
        self.in_force.send_replace(InForce { snapshot, version });
    }

    /// Catches up with writes committed elsewhere (another replica). `Err` when the database
    /// cannot be reached; reads go on from the snapshot in force.
    pub async fn catch_up(&self) -> Result<bool, AppError> {
        let version =
            self.store.version(CATCH_UP_INTERVAL).await.map_err(|error| storage_error(error, RequestField::Unnamed))?;
        if version == self.loaded_version.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let _refreshing = self.refresh_lock.lock().await;
        // A write's own refresh may have loaded this version while we waited.
        if version <= self.loaded_version.load(Ordering::SeqCst) {
            return Ok(false);
        }
        self.advance().await?;
        Ok(true)
    }

    /// Moves the precomputed horizon forward to `now`, from the snapshot in force: the buckets
    /// it leaves behind are dropped and those it reaches are added.
    pub async fn roll_horizon(&self) -> Result<(), AppError> {
        let _refreshing = self.refresh_lock.lock().await;
        let current = self.snapshot();
        let now = clock::now();
        let rolled = tokio::task::spawn_blocking(move || current.rolled_to(now, machine_parallelism()))
            .await
            .map_err(|error| AppError::internal(format!("horizon roll failed: {error}")))?;
        self.put_in_force(rolled, self.loaded_version.load(Ordering::SeqCst));
        Ok(())
    }

    /// How long the snapshot in force has been in force.
    pub fn snapshot_age(&self) -> Duration {
        self.swapped_at.lock().expect("the swap time lock is never poisoned").elapsed()
    }

    pub fn database_reachable(&self) -> bool {
        self.database_reachable.load(Ordering::SeqCst)
    }

    /// Keeps the snapshot current until `stop` turns true: catches up with other replicas'
    /// writes at once when the database notifies them, and at least every half second in any
    /// case; rolls the precomputed horizon forward every half hour; notes whether the database
    /// answers. Reads never wait on any of it.
    pub async fn keep_current(self: Arc<Self>, stop: tokio::sync::watch::Receiver<bool>) {
        let notified = Arc::new(tokio::sync::Notify::new());
        self.spawn_change_listener(notified.clone(), stop.clone());
        let mut stop = stop;
        let mut horizon_rolled_at = std::time::Instant::now();
        loop {
            tokio::select! {
                _ = notified.notified() => {}
                _ = tokio::time::sleep(CATCH_UP_INTERVAL) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
            // A database that stops answering without closing its connections must not stall
            // this loop: a look that takes too long counts as a lost database.
            let looked = tokio::time::timeout(CATCH_UP_TIMEOUT, self.catch_up()).await;
            match looked.unwrap_or_else(|_| Err(AppError::unavailable("the database did not answer in time"))) {
                Ok(_) => {
                    if !self.database_reachable.swap(true, Ordering::SeqCst) {
                        self.store.set_database_away(false);
                        tracing::info!("database reachable again; snapshot caught up");
                    }
                }
                Err(error) => {
                    if self.database_reachable.swap(false, Ordering::SeqCst) {
                        self.store.set_database_away(true);
                        tracing::warn!(error = %error, "database unreachable; answering reads from the last snapshot");
                    }
                }
            }
            if horizon_rolled_at.elapsed() >= HORIZON_ROLL_INTERVAL {
                match self.roll_horizon().await {
                    Ok(()) => horizon_rolled_at = std::time::Instant::now(),
                    Err(error) => tracing::error!(error = %error, "rolling the precomputed horizon failed"),
                }
            }
        }
    }

    /// Listens for other replicas' writes on a thread of its own (the listening connection
    /// blocks), reconnecting after a loss; nothing to do on SQLite.
    fn spawn_change_listener(
        self: &Arc<Self>,
        notified: Arc<tokio::sync::Notify>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let app = Arc::clone(self);
        std::thread::spawn(move || {
            while !*stop.borrow() {
                match app.change_listener() {
                    Ok(None) => return,
                    Ok(Some(mut listener)) => {
                        while !*stop.borrow() {
                            match listener.poll() {
                                Ok(0) => {}
                                Ok(_) => notified.notify_one(),
                                Err(_) => break,
                            }
                            std::thread::sleep(LISTENER_POLL_INTERVAL);
                        }
                    }
                    Err(_) => std::thread::sleep(CATCH_UP_INTERVAL),
                }
            }
        });
    }

    /// A listener for other replicas' writes, where the database offers one.
    pub fn change_listener(&self) -> Result<Option<storage::ChangeListener>, AppError> {
        self.store.listen_for_changes().map_err(|error| storage_error(error, RequestField::Unnamed))
    }
}

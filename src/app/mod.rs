//! Use cases: what each RPC does, independent of gRPC. Reads are answered from the in-memory
//! snapshot; writes run in one database transaction, then the next snapshot is built from the
//! committed data and swapped in, in commit order.

mod error;
mod explain;
mod freshness;
mod gap_watch;
mod gap_webhook;
mod known_at;
mod pages;
mod queries;
mod sync;
mod watch;
mod what_if;
mod working_time;
mod write_queue;
mod writes;

/// Shifts and time off, the entries an agent owns: writes of either kind take one generic path.
pub use crate::storage::{EntryKind, OwnedEntry, UpsertCounts};
pub use error::AppError;
pub use explain::{ExplainedMoment, Explanation, MAX_EXPLAINED_MOMENTS, MAX_EXPLAINED_STATES};
pub use gap_watch::{EarlierGaps, GapEvent, GapEventKind, GapWatch};
pub use gap_webhook::{DeliveryFailure, GapReceiver, GapWebhookPlan, WebhookEvent};
pub use known_at::KnownAt;
pub use pages::{Page, PageRequest};
pub use queries::{DeadlineItem, EntryFilter};
pub use sync::{CallerPresence, SyncReport, SyncRequest, MAX_SYNC_ENTRIES};
pub use watch::{WindowCause, WindowSubscription, WindowUpdate, WindowWatch};
pub use what_if::SimulationReport;
pub use writes::{check_batch, MAX_BATCH_ENTRIES};

use std::sync::atomic::{AtomicBool, AtomicI64};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::Mutex;

use crate::domain::parallel::Parallelism;
use crate::domain::policy::Policy;
use crate::domain::snapshot::Snapshot;
use crate::domain::working_time::WorkingTimeSettings;
use crate::storage::Store;

pub struct App {
    store: Store,
    policy: Arc<Policy>,
    snapshot: ArcSwap<Snapshot>,
    /// The snapshot in force with its roster version, for watches to wait on.
    in_force: tokio::sync::watch::Sender<watch::InForce>,
    /// Held by the writer committing a group (or a sync); owned, so a group's commit keeps it
    /// even if the caller that started the group goes away.
    write_lock: Arc<Mutex<()>>,
    /// Writes waiting for the next group.
    write_queue: write_queue::WriteQueue,
    /// Serialises snapshot rebuilds, so an older state never replaces a newer one.
    refresh_lock: Arc<Mutex<()>>,
    /// The database's write count that the snapshot in force reflects.
    loaded_version: AtomicI64,
    /// The highest roster version this replica's own writes committed.
    committed_version: Arc<AtomicI64>,
    /// Whether the last look at the database succeeded.
    database_reachable: AtomicBool,
    /// When the snapshot in force was swapped in.
    swapped_at: std::sync::Mutex<std::time::Instant>,
    /// How each source's shifts count as working time, and whether its breaching writes are
    /// refused.
    working_time: WorkingTimeSettings,
    /// Snapshots of past moments lately asked about (`snapshot_known_at`).
    past_snapshots: known_at::PastSnapshots,
}

impl App {
    /// Loads everything stored and builds the first snapshot.
    pub async fn start(store: Store, policy: Arc<Policy>) -> Result<App, AppError> {
        let app = App {
            store,
            snapshot: ArcSwap::from_pointee(Snapshot::empty(policy.clone())),
            in_force: tokio::sync::watch::Sender::new(watch::InForce {
                snapshot: Arc::new(Snapshot::empty(policy.clone())),
                version: -1,
            }),
            policy,
            write_lock: Arc::new(Mutex::new(())),
            write_queue: write_queue::WriteQueue::default(),
            refresh_lock: Arc::new(Mutex::new(())),
            loaded_version: AtomicI64::new(-1),
            committed_version: Arc::new(AtomicI64::new(-1)),
            database_reachable: AtomicBool::new(true),
            swapped_at: std::sync::Mutex::new(std::time::Instant::now()),
            working_time: WorkingTimeSettings::default(),
            past_snapshots: known_at::PastSnapshots::default(),
        };
        app.refresh().await?;
        Ok(app)
    }

    /// The app with the configuration's working-time settings per source.
    pub fn with_working_time(mut self, settings: WorkingTimeSettings) -> App {
        self.working_time = settings;
        self
    }

    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The snapshot in force; cheap, never waits on a writer.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }
}

/// The threads a coverage report or a timeline build may use: the machine's cores, at most
/// eight (the cap the reports were measured with). Asked again at most once a minute, as the
/// cores a container may use can change; asking reads the cgroup limits from files, which would
/// weigh on every write.
pub fn machine_parallelism() -> Parallelism {
    const ASK_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_secs(60);
    static KNOWN: std::sync::Mutex<Option<(std::time::Instant, Parallelism)>> = std::sync::Mutex::new(None);
    let mut known = KNOWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((asked_at, parallelism)) = *known {
        if asked_at.elapsed() < ASK_AGAIN_AFTER {
            return parallelism;
        }
    }
    let n_threads = std::thread::available_parallelism().map_or(1, |cores| cores.get()).clamp(1, 8);
    let parallelism = Parallelism::new(std::num::NonZeroUsize::new(n_threads).expect("clamped to at least one"));
    *known = Some((std::time::Instant::now(), parallelism));
    parallelism
}

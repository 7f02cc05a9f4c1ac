//! Use cases: what each RPC does, independent of gRPC. Reads are answered from the in-memory
//! snapshot; writes run in one database transaction, then the next snapshot is built from the
//! committed data and swapped in, in commit order.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::Mutex;

use crate::audit::{ticket_entity, Actor, AuditEvent, AuditQuery, AuditRecord, Entity, EntityKind};
use crate::clock;
use crate::domain::coverage::{self, CoverageQuestion, Gap, OnShift, RequirementCoverage};
use crate::domain::decision::{self, AccessDecision, DecisionError, TicketDecision, TicketQuestion};
use crate::domain::interval::Interval;
use crate::domain::policy::{PlanKind, Policy, Severity};
use crate::domain::roster::{Agent, Consent, FieldViolation, Org, Schedule, Shift, TimeOff};
use crate::domain::snapshot::Snapshot;
use crate::domain::sync::{check_complete, IncompleteSync, SyncChanges, SyncEntryCounts};
use crate::domain::time::Instant;
use crate::storage::{self, StorageError, Store, UpsertCounts};

/// How often the snapshot is compared with the database when no notification arrives.
const CATCH_UP_INTERVAL: Duration = Duration::from_millis(500);
/// How long one look at the database may take before it counts as lost (a rebuild included).
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the listening connection is read for notifications.
const LISTENER_POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How often the precomputed horizon moves forward.
const HORIZON_ROLL_INTERVAL: Duration = Duration::from_secs(30 * 60);

/// How long a write waits for the write lock while the database is known to be away.
const WRITE_LOCK_PATIENCE_WHILE_AWAY: Duration = Duration::from_secs(1);

/// The most entries one batch upsert may carry.
pub const MAX_BATCH_ENTRIES: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("{entity} {id:?} not found")]
    NotFound { entity: &'static str, id: String, field: String },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The entry belongs to a WFM source: only that source's syncs change it.
    #[error("{description}")]
    OwnedElsewhere { field: String, description: String },
    /// Another write got there first; the caller may retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A sync's stream carried other counts than its end message declared.
    #[error("{0}")]
    Incomplete(IncompleteSync),
    /// The caller went away before the write committed; it was rolled back.
    #[error("the caller went away before the write committed")]
    CallerGone,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldViolation::new(field, description)])
    }
}

/// Maps storage failures. `field` is the request field an unknown ID came in, for
/// single-entity calls (`shift_id`); errors about one entry of a batch name it themselves.
fn storage_error(error: StorageError, field: &str) -> AppError {
    match error {
        // A field ending in "." is the message holding several IDs: the entity names the one.
        StorageError::NotFound { entity, id } => {
            let field = if field.ends_with('.') { format!("{field}{entity}_id") } else { field.to_owned() };
            AppError::NotFound { entity, id, field }
        }
        StorageError::MissingAgent { kind, index, agent_id } => {
            AppError::NotFound { entity: "agent", id: agent_id, field: format!("{kind}[{index}].agent_id") }
        }
        StorageError::ForeignEntry { kind, index, id } => AppError::Invalid(vec![FieldViolation::new(
            format!("{kind}[{index}].{}", if kind == "shifts" { "shift_id" } else { "time_off_id" }),
            format!("{id:?} is an entry of another source, or starts outside this sync's window"),
        )]),
        StorageError::Unavailable(message) => AppError::Unavailable(message),
        StorageError::BadUrl(message) | StorageError::Migration(message) | StorageError::Corrupt(message) => {
            AppError::Internal(message)
        }
        StorageError::Query(error) => AppError::Internal(error.to_string()),
        StorageError::Conflict(message) => AppError::Conflict(message),
        StorageError::Abandoned => AppError::CallerGone,
        StorageError::OwnedBySource { field, index, id, owner } => {
            let field = if field.ends_with("_id") { field.to_owned() } else { format!("{field}[{index}]") };
            AppError::OwnedElsewhere {
                field,
                description: format!(
                    "{id:?} was synced by source {owner:?}; change it through that source's SyncShifts"
                ),
            }
        }
    }
}

fn decision_error(error: DecisionError) -> AppError {
    match error {
        DecisionError::UnknownOrg(id) => AppError::NotFound { entity: "org", id, field: "org_id".into() },
        DecisionError::UnknownAgent(id) => AppError::NotFound { entity: "agent", id, field: "agent_id".into() },
        DecisionError::UnknownRegion { .. } => AppError::Internal(error.to_string()),
    }
}

fn consent_entities(org_id: &str, ticket_id: &str, agent_id: &str) -> Vec<Entity> {
    vec![
        Entity::new(EntityKind::Org, org_id),
        ticket_entity(org_id, ticket_id),
        Entity::new(EntityKind::Agent, agent_id),
    ]
}

/// Write work that also appends its audit event, in the same transaction: `work` returns its
/// outcome and what it touched.
fn audited<T, F>(actor: Actor, work: F) -> impl FnOnce(&mut storage::AnyConnection) -> Result<T, StorageError>
where
    F: FnOnce(&mut storage::AnyConnection) -> Result<(T, AuditRecord), StorageError>,
{
    move |connection| {
        let (outcome, record) = work(connection)?;
        storage::append_audit_event(connection, &actor, &record, clock::now())?;
        Ok(outcome)
    }
}

fn count_of(entities: &[Entity], kind: EntityKind) -> usize {
    entities.iter().filter(|entity| entity.kind == kind).count()
}

fn counts_summary(what: &str, counts: UpsertCounts) -> String {
    format!("{what}: {} created, {} updated", counts.created, counts.updated)
}

/// A sync's audit record: the source, and every entry it created, updated or deleted.
fn sync_audit_record(source: &str, shifts: &SyncChanges, time_off: &SyncChanges) -> AuditRecord {
    let touched = |changes: &SyncChanges, kind: EntityKind| -> Vec<Entity> {
        changes.created.iter().chain(&changes.updated).chain(&changes.deleted).map(|id| Entity::new(kind, id)).collect()
    };
    let mut affected = vec![Entity::new(EntityKind::Source, source)];
    affected.extend(touched(shifts, EntityKind::Shift));
    affected.extend(touched(time_off, EntityKind::TimeOff));
    let summary = format!(
        "sync: shifts {} created, {} updated, {} deleted, {} unchanged; time off {} created, {} updated, {} deleted, {} unchanged",
        shifts.created.len(),
        shifts.updated.len(),
        shifts.deleted.len(),
        shifts.n_unchanged,
        time_off.created.len(),
        time_off.updated.len(),
        time_off.deleted.len(),
        time_off.n_unchanged,
    );
    AuditRecord::new(summary, affected)
}

/// What a manager or WFM tool asks a sync to do.
pub struct SyncRequest {
    pub source: String,
    pub window: Interval,
    pub dry_run: bool,
    pub shifts: Vec<Shift>,
    pub time_off: Vec<TimeOff>,
    /// What the sender says it sent, when it says so (the stream's end message).
    pub declared_counts: Option<SyncEntryCounts>,
}

/// Whether the caller of a sync is still waiting for its answer. The call's future holds it
/// from the moment the call arrives; when that future is dropped unfinished (the call
/// cancelled, its deadline past, its connection lost), the caller counts as gone, and a write
/// not yet committed rolls back. Either the presence or the sync's write task logs how the sync
/// ended, with its request ID (`sync.outcome`).
pub struct CallerPresence {
    gone: Arc<AtomicBool>,
    request_id: String,
    stage: CallerStage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallerStage {
    /// Reading or checking the request; nothing is being written.
    Checking,
    /// The write task has it; that task reports how the sync ended.
    HandedOver,
    /// Answered.
    Finished,
}

impl CallerPresence {
    pub fn new(request_id: &str) -> CallerPresence {
        CallerPresence {
            gone: Arc::new(AtomicBool::new(false)),
            request_id: request_id.to_owned(),
            stage: CallerStage::Checking,
        }
    }

    fn gone(&self) -> Arc<AtomicBool> {
        self.gone.clone()
    }

    fn hand_over(&mut self) {
        self.stage = CallerStage::HandedOver;
    }

    /// The call has been answered (or refused) and nothing more will be written for it.
    pub fn finish(&mut self) {
        self.stage = CallerStage::Finished;
    }
}

impl Drop for CallerPresence {
    fn drop(&mut self) {
        if self.stage == CallerStage::Finished {
            return;
        }
        self.gone.store(true, Ordering::SeqCst);
        if self.stage == CallerStage::Checking {
            tracing::info!(
                request.id = %self.request_id,
                sync.outcome = "abandoned",
                "sync abandoned by its caller before anything was written"
            );
        }
    }
}

/// The gaps one requirement gains and loses through a sync.
#[derive(Clone, Debug, PartialEq)]
pub struct RequirementGapChanges {
    pub plan: PlanKind,
    pub eea_tagged: bool,
    pub severity: Severity,
    pub opened: Vec<Gap>,
    pub closed: Vec<Gap>,
}

/// What a sync did, or would do.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncReport {
    pub dry_run: bool,
    pub shifts: SyncChanges,
    pub time_off: SyncChanges,
    pub gap_changes: Vec<RequirementGapChanges>,
}

/// The most shifts and time off entries one sync may carry together.
pub const MAX_SYNC_ENTRIES: usize = 500_000;

/// Rejects a sync whose entries repeat an ID or start outside its window; names each entry by
/// its position in the stream and its ID.
fn check_sync_entries(request: &SyncRequest) -> Result<(), AppError> {
    let mut violations = Vec::new();
    let mut check =
        |kind: &str, id_field: &str, start_field: &dyn Fn(usize) -> String, entries: Vec<(&str, Instant)>| {
            let mut first_seen: HashMap<&str, usize> = HashMap::new();
            for (entry_idx, (id, starts_at)) in entries.into_iter().enumerate() {
                let first_idx = *first_seen.entry(id).or_insert(entry_idx);
                if first_idx != entry_idx {
                    violations.push(FieldViolation::new(
                        format!("{kind}[{entry_idx}].{id_field}"),
                        format!("{id:?} appears twice in the sync (first at {kind}[{first_idx}])"),
                    ));
                }
                if !request.window.contains(starts_at) {
                    violations.push(FieldViolation::new(
                        start_field(entry_idx),
                        format!(
                            "{id:?} starts at {starts_at}, outside the sync window [{}, {})",
                            request.window.start, request.window.end
                        ),
                    ));
                }
            }
        };
    let shift_start_field = |entry_idx: usize| match &request.shifts[entry_idx].schedule {
        Schedule::OneOff(_) => format!("shifts[{entry_idx}].one_off.starts_at"),
        Schedule::Recurring(_) => format!("shifts[{entry_idx}].recurring.start_local"),
    };
    check(
        "shifts",
        "shift_id",
        &shift_start_field,
        request.shifts.iter().map(|shift| (shift.shift_id.as_str(), shift.starts_at())).collect(),
    );
    check(
        "time_off",
        "time_off_id",
        &|entry_idx| format!("time_off[{entry_idx}].starts_at"),
        request.time_off.iter().map(|entry| (entry.time_off_id.as_str(), entry.period.start)).collect(),
    );
    if request.shifts.len() + request.time_off.len() > MAX_SYNC_ENTRIES {
        violations.push(FieldViolation::new("batch", format!("at most {MAX_SYNC_ENTRIES} entries per sync")));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(violations))
    }
}

/// The gaps each requirement of each plan gains and loses between two snapshots.
fn compare_gaps(before: &Snapshot, after: &Snapshot, window: Interval) -> Vec<RequirementGapChanges> {
    let mut changes = Vec::new();
    for (plan, eea_tagged) in [(PlanKind::EeaOnly, true), (PlanKind::Standard, true)] {
        let question = CoverageQuestion { plan, eea_tagged, window, min_staff: 1 };
        let old = coverage::coverage_report(before, &question);
        let new = coverage::coverage_report(after, &question);
        for (old_requirement, new_requirement) in old.iter().zip(&new) {
            let (opened, closed) = coverage::gap_changes(&old_requirement.gaps, &new_requirement.gaps);
            changes.push(RequirementGapChanges {
                plan,
                eea_tagged,
                severity: new_requirement.severity,
                opened,
                closed,
            });
        }
    }
    changes
}

/// Rejects a batch that is empty, too large, or names one ID twice.
pub fn check_batch<'a>(batch_field: &str, id_field: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), AppError> {
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    let mut violations = Vec::new();
    let mut n_entries = 0;
    for (entry_idx, id) in ids.enumerate() {
        n_entries += 1;
        let first_idx = *first_seen.entry(id).or_insert(entry_idx);
        if first_idx != entry_idx {
            violations.push(FieldViolation::new(
                format!("{batch_field}[{entry_idx}].{id_field}"),
                format!("{id:?} appears twice in the batch (first at {batch_field}[{first_idx}])"),
            ));
        }
    }
    if n_entries == 0 {
        violations.push(FieldViolation::new(batch_field, "the batch is empty"));
    } else if n_entries > MAX_BATCH_ENTRIES {
        violations.push(FieldViolation::new(batch_field, format!("at most {MAX_BATCH_ENTRIES} entries per batch")));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(violations))
    }
}

pub struct App {
    store: Store,
    policy: Arc<Policy>,
    snapshot: ArcSwap<Snapshot>,
    write_lock: Mutex<()>,
    /// Serialises snapshot rebuilds, so an older state never replaces a newer one.
    refresh_lock: Mutex<()>,
    /// The database's write count that the snapshot in force reflects.
    loaded_version: AtomicI64,
    /// Whether the last look at the database succeeded.
    database_reachable: AtomicBool,
    /// When the snapshot in force was swapped in.
    swapped_at: std::sync::Mutex<std::time::Instant>,
}

impl App {
    /// Loads everything stored and builds the first snapshot.
    pub async fn start(store: Store, policy: Arc<Policy>) -> Result<App, AppError> {
        let app = App {
            store,
            snapshot: ArcSwap::from_pointee(Snapshot::empty(policy.clone())),
            policy,
            write_lock: Mutex::new(()),
            refresh_lock: Mutex::new(()),
            loaded_version: AtomicI64::new(-1),
            database_reachable: AtomicBool::new(true),
            swapped_at: std::sync::Mutex::new(std::time::Instant::now()),
        };
        app.refresh().await?;
        Ok(app)
    }

    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The snapshot in force; cheap, never waits on a writer.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Rebuilds the snapshot, with its precomputed timelines, from one consistent read of the
    /// database. The build runs off the async runtime; readers keep the old snapshot meanwhile.
    pub async fn refresh(&self) -> Result<(), AppError> {
        let _refreshing = self.refresh_lock.lock().await;
        self.rebuild().await
    }

    /// The body of `refresh`, for callers that hold the refresh lock.
    async fn rebuild(&self) -> Result<(), AppError> {
        let stored = self.store.read_consistent(storage::load_all).await.map_err(|error| storage_error(error, ""))?;
        let (policy, version, now) = (self.policy.clone(), stored.version, clock::now());
        let started = std::time::Instant::now();
        let snapshot = tokio::task::spawn_blocking(move || {
            Snapshot::build(policy, stored.orgs, stored.agents, stored.shifts, stored.time_off, stored.consents)
                .with_timelines(now)
        })
        .await
        .map_err(|error| AppError::Internal(format!("snapshot build failed: {error}")))?;
        tracing::debug!(
            snapshot.agents = snapshot.n_agents(),
            snapshot.shifts = snapshot.n_shifts(),
            snapshot.version = version,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "snapshot rebuilt"
        );
        self.swap_in(snapshot);
        self.loaded_version.store(version, Ordering::SeqCst);
        Ok(())
    }

    /// Catches up with writes committed elsewhere (another replica). `Err` when the database
    /// cannot be reached; reads go on from the snapshot in force.
    pub async fn catch_up(&self) -> Result<bool, AppError> {
        let version = self.store.version(CATCH_UP_INTERVAL).await.map_err(|error| storage_error(error, ""))?;
        if version == self.loaded_version.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let _refreshing = self.refresh_lock.lock().await;
        // A write's own refresh may have loaded this version while we waited.
        if version <= self.loaded_version.load(Ordering::SeqCst) {
            return Ok(false);
        }
        self.rebuild().await?;
        Ok(true)
    }

    /// Moves the precomputed horizon forward to `now`, from the snapshot in force.
    pub async fn roll_horizon(&self) -> Result<(), AppError> {
        let _refreshing = self.refresh_lock.lock().await;
        let current = self.snapshot();
        let now = clock::now();
        let rolled = tokio::task::spawn_blocking(move || current.as_ref().clone().with_timelines(now))
            .await
            .map_err(|error| AppError::Internal(format!("horizon roll failed: {error}")))?;
        self.swap_in(rolled);
        Ok(())
    }

    fn swap_in(&self, snapshot: Snapshot) {
        self.snapshot.store(Arc::new(snapshot));
        *self.swapped_at.lock().expect("the swap time lock is never poisoned") = std::time::Instant::now();
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
            match looked.unwrap_or_else(|_| Err(AppError::Unavailable("the database did not answer in time".into()))) {
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
        self.store.listen_for_changes().map_err(|error| storage_error(error, ""))
    }

    /// Takes the write lock. While the database is known to be away, waits only briefly: writes
    /// fail with UNAVAILABLE instead of queueing behind each other's connection attempts.
    async fn lock_writes(&self) -> Result<tokio::sync::MutexGuard<'_, ()>, AppError> {
        if self.database_reachable() {
            return Ok(self.write_lock.lock().await);
        }
        tokio::time::timeout(WRITE_LOCK_PATIENCE_WHILE_AWAY, self.write_lock.lock())
            .await
            .map_err(|_| AppError::Unavailable("the database is unreachable; retry the write later".into()))
    }

    /// Runs one write transaction, with its audit event, then swaps in the snapshot of what it
    /// committed. `work` returns its outcome and what it touched.
    async fn write<T, F>(&self, actor: &Actor, field: &str, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut storage::AnyConnection) -> Result<(T, AuditRecord), StorageError> + Send + 'static,
    {
        let _writer = self.lock_writes().await?;
        let outcome =
            self.store.write(audited(actor.clone(), work)).await.map_err(|error| storage_error(error, field))?;
        if let Err(error) = self.refresh().await {
            // The write is committed; the next successful refresh will show it.
            tracing::error!(error = %error, "snapshot refresh after a committed write failed");
        }
        Ok(outcome)
    }

    pub async fn upsert_org(&self, actor: &Actor, org: Org) -> Result<Org, AppError> {
        let stored = org.clone();
        self.write(actor, "org", move |connection| {
            let created = storage::upsert_org(connection, &stored)?;
            let summary = if created { "org created" } else { "org updated" };
            Ok(((), AuditRecord::new(summary, vec![Entity::new(EntityKind::Org, &stored.org_id)])))
        })
        .await?;
        Ok(org)
    }

    pub async fn delete_org(&self, actor: &Actor, org_id: String) -> Result<(), AppError> {
        self.write(actor, "org_id", move |connection| {
            let mut affected = storage::delete_org(connection, &org_id)?;
            let summary = format!("org deleted with {} consents", count_of(&affected, EntityKind::Ticket));
            affected.push(Entity::new(EntityKind::Org, org_id));
            Ok(((), AuditRecord::new(summary, affected)))
        })
        .await
    }

    pub async fn grant_consent(&self, actor: &Actor, consent: Consent) -> Result<Consent, AppError> {
        let stored = consent.clone();
        self.write(actor, "consent.", move |connection| {
            storage::upsert_consent(connection, &stored)?;
            let summary = format!("consent granted until {}", stored.expires_at);
            Ok(((), AuditRecord::new(summary, consent_entities(&stored.org_id, &stored.ticket_id, &stored.agent_id))))
        })
        .await?;
        Ok(consent)
    }

    pub async fn revoke_consent(
        &self,
        actor: &Actor,
        org_id: String,
        ticket_id: String,
        agent_id: String,
    ) -> Result<(), AppError> {
        self.write(actor, "ticket_id", move |connection| {
            storage::delete_consent(connection, &org_id, &ticket_id, &agent_id)?;
            Ok(((), AuditRecord::new("consent revoked", consent_entities(&org_id, &ticket_id, &agent_id))))
        })
        .await
    }

    pub async fn upsert_agents(
        &self,
        actor: &Actor,
        agents: Vec<Agent>,
    ) -> Result<(Vec<Agent>, UpsertCounts), AppError> {
        check_batch("agents", "agent_id", agents.iter().map(|agent| agent.agent_id.as_str()))?;
        let agents = Arc::new(agents);
        let batch = agents.clone();
        let counts = self
            .write(actor, "agents", move |connection| {
                let counts = storage::upsert_agents(connection, &batch)?;
                let affected = batch.iter().map(|agent| Entity::new(EntityKind::Agent, &agent.agent_id)).collect();
                Ok((counts, AuditRecord::new(counts_summary("agents", counts), affected)))
            })
            .await?;
        Ok((Arc::unwrap_or_clone(agents), counts))
    }

    pub async fn delete_agent(&self, actor: &Actor, agent_id: String) -> Result<(), AppError> {
        self.write(actor, "agent_id", move |connection| {
            let mut affected = storage::delete_agent(connection, &agent_id)?;
            let summary = format!(
                "agent deleted with {} shifts, {} time off entries and {} consents",
                count_of(&affected, EntityKind::Shift),
                count_of(&affected, EntityKind::TimeOff),
                count_of(&affected, EntityKind::Ticket)
            );
            affected.push(Entity::new(EntityKind::Agent, agent_id));
            Ok(((), AuditRecord::new(summary, affected)))
        })
        .await
    }

    pub async fn upsert_shifts(
        &self,
        actor: &Actor,
        shifts: Vec<Shift>,
    ) -> Result<(Vec<Shift>, UpsertCounts), AppError> {
        check_batch("shifts", "shift_id", shifts.iter().map(|shift| shift.shift_id.as_str()))?;
        let shifts = Arc::new(shifts);
        let batch = shifts.clone();
        let counts = self
            .write(actor, "shifts", move |connection| {
                let counts = storage::upsert_shifts(connection, &batch)?;
                let affected = batch.iter().map(|shift| Entity::new(EntityKind::Shift, &shift.shift_id)).collect();
                Ok((counts, AuditRecord::new(counts_summary("shifts", counts), affected)))
            })
            .await?;
        Ok((Arc::unwrap_or_clone(shifts), counts))
    }

    pub async fn delete_shift(&self, actor: &Actor, shift_id: String) -> Result<(), AppError> {
        self.write(actor, "shift_id", move |connection| {
            storage::delete_shift(connection, &shift_id)?;
            Ok(((), AuditRecord::new("shift deleted", vec![Entity::new(EntityKind::Shift, shift_id)])))
        })
        .await
    }

    pub async fn upsert_time_off(
        &self,
        actor: &Actor,
        entries: Vec<TimeOff>,
    ) -> Result<(Vec<TimeOff>, UpsertCounts), AppError> {
        check_batch("time_off", "time_off_id", entries.iter().map(|entry| entry.time_off_id.as_str()))?;
        let entries = Arc::new(entries);
        let batch = entries.clone();
        let counts = self
            .write(actor, "time_off", move |connection| {
                let counts = storage::upsert_time_off(connection, &batch)?;
                let affected = batch.iter().map(|entry| Entity::new(EntityKind::TimeOff, &entry.time_off_id)).collect();
                Ok((counts, AuditRecord::new(counts_summary("time off entries", counts), affected)))
            })
            .await?;
        Ok((Arc::unwrap_or_clone(entries), counts))
    }

    pub async fn delete_time_off(&self, actor: &Actor, time_off_id: String) -> Result<(), AppError> {
        self.write(actor, "time_off_id", move |connection| {
            storage::delete_time_off(connection, &time_off_id)?;
            Ok(((), AuditRecord::new("time off deleted", vec![Entity::new(EntityKind::TimeOff, time_off_id)])))
        })
        .await
    }

    /// The audit events matching `query`, oldest first, read from the database (the audit trail
    /// is not part of the snapshot).
    pub async fn audit_events(&self, query: AuditQuery) -> Result<Vec<AuditEvent>, AppError> {
        self.store
            .read(move |connection| storage::list_audit_events(connection, &query))
            .await
            .map_err(|error| storage_error(error, ""))
    }

    /// Builds a coverage report off the async runtime: it is CPU work over the whole roster.
    pub async fn coverage_report(&self, question: CoverageQuestion) -> Result<Vec<RequirementCoverage>, AppError> {
        let snapshot = self.snapshot();
        tokio::task::spawn_blocking(move || coverage::coverage_report(&snapshot, &question))
            .await
            .map_err(|error| AppError::Internal(format!("coverage report task failed: {error}")))
    }

    pub fn on_shift(&self, plan: PlanKind, eea_tagged: bool, severity: Severity, at: Instant) -> Vec<OnShift> {
        coverage::on_shift(&self.snapshot(), plan, eea_tagged, severity, at)
    }

    /// Replaces a source's entries in a window, all or nothing, and reports the gaps the change
    /// opens and closes. A dry run reports the same without writing. The write runs in a task of
    /// its own, so that once it has committed, its snapshot is swapped in even if the caller has
    /// gone; a caller that goes away before the commit (its call cancelled, its deadline past,
    /// its connection lost: `caller` dropped) makes the write roll back instead.
    pub async fn sync_shifts(
        self: &Arc<Self>,
        actor: &Actor,
        mut request: SyncRequest,
        caller: &mut CallerPresence,
    ) -> Result<SyncReport, AppError> {
        let received = SyncEntryCounts { n_shifts: request.shifts.len(), n_time_off: request.time_off.len() };
        check_complete(request.declared_counts, received).map_err(AppError::Incomplete)?;
        check_sync_entries(&request)?;
        for shift in &mut request.shifts {
            shift.source = Some(request.source.clone());
        }
        for entry in &mut request.time_off {
            entry.source = Some(request.source.clone());
        }
        let request = Arc::new(request);
        let stored = request.clone();
        let work = move |connection: &mut storage::AnyConnection| {
            storage::sync_source(
                connection,
                &stored.source,
                stored.window,
                &stored.shifts,
                &stored.time_off,
                stored.dry_run,
            )
        };
        let (before, outcome) = if request.dry_run {
            // A dry run reads in a transaction of its own and writes nothing, not even a version
            // or an audit event; it need not wait for writers.
            (self.snapshot(), self.store.read_in_transaction(work).await)
        } else {
            let (app, actor, source, gone) = (self.clone(), actor.clone(), request.source.clone(), caller.gone());
            let committing = tokio::spawn(async move {
                let finished = |outcome_name: &str| {
                    tracing::info!(
                        request.id = %actor.request_id,
                        sync.outcome = outcome_name,
                        sync.caller_gone = gone.load(Ordering::SeqCst),
                        "sync write finished"
                    );
                };
                let writer = app.lock_writes().await.inspect_err(|_| finished("failed"))?;
                // A caller who left while the write waited for the lock is not written for.
                if gone.load(Ordering::SeqCst) {
                    finished("abandoned");
                    return Err(AppError::CallerGone);
                }
                // The state the change is compared against, taken before it is written: a
                // catch-up after the commit must not make the change look already applied.
                let before = app.snapshot();
                let abandoned = gone.clone();
                let outcome = app
                    .store
                    .write_unless(
                        audited(actor.clone(), move |connection| {
                            let changes = work(connection)?;
                            let record = sync_audit_record(&source, &changes.0, &changes.1);
                            Ok((changes, record))
                        }),
                        move || abandoned.load(Ordering::SeqCst),
                    )
                    .await;
                if outcome.is_ok() {
                    if let Err(error) = app.refresh().await {
                        // The sync is committed; the next successful refresh will show it.
                        tracing::error!(error = %error, "snapshot refresh after a committed sync failed");
                    }
                }
                drop(writer);
                let outcome_name = match &outcome {
                    Ok(_) => "committed",
                    Err(StorageError::Abandoned) => "rolled_back",
                    Err(_) => "failed",
                };
                // Logged here whether or not the caller is still there to be answered: a sync
                // committed just as its caller went away leaves this line alone.
                finished(outcome_name);
                Ok::<_, AppError>((before, outcome))
            });
            caller.hand_over();
            committing.await.map_err(|error| AppError::Internal(format!("sync task failed: {error}")))??
        };
        caller.finish();
        let (shift_changes, time_off_changes) = outcome.map_err(|error| match error {
            // In a sync an unknown agent makes the entry invalid, like any other bad field.
            StorageError::MissingAgent { kind, index, agent_id } => {
                let entry_id = match kind {
                    "shifts" => request.shifts.get(index).map(|shift| shift.shift_id.as_str()),
                    _ => request.time_off.get(index).map(|entry| entry.time_off_id.as_str()),
                };
                AppError::Invalid(vec![FieldViolation::new(
                    format!("{kind}[{index}].agent_id"),
                    format!("entry {:?}: agent {agent_id:?} not found", entry_id.unwrap_or_default()),
                )])
            }
            other => storage_error(other, "shifts"),
        })?;

        // The gaps the change opens and closes, computed after the lock is released: the state
        // before with the change applied in memory, against the state before.
        let (changes, sent) = ((shift_changes.clone(), time_off_changes.clone()), request.clone());
        let gap_changes = tokio::task::spawn_blocking(move || {
            let (shift_changes, time_off_changes) = changes;
            let removed_shifts: HashSet<&str> =
                shift_changes.updated.iter().chain(&shift_changes.deleted).map(String::as_str).collect();
            let removed_time_off: HashSet<&str> =
                time_off_changes.updated.iter().chain(&time_off_changes.deleted).map(String::as_str).collect();
            let changed_shift_ids: HashSet<&str> =
                shift_changes.created.iter().chain(&shift_changes.updated).map(String::as_str).collect();
            let changed_time_off_ids: HashSet<&str> =
                time_off_changes.created.iter().chain(&time_off_changes.updated).map(String::as_str).collect();
            let added_shifts: Vec<Shift> = sent
                .shifts
                .iter()
                .filter(|shift| changed_shift_ids.contains(shift.shift_id.as_str()))
                .cloned()
                .collect();
            let added_time_off: Vec<TimeOff> = sent
                .time_off
                .iter()
                .filter(|entry| changed_time_off_ids.contains(entry.time_off_id.as_str()))
                .cloned()
                .collect();
            let after =
                before.with_entries_replaced(&removed_shifts, &added_shifts, &removed_time_off, &added_time_off);
            compare_gaps(&before, &after, sent.window)
        })
        .await
        .map_err(|error| AppError::Internal(format!("gap comparison failed: {error}")))?;
        Ok(SyncReport { dry_run: request.dry_run, shifts: shift_changes, time_off: time_off_changes, gap_changes })
    }

    /// Borrows the snapshot in force (`load`) rather than cloning its `Arc` (`load_full`), as
    /// `check_agent_access` does: a clone and its drop are two atomic writes to one counter
    /// that every core's calls share.
    pub fn decide_ticket(&self, question: &TicketQuestion) -> Result<TicketDecision, AppError> {
        decision::decide_ticket(&self.snapshot.load(), question).map_err(decision_error)
    }

    pub fn check_agent_access(&self, question: &TicketQuestion, agent_id: &str) -> Result<AccessDecision, AppError> {
        decision::check_agent_access(&self.snapshot.load(), question, agent_id).map_err(decision_error)
    }
}

//! A WFM sync: replace a source's entries in a window, all or nothing, and report the gaps the
//! change opens and closes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::error::{storage_error, RequestField};
use super::working_time::{refused_for_breaches, sync_bound};
use super::writes::audited;
use super::{machine_parallelism, App, AppError};
use crate::audit::{Actor, AuditRecord, Entity, EntityKind};
use crate::domain::interval::Interval;
use crate::domain::roster::Schedule;
use crate::domain::snapshot::Snapshot;
use crate::domain::sync::{
    check_complete, compare_gaps, snapshot_after_sync, sync_warnings, RequirementGapChanges, SyncChanges, SyncEntries,
    SyncEntryCounts, SyncOutcome,
};
use crate::domain::time::Instant;
use crate::domain::validation::FieldViolation;
use crate::domain::working_time::Warning;
use crate::storage::{self, EntryKind, StorageError};

/// A sync's audit record: the source, and every entry it created, updated or deleted.
fn sync_audit_record(source: &str, outcome: &SyncOutcome) -> AuditRecord {
    let touched = |changes: &SyncChanges, kind: EntityKind| -> Vec<Entity> {
        changes.created.iter().chain(&changes.updated).chain(&changes.deleted).map(|id| Entity::new(kind, id)).collect()
    };
    let (agents, shifts, time_off) = (&outcome.agents, &outcome.shifts, &outcome.time_off);
    let mut affected = vec![Entity::new(EntityKind::Source, source)];
    affected.extend(touched(agents, EntityKind::Agent));
    affected.extend(touched(shifts, EntityKind::Shift));
    affected.extend(touched(time_off, EntityKind::TimeOff));
    let agents_text = if agents.created.is_empty() && agents.updated.is_empty() && agents.n_unchanged == 0 {
        String::new()
    } else {
        format!(
            "; agents {} created, {} updated, {} unchanged",
            agents.created.len(),
            agents.updated.len(),
            agents.n_unchanged
        )
    };
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
    ) + &agents_text;
    AuditRecord::new(summary, affected)
}

/// What a manager or WFM tool asks a sync to do.
pub struct SyncRequest {
    pub source: String,
    pub window: Interval,
    pub dry_run: bool,
    pub entries: SyncEntries,
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

/// What a sync did, or would do.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncReport {
    pub dry_run: bool,
    pub agents: SyncChanges,
    pub shifts: SyncChanges,
    pub time_off: SyncChanges,
    pub gap_changes: Vec<RequirementGapChanges>,
    /// The working-time breaches the sync introduces.
    pub warnings: Vec<Warning>,
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
                            request.window.start(),
                            request.window.end()
                        ),
                    ));
                }
            }
        };
    let SyncEntries { shifts, time_off, agents } = &request.entries;

    let shift_start_field = |entry_idx: usize| match &shifts[entry_idx].schedule {
        Schedule::OneOff(_) => format!("shifts[{entry_idx}].one_off.starts_at"),
        Schedule::Recurring(_) => format!("shifts[{entry_idx}].recurring.start_local"),
    };
    check(
        "shifts",
        "shift_id",
        &shift_start_field,
        shifts.iter().map(|shift| (shift.shift_id.as_str(), shift.starts_at())).collect(),
    );
    check(
        "time_off",
        "time_off_id",
        &|entry_idx| format!("time_off[{entry_idx}].starts_at"),
        time_off.iter().map(|entry| (entry.time_off_id.as_str(), entry.period.start())).collect(),
    );
    let mut first_agent: HashMap<&str, usize> = HashMap::new();
    for (agent_idx, agent) in agents.iter().enumerate() {
        let first_idx = *first_agent.entry(agent.agent_id.as_str()).or_insert(agent_idx);
        if first_idx != agent_idx {
            violations.push(FieldViolation::new(
                format!("agents[{agent_idx}].agent_id"),
                format!("{:?} appears twice in the sync (first at agents[{first_idx}])", agent.agent_id.as_str()),
            ));
        }
    }
    if request.entries.n_entries() > MAX_SYNC_ENTRIES {
        violations.push(FieldViolation::new("batch", format!("at most {MAX_SYNC_ENTRIES} entries per sync")));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(violations))
    }
}

/// A sync checked whole (the counts it declared, its entries' IDs and starts) and its entries
/// tagged with its source, ready to be diffed against what the source has stored.
pub(super) fn prepare_sync(mut request: SyncRequest) -> Result<SyncRequest, AppError> {
    check_complete(request.declared_counts, request.entries.counts()).map_err(AppError::Incomplete)?;
    check_sync_entries(&request)?;
    for shift in &mut request.entries.shifts {
        shift.source = Some(request.source.clone());
    }
    for entry in &mut request.entries.time_off {
        entry.source = Some(request.source.clone());
    }
    for agent in &mut request.entries.agents {
        agent.source = Some(request.source.clone());
    }
    Ok(request)
}

/// A failed sync as its caller is told: an unknown agent makes the entry invalid, like any other
/// bad field.
pub(super) fn sync_error(error: StorageError, request: &SyncRequest) -> AppError {
    match error {
        StorageError::MissingAgent { kind, index, agent_id } => {
            let entry_id = match kind {
                EntryKind::Shift => request.entries.shifts.get(index).map(|shift| shift.shift_id.as_str()),
                EntryKind::TimeOff => request.entries.time_off.get(index).map(|entry| entry.time_off_id.as_str()),
            };
            AppError::Invalid(vec![FieldViolation::new(
                format!("{}[{index}].agent_id", kind.batch_field()),
                format!("entry {:?}: agent {agent_id:?} not found", entry_id.unwrap_or_default()),
            )])
        }
        other => storage_error(other, RequestField::Batch("shifts")),
    }
}

impl App {
    /// What a prepared sync would change, read in a transaction of its own that writes nothing
    /// (not even a version or an audit event), so it need not wait for writers; with the
    /// snapshot in force it is to be compared against.
    pub(super) async fn dry_run_sync(
        &self,
        request: &Arc<SyncRequest>,
    ) -> (Arc<Snapshot>, Result<SyncOutcome, StorageError>) {
        let stored = request.clone();
        let work = move |connection: &mut storage::AnyConnection| {
            storage::sync_source(connection, &stored.source, stored.window, &stored.entries, true)
        };
        (self.snapshot(), self.store.read_in_transaction(work).await)
    }

    /// Replaces a source's entries in a window, all or nothing, and reports the gaps the change
    /// opens and closes. A dry run reports the same without writing. The write runs in a task of
    /// its own, so that once it has committed, its snapshot is swapped in even if the caller has
    /// gone; a caller that goes away before the commit (its call cancelled, its deadline past,
    /// its connection lost: `caller` dropped) makes the write roll back instead.
    pub async fn sync_shifts(
        self: &Arc<Self>,
        actor: &Actor,
        request: SyncRequest,
        caller: &mut CallerPresence,
    ) -> Result<SyncReport, AppError> {
        let request = Arc::new(prepare_sync(request)?);
        let stored = request.clone();
        let work = move |connection: &mut storage::AnyConnection| {
            storage::sync_source(connection, &stored.source, stored.window, &stored.entries, stored.dry_run)
        };
        let (before, outcome) = if request.dry_run {
            self.dry_run_sync(&request).await
        } else {
            let (app, actor, source, gone) = (self.clone(), actor.clone(), request.source.clone(), caller.gone());
            let sent = request.clone();
            let request_window = request.window;
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
                // The state the change is compared against, taken before it is written (a
                // catch-up after the commit must not make the change look already applied) and
                // after every earlier write of this replica is in it.
                if let Err(error) = app.refresh_covering_own_writes().await {
                    tracing::error!(error = %error, "snapshot refresh before a sync failed");
                }
                let before = app.snapshot();
                let abandoned = gone.clone();
                let refusal = app.working_time.refusing_sources.contains(&source).then(|| {
                    let (before, settings, source_name) = (before.clone(), app.working_time.clone(), source.clone());
                    let sent_window = request_window;
                    move |changes: &SyncOutcome, sent: &SyncEntries| {
                        let after = snapshot_after_sync(&before, changes, sent);
                        let warnings = sync_warnings(
                            &before,
                            &after,
                            changes,
                            sent,
                            sync_bound(sent_window),
                            &settings,
                            machine_parallelism(),
                        );
                        refused_for_breaches(&source_name, &warnings)
                    }
                });
                let outcome = app
                    .store
                    .write_unless(
                        audited(actor.clone(), move |connection| {
                            let changes = work(connection)?;
                            // The source refuses writes that breach working-time rules: rolled back.
                            if let Some(refused) = refusal.as_ref().and_then(|refuse| refuse(&changes, &sent.entries)) {
                                return Err(refused);
                            }
                            let record = sync_audit_record(&source, &changes);
                            Ok((changes, record))
                        }),
                        move || abandoned.load(Ordering::SeqCst),
                    )
                    .await
                    .inspect(|committed| app.note_committed(committed.version));
                if let Ok(committed) = &outcome {
                    if let Err(error) = app.refresh_covering(committed.version).await {
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
                Ok::<_, AppError>((before, outcome.map(|committed| committed.outcome)))
            });
            caller.hand_over();
            committing.await.map_err(|error| AppError::internal(format!("sync task failed: {error}")))??
        };
        caller.finish();
        let synced = outcome.map_err(|error| sync_error(error, &request))?;

        // The gaps the change opens and closes, computed after the lock is released: the state
        // before with the change applied in memory, against the state before.
        let (changes, sent, settings) = (synced.clone(), request.clone(), self.working_time.clone());
        let (gap_changes, warnings) = tokio::task::spawn_blocking(move || {
            let after = snapshot_after_sync(&before, &changes, &sent.entries);
            let warnings = sync_warnings(
                &before,
                &after,
                &changes,
                &sent.entries,
                sync_bound(sent.window),
                &settings,
                machine_parallelism(),
            );
            (compare_gaps(&before, &after, sent.window, machine_parallelism()), warnings)
        })
        .await
        .map_err(|error| AppError::internal(format!("gap comparison failed: {error}")))?;
        let SyncOutcome { agents, shifts, time_off } = synced;
        Ok(SyncReport { dry_run: request.dry_run, agents, shifts, time_off, gap_changes, warnings })
    }
}

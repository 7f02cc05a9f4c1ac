//! Writes: each runs in one database transaction with its audit event, under the write lock,
//! then the snapshot of what it committed is swapped in.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::error::{storage_error, RequestField};
use super::freshness::step_by;
use super::{App, AppError};
use crate::audit::{ticket_entity, Actor, AuditRecord, Entity, EntityKind};
use crate::clock;
use crate::domain::roster::{Agent, Consent, Org};
use crate::domain::validation::FieldViolation;
use crate::storage::{self, EntryKind, GroupCommitted, GroupedWork, OwnedEntry, StorageError, UpsertCounts};

/// How long a write waits for the write lock while the database is known to be away.
const WRITE_LOCK_PATIENCE_WHILE_AWAY: Duration = Duration::from_secs(1);

/// The most entries one batch upsert may carry.
pub const MAX_BATCH_ENTRIES: usize = 10_000;

fn consent_entities(org_id: &str, ticket_id: &str, agent_id: &str) -> Vec<Entity> {
    vec![
        Entity::new(EntityKind::Org, org_id),
        ticket_entity(org_id, ticket_id),
        Entity::new(EntityKind::Agent, agent_id),
    ]
}

/// Write work that also appends its audit event, in the same transaction: `work` returns its
/// outcome and what it touched.
pub(super) fn audited<T, F>(
    actor: Actor,
    work: F,
) -> impl FnOnce(&mut storage::AnyConnection) -> Result<T, StorageError>
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

/// How the audit trail names an entry of this kind.
fn audit_kind(kind: EntryKind) -> EntityKind {
    match kind {
        EntryKind::Shift => EntityKind::Shift,
        EntryKind::TimeOff => EntityKind::TimeOff,
    }
}

/// How an upsert's audit summary counts entries of this kind.
fn upserted_noun(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Shift => "shifts",
        EntryKind::TimeOff => "time off entries",
    }
}

fn counts_summary(what: &str, counts: UpsertCounts) -> String {
    format!("{what}: {} created, {} updated", counts.created, counts.updated)
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

impl App {
    /// Takes the write lock. While the database is known to be away, waits only briefly: writes
    /// fail with UNAVAILABLE instead of queueing behind each other's connection attempts.
    pub(super) async fn lock_writes(&self) -> Result<tokio::sync::OwnedMutexGuard<()>, AppError> {
        if self.database_reachable() {
            return Ok(self.write_lock.clone().lock_owned().await);
        }
        tokio::time::timeout(WRITE_LOCK_PATIENCE_WHILE_AWAY, self.write_lock.clone().lock_owned())
            .await
            .map_err(|_| AppError::unavailable("the database is unreachable; retry the write later"))
    }

    /// Runs one write, with its audit event, then answers once a snapshot holding what it
    /// committed is in force. `work` returns its outcome and what it touched.
    ///
    /// Writes that arrive together commit together (group commit): each joins the queue, and
    /// whichever writer next holds the write lock commits everything queued in one transaction,
    /// each write in a savepoint of its own, so that a write that fails is rolled back alone and
    /// answers its own error, with its own audit event for each that succeeds. The group counts
    /// as one roster version; its writers then wait together for one snapshot step
    /// (`refresh_covering`).
    async fn write<T, F>(&self, actor: &Actor, field: RequestField, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut storage::AnyConnection) -> Result<(T, AuditRecord), StorageError> + Send + 'static,
    {
        let audited = audited(actor.clone(), work);
        let work: GroupedWork = Box::new(move |connection| audited(connection).map(|outcome| Box::new(outcome) as _));
        let (answer, answered) = tokio::sync::oneshot::channel();
        let queued = self.write_queue.push(work, answer);
        match self.lock_writes().await {
            Ok(writer) => self.commit_queued(writer).await,
            // Not written unless another writer took it into its group already: then its
            // answer comes all the same.
            Err(error) if queued.withdraw() => return Err(error),
            Err(_) => {}
        }
        queued.keep();
        let answer =
            answered.await.map_err(|_| AppError::internal("the group holding a write ended without an answer"))?;
        let (outcome, version) = answer.map_err(|error| storage_error(error, field))?;
        if let Err(error) = self.refresh_covering(version).await {
            // The write is committed; the next successful refresh will show it.
            tracing::error!(error = %error, "snapshot refresh after a committed write failed");
        }
        Ok(*outcome.downcast::<T>().expect("a write's answer has the type of its outcome"))
    }

    /// Commits every write queued, as one group, holding `writer` until it is committed; the
    /// answers go to the writers when the group is done, even if this caller has gone
    /// meanwhile. The group's transaction also reads what changed since the snapshot in force
    /// (its own writes and any other replica's before them), and the same blocking task moves
    /// the snapshot on by it, all under the refresh lock, so the group's writers find it in
    /// force: one hand-over to a blocking thread, one connection and one transaction per group.
    async fn commit_queued(&self, writer: tokio::sync::OwnedMutexGuard<()>) {
        let queued = self.write_queue.take_all();
        if queued.is_empty() {
            return;
        }
        let (works, answers): (Vec<GroupedWork>, Vec<_>) = queued.into_iter().unzip();
        let refreshing = self.refresh_lock.clone().lock_owned().await;
        let (since, current) = (self.loaded_version.load(Ordering::SeqCst), self.snapshot());
        let (store, committed_version) = (self.store.clone(), self.committed_version.clone());
        let started = std::time::Instant::now();
        let group = tokio::spawn(async move {
            let committed_and_stepped = tokio::task::spawn_blocking(move || {
                // What changed since the snapshot in force is read in the group's own
                // transaction (with whatever other replicas committed before it).
                let read_back = |connection: &mut storage::AnyConnection| match since {
                    0.. => storage::load_changes_since(connection, since).map(Some),
                    _ => Ok(None),
                };
                let committed = store.write_group_here(works, read_back);
                // Counted before the lock goes: a sync that takes it next reads its "before"
                // state only once every write this replica committed is in the snapshot.
                if let Ok((group, _)) = &committed {
                    committed_version.fetch_max(group.version, Ordering::SeqCst);
                }
                drop(writer);
                match committed {
                    Ok((group, Some(stored))) => (Ok(group), Some(step_by(stored, since, &current))),
                    Ok((group, None)) => (Ok(group), None),
                    Err(error) => (Err(error), None),
                }
            })
            .await;
            let (committed, step) = committed_and_stepped.unwrap_or_else(|error| {
                (Err(StorageError::Unavailable(format!("database task failed: {error}"))), None)
            });
            match committed {
                Ok(GroupCommitted { outcomes, version }) => {
                    for (answer, outcome) in answers.into_iter().zip(outcomes) {
                        let _ = answer.send(outcome.map(|outcome| (outcome, version)));
                    }
                }
                Err(error) => {
                    // The first writer is told what went wrong; the others, whose own writes did
                    // not fail, that nothing was written and that a retry may succeed.
                    let mut answers = answers.into_iter();
                    let shared = format!("the write was not committed: {error}");
                    if let Some(first) = answers.next() {
                        let _ = first.send(Err(error));
                    }
                    for answer in answers {
                        let _ = answer.send(Err(StorageError::Unavailable(shared.clone())));
                    }
                }
            }
            // The refresh lock goes with the step: when this caller has gone, the writers'
            // own catch-up (`refresh_covering`) moves the snapshot on instead.
            (step, refreshing)
        });
        if let Ok((Some(step), _refreshing)) = group.await {
            if let Err(error) = self.take_step(step, since, started).await {
                // The group is committed; the writers' own catch-up tries again.
                tracing::warn!(error = %error, "moving the snapshot on after a group commit failed");
            }
        }
    }

    pub async fn upsert_org(&self, actor: &Actor, org: Org) -> Result<Org, AppError> {
        let stored = org.clone();
        self.write(actor, RequestField::Single("org"), move |connection| {
            let created = storage::upsert_org(connection, &stored)?;
            let summary = if created { "org created" } else { "org updated" };
            Ok(((), AuditRecord::new(summary, vec![Entity::new(EntityKind::Org, stored.org_id.as_str())])))
        })
        .await?;
        Ok(org)
    }

    pub async fn delete_org(&self, actor: &Actor, org_id: String) -> Result<(), AppError> {
        self.write(actor, RequestField::Single("org_id"), move |connection| {
            let mut affected = storage::delete_org(connection, &org_id)?;
            let summary = format!("org deleted with {} consents", count_of(&affected, EntityKind::Ticket));
            affected.push(Entity::new(EntityKind::Org, org_id));
            Ok(((), AuditRecord::new(summary, affected)))
        })
        .await
    }

    pub async fn grant_consent(&self, actor: &Actor, consent: Consent) -> Result<Consent, AppError> {
        let stored = consent.clone();
        self.write(actor, RequestField::Message("consent"), move |connection| {
            storage::upsert_consent(connection, &stored)?;
            let summary = format!("consent granted until {}", stored.expires_at);
            Ok((
                (),
                AuditRecord::new(
                    summary,
                    consent_entities(stored.org_id.as_str(), stored.ticket_id.as_str(), stored.agent_id.as_str()),
                ),
            ))
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
        self.write(actor, RequestField::Single("ticket_id"), move |connection| {
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
            .write(actor, RequestField::Batch("agents"), move |connection| {
                let counts = storage::upsert_agents(connection, &batch)?;
                let affected =
                    batch.iter().map(|agent| Entity::new(EntityKind::Agent, agent.agent_id.as_str())).collect();
                Ok((counts, AuditRecord::new(counts_summary("agents", counts), affected)))
            })
            .await?;
        Ok((Arc::unwrap_or_clone(agents), counts))
    }

    pub async fn delete_agent(&self, actor: &Actor, agent_id: String) -> Result<(), AppError> {
        self.write(actor, RequestField::Single("agent_id"), move |connection| {
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

    /// Creates or replaces shifts or time off (`E`); each entry's agent must exist, and no
    /// entry may be one a source synced.
    pub async fn upsert_entries<E>(&self, actor: &Actor, entries: Vec<E>) -> Result<(Vec<E>, UpsertCounts), AppError>
    where
        E: OwnedEntry + Send + Sync + 'static,
    {
        let kind = E::KIND;
        check_batch(kind.batch_field(), kind.id_field(), entries.iter().map(E::id))?;
        let entries = Arc::new(entries);
        let batch = entries.clone();
        let counts = self
            .write(actor, RequestField::Batch(kind.batch_field()), move |connection| {
                let counts = storage::upsert_entries(connection, &batch)?;
                let affected = batch.iter().map(|entry| Entity::new(audit_kind(kind), entry.id())).collect();
                Ok((counts, AuditRecord::new(counts_summary(upserted_noun(kind), counts), affected)))
            })
            .await?;
        Ok((Arc::unwrap_or_clone(entries), counts))
    }

    /// Deletes one shift or time off entry (`E`), unless a source synced it.
    pub async fn delete_entry<E: OwnedEntry>(&self, actor: &Actor, entry_id: String) -> Result<(), AppError> {
        let kind = E::KIND;
        self.write(actor, RequestField::Single(kind.id_field()), move |connection| {
            storage::delete_entry::<E>(connection, &entry_id)?;
            let summary = format!("{} deleted", kind.entity_name());
            Ok(((), AuditRecord::new(summary, vec![Entity::new(audit_kind(kind), entry_id)])))
        })
        .await
    }
}

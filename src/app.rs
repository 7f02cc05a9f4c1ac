//! Use cases: what each RPC does, independent of gRPC. Reads are answered from the in-memory
//! snapshot; writes run in one database transaction, then the next snapshot is built from the
//! committed data and swapped in, in commit order.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::Mutex;

use crate::domain::coverage::{self, CoverageQuestion, OnShift, RequirementCoverage};
use crate::domain::decision::{self, AccessDecision, DecisionError, TicketDecision, TicketQuestion};
use crate::domain::policy::{PlanKind, Policy, Severity};
use crate::domain::roster::{Agent, Consent, FieldViolation, Org, Shift, TimeOff};
use crate::domain::snapshot::Snapshot;
use crate::domain::time::Instant;
use crate::storage::{self, StorageError, Store, UpsertCounts};

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
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldViolation::new(field, description)])
    }
}

/// Maps storage failures; `batch_field` names the batch (`shifts`) for errors about one entry.
fn storage_error(error: StorageError, batch_field: &str) -> AppError {
    match error {
        StorageError::NotFound { entity, id } => {
            AppError::NotFound { entity, field: format!("{}_id", entity.replace(' ', "_")), id }
        }
        StorageError::MissingAgent { index, agent_id } => {
            AppError::NotFound { entity: "agent", id: agent_id, field: format!("{batch_field}[{index}].agent_id") }
        }
        StorageError::Unavailable(message) => AppError::Unavailable(message),
        StorageError::BadUrl(message) | StorageError::Migration(message) | StorageError::Corrupt(message) => {
            AppError::Internal(message)
        }
        StorageError::Query(error) => AppError::Internal(error.to_string()),
    }
}

fn decision_error(error: DecisionError) -> AppError {
    match error {
        DecisionError::UnknownOrg(id) => AppError::NotFound { entity: "org", id, field: "org_id".into() },
        DecisionError::UnknownAgent(id) => AppError::NotFound { entity: "agent", id, field: "agent_id".into() },
        DecisionError::UnknownRegion { .. } => AppError::Internal(error.to_string()),
    }
}

/// Rejects a batch that is empty, too large, or names one ID twice.
pub fn check_batch<'a>(batch_field: &str, id_field: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), AppError> {
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    let mut violations = Vec::new();
    let mut n_entries = 0;
    for (entry_idx, id) in ids.enumerate() {
        n_entries += 1;
        if let Some(first_idx) = first_seen.insert(id, entry_idx) {
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
}

impl App {
    /// Loads everything stored and builds the first snapshot.
    pub async fn start(store: Store, policy: Arc<Policy>) -> Result<App, AppError> {
        let app = App {
            store,
            snapshot: ArcSwap::from_pointee(Snapshot::empty(policy.clone())),
            policy,
            write_lock: Mutex::new(()),
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

    /// Rebuilds the snapshot from the database.
    pub async fn refresh(&self) -> Result<(), AppError> {
        let stored = self.store.read(storage::load_all).await.map_err(|error| storage_error(error, ""))?;
        let snapshot = Snapshot::build(
            self.policy.clone(),
            stored.orgs,
            stored.agents,
            stored.shifts,
            stored.time_off,
            stored.consents,
        );
        tracing::debug!(
            snapshot.agents = snapshot.n_agents(),
            snapshot.shifts = snapshot.n_shifts(),
            "snapshot rebuilt"
        );
        self.snapshot.store(Arc::new(snapshot));
        Ok(())
    }

    /// Runs one write transaction, then swaps in the snapshot of what it committed.
    async fn write<T, F>(&self, field: &str, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut storage::AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let _writer = self.write_lock.lock().await;
        let outcome = self.store.write(work).await.map_err(|error| storage_error(error, field))?;
        if let Err(error) = self.refresh().await {
            // The write is committed; the next successful refresh will show it.
            tracing::error!(error = %error, "snapshot refresh after a committed write failed");
        }
        Ok(outcome)
    }

    pub async fn upsert_org(&self, org: Org) -> Result<Org, AppError> {
        let stored = org.clone();
        self.write("org", move |connection| storage::upsert_org(connection, &stored)).await?;
        Ok(org)
    }

    pub async fn delete_org(&self, org_id: String) -> Result<(), AppError> {
        self.write("org_id", move |connection| storage::delete_org(connection, &org_id)).await
    }

    pub async fn grant_consent(&self, consent: Consent) -> Result<Consent, AppError> {
        let stored = consent.clone();
        self.write("consent.org_id", move |connection| storage::upsert_consent(connection, &stored)).await?;
        Ok(consent)
    }

    pub async fn revoke_consent(&self, org_id: String, ticket_id: String, agent_id: String) -> Result<(), AppError> {
        self.write("ticket_id", move |connection| storage::delete_consent(connection, &org_id, &ticket_id, &agent_id))
            .await
    }

    pub async fn upsert_agents(&self, agents: Vec<Agent>) -> Result<(Vec<Agent>, UpsertCounts), AppError> {
        check_batch("agents", "agent_id", agents.iter().map(|agent| agent.agent_id.as_str()))?;
        let agents = Arc::new(agents);
        let batch = agents.clone();
        let counts = self.write("agents", move |connection| storage::upsert_agents(connection, &batch)).await?;
        Ok((Arc::unwrap_or_clone(agents), counts))
    }

    pub async fn delete_agent(&self, agent_id: String) -> Result<(), AppError> {
        self.write("agent_id", move |connection| storage::delete_agent(connection, &agent_id)).await
    }

    pub async fn upsert_shifts(&self, shifts: Vec<Shift>) -> Result<(Vec<Shift>, UpsertCounts), AppError> {
        check_batch("shifts", "shift_id", shifts.iter().map(|shift| shift.shift_id.as_str()))?;
        let shifts = Arc::new(shifts);
        let batch = shifts.clone();
        let counts = self.write("shifts", move |connection| storage::upsert_shifts(connection, &batch)).await?;
        Ok((Arc::unwrap_or_clone(shifts), counts))
    }

    pub async fn delete_shift(&self, shift_id: String) -> Result<(), AppError> {
        self.write("shift_id", move |connection| storage::delete_shift(connection, &shift_id)).await
    }

    pub async fn upsert_time_off(&self, entries: Vec<TimeOff>) -> Result<(Vec<TimeOff>, UpsertCounts), AppError> {
        check_batch("time_off", "time_off_id", entries.iter().map(|entry| entry.time_off_id.as_str()))?;
        let entries = Arc::new(entries);
        let batch = entries.clone();
        let counts = self.write("time_off", move |connection| storage::upsert_time_off(connection, &batch)).await?;
        Ok((Arc::unwrap_or_clone(entries), counts))
    }

    pub async fn delete_time_off(&self, time_off_id: String) -> Result<(), AppError> {
        self.write("time_off_id", move |connection| storage::delete_time_off(connection, &time_off_id)).await
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

    pub fn decide_ticket(&self, question: &TicketQuestion) -> Result<TicketDecision, AppError> {
        decision::decide_ticket(&self.snapshot(), question).map_err(decision_error)
    }

    pub fn check_agent_access(&self, question: &TicketQuestion, agent_id: &str) -> Result<AccessDecision, AppError> {
        decision::check_agent_access(&self.snapshot(), question, agent_id).map_err(decision_error)
    }
}

//! What-if: the coverage report under hypothetical changes, or under a shift file as a sync would
//! apply it, compared with the report of the roster in force. Computed from the snapshot in
//! force (and, for a file, a dry run's read of what its source has stored); nothing is written,
//! so no audit event is made and no write lock is taken.

use std::sync::Arc;

use super::sync::{prepare_sync, sync_error, SyncRequest};
use super::{machine_parallelism, App, AppError};
use crate::domain::coverage::CoverageQuestion;
use crate::domain::ids::AgentId;
use crate::domain::sync::{snapshot_after_sync, SyncOutcome};
use crate::domain::what_if::{self, HypotheticalChange, Simulation, MAX_CHANGES};
use crate::domain::working_time::Warning;

/// What a simulation answers.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulationReport {
    pub simulation: Simulation,
    /// The agents whose roster the changes touched, in ID order.
    pub touched_agent_ids: Vec<AgentId>,
    /// For a shift file: what the sync would do, as its dry run counts it.
    pub sync: Option<SyncOutcome>,
    /// The working-time breaches the changes would introduce inside the report's window.
    pub warnings: Vec<Warning>,
}

impl App {
    /// The report `question` asks for with `changes` laid over the roster in force, in order.
    /// Off the async runtime: it is CPU work over the whole roster, as a report is.
    pub async fn simulate_changes(
        &self,
        question: CoverageQuestion,
        changes: Vec<HypotheticalChange>,
    ) -> Result<SimulationReport, AppError> {
        if changes.len() > MAX_CHANGES {
            return Err(AppError::invalid("changes", format!("at most {MAX_CHANGES} changes per simulation")));
        }
        let (stored, settings) = (self.snapshot(), self.working_time.clone());
        tokio::task::spawn_blocking(move || {
            let hypothetical = what_if::apply_changes(&stored, &changes).map_err(AppError::Invalid)?;
            let simulation = what_if::simulate(&stored, &hypothetical.snapshot, &question, machine_parallelism());
            let touched_agent_ids = hypothetical.touched_agent_ids;
            let warnings = what_if::working_time_warnings(
                (&stored, &hypothetical.snapshot),
                &touched_agent_ids,
                question.window,
                &settings,
                machine_parallelism(),
            );
            Ok(SimulationReport { simulation, touched_agent_ids, sync: None, warnings })
        })
        .await
        .map_err(|error| AppError::internal(format!("simulation task failed: {error}")))?
    }

    /// The report `question` asks for as if `sync` had been synced: the same checks and the same
    /// diff against what its source has stored as a dry run of `SyncShifts`, whose counts come
    /// with the answer. `sync.dry_run` is ignored: nothing is ever written here.
    pub async fn simulate_sync(
        &self,
        question: CoverageQuestion,
        sync: SyncRequest,
    ) -> Result<SimulationReport, AppError> {
        let request = Arc::new(prepare_sync(SyncRequest { dry_run: true, ..sync })?);
        let (stored, outcome) = self.dry_run_sync(&request).await;
        let outcome = outcome.map_err(|error| sync_error(error, &request))?;
        let settings = self.working_time.clone();
        tokio::task::spawn_blocking(move || {
            let hypothetical = snapshot_after_sync(&stored, &outcome, &request.entries);
            let simulation = what_if::simulate(&stored, &hypothetical, &question, machine_parallelism());
            let touched_agent_ids = what_if::touched_agents(&stored, &hypothetical);
            let warnings = what_if::working_time_warnings(
                (&stored, &hypothetical),
                &touched_agent_ids,
                question.window,
                &settings,
                machine_parallelism(),
            );
            SimulationReport { simulation, touched_agent_ids, sync: Some(outcome), warnings }
        })
        .await
        .map_err(|error| AppError::internal(format!("simulation task failed: {error}")))
    }
}

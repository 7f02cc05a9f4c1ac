//! Reads: answered from the snapshot in force, except the audit trail, read from the database.

use super::error::{decision_error, storage_error};
use super::{machine_parallelism, App, AppError};
use crate::audit::{AuditEvent, AuditQuery};
use crate::domain::coverage::{self, CoverageQuestion, OnShift, RequirementCoverage};
use crate::domain::decision::{self, AccessDecision, TicketDecision, TicketQuestion};
use crate::domain::policy::{PlanKind, Severity};
use crate::domain::time::Instant;
use crate::storage;

impl App {
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
        tokio::task::spawn_blocking(move || coverage::coverage_report(&snapshot, &question, machine_parallelism()))
            .await
            .map_err(|error| AppError::Internal(format!("coverage report task failed: {error}")))
    }

    pub fn on_shift(&self, plan: PlanKind, eea_tagged: bool, severity: Severity, at: Instant) -> Vec<OnShift> {
        coverage::on_shift(&self.snapshot(), plan, eea_tagged, severity, at)
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

//! `eeacoverage.v1.CoverageService`: coverage reports and who is on shift, from the snapshot.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::convert::{
    bounded_window_field, changes_from_pb, enum_field, gap_to_pb, plan_from_pb, plan_to_pb, question_instant_field,
    requirement_gap_changes_to_pb, severity_field, severity_to_pb, timestamp, warning_to_pb, working_time_to_pb,
};
use super::known_at::{as_known_at_field, snapshot_for};
use super::pagination::{next_page_token, page_request};
use super::roster_service::{count, sync_counts, MAX_LISTED_WARNINGS, MAX_REPORTED_VIOLATIONS};
use super::status::{invalid, to_status};
use super::sync_file::{in_file, read_sync_file, ReadSyncFile};
use super::watches::{GapStream, WatchStreams};
use crate::app::{App, AppError, SimulationReport};
use crate::clock;
use crate::domain::coverage::{CoverageQuestion, RequirementCoverage, HOURS_PER_WEEK, MAX_REPORT_DAYS};
use crate::domain::ids::AgentId;
use crate::domain::policy::{PlanKind, Policy, ServiceHours, Severity};
use crate::domain::sync::SyncOutcome;
use crate::domain::time::tz_database_version;
use crate::domain::validation::Violations;
use crate::domain::what_if::Simulation;
use crate::domain::working_time::MAX_WORKING_TIME_DAYS;
use crate::pb;
use crate::pb::coverage_service_server::CoverageService;

/// The most agents one working-time report may name.
const MAX_WORKING_TIME_AGENTS: usize = 1_000;

/// The largest `min_staff` a report accepts.
pub const MAX_MIN_STAFF: i32 = 10_000;

pub struct CoverageApi {
    pub app: Arc<App>,
    pub watches: WatchStreams,
}

fn plan_field(violations: &mut Violations, plan: i32) -> Option<PlanKind> {
    enum_field(violations, "plan", plan, plan_from_pb, "PLAN_STANDARD or PLAN_EEA_ONLY")
}

fn seconds(micros: i64) -> i64 {
    micros.div_euclid(1_000_000)
}

fn requirement_to_pb(requirement: &RequirementCoverage) -> pb::RequirementCoverage {
    let RequirementCoverage { severity, around_the_clock, required_micros, covered_micros, gaps, thin, hour_of_week } =
        requirement;
    pb::RequirementCoverage {
        severity: severity_to_pb(*severity) as i32,
        hours: if *around_the_clock { "24x7" } else { "business" }.to_owned(),
        required_seconds: seconds(*required_micros),
        covered_seconds: seconds(*covered_micros),
        coverage_ratio: requirement.coverage_ratio(),
        gaps: gaps.iter().map(gap_to_pb).collect(),
        thin: thin
            .iter()
            .map(|interval| pb::ThinInterval {
                starts_at: Some(timestamp(interval.start())),
                ends_at: Some(timestamp(interval.end())),
            })
            .collect(),
        hour_of_week: (0..HOURS_PER_WEEK)
            .map(|cell_idx| {
                let cell = hour_of_week[cell_idx];
                pb::HourOfWeekCell {
                    weekday: (cell_idx / 24) as i32 + 1,
                    hour: (cell_idx % 24) as i32,
                    required: cell.min_eligible.is_some(),
                    min_eligible: cell.min_eligible.map_or(0, |count| i32::try_from(count).unwrap_or(i32::MAX)),
                }
            })
            .collect(),
    }
}

/// A report's question as a request carries it (GetCoverageReport's fields, which
/// SimulateCoverage repeats), every problem recorded in `violations`.
fn question_field(
    violations: &mut Violations,
    plan: i32,
    eea_tagged: bool,
    (window_start, window_end): (Option<prost_types::Timestamp>, Option<prost_types::Timestamp>),
    min_staff: i32,
) -> Option<CoverageQuestion> {
    let plan_kind = plan_field(violations, plan);
    let too_long = format!("the window may span at most {MAX_REPORT_DAYS} days");
    let ends = [("window_start", window_start), ("window_end", window_end)];
    let window = bounded_window_field(violations, ends, (MAX_REPORT_DAYS, &too_long));
    if !(0..=MAX_MIN_STAFF).contains(&min_staff) {
        violations.add("min_staff", format!("must be from 0 (meaning 1) to {MAX_MIN_STAFF}"));
        return None;
    }
    Some(CoverageQuestion { plan: plan_kind?, eea_tagged, window: window?, min_staff: min_staff.max(1) as u32 })
}

impl CoverageApi {
    /// The report as GetCoverageReport answers it, for `question` and its `requirements`.
    fn report_to_pb(&self, question: &CoverageQuestion, requirements: &[RequirementCoverage]) -> pb::CoverageReport {
        report_to_pb(self.app.policy(), question, requirements)
    }
}

/// A report as the wire carries it, with the policy it was computed under.
fn report_to_pb(
    policy: &Policy,
    question: &CoverageQuestion,
    requirements: &[RequirementCoverage],
) -> pb::CoverageReport {
    let CoverageQuestion { plan, eea_tagged, window, min_staff } = *question;
    let rules = policy.rules(plan);
    let holiday_calendar = Severity::ALL
        .iter()
        .find_map(|severity| match rules.hours_for(*severity) {
            ServiceHours::Business(window) => Some(window.holidays.name()),
            ServiceHours::AroundTheClock => None,
        })
        .unwrap_or("none");
    pb::CoverageReport {
        plan: plan_to_pb(plan) as i32,
        eea_tagged,
        window_start: Some(timestamp(window.start())),
        window_end: Some(timestamp(window.end())),
        min_staff: i32::try_from(min_staff).unwrap_or(i32::MAX),
        requirements: requirements.iter().map(requirement_to_pb).collect(),
        tz_database_version: tz_database_version().to_owned(),
        policy_version: policy.facts.version.clone(),
        holiday_calendar: holiday_calendar.to_owned(),
        known_as: None,
    }
}

#[tonic::async_trait]
impl CoverageService for CoverageApi {
    async fn get_working_time_report(
        &self,
        request: Request<pb::GetWorkingTimeReportRequest>,
    ) -> Result<Response<pb::GetWorkingTimeReportResponse>, Status> {
        let pb::GetWorkingTimeReportRequest { window_start, window_end, agent_ids, page_size, page_token } =
            request.into_inner();
        let mut violations = Violations::default();
        let too_long = format!("the window may span at most {MAX_WORKING_TIME_DAYS} days");
        let ends = [("window_start", window_start), ("window_end", window_end)];
        let window = bounded_window_field(&mut violations, ends, (MAX_WORKING_TIME_DAYS, &too_long));
        if agent_ids.len() > MAX_WORKING_TIME_AGENTS {
            violations.add("agent_ids", format!("at most {MAX_WORKING_TIME_AGENTS} agents at once"));
        }
        if !violations.0.is_empty() {
            return Err(invalid(violations.0));
        }
        let window = window.expect("checked above");
        let page = page_request(page_size, &page_token)?;
        let started = std::time::Instant::now();
        let report = self.app.working_time_report(window, agent_ids, page).await.map_err(to_status)?;
        tracing::info!(
            report.agents = report.items.len(),
            report.days = window.end().duration_since(window.start()).as_hours() / 24,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "working-time report built"
        );
        Ok(Response::new(pb::GetWorkingTimeReportResponse {
            window_start: Some(timestamp(window.start())),
            window_end: Some(timestamp(window.end())),
            agents: report.items.iter().map(working_time_to_pb).collect(),
            next_page_token: next_page_token(report.next_after),
            policy_version: self.app.policy().facts.version.clone(),
            tz_database_version: tz_database_version().to_owned(),
        }))
    }

    async fn get_coverage_report(
        &self,
        request: Request<pb::GetCoverageReportRequest>,
    ) -> Result<Response<pb::CoverageReport>, Status> {
        let pb::GetCoverageReportRequest { plan, eea_tagged, window_start, window_end, min_staff, as_known_at } =
            request.into_inner();
        let as_known_at = as_known_at_field(as_known_at)?;
        let mut violations = Violations::default();
        let question = question_field(&mut violations, plan, eea_tagged, (window_start, window_end), min_staff);
        if !violations.0.is_empty() {
            return Err(invalid(violations.0));
        }
        let question = question.expect("checked above");
        let started = std::time::Instant::now();
        let (snapshot, known_as) = snapshot_for(&self.app, as_known_at).await?;
        let policy = snapshot.policy.clone();
        let requirements = self.app.coverage_report_from(snapshot, question).await.map_err(to_status)?;
        tracing::info!(
            report.plan = ?question.plan,
            report.days = question.window.end().duration_since(question.window.start()).as_hours() / 24,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "coverage report built"
        );
        Ok(Response::new(pb::CoverageReport { known_as, ..report_to_pb(&policy, &question, &requirements) }))
    }

    async fn simulate_coverage(
        &self,
        request: Request<pb::SimulateCoverageRequest>,
    ) -> Result<Response<pb::SimulateCoverageResponse>, Status> {
        let pb::SimulateCoverageRequest { plan, eea_tagged, window_start, window_end, min_staff, changes, sync_file } =
            request.into_inner();
        let mut violations = Violations::default();
        let question = question_field(&mut violations, plan, eea_tagged, (window_start, window_end), min_staff);
        if sync_file.is_some() && !changes.is_empty() {
            violations.add("sync_file", "give either changes or a sync_file, not both");
        }
        let changes = match changes_from_pb(changes) {
            Ok(changes) => changes,
            Err(found) => {
                violations.0.extend(found);
                Vec::new()
            }
        };
        if !violations.0.is_empty() {
            violations.0.truncate(MAX_REPORTED_VIOLATIONS);
            return Err(invalid(violations.0));
        }
        let question = question.expect("checked above");
        let started = std::time::Instant::now();
        // A file's entries outside its window are counted; the changes (or entries) simulated.
        let (simulated, outside_window, n_changes) = match sync_file {
            None => {
                let n_changes = changes.len();
                (self.app.simulate_changes(question, changes).await.map_err(to_status)?, 0, n_changes)
            }
            Some(file) => {
                // Reading a file of up to 8 MiB is CPU work: off the async runtime, as a report is.
                let app = self.app.clone();
                let ReadSyncFile { request, read } =
                    tokio::task::spawn_blocking(move || read_sync_file(&app, file, question.window)).await.map_err(
                        |error| to_status(AppError::internal(format!("reading a sync file failed: {error}"))),
                    )??;
                let n_entries = request.entries.n_entries();
                let simulated = self.app.simulate_sync(question, request).await.map_err(|error| {
                    to_status(match error {
                        AppError::Invalid(found) => {
                            AppError::Invalid(found.into_iter().map(|violation| in_file(&read, violation)).collect())
                        }
                        other => other,
                    })
                })?;
                (simulated, read.outside_window, n_entries)
            }
        };
        let SimulationReport { simulation, touched_agent_ids, sync, warnings } = simulated;
        tracing::info!(
            report.plan = ?question.plan,
            report.days = question.window.end().duration_since(question.window.start()).as_hours() / 24,
            simulation.changes = n_changes,
            simulation.touched_agents = touched_agent_ids.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "coverage simulated"
        );
        let Simulation { report: requirements, gap_changes } = simulation;
        Ok(Response::new(pb::SimulateCoverageResponse {
            report: Some(self.report_to_pb(&question, &requirements)),
            gap_changes: gap_changes.iter().map(requirement_gap_changes_to_pb).collect(),
            touched_agent_ids: touched_agent_ids.into_iter().map(AgentId::into_string).collect(),
            sync_file: sync.map(|outcome| {
                let SyncOutcome { agents, shifts, time_off } = outcome;
                pb::SyncFileOutcome {
                    shifts: Some(sync_counts(&shifts)),
                    time_off: Some(sync_counts(&time_off)),
                    agents: Some(sync_counts(&agents)),
                    outside_window: count(outside_window),
                }
            }),
            working_time_warnings: warnings.iter().take(MAX_LISTED_WARNINGS).map(warning_to_pb).collect(),
            working_time_warning_count: count(warnings.len()),
        }))
    }

    async fn list_on_shift(
        &self,
        request: Request<pb::ListOnShiftRequest>,
    ) -> Result<Response<pb::ListOnShiftResponse>, Status> {
        let pb::ListOnShiftRequest { plan, eea_tagged, severity, at, as_known_at } = request.into_inner();
        let as_known_at = as_known_at_field(as_known_at)?;
        let mut violations = Violations::default();
        let plan_kind = plan_field(&mut violations, plan);
        let severity_value = severity_field(&mut violations, "severity", severity);
        let at = question_instant_field("at", at, &mut violations.0);
        if !violations.0.is_empty() {
            return Err(invalid(violations.0));
        }
        let at = at.or(as_known_at).unwrap_or_else(clock::now);
        let (plan_kind, severity_value) = (plan_kind.expect("checked above"), severity_value.expect("checked above"));
        let (found, known_as) = match as_known_at {
            None => (self.app.on_shift(plan_kind, eea_tagged, severity_value, at), None),
            Some(known_at) => {
                let (snapshot, known_as) = snapshot_for(&self.app, Some(known_at)).await?;
                (App::on_shift_from(&snapshot, plan_kind, eea_tagged, severity_value, at), known_as)
            }
        };
        Ok(Response::new(pb::ListOnShiftResponse {
            agents: found
                .into_iter()
                .map(|entry| pb::OnShiftAgent {
                    agent_id: entry.agent_id.into_string(),
                    country: entry.country.to_string(),
                    shift_id: entry.shift_id.into_string(),
                    until: Some(timestamp(entry.until)),
                })
                .collect(),
            at: Some(timestamp(at)),
            known_as,
        }))
    }

    type WatchGapsStream = GapStream;

    async fn watch_gaps(
        &self,
        request: Request<pb::WatchGapsRequest>,
    ) -> Result<Response<Self::WatchGapsStream>, Status> {
        Ok(Response::new(self.watches.start_gaps(&self.app, request.into_inner()).await?))
    }
}

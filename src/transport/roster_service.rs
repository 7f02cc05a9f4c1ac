//! `eeacoverage.v1.RosterService`: agents, shifts and time off.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::convert::{
    agent_from_pb, agent_to_pb, batch_from_pb, question_instant_field, shift_from_pb, shift_to_pb, time_off_from_pb,
    time_off_to_pb,
};
use super::pagination::{page_request, take_page};
use super::status::{invalid, invalid_field, to_status};
use crate::app::{App, AppError};
use crate::domain::interval::Interval;
use crate::domain::roster::FieldViolation;
use crate::pb;
use crate::pb::roster_service_server::RosterService;

pub struct RosterApi {
    pub app: Arc<App>,
}

fn required_id(field: &str, value: &str) -> Result<(), Status> {
    if value.is_empty() {
        Err(invalid_field(field, "is required"))
    } else {
        Ok(())
    }
}

fn count(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// An optional filter window; when given, both ends are required and end is after start.
fn window_filter(window: Option<pb::TimeWindow>) -> Result<Option<Interval>, Status> {
    let Some(pb::TimeWindow { start_at, end_at }) = window else { return Ok(None) };
    let mut violations: Vec<FieldViolation> = Vec::new();
    let start = question_instant_field("window.start_at", start_at, &mut violations);
    let end = question_instant_field("window.end_at", end_at, &mut violations);
    if !violations.is_empty() {
        return Err(invalid(violations));
    }
    match (start, end) {
        (Some(start), Some(end)) => Interval::new(start, end)
            .map(Some)
            .ok_or_else(|| invalid_field("window.end_at", "must be after window.start_at")),
        (None, _) => Err(invalid_field("window.start_at", "is required when a window is given")),
        (_, None) => Err(invalid_field("window.end_at", "is required when a window is given")),
    }
}

fn unknown_agent(agent_id: &str) -> Status {
    to_status(AppError::NotFound { entity: "agent", id: agent_id.to_owned(), field: "agent_id".into() })
}

#[tonic::async_trait]
impl RosterService for RosterApi {
    async fn upsert_agents(
        &self,
        request: Request<pb::UpsertAgentsRequest>,
    ) -> Result<Response<pb::UpsertAgentsResponse>, Status> {
        let pb::UpsertAgentsRequest { agents } = request.into_inner();
        let agents = batch_from_pb("agents", agents, |agent| agent_from_pb(agent, None)).map_err(invalid)?;
        let (agents, counts) = self.app.upsert_agents(agents).await.map_err(to_status)?;
        tracing::info!(agents.created = counts.created, agents.updated = counts.updated, "agents upserted");
        Ok(Response::new(pb::UpsertAgentsResponse {
            agents: agents.iter().map(agent_to_pb).collect(),
            created: count(counts.created),
            updated: count(counts.updated),
        }))
    }

    async fn get_agent(&self, request: Request<pb::GetAgentRequest>) -> Result<Response<pb::Agent>, Status> {
        let pb::GetAgentRequest { agent_id } = request.into_inner();
        required_id("agent_id", &agent_id)?;
        let snapshot = self.app.snapshot();
        let roster = snapshot.agent(&agent_id).ok_or_else(|| unknown_agent(&agent_id))?;
        Ok(Response::new(agent_to_pb(&roster.agent)))
    }

    async fn list_agents(
        &self,
        request: Request<pb::ListAgentsRequest>,
    ) -> Result<Response<pb::ListAgentsResponse>, Status> {
        let pb::ListAgentsRequest { page_size, page_token } = request.into_inner();
        let page = page_request(page_size, &page_token)?;
        let snapshot = self.app.snapshot();
        let (rosters, next_page_token) =
            take_page(snapshot.agents_after(page.after.as_deref()), page.size, |roster| roster.agent.agent_id.clone());
        Ok(Response::new(pb::ListAgentsResponse {
            agents: rosters.into_iter().map(|roster| agent_to_pb(&roster.agent)).collect(),
            next_page_token,
        }))
    }

    async fn delete_agent(&self, request: Request<pb::DeleteAgentRequest>) -> Result<Response<()>, Status> {
        let pb::DeleteAgentRequest { agent_id } = request.into_inner();
        required_id("agent_id", &agent_id)?;
        self.app.delete_agent(agent_id.clone()).await.map_err(to_status)?;
        tracing::info!(agent.id = %agent_id, "agent deleted");
        Ok(Response::new(()))
    }

    async fn upsert_shifts(
        &self,
        request: Request<pb::UpsertShiftsRequest>,
    ) -> Result<Response<pb::UpsertShiftsResponse>, Status> {
        let pb::UpsertShiftsRequest { shifts } = request.into_inner();
        let shifts = batch_from_pb("shifts", shifts, |shift| shift_from_pb(shift, None)).map_err(invalid)?;
        let (shifts, counts) = self.app.upsert_shifts(shifts).await.map_err(to_status)?;
        tracing::info!(shifts.created = counts.created, shifts.updated = counts.updated, "shifts upserted");
        Ok(Response::new(pb::UpsertShiftsResponse {
            shifts: shifts.iter().map(shift_to_pb).collect(),
            created: count(counts.created),
            updated: count(counts.updated),
        }))
    }

    async fn list_shifts(
        &self,
        request: Request<pb::ListShiftsRequest>,
    ) -> Result<Response<pb::ListShiftsResponse>, Status> {
        let pb::ListShiftsRequest { agent_id, window, page_size, page_token } = request.into_inner();
        let window = window_filter(window)?;
        let page = page_request(page_size, &page_token)?;
        let snapshot = self.app.snapshot();
        let rosters: Vec<_> = if agent_id.is_empty() {
            snapshot.agents().collect()
        } else {
            vec![snapshot.agent(&agent_id).ok_or_else(|| unknown_agent(&agent_id))?]
        };
        let mut shifts: Vec<_> = rosters
            .into_iter()
            .flat_map(|roster| roster.shifts.iter())
            .filter(|shift| page.after.as_ref().is_none_or(|after| shift.shift_id > *after))
            .filter(|shift| {
                window.is_none_or(|window| {
                    shift.occurrences_within(window).is_ok_and(|occurrences| !occurrences.is_empty())
                })
            })
            .collect();
        shifts.sort_by(|left, right| left.shift_id.cmp(&right.shift_id));
        let (shifts, next_page_token) = take_page(shifts.into_iter(), page.size, |shift| shift.shift_id.clone());
        Ok(Response::new(pb::ListShiftsResponse {
            shifts: shifts.into_iter().map(shift_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn delete_shift(&self, request: Request<pb::DeleteShiftRequest>) -> Result<Response<()>, Status> {
        let pb::DeleteShiftRequest { shift_id } = request.into_inner();
        required_id("shift_id", &shift_id)?;
        self.app.delete_shift(shift_id.clone()).await.map_err(to_status)?;
        tracing::info!(shift.id = %shift_id, "shift deleted");
        Ok(Response::new(()))
    }

    async fn upsert_time_off(
        &self,
        request: Request<pb::UpsertTimeOffRequest>,
    ) -> Result<Response<pb::UpsertTimeOffResponse>, Status> {
        let pb::UpsertTimeOffRequest { time_off } = request.into_inner();
        let entries = batch_from_pb("time_off", time_off, |entry| time_off_from_pb(entry, None)).map_err(invalid)?;
        let (entries, counts) = self.app.upsert_time_off(entries).await.map_err(to_status)?;
        tracing::info!(time_off.created = counts.created, time_off.updated = counts.updated, "time off upserted");
        Ok(Response::new(pb::UpsertTimeOffResponse {
            time_off: entries.iter().map(time_off_to_pb).collect(),
            created: count(counts.created),
            updated: count(counts.updated),
        }))
    }

    async fn list_time_off(
        &self,
        request: Request<pb::ListTimeOffRequest>,
    ) -> Result<Response<pb::ListTimeOffResponse>, Status> {
        let pb::ListTimeOffRequest { agent_id, window, page_size, page_token } = request.into_inner();
        let window = window_filter(window)?;
        let page = page_request(page_size, &page_token)?;
        let snapshot = self.app.snapshot();
        let rosters: Vec<_> = if agent_id.is_empty() {
            snapshot.agents().collect()
        } else {
            vec![snapshot.agent(&agent_id).ok_or_else(|| unknown_agent(&agent_id))?]
        };
        let mut entries: Vec<_> = rosters
            .into_iter()
            .flat_map(|roster| roster.time_off.iter())
            .filter(|entry| page.after.as_ref().is_none_or(|after| entry.time_off_id > *after))
            .filter(|entry| window.is_none_or(|window| entry.period.overlaps(&window)))
            .collect();
        entries.sort_by(|left, right| left.time_off_id.cmp(&right.time_off_id));
        let (entries, next_page_token) = take_page(entries.into_iter(), page.size, |entry| entry.time_off_id.clone());
        Ok(Response::new(pb::ListTimeOffResponse {
            time_off: entries.into_iter().map(time_off_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn delete_time_off(&self, request: Request<pb::DeleteTimeOffRequest>) -> Result<Response<()>, Status> {
        let pb::DeleteTimeOffRequest { time_off_id } = request.into_inner();
        required_id("time_off_id", &time_off_id)?;
        self.app.delete_time_off(time_off_id.clone()).await.map_err(to_status)?;
        tracing::info!(time_off.id = %time_off_id, "time off deleted");
        Ok(Response::new(()))
    }
}

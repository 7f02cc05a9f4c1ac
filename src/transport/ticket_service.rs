//! `eeacoverage.v1.TicketService`: the hot path, answered from the in-memory snapshot.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::convert::{access_to_pb, category_field, decision_to_pb, question_instant_field, severity_field};
use super::status::{invalid, to_status};
use crate::app::App;
use crate::clock;
use crate::domain::decision::TicketQuestion;
use crate::domain::validation::{check_id, Violations};
use crate::pb;
use crate::pb::ticket_service_server::TicketService;

pub struct TicketApi {
    pub app: Arc<App>,
}

/// Checks the fields both calls share (and the agent, for access checks), names each bad one,
/// and asks the question they make.
fn ticket_question<'a>(
    org_id: &'a str,
    ticket_id: &'a str,
    severity: i32,
    category: i32,
    at: Option<prost_types::Timestamp>,
    agent_id: Option<&str>,
) -> Result<TicketQuestion<'a>, Status> {
    let mut violations = Violations::default();
    check_id(&mut violations, "org_id", org_id);
    if let Some(agent_id) = agent_id {
        check_id(&mut violations, "agent_id", agent_id);
    }
    if !ticket_id.is_empty() {
        check_id(&mut violations, "ticket_id", ticket_id);
    }
    let severity = severity_field(&mut violations, "severity", severity);
    let category = category_field(&mut violations, "category", category);
    let at = question_instant_field("at", at, &mut violations.0);
    violations
        .finish(|| TicketQuestion {
            org_id,
            ticket_id,
            severity: severity.expect("checked above"),
            category: category.expect("checked above"),
            at: at.unwrap_or_else(clock::now),
        })
        .map_err(invalid)
}

#[tonic::async_trait]
impl TicketService for TicketApi {
    async fn decide_ticket(
        &self,
        request: Request<pb::DecideTicketRequest>,
    ) -> Result<Response<pb::DecideTicketResponse>, Status> {
        let pb::DecideTicketRequest { org_id, severity, category, ticket_id, at } = request.into_inner();
        let question = ticket_question(&org_id, &ticket_id, severity, category, at, None)?;
        let decision = self.app.decide_ticket(&question).map_err(to_status)?;
        Ok(Response::new(decision_to_pb(decision, question.at)))
    }

    async fn check_agent_access(
        &self,
        request: Request<pb::CheckAgentAccessRequest>,
    ) -> Result<Response<pb::CheckAgentAccessResponse>, Status> {
        let pb::CheckAgentAccessRequest { org_id, ticket_id, severity, category, agent_id, at } = request.into_inner();
        let question = ticket_question(&org_id, &ticket_id, severity, category, at, Some(&agent_id))?;
        let access = self.app.check_agent_access(&question, &agent_id).map_err(to_status)?;
        Ok(Response::new(access_to_pb(&access)))
    }
}

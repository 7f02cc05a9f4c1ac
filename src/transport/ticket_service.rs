//! `eeacoverage.v1.TicketService`: the hot path, answered from the in-memory snapshot.

use std::sync::Arc;

use jiff::SignedDuration;

use tonic::{Request, Response, Status};

use super::convert::{
    access_to_pb, category_field, deadline_to_pb, decision_to_pb, question_instant_field, severity_field, window_field,
};
use super::explain::{explain_question, explanation_to_pb, ExplainQuestion};
use super::known_at::{as_known_at_field, snapshot_for};
use super::status::{invalid, invalid_field, to_status};
use super::watches::{WatchStreams, WindowStream};
use crate::app::{App, AppError, DeadlineItem};
use crate::clock;
use crate::domain::decision::TicketQuestion;
use crate::domain::time::Instant;
use crate::domain::validation::{check_id, FieldViolation, Violations, WindowReporting, WindowRules};
use crate::pb;
use crate::pb::ticket_service_server::TicketService;

pub struct TicketApi {
    pub app: Arc<App>,
    pub watches: WatchStreams,
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

/// The most items one `ComputeDeadlines` call may carry.
pub const MAX_DEADLINE_ITEMS: usize = 1_000;

/// A wire duration as a target: set, its two parts of one sign, not negative; kept to whole
/// microseconds, as instants are.
fn target_field(
    violations: &mut Violations,
    field: &str,
    target: Option<prost_types::Duration>,
) -> Option<SignedDuration> {
    let Some(prost_types::Duration { seconds, nanos }) = target else {
        violations.add(field, "is required");
        return None;
    };
    if !(-999_999_999..=999_999_999).contains(&nanos) || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0) {
        violations.add(field, "is not a valid duration (nanos within ±999,999,999, of the seconds' sign)");
        return None;
    }
    if seconds < 0 || nanos < 0 {
        violations.add(field, "must not be negative");
        return None;
    }
    Some(SignedDuration::new(seconds, nanos - nanos % 1_000))
}

/// Checks one `ComputeDeadlines` item, naming each bad field within the item (`item_error`
/// names it from the request's root).
fn deadline_item(item: pb::DeadlineQuery, now: Instant) -> Result<DeadlineItem, Vec<FieldViolation>> {
    let pb::DeadlineQuery { org_id, severity, category, ticket_id, clock_started_at, target, pauses, at } = item;
    let mut violations = Violations::default();
    check_id(&mut violations, "org_id", &org_id);
    if !ticket_id.is_empty() {
        check_id(&mut violations, "ticket_id", &ticket_id);
    }
    let severity = severity_field(&mut violations, "severity", severity);
    let category = category_field(&mut violations, "category", category);
    let started_field = "clock_started_at";
    let started_sent = clock_started_at.is_some();
    let clock_started_at = question_instant_field(started_field, clock_started_at, &mut violations.0);
    if !started_sent {
        violations.add(started_field, "is required");
    }
    let target = target_field(&mut violations, "target", target);
    let pauses: Vec<_> = pauses
        .into_iter()
        .enumerate()
        .filter_map(|(pause_idx, pause)| {
            let (start_field, end_field) =
                (format!("pauses[{pause_idx}].start_at"), format!("pauses[{pause_idx}].end_at"));
            let rules = WindowRules {
                start_field: &start_field,
                end_field: &end_field,
                longest: None,
                reporting: WindowReporting::Every,
            };
            window_field(&mut violations, &rules, pause.start_at, pause.end_at)
        })
        .collect();
    let at = question_instant_field("at", at, &mut violations.0);
    violations.finish(|| DeadlineItem {
        org_id,
        ticket_id,
        severity: severity.expect("checked above"),
        category: category.expect("checked above"),
        at: at.unwrap_or(now),
        clock_started_at: clock_started_at.expect("checked above"),
        target: target.expect("checked above"),
        pauses,
    })
}

/// An item's error, its fields named from the request's root. Internal errors are logged by
/// `to_status`, and the item sees only its code and message.
fn item_error(item_idx: usize, error: AppError) -> pb::ItemError {
    let prefixed = |violations: Vec<FieldViolation>| {
        violations
            .into_iter()
            .map(|violation| pb::ItemFieldViolation {
                field: format!("items[{item_idx}].{}", violation.field),
                description: violation.description,
            })
            .collect()
    };
    match error {
        AppError::Invalid(violations) => pb::ItemError {
            code: tonic::Code::InvalidArgument as i32,
            message: "invalid item".into(),
            violations: prefixed(violations),
        },
        AppError::NotFound { entity, id, field } => pb::ItemError {
            code: tonic::Code::NotFound as i32,
            message: format!("{entity} {id:?} not found"),
            violations: prefixed(vec![FieldViolation::new(field, format!("no {entity} has this ID"))]),
        },
        other => {
            let status = to_status(other);
            pb::ItemError { code: status.code() as i32, message: status.message().to_owned(), violations: Vec::new() }
        }
    }
}

#[tonic::async_trait]
impl TicketService for TicketApi {
    async fn decide_ticket(
        &self,
        request: Request<pb::DecideTicketRequest>,
    ) -> Result<Response<pb::DecideTicketResponse>, Status> {
        let pb::DecideTicketRequest { org_id, severity, category, ticket_id, at, as_known_at } = request.into_inner();
        let as_known_at = as_known_at_field(as_known_at)?;
        let at_given = at.is_some();
        let mut question = ticket_question(&org_id, &ticket_id, severity, category, at, None)?;
        let Some(known_at) = as_known_at else {
            let decision = self.app.decide_ticket(&question).map_err(to_status)?;
            return Ok(Response::new(decision_to_pb(decision, question.at)));
        };
        if !at_given {
            question.at = known_at;
        }
        let (snapshot, known_as) = snapshot_for(&self.app, Some(known_at)).await?;
        let decision = App::decide_ticket_from(&snapshot, &question).map_err(to_status)?;
        Ok(Response::new(pb::DecideTicketResponse { known_as, ..decision_to_pb(decision, question.at) }))
    }

    async fn check_agent_access(
        &self,
        request: Request<pb::CheckAgentAccessRequest>,
    ) -> Result<Response<pb::CheckAgentAccessResponse>, Status> {
        let pb::CheckAgentAccessRequest { org_id, ticket_id, severity, category, agent_id, at, as_known_at } =
            request.into_inner();
        let as_known_at = as_known_at_field(as_known_at)?;
        let at_given = at.is_some();
        let mut question = ticket_question(&org_id, &ticket_id, severity, category, at, Some(&agent_id))?;
        let Some(known_at) = as_known_at else {
            let access = self.app.check_agent_access(&question, &agent_id).map_err(to_status)?;
            return Ok(Response::new(access_to_pb(&access)));
        };
        if !at_given {
            question.at = known_at;
        }
        let (snapshot, known_as) = snapshot_for(&self.app, Some(known_at)).await?;
        let access = App::check_agent_access_from(&snapshot, &question, &agent_id).map_err(to_status)?;
        Ok(Response::new(pb::CheckAgentAccessResponse { known_as, ..access_to_pb(&access) }))
    }

    async fn compute_deadlines(
        &self,
        request: Request<pb::ComputeDeadlinesRequest>,
    ) -> Result<Response<pb::ComputeDeadlinesResponse>, Status> {
        let pb::ComputeDeadlinesRequest { items, as_known_at } = request.into_inner();
        if items.len() > MAX_DEADLINE_ITEMS {
            return Err(invalid_field(
                "items",
                &format!("{} items; at most {MAX_DEADLINE_ITEMS} per call", items.len()),
            ));
        }
        let as_known_at = as_known_at_field(as_known_at)?;
        // As known at a past moment, the items are read as they would have been then.
        let now = as_known_at.unwrap_or_else(clock::now);
        let (snapshot, known_as) = snapshot_for(&self.app, as_known_at).await?;
        // Each item is either refused here, or asked of the app and read at its instant.
        let mut checked: Vec<Result<Instant, Vec<FieldViolation>>> = Vec::with_capacity(items.len());
        let mut asked = Vec::new();
        for item in items {
            checked.push(deadline_item(item, now).map(|item| {
                let at = item.at;
                asked.push(item);
                at
            }));
        }
        let mut computed = self.app.compute_deadlines_from(snapshot, asked).await.map_err(to_status)?.into_iter();
        let answers = checked
            .into_iter()
            .enumerate()
            .map(|(item_idx, checked)| {
                let outcome = match checked {
                    Ok(at) => match computed.next().expect("one answer per item asked") {
                        Ok(deadline) => pb::deadline_answer::Outcome::Deadline(deadline_to_pb(&deadline, at)),
                        Err(error) => pb::deadline_answer::Outcome::Error(item_error(item_idx, error)),
                    },
                    Err(violations) => {
                        pb::deadline_answer::Outcome::Error(item_error(item_idx, AppError::Invalid(violations)))
                    }
                };
                pb::DeadlineAnswer { outcome: Some(outcome) }
            })
            .collect();
        Ok(Response::new(pb::ComputeDeadlinesResponse { answers, known_as }))
    }

    async fn explain_ticket(
        &self,
        request: Request<pb::ExplainTicketRequest>,
    ) -> Result<Response<pb::ExplainTicketResponse>, Status> {
        let ExplainQuestion { ticket, from, until } = explain_question(request.into_inner(), clock::now())?;
        let explanation = self.app.explain_ticket(ticket, from, until).await.map_err(to_status)?;
        Ok(Response::new(explanation_to_pb(explanation)))
    }

    type WatchWindowsStream = WindowStream;

    async fn watch_windows(
        &self,
        request: Request<pb::WatchWindowsRequest>,
    ) -> Result<Response<Self::WatchWindowsStream>, Status> {
        Ok(Response::new(self.watches.start_windows(&self.app, request.into_inner())?))
    }
}

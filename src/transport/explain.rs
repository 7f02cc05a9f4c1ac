//! `TicketService.ExplainTicket`: the ticket's history read and checked field by field, and the
//! explanation written back, each moment with a sentence for people.

use jiff::SignedDuration;
use tonic::Status;

use super::convert::{
    category_field, category_to_pb, consent_to_pb, decision_to_pb, question_instant_field, severity_field,
    severity_to_pb, timestamp, window_change_to_pb,
};
use super::known_at::known_as_to_pb;
use super::status::invalid;
use crate::app::{ExplainedMoment, Explanation};
use crate::domain::explain::{MomentCause, TicketChange, TicketHistory};
use crate::domain::policy::{Severity, TicketCategory};
use crate::domain::time::Instant;
use crate::domain::validation::{check_id, Violations};
use crate::pb;

/// The most changes one ticket's history may carry.
pub const MAX_TICKET_CHANGES: usize = 1_000;
/// The longest stretch one explanation covers, from the ticket's creation.
const LONGEST_EXPLANATION: SignedDuration = SignedDuration::from_hours(366 * 24);

/// What an `ExplainTicket` request asks: the ticket's history, where this page begins (`None`:
/// at its creation) and where the explanation ends.
pub struct ExplainQuestion {
    pub ticket: TicketHistory,
    pub from: Option<Instant>,
    pub until: Instant,
}

/// Checks every field of the request against `now`, naming each bad one.
pub fn explain_question(request: pb::ExplainTicketRequest, now: Instant) -> Result<ExplainQuestion, Status> {
    let pb::ExplainTicketRequest { org_id, ticket_id, created_at, severity, category, changes, until, from } = request;
    let mut violations = Violations::default();
    check_id(&mut violations, "org_id", &org_id);
    if !ticket_id.is_empty() {
        check_id(&mut violations, "ticket_id", &ticket_id);
    }
    let created_at_sent = created_at.is_some();
    let created_at = question_instant_field("created_at", created_at, &mut violations.0);
    if !created_at_sent {
        violations.add("created_at", "is required: when the ticket was created");
    }
    let severity = severity_field(&mut violations, "severity", severity);
    let category = category_field(&mut violations, "category", category);
    let until = match question_instant_field("until", until, &mut violations.0) {
        Some(until) if until > now => {
            violations.add("until", "is after now: nothing is known yet about a moment to come");
            None
        }
        Some(until) => Some(until),
        None => Some(now),
    };
    if let (Some(created_at), Some(until)) = (created_at, until) {
        if created_at >= until {
            let what = if created_at > now { "created_at is after now" } else { "must lie after created_at" };
            violations.add(if created_at > now { "created_at" } else { "until" }, what);
        } else if until.duration_since(created_at) > LONGEST_EXPLANATION {
            violations.add("until", "lies more than 366 days after created_at: explain a ticket a year at a time");
        }
    }
    let from = question_instant_field("from", from, &mut violations.0);
    if let (Some(from), Some(created_at), Some(until)) = (from, created_at, until) {
        if from < created_at || from >= until {
            violations.add("from", "must lie at or after created_at and before until");
        }
    }
    if changes.len() > MAX_TICKET_CHANGES {
        violations.add("changes", format!("{} changes; at most {MAX_TICKET_CHANGES}", changes.len()));
    }
    let mut checked_changes = Vec::with_capacity(changes.len().min(MAX_TICKET_CHANGES));
    let mut previous = created_at;
    for (change_idx, change) in changes.into_iter().take(MAX_TICKET_CHANGES).enumerate() {
        let pb::TicketChange { at, severity, category } = change;
        let field = |name: &str| format!("changes[{change_idx}].{name}");
        let at_sent = at.is_some();
        let at = question_instant_field(&field("at"), at, &mut violations.0);
        if !at_sent {
            violations.add(field("at"), "is required");
        }
        let severity = (severity != 0).then(|| severity_field(&mut violations, &field("severity"), severity)).flatten();
        let category = (category != 0).then(|| category_field(&mut violations, &field("category"), category)).flatten();
        if severity.is_none() && category.is_none() {
            violations.add(field("severity"), "a change sets the severity, the category or both");
        }
        if let Some(at) = at {
            if previous.is_some_and(|previous| at <= previous) {
                violations.add(field("at"), "must lie after created_at and after the change before it");
            } else if until.is_some_and(|until| at >= until) {
                violations.add(field("at"), "must lie before until (now when until is unset)");
            }
            previous = Some(at);
            checked_changes.push(TicketChange { at, severity, category });
        }
    }
    violations
        .finish(|| ExplainQuestion {
            ticket: TicketHistory {
                org_id,
                ticket_id,
                created_at: created_at.expect("checked above"),
                severity: severity.expect("checked above"),
                category: category.expect("checked above"),
                changes: checked_changes,
            },
            from,
            until: until.expect("checked above"),
        })
        .map_err(invalid)
}

pub fn explanation_to_pb(explanation: Explanation) -> pb::ExplainTicketResponse {
    let Explanation { moments, until, next_from } = explanation;
    pb::ExplainTicketResponse {
        moments: moments.into_iter().map(moment_to_pb).collect(),
        until: Some(timestamp(until)),
        next_from: next_from.map(timestamp),
    }
}

fn cause_to_pb(cause: MomentCause) -> pb::ExplainCause {
    match cause {
        MomentCause::Created => pb::ExplainCause::Created,
        MomentCause::SeverityChanged => pb::ExplainCause::SeverityChanged,
        MomentCause::CategoryChanged => pb::ExplainCause::CategoryChanged,
        MomentCause::Continued => pb::ExplainCause::Continued,
        MomentCause::TimePassed => pb::ExplainCause::TimePassed,
        MomentCause::ConsentExpired => pb::ExplainCause::ConsentExpired,
        MomentCause::RosterChanged => pb::ExplainCause::RosterChanged,
        MomentCause::PolicyChanged => pb::ExplainCause::PolicyChanged,
    }
}

fn moment_to_pb(explained: ExplainedMoment) -> pb::ExplainedMoment {
    let ExplainedMoment { moment, known } = explained;
    let summary = summary(&moment, known.roster_version, known.policy_version);
    let known_as = known_as_to_pb(&known);
    pb::ExplainedMoment {
        at: Some(timestamp(moment.at)),
        causes: moment.causes.iter().map(|cause| cause_to_pb(*cause) as i32).collect(),
        changes: moment.changes.iter().map(|change| window_change_to_pb(*change) as i32).collect(),
        consents_changed: moment.consents_changed,
        severity: severity_to_pb(moment.severity) as i32,
        category: category_to_pb(moment.category) as i32,
        decision: moment.decision.map(|decision| pb::DecideTicketResponse {
            known_as: Some(known_as),
            ..decision_to_pb(decision, moment.at)
        }),
        consents_in_force: moment.consents.iter().map(consent_to_pb).collect(),
        known_as: Some(known_as),
        summary,
    }
}

/// A wire enum's name without its prefix, in lower case with spaces: "third party".
fn spoken(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_lowercase().replace('_', " ")
}

fn severity_text(severity: Severity) -> String {
    format!("Sev{}", severity.number())
}

fn category_text(category: TicketCategory) -> String {
    spoken(category_to_pb(category).as_str_name(), "TICKET_CATEGORY_")
}

/// "Severity changed; Sev1 product support: <decision>; consents in force: ... (roster version
/// 12, policy version 2)".
fn summary(moment: &crate::domain::explain::Moment, roster_version: i64, policy_version: i64) -> String {
    let causes: Vec<String> =
        moment.causes.iter().map(|cause| spoken(cause_to_pb(*cause).as_str_name(), "EXPLAIN_CAUSE_")).collect();
    let causes = if causes.is_empty() { String::new() } else { format!("{}; ", causes.join(", ")) };
    let decision = match &moment.decision {
        Some(decision) => decision.detail.clone(),
        None => "the org was not known then".to_owned(),
    };
    let consents = if moment.consents.is_empty() {
        "no consent in force".to_owned()
    } else {
        let held: Vec<String> = moment
            .consents
            .iter()
            .map(|consent| format!("{} until {}", consent.agent_id.as_str(), consent.expires_at))
            .collect();
        format!("consents in force: {}", held.join(", "))
    };
    format!(
        "{causes}{} {}: {decision}; {consents} (roster version {roster_version}, policy version {policy_version})",
        severity_text(moment.severity),
        category_text(moment.category)
    )
}

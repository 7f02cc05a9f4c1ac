//! The one place use-case errors become gRPC statuses.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::app::AppError;
use crate::domain::roster::FieldViolation;

/// Longest description sent for one violation, and most violations sent in one status:
/// statuses travel in HTTP/2 headers, and a caller's 5,000-character value echoed back would
/// overflow them.
const MAX_DESCRIPTION_CHARS: usize = 200;
const MAX_VIOLATIONS_SENT: usize = 50;

fn shortened(text: &str) -> String {
    match text.char_indices().nth(MAX_DESCRIPTION_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

pub fn invalid(violations: Vec<FieldViolation>) -> Status {
    let n_violations = violations.len();
    let sent: Vec<FieldViolation> = violations
        .into_iter()
        .take(MAX_VIOLATIONS_SENT)
        .map(|violation| FieldViolation::new(shortened(&violation.field), shortened(&violation.description)))
        .collect();
    let mut summary: Vec<String> =
        sent.iter().take(5).map(|violation| format!("{}: {}", violation.field, violation.description)).collect();
    if n_violations > summary.len() {
        summary.push(format!("and {} more", n_violations - summary.len()));
    }
    let details = ErrorDetails::with_bad_request(
        sent.into_iter()
            .map(|violation| tonic_types::FieldViolation::new(violation.field, violation.description))
            .collect::<Vec<_>>(),
    );
    Status::with_error_details(Code::InvalidArgument, summary.join("; "), details)
}

/// An identifier the call cannot do without: present, and shaped as stored IDs are (an ID no
/// entity can have is a bad argument, not a missing entity).
pub fn required_id(field: &str, value: &str) -> Result<(), Status> {
    let mut violations = crate::domain::roster::Violations::default();
    crate::domain::roster::check_id(&mut violations, field, value);
    if violations.0.is_empty() {
        Ok(())
    } else {
        Err(invalid(violations.0))
    }
}

pub fn invalid_field(field: &str, description: &str) -> Status {
    invalid(vec![FieldViolation::new(field, description)])
}

/// Maps a use-case error. Internal errors are logged here, once, and the client sees no detail.
pub fn to_status(error: AppError) -> Status {
    match error {
        AppError::Invalid(violations) => invalid(violations),
        AppError::NotFound { entity, id, field } => {
            // The ID is echoed shortened: statuses travel in HTTP/2 headers.
            let id = shortened(&id);
            let details =
                ErrorDetails::with_resource_info(entity, id.clone(), "", format!("no {entity} with this ID ({field})"));
            Status::with_error_details(Code::NotFound, format!("{field}: {entity} {id:?} not found"), details)
        }
        AppError::OwnedElsewhere { field, description } => {
            let (field, description) = (shortened(&field), shortened(&description));
            let details = ErrorDetails::with_precondition_failure(vec![tonic_types::PreconditionViolation::new(
                "SOURCE_OWNED",
                field.clone(),
                description.clone(),
            )]);
            Status::with_error_details(Code::FailedPrecondition, format!("{field}: {description}"), details)
        }
        AppError::Conflict(message) => {
            tracing::info!(error = %message, "write refused by a concurrent one");
            Status::aborted("a concurrent write took one of these IDs first; retry to see the current state")
        }
        AppError::Incomplete(incomplete) => {
            let crate::domain::sync::IncompleteSync { declared, received } = incomplete;
            let details = ErrorDetails::with_error_info(
                "SYNC_INCOMPLETE",
                "eeacoverage.v1",
                [
                    ("declared_shift_count".to_owned(), declared.n_shifts.to_string()),
                    ("declared_time_off_count".to_owned(), declared.n_time_off.to_string()),
                    ("received_shift_count".to_owned(), received.n_shifts.to_string()),
                    ("received_time_off_count".to_owned(), received.n_time_off.to_string()),
                ],
            );
            Status::with_error_details(
                Code::Aborted,
                format!("end: {incomplete}; nothing was written, send the whole sync again"),
                details,
            )
        }
        AppError::CallerGone => Status::cancelled("the call ended before its write committed; nothing was written"),
        AppError::Unavailable(message) => {
            tracing::warn!(error = %message, "database unavailable");
            Status::unavailable("the database is unavailable; retry later")
        }
        AppError::Internal(message) => {
            tracing::error!(error = %message, "internal error");
            Status::internal("internal error")
        }
    }
}

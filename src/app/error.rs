//! The use cases' one error type, and how storage and decision errors map onto it.

use crate::domain::deadline::DeadlineError;
use crate::domain::decision::DecisionError;
use crate::domain::sync::IncompleteSync;
use crate::domain::validation::FieldViolation;
use crate::storage::{Refusal, StorageError};

/// The cause of an error the client is not told about, kept for the log.
pub type ErrorSource = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("{entity} {id:?} not found")]
    NotFound { entity: &'static str, id: String, field: String },
    #[error("service unavailable: {message}")]
    Unavailable {
        message: String,
        #[source]
        source: Option<ErrorSource>,
    },
    /// The entry belongs to a WFM source: only that source's syncs change it.
    #[error("{description}")]
    OwnedElsewhere { field: String, description: String },
    /// A check of the write refused it (the source refuses working-time breaches); nothing was
    /// written.
    #[error("{0}")]
    Refused(Refusal),
    /// Another write got there first; the caller may retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A sync's stream carried other counts than its end message declared.
    #[error("{0}")]
    Incomplete(IncompleteSync),
    /// The caller went away before the write committed; it was rolled back.
    #[error("the caller went away before the write committed")]
    CallerGone,
    #[error("internal error: {message}")]
    Internal {
        message: String,
        #[source]
        source: Option<ErrorSource>,
    },
}

/// The request field that an error about an unknown or source-owned ID points at: the caller
/// knows what its request looks like, storage does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestField {
    /// The call names no entity (loading the snapshot, reading the audit trail).
    Unnamed,
    /// The field naming the one entity the call is about (`shift_id`), named as it is.
    Single(&'static str),
    /// A message holding several IDs (`consent`): an error names the ID of the entity not found
    /// in it (`consent.agent_id`).
    Message(&'static str),
    /// A batch of entries (`shifts`): an error about one entry names its position (`shifts[3]`).
    Batch(&'static str),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldViolation::new(field, description)])
    }

    /// An internal error with nothing more to it than its message.
    pub fn internal(message: impl Into<String>) -> AppError {
        AppError::Internal { message: message.into(), source: None }
    }

    /// An unavailable service with nothing more to it than its message.
    pub fn unavailable(message: impl Into<String>) -> AppError {
        AppError::Unavailable { message: message.into(), source: None }
    }
}

impl RequestField {
    /// The field an unknown `entity` came in.
    fn of_missing(self, entity: &str) -> String {
        match self {
            RequestField::Unnamed => String::new(),
            RequestField::Single(field) | RequestField::Batch(field) => field.to_owned(),
            RequestField::Message(message) => format!("{message}.{entity}_id"),
        }
    }

    /// The field holding entry `index` of the request's entries.
    fn of_entry(self, index: usize) -> String {
        match self {
            RequestField::Unnamed => String::new(),
            RequestField::Single(field) => field.to_owned(),
            RequestField::Message(field) | RequestField::Batch(field) => format!("{field}[{index}]"),
        }
    }
}

/// Maps storage failures. `field` is where the request carried the IDs the call is about;
/// errors about one entry of a batch name it themselves. Internal and unavailable errors keep
/// the storage error as their source.
pub(super) fn storage_error(error: StorageError, field: RequestField) -> AppError {
    match error {
        StorageError::NotFound { entity, id } => AppError::NotFound { entity, id, field: field.of_missing(entity) },
        StorageError::MissingAgent { kind, index, agent_id } => AppError::NotFound {
            entity: "agent",
            id: agent_id,
            field: format!("{}[{index}].agent_id", kind.batch_field()),
        },
        StorageError::ForeignEntry { kind, index, id } => AppError::Invalid(vec![FieldViolation::new(
            format!("{}[{index}].{}", kind.batch_field(), kind.id_field()),
            format!("{id:?} is an entry of another source, or starts outside this sync's window"),
        )]),
        StorageError::Unavailable(ref message) => {
            AppError::Unavailable { message: message.clone(), source: Some(Box::new(error)) }
        }
        StorageError::BadUrl(ref message)
        | StorageError::Migration(ref message)
        | StorageError::Corrupt(ref message) => {
            AppError::Internal { message: message.clone(), source: Some(Box::new(error)) }
        }
        StorageError::Query(ref query_error) => {
            AppError::Internal { message: query_error.to_string(), source: Some(Box::new(error)) }
        }
        StorageError::Conflict(message) => AppError::Conflict(message),
        StorageError::Abandoned => AppError::CallerGone,
        StorageError::Refused(refusal) => AppError::Refused(refusal),
        StorageError::OwnedBySource { index, id, owner } => AppError::OwnedElsewhere {
            field: field.of_entry(index),
            description: format!("{id:?} was synced by source {owner:?}; change it through that source's SyncShifts"),
        },
    }
}

pub(super) fn deadline_error(error: DeadlineError) -> AppError {
    match error {
        DeadlineError::Decision(error) => decision_error(error),
        DeadlineError::DueBeyondSearch => AppError::Invalid(vec![FieldViolation::new("target", error.to_string())]),
        DeadlineError::StartedTooLongBefore => {
            AppError::Invalid(vec![FieldViolation::new("clock_started_at", error.to_string())])
        }
    }
}

pub(super) fn decision_error(error: DecisionError) -> AppError {
    match error {
        DecisionError::UnknownOrg(id) => AppError::NotFound { entity: "org", id, field: "org_id".into() },
        DecisionError::UnknownAgent(id) => AppError::NotFound { entity: "agent", id, field: "agent_id".into() },
        DecisionError::UnknownRegion { .. } => AppError::internal(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;
    use crate::storage::EntryKind;

    fn check_field(error: StorageError, field: RequestField, expected_field: &str) {
        match storage_error(error, field) {
            AppError::NotFound { field, .. } | AppError::OwnedElsewhere { field, .. } => {
                assert_eq!(field, expected_field)
            }
            AppError::Invalid(violations) => assert_eq!(violations[0].field, expected_field),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn not_found(entity: &'static str) -> StorageError {
        StorageError::NotFound { entity, id: "x".into() }
    }

    fn owned(index: usize) -> StorageError {
        StorageError::OwnedBySource { index, id: "x".into(), owner: "wfm".into() }
    }

    #[test]
    fn each_error_names_the_request_field_its_id_came_in() {
        check_field(not_found("shift"), RequestField::Single("shift_id"), "shift_id");
        check_field(not_found("agent"), RequestField::Message("consent"), "consent.agent_id");
        check_field(not_found("org"), RequestField::Message("consent"), "consent.org_id");
        check_field(owned(0), RequestField::Single("time_off_id"), "time_off_id");
        check_field(owned(3), RequestField::Batch("shifts"), "shifts[3]");
        let missing = |kind| StorageError::MissingAgent { kind, index: 2, agent_id: "a".into() };
        check_field(missing(EntryKind::Shift), RequestField::Batch("shifts"), "shifts[2].agent_id");
        check_field(missing(EntryKind::TimeOff), RequestField::Batch("time_off"), "time_off[2].agent_id");
        let foreign = |kind| StorageError::ForeignEntry { kind, index: 1, id: "s".into() };
        check_field(foreign(EntryKind::Shift), RequestField::Batch("shifts"), "shifts[1].shift_id");
        check_field(foreign(EntryKind::TimeOff), RequestField::Batch("shifts"), "time_off[1].time_off_id");
    }

    #[test]
    fn internal_and_unavailable_errors_keep_the_storage_error_as_their_cause() {
        let error = storage_error(StorageError::Corrupt("bad row".into()), RequestField::Unnamed);
        assert_eq!(error.to_string(), "internal error: bad row");
        assert_eq!(error.source().expect("a source").to_string(), "stored data is invalid: bad row");
        let error = storage_error(StorageError::Unavailable("gone".into()), RequestField::Unnamed);
        assert_eq!(error.to_string(), "service unavailable: gone");
        assert_eq!(error.source().expect("a source").to_string(), "database unavailable: gone");
    }
}

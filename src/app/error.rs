//! The use cases' one error type, and how storage and decision errors map onto it.

use crate::domain::decision::DecisionError;
use crate::domain::sync::IncompleteSync;
use crate::domain::validation::FieldViolation;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("{entity} {id:?} not found")]
    NotFound { entity: &'static str, id: String, field: String },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The entry belongs to a WFM source: only that source's syncs change it.
    #[error("{description}")]
    OwnedElsewhere { field: String, description: String },
    /// Another write got there first; the caller may retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A sync's stream carried other counts than its end message declared.
    #[error("{0}")]
    Incomplete(IncompleteSync),
    /// The caller went away before the write committed; it was rolled back.
    #[error("the caller went away before the write committed")]
    CallerGone,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldViolation::new(field, description)])
    }
}

/// Maps storage failures. `field` is the request field an unknown ID came in, for
/// single-entity calls (`shift_id`); errors about one entry of a batch name it themselves.
pub(super) fn storage_error(error: StorageError, field: &str) -> AppError {
    match error {
        // A field ending in "." is the message holding several IDs: the entity names the one.
        StorageError::NotFound { entity, id } => {
            let field = if field.ends_with('.') { format!("{field}{entity}_id") } else { field.to_owned() };
            AppError::NotFound { entity, id, field }
        }
        StorageError::MissingAgent { kind, index, agent_id } => {
            AppError::NotFound { entity: "agent", id: agent_id, field: format!("{kind}[{index}].agent_id") }
        }
        StorageError::ForeignEntry { kind, index, id } => AppError::Invalid(vec![FieldViolation::new(
            format!("{kind}[{index}].{}", if kind == "shifts" { "shift_id" } else { "time_off_id" }),
            format!("{id:?} is an entry of another source, or starts outside this sync's window"),
        )]),
        StorageError::Unavailable(message) => AppError::Unavailable(message),
        StorageError::BadUrl(message) | StorageError::Migration(message) | StorageError::Corrupt(message) => {
            AppError::Internal(message)
        }
        StorageError::Query(error) => AppError::Internal(error.to_string()),
        StorageError::Conflict(message) => AppError::Conflict(message),
        StorageError::Abandoned => AppError::CallerGone,
        StorageError::OwnedBySource { field, index, id, owner } => {
            let field = if field.ends_with("_id") { field.to_owned() } else { format!("{field}[{index}]") };
            AppError::OwnedElsewhere {
                field,
                description: format!(
                    "{id:?} was synced by source {owner:?}; change it through that source's SyncShifts"
                ),
            }
        }
    }
}

pub(super) fn decision_error(error: DecisionError) -> AppError {
    match error {
        DecisionError::UnknownOrg(id) => AppError::NotFound { entity: "org", id, field: "org_id".into() },
        DecisionError::UnknownAgent(id) => AppError::NotFound { entity: "agent", id, field: "agent_id".into() },
        DecisionError::UnknownRegion { .. } => AppError::Internal(error.to_string()),
    }
}

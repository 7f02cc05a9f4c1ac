//! The storage layer's one error type, and how diesel's errors map onto it.

use super::EntryKind;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database query failed: {0}")]
    Query(#[source] diesel::result::Error),
    /// A concurrent write took an ID first (a unique key refused this one); retrying decides.
    #[error("a concurrent write conflicts: {0}")]
    Conflict(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("{entity} {id:?} not found")]
    NotFound { entity: &'static str, id: String },
    /// The write's caller went away before the commit; the transaction was rolled back.
    #[error("the write was abandoned before its commit")]
    Abandoned,
    /// Entry `index` of a batch of `kind` names an agent that does not exist.
    #[error("{}[{index}].agent_id: agent {agent_id:?} not found", kind.batch_field())]
    MissingAgent { kind: EntryKind, index: usize, agent_id: String },
    /// Entry `index` of a sync reuses the ID of an entry that another source owns, or that starts
    /// outside the sync's window.
    #[error("{}[{index}]: {id:?} belongs to an entry outside this source's window", kind.batch_field())]
    ForeignEntry { kind: EntryKind, index: usize, id: String },
    /// Entry `index` of a direct upsert (or the one entry of a delete) names an entry that a WFM
    /// source owns; the caller knows which request field that is.
    #[error("{id:?} is owned by source {owner:?}")]
    OwnedBySource { index: usize, id: String, owner: String },
    /// A check of the write itself refused what it was about to commit; rolled back.
    #[error("{0}")]
    Refused(Refusal),
}

/// Why a write was refused before its commit: a summary, and each violation as a subject (what
/// it is about) and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// A machine-readable kind, such as `WORKING_TIME_BREACH`.
    pub kind: &'static str,
    pub summary: String,
    pub violations: Vec<(String, String)>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.summary)
    }
}

impl From<diesel::result::Error> for StorageError {
    fn from(error: diesel::result::Error) -> StorageError {
        match error {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, info) => {
                StorageError::Conflict(info.message().to_owned())
            }
            // A transaction the database gave up on can simply be retried.
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::SerializationFailure, info) => {
                StorageError::Conflict(info.message().to_owned())
            }
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::ClosedConnection, info) => {
                StorageError::Unavailable(info.message().to_owned())
            }
            // A server shutting down or restarting ends its sessions with a FATAL error, or the
            // connection just drops: the database is away, not the query wrong.
            diesel::result::Error::DatabaseError(_, info) if connection_lost(info.message()) => {
                StorageError::Unavailable(info.message().to_owned())
            }
            diesel::result::Error::RollbackErrorOnCommit { commit_error, .. } => StorageError::from(*commit_error),
            diesel::result::Error::BrokenTransactionManager => {
                StorageError::Unavailable("the connection broke during a transaction".to_owned())
            }
            other => StorageError::Query(other),
        }
    }
}

/// Whether a database error says the connection or the server went away (PostgreSQL's and
/// libpq's wording; SQLite never loses its file this way).
fn connection_lost(message: &str) -> bool {
    const SIGNS: [&str; 10] = [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "connection to server",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "connection reset by peer",
    ];
    let message = message.to_ascii_lowercase();
    SIGNS.iter().any(|sign| message.contains(sign))
}

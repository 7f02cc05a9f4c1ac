//! Persistence with diesel over SQLite (the embedded default) or PostgreSQL, picked by URL.
//! Only this module knows diesel. Every write runs in one transaction; instants are stored as
//! BIGINT microseconds since the epoch, UTC.
//!
//! The files follow the seams: `url` (where the data lives), `error`, `connection` (the pool and
//! the `Store` that runs work in transactions), `listener` (other replicas' writes),
//! `migrations` (with the version counter), `snapshot` (loading everything), one file per
//! aggregate (`orgs` with consents, `agents`, `owned_entries` for shifts and time off), `sync`,
//! `audit`, `history` (the roster as committed at a past version), `policy_versions` (the policy in force
//! over time), and `gap_webhook` (a lease, a state and an outbox); `rows` and `schema` are the tables as diesel sees them.

/// Inserts one row. INSERT is not available through the multi-backend connection, so it runs on
/// the inner connection, inside the same transaction.
macro_rules! insert_row {
    ($connection:expr, $table:expr, $row:expr) => {
        match $connection {
            $crate::storage::AnyConnection::Sqlite(inner) => diesel::insert_into($table).values($row).execute(inner),
            $crate::storage::AnyConnection::Postgresql(inner) => {
                diesel::insert_into($table).values($row).execute(inner)
            }
        }
    };
}

/// Inserts a slice of rows, as `insert_row!` does one. A few rows go one at a time, with the
/// one-row statement diesel keeps prepared (see `kept`), rather than in one statement prepared
/// anew for their number.
macro_rules! insert_rows {
    ($connection:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        let one_by_one = rows.len() <= $crate::storage::kept::MAX_ROWS_ONE_BY_ONE;
        match $connection {
            $crate::storage::AnyConnection::Sqlite(inner) if one_by_one => {
                rows.iter().try_fold(0, |n_inserted, row| {
                    diesel::insert_into($table).values(row).execute(inner).map(|n_rows| n_inserted + n_rows)
                })
            }
            $crate::storage::AnyConnection::Postgresql(inner) if one_by_one => {
                rows.iter().try_fold(0, |n_inserted, row| {
                    diesel::insert_into($table).values(row).execute(inner).map(|n_rows| n_inserted + n_rows)
                })
            }
            $crate::storage::AnyConnection::Sqlite(inner) => diesel::insert_into($table).values(rows).execute(inner),
            $crate::storage::AnyConnection::Postgresql(inner) => {
                diesel::insert_into($table).values(rows).execute(inner)
            }
        }
    }};
}

/// Evaluates `$run` with `$filter` bound to a filter on `$column` for `$ids` (a slice of IDs):
/// `= ?` when there is one, `IN (?, ...)` otherwise. A one-agent write names one ID, and
/// diesel keeps the prepared statement of an `=` filter, while it prepares an `IN` list anew
/// on every call (its length varies); on SQLite that preparation, with the history triggers
/// it compiles, was a large part of a small write's cost.
macro_rules! with_id_filter {
    ($column:expr, $ids:expr, |$filter:ident| $run:expr) => {
        match $ids {
            [only] => {
                let $filter = $column.eq(AsRef::<str>::as_ref(only));
                $run
            }
            ids => {
                let $filter = $column.eq_any(ids);
                $run
            }
        }
    };
}

mod agents;
mod audit;
mod batch;
mod changes;
mod connection;
mod error;
mod gap_webhook;
#[cfg(test)]
mod group_tests;
mod history;
#[cfg(test)]
mod history_tests;
mod kept;
mod listener;
mod migrations;
mod orgs;
mod owned_entries;
mod policy_versions;
#[cfg(test)]
mod policy_versions_tests;
mod retention;
#[cfg(test)]
mod retention_tests;
mod rows;
mod schema;
#[cfg(test)]
mod schema_tests;
mod snapshot;
mod sync;
mod url;

pub use agents::{delete_agent, upsert_agents};
pub use audit::{append_audit_event, list_audit_events};
pub use batch::UpsertCounts;
pub use changes::{load_changes_since, StoredChanges};
pub use connection::{AnyConnection, Committed, GroupCommitted, GroupedOutcome, GroupedWork, Store};
pub use error::{Refusal, StorageError};
pub use gap_webhook::{
    append_webhook_events, claim_lease, load_webhook_state, release_lease, remove_webhook_events, renew_lease,
    waiting_webhook_events, StoredWebhookState,
};
pub use history::{commit_known_at, history_start, load_as_of, next_commit_after, RosterCommit};
pub use listener::{ChangeListener, CHANGES_CHANNEL};
pub use orgs::{delete_consent, delete_org, upsert_consent, upsert_org};
pub use owned_entries::{delete_entry, upsert_entries, EntryKind, OwnedEntry};
pub use policy_versions::{next_policy_after, policy_known_at, PolicyVersion};
pub use retention::{expire_before, expiry_bounds, expiry_preview, ExpiredRows, Expiry, ExpiryBounds, TableCounts};
pub use snapshot::{load_all, StoredRoster};
pub use sync::sync_source;
pub use url::DatabaseUrl;

//! Bounded history: what lies before the retention window (the roster's history, its commits,
//! the policy versions and the audit trail) is read out for export, then removed through the
//! one path the append-only triggers admit (migration `2026-12-03-000009_history_retention`):
//! a row in `expiry_gate`, written and emptied inside the expiry's own transaction.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::connection::serialise_writers;
use super::rows::to_micros;
use super::{append_audit_event, commit_known_at, policy_known_at, AnyConnection, StorageError};
use crate::audit::{Actor, AuditRecord};
use crate::domain::time::Instant;

/// Where an expiry cuts: everything only the past before `cutoff` needs goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiryBounds {
    pub cutoff: Instant,
    /// The last roster version committed at or before the cutoff; it stays, with every row stored
    /// at it. `None`: the history begins after the cutoff, and none of it goes.
    pub through_version: Option<i64>,
    /// The policy version in force at the cutoff; those before it go.
    pub first_kept_policy: Option<i64>,
}

/// The rows of one table that an expiry removes, each as a JSON object of its columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiredRows {
    pub table: &'static str,
    pub rows: Vec<String>,
}

/// Rows per table, in the order an expiry exports and removes them.
pub type TableCounts = Vec<(&'static str, usize)>;

/// What an expiry did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiry {
    pub bounds: ExpiryBounds,
    /// Rows removed per table, in the order they were exported.
    pub removed: TableCounts,
    /// What the export answered (its checksum); `None` when nothing lay before the cutoff.
    pub exported: Option<String>,
    /// The audit event that records the removal.
    pub audit_sequence: Option<i64>,
}

/// A table an expiry reads and removes from: its columns, the order its lines are written in,
/// and which of its rows lie before the window (`{through}`, `{policy}` and `{before}` stand for
/// the bounds).
struct ExpiringTable {
    name: &'static str,
    columns: &'static [&'static str],
    order: &'static str,
    before_window: &'static str,
}

const CLOSED_BY_THROUGH: &str = "until_version IS NOT NULL AND until_version <= {through}";

/// In the order of removal: history rows before the commits that stamp their versions, an
/// event's entities before the event.
const EXPIRING_TABLES: [ExpiringTable; 10] = [
    ExpiringTable {
        name: "orgs_history",
        columns: &["org_id", "cloud_region", "plan", "since_version", "until_version"],
        order: "org_id, since_version",
        before_window: CLOSED_BY_THROUGH,
    },
    ExpiringTable {
        name: "consents_history",
        columns: &["org_id", "ticket_id", "agent_id", "expires_at", "since_version", "until_version"],
        order: "org_id, ticket_id, agent_id, since_version",
        before_window: CLOSED_BY_THROUGH,
    },
    ExpiringTable {
        name: "agents_history",
        columns: &[
            "agent_id",
            "display_name",
            "country",
            "time_zone",
            "severities",
            "source",
            "since_version",
            "until_version",
        ],
        order: "agent_id, since_version",
        before_window: CLOSED_BY_THROUGH,
    },
    ExpiringTable {
        name: "location_changes_history",
        columns: &["agent_id", "effective_at", "country", "since_version", "until_version"],
        order: "agent_id, effective_at, since_version",
        before_window: CLOSED_BY_THROUGH,
    },
    ExpiringTable {
        name: "shifts_history",
        columns: &[
            "shift_id",
            "agent_id",
            "severities",
            "country",
            "starts_at",
            "ends_at",
            "time_zone",
            "start_local",
            "end_time",
            "rrule",
            "exdates",
            "source",
            "first_start_at",
            "since_version",
            "until_version",
        ],
        order: "shift_id, since_version",
        before_window: CLOSED_BY_THROUGH,
    },
    ExpiringTable {
        name: "time_off_history",
        columns: &["time_off_id", "agent_id", "starts_at", "ends_at", "source", "since_version", "until_version"],
        order: "time_off_id, since_version",
        before_window: CLOSED_BY_THROUGH,
    },
    ExpiringTable {
        name: "roster_commits",
        columns: &["version", "committed_at", "audit_sequence"],
        order: "version",
        before_window: "version < {through}",
    },
    ExpiringTable {
        name: "policy_versions",
        columns: &["policy_version", "effective_at", "facts", "plan_settings"],
        order: "policy_version",
        before_window: "policy_version < {policy}",
    },
    ExpiringTable {
        name: "audit_event_entities",
        columns: &["kind", "entity_id", "sequence"],
        order: "sequence, kind, entity_id",
        before_window: "sequence IN (SELECT sequence FROM audit_events WHERE recorded_at < {before})",
    },
    ExpiringTable {
        name: "audit_events",
        columns: &[
            "sequence",
            "recorded_at",
            "caller",
            "rpc",
            "request_id",
            "summary",
            "n_affected",
            "listed_entities",
        ],
        order: "sequence",
        before_window: "recorded_at < {before}",
    },
];

impl ExpiringTable {
    /// The rows before the window, the bounds written in (numbers this module computed).
    fn condition(&self, bounds: &ExpiryBounds) -> String {
        // A missing bound admits nothing: no version or sequence lies below i64::MIN.
        self.before_window
            .replace("{through}", &bounds.through_version.unwrap_or(i64::MIN).to_string())
            .replace("{policy}", &bounds.first_kept_policy.unwrap_or(i64::MIN).to_string())
            .replace("{before}", &to_micros(bounds.cutoff).to_string())
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// The rows of `table` before the window, each as a JSON object of its columns as stored.
fn expiring_rows(
    connection: &mut AnyConnection,
    table: &ExpiringTable,
    bounds: &ExpiryBounds,
) -> Result<Vec<String>, StorageError> {
    let pairs: Vec<String> = table.columns.iter().map(|column| format!("'{column}', {column}")).collect();
    let (condition, order, name) = (table.condition(bounds), table.order, table.name);
    let lines = match connection {
        AnyConnection::Postgresql(inner) => diesel::sql_query(format!(
            "SELECT json_build_object({})::text AS line FROM {name} WHERE {condition} ORDER BY {order}",
            pairs.join(", ")
        ))
        .load::<Line>(inner)?,
        AnyConnection::Sqlite(inner) => diesel::sql_query(format!(
            "SELECT json_object({}) AS line FROM {name} WHERE {condition} ORDER BY {order}",
            pairs.join(", ")
        ))
        .load::<Line>(inner)?,
    };
    Ok(lines.into_iter().map(|line| line.line).collect())
}

/// What an expiry at `cutoff` would remove, table by table, as the database stands; nothing is
/// read out or changed.
pub fn expiry_preview(
    connection: &mut AnyConnection,
    cutoff: Instant,
) -> Result<(ExpiryBounds, TableCounts), StorageError> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let bounds = expiry_bounds(connection, cutoff)?;
    let mut counts = Vec::with_capacity(EXPIRING_TABLES.len());
    for table in &EXPIRING_TABLES {
        let count =
            diesel::sql_query(format!("SELECT count(*) AS n FROM {} WHERE {}", table.name, table.condition(&bounds)));
        let rows = match connection {
            AnyConnection::Postgresql(inner) => count.load::<Count>(inner)?,
            AnyConnection::Sqlite(inner) => count.load::<Count>(inner)?,
        };
        counts.push((table.name, rows.first().map_or(0, |row| row.n.max(0) as usize)));
    }
    Ok((bounds, counts))
}

/// Where an expiry at `cutoff` would cut, as the database stands.
pub fn expiry_bounds(connection: &mut AnyConnection, cutoff: Instant) -> Result<ExpiryBounds, StorageError> {
    Ok(ExpiryBounds {
        cutoff,
        through_version: commit_known_at(connection, cutoff)?.map(|commit| commit.version),
        first_kept_policy: policy_known_at(connection, cutoff)?.map(|policy| policy.policy_version),
    })
}

/// Removes everything only the past before `cutoff` needs, holding the writers' lock, in one
/// transaction: the rows are read, handed to `export` (which must have stored them durably
/// before it answers; its answer, a checksum, is recorded), removed through the gate, and the
/// removal appended to the audit trail as `actor`'s. When `export` fails, nothing is removed.
/// Answers as known at any moment from the cutoff on are the same before and after.
pub fn expire_before(
    connection: &mut AnyConnection,
    cutoff: Instant,
    actor: &Actor,
    now: Instant,
    export: impl FnOnce(&ExpiryBounds, &[ExpiredRows]) -> Result<String, StorageError>,
) -> Result<Expiry, StorageError> {
    connection.transaction(|connection| {
        serialise_writers(connection)?;
        let bounds = expiry_bounds(connection, cutoff)?;
        let mut expired = Vec::with_capacity(EXPIRING_TABLES.len());
        for table in &EXPIRING_TABLES {
            expired.push(ExpiredRows { table: table.name, rows: expiring_rows(connection, table, &bounds)? });
        }
        let removed: Vec<(&'static str, usize)> = expired.iter().map(|rows| (rows.table, rows.rows.len())).collect();
        let n_removed: usize = removed.iter().map(|(_, count)| count).sum();
        if n_removed == 0 {
            return Ok(Expiry { bounds, removed, exported: None, audit_sequence: None });
        }
        let checksum = export(&bounds, &expired)?;
        let gate = format!(
            "INSERT INTO expiry_gate (through_version, before_micros, first_kept_policy) VALUES ({}, {}, {})",
            bounds.through_version.unwrap_or(i64::MIN),
            to_micros(cutoff),
            bounds.first_kept_policy.unwrap_or(i64::MIN)
        );
        connection.batch_execute(&gate)?;
        for (table, expired) in EXPIRING_TABLES.iter().zip(&expired) {
            let delete = diesel::sql_query(format!("DELETE FROM {} WHERE {}", table.name, table.condition(&bounds)));
            let n_deleted = match connection {
                AnyConnection::Postgresql(inner) => delete.execute(inner)?,
                AnyConnection::Sqlite(inner) => delete.execute(inner)?,
            };
            // What is removed is exactly what was exported (the writers' lock holds everything
            // still); anything else rolls the whole expiry back.
            if n_deleted != expired.rows.len() {
                return Err(StorageError::Corrupt(format!(
                    "{}: {n_deleted} rows removed, {} exported",
                    table.name,
                    expired.rows.len()
                )));
            }
        }
        connection.batch_execute("DELETE FROM expiry_gate")?;
        let counts: Vec<String> =
            removed.iter().filter(|(_, count)| *count > 0).map(|(table, count)| format!("{count} {table}")).collect();
        let summary = format!("expired what lay before {cutoff}: {} (export sha256 {checksum})", counts.join(", "));
        let sequence = append_audit_event(connection, actor, &AuditRecord::new(summary, Vec::new()), now)?;
        Ok(Expiry { bounds, removed, exported: Some(checksum), audit_sequence: Some(sequence) })
    })
}

impl super::Store {
    /// `expire_before` on a pooled connection, off the async runtime.
    pub async fn expire_history<F>(
        &self,
        cutoff: Instant,
        actor: Actor,
        now: Instant,
        export: F,
    ) -> Result<Expiry, StorageError>
    where
        F: FnOnce(&ExpiryBounds, &[ExpiredRows]) -> Result<String, StorageError> + Send + 'static,
    {
        self.read(move |connection| expire_before(connection, cutoff, &actor, now, export)).await
    }
}

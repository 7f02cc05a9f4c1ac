//! Expiry: what lies before the cutoff is handed to the export, then removed, and the roster as
//! known at every version from the cutoff on is what it was; no other path removes or changes
//! the history, the commits, the policy versions or the audit trail, and even the expiry's own
//! path cannot reach inside the window. On both backends.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use proptest::strategy::{Strategy, ValueTree};

use super::history_tests::{differences, in_order, sqlite_store, work, write};
use super::schema_tests::throwaway_postgres;
use super::*;
use crate::audit::{Actor, AuditRecord};
use crate::domain::time::Instant;

fn actor() -> Actor {
    Actor { caller: "command:expire".into(), rpc: "eea-coverage expire".into(), request_id: "test".into() }
}

/// The stamps of every committed version, oldest first.
fn stamps(store: &Store) -> Vec<(i64, i64)> {
    store
        .read_consistent_here(|connection| {
            Ok(schema::roster_commits::table
                .select((schema::roster_commits::version, schema::roster_commits::committed_at))
                .order(schema::roster_commits::version)
                .load(connection)?)
        })
        .unwrap()
}

fn audit_times(store: &Store) -> Vec<i64> {
    store
        .read_consistent_here(|connection| {
            Ok(schema::audit_events::table
                .select(schema::audit_events::recorded_at)
                .order(schema::audit_events::sequence)
                .load(connection)?)
        })
        .unwrap()
}

/// Runs `sql` in a transaction of its own; answers whether the triggers refused it.
fn refused(store: &Store, sql: &'static str) -> bool {
    // A refused statement fails the transaction, which then rolls back whole (a gate row the
    // statement wrote first included).
    let outcome = store.transaction_here(move |connection| connection.batch_execute(sql).map_err(StorageError::Query));
    match outcome {
        Ok(()) => false,
        Err(error) => {
            let message = error.to_string();
            assert!(message.contains("append-only"), "{sql} failed otherwise: {message}");
            true
        }
    }
}

/// The count a `SELECT count(*) AS n` query answers.
fn count_rows(store: &Store, sql: String) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows = store
        .read_consistent_here(move |connection| {
            Ok(match connection {
                AnyConnection::Postgresql(inner) => diesel::sql_query(sql).load::<Count>(inner)?,
                AnyConnection::Sqlite(inner) => diesel::sql_query(sql).load::<Count>(inner)?,
            })
        })
        .unwrap();
    rows[0].n
}

/// The database's clock, which stamps the commits: the events' times are read from it too.
fn database_instant(connection: &mut AnyConnection) -> Result<Instant, StorageError> {
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT {} AS n", super::connection::database_now(connection));
    let rows = match connection {
        AnyConnection::Postgresql(inner) => diesel::sql_query(sql).load::<Now>(inner)?,
        AnyConnection::Sqlite(inner) => diesel::sql_query(sql).load::<Now>(inner)?,
    };
    Ok(Instant::from_microsecond(rows[0].n).expect("the database's clock is in range"))
}

/// An expiry at `cutoff`, now by the database's clock.
fn expire_now(
    connection: &mut AnyConnection,
    cutoff: Instant,
    export: impl FnOnce(&ExpiryBounds, &[ExpiredRows]) -> Result<String, StorageError>,
) -> Result<Expiry, StorageError> {
    let now = database_instant(connection)?;
    expire_before(connection, cutoff, &actor(), now, export)
}

fn check_expiry(store: &Store, groups: Vec<Vec<history_tests::Write>>) {
    // Each group commits with an audit event, as the service's writes do.
    let mut stored_at = Vec::new();
    for group in groups {
        let works: Vec<GroupedWork> = group
            .into_iter()
            .map(|drawn| {
                let inner = work(drawn);
                let boxed: GroupedWork = Box::new(move |connection: &mut AnyConnection| {
                    let outcome = inner(connection)?;
                    let now = database_instant(connection)?;
                    append_audit_event(connection, &actor(), &AuditRecord::new("a write", Vec::new()), now)?;
                    Ok(outcome)
                });
                boxed
            })
            .collect();
        let (committed, stored) = store.write_group_here(works, load_all).unwrap();
        if stored_at.last().is_none_or(|(version, _)| *version != committed.version) {
            stored_at.push((committed.version, in_order(stored)));
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let stamps_before = stamps(store);
    // The cutoff: just after the stamp of a version about a third of the way along.
    let (through, through_at) = stamps_before[stamps_before.len() / 3];
    let cutoff = Instant::from_microsecond(through_at + 1).unwrap();
    let audit_before = audit_times(store);

    // No path but the expiry's removes or changes anything of the history or the trail.
    for sql in [
        "DELETE FROM audit_events",
        "DELETE FROM audit_event_entities",
        "DELETE FROM roster_commits",
        "DELETE FROM policy_versions",
        "DELETE FROM shifts_history",
        "DELETE FROM agents_history",
        "UPDATE roster_commits SET committed_at = 0",
        "UPDATE audit_events SET summary = 'rewritten'",
        "UPDATE shifts_history SET agent_id = 'someone' WHERE until_version IS NOT NULL",
        "UPDATE agents_history SET country = 'US' WHERE until_version IS NOT NULL",
    ] {
        let table = sql.split_whitespace().nth(if sql.starts_with("DELETE") { 2 } else { 1 }).unwrap();
        let closed = if table.ends_with("_history") { " WHERE until_version IS NOT NULL" } else { "" };
        let nothing_to_touch = count_rows(store, format!("SELECT count(*) AS n FROM {table}{closed}")) == 0;
        if !nothing_to_touch {
            assert!(refused(store, sql), "{sql} went through");
        }
    }
    assert_eq!(stamps(store), stamps_before);

    // A failing export removes nothing.
    let failed = store.transaction_here(|connection| {
        expire_now(connection, cutoff, |_, _| Err(StorageError::Unavailable("the disk is full".into())))
    });
    assert!(matches!(failed, Err(StorageError::Unavailable(_))), "{failed:?}");
    assert_eq!(stamps(store), stamps_before);
    assert_eq!(audit_times(store), audit_before);

    let mut exported: Vec<ExpiredRows> = Vec::new();
    let expiry = store
        .transaction_here(|connection| {
            expire_now(connection, cutoff, |bounds, rows| {
                assert_eq!(bounds.through_version, Some(through));
                exported = rows.to_vec();
                Ok("checksum".into())
            })
        })
        .unwrap();
    assert_eq!(expiry.exported.as_deref(), Some("checksum"));
    let count = |table: &str| exported.iter().find(|rows| rows.table == table).unwrap().rows.len();
    assert_eq!(count("roster_commits"), stamps_before.iter().filter(|(version, _)| *version < through).count());
    let expired_events = audit_before.iter().filter(|at| **at <= through_at).count();
    assert_eq!(count("audit_events"), expired_events);
    for rows in &exported {
        for line in &rows.rows {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            if rows.table.ends_with("_history") {
                assert!(row["until_version"].as_i64().unwrap() <= through, "{line}");
            }
        }
    }
    assert_eq!(
        expiry.removed.iter().map(|(_, count)| count).sum::<usize>(),
        exported.iter().map(|rows| rows.rows.len()).sum::<usize>()
    );

    // What stays: the commits from `through` on, the events from the cutoff on and the expiry's
    // own, and the roster as known at each of those versions, unchanged.
    let kept: Vec<(i64, i64)> = stamps_before.iter().copied().filter(|(version, _)| *version >= through).collect();
    assert_eq!(stamps(store), kept);
    assert_eq!(store.read_consistent_here(history_start).unwrap().version, through);
    let audit_after = audit_times(store);
    assert_eq!(audit_after.len(), audit_before.len() - expired_events + 1);
    assert!(audit_after.iter().all(|at| *at > through_at));
    for (version, stored) in stored_at.iter().filter(|(version, _)| *version >= through) {
        let version = *version;
        let known = in_order(store.read_consistent_here(move |connection| load_as_of(connection, version)).unwrap());
        let differ = differences(&known, stored);
        assert!(differ.is_empty(), "as known at version {version}, the {differ:?} differ after the expiry");
    }
    if through > 0 {
        let gone = store.read_consistent_here(move |connection| load_as_of(connection, through - 1));
        assert!(matches!(gone, Err(StorageError::NotFound { .. })));
    }
    // The gate is empty again, and even through it nothing inside the window can be removed.
    assert_eq!(count_rows(store, "SELECT count(*) AS n FROM expiry_gate".into()), 0);
    assert!(refused(store, "DELETE FROM roster_commits"));
    let inside = format!(
        "INSERT INTO expiry_gate (through_version, before_micros, first_kept_policy) VALUES ({through}, {}, 0); \
         DELETE FROM roster_commits WHERE version = {through}",
        through_at + 1
    );
    let inside: &'static str = Box::leak(inside.into_boxed_str());
    assert!(refused(store, inside), "the version at the cutoff stays");
    let inside_events: &'static str = Box::leak(
        format!(
            "INSERT INTO expiry_gate (through_version, before_micros, first_kept_policy) VALUES ({through}, {}, 0); \
             DELETE FROM audit_events",
            through_at + 1
        )
        .into_boxed_str(),
    );
    assert!(refused(store, inside_events), "events inside the window stay");
    assert_eq!(stamps(store), kept);

    // A second expiry at the same cutoff finds nothing more.
    let again = store
        .transaction_here(|connection| expire_now(connection, cutoff, |_, _| panic!("nothing to export")))
        .unwrap();
    assert_eq!(again.exported, None);
}

fn drawn_groups(n_groups: usize) -> Vec<Vec<history_tests::Write>> {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    proptest::collection::vec(proptest::collection::vec(write(), 1..4), n_groups)
        .prop_map(|groups| groups)
        .new_tree(&mut runner)
        .unwrap()
        .current()
}

#[test]
fn an_expiry_removes_only_what_lies_before_the_window_on_sqlite() {
    let (_directory, store) = sqlite_store();
    check_expiry(&store, drawn_groups(30));
}

#[test]
fn an_expiry_removes_only_what_lies_before_the_window_on_postgres() {
    let Some((_database, url)) = throwaway_postgres("eea_expiry") else { return };
    let store = Store::open(&DatabaseUrl::parse(&url).unwrap()).unwrap();
    check_expiry(&store, drawn_groups(30));
}

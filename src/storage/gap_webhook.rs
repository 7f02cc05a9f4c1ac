//! The gap webhook's tables: the lease that says which replica delivers, what was last told the
//! receiver, and the events waiting to go. Payloads are text the caller writes and reads back;
//! this module knows only rows. Lease times are judged by the database's clock, so replicas
//! whose clocks disagree still agree on who holds it.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::connection::{POSTGRES_NOW, SQLITE_NOW};
use super::schema::{gap_webhook_outbox, gap_webhook_state};
use super::{AnyConnection, StorageError};

/// The gap webhook state's one row.
const STATE_ROW: &str = "gaps";

#[derive(QueryableByName)]
struct TermRow {
    #[diesel(sql_type = BigInt)]
    term: i64,
}

/// Runs `sql`, written with `{now}` for the database's clock and `$1`, `$2`.. for `binds` (text
/// first, then one number), and answers the `term` of the row it returns, if any.
fn lease_statement(
    connection: &mut AnyConnection,
    sql: &str,
    texts: [&str; 2],
    number: i64,
) -> Result<Option<i64>, StorageError> {
    let rows: Vec<TermRow> = match connection {
        AnyConnection::Postgresql(postgres) => diesel::sql_query(sql.replace("{now}", POSTGRES_NOW))
            .bind::<Text, _>(texts[0])
            .bind::<Text, _>(texts[1])
            .bind::<BigInt, _>(number)
            .load(postgres)?,
        AnyConnection::Sqlite(sqlite) => diesel::sql_query(
            sql.replace("{now}", SQLITE_NOW).replace("$1", "?1").replace("$2", "?2").replace("$3", "?3"),
        )
        .bind::<Text, _>(texts[0])
        .bind::<Text, _>(texts[1])
        .bind::<BigInt, _>(number)
        .load(sqlite)?,
    };
    Ok(rows.first().map(|row| row.term))
}

/// Takes the lease `name` for `holder` for `ttl_micros`, or renews it: answers its term when
/// `holder` now holds it. A lease held by another and not yet expired is left alone (`None`);
/// an expired one changes hands with its term one higher.
pub fn claim_lease(
    connection: &mut AnyConnection,
    name: &str,
    holder: &str,
    ttl_micros: i64,
) -> Result<Option<i64>, StorageError> {
    lease_statement(
        connection,
        "INSERT INTO leases (name, holder, term, expires_at) VALUES ($1, $2, 1, {now} + $3) \
         ON CONFLICT (name) DO UPDATE SET \
           holder = excluded.holder, \
           term = CASE WHEN leases.holder = excluded.holder THEN leases.term ELSE leases.term + 1 END, \
           expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at <= {now} \
         RETURNING term",
        [name, holder],
        ttl_micros,
    )
}

/// Extends the lease `name` by `ttl_micros` from now if `holder` still holds it in `term` and it
/// has not expired; `false` when it is lost.
pub fn renew_lease(
    connection: &mut AnyConnection,
    name: &str,
    holder: &str,
    term: i64,
    ttl_micros: i64,
) -> Result<bool, StorageError> {
    // The term is a number the service chose: written into the statement, it cannot change its
    // meaning.
    let renewed = lease_statement(
        connection,
        &format!(
            "UPDATE leases SET expires_at = {{now}} + $3 \
             WHERE name = $1 AND holder = $2 AND term = {term} AND expires_at > {{now}} \
             RETURNING term"
        ),
        [name, holder],
        ttl_micros,
    )?;
    Ok(renewed.is_some())
}

/// Gives the lease up at once (a replica stopping), so another takes it without waiting.
pub fn release_lease(connection: &mut AnyConnection, name: &str, holder: &str) -> Result<(), StorageError> {
    lease_statement(
        connection,
        "UPDATE leases SET expires_at = $3 WHERE name = $1 AND holder = $2 RETURNING term",
        [name, holder],
        0,
    )?;
    Ok(())
}

/// What the webhook last told its receiver.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct StoredWebhookState {
    pub roster_version: i64,
    pub looked_at: i64,
    pub gaps: String,
}

pub fn load_webhook_state(connection: &mut AnyConnection) -> Result<Option<StoredWebhookState>, StorageError> {
    Ok(gap_webhook_state::table
        .filter(gap_webhook_state::name.eq(STATE_ROW))
        .select((gap_webhook_state::roster_version, gap_webhook_state::looked_at, gap_webhook_state::gaps))
        .first(connection)
        .optional()?)
}

#[derive(Insertable)]
#[diesel(table_name = gap_webhook_state)]
struct StateRow<'a> {
    name: &'a str,
    roster_version: i64,
    looked_at: i64,
    gaps: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = gap_webhook_outbox)]
struct NewOutboxRow<'a> {
    created_at: i64,
    payload: &'a str,
}

/// Appends `payloads` to the outbox, in order, and replaces the state with `state`; then keeps
/// only the newest `max_waiting` events. Answers how many older ones that dropped. Runs in the
/// caller's transaction, after it has renewed its lease, so a replica that lost the lease writes
/// nothing.
pub fn append_webhook_events(
    connection: &mut AnyConnection,
    payloads: &[String],
    state: &StoredWebhookState,
    created_at: i64,
    max_waiting: usize,
) -> Result<usize, StorageError> {
    let rows: Vec<NewOutboxRow> = payloads.iter().map(|payload| NewOutboxRow { created_at, payload }).collect();
    if !rows.is_empty() {
        insert_rows!(connection, gap_webhook_outbox::table, &rows)?;
    }
    diesel::delete(gap_webhook_state::table.filter(gap_webhook_state::name.eq(STATE_ROW))).execute(connection)?;
    let row = StateRow {
        name: STATE_ROW,
        roster_version: state.roster_version,
        looked_at: state.looked_at,
        gaps: &state.gaps,
    };
    insert_row!(connection, gap_webhook_state::table, &row)?;
    let newest_dropped: Option<i64> = gap_webhook_outbox::table
        .select(gap_webhook_outbox::event_id)
        .order(gap_webhook_outbox::event_id.desc())
        .offset(max_waiting as i64)
        .first(connection)
        .optional()?;
    Ok(match newest_dropped {
        Some(newest) => diesel::delete(gap_webhook_outbox::table.filter(gap_webhook_outbox::event_id.le(newest)))
            .execute(connection)?,
        None => 0,
    })
}

/// The oldest `limit` events waiting, each with its ID.
pub fn waiting_webhook_events(
    connection: &mut AnyConnection,
    limit: usize,
) -> Result<Vec<(i64, String)>, StorageError> {
    Ok(gap_webhook_outbox::table
        .select((gap_webhook_outbox::event_id, gap_webhook_outbox::payload))
        .order(gap_webhook_outbox::event_id.asc())
        .limit(limit as i64)
        .load(connection)?)
}

/// Removes delivered events.
pub fn remove_webhook_events(connection: &mut AnyConnection, event_ids: &[i64]) -> Result<(), StorageError> {
    diesel::delete(gap_webhook_outbox::table.filter(gap_webhook_outbox::event_id.eq_any(event_ids)))
        .execute(connection)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{DatabaseUrl, Store};

    fn store() -> (tempfile::TempDir, Store) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = DatabaseUrl::Sqlite(directory.path().join("lease.db"));
        (directory, Store::open(&url).expect("a store"))
    }

    #[tokio::test]
    async fn a_lease_is_held_by_one_until_it_expires_and_then_changes_hands_with_a_new_term() {
        let (_directory, store) = store();
        let claim = |holder: &'static str, ttl: i64| {
            let store = store.clone();
            async move { store.read(move |connection| claim_lease(connection, "job", holder, ttl)).await.unwrap() }
        };
        assert_eq!(claim("a", 60_000_000).await, Some(1));
        assert_eq!(claim("b", 60_000_000).await, None, "b may not take a lease a holds");
        assert_eq!(claim("a", 60_000_000).await, Some(1), "renewing keeps the term");
        let renewed = store.read(|connection| renew_lease(connection, "job", "a", 1, 1)).await.unwrap();
        assert!(renewed, "a renews what it holds");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(!store.read(|connection| renew_lease(connection, "job", "a", 1, 1)).await.unwrap(), "expired");
        assert_eq!(claim("b", 60_000_000).await, Some(2), "an expired lease changes hands");
        assert!(!store.read(|connection| renew_lease(connection, "job", "a", 1, 60_000_000)).await.unwrap());
        store.read(|connection| release_lease(connection, "job", "b")).await.unwrap();
        assert_eq!(claim("a", 60_000_000).await, Some(3), "a released lease is free at once");
    }

    #[tokio::test]
    async fn the_outbox_keeps_events_in_order_and_drops_the_oldest_beyond_its_bound() {
        let (_directory, store) = store();
        let state = StoredWebhookState { roster_version: 3, looked_at: 10, gaps: "{}".into() };
        let payloads: Vec<String> = (0..5).map(|n| format!("event {n}")).collect();
        let written = state.clone();
        let dropped =
            store.read(move |connection| append_webhook_events(connection, &payloads, &written, 1, 3)).await.unwrap();
        assert_eq!(dropped, 2);
        let waiting = store.read(|connection| waiting_webhook_events(connection, 10)).await.unwrap();
        let texts: Vec<&str> = waiting.iter().map(|(_, payload)| payload.as_str()).collect();
        assert_eq!(texts, ["event 2", "event 3", "event 4"]);
        assert!(waiting.windows(2).all(|pair| pair[0].0 < pair[1].0));
        let first_id = waiting[0].0;
        store.read(move |connection| remove_webhook_events(connection, &[first_id])).await.unwrap();
        let left = store.read(|connection| waiting_webhook_events(connection, 1)).await.unwrap();
        assert_eq!(left[0].1, "event 3");
        assert_eq!(store.read(load_webhook_state).await.unwrap(), Some(state));
    }
}

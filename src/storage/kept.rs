//! Statements of a small write kept prepared, where diesel would prepare them anew on every call.
//!
//! diesel keeps a connection's prepared statements, but not those whose text its types cannot
//! fix: every `UPDATE` (a changeset may skip columns), every insert of a slice of rows (their
//! number varies) and every `sql_query`. Each call of such a statement is parsed and planned
//! again; on SQLite that includes compiling the history triggers of the table it writes, which
//! was the largest single cost of a one-agent write after its commit.
//!
//! The statements here write their own text from parts diesel does keep (a changeset, a filter),
//! and name no type of their own for the cache, so diesel keys them by their SQL text: a
//! statement of another text is another entry, and the few texts each takes keep the cache small.
//! Inserts of a few rows go one row at a time (`insert_rows!`), with the one-row statement
//! diesel keeps.

use diesel::backend::Backend;
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};
use diesel::QueryResult;

/// The most rows an insert carries one at a time, each with a kept statement: a single-agent
/// write's rows (its change log entry, a consent's three audit entities), not a sync's.
pub(super) const MAX_ROWS_ONE_BY_ONE: usize = 4;

/// A statement of fixed text without parameters, kept prepared.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeptText(pub &'static str);

impl<DB: Backend> QueryFragment<DB> for KeptText {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.0);
        Ok(())
    }
}

/// `UPDATE table SET changeset WHERE filter`, kept prepared: diesel's `update(...).set(...)`
/// without its refusal to be cached.
#[derive(Debug, Clone)]
pub(super) struct KeptUpdate<C, W> {
    table: &'static str,
    changeset: C,
    filter: W,
}

/// Updates the rows of `table` (its SQL name) that `filter` selects, as `changes` say.
pub(super) fn kept_update<C: AsChangeset, W>(
    table: &'static str,
    changes: C,
    filter: W,
) -> KeptUpdate<C::Changeset, W> {
    KeptUpdate { table, changeset: changes.as_changeset(), filter }
}

impl<C, W, DB> QueryFragment<DB> for KeptUpdate<C, W>
where
    DB: Backend,
    C: QueryFragment<DB>,
    W: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        out.push_identifier(self.table)?;
        out.push_sql(" SET ");
        self.changeset.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())
    }
}

// No static query ID: diesel then keys its cache by the SQL text (and the parameters' types).
impl QueryId for KeptText {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, W> QueryId for KeptUpdate<C, W> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> diesel::RunQueryDsl<Conn> for KeptText {}

impl<C, W, Conn> diesel::RunQueryDsl<Conn> for KeptUpdate<C, W> {}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;

    use super::*;

    diesel::table! {
        counters (id) {
            id -> BigInt,
            value -> BigInt,
            label -> Text,
        }
    }

    #[derive(AsChangeset)]
    #[diesel(table_name = counters)]
    struct CounterChange<'a> {
        value: i64,
        label: &'a str,
    }

    /// Counts the statements the connection prepares and keeps.
    #[derive(Clone, Default)]
    struct Prepared(Arc<Mutex<Vec<String>>>);

    impl Instrumentation for Prepared {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                self.0.lock().unwrap().push(sql.to_owned());
            }
        }
    }

    fn connection() -> (SqliteConnection, Prepared) {
        let mut connection = SqliteConnection::establish(":memory:").unwrap();
        connection
            .batch_execute(
                "CREATE TABLE counters (id BIGINT PRIMARY KEY, value BIGINT NOT NULL, label TEXT NOT NULL);
                 INSERT INTO counters VALUES (1, 0, 'a'), (2, 0, 'b');",
            )
            .unwrap();
        let prepared = Prepared::default();
        connection.set_instrumentation(prepared.clone());
        (connection, prepared)
    }

    fn values(connection: &mut SqliteConnection) -> Vec<(i64, i64, String)> {
        counters::table.order(counters::id).load(connection).unwrap()
    }

    #[test]
    fn an_update_is_prepared_once_and_run_with_each_call_s_values() {
        let (mut connection, prepared) = connection();
        for (value, label) in [(5, "x"), (7, "y")] {
            let change = CounterChange { value, label };
            let n_updated = kept_update("counters", &change, counters::id.eq(2)).execute(&mut connection).unwrap();
            assert_eq!(n_updated, 1);
        }
        assert_eq!(values(&mut connection), vec![(1, 0, "a".into()), (2, 7, "y".into())]);
        let kept: Vec<String> = prepared.0.lock().unwrap().clone();
        let updates: Vec<&String> = kept.iter().filter(|sql| sql.starts_with("UPDATE")).collect();
        assert_eq!(updates.len(), 1, "prepared once, then kept: {kept:?}");
        assert!(updates[0].contains("`value` = ?") && updates[0].contains("WHERE"), "{}", updates[0]);
    }

    /// A changeset of optional fields: the columns it sets, and so its text, vary with the values.
    #[derive(AsChangeset)]
    #[diesel(table_name = counters)]
    struct CounterPatch<'a> {
        value: Option<i64>,
        label: Option<&'a str>,
    }

    #[test]
    fn updates_of_one_type_but_different_texts_are_kept_apart() {
        let (mut connection, prepared) = connection();
        let patches = [
            CounterPatch { value: Some(3), label: None },
            CounterPatch { value: None, label: Some("q") },
            CounterPatch { value: Some(4), label: None },
        ];
        for patch in &patches {
            kept_update("counters", patch, counters::id.eq(1)).execute(&mut connection).unwrap();
        }
        assert_eq!(values(&mut connection), vec![(1, 4, "q".into()), (2, 0, "b".into())]);
        let kept = prepared.0.lock().unwrap().clone();
        assert_eq!(kept.iter().filter(|sql| sql.starts_with("UPDATE")).count(), 2, "one per text: {kept:?}");
    }

    #[test]
    fn diesel_s_own_update_is_prepared_on_every_call() {
        // What `kept_update` is for: if diesel ever keeps its own updates, this fails and the
        // module can go.
        let (mut connection, prepared) = connection();
        for value in [5, 7] {
            diesel::update(counters::table.find(1)).set(counters::value.eq(value)).execute(&mut connection).unwrap();
        }
        assert!(prepared.0.lock().unwrap().iter().all(|sql| !sql.starts_with("UPDATE")));
    }

    #[test]
    fn a_fixed_text_is_prepared_once() {
        let (mut connection, prepared) = connection();
        for _ in 0..3 {
            KeptText("UPDATE counters SET value = value + 1").execute(&mut connection).unwrap();
        }
        assert_eq!(values(&mut connection), vec![(1, 3, "a".into()), (2, 3, "b".into())]);
        let kept = prepared.0.lock().unwrap().clone();
        assert_eq!(kept.iter().filter(|sql| sql.starts_with("UPDATE")).count(), 1, "{kept:?}");
    }
}

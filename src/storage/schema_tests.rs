//! `schema.rs` against the migrations: every table and column that diesel is told about exists
//! with the same type and nullability once the migrations have run, on both backends, and the
//! migrations create nothing that `schema.rs` leaves out.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use super::migrations::run_migrations;
use super::schema;
use super::AnyConnection;

/// Each table's columns by name, each as (type as diesel names it, nullable).
type Tables = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// The tables that `schema.rs` declares, read from its `table!` blocks.
fn declared_tables() -> Tables {
    let mut tables = Tables::new();
    let mut current_table: Option<String> = None;
    for line in include_str!("schema.rs").lines().map(str::trim) {
        if let Some(table) = &current_table {
            if line == "}" {
                current_table = None;
            } else if let Some((column, column_type)) = line.trim_end_matches(',').split_once(" -> ") {
                let (column_type, nullable) = match column_type.strip_prefix("Nullable<") {
                    Some(inner) => (inner.trim_end_matches('>'), true),
                    None => (column_type, false),
                };
                let columns = tables.get_mut(table).expect("the table being read");
                columns.insert(column.to_owned(), (column_type.to_owned(), nullable));
            }
        } else if line.ends_with('{') && !line.starts_with("diesel::") {
            let table = line.split_whitespace().next().expect("a table name").to_owned();
            tables.insert(table.clone(), BTreeMap::new());
            current_table = Some(table);
        }
    }
    tables
}

/// The columns of `table` as diesel compiles them (`table::all_columns`), in order.
fn compiled_columns(select_sql: &str) -> Vec<String> {
    let columns = select_sql.trim_start_matches("SELECT ").split(" FROM ").next().expect("a column list");
    columns
        .split(", ")
        .map(|column| column.rsplit('.').next().expect("a column").trim_matches('`').to_owned())
        .collect()
}

macro_rules! compiled_tables {
    ($($table:ident),* $(,)?) => {
        vec![$((
            stringify!($table).to_owned(),
            compiled_columns(
                &diesel::debug_query::<diesel::sqlite::Sqlite, _>(&schema::$table::table.select(schema::$table::all_columns))
                    .to_string(),
            ),
        )),*]
    };
}

/// How each backend reports a type diesel names: SQLite as declared (a 64-bit integer may be
/// declared INTEGER, as a row ID alias must be), PostgreSQL by its own name.
fn accepted_types(diesel_type: &str, backend: &str) -> &'static [&'static str] {
    match (diesel_type, backend) {
        ("Text", "sqlite") => &["TEXT"],
        ("BigInt", "sqlite") => &["BIGINT", "INTEGER"],
        ("Integer", "sqlite") => &["INTEGER"],
        ("Text", "postgres") => &["text"],
        ("BigInt", "postgres") => &["bigint"],
        ("Integer", "postgres") => &["integer"],
        _ => panic!("schema.rs uses {diesel_type}, which this test does not know yet"),
    }
}

#[derive(QueryableByName)]
struct StoredColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Integer)]
    nullable: i32,
}

/// The tables the database holds after the migrations, leaving out the backend's and diesel's
/// own bookkeeping.
fn stored_tables(connection: &mut AnyConnection) -> Tables {
    let columns: Vec<StoredColumn> = match connection {
        AnyConnection::Sqlite(sqlite) => diesel::sql_query(
            "SELECT tables.name AS table_name, columns.name AS column_name, columns.type AS column_type, \
             CASE WHEN columns.\"notnull\" = 0 AND columns.pk = 0 THEN 1 ELSE 0 END AS nullable \
             FROM sqlite_master AS tables, pragma_table_info(tables.name) AS columns \
             WHERE tables.type = 'table' AND tables.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )
        .load(sqlite),
        AnyConnection::Postgresql(postgres) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             data_type::text AS column_type, CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS nullable \
             FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .load(postgres),
    }
    .expect("the database's columns");
    let mut tables = Tables::new();
    for column in columns.into_iter().filter(|column| !column.table_name.starts_with("__diesel")) {
        tables
            .entry(column.table_name)
            .or_default()
            .insert(column.column_name, (column.column_type, column.nullable != 0));
    }
    tables
}

/// Fails with every difference between `schema.rs` and what the migrations made.
fn check_schema_matches(connection: &mut AnyConnection, backend: &str) {
    let declared = declared_tables();
    let stored = stored_tables(connection);
    let mut differences = Vec::new();
    let declared_names: Vec<&String> = declared.keys().collect();
    let stored_names: Vec<&String> = stored.keys().collect();
    if declared_names != stored_names {
        differences.push(format!("tables: schema.rs has {declared_names:?}, the migrations made {stored_names:?}"));
    }
    for (table, declared_columns) in &declared {
        let Some(stored_columns) = stored.get(table) else { continue };
        for (column, (diesel_type, nullable)) in declared_columns {
            match stored_columns.get(column) {
                None => differences.push(format!("{table}.{column} is in schema.rs but no migration makes it")),
                Some((stored_type, stored_nullable)) => {
                    if !accepted_types(diesel_type, backend).contains(&stored_type.as_str()) {
                        differences.push(format!(
                            "{table}.{column} is {diesel_type} in schema.rs, {stored_type} in the database"
                        ));
                    }
                    if nullable != stored_nullable {
                        differences.push(format!(
                            "{table}.{column} is {} in schema.rs, {} in the database",
                            if *nullable { "nullable" } else { "not null" },
                            if *stored_nullable { "nullable" } else { "not null" },
                        ));
                    }
                }
            }
        }
        for column in stored_columns.keys().filter(|column| !declared_columns.contains_key(*column)) {
            differences.push(format!("{table}.{column} is made by a migration but missing from schema.rs"));
        }
    }
    assert!(differences.is_empty(), "{backend}: schema.rs and the migrations disagree:\n{}", differences.join("\n"));
}

#[test]
fn the_schema_file_is_read_as_diesel_compiles_it() {
    let compiled = compiled_tables!(
        orgs,
        consents,
        agents,
        location_changes,
        shifts,
        time_off,
        roster_version,
        audit_events,
        audit_event_entities,
        roster_changes,
        leases,
        gap_webhook_state,
        gap_webhook_outbox,
        roster_commits,
        orgs_history,
        consents_history,
        agents_history,
        location_changes_history,
        shifts_history,
        time_off_history,
        policy_versions,
        expiry_gate,
    );
    let declared = declared_tables();
    assert_eq!(compiled.len(), declared.len(), "every table of schema.rs is listed here");
    for (table, columns) in compiled {
        let declared_columns: Vec<&String> = declared[&table].keys().collect();
        let mut compiled_columns: Vec<&String> = columns.iter().collect();
        compiled_columns.sort();
        assert_eq!(declared_columns, compiled_columns, "{table}");
    }
}

#[test]
fn the_schema_matches_the_sqlite_migrations() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("schema.db");
    let sqlite = diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("a fresh SQLite file");
    let mut connection = AnyConnection::Sqlite(sqlite);
    run_migrations(&mut connection).expect("the migrations apply");
    check_schema_matches(&mut connection, "sqlite");
}

#[test]
fn the_schema_matches_the_postgres_migrations() {
    let Some((_database, url)) = throwaway_postgres("eea_schema") else { return };
    let postgres = diesel::PgConnection::establish(&url).expect("the new database");
    let mut connection = AnyConnection::Postgresql(postgres);
    run_migrations(&mut connection).expect("the migrations apply");
    check_schema_matches(&mut connection, "postgres");
}

/// A throw-away PostgreSQL database, dropped again when this goes (a failing test included).
pub(super) struct ThrowAwayDatabase {
    admin: diesel::PgConnection,
    name: String,
}

impl Drop for ThrowAwayDatabase {
    fn drop(&mut self) {
        let _ = self.admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
    }
}

/// A new database on the server `TEST_DATABASE_URL` names, with its URL; `None`, with a notice,
/// when the variable is unset, which fails the test under CI=true.
pub(super) fn throwaway_postgres(prefix: &str) -> Option<(ThrowAwayDatabase, String)> {
    let Some(admin_url) = std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty()) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI"
        );
        eprintln!("skipping a PostgreSQL test: TEST_DATABASE_URL is not set");
        return None;
    };
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!("{prefix}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut admin = diesel::PgConnection::establish(&admin_url)
        .unwrap_or_else(|error| panic!("TEST_DATABASE_URL is set but unreachable: {error}"));
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).expect("no leftover database");
    admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("creating a throw-away database");
    let url = with_database(&admin_url, &name);
    Some((ThrowAwayDatabase { admin, name }, url))
}

/// `admin_url` with its database replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(base, query)| (base, Some(query)));
    let scheme_end = base.find("://").map_or(0, |idx| idx + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |idx| scheme_end + idx);
    match query {
        Some(query) => format!("{}/{name}?{query}", &base[..host_end]),
        None => format!("{}/{name}", &base[..host_end]),
    }
}

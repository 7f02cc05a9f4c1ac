//! The schema's migrations, embedded and applied at start-up, and the version counter every
//! write bumps (replicas compare it to know whether their snapshot is current).

use std::sync::LazyLock;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::connection::{POSTGRES_NOW, SQLITE_NOW};
use super::kept::KeptText;
use super::listener::CHANGES_CHANNEL;
use super::schema::roster_version;
use super::{AnyConnection, StorageError};

pub(super) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub(super) const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any number of replicas may start at once; on PostgreSQL one applies the migrations while the
/// others wait on a session lock, then find nothing pending.
const MIGRATION_LOCK_KEY: i64 = 0x6565_6163_6f76; // "eeacov"

pub(super) fn run_migrations(connection: &mut AnyConnection) -> Result<(), StorageError> {
    let applied = match connection {
        AnyConnection::Sqlite(sqlite) => {
            sqlite.run_pending_migrations(SQLITE_MIGRATIONS).map(|versions| versions.len())
        }
        AnyConnection::Postgresql(postgres) => {
            postgres.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let outcome = postgres.run_pending_migrations(POSTGRES_MIGRATIONS).map(|versions| versions.len());
            postgres.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            outcome
        }
    }
    .map_err(|error| StorageError::Migration(error.to_string()))?;
    if applied > 0 {
        tracing::info!(migrations.applied = applied, "database migrations applied");
    }
    Ok(())
}

/// Counts one more committed write; answers the new count.
pub(super) fn bump_version(connection: &mut AnyConnection) -> Result<i64, StorageError> {
    KeptText("UPDATE roster_version SET version = version + 1 WHERE id = 1").execute(connection)?;
    if let AnyConnection::Postgresql(_) = connection {
        connection.batch_execute(&format!("NOTIFY {CHANGES_CHANNEL}"))?;
    }
    let stamp = match connection {
        AnyConnection::Sqlite(_) => STAMP_COMMIT_SQLITE.as_str(),
        AnyConnection::Postgresql(_) => STAMP_COMMIT_POSTGRES.as_str(),
    };
    KeptText(stamp).execute(connection)?;
    read_version(connection)
}

/// Stamps the version being committed with the database's clock (never before the previous
/// commit's stamp, so stamps keep commit order) and the last audit event written so far: the
/// commit's own, since writers are serialised and each appends its event before the version
/// moves. One clock for every replica, the database's, orders the stamps as the commits are
/// ordered.
static STAMP_COMMIT_SQLITE: LazyLock<String> = LazyLock::new(|| stamp_commit("max", SQLITE_NOW));
static STAMP_COMMIT_POSTGRES: LazyLock<String> = LazyLock::new(|| stamp_commit("greatest", POSTGRES_NOW));

/// The stamping statement, with the backend's larger-of function and clock.
fn stamp_commit(larger_of: &str, now: &str) -> String {
    format!(
        "INSERT INTO roster_commits (version, committed_at, audit_sequence) \
         SELECT version, {larger_of}({now}, coalesce((SELECT max(committed_at) FROM roster_commits), 0)), \
                (SELECT max(sequence) FROM audit_events) \
         FROM roster_version WHERE id = 1"
    )
}

pub(super) fn read_version(connection: &mut AnyConnection) -> Result<i64, StorageError> {
    Ok(roster_version::table.find(1).select(roster_version::version).get_result(connection)?)
}

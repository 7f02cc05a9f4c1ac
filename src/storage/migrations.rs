//! The schema's migrations, embedded and applied at start-up, and the version counter every
//! write bumps (replicas compare it to know whether their snapshot is current).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

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
    diesel::update(roster_version::table.find(1))
        .set(roster_version::version.eq(roster_version::version + 1))
        .execute(connection)?;
    if let AnyConnection::Postgresql(_) = connection {
        connection.batch_execute(&format!("NOTIFY {CHANGES_CHANNEL}"))?;
    }
    read_version(connection)
}

pub(super) fn read_version(connection: &mut AnyConnection) -> Result<i64, StorageError> {
    Ok(roster_version::table.find(1).select(roster_version::version).first(connection)?)
}

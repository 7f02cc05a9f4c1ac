//! Connections: the backend picked by URL, a pool of them, and the `Store` that runs work on
//! one off the async runtime, in a transaction when it writes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};

use super::changes::note_version;
use super::migrations::{bump_version, read_version, run_migrations};
use super::policy_versions::{record_policy, PolicyVersion};
use super::url::{redact, with_connect_timeout, CONNECTION_TIMEOUT};
use super::{DatabaseUrl, StorageError};

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// A pool of connections to one database, with migrations applied.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager>,
    pub(super) url: DatabaseUrl,
    /// Set while the database is known to be away: a call then waits only
    /// `IMPATIENT_CONNECTION_TIMEOUT` for a connection, so writes fail fast instead of piling up.
    impatient: Arc<AtomicBool>,
}

/// How long a call waits for a connection while the database is known to be away.
const IMPATIENT_CONNECTION_TIMEOUT: Duration = Duration::from_millis(250);

/// Every write transaction of every replica takes this lock first, so writes never interleave
/// (two replicas replacing one agent's relocations, say), as on SQLite's single writer.
const WRITE_LOCK_KEY: i64 = 0x6565_6163_7772; // "eeacwr"

struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = StorageError;

    fn connect(&self) -> Result<AnyConnection, StorageError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut connection = diesel::SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(|error| StorageError::Unavailable(format!("cannot open {}: {error}", path.display())))?;
                connection
                    .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                    .map_err(|error| StorageError::Unavailable(format!("cannot configure {}: {error}", path.display())))?;
                Ok(AnyConnection::Sqlite(connection))
            }
            DatabaseUrl::Postgres(url) => diesel::PgConnection::establish(&with_connect_timeout(url))
                .map(AnyConnection::Postgresql)
                // libpq's message (a refused certificate says why) ends in a newline.
                .map_err(|error| {
                    StorageError::Unavailable(format!(
                        "cannot connect to {}: {}",
                        redact(url),
                        error.to_string().trim_end()
                    ))
                }),
        }
    }

    /// A PostgreSQL connection can be cut by the network or a restarting server; an embedded
    /// SQLite connection cannot, and asking it would cost every call a statement parsed.
    fn is_valid(&self, connection: &mut AnyConnection) -> Result<(), StorageError> {
        match connection {
            AnyConnection::Sqlite(_) => Ok(()),
            AnyConnection::Postgresql(_) => connection.batch_execute("SELECT 1").map_err(StorageError::Query),
        }
    }

    /// A connection given back while its thread panics may still be inside a transaction: it is
    /// closed (which rolls the transaction back), never reused.
    fn has_broken(&self, _connection: &mut AnyConnection) -> bool {
        std::thread::panicking()
    }
}

/// What one write of a group answers, whatever its type.
pub type GroupedOutcome = Box<dyn std::any::Any + Send>;

/// The database's clock in microseconds since the Unix epoch, as each backend says it in SQL:
/// one clock for every replica, for what must be ordered across them (commit stamps, policy
/// versions, leases).
pub(super) const POSTGRES_NOW: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)";
pub(super) const SQLITE_NOW: &str = "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";

/// The database's clock as an SQL expression of `connection`'s backend.
pub(super) fn database_now(connection: &AnyConnection) -> &'static str {
    match connection {
        AnyConnection::Sqlite(_) => SQLITE_NOW,
        AnyConnection::Postgresql(_) => POSTGRES_NOW,
    }
}

/// One write of a group (see `Store::write_group_here`).
pub type GroupedWork = Box<dyn FnOnce(&mut AnyConnection) -> Result<GroupedOutcome, StorageError> + Send>;

/// A committed group: each write's own outcome or error, in order, and the version they share.
pub struct GroupCommitted {
    pub outcomes: Vec<Result<GroupedOutcome, StorageError>>,
    pub version: i64,
}

/// What a write transaction answered, and the roster version it committed (the count of
/// committed writes, its own included).
#[derive(Debug)]
pub struct Committed<T> {
    pub outcome: T,
    pub version: i64,
}

impl Store {
    /// Opens the database (creating a SQLite file and its directory on first start) and applies
    /// pending migrations.
    pub fn open(url: &DatabaseUrl) -> Result<Store, StorageError> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|error| {
                    StorageError::Unavailable(format!("cannot create {}: {error}", parent.display()))
                })?;
            }
        }
        let max_size = match url {
            DatabaseUrl::Sqlite(_) => 4,
            DatabaseUrl::Postgres(_) => 8,
        };
        let manager = ConnectionManager { url: url.clone() };
        // Connect once up front so a bad URL fails with the driver's own message.
        let mut first = manager.connect()?;
        run_migrations(&mut first)?;
        drop(first);
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .connection_timeout(CONNECTION_TIMEOUT)
            .build(manager)
            .map_err(|error| StorageError::Unavailable(error.to_string()))?;
        Ok(Store { pool, url: url.clone(), impatient: Arc::new(AtomicBool::new(false)) })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    fn connection(&self) -> Result<PooledConnection<ConnectionManager>, StorageError> {
        let connected = if self.impatient.load(Ordering::Relaxed) {
            self.pool.get_timeout(IMPATIENT_CONNECTION_TIMEOUT)
        } else {
            self.pool.get()
        };
        connected.map_err(|error| StorageError::Unavailable(error.to_string()))
    }

    /// Whether the database is known to be away (see `Store::impatient`).
    pub fn set_database_away(&self, away: bool) {
        self.impatient.store(away, Ordering::Relaxed);
    }

    /// Runs `work` on a pooled connection off the async runtime.
    pub async fn read<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&mut *store.connection()?))
            .await
            .map_err(|error| StorageError::Unavailable(format!("database task failed: {error}")))?
    }

    /// Runs `work` in one transaction of its own (a sync: too large to share one), which commits
    /// only if `work` succeeds. The write counts itself in `roster_version`, logs its version in
    /// the change log and, on PostgreSQL, notifies the other replicas at commit; the answer
    /// carries the version it committed. `abandoned` is asked once everything is written, just
    /// before the commit: when it answers true, the transaction rolls back and the write fails
    /// with `Abandoned`. Other writes go through `write_group_here`.
    pub async fn write_unless<T, F, A>(&self, work: F, abandoned: A) -> Result<Committed<T>, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
        A: Fn() -> bool + Send + 'static,
    {
        self.read(move |connection| {
            connection.transaction(|connection| {
                serialise_writers(connection)?;
                let outcome = work(connection)?;
                let version = bump_version(connection)?;
                note_version(connection, version)?;
                if abandoned() {
                    return Err(StorageError::Abandoned);
                }
                Ok(Committed { outcome, version })
            })
        })
        .await
    }

    /// Runs several writes in one transaction, each in a savepoint of its own: a write that fails
    /// is rolled back alone and answers its own error, and the others commit together, counted
    /// as one roster version (only when at least one of them succeeded). Answers each write's
    /// outcome in order, with the version they committed as; `Err` when the transaction itself
    /// fails, and then nothing is written.
    ///
    /// Runs on the calling thread, which is off the async runtime. `then` reads, inside the same
    /// transaction and after the group has counted itself, what the caller goes on from (what
    /// changed since the snapshot in force): it sees exactly what the commit makes visible.
    /// When `then` fails, nothing is written.
    pub fn write_group_here<R>(
        &self,
        works: Vec<GroupedWork>,
        then: impl FnOnce(&mut AnyConnection) -> Result<R, StorageError>,
    ) -> Result<(GroupCommitted, R), StorageError> {
        let connection: &mut AnyConnection = &mut *self.connection()?;
        connection.transaction(|connection| {
            serialise_writers(connection)?;
            let outcomes: Vec<Result<GroupedOutcome, StorageError>> =
                works.into_iter().map(|work| connection.transaction(|connection| work(connection))).collect();
            let version = if outcomes.iter().any(Result::is_ok) {
                let version = bump_version(connection)?;
                note_version(connection, version)?;
                version
            } else {
                read_version(connection)?
            };
            let read = then(connection)?;
            Ok((GroupCommitted { outcomes, version }, read))
        })
    }

    /// Records the policy a start-up runs with (its facts' text and its plan settings' record),
    /// unless it is the latest recorded already, holding the writers' lock so that replicas
    /// starting together record it once; answers the version in force.
    pub async fn record_policy(&self, facts: String, plan_settings: String) -> Result<PolicyVersion, StorageError> {
        self.read(move |connection| {
            connection.transaction(|connection| {
                serialise_writers(connection)?;
                record_policy(connection, &facts, &plan_settings)
            })
        })
        .await
    }

    /// Runs `work` in one transaction that writes nothing; each statement sees what is committed
    /// when it starts (so a lock taken first is waited for before anything is read).
    pub async fn read_in_transaction<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        self.read(move |connection| connection.transaction(work)).await
    }

    /// Runs `work` in one transaction on the calling thread, which is off the async runtime.
    pub fn transaction_here<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError>,
    {
        let connection: &mut AnyConnection = &mut *self.connection()?;
        connection.transaction(work)
    }

    /// Runs `work` in one transaction that sees a single committed state throughout.
    pub async fn read_consistent<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read_consistent_here(work))
            .await
            .map_err(|error| StorageError::Unavailable(format!("database task failed: {error}")))?
    }

    /// `read_consistent` on the calling thread, for work already off the async runtime that
    /// goes on with what it read.
    pub fn read_consistent_here<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError>,
    {
        let mut pooled = self.connection()?;
        let connection: &mut AnyConnection = &mut pooled;
        connection.transaction(|connection| {
            if let AnyConnection::Postgresql(_) = connection {
                connection.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
            }
            work(connection)
        })
    }

    /// The count of committed writes. Gives up after `timeout` when no connection can be had,
    /// so a watcher notices a lost database quickly.
    pub async fn version(&self, timeout: Duration) -> Result<i64, StorageError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection =
                pool.get_timeout(timeout).map_err(|error| StorageError::Unavailable(error.to_string()))?;
            read_version(&mut connection)
        })
        .await
        .map_err(|error| StorageError::Unavailable(format!("database task failed: {error}")))?
    }
}

pub(super) fn serialise_writers(connection: &mut AnyConnection) -> Result<(), StorageError> {
    if let AnyConnection::Postgresql(postgres) = connection {
        postgres.batch_execute(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"))?;
    }
    Ok(())
}

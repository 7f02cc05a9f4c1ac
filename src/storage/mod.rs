//! Persistence with diesel over SQLite (the embedded default) or PostgreSQL, picked by URL.
//! Only this module knows diesel. Every write runs in one transaction; instants are stored as
//! BIGINT microseconds since the epoch, UTC.

mod rows;
mod schema;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::audit::{ticket_entity, Entity, EntityKind};
use crate::domain::interval::Interval;
use crate::domain::roster::{Agent, Consent, Org, Shift, TimeOff};
use crate::domain::sync::{diff_entries, EntryChanges, SyncChanges, SyncEntry};
use rows::{AgentRow, ConsentRow, LocationChangeRow, OrgRow, ShiftRow, TimeOffRow};
use schema::{agents, consents, location_changes, orgs, roster_version, shifts, time_off};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Multi-row INSERT is not available through the multi-backend connection, so it runs on the
/// inner connection, inside the same transaction.
macro_rules! insert_rows {
    ($connection:expr, $table:expr, $rows:expr) => {
        match $connection {
            AnyConnection::Sqlite(inner) => diesel::insert_into($table).values($rows).execute(inner),
            AnyConnection::Postgresql(inner) => diesel::insert_into($table).values($rows).execute(inner),
        }
    };
}

mod audit;
pub use audit::{append_audit_event, list_audit_events};

/// How long a call waits for a database connection before it fails with UNAVAILABLE.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(3);

/// Rows per statement in batched writes, well under both backends' bind-parameter limits.
const CHUNK_ROWS: usize = 500;

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Where the data lives: a SQLite file or a PostgreSQL database. `Debug` shows the redacted
/// URL, never a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl DatabaseUrl {
    /// `postgres://` or `postgresql://` is PostgreSQL; `sqlite://PATH` or a plain path is SQLite.
    pub fn parse(text: &str) -> Result<DatabaseUrl, StorageError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(text.to_owned()))
        } else if let Some(path) = text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StorageError::BadUrl("sqlite:// needs a file path".into()));
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if text.is_empty() {
            Err(StorageError::BadUrl("the database URL is empty".into()))
        } else if text.contains("://") {
            Err(StorageError::BadUrl(format!("unsupported scheme in {:?}; use postgres:// or sqlite://", redact(text))))
        } else {
            Ok(DatabaseUrl::Sqlite(PathBuf::from(text)))
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }

    /// The URL with any password replaced, fit for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact(url),
        }
    }
}

/// The URL with libpq's `connect_timeout` set, unless it sets one: a database that silently
/// stopped answering must not hold a connection attempt for minutes.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={}", CONNECTION_TIMEOUT.as_secs())
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (location, query) = rest.split_once('?').map_or((rest, None), |(location, query)| (location, Some(query)));
    let location = match location.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{user}:***@{host}")
        }
        None => location.to_owned(),
    };
    // A password can also travel as a query parameter.
    let query = query.map(|query| {
        let parameters: Vec<String> = query
            .split('&')
            .map(|parameter| match parameter.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => parameter.to_owned(),
            })
            .collect();
        format!("?{}", parameters.join("&"))
    });
    format!("{scheme}://{location}{}", query.unwrap_or_default())
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database query failed: {0}")]
    Query(diesel::result::Error),
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
    /// Entry `index` of a batch of `kind` ("shifts", "time_off") names an agent that does not
    /// exist.
    #[error("{kind}[{index}].agent_id: agent {agent_id:?} not found")]
    MissingAgent { kind: &'static str, index: usize, agent_id: String },
    /// Entry `index` of a sync reuses the ID of an entry that another source owns, or that starts
    /// outside the sync's window.
    #[error("{kind}[{index}]: {id:?} belongs to an entry outside this source's window")]
    ForeignEntry { kind: &'static str, index: usize, id: String },
    /// Entry `index` of a direct upsert or delete (of `field`, a batch or an ID field) names an
    /// entry that a WFM source owns.
    #[error("{id:?} is owned by source {owner:?}")]
    OwnedBySource { field: &'static str, index: usize, id: String, owner: String },
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
                .map_err(|error| StorageError::Unavailable(format!("cannot connect to {}: {error}", redact(url)))),
        }
    }

    fn is_valid(&self, connection: &mut AnyConnection) -> Result<(), StorageError> {
        connection.batch_execute("SELECT 1").map_err(StorageError::Query)
    }

    /// A connection given back while its thread panics may still be inside a transaction: it is
    /// closed (which rolls the transaction back), never reused.
    fn has_broken(&self, _connection: &mut AnyConnection) -> bool {
        std::thread::panicking()
    }
}

/// A pool of connections to one database, with migrations applied.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager>,
    url: DatabaseUrl,
    /// Set while the database is known to be away: a call then waits only
    /// `IMPATIENT_CONNECTION_TIMEOUT` for a connection, so writes fail fast instead of piling up.
    impatient: Arc<AtomicBool>,
}

/// How long a call waits for a connection while the database is known to be away.
const IMPATIENT_CONNECTION_TIMEOUT: Duration = Duration::from_millis(250);

/// The PostgreSQL channel a committed write notifies replicas on.
pub const CHANGES_CHANNEL: &str = "eea_coverage_roster";

/// Everything stored, loaded at once to build a snapshot.
pub struct StoredRoster {
    /// The count of committed writes this state reflects.
    pub version: i64,
    pub orgs: Vec<Org>,
    pub agents: Vec<Agent>,
    pub shifts: Vec<Shift>,
    pub time_off: Vec<TimeOff>,
    pub consents: Vec<Consent>,
}

/// What a batch upsert did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: usize,
    pub updated: usize,
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

    /// Runs `work` in one transaction: it commits only if `work` succeeds. Every write counts
    /// itself in `roster_version` and, on PostgreSQL, notifies the other replicas at commit.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        self.write_unless(work, || false).await
    }

    /// Like `write`, but asks `abandoned` once everything is written, just before the commit:
    /// when it answers true, the transaction rolls back and the write fails with `Abandoned`.
    pub async fn write_unless<T, F, A>(&self, work: F, abandoned: A) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
        A: Fn() -> bool + Send + 'static,
    {
        self.read(move |connection| {
            connection.transaction(|connection| {
                serialise_writers(connection)?;
                let outcome = work(connection)?;
                bump_version(connection)?;
                if abandoned() {
                    return Err(StorageError::Abandoned);
                }
                Ok(outcome)
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

    /// Runs `work` in one transaction that sees a single committed state throughout.
    pub async fn read_consistent<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        self.read(move |connection| {
            connection.transaction(|connection| {
                if let AnyConnection::Postgresql(_) = connection {
                    connection.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
                }
                work(connection)
            })
        })
        .await
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

    /// A dedicated PostgreSQL connection listening for other replicas' writes; `None` on SQLite.
    pub fn listen_for_changes(&self) -> Result<Option<ChangeListener>, StorageError> {
        let DatabaseUrl::Postgres(url) = &self.url else { return Ok(None) };
        let mut connection = diesel::PgConnection::establish(&with_connect_timeout(url))
            .map_err(|error| StorageError::Unavailable(format!("cannot connect to {}: {error}", redact(url))))?;
        connection.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))?;
        Ok(Some(ChangeListener { connection }))
    }
}

/// Notifications of other replicas' writes, read without blocking.
pub struct ChangeListener {
    connection: diesel::PgConnection,
}

impl ChangeListener {
    /// How many notifications arrived since the last call; an error means the connection is lost.
    pub fn poll(&mut self) -> Result<usize, StorageError> {
        let mut n_notifications = 0;
        for notification in self.connection.notifications_iter() {
            notification?;
            n_notifications += 1;
        }
        // Reading notifications does not notice a dead connection; a trivial query does.
        self.connection.batch_execute("SELECT 1")?;
        Ok(n_notifications)
    }
}

/// Every write transaction of every replica takes this lock first, so writes never interleave
/// (two replicas replacing one agent's relocations, say), as on SQLite's single writer.
const WRITE_LOCK_KEY: i64 = 0x6565_6163_7772; // "eeacwr"

fn serialise_writers(connection: &mut AnyConnection) -> Result<(), StorageError> {
    if let AnyConnection::Postgresql(postgres) = connection {
        postgres.batch_execute(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"))?;
    }
    Ok(())
}

fn bump_version(connection: &mut AnyConnection) -> Result<(), StorageError> {
    diesel::update(roster_version::table.find(1))
        .set(roster_version::version.eq(roster_version::version + 1))
        .execute(connection)?;
    if let AnyConnection::Postgresql(_) = connection {
        connection.batch_execute(&format!("NOTIFY {CHANGES_CHANNEL}"))?;
    }
    Ok(())
}

fn read_version(connection: &mut AnyConnection) -> Result<i64, StorageError> {
    Ok(roster_version::table.find(1).select(roster_version::version).first(connection)?)
}

/// Any number of replicas may start at once; on PostgreSQL one applies the migrations while the
/// others wait on a session lock, then find nothing pending.
const MIGRATION_LOCK_KEY: i64 = 0x6565_6163_6f76; // "eeacov"

fn run_migrations(connection: &mut AnyConnection) -> Result<(), StorageError> {
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

/// Loads every stored entity.
/// Keeps the rows that still pass today's checks; each one that does not is logged by ID and left
/// out (a zone dropped by a tz database release, say), so one bad row cannot freeze every
/// snapshot after it.
fn keep_valid<T>(results: impl Iterator<Item = Result<T, StorageError>>, n_skipped: &mut usize) -> Vec<T> {
    results
        .filter_map(|result| match result {
            Ok(value) => Some(value),
            Err(error) => {
                *n_skipped += 1;
                tracing::error!(error = %error, "stored row left out of the snapshot");
                None
            }
        })
        .collect()
}

/// Loads every stored entity that is still valid.
pub fn load_all(connection: &mut AnyConnection) -> Result<StoredRoster, StorageError> {
    let version = read_version(connection)?;
    let mut n_skipped = 0;
    let orgs = keep_valid(
        orgs::table.order(orgs::org_id).load::<OrgRow>(connection)?.into_iter().map(OrgRow::into_domain),
        &mut n_skipped,
    );
    let consents = keep_valid(
        consents::table.load::<ConsentRow>(connection)?.into_iter().map(ConsentRow::into_domain),
        &mut n_skipped,
    );
    let mut changes_by_agent: std::collections::HashMap<String, Vec<LocationChangeRow>> =
        std::collections::HashMap::new();
    for change in location_changes::table.load::<LocationChangeRow>(connection)? {
        changes_by_agent.entry(change.agent_id.clone()).or_default().push(change);
    }
    let agents = keep_valid(
        agents::table.order(agents::agent_id).load::<AgentRow>(connection)?.into_iter().map(|row| {
            let changes = changes_by_agent.remove(&row.agent_id).unwrap_or_default();
            row.into_domain(changes)
        }),
        &mut n_skipped,
    );
    let shifts =
        keep_valid(shifts::table.load::<ShiftRow>(connection)?.into_iter().map(ShiftRow::into_domain), &mut n_skipped);
    let time_off = keep_valid(
        time_off::table.load::<TimeOffRow>(connection)?.into_iter().map(TimeOffRow::into_domain),
        &mut n_skipped,
    );
    if n_skipped > 0 {
        tracing::error!(rows.skipped = n_skipped, "stored rows no longer valid were left out of the snapshot");
    }
    Ok(StoredRoster { version, orgs, agents, shifts, time_off, consents })
}

/// Creates or replaces an org; `true` when it was created.
pub fn upsert_org(connection: &mut AnyConnection, org: &Org) -> Result<bool, StorageError> {
    let row = OrgRow::from_domain(org);
    let n_updated = diesel::update(orgs::table.find(&row.org_id)).set(&row).execute(connection)?;
    if n_updated == 0 {
        diesel::insert_into(orgs::table).values(&row).execute(connection)?;
    }
    Ok(n_updated == 0)
}

/// Deletes an org and its consents; returns the tickets and agents of the consents that went
/// with it.
pub fn delete_org(connection: &mut AnyConnection, org_id: &str) -> Result<Vec<Entity>, StorageError> {
    let consented: Vec<(String, String)> = consents::table
        .select((consents::ticket_id, consents::agent_id))
        .filter(consents::org_id.eq(org_id))
        .load(connection)?;
    diesel::delete(consents::table.filter(consents::org_id.eq(org_id))).execute(connection)?;
    let n_deleted = diesel::delete(orgs::table.find(org_id)).execute(connection)?;
    not_found_unless(n_deleted, "org", org_id)?;
    Ok(consented
        .into_iter()
        .flat_map(|(ticket_id, agent_id)| [ticket_entity(org_id, &ticket_id), Entity::new(EntityKind::Agent, agent_id)])
        .collect())
}

fn not_found_unless(n_rows: usize, entity: &'static str, id: &str) -> Result<(), StorageError> {
    if n_rows == 0 {
        Err(StorageError::NotFound { entity, id: id.to_owned() })
    } else {
        Ok(())
    }
}

/// Records or replaces a consent. The org and the agent must exist.
pub fn upsert_consent(connection: &mut AnyConnection, consent: &Consent) -> Result<(), StorageError> {
    let org_exists =
        orgs::table.find(&consent.org_id).select(orgs::org_id).first::<String>(connection).optional()?.is_some();
    if !org_exists {
        return Err(StorageError::NotFound { entity: "org", id: consent.org_id.clone() });
    }
    // Checked in the same transaction as the insert: a consent never outlives its agent.
    let agent_exists = agents::table
        .find(&consent.agent_id)
        .select(agents::agent_id)
        .first::<String>(connection)
        .optional()?
        .is_some();
    if !agent_exists {
        return Err(StorageError::NotFound { entity: "agent", id: consent.agent_id.clone() });
    }
    let row = ConsentRow::from_domain(consent);
    let key = consents::table.find((&row.org_id, &row.ticket_id, &row.agent_id));
    let n_updated = diesel::update(key).set(consents::expires_at.eq(row.expires_at)).execute(connection)?;
    if n_updated == 0 {
        diesel::insert_into(consents::table).values(&row).execute(connection)?;
    }
    Ok(())
}

pub fn delete_consent(
    connection: &mut AnyConnection,
    org_id: &str,
    ticket_id: &str,
    agent_id: &str,
) -> Result<(), StorageError> {
    let n_deleted = diesel::delete(consents::table.find((org_id, ticket_id, agent_id))).execute(connection)?;
    not_found_unless(n_deleted, "consent", &format!("{org_id}/{ticket_id}/{agent_id}"))
}

fn existing_ids<F>(ids: &[&str], mut lookup: F) -> Result<HashSet<String>, StorageError>
where
    F: FnMut(Vec<String>) -> Result<Vec<String>, StorageError>,
{
    let mut existing = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK_ROWS) {
        existing.extend(lookup(chunk.iter().map(|id| (*id).to_owned()).collect())?);
    }
    Ok(existing)
}

/// The stored entries among `ids`, with the source that owns each (if any).
fn owned_ids<F>(ids: &[&str], mut lookup: F) -> Result<HashMap<String, Option<String>>, StorageError>
where
    F: FnMut(Vec<String>) -> Result<Vec<(String, Option<String>)>, StorageError>,
{
    let mut owned = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK_ROWS) {
        owned.extend(lookup(chunk.iter().map(|id| (*id).to_owned()).collect())?);
    }
    Ok(owned)
}

/// Entries a WFM source synced are that source's to change: a direct upsert or delete would be
/// undone, or blocked, by its next sync.
fn refuse_owned(
    field: &'static str,
    ids: &[&str],
    owned: &HashMap<String, Option<String>>,
) -> Result<(), StorageError> {
    for (index, id) in ids.iter().enumerate() {
        if let Some(Some(source)) = owned.get(*id) {
            return Err(StorageError::OwnedBySource { field, index, id: (*id).to_owned(), owner: source.clone() });
        }
    }
    Ok(())
}

fn existing_agent_ids(connection: &mut AnyConnection, ids: &[&str]) -> Result<HashSet<String>, StorageError> {
    existing_ids(ids, |chunk| {
        Ok(agents::table.select(agents::agent_id).filter(agents::agent_id.eq_any(chunk)).load(connection)?)
    })
}

/// Creates or replaces agents, with their location changes.
pub fn upsert_agents(connection: &mut AnyConnection, batch: &[Agent]) -> Result<UpsertCounts, StorageError> {
    let ids: Vec<&str> = batch.iter().map(|agent| agent.agent_id.as_str()).collect();
    let existing = existing_agent_ids(connection, &ids)?;
    let mut new_rows = Vec::new();
    let mut change_rows = Vec::new();
    for agent in batch {
        let (row, changes) = AgentRow::from_domain(agent);
        if existing.contains(&agent.agent_id) {
            diesel::update(agents::table.find(&row.agent_id)).set(&row).execute(connection)?;
        } else {
            new_rows.push(row);
        }
        change_rows.extend(changes);
    }
    for chunk in ids.chunks(CHUNK_ROWS) {
        diesel::delete(location_changes::table.filter(location_changes::agent_id.eq_any(chunk))).execute(connection)?;
    }
    for chunk in new_rows.chunks(CHUNK_ROWS) {
        insert_rows!(connection, agents::table, chunk)?;
    }
    for chunk in change_rows.chunks(CHUNK_ROWS) {
        insert_rows!(connection, location_changes::table, chunk)?;
    }
    Ok(UpsertCounts { created: new_rows.len(), updated: existing.len() })
}

/// Deletes an agent with its location changes, shifts, time off and consents (a reused ID must
/// not inherit a consent given for someone else).
/// Returns the entries that went with it, and the tickets and orgs of its consents.
pub fn delete_agent(connection: &mut AnyConnection, agent_id: &str) -> Result<Vec<Entity>, StorageError> {
    let shift_ids: Vec<String> =
        shifts::table.select(shifts::shift_id).filter(shifts::agent_id.eq(agent_id)).load(connection)?;
    let time_off_ids: Vec<String> =
        time_off::table.select(time_off::time_off_id).filter(time_off::agent_id.eq(agent_id)).load(connection)?;
    let tickets: Vec<(String, String)> = consents::table
        .select((consents::org_id, consents::ticket_id))
        .filter(consents::agent_id.eq(agent_id))
        .load(connection)?;
    diesel::delete(consents::table.filter(consents::agent_id.eq(agent_id))).execute(connection)?;
    diesel::delete(time_off::table.filter(time_off::agent_id.eq(agent_id))).execute(connection)?;
    diesel::delete(shifts::table.filter(shifts::agent_id.eq(agent_id))).execute(connection)?;
    diesel::delete(location_changes::table.filter(location_changes::agent_id.eq(agent_id))).execute(connection)?;
    let n_deleted = diesel::delete(agents::table.find(agent_id)).execute(connection)?;
    not_found_unless(n_deleted, "agent", agent_id)?;
    let shifts = shift_ids.into_iter().map(|id| Entity::new(EntityKind::Shift, id));
    let time_off = time_off_ids.into_iter().map(|id| Entity::new(EntityKind::TimeOff, id));
    let tickets = tickets
        .into_iter()
        .flat_map(|(org_id, ticket_id)| [ticket_entity(&org_id, &ticket_id), Entity::new(EntityKind::Org, org_id)]);
    Ok(shifts.chain(time_off).chain(tickets).collect())
}

/// Fails with the first entry of a batch whose agent does not exist.
fn require_agents<'a>(
    connection: &mut AnyConnection,
    kind: &'static str,
    agent_ids: impl Iterator<Item = &'a str> + Clone,
) -> Result<(), StorageError> {
    let wanted: Vec<&str> = agent_ids.clone().collect::<HashSet<_>>().into_iter().collect();
    let existing = existing_agent_ids(connection, &wanted)?;
    match agent_ids.enumerate().find(|(_, agent_id)| !existing.contains(*agent_id)) {
        Some((index, agent_id)) => Err(StorageError::MissingAgent { kind, index, agent_id: agent_id.to_owned() }),
        None => Ok(()),
    }
}

/// Creates or replaces shifts; every shift's agent must exist.
pub fn upsert_shifts(connection: &mut AnyConnection, batch: &[Shift]) -> Result<UpsertCounts, StorageError> {
    require_agents(connection, "shifts", batch.iter().map(|shift| shift.agent_id.as_str()))?;
    let ids: Vec<&str> = batch.iter().map(|shift| shift.shift_id.as_str()).collect();
    let owned = owned_ids(&ids, |chunk| {
        Ok(shifts::table
            .select((shifts::shift_id, shifts::source))
            .filter(shifts::shift_id.eq_any(chunk))
            .load(connection)?)
    })?;
    refuse_owned("shifts", &ids, &owned)?;
    let existing: HashSet<String> = owned.into_keys().collect();
    let rows: Vec<ShiftRow> = batch.iter().map(ShiftRow::from_domain).collect();
    for chunk in ids.chunks(CHUNK_ROWS) {
        diesel::delete(shifts::table.filter(shifts::shift_id.eq_any(chunk))).execute(connection)?;
    }
    for chunk in rows.chunks(CHUNK_ROWS) {
        insert_rows!(connection, shifts::table, chunk)?;
    }
    Ok(UpsertCounts { created: batch.len() - existing.len(), updated: existing.len() })
}

pub fn delete_shift(connection: &mut AnyConnection, shift_id: &str) -> Result<(), StorageError> {
    let owned = owned_ids(&[shift_id], |chunk| {
        Ok(shifts::table
            .select((shifts::shift_id, shifts::source))
            .filter(shifts::shift_id.eq_any(chunk))
            .load(connection)?)
    })?;
    refuse_owned("shift_id", &[shift_id], &owned)?;
    let n_deleted = diesel::delete(shifts::table.find(shift_id)).execute(connection)?;
    not_found_unless(n_deleted, "shift", shift_id)
}

/// Creates or replaces time off entries; every entry's agent must exist.
pub fn upsert_time_off(connection: &mut AnyConnection, batch: &[TimeOff]) -> Result<UpsertCounts, StorageError> {
    require_agents(connection, "time_off", batch.iter().map(|entry| entry.agent_id.as_str()))?;
    let ids: Vec<&str> = batch.iter().map(|entry| entry.time_off_id.as_str()).collect();
    let owned = owned_ids(&ids, |chunk| {
        Ok(time_off::table
            .select((time_off::time_off_id, time_off::source))
            .filter(time_off::time_off_id.eq_any(chunk))
            .load(connection)?)
    })?;
    refuse_owned("time_off", &ids, &owned)?;
    let existing: HashSet<String> = owned.into_keys().collect();
    let rows: Vec<TimeOffRow> = batch.iter().map(TimeOffRow::from_domain).collect();
    for chunk in ids.chunks(CHUNK_ROWS) {
        diesel::delete(time_off::table.filter(time_off::time_off_id.eq_any(chunk))).execute(connection)?;
    }
    for chunk in rows.chunks(CHUNK_ROWS) {
        insert_rows!(connection, time_off::table, chunk)?;
    }
    Ok(UpsertCounts { created: batch.len() - existing.len(), updated: existing.len() })
}

pub fn delete_time_off(connection: &mut AnyConnection, time_off_id: &str) -> Result<(), StorageError> {
    let owned = owned_ids(&[time_off_id], |chunk| {
        Ok(time_off::table
            .select((time_off::time_off_id, time_off::source))
            .filter(time_off::time_off_id.eq_any(chunk))
            .load(connection)?)
    })?;
    refuse_owned("time_off_id", &[time_off_id], &owned)?;
    let n_deleted = diesel::delete(time_off::table.find(time_off_id)).execute(connection)?;
    not_found_unless(n_deleted, "time off", time_off_id)
}

fn ids_of<T: SyncEntry>(changes: &EntryChanges<T>) -> SyncChanges {
    SyncChanges {
        created: changes.created.iter().map(|entry| entry.id().to_owned()).collect(),
        updated: changes.updated.iter().map(|entry| entry.id().to_owned()).collect(),
        deleted: changes.deleted.clone(),
        n_unchanged: changes.n_unchanged,
    }
}

/// Serialises syncs of one source across every replica sharing a PostgreSQL database; SQLite
/// has one writer at a time anyway.
fn lock_source(connection: &mut AnyConnection, source: &str) -> Result<(), StorageError> {
    if let AnyConnection::Postgresql(postgres) = connection {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(source)
            .execute(postgres)?;
    }
    Ok(())
}

/// Fails with the first sent entry whose ID exists but is not among `stored` (the source's
/// entries inside the window): another source's, or outside the window.
fn reject_foreign_ids(
    kind: &'static str,
    sent_ids: &[&str],
    stored_ids: &HashSet<&str>,
    existing: &HashSet<String>,
) -> Result<(), StorageError> {
    match sent_ids.iter().enumerate().find(|(_, id)| existing.contains(**id) && !stored_ids.contains(**id)) {
        Some((index, id)) => Err(StorageError::ForeignEntry { kind, index, id: (*id).to_owned() }),
        None => Ok(()),
    }
}

/// Makes `source`'s shifts and time off that start inside `window` exactly `shifts` and
/// `time_off` (which the caller has checked: unique IDs, inside the window, tagged with the
/// source). With `dry_run` it only reports. Runs inside the caller's transaction.
pub fn sync_source(
    connection: &mut AnyConnection,
    source: &str,
    window: Interval,
    shifts: &[Shift],
    time_off: &[TimeOff],
    dry_run: bool,
) -> Result<(SyncChanges, SyncChanges), StorageError> {
    lock_source(connection, source)?;
    require_agents(connection, "shifts", shifts.iter().map(|shift| shift.agent_id.as_str()))?;
    require_agents(connection, "time_off", time_off.iter().map(|entry| entry.agent_id.as_str()))?;
    let (window_start, window_end) = (rows::to_micros(window.start()), rows::to_micros(window.end()));

    let stored_shifts: Vec<ShiftRow> = shifts::table
        .filter(shifts::source.eq(source))
        .filter(shifts::first_start_at.ge(window_start))
        .filter(shifts::first_start_at.lt(window_end))
        .load(connection)?;
    let sent_shift_ids: Vec<&str> = shifts.iter().map(|shift| shift.shift_id.as_str()).collect();
    let existing_shift_ids = existing_ids(&sent_shift_ids, |chunk| {
        Ok(shifts::table.select(shifts::shift_id).filter(shifts::shift_id.eq_any(chunk)).load(connection)?)
    })?;
    let stored_shift_ids: HashSet<&str> = stored_shifts.iter().map(|row| row.shift_id.as_str()).collect();
    reject_foreign_ids("shifts", &sent_shift_ids, &stored_shift_ids, &existing_shift_ids)?;

    let stored_time_off: Vec<TimeOffRow> = time_off::table
        .filter(time_off::source.eq(source))
        .filter(time_off::starts_at.ge(window_start))
        .filter(time_off::starts_at.lt(window_end))
        .load(connection)?;
    let sent_time_off_ids: Vec<&str> = time_off.iter().map(|entry| entry.time_off_id.as_str()).collect();
    let existing_time_off_ids = existing_ids(&sent_time_off_ids, |chunk| {
        Ok(time_off::table
            .select(time_off::time_off_id)
            .filter(time_off::time_off_id.eq_any(chunk))
            .load(connection)?)
    })?;
    let stored_time_off_ids: HashSet<&str> = stored_time_off.iter().map(|row| row.time_off_id.as_str()).collect();
    reject_foreign_ids("time_off", &sent_time_off_ids, &stored_time_off_ids, &existing_time_off_ids)?;

    let shift_changes = diff_entries(stored_shifts, shifts.iter().map(ShiftRow::from_domain).collect());
    let time_off_changes = diff_entries(stored_time_off, time_off.iter().map(TimeOffRow::from_domain).collect());
    let outcome = (ids_of(&shift_changes), ids_of(&time_off_changes));
    if dry_run {
        return Ok(outcome);
    }

    let replaced_shifts: Vec<&str> = shift_changes
        .updated
        .iter()
        .map(|row| row.shift_id.as_str())
        .chain(shift_changes.deleted.iter().map(String::as_str))
        .collect();
    for chunk in replaced_shifts.chunks(CHUNK_ROWS) {
        diesel::delete(shifts::table.filter(shifts::shift_id.eq_any(chunk))).execute(connection)?;
    }
    let new_shift_rows: Vec<ShiftRow> = shift_changes.created.into_iter().chain(shift_changes.updated).collect();
    for chunk in new_shift_rows.chunks(CHUNK_ROWS) {
        insert_rows!(connection, shifts::table, chunk)?;
    }
    let replaced_time_off: Vec<&str> = time_off_changes
        .updated
        .iter()
        .map(|row| row.time_off_id.as_str())
        .chain(time_off_changes.deleted.iter().map(String::as_str))
        .collect();
    for chunk in replaced_time_off.chunks(CHUNK_ROWS) {
        diesel::delete(time_off::table.filter(time_off::time_off_id.eq_any(chunk))).execute(connection)?;
    }
    let new_time_off_rows: Vec<TimeOffRow> =
        time_off_changes.created.into_iter().chain(time_off_changes.updated).collect();
    for chunk in new_time_off_rows.chunks(CHUNK_ROWS) {
        insert_rows!(connection, time_off::table, chunk)?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_redacted_url() {
        assert_eq!(redact("postgres://app:secret@db:5432/roster"), "postgres://app:***@db:5432/roster");
        assert_eq!(
            redact("postgres://db/roster?user=app&password=secret"),
            "postgres://db/roster?user=app&password=***"
        );
        assert_eq!(redact("postgres://db/roster"), "postgres://db/roster");
    }

    #[test]
    fn the_backend_is_picked_by_scheme() {
        assert_eq!(DatabaseUrl::parse("postgresql://db/x").unwrap().backend_name(), "postgres");
        assert_eq!(DatabaseUrl::parse("sqlite://data/x.db").unwrap(), DatabaseUrl::Sqlite(PathBuf::from("data/x.db")));
        assert_eq!(DatabaseUrl::parse("x.db").unwrap(), DatabaseUrl::Sqlite(PathBuf::from("x.db")));
        assert!(DatabaseUrl::parse("mysql://db/x").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }
}

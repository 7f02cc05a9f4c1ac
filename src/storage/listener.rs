//! Other replicas' writes, heard through PostgreSQL's LISTEN/NOTIFY (SQLite has no other
//! replicas).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::url::{redact, with_connect_timeout};
use super::{DatabaseUrl, StorageError, Store};

/// The PostgreSQL channel a committed write notifies replicas on.
pub const CHANGES_CHANNEL: &str = "eea_coverage_roster";

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

impl Store {
    /// A dedicated PostgreSQL connection listening for other replicas' writes; `None` on SQLite.
    pub fn listen_for_changes(&self) -> Result<Option<ChangeListener>, StorageError> {
        let DatabaseUrl::Postgres(url) = &self.url else { return Ok(None) };
        let mut connection = diesel::PgConnection::establish(&with_connect_timeout(url))
            .map_err(|error| StorageError::Unavailable(format!("cannot connect to {}: {error}", redact(url))))?;
        connection.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))?;
        Ok(Some(ChangeListener { connection }))
    }
}

//! Shifts and time off: entries an agent owns, which a WFM source may own in turn (then only
//! that source's syncs change them). Both kinds take one generic path; `OwnedEntry` says where
//! each kind is stored.

use diesel::prelude::*;

use super::agents::require_agents;
use super::batch::{existing_ids, not_found_unless, owned_ids, refuse_owned, UpsertCounts, CHUNK_ROWS};
use super::changes::note_agents;
use super::rows::{ShiftRow, TimeOffRow};
use super::schema::{shifts, time_off};
use super::{AnyConnection, StorageError};
use crate::domain::roster::{Shift, TimeOff};
use crate::domain::sync::SyncEntry;

/// The two kinds of entries an agent owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Shift,
    TimeOff,
}

/// One kind of owned entry and where it is stored. Diesel's tables share no trait that names
/// their ID column, so each kind's queries are stamped from one template (`owned_entry_table!`)
/// and everything else is written once, generic over the kind.
pub trait OwnedEntry: SyncEntry {
    const KIND: EntryKind;
    /// The entry as stored; a sync compares stored and sent entries as rows.
    type Row: SyncEntry;

    fn agent_id(&self) -> &str;
    fn to_row(&self) -> Self::Row;
    /// The agent a stored entry belongs to.
    fn row_agent_id(row: &Self::Row) -> &str;
    /// The agents that own the stored entries among `ids`.
    fn load_agent_ids(connection: &mut AnyConnection, ids: &[&str]) -> Result<Vec<String>, StorageError>;
    /// Which of `ids` are stored.
    fn load_ids(connection: &mut AnyConnection, ids: Vec<String>) -> Result<Vec<String>, StorageError>;
    /// Which of `ids` are stored, each with the source that owns it (if any).
    fn load_owners(
        connection: &mut AnyConnection,
        ids: Vec<String>,
    ) -> Result<Vec<(String, Option<String>)>, StorageError>;
    /// `source`'s entries that start in `[window_start, window_end)`, in microseconds.
    fn load_sourced(
        connection: &mut AnyConnection,
        source: &str,
        window_start: i64,
        window_end: i64,
    ) -> Result<Vec<Self::Row>, StorageError>;
    /// Deletes the entries among `ids`; at most `CHUNK_ROWS` at once.
    fn delete_ids(connection: &mut AnyConnection, ids: &[&str]) -> Result<usize, StorageError>;
    /// Inserts `rows`; at most `CHUNK_ROWS` at once.
    fn insert(connection: &mut AnyConnection, rows: &[Self::Row]) -> Result<usize, StorageError>;
}

impl EntryKind {
    /// The request field that carries a batch of this kind.
    pub fn batch_field(self) -> &'static str {
        match self {
            EntryKind::Shift => "shifts",
            EntryKind::TimeOff => "time_off",
        }
    }

    /// The field that holds one entry's ID.
    pub fn id_field(self) -> &'static str {
        match self {
            EntryKind::Shift => "shift_id",
            EntryKind::TimeOff => "time_off_id",
        }
    }

    /// What a message calls one entry of this kind.
    pub fn entity_name(self) -> &'static str {
        match self {
            EntryKind::Shift => "shift",
            EntryKind::TimeOff => "time off",
        }
    }
}

/// Stamps `OwnedEntry` for a domain type stored in `$table`, keyed by `$id`, whose first start
/// (the instant that places it in a sync's window) is `$starts_at`.
macro_rules! owned_entry_table {
    ($entry:ty, $row:ty, $kind:expr, $table:ident, $id:ident, $starts_at:ident) => {
        impl OwnedEntry for $entry {
            const KIND: EntryKind = $kind;
            type Row = $row;

            fn agent_id(&self) -> &str {
                self.agent_id.as_str()
            }

            fn to_row(&self) -> $row {
                <$row>::from_domain(self)
            }

            fn row_agent_id(row: &$row) -> &str {
                &row.agent_id
            }

            fn load_agent_ids(connection: &mut AnyConnection, ids: &[&str]) -> Result<Vec<String>, StorageError> {
                Ok(with_id_filter!($table::$id, ids, |filter| {
                    $table::table.select($table::agent_id).filter(filter).distinct().load(connection)?
                }))
            }

            fn load_ids(connection: &mut AnyConnection, ids: Vec<String>) -> Result<Vec<String>, StorageError> {
                Ok(with_id_filter!($table::$id, &ids[..], |filter| {
                    $table::table.select($table::$id).filter(filter).load(connection)?
                }))
            }

            fn load_owners(
                connection: &mut AnyConnection,
                ids: Vec<String>,
            ) -> Result<Vec<(String, Option<String>)>, StorageError> {
                Ok(with_id_filter!($table::$id, &ids[..], |filter| {
                    $table::table.select(($table::$id, $table::source)).filter(filter).load(connection)?
                }))
            }

            fn load_sourced(
                connection: &mut AnyConnection,
                source: &str,
                window_start: i64,
                window_end: i64,
            ) -> Result<Vec<$row>, StorageError> {
                Ok($table::table
                    .filter($table::source.eq(source))
                    .filter($table::$starts_at.ge(window_start))
                    .filter($table::$starts_at.lt(window_end))
                    .load(connection)?)
            }

            fn delete_ids(connection: &mut AnyConnection, ids: &[&str]) -> Result<usize, StorageError> {
                Ok(with_id_filter!($table::$id, ids, |filter| {
                    diesel::delete($table::table.filter(filter)).execute(connection)?
                }))
            }

            fn insert(connection: &mut AnyConnection, rows: &[$row]) -> Result<usize, StorageError> {
                Ok(insert_rows!(connection, $table::table, rows)?)
            }
        }
    };
}

owned_entry_table!(Shift, ShiftRow, EntryKind::Shift, shifts, shift_id, first_start_at);
owned_entry_table!(TimeOff, TimeOffRow, EntryKind::TimeOff, time_off, time_off_id, starts_at);

/// Creates or replaces entries of one kind; every entry's agent must exist, and no entry may
/// be a source's.
pub fn upsert_entries<E: OwnedEntry>(
    connection: &mut AnyConnection,
    batch: &[E],
) -> Result<UpsertCounts, StorageError> {
    require_agents(connection, E::KIND, batch.iter().map(E::agent_id), &Default::default())?;
    let ids: Vec<&str> = batch.iter().map(SyncEntry::id).collect();
    let owned = owned_ids(&ids, |chunk| E::load_owners(connection, chunk))?;
    refuse_owned(&ids, &owned)?;
    let n_existing = owned.len();
    let rows: Vec<E::Row> = batch.iter().map(E::to_row).collect();
    delete_entries::<E>(connection, &ids)?;
    insert_entries::<E>(connection, &rows)?;
    Ok(UpsertCounts { created: batch.len() - n_existing, updated: n_existing })
}

/// Deletes one entry, unless a source owns it.
pub fn delete_entry<E: OwnedEntry>(connection: &mut AnyConnection, entry_id: &str) -> Result<(), StorageError> {
    let owned = owned_ids(&[entry_id], |chunk| E::load_owners(connection, chunk))?;
    refuse_owned(&[entry_id], &owned)?;
    let owners = E::load_agent_ids(connection, &[entry_id])?;
    note_agents(connection, owners.iter().map(String::as_str))?;
    let n_deleted = E::delete_ids(connection, &[entry_id])?;
    not_found_unless(n_deleted, E::KIND.entity_name(), entry_id)
}

/// Which of `ids` are stored, looked up in chunks.
pub(super) fn stored_ids<E: OwnedEntry>(
    connection: &mut AnyConnection,
    ids: &[&str],
) -> Result<std::collections::HashSet<String>, StorageError> {
    existing_ids(ids, |chunk| E::load_ids(connection, chunk))
}

pub(super) fn delete_entries<E: OwnedEntry>(connection: &mut AnyConnection, ids: &[&str]) -> Result<(), StorageError> {
    for chunk in ids.chunks(CHUNK_ROWS) {
        let owners = E::load_agent_ids(connection, chunk)?;
        note_agents(connection, owners.iter().map(String::as_str))?;
        E::delete_ids(connection, chunk)?;
    }
    Ok(())
}

pub(super) fn insert_entries<E: OwnedEntry>(
    connection: &mut AnyConnection,
    rows: &[E::Row],
) -> Result<(), StorageError> {
    for chunk in rows.chunks(CHUNK_ROWS) {
        note_agents(connection, chunk.iter().map(E::row_agent_id))?;
        E::insert(connection, chunk)?;
    }
    Ok(())
}

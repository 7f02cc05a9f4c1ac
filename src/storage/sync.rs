//! A WFM source's sync: its entries inside a window replaced by what it sent, in the caller's
//! transaction, with syncs of one source serialised across replicas.

use std::collections::HashSet;

use diesel::prelude::*;

use super::agents::require_agents;
use super::batch::{existing_ids, CHUNK_ROWS};
use super::rows::{self, ShiftRow, TimeOffRow};
use super::schema::{shifts, time_off};
use super::{AnyConnection, StorageError};
use crate::domain::interval::Interval;
use crate::domain::roster::{Shift, TimeOff};
use crate::domain::sync::{diff_entries, EntryChanges, SyncChanges, SyncEntry};

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
    let (window_start, window_end) = (rows::to_micros(window.start), rows::to_micros(window.end));

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

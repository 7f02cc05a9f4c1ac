//! Shifts and time off: entries an agent owns, which a WFM source may own in turn (then only
//! that source's syncs change them).

use std::collections::HashSet;

use diesel::prelude::*;

use super::agents::require_agents;
use super::batch::{not_found_unless, owned_ids, refuse_owned, UpsertCounts, CHUNK_ROWS};
use super::rows::{ShiftRow, TimeOffRow};
use super::schema::{shifts, time_off};
use super::{AnyConnection, StorageError};
use crate::domain::roster::{Shift, TimeOff};

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

//! A WFM source's sync: its entries inside a window replaced by what it sent, in the caller's
//! transaction, with syncs of one source serialised across replicas.

use std::collections::HashSet;

use diesel::prelude::*;

use super::agents::{existing_agents, require_agents, stored_agents, upsert_agents};
use super::owned_entries::{delete_entries, insert_entries, stored_ids, OwnedEntry};
use super::rows::to_micros;
use super::{AnyConnection, EntryKind, StorageError};
use crate::domain::interval::Interval;
use crate::domain::roster::{Agent, Shift, TimeOff};
use crate::domain::sync::{diff_entries, EntryChanges, SyncChanges, SyncEntries, SyncEntry, SyncOutcome};

/// Makes `source`'s shifts and time off that start inside `window` exactly the entries `sent`
/// (which the caller has checked: unique IDs, inside the window, tagged with the source). With
/// `dry_run` it only reports. Runs inside the caller's transaction.
pub fn sync_source(
    connection: &mut AnyConnection,
    source: &str,
    window: Interval,
    sent: &SyncEntries,
    dry_run: bool,
) -> Result<SyncOutcome, StorageError> {
    lock_source(connection, source)?;
    let (agent_changes, changed_agents) = changes_of_agents(connection, &sent.agents)?;
    let arriving: HashSet<&str> = sent.agents.iter().map(|agent| agent.agent_id.as_str()).collect();
    require_agents(connection, Shift::KIND, sent.shifts.iter().map(Shift::agent_id), &arriving)?;
    require_agents(connection, TimeOff::KIND, sent.time_off.iter().map(TimeOff::agent_id), &arriving)?;
    let shift_changes = changes_of_source(connection, source, window, &sent.shifts)?;
    let time_off_changes = changes_of_source(connection, source, window, &sent.time_off)?;
    let outcome =
        SyncOutcome { agents: agent_changes, shifts: ids_of(&shift_changes), time_off: ids_of(&time_off_changes) };
    if dry_run {
        return Ok(outcome);
    }
    if !changed_agents.is_empty() {
        upsert_agents(connection, &changed_agents)?;
    }
    apply_changes::<Shift>(connection, shift_changes)?;
    apply_changes::<TimeOff>(connection, time_off_changes)?;
    Ok(outcome)
}

/// Which of a sync's agents it creates, which it changes and how many it sends as stored; and
/// the agents to write (those created or changed: an agent sent as it is writes nothing).
fn changes_of_agents(
    connection: &mut AnyConnection,
    sent: &[Agent],
) -> Result<(SyncChanges, Vec<Agent>), StorageError> {
    if sent.is_empty() {
        return Ok((SyncChanges::default(), Vec::new()));
    }
    let ids: Vec<&str> = sent.iter().map(|agent| agent.agent_id.as_str()).collect();
    let stored = stored_agents(connection, &ids)?;
    let existing = existing_agents(connection, &ids)?;
    let mut changes = SyncChanges::default();
    let mut to_write = Vec::new();
    for agent in sent {
        let id = agent.agent_id.as_str();
        match stored.get(id) {
            Some(as_stored) if as_stored == agent => changes.n_unchanged += 1,
            _ => {
                if existing.contains(id) {
                    changes.updated.push(id.to_owned());
                } else {
                    changes.created.push(id.to_owned());
                }
                to_write.push(agent.clone());
            }
        }
    }
    Ok((changes, to_write))
}

/// What replacing `source`'s entries of one kind inside `window` with `sent` changes; fails
/// when a sent entry is stored but not among them.
fn changes_of_source<E: OwnedEntry>(
    connection: &mut AnyConnection,
    source: &str,
    window: Interval,
    sent: &[E],
) -> Result<EntryChanges<E::Row>, StorageError> {
    let stored = E::load_sourced(connection, source, to_micros(window.start()), to_micros(window.end()))?;
    let sent_ids: Vec<&str> = sent.iter().map(SyncEntry::id).collect();
    let existing = stored_ids::<E>(connection, &sent_ids)?;
    let stored_ids_in_window: HashSet<&str> = stored.iter().map(SyncEntry::id).collect();
    reject_foreign_ids(E::KIND, &sent_ids, &stored_ids_in_window, &existing)?;
    Ok(diff_entries(stored, sent.iter().map(E::to_row).collect()))
}

/// Writes one kind's changes: updated and deleted entries go, created and updated ones are
/// inserted as sent.
fn apply_changes<E: OwnedEntry>(
    connection: &mut AnyConnection,
    changes: EntryChanges<E::Row>,
) -> Result<(), StorageError> {
    let replaced: Vec<&str> =
        changes.updated.iter().map(SyncEntry::id).chain(changes.deleted.iter().map(String::as_str)).collect();
    delete_entries::<E>(connection, &replaced)?;
    let new_rows: Vec<E::Row> = changes.created.into_iter().chain(changes.updated).collect();
    insert_entries::<E>(connection, &new_rows)
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
    kind: EntryKind,
    sent_ids: &[&str],
    stored_ids: &HashSet<&str>,
    existing: &HashSet<String>,
) -> Result<(), StorageError> {
    match sent_ids.iter().enumerate().find(|(_, id)| existing.contains(**id) && !stored_ids.contains(**id)) {
        Some((index, id)) => Err(StorageError::ForeignEntry { kind, index, id: (*id).to_owned() }),
        None => Ok(()),
    }
}

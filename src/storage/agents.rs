//! Agents with their location changes; deleting one takes everything that names it.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::batch::{existing_ids, not_found_unless, UpsertCounts, CHUNK_ROWS};
use super::changes::{note_agents, note_orgs};
use super::kept::kept_update;
use super::rows::{AgentRow, LocationChangeRow};
use super::schema::{agents, consents, location_changes, shifts, time_off};
use super::{AnyConnection, EntryKind, StorageError};
use crate::audit::{ticket_entity, Entity, EntityKind};
use crate::domain::roster::Agent;

/// Creates or replaces agents, with their location changes.
pub fn upsert_agents(connection: &mut AnyConnection, batch: &[Agent]) -> Result<UpsertCounts, StorageError> {
    let ids: Vec<&str> = batch.iter().map(|agent| agent.agent_id.as_str()).collect();
    let existing = existing_agent_ids(connection, &ids)?;
    note_agents(connection, ids.iter().copied())?;
    let mut new_rows = Vec::new();
    let mut change_rows = Vec::new();
    for agent in batch {
        let (row, changes) = AgentRow::from_domain(agent);
        if existing.contains(agent.agent_id.as_str()) {
            kept_update("agents", &row, agents::agent_id.eq(&row.agent_id)).execute(connection)?;
        } else {
            new_rows.push(row);
        }
        change_rows.extend(changes);
    }
    for chunk in ids.chunks(CHUNK_ROWS) {
        with_id_filter!(location_changes::agent_id, chunk, |filter| {
            diesel::delete(location_changes::table.filter(filter)).execute(connection)?
        });
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
    note_agents(connection, [agent_id])?;
    note_orgs(connection, tickets.iter().map(|(org_id, _)| org_id.as_str()))?;
    let shifts = shift_ids.into_iter().map(|id| Entity::new(EntityKind::Shift, id));
    let time_off = time_off_ids.into_iter().map(|id| Entity::new(EntityKind::TimeOff, id));
    let tickets = tickets
        .into_iter()
        .flat_map(|(org_id, ticket_id)| [ticket_entity(&org_id, &ticket_id), Entity::new(EntityKind::Org, org_id)]);
    Ok(shifts.chain(time_off).chain(tickets).collect())
}

/// Fails with the first entry of a batch whose agent neither exists nor is among `arriving`
/// (agents the same transaction creates).
pub(super) fn require_agents<'a>(
    connection: &mut AnyConnection,
    kind: EntryKind,
    agent_ids: impl Iterator<Item = &'a str> + Clone,
    arriving: &HashSet<&str>,
) -> Result<(), StorageError> {
    let wanted: Vec<&str> = agent_ids.clone().collect::<HashSet<_>>().into_iter().collect();
    let existing = existing_agent_ids(connection, &wanted)?;
    let known = |agent_id: &str| existing.contains(agent_id) || arriving.contains(agent_id);
    match agent_ids.enumerate().find(|(_, agent_id)| !known(agent_id)) {
        Some((index, agent_id)) => Err(StorageError::MissingAgent { kind, index, agent_id: agent_id.to_owned() }),
        None => Ok(()),
    }
}

fn existing_agent_ids(connection: &mut AnyConnection, ids: &[&str]) -> Result<HashSet<String>, StorageError> {
    existing_ids(ids, |chunk| {
        Ok(with_id_filter!(agents::agent_id, &chunk[..], |filter| {
            agents::table.select(agents::agent_id).filter(filter).load(connection)?
        }))
    })
}

/// The agents among `ids` as stored, with their location changes; one whose stored row no
/// longer passes today's checks is left out, as a full read leaves it out.
pub(super) fn stored_agents(
    connection: &mut AnyConnection,
    ids: &[&str],
) -> Result<HashMap<String, Agent>, StorageError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(CHUNK_ROWS) {
        let mut changes_of: HashMap<String, Vec<LocationChangeRow>> = HashMap::new();
        let changes: Vec<LocationChangeRow> = with_id_filter!(location_changes::agent_id, chunk, |filter| {
            location_changes::table.filter(filter).load(connection)?
        });
        for change in changes {
            changes_of.entry(change.agent_id.clone()).or_default().push(change);
        }
        let rows: Vec<AgentRow> =
            with_id_filter!(agents::agent_id, chunk, |filter| agents::table.filter(filter).load(connection)?);
        for row in rows {
            let agent_id = row.agent_id.clone();
            if let Ok(agent) = row.into_domain(changes_of.remove(&agent_id).unwrap_or_default()) {
                found.insert(agent_id, agent);
            }
        }
    }
    Ok(found)
}

/// The IDs among `ids` that name a stored agent.
pub(super) fn existing_agents(connection: &mut AnyConnection, ids: &[&str]) -> Result<HashSet<String>, StorageError> {
    existing_agent_ids(connection, ids)
}

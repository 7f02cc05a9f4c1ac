//! The audit trail's tables: appended inside each write's transaction, read back by filter.
//! Triggers in the migrations refuse any UPDATE or DELETE of either table.

use diesel::prelude::*;

use super::rows::{from_micros, to_micros};
use super::schema::{audit_event_entities, audit_events};
use super::{AnyConnection, StorageError};
use crate::audit::{Actor, AuditEvent, AuditQuery, AuditRecord, Entity, EntityKind, MAX_LISTED_ENTITIES};
use crate::domain::time::Instant;

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewEventRow<'a> {
    recorded_at: i64,
    caller: &'a str,
    rpc: &'a str,
    request_id: &'a str,
    summary: &'a str,
    n_affected: i64,
    listed_entities: &'a str,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    sequence: i64,
    recorded_at: i64,
    caller: String,
    rpc: String,
    request_id: String,
    summary: String,
    n_affected: i64,
    listed_entities: String,
}

#[derive(Insertable)]
#[diesel(table_name = audit_event_entities)]
struct EntityRow<'a> {
    kind: &'static str,
    entity_id: &'a str,
    sequence: i64,
}

/// Entity rows per INSERT: three parameters each, well under PostgreSQL's 65,535 and SQLite's
/// 32,766; large batches mean few round trips for a sync of 100,000 entries.
const ENTITY_CHUNK_ROWS: usize = 5_000;

/// Appends one event with its entities (each once); returns its sequence number. Runs inside the
/// write's transaction, so the event commits or vanishes with the write.
pub fn append_audit_event(
    connection: &mut AnyConnection,
    actor: &Actor,
    record: &AuditRecord,
    at: Instant,
) -> Result<i64, StorageError> {
    let mut affected: Vec<&Entity> = record.affected.iter().collect();
    affected.sort();
    affected.dedup();
    let listed: Vec<(&str, &str)> =
        affected.iter().take(MAX_LISTED_ENTITIES).map(|entity| (entity.kind.name(), entity.id.as_str())).collect();
    let listed_entities = serde_json::to_string(&listed)
        .map_err(|error| StorageError::Corrupt(format!("audit entities do not serialise: {error}")))?;
    let row = NewEventRow {
        recorded_at: to_micros(at),
        caller: &actor.caller,
        rpc: &actor.rpc,
        request_id: &actor.request_id,
        summary: &record.summary,
        n_affected: affected.len() as i64,
        listed_entities: &listed_entities,
    };
    insert_row!(connection, audit_events::table, &row)?;
    // Writers are serialised and events are never deleted: the highest number is this one.
    let sequence: i64 = audit_events::table
        .select(diesel::dsl::max(audit_events::sequence))
        .get_result::<Option<i64>>(connection)?
        .ok_or_else(|| StorageError::Corrupt("the audit event just written is missing".into()))?;
    let entity_rows: Vec<EntityRow> = affected
        .into_iter()
        .map(|entity| EntityRow { kind: entity.kind.name(), entity_id: &entity.id, sequence })
        .collect();
    for chunk in entity_rows.chunks(ENTITY_CHUNK_ROWS) {
        insert_rows!(connection, audit_event_entities::table, chunk)?;
    }
    Ok(sequence)
}

/// The events matching `query`, oldest first, each with up to `MAX_LISTED_ENTITIES` entities.
pub fn list_audit_events(connection: &mut AnyConnection, query: &AuditQuery) -> Result<Vec<AuditEvent>, StorageError> {
    let mut events = audit_events::table
        .select(EventRow::as_select())
        .order(audit_events::sequence)
        .into_boxed::<<AnyConnection as diesel::Connection>::Backend>();
    if let Some(after) = query.after_sequence {
        events = events.filter(audit_events::sequence.gt(after));
    }
    if let Some(caller) = &query.caller {
        events = events.filter(audit_events::caller.eq(caller.clone()));
    }
    if let Some(rpc) = &query.rpc {
        events = events.filter(audit_events::rpc.eq(rpc.clone()));
    }
    if let Some(since) = query.since {
        events = events.filter(audit_events::recorded_at.ge(to_micros(since)));
    }
    if let Some(until) = query.until {
        events = events.filter(audit_events::recorded_at.lt(to_micros(until)));
    }
    if let Some(entity) = &query.entity {
        let touching = audit_event_entities::table
            .select(audit_event_entities::sequence)
            .filter(audit_event_entities::kind.eq(entity.kind.name()))
            .filter(audit_event_entities::entity_id.eq(entity.id.clone()));
        events = events.filter(audit_events::sequence.eq_any(touching));
    }
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let rows: Vec<EventRow> = events.limit(limit).load(connection)?;
    rows.into_iter()
        .map(|row| {
            Ok(AuditEvent {
                affected: parse_listed(row.sequence, &row.listed_entities)?,
                sequence: row.sequence,
                recorded_at: from_micros(row.recorded_at)?,
                caller: row.caller,
                rpc: row.rpc,
                request_id: row.request_id,
                summary: row.summary,
                n_affected: u64::try_from(row.n_affected).unwrap_or(0),
            })
        })
        .collect()
}

fn parse_listed(sequence: i64, text: &str) -> Result<Vec<Entity>, StorageError> {
    let corrupt = |problem: String| StorageError::Corrupt(format!("audit event {sequence}: {problem}"));
    let pairs: Vec<(String, String)> = serde_json::from_str(text).map_err(|error| corrupt(error.to_string()))?;
    pairs
        .into_iter()
        .map(|(kind, id)| {
            let kind = EntityKind::named(&kind).ok_or_else(|| corrupt(format!("entity kind {kind:?}")))?;
            Ok(Entity { kind, id })
        })
        .collect()
}

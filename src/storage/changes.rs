//! The change log: which agents and orgs each committed write changed, written in the write's
//! own transaction under the version it commits, and read back to bring a snapshot up to date
//! without loading everything.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;

use super::batch::CHUNK_ROWS;
use super::kept::MAX_ROWS_ONE_BY_ONE;
use super::migrations::read_version;
use super::rows::{AgentRow, ConsentRow, LocationChangeRow, OrgRow, ShiftRow, TimeOffRow};
use super::schema::{agents, consents, location_changes, orgs, roster_changes, shifts, time_off};
use super::{AnyConnection, StorageError};
use crate::domain::ids::{AgentId, OrgId};
use crate::domain::roster::{Agent, AgentRoster, OrgChange, RosterChanges, Shift, TimeOff};

/// What a change row names.
const AGENT: &str = "agent";
const ORG: &str = "org";
/// The row every logged write adds, whatever it changed.
const VERSION: &str = "version";

/// The log keeps this many versions; a replica further behind builds from scratch.
const KEPT_VERSIONS: i64 = 10_000;
/// Versions that prune the log when they commit.
const PRUNE_EVERY: i64 = 1_000;

/// More changed agents than this, and a snapshot is built from scratch instead: past a point
/// one full read costs less than many small ones.
const MOST_AGENTS_READ_BACK: usize = 20_000;

#[derive(Insertable)]
#[diesel(table_name = roster_changes)]
struct ChangeRow<'a> {
    version: i64,
    kind: &'static str,
    entity_id: &'a str,
}

/// Everything that changed after one roster version, up to another.
pub struct StoredChanges {
    /// The roster version the changes bring a snapshot to.
    pub version: i64,
    pub changes: RosterChanges,
}

fn note(connection: &mut AnyConnection, kind: &'static str, ids: BTreeSet<&str>) -> Result<(), StorageError> {
    if ids.is_empty() {
        return Ok(());
    }
    // Writers are serialised, and the version moves once, at the end of the write.
    let version = read_version(connection)? + 1;
    let rows: Vec<ChangeRow> = ids.into_iter().map(|entity_id| ChangeRow { version, kind, entity_id }).collect();
    // A few rows one at a time, as `insert_rows!` inserts them.
    let one_by_one = rows.len() <= MAX_ROWS_ONE_BY_ONE;
    for chunk in rows.chunks(CHUNK_ROWS) {
        match connection {
            AnyConnection::Sqlite(inner) if one_by_one => {
                for row in chunk {
                    diesel::insert_or_ignore_into(roster_changes::table).values(row).execute(inner)?;
                }
            }
            AnyConnection::Sqlite(inner) => {
                diesel::insert_or_ignore_into(roster_changes::table).values(chunk).execute(inner)?;
            }
            AnyConnection::Postgresql(inner) if one_by_one => {
                for row in chunk {
                    diesel::insert_into(roster_changes::table).values(row).on_conflict_do_nothing().execute(inner)?;
                }
            }
            AnyConnection::Postgresql(inner) => {
                diesel::insert_into(roster_changes::table).values(chunk).on_conflict_do_nothing().execute(inner)?;
            }
        }
    }
    Ok(())
}

/// Notes that these agents' rosters change in the write under way.
pub(super) fn note_agents<'a>(
    connection: &mut AnyConnection,
    agent_ids: impl IntoIterator<Item = &'a str>,
) -> Result<(), StorageError> {
    note(connection, AGENT, agent_ids.into_iter().collect())
}

/// Notes that these orgs, or their consents, change in the write under way.
pub(super) fn note_orgs<'a>(
    connection: &mut AnyConnection,
    org_ids: impl IntoIterator<Item = &'a str>,
) -> Result<(), StorageError> {
    note(connection, ORG, org_ids.into_iter().collect())
}

/// Marks `version` as logged, once the write has counted itself; every so often prunes the
/// versions the log no longer keeps.
pub(super) fn note_version(connection: &mut AnyConnection, version: i64) -> Result<(), StorageError> {
    let row = ChangeRow { version, kind: VERSION, entity_id: "" };
    insert_row!(connection, roster_changes::table, &row)?;
    if version % PRUNE_EVERY == 0 {
        diesel::delete(roster_changes::table.filter(roster_changes::version.le(version - KEPT_VERSIONS)))
            .execute(connection)?;
    }
    Ok(())
}

/// What changed after roster version `since`, read back as it is now stored; `None` when the
/// log cannot tell (a version missing from it) or names so many agents that a full read is
/// the better way.
pub fn load_changes_since(connection: &mut AnyConnection, since: i64) -> Result<Option<StoredChanges>, StorageError> {
    let version = read_version(connection)?;
    if version <= since {
        return Ok(Some(StoredChanges { version, changes: RosterChanges::default() }));
    }
    let rows: Vec<(i64, String, String)> = roster_changes::table
        .select((roster_changes::version, roster_changes::kind, roster_changes::entity_id))
        .filter(roster_changes::version.gt(since))
        .filter(roster_changes::version.le(version))
        .load(connection)?;
    let n_logged = rows.iter().filter(|(_, kind, _)| kind == VERSION).count() as i64;
    if n_logged != version - since {
        return Ok(None);
    }
    let mut agent_ids: BTreeSet<String> = BTreeSet::new();
    let mut org_ids: BTreeSet<String> = BTreeSet::new();
    for (_, kind, entity_id) in rows {
        match kind.as_str() {
            AGENT => {
                agent_ids.insert(entity_id);
            }
            ORG => {
                org_ids.insert(entity_id);
            }
            _ => {}
        }
    }
    if agent_ids.len() > MOST_AGENTS_READ_BACK {
        return Ok(None);
    }
    let agent_ids: Vec<String> = agent_ids.into_iter().collect();
    let org_ids: Vec<String> = org_ids.into_iter().collect();
    let changes =
        RosterChanges { agents: load_agents(connection, &agent_ids)?, orgs: load_orgs(connection, &org_ids)? };
    Ok(Some(StoredChanges { version, changes }))
}

/// Each agent as now stored, with its location changes, shifts and time off; `None` for one
/// that is gone, or whose stored row no longer passes today's checks (as a full read leaves
/// it out). Entries that no longer pass are left out one by one, as a full read does.
fn load_agents(
    connection: &mut AnyConnection,
    agent_ids: &[String],
) -> Result<Vec<(AgentId, Option<AgentRoster>)>, StorageError> {
    let mut found: HashMap<String, AgentRoster> = HashMap::new();
    for chunk in agent_ids.chunks(CHUNK_ROWS) {
        let mut location_changes_of: HashMap<String, Vec<LocationChangeRow>> = HashMap::new();
        let changes: Vec<LocationChangeRow> = with_id_filter!(location_changes::agent_id, chunk, |filter| {
            location_changes::table.filter(filter).load(connection)?
        });
        for change in changes {
            location_changes_of.entry(change.agent_id.clone()).or_default().push(change);
        }
        let mut agents_in_chunk: HashMap<String, (Agent, Vec<Shift>, Vec<TimeOff>)> = HashMap::new();
        let rows: Vec<AgentRow> =
            with_id_filter!(agents::agent_id, chunk, |filter| agents::table.filter(filter).load(connection)?);
        for row in rows {
            let agent_id = row.agent_id.clone();
            if let Some(agent) = kept(row.into_domain(location_changes_of.remove(&agent_id).unwrap_or_default())) {
                agents_in_chunk.insert(agent_id, (agent, Vec::new(), Vec::new()));
            }
        }
        let rows: Vec<ShiftRow> =
            with_id_filter!(shifts::agent_id, chunk, |filter| shifts::table.filter(filter).load(connection)?);
        for row in rows {
            let owner = agents_in_chunk.get_mut(&row.agent_id);
            if let (Some((_, shifts, _)), Some(shift)) = (owner, kept(row.into_domain())) {
                shifts.push(shift);
            }
        }
        let rows: Vec<TimeOffRow> =
            with_id_filter!(time_off::agent_id, chunk, |filter| time_off::table.filter(filter).load(connection)?);
        for row in rows {
            let owner = agents_in_chunk.get_mut(&row.agent_id);
            if let (Some((_, _, time_off)), Some(entry)) = (owner, kept(row.into_domain())) {
                time_off.push(entry);
            }
        }
        found.extend(
            agents_in_chunk
                .into_iter()
                .map(|(agent_id, (agent, shifts, time_off))| (agent_id, AgentRoster::new(agent, shifts, time_off))),
        );
    }
    Ok(agent_ids
        .iter()
        .filter_map(|agent_id| Some((AgentId::new(agent_id.clone()).ok()?, found.remove(agent_id))))
        .collect())
}

/// Each org as now stored (`None`: gone) with all its consents.
fn load_orgs(connection: &mut AnyConnection, org_ids: &[String]) -> Result<Vec<OrgChange>, StorageError> {
    let mut loaded = Vec::with_capacity(org_ids.len());
    for org_id in org_ids {
        let Ok(id) = OrgId::new(org_id.clone()) else { continue };
        let org = orgs::table
            .find(org_id)
            .get_result::<OrgRow>(connection)
            .optional()?
            .and_then(|row| kept(row.into_domain()));
        let consents = consents::table
            .filter(consents::org_id.eq(org_id))
            .load::<ConsentRow>(connection)?
            .into_iter()
            .filter_map(|row| kept(row.into_domain()))
            .collect();
        loaded.push((id, org, consents));
    }
    Ok(loaded)
}

/// A stored row that still passes today's checks; one that does not is logged and left out,
/// as a full read leaves it out.
fn kept<T>(converted: Result<T, StorageError>) -> Option<T> {
    converted.map_err(|error| tracing::error!(error = %error, "stored row left out of the snapshot")).ok()
}

//! The roster as it was committed at a past version: the history tables the roster tables'
//! triggers write (migration `2026-12-02-000007_roster_history`), and the commits' stamps.

use diesel::prelude::*;

use super::rows::{from_micros, to_micros, AgentRow, ConsentRow, LocationChangeRow, OrgRow, ShiftRow, TimeOffRow};
use super::schema::{
    agents_history, consents_history, location_changes_history, orgs_history, roster_commits, shifts_history,
    time_off_history,
};
use super::snapshot::{RosterRows, StoredRoster};
use super::{AnyConnection, StorageError};
use crate::domain::time::Instant;

/// One committed roster version: when it committed (by the database's clock) and the last audit
/// event it wrote (`None`: none had been written when the history began).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterCommit {
    pub version: i64,
    pub committed_at: Instant,
    pub audit_sequence: Option<i64>,
}

impl RosterCommit {
    fn from_row((version, committed_at, audit_sequence): (i64, i64, Option<i64>)) -> Result<Self, StorageError> {
        Ok(RosterCommit { version, committed_at: from_micros(committed_at)?, audit_sequence })
    }
}

/// The last version committed at or before `at`; `None` when the history begins after `at`.
pub fn commit_known_at(connection: &mut AnyConnection, at: Instant) -> Result<Option<RosterCommit>, StorageError> {
    roster_commits::table
        .select((roster_commits::version, roster_commits::committed_at, roster_commits::audit_sequence))
        .filter(roster_commits::committed_at.le(to_micros(at)))
        .order(roster_commits::version.desc())
        .first::<(i64, i64, Option<i64>)>(connection)
        .optional()?
        .map(RosterCommit::from_row)
        .transpose()
}

/// When the first version committed after `at` committed; `None` when none has since.
pub fn next_commit_after(connection: &mut AnyConnection, at: Instant) -> Result<Option<Instant>, StorageError> {
    roster_commits::table
        .select(roster_commits::committed_at)
        .filter(roster_commits::committed_at.gt(to_micros(at)))
        .order(roster_commits::committed_at.asc())
        .first::<i64>(connection)
        .optional()?
        .map(from_micros)
        .transpose()
}

/// The first version the history holds: the one stored when it began.
pub fn history_start(connection: &mut AnyConnection) -> Result<RosterCommit, StorageError> {
    let row = roster_commits::table
        .select((roster_commits::version, roster_commits::committed_at, roster_commits::audit_sequence))
        .order(roster_commits::version.asc())
        .first::<(i64, i64, Option<i64>)>(connection)?;
    RosterCommit::from_row(row)
}

/// Every stored entity as it was at roster version `version`, read as `load_all` reads the
/// present (rows that no longer pass today's checks are left out). `NotFound` for a version the
/// history does not hold (before it began, or not committed yet).
pub fn load_as_of(connection: &mut AnyConnection, version: i64) -> Result<StoredRoster, StorageError> {
    let start = history_start(connection)?.version;
    let newest: i64 = roster_commits::table
        .select(diesel::dsl::max(roster_commits::version))
        .first::<Option<i64>>(connection)?
        .unwrap_or(start);
    if version < start || version > newest {
        return Err(StorageError::NotFound { entity: "roster version", id: version.to_string() });
    }
    // A row stored at `version`: written by it or before, and not replaced or deleted by then.
    macro_rules! stored_at {
        ($table:ident, $columns:expr) => {
            $table::table
                .select($columns)
                .filter($table::since_version.le(version))
                .filter($table::until_version.is_null().or($table::until_version.gt(version)))
        };
    }
    let rows = RosterRows {
        orgs: stored_at!(orgs_history, (orgs_history::org_id, orgs_history::cloud_region, orgs_history::plan))
            .order(orgs_history::org_id)
            .load::<OrgRow>(connection)?,
        consents: stored_at!(
            consents_history,
            (
                consents_history::org_id,
                consents_history::ticket_id,
                consents_history::agent_id,
                consents_history::expires_at
            )
        )
        .load::<ConsentRow>(connection)?,
        agents: stored_at!(
            agents_history,
            (
                agents_history::agent_id,
                agents_history::display_name,
                agents_history::country,
                agents_history::time_zone,
                agents_history::severities,
                agents_history::source,
            )
        )
        .order(agents_history::agent_id)
        .load::<AgentRow>(connection)?,
        location_changes: stored_at!(
            location_changes_history,
            (
                location_changes_history::agent_id,
                location_changes_history::effective_at,
                location_changes_history::country
            )
        )
        .load::<LocationChangeRow>(connection)?,
        shifts: stored_at!(
            shifts_history,
            (
                shifts_history::shift_id,
                shifts_history::agent_id,
                shifts_history::severities,
                shifts_history::country,
                shifts_history::starts_at,
                shifts_history::ends_at,
                shifts_history::time_zone,
                shifts_history::start_local,
                shifts_history::end_time,
                shifts_history::rrule,
                shifts_history::exdates,
                shifts_history::source,
                shifts_history::first_start_at,
            )
        )
        .load::<ShiftRow>(connection)?,
        time_off: stored_at!(
            time_off_history,
            (
                time_off_history::time_off_id,
                time_off_history::agent_id,
                time_off_history::starts_at,
                time_off_history::ends_at,
                time_off_history::source,
            )
        )
        .load::<TimeOffRow>(connection)?,
    };
    Ok(rows.into_roster(version))
}

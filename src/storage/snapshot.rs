//! Everything stored, loaded at once in one consistent read, to build a snapshot from.

use std::collections::HashMap;

use diesel::prelude::*;

use super::migrations::read_version;
use super::rows::{AgentRow, ConsentRow, LocationChangeRow, OrgRow, ShiftRow, TimeOffRow};
use super::schema::{agents, consents, location_changes, orgs, shifts, time_off};
use super::{AnyConnection, StorageError};
use crate::domain::roster::{Agent, Consent, Org, Shift, TimeOff};

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
    let rows = RosterRows {
        orgs: orgs::table.order(orgs::org_id).load::<OrgRow>(connection)?,
        consents: consents::table.load::<ConsentRow>(connection)?,
        agents: agents::table.order(agents::agent_id).load::<AgentRow>(connection)?,
        location_changes: location_changes::table.load::<LocationChangeRow>(connection)?,
        shifts: shifts::table.load::<ShiftRow>(connection)?,
        time_off: time_off::table.load::<TimeOffRow>(connection)?,
    };
    Ok(rows.into_roster(version))
}

/// The roster tables' rows as read (stored now, or as known at a past version); orgs and agents
/// in ID order.
pub(super) struct RosterRows {
    pub(super) orgs: Vec<OrgRow>,
    pub(super) consents: Vec<ConsentRow>,
    pub(super) agents: Vec<AgentRow>,
    pub(super) location_changes: Vec<LocationChangeRow>,
    pub(super) shifts: Vec<ShiftRow>,
    pub(super) time_off: Vec<TimeOffRow>,
}

impl RosterRows {
    /// The entities these rows hold, as of roster version `version`, leaving out (and logging)
    /// each row that no longer passes today's checks.
    pub(super) fn into_roster(self, version: i64) -> StoredRoster {
        let mut n_skipped = 0;
        let orgs = keep_valid(self.orgs.into_iter().map(OrgRow::into_domain), &mut n_skipped);
        let consents = keep_valid(self.consents.into_iter().map(ConsentRow::into_domain), &mut n_skipped);
        let mut changes_by_agent: HashMap<String, Vec<LocationChangeRow>> = HashMap::new();
        for change in self.location_changes {
            changes_by_agent.entry(change.agent_id.clone()).or_default().push(change);
        }
        let agents = keep_valid(
            self.agents.into_iter().map(|row| {
                let changes = changes_by_agent.remove(&row.agent_id).unwrap_or_default();
                row.into_domain(changes)
            }),
            &mut n_skipped,
        );
        let shifts = keep_valid(self.shifts.into_iter().map(ShiftRow::into_domain), &mut n_skipped);
        let time_off = keep_valid(self.time_off.into_iter().map(TimeOffRow::into_domain), &mut n_skipped);
        if n_skipped > 0 {
            tracing::error!(rows.skipped = n_skipped, "stored rows no longer valid were left out of the snapshot");
        }
        StoredRoster { version, orgs, agents, shifts, time_off, consents }
    }
}

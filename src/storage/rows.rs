//! Rows as stored, and their conversion to and from domain entities. A stored row is checked
//! again by the domain's constructors when it is loaded, so a row the policy no longer accepts
//! (a zone removed from the tz database) is reported instead of being used.

use diesel::prelude::*;
use jiff::civil::DateTime;

use super::schema::{agents, consents, location_changes, orgs, shifts, time_off};
use super::StorageError;
use crate::domain::ids::OrgId;
use crate::domain::policy::{PlanKind, SeveritySet};
use crate::domain::roster::{Agent, AgentDraft, Consent, Org, Schedule, ScheduleDraft, Shift, ShiftDraft, TimeOff};
use crate::domain::sync::SyncEntry;
use crate::domain::time::Instant;
use crate::domain::validation::FieldViolation;

pub fn to_micros(instant: Instant) -> i64 {
    instant.as_microsecond()
}

pub(super) fn from_micros(micros: i64) -> Result<Instant, StorageError> {
    Instant::from_microsecond(micros).map_err(|_| StorageError::Corrupt(format!("instant {micros} out of range")))
}

fn severities_text(severities: SeveritySet) -> String {
    severities.iter().map(|severity| severity.number().to_string()).collect::<Vec<_>>().join(",")
}

fn severities_numbers(text: &str) -> Vec<i32> {
    text.split(',').filter(|part| !part.is_empty()).filter_map(|part| part.parse().ok()).collect()
}

fn plan_text(plan: PlanKind) -> &'static str {
    match plan {
        PlanKind::Standard => "STANDARD",
        PlanKind::EeaOnly => "EEA_ONLY",
    }
}

fn corrupt(what: &str, id: &str, violations: Vec<FieldViolation>) -> StorageError {
    let details: Vec<String> =
        violations.into_iter().map(|violation| format!("{}: {}", violation.field, violation.description)).collect();
    StorageError::Corrupt(format!("stored {what} {id:?} is no longer valid: {}", details.join("; ")))
}

#[derive(Queryable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = orgs)]
pub struct OrgRow {
    pub org_id: String,
    pub cloud_region: String,
    pub plan: String,
}

impl OrgRow {
    pub fn from_domain(org: &Org) -> OrgRow {
        OrgRow {
            org_id: org.org_id.as_str().to_owned(),
            cloud_region: org.cloud_region.clone(),
            plan: plan_text(org.plan).to_owned(),
        }
    }

    /// Orgs keep their stored region even if the policy drops it, so no data is lost; decisions
    /// then report the unknown region.
    pub fn into_domain(self) -> Result<Org, StorageError> {
        let plan = match self.plan.as_str() {
            "STANDARD" => PlanKind::Standard,
            "EEA_ONLY" => PlanKind::EeaOnly,
            other => return Err(StorageError::Corrupt(format!("org {:?} has unknown plan {other:?}", self.org_id))),
        };
        let org_id = OrgId::new(self.org_id.clone()).map_err(|problem| {
            corrupt("org", &self.org_id, vec![FieldViolation::new("org_id", problem.to_string())])
        })?;
        Ok(Org { org_id, cloud_region: self.cloud_region, plan })
    }
}

#[derive(Queryable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = consents)]
pub struct ConsentRow {
    pub org_id: String,
    pub ticket_id: String,
    pub agent_id: String,
    pub expires_at: i64,
}

impl ConsentRow {
    pub fn from_domain(consent: &Consent) -> ConsentRow {
        ConsentRow {
            org_id: consent.org_id.as_str().to_owned(),
            ticket_id: consent.ticket_id.as_str().to_owned(),
            agent_id: consent.agent_id.as_str().to_owned(),
            expires_at: to_micros(consent.expires_at),
        }
    }

    pub fn into_domain(self) -> Result<Consent, StorageError> {
        let expires_at = from_micros(self.expires_at)?;
        let key = format!("{}/{}/{}", self.org_id, self.ticket_id, self.agent_id);
        Consent::new(self.org_id, self.ticket_id, self.agent_id, Some(expires_at))
            .map_err(|violations| corrupt("consent", &key, violations))
    }
}

#[derive(Queryable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = agents, treat_none_as_null = true)]
pub struct AgentRow {
    pub agent_id: String,
    pub display_name: String,
    pub country: String,
    pub time_zone: String,
    pub severities: String,
    pub source: Option<String>,
}

#[derive(Queryable, Insertable, Clone)]
#[diesel(table_name = location_changes)]
pub struct LocationChangeRow {
    pub agent_id: String,
    pub effective_at: i64,
    pub country: String,
}

impl AgentRow {
    pub fn from_domain(agent: &Agent) -> (AgentRow, Vec<LocationChangeRow>) {
        let row = AgentRow {
            agent_id: agent.agent_id.as_str().to_owned(),
            display_name: agent.display_name.clone(),
            country: agent.country.to_string(),
            time_zone: agent.zone.name().to_owned(),
            severities: severities_text(agent.severities),
            source: agent.source.clone(),
        };
        let changes = agent
            .location_changes
            .iter()
            .map(|change| LocationChangeRow {
                agent_id: agent.agent_id.as_str().to_owned(),
                effective_at: to_micros(change.effective_at),
                country: change.country.to_string(),
            })
            .collect();
        (row, changes)
    }

    pub fn into_domain(self, changes: Vec<LocationChangeRow>) -> Result<Agent, StorageError> {
        let mut location_changes = Vec::with_capacity(changes.len());
        for change in changes {
            location_changes.push((Some(from_micros(change.effective_at)?), change.country));
        }
        let agent_id = self.agent_id.clone();
        Agent::new(AgentDraft {
            agent_id: self.agent_id,
            display_name: self.display_name,
            country: self.country,
            time_zone: self.time_zone,
            severities: severities_numbers(&self.severities),
            location_changes,
            source: self.source,
        })
        .map_err(|violations| corrupt("agent", &agent_id, violations))
    }
}

#[derive(Queryable, Insertable, AsChangeset, Clone, PartialEq, Debug)]
#[diesel(table_name = shifts, treat_none_as_null = true)]
pub struct ShiftRow {
    pub shift_id: String,
    pub agent_id: String,
    pub severities: String,
    pub country: Option<String>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub time_zone: Option<String>,
    pub start_local: Option<String>,
    pub end_time: Option<String>,
    pub rrule: Option<String>,
    pub exdates: Option<String>,
    pub source: Option<String>,
    pub first_start_at: Option<i64>,
}

fn local_text(local: DateTime) -> String {
    local.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

impl ShiftRow {
    pub fn from_domain(shift: &Shift) -> ShiftRow {
        let mut row = ShiftRow {
            shift_id: shift.shift_id.as_str().to_owned(),
            agent_id: shift.agent_id.as_str().to_owned(),
            severities: severities_text(shift.severities),
            country: shift.country.map(|country| country.to_string()),
            starts_at: None,
            ends_at: None,
            time_zone: None,
            start_local: None,
            end_time: None,
            rrule: None,
            exdates: None,
            source: shift.source.clone(),
            first_start_at: Some(to_micros(shift.starts_at())),
        };
        match &shift.schedule {
            Schedule::OneOff(interval) => {
                row.starts_at = Some(to_micros(interval.start()));
                row.ends_at = Some(to_micros(interval.end()));
            }
            Schedule::Recurring(recurring) => {
                row.time_zone = Some(recurring.zone().name().to_owned());
                row.start_local = Some(local_text(recurring.start_local()));
                row.end_time = Some(recurring.end_time().strftime("%H:%M").to_string());
                row.rrule = Some(recurring.rrule().to_owned());
                row.exdates = Some(recurring.exdates().iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
            }
        }
        row
    }

    pub fn into_domain(self) -> Result<Shift, StorageError> {
        let shift_id = self.shift_id.clone();
        let schedule = match (self.starts_at, self.ends_at, self.time_zone) {
            (Some(starts_at), Some(ends_at), None) => {
                ScheduleDraft::OneOff { starts_at: Some(from_micros(starts_at)?), ends_at: Some(from_micros(ends_at)?) }
            }
            (None, None, Some(time_zone)) => ScheduleDraft::Recurring {
                time_zone,
                start_local: self.start_local.unwrap_or_default(),
                end_time: self.end_time.unwrap_or_default(),
                rrule: self.rrule.unwrap_or_default(),
                exdates: self.exdates.unwrap_or_default().lines().map(str::to_owned).collect(),
            },
            _ => ScheduleDraft::Missing,
        };
        Shift::new(ShiftDraft {
            shift_id: self.shift_id,
            agent_id: self.agent_id,
            severities: severities_numbers(&self.severities),
            country: self.country.unwrap_or_default(),
            schedule,
            source: self.source,
        })
        .map_err(|violations| corrupt("shift", &shift_id, violations))
    }
}

#[derive(Queryable, Insertable, AsChangeset, Clone, PartialEq, Debug)]
#[diesel(table_name = time_off, treat_none_as_null = true)]
pub struct TimeOffRow {
    pub time_off_id: String,
    pub agent_id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub source: Option<String>,
}

impl TimeOffRow {
    pub fn from_domain(entry: &TimeOff) -> TimeOffRow {
        TimeOffRow {
            time_off_id: entry.time_off_id.as_str().to_owned(),
            agent_id: entry.agent_id.as_str().to_owned(),
            starts_at: to_micros(entry.period.start()),
            ends_at: to_micros(entry.period.end()),
            source: entry.source.clone(),
        }
    }

    pub fn into_domain(self) -> Result<TimeOff, StorageError> {
        let time_off_id = self.time_off_id.clone();
        TimeOff::new(
            self.time_off_id,
            self.agent_id,
            Some(from_micros(self.starts_at)?),
            Some(from_micros(self.ends_at)?),
            self.source,
        )
        .map_err(|violations| corrupt("time off", &time_off_id, violations))
    }
}

impl SyncEntry for ShiftRow {
    fn id(&self) -> &str {
        &self.shift_id
    }
}

impl SyncEntry for TimeOffRow {
    fn id(&self) -> &str {
        &self.time_off_id
    }
}

#[cfg(test)]
mod tests;

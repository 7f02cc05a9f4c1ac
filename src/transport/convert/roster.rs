//! The roster's messages: orgs, consents, agents, shifts and time off, one by one or in batches.

use super::{instant_field, plan_from_pb, plan_to_pb, severities_from_pb, severities_to_pb, timestamp};
use crate::app::MAX_BATCH_ENTRIES;
use crate::domain::policy::Policy;
use crate::domain::roster::{Agent, AgentDraft, Consent, Org, Schedule, ScheduleDraft, Shift, ShiftDraft, TimeOff};
use crate::domain::time::Instant;
use crate::domain::validation::FieldViolation;
use crate::pb;

pub fn org_to_pb(org: &Org, policy: &Policy, now: Instant) -> pb::Org {
    let region = policy.facts.region(&org.cloud_region);
    pb::Org {
        org_id: org.org_id.as_str().to_owned(),
        cloud_region: org.cloud_region.clone(),
        plan: plan_to_pb(org.plan) as i32,
        eea_tagged: region.is_some_and(|region| policy.facts.region_is_eea(region, now)),
        region_country: region.map(|region| region.country.to_string()).unwrap_or_default(),
    }
}

pub fn org_from_pb(org: pb::Org, policy: &Policy) -> Result<Org, Vec<FieldViolation>> {
    // eea_tagged and region_country are output only.
    let pb::Org { org_id, cloud_region, plan, eea_tagged: _, region_country: _ } = org;
    Org::new(org_id, cloud_region, plan_from_pb(plan), &policy.facts)
}

pub fn consent_to_pb(consent: &Consent) -> pb::Consent {
    pb::Consent {
        org_id: consent.org_id.as_str().to_owned(),
        ticket_id: consent.ticket_id.as_str().to_owned(),
        agent_id: consent.agent_id.as_str().to_owned(),
        expires_at: Some(timestamp(consent.expires_at)),
    }
}

pub fn consent_from_pb(consent: pb::Consent) -> Result<Consent, Vec<FieldViolation>> {
    let pb::Consent { org_id, ticket_id, agent_id, expires_at } = consent;
    let mut violations = Vec::new();
    let expires_at_instant = instant_field("expires_at", expires_at, &mut violations);
    let result = Consent::new(org_id, ticket_id, agent_id, expires_at_instant);
    merge_violations(violations, result)
}

/// Combines conversion violations with the domain's; a present-but-invalid timestamp is not
/// also reported as missing.
fn merge_violations<T>(
    mut violations: Vec<FieldViolation>,
    result: Result<T, Vec<FieldViolation>>,
) -> Result<T, Vec<FieldViolation>> {
    match result {
        Ok(value) if violations.is_empty() => Ok(value),
        Ok(_) => Err(violations),
        Err(domain) => {
            for violation in domain {
                if !violations.iter().any(|known| known.field == violation.field) {
                    violations.push(violation);
                }
            }
            Err(violations)
        }
    }
}

pub fn agent_to_pb(agent: &Agent) -> pb::Agent {
    pb::Agent {
        agent_id: agent.agent_id.as_str().to_owned(),
        display_name: agent.display_name.clone(),
        country: agent.country.to_string(),
        time_zone: agent.zone.name().to_owned(),
        severities: severities_to_pb(agent.severities),
        location_changes: agent
            .location_changes
            .iter()
            .map(|change| pb::LocationChange {
                effective_at: Some(timestamp(change.effective_at)),
                country: change.country.to_string(),
            })
            .collect(),
    }
}

pub fn agent_from_pb(agent: pb::Agent, source: Option<String>) -> Result<Agent, Vec<FieldViolation>> {
    let pb::Agent { agent_id, display_name, country, time_zone, severities, location_changes } = agent;
    let mut violations = Vec::new();
    let location_changes = location_changes
        .into_iter()
        .enumerate()
        .map(|(change_idx, change)| {
            let pb::LocationChange { effective_at, country } = change;
            (
                instant_field(&format!("location_changes[{change_idx}].effective_at"), effective_at, &mut violations),
                country,
            )
        })
        .collect();
    let result = Agent::new(AgentDraft {
        agent_id,
        display_name,
        country,
        time_zone,
        severities: severities_from_pb(&severities),
        location_changes,
        source,
    });
    merge_violations(violations, result)
}

pub fn shift_to_pb(shift: &Shift) -> pb::Shift {
    let schedule = match &shift.schedule {
        Schedule::OneOff(interval) => pb::shift::Schedule::OneOff(pb::OneOffShift {
            starts_at: Some(timestamp(interval.start())),
            ends_at: Some(timestamp(interval.end())),
        }),
        Schedule::Recurring(recurring) => pb::shift::Schedule::Recurring(pb::RecurringShift {
            time_zone: recurring.zone().name().to_owned(),
            start_local: recurring.start_local().strftime("%Y-%m-%dT%H:%M:%S").to_string(),
            end_time: recurring.end_time().strftime("%H:%M").to_string(),
            rrule: recurring.rrule().to_owned(),
            exdates: recurring.exdates().iter().map(ToString::to_string).collect(),
        }),
    };
    pb::Shift {
        shift_id: shift.shift_id.as_str().to_owned(),
        agent_id: shift.agent_id.as_str().to_owned(),
        severities: severities_to_pb(shift.severities),
        country: shift.country.map(|country| country.to_string()).unwrap_or_default(),
        schedule: Some(schedule),
        source: shift.source.clone().unwrap_or_default(),
    }
}

pub fn shift_from_pb(shift: pb::Shift, source: Option<String>) -> Result<Shift, Vec<FieldViolation>> {
    let pb::Shift { shift_id, agent_id, severities, country, schedule, source: _ } = shift;
    let mut violations = Vec::new();
    let schedule = match schedule {
        None => ScheduleDraft::Missing,
        Some(pb::shift::Schedule::OneOff(pb::OneOffShift { starts_at, ends_at })) => ScheduleDraft::OneOff {
            starts_at: instant_field("one_off.starts_at", starts_at, &mut violations),
            ends_at: instant_field("one_off.ends_at", ends_at, &mut violations),
        },
        Some(pb::shift::Schedule::Recurring(pb::RecurringShift {
            time_zone,
            start_local,
            end_time,
            rrule,
            exdates,
        })) => ScheduleDraft::Recurring { time_zone, start_local, end_time, rrule, exdates },
    };
    let result = Shift::new(ShiftDraft {
        shift_id,
        agent_id,
        severities: severities_from_pb(&severities),
        country,
        schedule,
        source,
    });
    merge_violations(violations, result)
}

pub fn time_off_to_pb(entry: &TimeOff) -> pb::TimeOff {
    pb::TimeOff {
        time_off_id: entry.time_off_id.as_str().to_owned(),
        agent_id: entry.agent_id.as_str().to_owned(),
        starts_at: Some(timestamp(entry.period.start())),
        ends_at: Some(timestamp(entry.period.end())),
        source: entry.source.clone().unwrap_or_default(),
    }
}

pub fn time_off_from_pb(entry: pb::TimeOff, source: Option<String>) -> Result<TimeOff, Vec<FieldViolation>> {
    let pb::TimeOff { time_off_id, agent_id, starts_at, ends_at, source: _ } = entry;
    let mut violations = Vec::new();
    let starts_at = instant_field("starts_at", starts_at, &mut violations);
    let ends_at = instant_field("ends_at", ends_at, &mut violations);
    let result = TimeOff::new(time_off_id, agent_id, starts_at, ends_at, source);
    merge_violations(violations, result)
}

/// Converts every entry of a batch, naming each violation by its position
/// (`shifts[3].recurring.rrule`). An oversized batch is refused before any conversion.
pub fn batch_from_pb<P, T>(
    batch_field: &str,
    entries: Vec<P>,
    mut convert: impl FnMut(P) -> Result<T, Vec<FieldViolation>>,
) -> Result<Vec<T>, Vec<FieldViolation>> {
    if entries.len() > MAX_BATCH_ENTRIES {
        return Err(vec![FieldViolation::new(batch_field, format!("at most {MAX_BATCH_ENTRIES} entries per batch"))]);
    }
    let mut converted = Vec::with_capacity(entries.len());
    let mut violations = Vec::new();
    for (entry_idx, entry) in entries.into_iter().enumerate() {
        match convert(entry) {
            Ok(value) => converted.push(value),
            Err(entry_violations) => {
                violations.extend(
                    entry_violations
                        .into_iter()
                        .map(|violation| violation.within(&format!("{batch_field}[{entry_idx}]"))),
                );
            }
        }
    }
    if violations.is_empty() {
        Ok(converted)
    } else {
        Err(violations)
    }
}

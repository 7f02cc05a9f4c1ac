//! Proto <-> domain conversions. Proto messages are destructured field by field, so a new proto
//! field fails to compile here until someone decides what it means.

use crate::app::MAX_BATCH_ENTRIES;
use crate::audit::{AuditEvent, EntityKind};
use crate::domain::calendar::HolidayCalendar;
use crate::domain::coverage::{Gap, GapCause};
use crate::domain::decision::{AccessDecision, AccessReason, DecisionReason, TicketDecision};
use crate::domain::interval::Interval;
use crate::domain::policy::{PlanKind, Policy, ServiceHours, Severity, SeveritySet, TicketCategory, TransferBasis};
use crate::domain::roster::{Agent, AgentDraft, Consent, Org, Schedule, ScheduleDraft, Shift, ShiftDraft, TimeOff};
use crate::domain::time::{is_within_supported_range, tz_database_version, Instant};
use crate::domain::validation::{check_window, FieldViolation, ReceivedInstant, Violations, WindowRules};
use crate::pb;

/// Converts a wire timestamp; `None` stays `None`, an unrepresentable one is a violation.
/// Instants are kept to whole microseconds, the precision they are stored with, so what a caller
/// reads back is what every later answer uses.
pub fn instant_field(
    field: &str,
    timestamp: Option<prost_types::Timestamp>,
    violations: &mut Vec<FieldViolation>,
) -> Option<Instant> {
    let timestamp = timestamp?;
    // Checked before any arithmetic: a nanos field of i32::MIN must not overflow.
    let nanos = Some(timestamp.nanos).filter(|nanos| (0..1_000_000_000).contains(nanos));
    let whole_micros = nanos.map(|nanos| nanos - nanos % 1_000);
    match whole_micros.ok_or(()).and_then(|whole_micros| Instant::new(timestamp.seconds, whole_micros).map_err(|_| ()))
    {
        Ok(instant) => Some(instant),
        Err(_) => {
            violations
                .push(FieldViolation::new(field, "timestamp is out of range (years -9999 to 9999, nanos 0..1e9)"));
            None
        }
    }
}

/// Converts the instant a question is about; it must lie in the supported range.
pub fn question_instant_field(
    field: &str,
    timestamp: Option<prost_types::Timestamp>,
    violations: &mut Vec<FieldViolation>,
) -> Option<Instant> {
    let instant = instant_field(field, timestamp, violations)?;
    if !is_within_supported_range(instant) {
        violations.push(FieldViolation::new(field, "must be from 1970-01-01 up to 2200-01-01"));
        return None;
    }
    Some(instant)
}

/// Converts the two wire ends of a window and checks the window by `rules`, adding every
/// violation to `violations` (conversion problems first, then the window's own).
pub fn window_field(
    violations: &mut Violations,
    rules: &WindowRules,
    start_at: Option<prost_types::Timestamp>,
    end_at: Option<prost_types::Timestamp>,
) -> Option<Interval> {
    let (start_sent, end_sent) = (start_at.is_some(), end_at.is_some());
    let start = question_instant_field(rules.start_field, start_at, &mut violations.0);
    let end = question_instant_field(rules.end_field, end_at, &mut violations.0);
    check_window(violations, rules, ReceivedInstant::new(start_sent, start), ReceivedInstant::new(end_sent, end))
}

pub fn timestamp(instant: Instant) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: instant.as_second(), nanos: instant.subsec_nanosecond() }
}

pub fn severity_from_pb(value: i32) -> Option<Severity> {
    match pb::Severity::try_from(value).ok()? {
        pb::Severity::Unspecified => None,
        pb::Severity::Severity1 => Some(Severity::Sev1),
        pb::Severity::Severity2 => Some(Severity::Sev2),
        pb::Severity::Severity3 => Some(Severity::Sev3),
        pb::Severity::Severity4 => Some(Severity::Sev4),
    }
}

pub fn severity_to_pb(severity: Severity) -> pb::Severity {
    match severity {
        Severity::Sev1 => pb::Severity::Severity1,
        Severity::Sev2 => pb::Severity::Severity2,
        Severity::Sev3 => pb::Severity::Severity3,
        Severity::Sev4 => pb::Severity::Severity4,
    }
}

fn severities_to_pb(severities: SeveritySet) -> Vec<i32> {
    severities.iter().map(|severity| severity_to_pb(severity) as i32).collect()
}

/// Wire severities become numbers 1-4 for the domain's checks; anything else stays out of
/// range so the domain names it.
fn severities_from_pb(values: &[i32]) -> Vec<i32> {
    values
        .iter()
        .map(|value| severity_from_pb(*value).map_or(*value, |severity| i32::from(severity.number())))
        .collect()
}

pub fn plan_from_pb(value: i32) -> Option<PlanKind> {
    match pb::Plan::try_from(value).ok()? {
        pb::Plan::Unspecified => None,
        pb::Plan::Standard => Some(PlanKind::Standard),
        pb::Plan::EeaOnly => Some(PlanKind::EeaOnly),
    }
}

pub fn plan_to_pb(plan: PlanKind) -> pb::Plan {
    match plan {
        PlanKind::Standard => pb::Plan::Standard,
        PlanKind::EeaOnly => pb::Plan::EeaOnly,
    }
}

pub fn category_from_pb(value: i32) -> Option<TicketCategory> {
    match pb::TicketCategory::try_from(value).ok()? {
        pb::TicketCategory::Unspecified | pb::TicketCategory::ProductSupport => Some(TicketCategory::ProductSupport),
        pb::TicketCategory::CustomApplicationSupport => Some(TicketCategory::CustomApplicationSupport),
        pb::TicketCategory::ProfessionalServices => Some(TicketCategory::ProfessionalServices),
        pb::TicketCategory::ThirdParty => Some(TicketCategory::ThirdParty),
        pb::TicketCategory::SubProcessor => Some(TicketCategory::SubProcessor),
    }
}

pub fn category_to_pb(category: TicketCategory) -> pb::TicketCategory {
    match category {
        TicketCategory::ProductSupport => pb::TicketCategory::ProductSupport,
        TicketCategory::CustomApplicationSupport => pb::TicketCategory::CustomApplicationSupport,
        TicketCategory::ProfessionalServices => pb::TicketCategory::ProfessionalServices,
        TicketCategory::ThirdParty => pb::TicketCategory::ThirdParty,
        TicketCategory::SubProcessor => pb::TicketCategory::SubProcessor,
    }
}

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
    }
}

pub fn shift_from_pb(shift: pb::Shift, source: Option<String>) -> Result<Shift, Vec<FieldViolation>> {
    let pb::Shift { shift_id, agent_id, severities, country, schedule } = shift;
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
    }
}

pub fn time_off_from_pb(entry: pb::TimeOff, source: Option<String>) -> Result<TimeOff, Vec<FieldViolation>> {
    let pb::TimeOff { time_off_id, agent_id, starts_at, ends_at } = entry;
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

pub fn gap_to_pb(gap: &Gap) -> pb::Gap {
    let Gap { interval, eligible_on_shift, cause } = gap;
    let cause = match cause {
        GapCause::BelowMinimum => pb::GapCause::BelowMinimum,
        GapCause::StaffOnTimeOff => pb::GapCause::StaffOnTimeOff,
        GapCause::OnlyIneligibleStaff => pb::GapCause::OnlyIneligibleStaff,
        GapCause::NoOneScheduled => pb::GapCause::NoOneScheduled,
    };
    pb::Gap {
        starts_at: Some(timestamp(interval.start())),
        ends_at: Some(timestamp(interval.end())),
        eligible_on_shift: i32::try_from(*eligible_on_shift).unwrap_or(i32::MAX),
        cause: cause as i32,
    }
}

pub fn decision_to_pb(decision: TicketDecision, at: Instant) -> pb::DecideTicketResponse {
    let TicketDecision {
        eea_tagged,
        org_plan,
        plan,
        in_service_hours,
        staffed_now,
        handle_now,
        window_closes_at,
        window_opens_at,
        next_staffed_at,
        eligible_on_shift,
        reason,
        detail,
    } = decision;
    let reason = match reason {
        DecisionReason::HandleNow => pb::DecisionReason::HandleNow,
        DecisionReason::OutsideServiceHours => pb::DecisionReason::OutsideServiceHours,
        DecisionReason::NoEligibleStaffOnShift => pb::DecisionReason::NoEligibleStaffOnShift,
        DecisionReason::NoEligibleStaffWithinHorizon => pb::DecisionReason::NoEligibleStaffWithinHorizon,
    };
    pb::DecideTicketResponse {
        eea_tagged,
        plan: plan_to_pb(plan) as i32,
        in_service_hours,
        staffed_now,
        handle_now,
        window_closes_at: window_closes_at.map(timestamp),
        window_opens_at: window_opens_at.map(timestamp),
        next_staffed_at: next_staffed_at.map(timestamp),
        eligible_on_shift: i32::try_from(eligible_on_shift).unwrap_or(i32::MAX),
        reason: reason as i32,
        detail,
        at: Some(timestamp(at)),
        org_plan: plan_to_pb(org_plan) as i32,
    }
}

pub fn access_to_pb(access: &AccessDecision) -> pb::CheckAgentAccessResponse {
    let AccessDecision { allowed, reason, agent_country, eea_tagged, plan, handles_severity, on_shift } = access;
    let (reason, detail) = match reason {
        AccessReason::NotEeaTagged => {
            (pb::AccessReason::NotEeaTagged, "the ticket is not EEA-tagged; STANDARD rules allow any location")
        }
        AccessReason::EeaStaff => (pb::AccessReason::EeaStaff, "the agent works from the EEA"),
        AccessReason::Adequacy => {
            (pb::AccessReason::Adequacy, "the agent's country has an EU adequacy decision in force")
        }
        AccessReason::Contractual => (pb::AccessReason::Contractual, "the agent's country is permitted by contract"),
        AccessReason::ConsentOnFile => {
            (pb::AccessReason::ConsentOnFile, "the customer consented to this agent handling this ticket")
        }
        AccessReason::OutsideEeaOnEeaOnly => {
            (pb::AccessReason::OutsideEeaOnEeaOnly, "EEA_ONLY plan: the agent works from outside the EEA")
        }
        AccessReason::UsWithoutConsent => {
            (pb::AccessReason::UsWithoutConsent, "US staff need the customer's consent for this ticket")
        }
        AccessReason::CountryNotPermitted => {
            (pb::AccessReason::CountryNotPermitted, "the agent's country is not permitted for EEA-tagged tickets")
        }
    };
    pb::CheckAgentAccessResponse {
        allowed: *allowed,
        reason: reason as i32,
        detail: detail.to_owned(),
        agent_country: agent_country.to_string(),
        eea_tagged: *eea_tagged,
        plan: plan_to_pb(*plan) as i32,
        handles_severity: *handles_severity,
        on_shift: *on_shift,
    }
}

fn basis_to_pb(basis: TransferBasis) -> pb::TransferBasis {
    match basis {
        TransferBasis::Eea => pb::TransferBasis::Eea,
        TransferBasis::AdequacyFull => pb::TransferBasis::AdequacyFull,
        TransferBasis::AdequacyPartial => pb::TransferBasis::AdequacyPartial,
        TransferBasis::Contractual => pb::TransferBasis::Contractual,
        TransferBasis::ConsentOnly => pb::TransferBasis::ConsentOnly,
    }
}

fn hours_to_pb(severity: Severity, hours: &ServiceHours) -> pb::ServiceHours {
    match hours {
        ServiceHours::AroundTheClock => {
            pb::ServiceHours { severity: severity_to_pb(severity) as i32, hours: "24x7".into(), ..Default::default() }
        }
        ServiceHours::Business(window) => pb::ServiceHours {
            severity: severity_to_pb(severity) as i32,
            hours: "business".into(),
            time_zone: window.zone.name().to_owned(),
            opens_local: window.opens.strftime("%H:%M").to_string(),
            closes_local: window.closes.strftime("%H:%M").to_string(),
            holiday_calendar: window.holidays.name().to_owned(),
        },
    }
}

pub fn policy_to_pb(policy: &Policy, at: Instant) -> pb::Policy {
    let facts = &policy.facts;
    let year = crate::domain::time::Zone::brussels().to_local(at).year();
    pb::Policy {
        policy_version: facts.version.clone(),
        effective_at: Some(timestamp(facts.effective_at)),
        countries: facts
            .countries
            .iter()
            .map(|basis| pb::CountryBasis {
                country: basis.country.to_string(),
                name: basis.name.clone(),
                basis: basis_to_pb(basis.basis) as i32,
                scope: basis.scope.clone(),
                valid_from: basis.valid_from.map(timestamp),
                valid_until: basis.valid_until.map(timestamp),
                source: basis.source.clone(),
                in_force: basis.in_force_at(at),
            })
            .collect(),
        regions: facts
            .regions
            .iter()
            .map(|region| pb::CloudRegion {
                region: region.region.clone(),
                place: region.place.clone(),
                country: region.country.to_string(),
                eea: facts.region_is_eea(region, at),
            })
            .collect(),
        calendars: HolidayCalendar::ALL
            .iter()
            .map(|calendar| pb::HolidayCalendar {
                name: calendar.name().to_owned(),
                description: format!("{} (rules version {})", calendar.description(), calendar.version()),
                sample_dates: [year, year + 1]
                    .iter()
                    .flat_map(|year| calendar.holidays_in(*year))
                    .map(|day| day.to_string())
                    .collect(),
            })
            .collect(),
        plans: [&policy.standard, &policy.eea_only]
            .iter()
            .map(|rules| pb::PlanRules {
                plan: plan_to_pb(rules.plan) as i32,
                service_hours: Severity::ALL
                    .iter()
                    .map(|severity| hours_to_pb(*severity, rules.hours_for(*severity)))
                    .collect(),
                excluded_categories: rules
                    .excluded_categories
                    .iter()
                    .map(|category| category_to_pb(*category) as i32)
                    .collect(),
            })
            .collect(),
        tz_database_version: tz_database_version().to_owned(),
        country_aliases: crate::domain::country::COUNTRY_ALIASES
            .iter()
            .map(|(alias, iso)| format!("{alias}={iso}"))
            .collect(),
    }
}

pub fn audit_kind_from_pb(kind: pb::AuditEntityKind) -> Option<EntityKind> {
    match kind {
        pb::AuditEntityKind::Unspecified => None,
        pb::AuditEntityKind::Org => Some(EntityKind::Org),
        pb::AuditEntityKind::Agent => Some(EntityKind::Agent),
        pb::AuditEntityKind::Shift => Some(EntityKind::Shift),
        pb::AuditEntityKind::TimeOff => Some(EntityKind::TimeOff),
        pb::AuditEntityKind::Ticket => Some(EntityKind::Ticket),
        pb::AuditEntityKind::Source => Some(EntityKind::Source),
    }
}

fn audit_kind_to_pb(kind: EntityKind) -> pb::AuditEntityKind {
    match kind {
        EntityKind::Org => pb::AuditEntityKind::Org,
        EntityKind::Agent => pb::AuditEntityKind::Agent,
        EntityKind::Shift => pb::AuditEntityKind::Shift,
        EntityKind::TimeOff => pb::AuditEntityKind::TimeOff,
        EntityKind::Ticket => pb::AuditEntityKind::Ticket,
        EntityKind::Source => pb::AuditEntityKind::Source,
    }
}

pub fn audit_event_to_pb(event: AuditEvent) -> pb::AuditEvent {
    pb::AuditEvent {
        sequence: event.sequence,
        recorded_at: Some(timestamp(event.recorded_at)),
        caller: event.caller,
        rpc: event.rpc,
        request_id: event.request_id,
        summary: event.summary,
        affected: event
            .affected
            .into_iter()
            .map(|entity| pb::AuditEntity { kind: audit_kind_to_pb(entity.kind) as i32, id: entity.id })
            .collect(),
        affected_count: i64::try_from(event.n_affected).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_timestamps_are_violations_not_panics() {
        let cases = [(0, i32::MIN), (0, -1), (0, 1_000_000_000), (i64::MAX, 0), (i64::MIN, 0)];
        for (seconds, nanos) in cases {
            let mut violations = Vec::new();
            let instant = instant_field("at", Some(prost_types::Timestamp { seconds, nanos }), &mut violations);
            assert_eq!(instant, None, "{seconds}s {nanos}ns");
            assert_eq!(violations.len(), 1, "{seconds}s {nanos}ns");
        }
        let mut violations = Vec::new();
        let kept = instant_field("at", Some(prost_types::Timestamp { seconds: 7, nanos: 1_234_567 }), &mut violations);
        assert_eq!(kept, Some(Instant::new(7, 1_234_000).unwrap()), "kept to whole microseconds");
        assert!(violations.is_empty());
    }
}

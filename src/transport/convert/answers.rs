//! The service's answers: gaps, ticket decisions, SLA deadlines, access checks, the policy in force
//! and the audit trail.

use jiff::SignedDuration;

use super::{category_to_pb, plan_to_pb, severity_to_pb, timestamp};
use crate::app::{GapEvent, GapEventKind, WindowCause, WindowUpdate};
use crate::audit::{AuditEvent, EntityKind};
use crate::domain::calendar::HolidayCalendar;
use crate::domain::coverage::{Gap, GapCause};
use crate::domain::deadline::{ClockReading, Deadline};
use crate::domain::decision::{AccessDecision, AccessReason, DecisionReason, TicketDecision};
use crate::domain::policy::{Policy, ServiceHours, Severity, TransferBasis, WorkingTimeLimits};
use crate::domain::sync::RequirementGapChanges;
use crate::domain::time::{tz_database_version, Instant};
use crate::domain::watch::WindowChange;
use crate::domain::working_time::{AgentWorkingTime, Breach, Warning, WorkWeek, WorkingTimeRule};
use crate::pb;

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

/// The gaps one requirement gains and loses, through a sync or a simulation's changes.
pub fn requirement_gap_changes_to_pb(changes: &RequirementGapChanges) -> pb::RequirementGapChanges {
    let RequirementGapChanges { plan, eea_tagged, severity, opened, closed } = changes;
    pb::RequirementGapChanges {
        plan: plan_to_pb(*plan) as i32,
        eea_tagged: *eea_tagged,
        severity: severity_to_pb(*severity) as i32,
        opened: opened.iter().map(gap_to_pb).collect(),
        closed: closed.iter().map(gap_to_pb).collect(),
    }
}

fn cause_to_pb(cause: WindowCause) -> pb::WindowUpdateCause {
    match cause {
        WindowCause::CurrentState => pb::WindowUpdateCause::CurrentState,
        WindowCause::TimePassed => pb::WindowUpdateCause::TimePassed,
        WindowCause::RosterChanged => pb::WindowUpdateCause::RosterChanged,
    }
}

pub fn gap_event_to_pb(event: GapEvent) -> pb::GapEvent {
    let GapEvent { requirement_idx, kind, cause, gap, roster_version, at } = event;
    let kind = match kind {
        GapEventKind::Current => pb::GapEventKind::Current,
        GapEventKind::Opened => pb::GapEventKind::Opened,
        GapEventKind::Closed => pb::GapEventKind::Closed,
        GapEventKind::Started => pb::GapEventKind::Started,
        GapEventKind::Ended => pb::GapEventKind::Ended,
    };
    pb::GapEvent {
        requirement_index: i32::try_from(requirement_idx).unwrap_or(i32::MAX),
        kind: kind as i32,
        cause: cause_to_pb(cause) as i32,
        gap: Some(gap_to_pb(&gap)),
        roster_version,
        at: Some(timestamp(at)),
    }
}

pub fn window_update_to_pb(update: WindowUpdate) -> pb::WindowUpdate {
    let WindowUpdate { subscription_idx, cause, changes, roster_version, at, decision } = update;
    let cause = cause_to_pb(cause);
    let changes = changes.into_iter().map(|change| window_change_to_pb(change) as i32).collect();
    pb::WindowUpdate {
        subscription_index: i32::try_from(subscription_idx).unwrap_or(i32::MAX),
        cause: cause as i32,
        changes,
        roster_version,
        decision: decision.map(|decision| decision_to_pb(decision, at)),
    }
}

pub fn window_change_to_pb(change: WindowChange) -> pb::WindowChange {
    match change {
        WindowChange::WindowOpened => pb::WindowChange::WindowOpened,
        WindowChange::WindowClosed => pb::WindowChange::WindowClosed,
        WindowChange::WindowMoved => pb::WindowChange::WindowMoved,
        WindowChange::StaffingStarted => pb::WindowChange::StaffingStarted,
        WindowChange::StaffingStopped => pb::WindowChange::StaffingStopped,
        WindowChange::HeadcountChanged => pb::WindowChange::HeadcountChanged,
        WindowChange::NextStaffedMoved => pb::WindowChange::NextStaffedAtMoved,
        WindowChange::EeaTagChanged => pb::WindowChange::EeaTagChanged,
        WindowChange::PlanChanged => pb::WindowChange::PlanChanged,
        WindowChange::OrgRemoved => pb::WindowChange::OrgRemoved,
        WindowChange::OrgRestored => pb::WindowChange::OrgRestored,
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
        known_as: None,
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
        known_as: None,
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
        working_time: std::iter::once((
            String::new(),
            &facts.working_time.defaults,
            facts.working_time.source.as_str(),
        ))
        .chain(facts.working_time.countries().map(|(country, limits, source)| (country.to_string(), limits, source)))
        .map(|(country, limits, source)| working_time_limits_to_pb(country, limits, source))
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

fn duration_to_pb(duration: SignedDuration) -> prost_types::Duration {
    prost_types::Duration { seconds: duration.as_secs(), nanos: duration.subsec_nanos() }
}

fn clock_to_pb(reading: &ClockReading) -> pb::SlaClock {
    let ClockReading { due_at, elapsed, remaining, breached } = *reading;
    pb::SlaClock {
        due_at: due_at.map(timestamp),
        elapsed: Some(duration_to_pb(elapsed)),
        remaining: Some(duration_to_pb(remaining)),
        breached,
    }
}

pub fn deadline_to_pb(deadline: &Deadline, at: Instant) -> pb::Deadline {
    let Deadline { eea_tagged, org_plan, plan, around_the_clock, service, staffed } = deadline;
    pb::Deadline {
        eea_tagged: *eea_tagged,
        plan: plan_to_pb(*plan) as i32,
        org_plan: plan_to_pb(*org_plan) as i32,
        around_the_clock: *around_the_clock,
        at: Some(timestamp(at)),
        service_time: Some(clock_to_pb(service)),
        staffed_service_time: Some(clock_to_pb(staffed)),
    }
}

pub fn working_time_to_pb(report: &AgentWorkingTime) -> pb::AgentWorkingTime {
    let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    pb::AgentWorkingTime {
        agent_id: report.agent_id.as_str().to_owned(),
        time_zone: report.time_zone.clone(),
        weeks: report.weeks.iter().map(work_week_to_pb).collect(),
        worked: Some(duration_to_pb(report.worked)),
        night_work: Some(duration_to_pb(report.night)),
        working_days: count(report.working_days),
        night_working_days: count(report.night_working_days),
        night_worker: report.night_worker,
        breaches: report.breaches.iter().map(breach_to_pb).collect(),
    }
}

fn work_week_to_pb(week: &WorkWeek) -> pb::WorkWeek {
    pb::WorkWeek {
        week_start: Some(timestamp(week.week.start())),
        week_end: Some(timestamp(week.week.end())),
        worked: Some(duration_to_pb(week.worked)),
        night_work: Some(duration_to_pb(week.night)),
        rolling_average: Some(duration_to_pb(week.rolling_average)),
        reference_weeks: i32::try_from(week.reference_weeks).unwrap_or(i32::MAX),
    }
}

pub fn breach_to_pb(breach: &Breach) -> pb::WorkingTimeBreach {
    let rule = match breach.rule {
        WorkingTimeRule::DailyRest => pb::WorkingTimeRule::DailyRest,
        WorkingTimeRule::WeeklyRest => pb::WorkingTimeRule::WeeklyRest,
        WorkingTimeRule::AverageWeeklyWork => pb::WorkingTimeRule::AverageWeeklyWork,
    };
    pb::WorkingTimeBreach {
        rule: rule as i32,
        window_start: Some(timestamp(breach.window.start())),
        window_end: Some(timestamp(breach.window.end())),
        measured: Some(duration_to_pb(breach.measured)),
        limit: Some(duration_to_pb(breach.limit)),
        shift_ids: breach.shift_ids.iter().map(|shift_id| shift_id.as_str().to_owned()).collect(),
    }
}

pub fn warning_to_pb(warning: &Warning) -> pb::WorkingTimeWarning {
    pb::WorkingTimeWarning {
        agent_id: warning.agent_id.as_str().to_owned(),
        breach: Some(breach_to_pb(&warning.breach)),
    }
}

fn working_time_limits_to_pb(country: String, limits: &WorkingTimeLimits, source: &str) -> pb::WorkingTimeLimits {
    pb::WorkingTimeLimits {
        country,
        source: source.to_owned(),
        daily_rest: Some(duration_to_pb(limits.daily_rest)),
        weekly_rest: Some(duration_to_pb(limits.weekly_rest)),
        max_average_weekly_work: Some(duration_to_pb(limits.max_average_weekly_work)),
        reference_weeks: i32::try_from(limits.reference_weeks).unwrap_or(i32::MAX),
        night_starts: limits.night_starts.strftime("%H:%M").to_string(),
        night_ends: limits.night_ends.strftime("%H:%M").to_string(),
        night_worker_min_night_work: Some(duration_to_pb(limits.night_worker_min_night_work)),
    }
}

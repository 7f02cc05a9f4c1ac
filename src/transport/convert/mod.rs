//! Proto <-> domain conversions. Proto messages are destructured field by field, so a new proto
//! field fails to compile here until someone decides what it means.

mod answers;
mod roster;
mod what_if;

pub use answers::{
    access_to_pb, audit_event_to_pb, audit_kind_from_pb, deadline_to_pb, decision_to_pb, gap_event_to_pb, gap_to_pb,
    policy_to_pb, requirement_gap_changes_to_pb, warning_to_pb, window_change_to_pb, window_update_to_pb,
    working_time_to_pb,
};
pub use roster::{
    agent_from_pb, agent_to_pb, batch_from_pb, consent_from_pb, consent_to_pb, org_from_pb, org_to_pb, shift_from_pb,
    shift_to_pb, time_off_from_pb, time_off_to_pb,
};
pub use what_if::changes_from_pb;

use crate::domain::interval::Interval;
use crate::domain::policy::{PlanKind, Severity, SeveritySet, TicketCategory};
use crate::domain::time::{is_within_supported_range, Instant};
use crate::domain::validation::{
    check_window, FieldViolation, LongestWindow, ReceivedInstant, Violations, WindowReporting, WindowRules,
};
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

/// A window whose span is limited to `max_days`, checked by its every problem: what reports and
/// syncs ask for. `too_long` is what a longer one is told.
pub fn bounded_window_field(
    violations: &mut Violations,
    [(start_field, start_at), (end_field, end_at)]: [(&str, Option<prost_types::Timestamp>); 2],
    (max_days, too_long): (i64, &str),
) -> Option<Interval> {
    let rules = WindowRules {
        start_field,
        end_field,
        longest: Some(LongestWindow { max_days, description: too_long }),
        reporting: WindowReporting::Every,
    };
    window_field(violations, &rules, start_at, end_at)
}

/// A wire enum value converted by `from_pb`; one it refuses (unset, or unknown to this build) is
/// a violation of `field`, which names the `expected` values.
pub fn enum_field<T>(
    violations: &mut Violations,
    field: &str,
    value: i32,
    from_pb: fn(i32) -> Option<T>,
    expected: &str,
) -> Option<T> {
    let converted = from_pb(value);
    if converted.is_none() {
        violations.add(field, format!("{value} is not {expected}"));
    }
    converted
}

pub fn severity_field(violations: &mut Violations, field: &str, value: i32) -> Option<Severity> {
    enum_field(violations, field, value, severity_from_pb, "SEVERITY_1 to SEVERITY_4")
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

pub(super) fn severities_to_pb(severities: SeveritySet) -> Vec<i32> {
    severities.iter().map(|severity| severity_to_pb(severity) as i32).collect()
}

/// Wire severities become numbers 1-4 for the domain's checks; anything else stays out of
/// range so the domain names it.
pub(super) fn severities_from_pb(values: &[i32]) -> Vec<i32> {
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

pub fn category_field(violations: &mut Violations, field: &str, value: i32) -> Option<TicketCategory> {
    enum_field(violations, field, value, category_from_pb, "a TicketCategory")
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

//! An RRULE's text as a series is split or moved on: its COUNT, UNTIL and BYDAY rewritten,
//! each part kept as written otherwise.

use jiff::civil::DateTime;
use jiff::SignedDuration;

use crate::domain::time::Zone;

/// A local date-time as iCalendar writes it, `20261207T090000`: in IDs and in UNTIL.
pub(super) fn stamp(local: DateTime) -> String {
    local.strftime("%Y%m%dT%H%M%S").to_string()
}

fn rule_parts(rule: &str) -> impl Iterator<Item = (String, &str)> {
    rule.split(';').filter(|part| !part.trim().is_empty()).map(|part| {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        (key.trim().to_ascii_uppercase(), value.trim())
    })
}

pub(super) fn rule_count(rule: &str) -> Option<u64> {
    rule_parts(rule).find(|(key, _)| key == "COUNT").and_then(|(_, value)| value.parse().ok())
}

pub(super) fn has_day_rules(rule: &str) -> bool {
    rule_parts(rule)
        .any(|(key, _)| matches!(key.as_str(), "BYDAY" | "BYMONTHDAY" | "BYYEARDAY" | "BYWEEKNO" | "BYSETPOS"))
}

/// The rule with each weekday of its `BYDAY` moved `days` on (`MO,WE` by one is `TU,TH`), when
/// that keeps its meaning: plain weekdays only, no month or year days, and one weekday unless it
/// recurs every week (with several, an INTERVAL's weeks would be cut differently).
pub(super) fn shifted_weekdays(rule: &str, days: i64) -> Option<String> {
    const WEEKDAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    if rule_parts(rule).any(|(key, _)| matches!(key.as_str(), "BYMONTHDAY" | "BYYEARDAY" | "BYWEEKNO" | "BYSETPOS")) {
        return None;
    }
    let by_day = rule_parts(rule).find(|(key, _)| key == "BYDAY").map(|(_, value)| value.to_ascii_uppercase())?;
    let interval =
        rule_parts(rule).find(|(key, _)| key == "INTERVAL").map_or(1, |(_, value)| value.parse().unwrap_or(0));
    let days_named: Vec<&str> = by_day.split(',').map(str::trim).collect();
    if days_named.len() > 1 && interval != 1 {
        return None;
    }
    let moved: Option<Vec<&str>> = days_named
        .iter()
        .map(|day| {
            let idx = WEEKDAYS.iter().position(|weekday| weekday == day)? as i64;
            Some(WEEKDAYS[(idx + days).rem_euclid(7) as usize])
        })
        .collect();
    Some(with_part(rule, "BYDAY", &moved?.join(","), ""))
}

/// The rule with `key` set to `value` (and `drop` left out).
fn with_part(rule: &str, key: &str, value: &str, drop: &str) -> String {
    let mut parts: Vec<String> = rule_parts(rule)
        .filter(|(part_key, _)| part_key != key && part_key != drop)
        .map(|(part_key, part_value)| format!("{part_key}={part_value}"))
        .collect();
    parts.push(format!("{key}={value}"));
    parts.join(";")
}

pub(super) fn with_count(rule: &str, count: u64) -> String {
    with_part(rule, "COUNT", &count.to_string(), "UNTIL")
}

pub(super) fn with_until(rule: &str, last_local: DateTime) -> String {
    with_part(rule, "UNTIL", &stamp(last_local), "COUNT")
}

/// The rule with its UNTIL (if any) moved as its occurrences were.
pub(super) fn with_until_moved(rule: &str, zone: &Zone, moved_by: SignedDuration) -> String {
    let Some((_, until)) = rule_parts(rule).find(|(key, _)| key == "UNTIL") else { return rule.to_owned() };
    let local = match until.strip_suffix(['Z', 'z']) {
        Some(utc) => DateTime::strptime("%Y%m%dT%H%M%S", utc)
            .ok()
            .map(|utc_local| zone.to_local(Zone::named("UTC").expect("UTC exists").to_instant(utc_local))),
        None => DateTime::strptime("%Y%m%dT%H%M%S", until).ok(),
    };
    match local {
        Some(local) => with_until(rule, local.saturating_add(moved_by)),
        // A date UNTIL includes its whole day, wherever in it the occurrences moved.
        None => rule.to_owned(),
    }
}

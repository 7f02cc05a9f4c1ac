//! Writes shifts and time off as an iCalendar file that [`super::read_calendar`] reads back as
//! the same entries: each entry a `VEVENT` whose `UID` is its ID, recurring shifts in their own
//! zone with `RRULE` and `EXDATE`s, everything else in UTC, and for every zone used a
//! `VTIMEZONE` written from the bundled tz database's real transitions over the years around
//! the window (so calendar tools that do not know IANA names still place the times right).

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time};

use super::super::ImportedEntries;
use crate::domain::interval::Interval;
use crate::domain::time::{Instant, Zone};
use crate::pb;

/// The calendar of `entries`; `window` bounds the years each `VTIMEZONE` covers.
pub fn write_icalendar(entries: &ImportedEntries, window: Interval) -> String {
    let mut out = String::with_capacity(256 * (entries.len() + 1));
    let mut line = |text: String| push_folded(&mut out, &text);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//eea-coverage//roster export//EN".into());
    line("CALSCALE:GREGORIAN".into());
    let zones: BTreeSet<&str> = entries
        .shifts
        .iter()
        .filter_map(|shift| match &shift.schedule {
            Some(pb::shift::Schedule::Recurring(recurring)) => Some(recurring.time_zone.as_str()),
            _ => None,
        })
        .collect();
    for name in zones {
        if let Ok(zone) = Zone::named(name) {
            for text in vtimezone(&zone, window) {
                line(text);
            }
        }
    }
    let stamp = format!("DTSTAMP:{}", utc_text(window.start()));
    for shift in &entries.shifts {
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}", escape_text(&shift.shift_id)));
        line(stamp.clone());
        line("SUMMARY:Shift".into());
        line(format!("X-EEA-AGENT-ID:{}", shift.agent_id));
        if !shift.severities.is_empty() {
            let numbers: Vec<String> = shift.severities.iter().map(i32::to_string).collect();
            line(format!("X-EEA-SEVERITIES:{}", numbers.join(",")));
        }
        if !shift.country.is_empty() {
            line(format!("X-EEA-COUNTRY:{}", shift.country));
        }
        match &shift.schedule {
            Some(pb::shift::Schedule::OneOff(one_off)) => {
                line(format!("DTSTART:{}", timestamp_text(&one_off.starts_at)));
                line(format!("DTEND:{}", timestamp_text(&one_off.ends_at)));
            }
            Some(pb::shift::Schedule::Recurring(recurring)) => {
                for text in recurring_lines(recurring) {
                    line(text);
                }
            }
            None => {}
        }
        line("END:VEVENT".into());
    }
    for time_off in &entries.time_off {
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}", escape_text(&time_off.time_off_id)));
        line(stamp.clone());
        line("SUMMARY:Time off".into());
        line("CATEGORIES:TIME-OFF".into());
        line(format!("X-EEA-AGENT-ID:{}", time_off.agent_id));
        line(format!("DTSTART:{}", timestamp_text(&time_off.starts_at)));
        line(format!("DTEND:{}", timestamp_text(&time_off.ends_at)));
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// `DTSTART`, `DTEND`, `RRULE` and `EXDATE`s of a recurring shift, in its zone.
fn recurring_lines(recurring: &pb::RecurringShift) -> Vec<String> {
    let zone = &recurring.time_zone;
    let Ok(start) = recurring.start_local.parse::<DateTime>() else { return Vec::new() };
    let Ok(end_time) = Time::strptime("%H:%M", &recurring.end_time) else { return Vec::new() };
    let end_day = if end_time <= start.time() { start.date().tomorrow().unwrap_or(start.date()) } else { start.date() };
    let mut lines = vec![
        format!("DTSTART;TZID={zone}:{}", local_text(start)),
        format!("DTEND;TZID={zone}:{}", local_text(end_day.to_datetime(end_time))),
        format!("RRULE:{}", recurring.rrule.trim_start_matches("RRULE:")),
    ];
    for exdate in &recurring.exdates {
        if let Ok(local) =
            exdate.parse::<DateTime>().map_err(|_| ()).and_then(
                |local| {
                    if exdate.contains('T') {
                        Ok(local)
                    } else {
                        Err(())
                    }
                },
            )
        {
            lines.push(format!("EXDATE;TZID={zone}:{}", local_text(local)));
        } else if let Ok(day) = exdate.parse::<Date>() {
            lines.push(format!("EXDATE;VALUE=DATE:{}", day.strftime("%Y%m%d")));
        }
    }
    lines
}

/// A `VTIMEZONE` for `zone`: the rules in force a year before the window, then each transition
/// until a year after it.
fn vtimezone(zone: &Zone, window: Interval) -> Vec<String> {
    let utc = Zone::named("UTC").expect("the bundled tz database has UTC");
    let year_start = |year: i16| {
        Date::new(year, 1, 1).map(|day| utc.to_instant(day.to_datetime(Time::midnight()))).unwrap_or(window.start())
    };
    let first_year = utc.to_local(window.start()).year().saturating_sub(1);
    let last_year = utc.to_local(window.end()).year().saturating_add(1);
    let (from, to) = (year_start(first_year), year_start(last_year.saturating_add(1)));
    let mut lines = vec!["BEGIN:VTIMEZONE".to_owned(), format!("TZID:{}", zone.name())];
    let observance = |lines: &mut Vec<String>, is_dst: bool, name: &str, at: Instant, before: i32, after: i32| {
        let kind = if is_dst { "DAYLIGHT" } else { "STANDARD" };
        let local = utc.to_local(at.saturating_add(jiff::SignedDuration::from_secs(i64::from(before))).unwrap_or(at));
        lines.push(format!("BEGIN:{kind}"));
        lines.push(format!("DTSTART:{}", local_text(local)));
        lines.push(format!("TZOFFSETFROM:{}", offset_text(before)));
        lines.push(format!("TZOFFSETTO:{}", offset_text(after)));
        if !name.is_empty() {
            lines.push(format!("TZNAME:{name}"));
        }
        lines.push(format!("END:{kind}"));
    };
    let offset = zone.offset_seconds_at(from);
    let (is_dst, name) = zone.standing_at(from);
    observance(&mut lines, is_dst, &name, from, offset, offset);
    for transition in zone.transitions(from, to) {
        observance(
            &mut lines,
            transition.is_dst,
            &transition.abbreviation,
            transition.at,
            transition.offset_before,
            transition.offset_after,
        );
    }
    lines.push("END:VTIMEZONE".to_owned());
    lines
}

fn local_text(local: DateTime) -> String {
    local.strftime("%Y%m%dT%H%M%S").to_string()
}

fn utc_text(instant: Instant) -> String {
    instant.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn timestamp_text(timestamp: &Option<prost_types::Timestamp>) -> String {
    timestamp
        .and_then(|timestamp| Instant::new(timestamp.seconds, timestamp.nanos).ok())
        .map(utc_text)
        .unwrap_or_default()
}

/// `+0100`, `-0330`, or with seconds `+005328`.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let magnitude = seconds.unsigned_abs();
    let (hours, minutes, rest) = (magnitude / 3600, magnitude / 60 % 60, magnitude % 60);
    if rest == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{rest:02}")
    }
}

/// A TEXT value with RFC 5545's escapes.
fn escape_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,")
}

/// A content line, folded at 75 octets as RFC 5545 asks, ended with CRLF.
fn push_folded(out: &mut String, line: &str) {
    let mut rest = line;
    let mut first = true;
    while !rest.is_empty() {
        let limit = if first { 75 } else { 74 };
        let mut cut = rest.len().min(limit);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if !first {
            out.push(' ');
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n");
        rest = &rest[cut..];
        first = false;
    }
}

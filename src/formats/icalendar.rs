//! The iCalendar shift file. Each `VEVENT` is a shift, or time off when its `CATEGORIES`
//! include `TIME-OFF`. `UID` is the ID. `DTSTART`/`DTEND` carry a `TZID` or end in `Z`; with an
//! `RRULE` the event is a recurring shift in that zone (shorter than a day), with `EXDATE`s. The
//! agent is `--agent`, or `X-EEA-AGENT-ID`, or the event's first `ATTENDEE` (`mailto:ID@...` gives
//! `ID`). Optional `X-EEA-SEVERITIES` (`1,2`) and `X-EEA-COUNTRY`. Events with `STATUS:CANCELLED`
//! are left out; edited occurrences (`RECURRENCE-ID`) and recurring time off are refused, naming
//! their line.

use std::collections::HashMap;

use jiff::civil::DateTime;

use super::{entries_unless_errors, parse_severities, timestamp, ImportedEntries, ImportedEntry, LineError};
use crate::domain::time::{Instant, Zone};
use crate::pb;

/// Parses VEVENTs as described in the module documentation. `agent` names the agent of every
/// event (one agent per file); `default_zone` gives floating times a zone.
pub fn parse_icalendar(
    text: &str,
    agent: Option<&str>,
    default_zone: Option<&str>,
) -> Result<ImportedEntries, Vec<LineError>> {
    let mut entries = ImportedEntries::default();
    let mut errors = Vec::new();
    let mut event: Option<Vec<ContentLine>> = None;
    for line in content_lines(text) {
        match (line.name.as_str(), line.value.to_ascii_uppercase().as_str()) {
            ("BEGIN", "VEVENT") => event = Some(vec![line]),
            ("END", "VEVENT") => {
                if let Some(lines) = event.take() {
                    let first_line = lines[0].line;
                    let cancelled =
                        lines.iter().any(|line| line.name == "STATUS" && line.value.eq_ignore_ascii_case("CANCELLED"));
                    if cancelled {
                        continue;
                    }
                    match ical_event(&lines, agent, default_zone) {
                        Ok(entry) => entries.push(entry, first_line),
                        Err((line, message)) => errors.push(LineError { line, message }),
                    }
                }
            }
            _ => {
                if let Some(lines) = event.as_mut() {
                    lines.push(line);
                }
            }
        }
    }
    entries_unless_errors(entries, errors)
}

fn ical_event(
    lines: &[ContentLine],
    agent: Option<&str>,
    default_zone: Option<&str>,
) -> Result<ImportedEntry, (usize, String)> {
    let event_line = lines[0].line;
    let find = |name: &str| lines.iter().find(|line| line.name == name);
    let uid = find("UID").map(|line| line.value.clone()).ok_or((event_line, "VEVENT without UID".to_owned()))?;
    let at = |line: &ContentLine, message: String| (line.line, format!("{uid}: {message}"));
    let agent_id = match agent {
        Some(agent) => agent.to_owned(),
        None => find("X-EEA-AGENT-ID")
            .map(|line| line.value.clone())
            .or_else(|| {
                find("ATTENDEE").map(|line| {
                    let address = line
                        .value
                        .strip_prefix("mailto:")
                        .or_else(|| line.value.strip_prefix("MAILTO:"))
                        .unwrap_or(&line.value);
                    address.split('@').next().unwrap_or("").to_owned()
                })
            })
            .filter(|agent| !agent.is_empty())
            .ok_or((event_line, format!("{uid}: no agent: give --agent, an ATTENDEE or X-EEA-AGENT-ID")))?,
    };
    let start_line = find("DTSTART").ok_or((event_line, format!("{uid}: DTSTART is missing")))?;
    let end_line = find("DTEND").ok_or((event_line, format!("{uid}: DTEND is missing")))?;
    let start = ical_time(start_line, default_zone).map_err(|message| at(start_line, message))?;
    let end = ical_time(end_line, default_zone).map_err(|message| at(end_line, message))?;
    if let Some(line) = find("RECURRENCE-ID") {
        return Err(at(line, "edited occurrences (RECURRENCE-ID) are not supported; export the series with EXDATEs and the changed occurrences as events of their own".into()));
    }
    let is_time_off = find("CATEGORIES")
        .is_some_and(|line| line.value.to_ascii_uppercase().split(',').any(|category| category.trim() == "TIME-OFF"));
    if is_time_off {
        if let Some(line) = find("RRULE") {
            return Err(at(line, "recurring time off is not supported; export each absence as an event".into()));
        }
        return Ok(ImportedEntry::TimeOff(pb::TimeOff {
            time_off_id: uid.clone(),
            agent_id,
            starts_at: Some(timestamp(instant_of(&start).map_err(|message| at(start_line, message))?)),
            ends_at: Some(timestamp(instant_of(&end).map_err(|message| at(end_line, message))?)),
        }));
    }
    let severities = match find("X-EEA-SEVERITIES") {
        Some(line) => parse_severities(&line.value).map_err(|message| at(line, message))?,
        None => vec![],
    };
    let country = find("X-EEA-COUNTRY").map(|line| line.value.clone()).unwrap_or_default();
    let schedule = match find("RRULE") {
        None => pb::shift::Schedule::OneOff(pb::OneOffShift {
            starts_at: Some(timestamp(instant_of(&start).map_err(|message| at(start_line, message))?)),
            ends_at: Some(timestamp(instant_of(&end).map_err(|message| at(end_line, message))?)),
        }),
        Some(rule_line) => {
            let (start_local, zone) = local_of(&start);
            // DTEND in another zone is read in the start's zone: a shift's end is a wall time there.
            let end_local = match &end {
                IcalTime::Local(local, end_zone) if *end_zone == zone => *local,
                other => Zone::named(&zone)
                    .map_err(|error| at(end_line, error.to_string()))?
                    .to_local(instant_of(other).map_err(|message| at(end_line, message))?),
            };
            let lasts = instant_of(&end)
                .map_err(|message| at(end_line, message))?
                .duration_since(instant_of(&start).map_err(|message| at(start_line, message))?);
            if lasts >= jiff::SignedDuration::from_hours(24) || lasts <= jiff::SignedDuration::ZERO {
                return Err(at(end_line, "a recurring shift must end after its start and last less than a day".into()));
            }
            let mut exdates = Vec::new();
            for line in lines.iter().filter(|line| line.name == "EXDATE") {
                for value in line.value.split(',') {
                    let single = ContentLine {
                        line: line.line,
                        name: "EXDATE".into(),
                        parameters: line.parameters.clone(),
                        value: value.to_owned(),
                    };
                    let local = match ical_time(&single, Some(&zone)).map_err(|message| at(line, message))? {
                        IcalTime::Local(local, _) => local,
                        // An instant names the occurrence's start in the shift's own zone.
                        IcalTime::Instant(instant) => {
                            Zone::named(&zone).map_err(|error| at(line, error.to_string()))?.to_local(instant)
                        }
                    };
                    exdates.push(local.strftime("%Y-%m-%dT%H:%M:%S").to_string());
                }
            }
            pb::shift::Schedule::Recurring(pb::RecurringShift {
                time_zone: zone,
                start_local: start_local.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
                end_time: end_local.strftime("%H:%M").to_string(),
                rrule: rule_line.value.clone(),
                exdates,
            })
        }
    };
    Ok(ImportedEntry::Shift(pb::Shift { shift_id: uid, agent_id, severities, country, schedule: Some(schedule) }))
}

/// A content line of an iCalendar file, unfolded, with the line it started on.
struct ContentLine {
    line: usize,
    name: String,
    parameters: HashMap<String, String>,
    value: String,
}

fn content_lines(text: &str) -> Vec<ContentLine> {
    let mut unfolded: Vec<(usize, String)> = Vec::new();
    for (line_idx, raw) in text.lines().enumerate() {
        let raw = raw.trim_end_matches('\r');
        match (raw.strip_prefix(' ').or_else(|| raw.strip_prefix('\t')), unfolded.last_mut()) {
            (Some(continuation), Some((_, previous))) => previous.push_str(continuation),
            _ => unfolded.push((line_idx + 1, raw.to_owned())),
        }
    }
    unfolded
        .into_iter()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(line, text)| {
            let (head, value) = text.split_once(':').unwrap_or((text.as_str(), ""));
            let mut parts = head.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_uppercase();
            let parameters = parts
                .filter_map(|parameter| parameter.split_once('='))
                .map(|(key, value)| (key.trim().to_ascii_uppercase(), value.trim().trim_matches('"').to_owned()))
                .collect();
            ContentLine { line, name, parameters, value: value.trim().to_owned() }
        })
        .collect()
}

/// A DTSTART/DTEND/EXDATE value: an instant (`...Z`), or a local date-time with its zone.
enum IcalTime {
    Instant(Instant),
    Local(DateTime, String),
}

fn ical_time(line: &ContentLine, default_zone: Option<&str>) -> Result<IcalTime, String> {
    let value = line.value.as_str();
    if let Some(utc) = value.strip_suffix('Z') {
        let local = DateTime::strptime("%Y%m%dT%H%M%S", utc)
            .map_err(|_| format!("{}: {value:?} is not a date-time", line.name))?;
        return Ok(IcalTime::Instant(Zone::named("UTC").expect("UTC exists").to_instant(local)));
    }
    let local = DateTime::strptime("%Y%m%dT%H%M%S", value)
        .map_err(|_| format!("{}: {value:?} is not a date-time (all-day values are not shifts)", line.name))?;
    match line.parameters.get("TZID").map(String::as_str).or(default_zone) {
        Some(zone) => Ok(IcalTime::Local(local, zone.to_owned())),
        None => {
            Err(format!("{}: {value:?} is a floating local time without TZID; give TZID or --time-zone", line.name))
        }
    }
}

fn instant_of(time: &IcalTime) -> Result<Instant, String> {
    match time {
        IcalTime::Instant(instant) => Ok(*instant),
        IcalTime::Local(local, zone) => Ok(Zone::named(zone).map_err(|error| error.to_string())?.to_instant(*local)),
    }
}

/// The local date-time and zone a recurring shift is written in.
fn local_of(time: &IcalTime) -> (DateTime, String) {
    match time {
        IcalTime::Instant(instant) => (Zone::named("UTC").expect("UTC exists").to_local(*instant), "UTC".to_owned()),
        IcalTime::Local(local, zone) => (*local, zone.clone()),
    }
}

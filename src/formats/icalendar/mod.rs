//! The iCalendar shift file, as calendar tools export it (RFC 5545).
//!
//! Each `VEVENT` is a shift, or time off when it is an all-day event (`VALUE=DATE`), when its
//! `CATEGORIES` include `TIME-OFF`, or when Outlook marks it out of office
//! (`X-MICROSOFT-CDO-BUSYSTATUS:OOF`). `UID` is the ID. Reading happens in two steps:
//! [`read_calendar`] parses the file and finds each event's agent; [`Calendar::entries`] then
//! turns the events into the shifts and time off of one sync window, given the agents' home
//! zones (all-day events cover whole local days there).
//!
//! - Times: `DTSTART` with `DTEND` or `DURATION`, in UTC (`Z`), in a `TZID` (an IANA zone, a
//!   Windows zone name, or a zone the file defines in a `VTIMEZONE`: see [`zones`]), or floating
//!   (read in `--time-zone`, else in the calendar's `X-WR-TIMEZONE`, else in the agent's home
//!   zone).
//! - Recurrence: `RRULE` with `EXDATE`s makes a recurring shift in the start's zone, shorter than
//!   a day; `RDATE`s add occurrences; an event with the same `UID` and a `RECURRENCE-ID` replaces
//!   the occurrence it names (with `RANGE=THISANDFUTURE`, that occurrence and every later one);
//!   a cancelled occurrence is skipped. A series that began before the window starts at its first
//!   occurrence inside it (COUNT reduced by the occurrences before); recurring time off becomes
//!   one entry per occurrence in the window.
//! - Only entries that start inside the window are sent (an export holds the whole history); the
//!   others are counted in [`ImportedEntries::outside_window`].
//! - The agent: `--agent`, else `X-EEA-AGENT-ID`, else the first `ATTENDEE` (`mailto:ID@...` gives
//!   `ID`), else the file's name without its extension. Optional `X-EEA-SEVERITIES` (`1,2`) and
//!   `X-EEA-COUNTRY`. A cancelled event (`STATUS:CANCELLED`) is left out.
//!
//! Entries made from one event's occurrences are named `UID#20261207T090000` (`UID#20261214`
//! for a day); an ID longer than the contract allows is shortened with a hash of its whole.

mod content;
mod events;
mod rule_text;
mod writer;
pub mod zones;

pub use writer::write_icalendar;

use std::collections::{BTreeMap, HashMap};

use jiff::civil::{Date, DateTime};

use self::content::{read_components, Component, Property};
use super::{parse_severities, ImportedEntries, LineError};
use crate::domain::interval::Interval;
use crate::domain::time::Zone;

/// How one file is read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions<'a> {
    /// The agent of every event (one agent per file).
    pub agent: Option<&'a str>,
    /// The agent of events that name none (the file's name without its extension).
    pub fallback_agent: Option<&'a str>,
    /// The zone of floating date-times (before the agent's home zone).
    pub default_zone: Option<&'a str>,
}

/// A read calendar: its events, with the zones their TZIDs name already resolved.
#[derive(Debug)]
pub struct Calendar {
    events: Vec<Event>,
    zones: HashMap<String, Zone>,
    default_zone: Option<Zone>,
}

/// A date, date-time or duration as an event writes it.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    /// A whole day (`VALUE=DATE`).
    Date(Date),
    /// A UTC date-time (`...Z`).
    Utc(DateTime),
    /// A local date-time in a TZID, or floating without one.
    Local(DateTime, Option<String>),
}

/// An `RDATE`: a start, or a period with its own end.
#[derive(Clone, Debug)]
enum ExtraDate {
    Start(Value),
    Period(Value, PeriodEnd),
}

#[derive(Clone, Debug)]
enum PeriodEnd {
    At(Value),
    After(Span),
}

/// An RFC 5545 duration: whole days (nominal, so a day across a DST change is still a day) and
/// exact seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    days: i64,
    seconds: i64,
}

/// One `VEVENT`, read but not yet placed in a window.
#[derive(Clone, Debug)]
struct Event {
    line: usize,
    uid: String,
    agent: String,
    start: Option<(Value, usize)>,
    end: Option<(Value, usize)>,
    duration: Option<(Span, usize)>,
    rrule: Option<(String, usize)>,
    rdates: Vec<(ExtraDate, usize)>,
    exdates: Vec<(Value, usize)>,
    /// The occurrence this event replaces, and whether every later one too.
    recurrence_id: Option<(Value, bool, usize)>,
    cancelled: bool,
    time_off: bool,
    severities: Vec<i32>,
    country: String,
    /// The `CN` of an `ATTENDEE` that names the event's agent.
    agent_name: Option<String>,
}

/// Reads an iCalendar file: every problem names its line, and a file with any problem gives no
/// events.
pub fn read_calendar(text: &str, options: ReadOptions<'_>) -> Result<Calendar, Vec<LineError>> {
    let unfolded = content::unfold(text);
    let components = read_components(&unfolded).map_err(|error| vec![error])?;
    let mut events = Vec::new();
    let mut definitions: HashMap<String, &Component> = HashMap::new();
    let mut errors = Vec::new();
    let mut calendar_agent: Option<String> = None;
    let mut calendar_zone: Option<(String, usize)> = None;
    for calendar in &components {
        let children: Vec<&Component> = if calendar.is("VCALENDAR") {
            if let Some(agent) = calendar.property("X-EEA-AGENT-ID") {
                calendar_agent = Some(agent.value.trim().to_owned());
            }
            if let Some(zone) = calendar.property("X-WR-TIMEZONE") {
                calendar_zone = Some((zone.value.trim().to_owned(), zone.line));
            }
            calendar.components.iter().collect()
        } else {
            vec![calendar]
        };
        for child in children {
            match child.name.to_ascii_uppercase().as_str() {
                "VEVENT" => match read_event(child, options, calendar_agent.as_deref()) {
                    Ok(event) => events.push(event),
                    Err(error) => errors.push(error),
                },
                "VTIMEZONE" => {
                    if let Some(tzid) = child.property("TZID") {
                        definitions.insert(tzid.value.trim().to_owned(), child);
                    }
                }
                _ => {}
            }
        }
    }
    errors.extend(inherit_agents(&mut events));
    let zones = resolve_zones(&events, &definitions).unwrap_or_else(|zone_errors| {
        errors.extend(zone_errors);
        HashMap::new()
    });
    let default_zone = match options.default_zone {
        Some(name) => match Zone::named(name) {
            Ok(zone) => Some(zone),
            Err(error) => {
                errors.push(LineError { line: 1, message: format!("--time-zone: {error}") });
                None
            }
        },
        // A calendar's own zone (Google's `X-WR-TIMEZONE`) reads its floating times.
        None => match calendar_zone {
            Some((name, line)) => match zones::named_zone(&name) {
                Some(zone) => Some(zone),
                None => {
                    errors.push(LineError {
                        line,
                        message: format!("X-WR-TIMEZONE: {name:?} is neither an IANA nor a Windows zone name"),
                    });
                    None
                }
            },
            None => None,
        },
    };
    if !errors.is_empty() {
        errors.sort_by_key(|error| error.line);
        return Err(errors);
    }
    Ok(Calendar { events, zones, default_zone })
}

/// Gives each edited occurrence that names no agent the agent of its series.
fn inherit_agents(events: &mut [Event]) -> Vec<LineError> {
    let series_agents: HashMap<String, String> = events
        .iter()
        .filter(|event| event.recurrence_id.is_none())
        .map(|event| (event.uid.clone(), event.agent.clone()))
        .collect();
    let mut errors = Vec::new();
    for event in events.iter_mut().filter(|event| event.agent.is_empty()) {
        match series_agents.get(&event.uid) {
            Some(agent) => event.agent = agent.clone(),
            None => errors.push(LineError {
                line: event.line,
                message: format!("{}: no agent: give --agent, an ATTENDEE or X-EEA-AGENT-ID", event.uid),
            }),
        }
    }
    errors
}

/// Every TZID the events use, resolved once over the years they are written in.
fn resolve_zones(
    events: &[Event],
    definitions: &HashMap<String, &Component>,
) -> Result<HashMap<String, Zone>, Vec<LineError>> {
    let mut uses: BTreeMap<&str, (usize, i16, i16)> = BTreeMap::new();
    for event in events {
        for (value, line) in event.values() {
            if let Value::Local(local, Some(tzid)) = value {
                let entry = uses.entry(tzid.as_str()).or_insert((line, local.year(), local.year()));
                entry.1 = entry.1.min(local.year());
                entry.2 = entry.2.max(local.year());
            }
        }
    }
    let mut zones = HashMap::new();
    let mut errors = Vec::new();
    for (tzid, (line, first_year, last_year)) in uses {
        match zones::resolve(tzid, definitions.get(tzid).copied(), first_year..=last_year) {
            Ok(zone) => {
                zones.insert(tzid.to_owned(), zone);
            }
            Err(message) => errors.push(LineError { line, message }),
        }
    }
    if errors.is_empty() {
        Ok(zones)
    } else {
        Err(errors)
    }
}

impl Event {
    /// Every date or date-time the event writes, with its line.
    fn values(&self) -> impl Iterator<Item = (&Value, usize)> {
        let single = [&self.start, &self.end].into_iter().flatten().map(|(value, line)| (value, *line));
        let exdates = self.exdates.iter().map(|(value, line)| (value, *line));
        let recurrence = self.recurrence_id.iter().map(|(value, _, line)| (value, *line));
        let rdates = self.rdates.iter().flat_map(|(extra, line)| {
            let (start, end) = match extra {
                ExtraDate::Start(start) => (start, None),
                ExtraDate::Period(start, PeriodEnd::At(end)) => (start, Some(end)),
                ExtraDate::Period(start, PeriodEnd::After(_)) => (start, None),
            };
            std::iter::once((start, *line)).chain(end.map(|end| (end, *line)))
        });
        single.chain(exdates).chain(recurrence).chain(rdates)
    }
}

fn read_event(event: &Component, options: ReadOptions<'_>, calendar_agent: Option<&str>) -> Result<Event, LineError> {
    let at = |line: usize, message: String| LineError { line, message };
    let uid = event
        .property("UID")
        .map(|property| property.value.trim().to_owned())
        .filter(|uid| !uid.is_empty())
        .ok_or_else(|| at(event.line, "VEVENT without UID".into()))?;
    let fail = |property: &Property, message: String| at(property.line, format!("{uid}: {}: {message}", property.name));
    let agent = options
        .agent
        .map(str::to_owned)
        .or_else(|| event.property("X-EEA-AGENT-ID").map(|property| property.value.trim().to_owned()))
        .or_else(|| calendar_agent.map(str::to_owned))
        .or_else(|| event.property("ATTENDEE").map(|property| attendee_id(&property.value)))
        .filter(|agent| !agent.is_empty())
        .or_else(|| options.fallback_agent.map(str::to_owned));
    // An edited occurrence may leave its agent to its series (see `inherit_agents`).
    let agent = match agent {
        Some(agent) => agent,
        None if event.property("RECURRENCE-ID").is_some() => String::new(),
        None => return Err(at(event.line, format!("{uid}: no agent: give --agent, an ATTENDEE or X-EEA-AGENT-ID"))),
    };
    let single = |name: &str| -> Result<Option<(Value, usize)>, LineError> {
        event
            .property(name)
            .map(|property| read_value(property, &property.value).map(|value| (value, property.line)))
            .transpose()
            .map_err(|message| fail(event.property(name).expect("read above"), message))
    };
    let start = single("DTSTART")?;
    let end = single("DTEND")?;
    let duration = match event.property("DURATION") {
        Some(property) => {
            Some((parse_span(property.value.trim()).map_err(|message| fail(property, message))?, property.line))
        }
        None => None,
    };
    let mut exdates = Vec::new();
    for property in event.properties_named("EXDATE") {
        for value in property.value.split(',').filter(|value| !value.trim().is_empty()) {
            exdates.push((read_value(property, value).map_err(|message| fail(property, message))?, property.line));
        }
    }
    let mut rdates = Vec::new();
    for property in event.properties_named("RDATE") {
        for value in property.value.split(',').filter(|value| !value.trim().is_empty()) {
            let extra = read_extra_date(property, value).map_err(|message| fail(property, message))?;
            rdates.push((extra, property.line));
        }
    }
    let recurrence_id = match event.property("RECURRENCE-ID") {
        Some(property) => {
            let value = read_value(property, &property.value).map_err(|message| fail(property, message))?;
            let this_and_future =
                property.parameter("RANGE").is_some_and(|range| range.eq_ignore_ascii_case("THISANDFUTURE"));
            Some((value, this_and_future, property.line))
        }
        None => None,
    };
    let has_value = |name: &str, wanted: &str| {
        event
            .properties_named(name)
            .any(|property| property.value.split(',').any(|part| part.trim().eq_ignore_ascii_case(wanted)))
    };
    let severities = match event.property("X-EEA-SEVERITIES") {
        Some(property) => parse_severities(&property.value).map_err(|message| fail(property, message))?,
        None => vec![],
    };
    Ok(Event {
        line: event.line,
        start,
        end,
        duration,
        rrule: event.property("RRULE").map(|property| (property.value.trim().to_owned(), property.line)),
        rdates,
        exdates,
        recurrence_id,
        cancelled: has_value("STATUS", "CANCELLED"),
        time_off: has_value("CATEGORIES", "TIME-OFF") || has_value("X-MICROSOFT-CDO-BUSYSTATUS", "OOF"),
        severities,
        country: event.property("X-EEA-COUNTRY").map(|property| property.value.trim().to_owned()).unwrap_or_default(),
        agent_name: event
            .properties_named("ATTENDEE")
            .find(|property| attendee_id(&property.value) == agent)
            .and_then(|property| property.parameter("CN"))
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty()),
        agent,
        uid,
    })
}

/// `mailto:anna@example.com` is `anna`.
fn attendee_id(value: &str) -> String {
    let value = value.trim();
    let address = value.get(..7).filter(|scheme| scheme.eq_ignore_ascii_case("mailto:")).map_or(value, |_| &value[7..]);
    address.split('@').next().unwrap_or("").to_owned()
}

/// A date (`20261214`, or `VALUE=DATE`), a UTC date-time (`20261214T080000Z`) or a local one.
fn read_value(property: &Property, text: &str) -> Result<Value, String> {
    let text = text.trim();
    let is_date = property.parameter("VALUE").is_some_and(|kind| kind.eq_ignore_ascii_case("DATE"))
        || (text.len() == 8 && !text.contains('T'));
    if is_date {
        return Date::strptime("%Y%m%d", text)
            .map(Value::Date)
            .map_err(|_| format!("{text:?} is not a date such as 20261214"));
    }
    let not_date_time = || format!("{text:?} is not a date-time such as 20261207T090000 or 20261207T080000Z");
    if let Some(utc) = text.strip_suffix(['Z', 'z']) {
        return DateTime::strptime("%Y%m%dT%H%M%S", utc).map(Value::Utc).map_err(|_| not_date_time());
    }
    let local = DateTime::strptime("%Y%m%dT%H%M%S", text).map_err(|_| not_date_time())?;
    Ok(Value::Local(local, property.parameter("TZID").map(|tzid| tzid.trim().to_owned())))
}

/// One `RDATE` value: a start, or (`VALUE=PERIOD`) a start and an end or a duration.
fn read_extra_date(property: &Property, text: &str) -> Result<ExtraDate, String> {
    match text.split_once('/') {
        None => Ok(ExtraDate::Start(read_value(property, text)?)),
        Some((start, end)) => {
            let start = read_value(property, start)?;
            let end = if end.trim_start().starts_with(['P', '+', '-']) {
                PeriodEnd::After(parse_span(end.trim())?)
            } else {
                PeriodEnd::At(read_value(property, end)?)
            };
            Ok(ExtraDate::Period(start, end))
        }
    }
}

/// An RFC 5545 duration such as `PT8H30M`, `P1D` or `P2W`; negative ones are refused.
fn parse_span(text: &str) -> Result<Span, String> {
    let bad = || format!("{text:?} is not a duration such as PT8H or P1D");
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    if unsigned.starts_with('-') {
        return Err(format!("{text:?} is negative: an event ends after it starts"));
    }
    let body = unsigned.strip_prefix(['P', 'p']).ok_or_else(bad)?;
    let (date_part, time_part) = match body.split_once(['T', 't']) {
        Some((date_part, time_part)) => (date_part, Some(time_part)),
        None => (body, None),
    };
    let mut span = Span { days: 0, seconds: 0 };
    let mut any = false;
    let mut read_units = |part: &str, units: &[(char, i64, bool)]| -> Result<(), String> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let (_, factor, is_days) =
                units.iter().find(|(unit, _, _)| unit.eq_ignore_ascii_case(&c)).ok_or_else(bad)?;
            let amount: i64 = number.parse().map_err(|_| bad())?;
            if *is_days {
                span.days += amount * factor;
            } else {
                span.seconds += amount * factor;
            }
            number.clear();
            any = true;
        }
        if number.is_empty() {
            Ok(())
        } else {
            Err(bad())
        }
    };
    read_units(date_part, &[('W', 7, true), ('D', 1, true)])?;
    if let Some(time_part) = time_part {
        read_units(time_part, &[('H', 3600, false), ('M', 60, false), ('S', 1, false)])?;
    }
    if !any {
        return Err(bad());
    }
    Ok(span)
}

impl Calendar {
    /// The agents whose home zone [`Calendar::entries`] needs: those with all-day events, or with
    /// floating times when no default zone was given.
    pub fn agents_needing_home_zone(&self) -> Vec<String> {
        let mut agents: Vec<String> = self
            .events
            .iter()
            .filter(|event| {
                event.values().any(|(value, _)| match value {
                    Value::Date(_) => true,
                    Value::Local(_, None) => self.default_zone.is_none(),
                    _ => false,
                })
            })
            .map(|event| event.agent.clone())
            .collect();
        agents.sort();
        agents.dedup();
        agents
    }

    /// Each agent's name as the calendar's attendees give it (`ATTENDEE;CN=Anna Schmidt:...`).
    pub fn agent_names(&self) -> HashMap<String, String> {
        self.events
            .iter()
            .filter_map(|event| event.agent_name.as_ref().map(|name| (event.agent.clone(), name.clone())))
            .collect()
    }

    /// The shifts and time off whose start lies in `window`. `home_zones` gives the agents'
    /// zones (see [`Calendar::agents_needing_home_zone`]).
    pub fn entries(
        &self,
        window: Interval,
        home_zones: &HashMap<String, Zone>,
    ) -> Result<ImportedEntries, Vec<LineError>> {
        events::entries(self, window, home_zones)
    }
}

#[cfg(test)]
mod tests;

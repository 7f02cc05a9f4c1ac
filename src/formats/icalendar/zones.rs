//! The IANA zone a `TZID` names. In order: an IANA name as it is (also behind a path prefix such
//! as `/mozilla.org/20070129_1/Europe/Berlin`); a Windows name, as Outlook and Exchange write
//! them, through CLDR's `windowsZones` table; or a zone defined only by the file's own
//! `VTIMEZONE` (Outlook's `(UTC+01:00) Amsterdam, Berlin, ...` and the like), matched to the IANA
//! zone whose offsets and transitions agree with it over the years its events fall in. Every
//! conversion then goes through that IANA zone, by the project's one DST rule.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::OnceLock;

use jiff::civil::{Date, DateTime, Time};

use super::content::Component;
use crate::domain::recurrence::RecurringSchedule;
use crate::domain::time::{zone_names, Instant, Zone};

/// CLDR's mapping of Windows zone names to IANA zones, as the Unicode Consortium publishes it in
/// the `cldr-core` package (see `cldr/README.md` beside this file).
const WINDOWS_ZONES_JSON: &str = include_str!("cldr/windowsZones.json");

struct WindowsZones {
    cldr_version: String,
    /// Lower-case Windows name to the IANA zone of its territory `001`.
    by_name: HashMap<String, String>,
}

#[derive(serde::Deserialize)]
struct CldrFile {
    supplemental: CldrSupplemental,
}

#[derive(serde::Deserialize)]
struct CldrSupplemental {
    version: CldrVersion,
    #[serde(rename = "windowsZones")]
    windows_zones: CldrWindowsZones,
}

#[derive(serde::Deserialize)]
struct CldrVersion {
    #[serde(rename = "_cldrVersion")]
    cldr_version: String,
}

#[derive(serde::Deserialize)]
struct CldrWindowsZones {
    #[serde(rename = "mapTimezones")]
    map_timezones: Vec<CldrMapEntry>,
}

#[derive(serde::Deserialize)]
struct CldrMapEntry {
    #[serde(rename = "mapZone")]
    map_zone: CldrMapZone,
}

#[derive(serde::Deserialize)]
struct CldrMapZone {
    #[serde(rename = "_other")]
    windows_name: String,
    #[serde(rename = "_type")]
    iana_names: String,
    #[serde(rename = "_territory")]
    territory: String,
}

fn windows_zones() -> &'static WindowsZones {
    static TABLE: OnceLock<WindowsZones> = OnceLock::new();
    TABLE.get_or_init(|| {
        let file: CldrFile = serde_json::from_str(WINDOWS_ZONES_JSON).expect("the embedded CLDR table is valid JSON");
        let by_name = file
            .supplemental
            .windows_zones
            .map_timezones
            .into_iter()
            .filter(|entry| entry.map_zone.territory == "001")
            .filter_map(|entry| {
                let iana = entry.map_zone.iana_names.split_whitespace().next()?.to_owned();
                Some((entry.map_zone.windows_name.to_ascii_lowercase(), iana))
            })
            .collect();
        WindowsZones { cldr_version: file.supplemental.version.cldr_version, by_name }
    })
}

/// The CLDR release the Windows zone names are read by, for example `48`.
pub fn cldr_version() -> &'static str {
    &windows_zones().cldr_version
}

/// The IANA zone of a Windows zone name (`W. Europe Standard Time` is `Europe/Berlin`).
pub fn windows_zone(name: &str) -> Option<Zone> {
    let iana = windows_zones().by_name.get(&name.trim().to_ascii_lowercase())?;
    Zone::named(iana).ok()
}

/// The zone an IANA name or a Windows name gives, without a VTIMEZONE.
pub fn named_zone(tzid: &str) -> Option<Zone> {
    iana_zone(tzid).or_else(|| windows_zone(tzid))
}

/// The zone an IANA name gives, also when a producer put a path before it.
fn iana_zone(tzid: &str) -> Option<Zone> {
    let trimmed = tzid.trim();
    if let Ok(zone) = Zone::named(trimmed) {
        return Some(zone);
    }
    // `/mozilla.org/20070129_1/Europe/Berlin`, `/freeassociation.sourceforge.net/Tzfile/...`:
    // the longest tail that is a zone.
    trimmed.match_indices('/').find_map(|(idx, _)| Zone::named(&trimmed[idx + 1..]).ok())
}

/// The zone `tzid` names, or why it names none. `definition` is the file's `VTIMEZONE` of that
/// TZID, if any; `years` those of the events written in it.
pub fn resolve(tzid: &str, definition: Option<&Component>, years: RangeInclusive<i16>) -> Result<Zone, String> {
    if let Some(zone) = named_zone(tzid) {
        return Ok(zone);
    }
    let unknown = format!("TZID {tzid:?} is neither an IANA zone nor a Windows zone name (CLDR {})", cldr_version());
    let Some(definition) = definition else {
        return Err(format!("{unknown}, and the file has no VTIMEZONE for it"));
    };
    let transitions = defined_transitions(definition, *years.end())
        .map_err(|reason| format!("{unknown}, and its VTIMEZONE cannot be read: {reason}"))?;
    // Some producers name the zone they mean (`X-LIC-LOCATION:Europe/Berlin`): it wins among the
    // zones that agree with the rules, but does not replace the check.
    let hint = definition.property("X-LIC-LOCATION").map(|property| property.value.trim().to_owned());
    matching_zone(tzid, hint.as_deref(), &transitions, years.clone()).ok_or_else(|| {
        format!(
            "{unknown}, and no IANA zone has the offsets and transitions of its VTIMEZONE in {}-{}",
            years.start(),
            years.end()
        )
    })
}

/// One onset of a VTIMEZONE's observance: from that instant on, `offset_to` is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Onset {
    at: Instant,
    offset_from: i32,
    offset_to: i32,
}

/// Every onset a VTIMEZONE defines up to the end of `last_year`, in order.
fn defined_transitions(definition: &Component, last_year: i16) -> Result<Vec<Onset>, String> {
    let end =
        Date::new(last_year.saturating_add(1), 1, 1).map_err(|error| error.to_string())?.to_datetime(Time::midnight());
    let utc = Zone::named("UTC").expect("the bundled tz database has UTC");
    let mut onsets = Vec::new();
    for observance in definition.components.iter().filter(|child| child.is("STANDARD") || child.is("DAYLIGHT")) {
        let read = |name: &str| {
            observance
                .property(name)
                .map(|property| property.value.trim())
                .ok_or(format!("{} has no {name}", observance.name))
        };
        let offset_from = utc_offset(read("TZOFFSETFROM")?)?;
        let offset_to = utc_offset(read("TZOFFSETTO")?)?;
        let start = local_date_time(read("DTSTART")?)?;
        let mut local_onsets = vec![start];
        if let Some(rule) = observance.property("RRULE") {
            let schedule = RecurringSchedule::new(utc.clone(), start, Time::midnight(), &rule.value, vec![])
                .map_err(|error| format!("RRULE {:?}: {error}", rule.value))?;
            local_onsets = schedule.rule_starts_before(end).map_err(|error| error.to_string())?;
        }
        for rdate in observance.properties_named("RDATE") {
            for value in rdate.value.split(',') {
                local_onsets.push(local_date_time(value.trim())?);
            }
        }
        for local in local_onsets.into_iter().filter(|local| *local < end) {
            // The onset's local time is read in the offset in force before it.
            let at = utc.to_instant(local) - jiff::SignedDuration::from_secs(i64::from(offset_from));
            onsets.push(Onset { at, offset_from, offset_to });
        }
    }
    if onsets.is_empty() {
        return Err("it defines no STANDARD or DAYLIGHT observance".into());
    }
    onsets.sort_by_key(|onset| onset.at);
    Ok(onsets)
}

/// `+0100`, `-0500` or `+053000`, in seconds.
fn utc_offset(text: &str) -> Result<i32, String> {
    let bad = || format!("{text:?} is not a UTC offset such as +0100");
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(bad());
    }
    let number =
        |range: std::ops::Range<usize>| digits.get(range).and_then(|part| part.parse::<i32>().ok()).unwrap_or(0);
    Ok(sign * (number(0..2) * 3600 + number(2..4) * 60 + number(4..6)))
}

fn local_date_time(text: &str) -> Result<DateTime, String> {
    DateTime::strptime("%Y%m%dT%H%M%S", text.trim_end_matches(['Z', 'z']))
        .map_err(|_| format!("{text:?} is not a date-time such as 19701025T030000"))
}

/// The offset the VTIMEZONE puts in force at `at`.
fn defined_offset(onsets: &[Onset], at: Instant) -> i32 {
    let idx = onsets.partition_point(|onset| onset.at <= at);
    match idx.checked_sub(1) {
        Some(last) => onsets[last].offset_to,
        None => onsets[0].offset_from,
    }
}

/// The IANA zone whose offset at the start of `years` and whose offset changes through them are
/// the VTIMEZONE's. Among several (Amsterdam, Berlin and Brussels agree for decades), the one
/// its `X-LIC-LOCATION` names, else the one whose city the TZID names first, else the zone CLDR
/// gives a Windows name to, else the first by name:
/// all of them give the same instants over those years.
fn matching_zone(tzid: &str, hint: Option<&str>, onsets: &[Onset], years: RangeInclusive<i16>) -> Option<Zone> {
    let utc = Zone::named("UTC").expect("the bundled tz database has UTC");
    let year_start =
        |year: i16| Date::new(year, 1, 1).ok().map(|day| utc.to_instant(day.to_datetime(Time::midnight())));
    let (start, end) = (year_start(*years.start())?, year_start(years.end().saturating_add(1))?);
    let mut offset = defined_offset(onsets, start);
    let initial = offset;
    let mut changes = Vec::new();
    for onset in onsets.iter().filter(|onset| onset.at > start && onset.at < end) {
        if onset.offset_to != offset {
            changes.push((onset.at, onset.offset_to));
            offset = onset.offset_to;
        }
    }
    let primary: std::collections::HashSet<&str> = windows_zones().by_name.values().map(String::as_str).collect();
    let tzid_words = tzid.to_ascii_lowercase();
    let mut matches: Vec<(bool, usize, bool, String)> = zone_names()
        .into_iter()
        .filter(|name| name.contains('/') && !name.starts_with("Etc/"))
        .filter_map(|name| {
            let zone = Zone::named(&name).ok()?;
            let agrees = zone.offset_seconds_at(start) == initial
                && zone.offset_changes(start, end) == changes
                && onsets
                    .iter()
                    .filter(|onset| onset.at > start && onset.at < end)
                    .all(|onset| zone.offset_seconds_at(onset.at) == onset.offset_to);
            agrees.then(|| {
                let city = name.rsplit('/').next().unwrap_or(&name).replace('_', " ").to_ascii_lowercase();
                let named = hint == Some(name.as_str());
                (!named, tzid_words.find(&city).unwrap_or(usize::MAX), !primary.contains(name.as_str()), name)
            })
        })
        .collect();
    matches.sort();
    matches.into_iter().next().and_then(|(_, _, _, name)| Zone::named(&name).ok())
}

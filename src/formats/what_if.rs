//! The what-if file of `eea-coverage report --what-if`: hypothetical changes, in order, as TOML
//! or JSON (docs/what-if.md; an example is docs/examples/what-if.toml). Read into the wire's
//! `HypotheticalChange`s; the server checks what they refer to.
//!
//! Each change is one entry of the `change` list, with a `kind`:
//!
//! - `absence`: `agent_id`, `starts_at`, `ends_at`.
//! - `relocation`: `agent_id`, `effective_at`, `country`.
//! - `add_shift`, `change_shift`: `shift_id`, `agent_id`, then either `starts_at` and `ends_at`
//!   (a one-off shift) or `time_zone`, `start_local`, `end_time`, `rrule` and optional `exdates`
//!   (a recurring one); optional `severities` and `country` (a trip).
//! - `remove_shift`: `shift_id`.
//! - `add_agent`: `agent_id`, `country`, `time_zone`, optional `display_name`, `severities` and
//!   `location_changes` (`[{ effective_at, country }]`).
//!
//! Instants are RFC 3339 (`2026-12-07T08:00:00Z`). An unknown key is an error, so a misspelt one
//! is not silently dropped.

use serde::Deserialize;

use super::parse_instant;
use crate::pb;
use crate::pb::hypothetical_change::{Absence, AddAgent, AddShift, Change, ChangeShift, Relocation, RemoveShift};

/// The two ways a what-if file may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangesFormat {
    Toml,
    Json,
}

impl ChangesFormat {
    /// By a file's extension: `.json` is JSON, anything else TOML.
    pub fn of_extension(extension: &str) -> ChangesFormat {
        if extension.eq_ignore_ascii_case("json") {
            ChangesFormat::Json
        } else {
            ChangesFormat::Toml
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangesFile {
    #[serde(default)]
    change: Vec<ChangeEntry>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum ChangeEntry {
    Absence { agent_id: String, starts_at: String, ends_at: String },
    Relocation { agent_id: String, effective_at: String, country: String },
    AddShift(ShiftEntry),
    RemoveShift { shift_id: String },
    ChangeShift(ShiftEntry),
    AddAgent(AgentEntry),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShiftEntry {
    shift_id: String,
    agent_id: String,
    #[serde(default)]
    severities: Vec<i32>,
    #[serde(default)]
    country: String,
    starts_at: Option<String>,
    ends_at: Option<String>,
    time_zone: Option<String>,
    start_local: Option<String>,
    end_time: Option<String>,
    rrule: Option<String>,
    #[serde(default)]
    exdates: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentEntry {
    agent_id: String,
    #[serde(default)]
    display_name: String,
    country: String,
    time_zone: String,
    #[serde(default)]
    severities: Vec<i32>,
    #[serde(default)]
    location_changes: Vec<LocationEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationEntry {
    effective_at: String,
    country: String,
}

/// Reads a what-if file; an error names the change (counted from 1) and what is wrong with it.
pub fn parse_changes(text: &str, format: ChangesFormat) -> Result<Vec<pb::HypotheticalChange>, String> {
    let file: ChangesFile = match format {
        ChangesFormat::Toml => toml::from_str(text).map_err(|error| error.to_string())?,
        ChangesFormat::Json => serde_json::from_str(text).map_err(|error| error.to_string())?,
    };
    file.change
        .into_iter()
        .enumerate()
        .map(|(change_idx, entry)| {
            change_from_entry(entry)
                .map(|change| pb::HypotheticalChange { change: Some(change) })
                .map_err(|problem| format!("change {}: {problem}", change_idx + 1))
        })
        .collect()
}

fn instant(field: &str, text: &str) -> Result<prost_types::Timestamp, String> {
    parse_instant(text).map_err(|problem| format!("{field}: {problem}"))
}

fn change_from_entry(entry: ChangeEntry) -> Result<Change, String> {
    Ok(match entry {
        ChangeEntry::Absence { agent_id, starts_at, ends_at } => Change::Absence(Absence {
            agent_id,
            interval: Some(pb::TimeWindow {
                start_at: Some(instant("starts_at", &starts_at)?),
                end_at: Some(instant("ends_at", &ends_at)?),
            }),
        }),
        ChangeEntry::Relocation { agent_id, effective_at, country } => Change::Relocation(Relocation {
            agent_id,
            effective_at: Some(instant("effective_at", &effective_at)?),
            country,
        }),
        ChangeEntry::AddShift(shift) => Change::AddShift(AddShift { shift: Some(shift_from_entry(shift)?) }),
        ChangeEntry::RemoveShift { shift_id } => Change::RemoveShift(RemoveShift { shift_id }),
        ChangeEntry::ChangeShift(shift) => Change::ChangeShift(ChangeShift { shift: Some(shift_from_entry(shift)?) }),
        ChangeEntry::AddAgent(agent) => Change::AddAgent(AddAgent { agent: Some(agent_from_entry(agent)?) }),
    })
}

fn shift_from_entry(entry: ShiftEntry) -> Result<pb::Shift, String> {
    let ShiftEntry {
        shift_id,
        agent_id,
        severities,
        country,
        starts_at,
        ends_at,
        time_zone,
        start_local,
        end_time,
        rrule,
        exdates,
    } = entry;
    let one_off = starts_at.is_some() || ends_at.is_some();
    let recurring = time_zone.is_some() || start_local.is_some() || end_time.is_some() || rrule.is_some();
    let schedule = match (one_off, recurring) {
        (true, false) => pb::shift::Schedule::OneOff(pb::OneOffShift {
            starts_at: starts_at.as_deref().map(|text| instant("starts_at", text)).transpose()?,
            ends_at: ends_at.as_deref().map(|text| instant("ends_at", text)).transpose()?,
        }),
        (false, true) => pb::shift::Schedule::Recurring(pb::RecurringShift {
            time_zone: time_zone.unwrap_or_default(),
            start_local: start_local.unwrap_or_default(),
            end_time: end_time.unwrap_or_default(),
            rrule: rrule.unwrap_or_default(),
            exdates,
        }),
        (true, true) => {
            return Err(format!(
                "shift {shift_id:?} has both one-off (starts_at, ends_at) and recurring (time_zone, start_local, end_time, rrule) keys"
            ))
        }
        (false, false) => {
            return Err(format!(
                "shift {shift_id:?} needs starts_at and ends_at, or time_zone, start_local, end_time and rrule"
            ))
        }
    };
    Ok(pb::Shift { shift_id, agent_id, severities, country, schedule: Some(schedule), source: String::new() })
}

fn agent_from_entry(entry: AgentEntry) -> Result<pb::Agent, String> {
    let AgentEntry { agent_id, display_name, country, time_zone, severities, location_changes } = entry;
    let location_changes = location_changes
        .into_iter()
        .map(|LocationEntry { effective_at, country }| {
            Ok(pb::LocationChange { effective_at: Some(instant("effective_at", &effective_at)?), country })
        })
        .collect::<Result<_, String>>()?;
    Ok(pb::Agent { agent_id, display_name, country, time_zone, severities, location_changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../docs/examples/what-if.toml");

    fn kinds(changes: &[pb::HypotheticalChange]) -> Vec<&'static str> {
        changes
            .iter()
            .map(|change| match change.change.as_ref().expect("a change") {
                Change::Absence(_) => "absence",
                Change::Relocation(_) => "relocation",
                Change::AddShift(_) => "add_shift",
                Change::RemoveShift(_) => "remove_shift",
                Change::ChangeShift(_) => "change_shift",
                Change::AddAgent(_) => "add_agent",
            })
            .collect()
    }

    #[test]
    fn the_documented_example_parses_with_every_kind_of_change_in_order() {
        let changes = parse_changes(EXAMPLE, ChangesFormat::Toml).unwrap();
        assert_eq!(
            kinds(&changes),
            ["absence", "relocation", "remove_shift", "change_shift", "add_agent", "add_shift", "add_shift"]
        );
        let Some(Change::Absence(absence)) = &changes[0].change else { panic!("an absence first") };
        assert_eq!(absence.agent_id, "ie-1");
        let interval = absence.interval.as_ref().unwrap();
        assert_eq!(
            interval.start_at.unwrap().seconds,
            "2026-12-07T10:00:00Z".parse::<jiff::Timestamp>().unwrap().as_second()
        );
        let Some(Change::AddShift(AddShift { shift: Some(recurring) })) = &changes[6].change else { panic!("a shift") };
        assert!(matches!(recurring.schedule, Some(pb::shift::Schedule::Recurring(_))), "{recurring:?}");
    }

    #[test]
    fn json_says_the_same_as_toml() {
        let json = r#"{"change": [
            {"kind": "absence", "agent_id": "ie-1", "starts_at": "2026-12-07T10:00:00Z", "ends_at": "2026-12-07T12:00:00Z"},
            {"kind": "remove_shift", "shift_id": "de-evening"}
        ]}"#;
        let toml = "[[change]]\nkind = \"absence\"\nagent_id = \"ie-1\"\nstarts_at = \"2026-12-07T10:00:00Z\"\n\
                    ends_at = \"2026-12-07T12:00:00Z\"\n\n[[change]]\nkind = \"remove_shift\"\nshift_id = \"de-evening\"\n";
        assert_eq!(
            parse_changes(json, ChangesFormat::Json).unwrap(),
            parse_changes(toml, ChangesFormat::Toml).unwrap()
        );
        assert_eq!(ChangesFormat::of_extension("JSON"), ChangesFormat::Json);
        assert_eq!(ChangesFormat::of_extension("toml"), ChangesFormat::Toml);
    }

    #[test]
    fn a_bad_file_names_the_change_and_the_problem() {
        let check = |text: &str, expected: &str| {
            let error = parse_changes(text, ChangesFormat::Toml).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        };
        check("[[change]]\nkind = \"vacation\"\nagent_id = \"a\"\n", "vacation");
        check("[[change]]\nkind = \"remove_shift\"\nshift = \"a\"\n", "unknown field `shift`, expected `shift_id`");
        check("[[change]]\nkind = \"remove_shift\"\nshift_id = \"a\"\nreason = \"x\"\n", "unknown field `reason`");
        check(
            "[[change]]\nkind = \"remove_shift\"\nshift_id = \"a\"\n[[change]]\nkind = \"absence\"\nagent_id = \"a\"\nstarts_at = \"monday\"\nends_at = \"2026-12-07T12:00:00Z\"\n",
            "change 2: starts_at",
        );
        check(
            "[[change]]\nkind = \"add_shift\"\nshift_id = \"s\"\nagent_id = \"a\"\n",
            "change 1: shift \"s\" needs starts_at and ends_at",
        );
        check("[[changes]]\nkind = \"remove_shift\"\nshift_id = \"a\"\n", "changes");
    }

    #[test]
    fn an_empty_file_is_no_changes() {
        assert_eq!(parse_changes("", ChangesFormat::Toml).unwrap(), vec![]);
        assert_eq!(parse_changes("{}", ChangesFormat::Json).unwrap(), vec![]);
    }
}

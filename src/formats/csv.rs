//! The CSV shift file. A header row names the columns, in any order; empty cells are absent
//! values. Columns: `kind` (`shift`, `time_off` or `agent`), `id`, `agent_id`, `starts_at`,
//! `ends_at` (RFC 3339 instants, one-off shifts and time off), `time_zone`, `start_local`,
//! `end_time`, `rrule`, `exdates` (recurring shifts; exdates separated by spaces or `;`),
//! `severities` (`1;2`), `country`, `display_name` and `location_changes`
//! (`2027-01-04T00:00:00Z=NO;...`). An `agent` row is an agent to create or update in the same
//! sync: `agent_id` (and `id`, when given, the same), `display_name`, `country`, `time_zone` (its
//! home zone), `severities`, `location_changes`.

use super::{entries_unless_errors, parse_instant, parse_severities, ImportedEntries, ImportedEntry, LineError};
use crate::pb;

/// Every column the format has, in the order [`write_csv`] writes them.
const COLUMNS: [&str; 14] = [
    "kind",
    "id",
    "agent_id",
    "starts_at",
    "ends_at",
    "time_zone",
    "start_local",
    "end_time",
    "rrule",
    "exdates",
    "severities",
    "country",
    "display_name",
    "location_changes",
];

/// Reads the CSV format described in the module documentation.
pub fn parse_csv(text: &str) -> Result<ImportedEntries, Vec<LineError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => return Err(vec![LineError { line: 1, message: format!("cannot read the header row: {error}") }]),
    };
    let known = COLUMNS;
    let mut errors = Vec::new();
    for header in headers.iter() {
        if !known.contains(&header) {
            errors.push(LineError {
                line: 1,
                message: format!("unknown column {header:?}; the columns are {}", known.join(", ")),
            });
        }
    }
    for required in ["kind", "agent_id"] {
        if !headers.iter().any(|header| header == required) {
            errors.push(LineError { line: 1, message: format!("the column {required:?} is missing") });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut entries = ImportedEntries::default();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |position| position.line() as usize);
                errors.push(LineError { line, message: error.to_string() });
                continue;
            }
        };
        let line = record.position().map_or(0, |position| position.line() as usize);
        match csv_entry(&CsvRow { headers: &headers, record: &record }) {
            Ok(entry) => entries.push(entry, line),
            Err(message) => errors.push(LineError { line, message }),
        }
    }
    entries_unless_errors(entries, errors)
}

/// One data row, read by column name.
struct CsvRow<'a> {
    headers: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl<'a> CsvRow<'a> {
    fn cell(&self, name: &str) -> &'a str {
        self.headers.iter().position(|header| header == name).and_then(|idx| self.record.get(idx)).unwrap_or("")
    }
}

fn csv_entry(row: &CsvRow) -> Result<ImportedEntry, String> {
    let cell = |name: &str| row.cell(name);
    if cell("kind") == "agent" {
        return csv_agent(row);
    }
    let (id, agent_id) = (cell("id").to_owned(), cell("agent_id").to_owned());
    if id.is_empty() {
        return Err("id is empty".into());
    }
    if agent_id.is_empty() {
        return Err(format!("{id}: agent_id is empty"));
    }
    let optional_instant = |name: &str| -> Result<Option<prost_types::Timestamp>, String> {
        let text = cell(name);
        if text.is_empty() {
            Ok(None)
        } else {
            parse_instant(text).map(Some).map_err(|error| format!("{id}: {name}: {error}"))
        }
    };
    match cell("kind") {
        "time_off" => Ok(ImportedEntry::TimeOff(pb::TimeOff {
            source: String::new(),
            time_off_id: id.clone(),
            agent_id,
            starts_at: optional_instant("starts_at")?,
            ends_at: optional_instant("ends_at")?,
        })),
        "shift" => {
            let schedule = if cell("rrule").is_empty() {
                pb::shift::Schedule::OneOff(pb::OneOffShift {
                    starts_at: optional_instant("starts_at")?,
                    ends_at: optional_instant("ends_at")?,
                })
            } else {
                pb::shift::Schedule::Recurring(pb::RecurringShift {
                    time_zone: cell("time_zone").to_owned(),
                    start_local: cell("start_local").to_owned(),
                    end_time: cell("end_time").to_owned(),
                    rrule: cell("rrule").to_owned(),
                    exdates: cell("exdates")
                        .split([';', ' '])
                        .filter(|part| !part.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
            };
            Ok(ImportedEntry::Shift(pb::Shift {
                source: String::new(),
                shift_id: id.clone(),
                agent_id,
                severities: parse_severities(cell("severities"))
                    .map_err(|error| format!("{id}: severities: {error}"))?,
                country: cell("country").to_owned(),
                schedule: Some(schedule),
            }))
        }
        other => Err(format!("{id}: kind {other:?} is none of \"shift\", \"time_off\" and \"agent\"")),
    }
}

/// An `agent` row.
fn csv_agent(row: &CsvRow) -> Result<ImportedEntry, String> {
    let cell = |name: &str| row.cell(name);
    let agent_id = cell("agent_id").to_owned();
    if agent_id.is_empty() {
        return Err("agent_id is empty".into());
    }
    if !cell("id").is_empty() && cell("id") != agent_id {
        return Err(format!("{agent_id}: an agent row's id, when given, is its agent_id (got {:?})", cell("id")));
    }
    let mut location_changes = Vec::new();
    for part in cell("location_changes").split(';').map(str::trim).filter(|part| !part.is_empty()) {
        let (at, country) = part.split_once('=').ok_or_else(|| {
            format!("{agent_id}: location_changes: {part:?} is not INSTANT=COUNTRY such as 2027-01-04T00:00:00Z=NO")
        })?;
        let effective_at =
            parse_instant(at.trim()).map_err(|error| format!("{agent_id}: location_changes: {error}"))?;
        location_changes
            .push(pb::LocationChange { effective_at: Some(effective_at), country: country.trim().to_owned() });
    }
    Ok(ImportedEntry::Agent(pb::Agent {
        severities: parse_severities(cell("severities")).map_err(|error| format!("{agent_id}: severities: {error}"))?,
        agent_id,
        display_name: cell("display_name").to_owned(),
        country: cell("country").to_owned(),
        time_zone: cell("time_zone").to_owned(),
        location_changes,
    }))
}

/// Writes entries in the CSV format [`parse_csv`] reads, a row each (shifts, time off, then
/// agents): reading the text back gives the same entries.
pub fn write_csv(entries: &ImportedEntries) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = COLUMNS;
    let instant = |timestamp: &Option<prost_types::Timestamp>| {
        timestamp
            .and_then(|timestamp| crate::domain::time::Instant::new(timestamp.seconds, timestamp.nanos).ok())
            .map(|instant| instant.to_string())
            .unwrap_or_default()
    };
    let numbers = |values: &[i32]| values.iter().map(i32::to_string).collect::<Vec<_>>().join(";");
    let mut rows: Vec<[String; 14]> = Vec::with_capacity(entries.len() + entries.agents.len());
    for shift in &entries.shifts {
        let mut row: [String; 14] = Default::default();
        row[0] = "shift".into();
        row[1] = shift.shift_id.clone();
        row[2] = shift.agent_id.clone();
        match &shift.schedule {
            Some(pb::shift::Schedule::OneOff(one_off)) => {
                row[3] = instant(&one_off.starts_at);
                row[4] = instant(&one_off.ends_at);
            }
            Some(pb::shift::Schedule::Recurring(recurring)) => {
                row[5] = recurring.time_zone.clone();
                row[6] = recurring.start_local.clone();
                row[7] = recurring.end_time.clone();
                row[8] = recurring.rrule.clone();
                row[9] = recurring.exdates.join(";");
            }
            None => {}
        }
        row[10] = numbers(&shift.severities);
        row[11] = shift.country.clone();
        rows.push(row);
    }
    for time_off in &entries.time_off {
        let mut row: [String; 14] = Default::default();
        row[0] = "time_off".into();
        row[1] = time_off.time_off_id.clone();
        row[2] = time_off.agent_id.clone();
        row[3] = instant(&time_off.starts_at);
        row[4] = instant(&time_off.ends_at);
        rows.push(row);
    }
    for agent in &entries.agents {
        let mut row: [String; 14] = Default::default();
        row[0] = "agent".into();
        row[1] = agent.agent_id.clone();
        row[2] = agent.agent_id.clone();
        row[5] = agent.time_zone.clone();
        row[10] = numbers(&agent.severities);
        row[11] = agent.country.clone();
        row[12] = agent.display_name.clone();
        row[13] = agent
            .location_changes
            .iter()
            .map(|change| format!("{}={}", instant(&change.effective_at), change.country))
            .collect::<Vec<_>>()
            .join(";");
        rows.push(row);
    }
    // Writing to memory cannot fail.
    writer.write_record(header).expect("a CSV row in memory");
    for row in &rows {
        writer.write_record(row).expect("a CSV row in memory");
    }
    String::from_utf8(writer.into_inner().expect("a CSV writer in memory")).expect("CSV of UTF-8 text")
}

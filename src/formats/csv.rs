//! The CSV shift file. A header row names the columns, in any order; empty cells are absent
//! values. Columns: `kind` (`shift` or `time_off`), `id`, `agent_id`, `starts_at`, `ends_at`
//! (RFC 3339 instants, one-off shifts and time off), `time_zone`, `start_local`, `end_time`,
//! `rrule`, `exdates` (recurring shifts; exdates separated by spaces or `;`), `severities`
//! (`1;2`), `country`.

use super::{entries_unless_errors, parse_instant, parse_severities, ImportedEntries, ImportedEntry, LineError};
use crate::pb;

/// Reads the CSV format described in the module documentation.
pub fn parse_csv(text: &str) -> Result<ImportedEntries, Vec<LineError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => return Err(vec![LineError { line: 1, message: format!("cannot read the header row: {error}") }]),
    };
    let known = [
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
    ];
    let mut errors = Vec::new();
    for header in headers.iter() {
        if !known.contains(&header) {
            errors.push(LineError {
                line: 1,
                message: format!("unknown column {header:?}; the columns are {}", known.join(", ")),
            });
        }
    }
    for required in ["kind", "id", "agent_id"] {
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
                shift_id: id.clone(),
                agent_id,
                severities: parse_severities(cell("severities"))
                    .map_err(|error| format!("{id}: severities: {error}"))?,
                country: cell("country").to_owned(),
                schedule: Some(schedule),
            }))
        }
        other => Err(format!("{id}: kind {other:?} is neither \"shift\" nor \"time_off\"")),
    }
}

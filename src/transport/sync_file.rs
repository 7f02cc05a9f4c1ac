//! A shift file sent inside a `SimulateCoverage` call: read with the code `eea-coverage import`
//! reads files with (`formats`), into the wire entries a `SyncShifts` stream would carry, then
//! converted as the stream's entries are. Every problem names `sync_file.content` and the line.

use std::collections::HashMap;

use tonic::Status;

use super::convert::{agent_from_pb, bounded_window_field, enum_field, shift_from_pb, time_off_from_pb};
use super::roster_service::MAX_REPORTED_VIOLATIONS;
use super::status::invalid;
use crate::app::{App, SyncRequest};
use crate::domain::interval::Interval;
use crate::domain::sync::{SyncEntries, MAX_SYNC_DAYS};
use crate::domain::time::Zone;
use crate::domain::validation::{check_id, FieldViolation, Violations};
use crate::formats::{parse_csv, read_calendar, ImportedEntries, LineError, ReadOptions};
use crate::pb;

/// The largest file one simulation may carry.
pub const MAX_SYNC_FILE_BYTES: usize = 8 * 1024 * 1024;

/// The field every problem inside the file is reported under.
const CONTENT_FIELD: &str = "sync_file.content";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileFormat {
    Csv,
    ICalendar,
}

fn format_from_pb(value: i32) -> Option<FileFormat> {
    match pb::SyncFileFormat::try_from(value).ok()? {
        pb::SyncFileFormat::Unspecified => None,
        pb::SyncFileFormat::Csv => Some(FileFormat::Csv),
        pb::SyncFileFormat::Icalendar => Some(FileFormat::ICalendar),
    }
}

/// A read file: the sync it stands for, and its entries as read (for their lines).
pub struct ReadSyncFile {
    pub request: SyncRequest,
    pub read: ImportedEntries,
}

/// A violation the sync's checks name by entry (`shifts[3].one_off.starts_at`), as the caller of
/// a simulation sent it: the file `read`, at the entry's line.
pub fn in_file(read: &ImportedEntries, violation: FieldViolation) -> FieldViolation {
    let FieldViolation { field, description } = violation;
    let place = match read.line_of(&field) {
        Some(line) => format!("line {line}, {field}"),
        None if field.is_empty() => "the file".to_owned(),
        None => field,
    };
    FieldViolation::new(CONTENT_FIELD, format!("{place}: {description}"))
}

/// Reads `file` for a sync over its window (or `report_window` when it names none). The agents'
/// home zones that an iCalendar file's all-day events and floating times need come from the
/// agents the file itself carries, then from the roster in force.
pub fn read_sync_file(app: &App, file: pb::SyncFile, report_window: Interval) -> Result<ReadSyncFile, Status> {
    let pb::SyncFile { source, format, content, window, agent_id, time_zone } = file;
    let mut violations = Violations::default();
    check_id(&mut violations, "sync_file.source", &source);
    let format = enum_field(
        &mut violations,
        "sync_file.format",
        format,
        format_from_pb,
        "SYNC_FILE_FORMAT_CSV or SYNC_FILE_FORMAT_ICALENDAR",
    );
    let text = if content.len() > MAX_SYNC_FILE_BYTES {
        violations
            .add(CONTENT_FIELD, format!("is {} bytes; a file may have at most {MAX_SYNC_FILE_BYTES}", content.len()));
        None
    } else {
        violations.check(CONTENT_FIELD, String::from_utf8(content).map_err(|_| "is not UTF-8 text"))
    };
    let window = match window {
        None => Some(report_window),
        Some(pb::TimeWindow { start_at, end_at }) => {
            let too_long = format!("a sync window spans at most {MAX_SYNC_DAYS} days");
            let ends = [("sync_file.window.start_at", start_at), ("sync_file.window.end_at", end_at)];
            bounded_window_field(&mut violations, ends, (MAX_SYNC_DAYS, &too_long))
        }
    };
    if !agent_id.is_empty() {
        check_id(&mut violations, "sync_file.agent_id", &agent_id);
    }
    if !time_zone.is_empty() {
        violations.check("sync_file.time_zone", Zone::named(&time_zone));
    }
    if !violations.0.is_empty() {
        return Err(invalid(violations.0));
    }
    let (format, text, window) =
        (format.expect("checked above"), text.expect("checked above"), window.expect("checked above"));
    let read = match format {
        FileFormat::Csv => parse_csv(&text),
        FileFormat::ICalendar => {
            let options = ReadOptions {
                agent: Some(agent_id.as_str()).filter(|agent_id| !agent_id.is_empty()),
                fallback_agent: None,
                default_zone: Some(time_zone.as_str()).filter(|zone| !zone.is_empty()),
            };
            read_calendar(&text, options).and_then(|calendar| {
                let home_zones: HashMap<String, Zone> = calendar
                    .agents_needing_home_zone()
                    .into_iter()
                    .filter_map(|agent_id| Some((agent_id.clone(), app.get_agent(&agent_id).ok()?.zone)))
                    .collect();
                calendar.entries(window, &home_zones)
            })
        }
    }
    .map_err(|errors| invalid(line_violations(&errors)))?;
    let entries = entries_from_pb(&read, &source)?;
    let request = SyncRequest { source, window, dry_run: true, entries, declared_counts: None };
    Ok(ReadSyncFile { request, read })
}

fn line_violations(errors: &[LineError]) -> Vec<FieldViolation> {
    errors
        .iter()
        .take(MAX_REPORTED_VIOLATIONS)
        .map(|error| FieldViolation::new(CONTENT_FIELD, error.to_string()))
        .collect()
}

/// The file's entries converted as a sync stream's are, each tagged with the sync's source; any
/// problem is named by the entry's line.
fn entries_from_pb(read: &ImportedEntries, source: &str) -> Result<SyncEntries, Status> {
    let mut errors: Vec<LineError> = Vec::new();
    let mut convert = |lines: &[usize], kind: &str, found: Vec<FieldViolation>, entry_idx: usize| {
        let line = lines.get(entry_idx).copied().unwrap_or_default();
        errors.extend(found.into_iter().map(|violation| LineError {
            line,
            message: format!("{kind}[{entry_idx}].{}: {}", violation.field, violation.description),
        }));
    };
    let source = Some(source.to_owned());
    let mut entries = SyncEntries::default();
    for (entry_idx, shift) in read.shifts.iter().enumerate() {
        match shift_from_pb(shift.clone(), source.clone()) {
            Ok(shift) => entries.shifts.push(shift),
            Err(found) => convert(&read.shift_lines, "shifts", found, entry_idx),
        }
    }
    for (entry_idx, entry) in read.time_off.iter().enumerate() {
        match time_off_from_pb(entry.clone(), source.clone()) {
            Ok(entry) => entries.time_off.push(entry),
            Err(found) => convert(&read.time_off_lines, "time_off", found, entry_idx),
        }
    }
    for (entry_idx, agent) in read.agents.iter().enumerate() {
        match agent_from_pb(agent.clone(), source.clone()) {
            Ok(agent) => entries.agents.push(agent),
            Err(found) => convert(&read.agent_lines, "agents", found, entry_idx),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(invalid(line_violations(&errors)))
    }
}

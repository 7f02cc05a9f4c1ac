//! File formats, read and written without a network or a command line: the shift files of an
//! import (CSV and iCalendar, read into the wire messages of a `SyncShifts` stream), the
//! what-if files of `report --what-if` (TOML or JSON, read into `HypotheticalChange`s) and the
//! renderings of a coverage report and of a simulation. The `import` and `report` commands call
//! into this module; it knows nothing of them, so the server can read an uploaded file with the
//! same code (as `SimulateCoverage` does).
//!
//! Every problem in a shift file names its line; a file with any problem is not sent.

pub mod csv;
pub mod icalendar;
pub mod report;
pub mod what_if;

pub use self::csv::{parse_csv, write_csv};
pub use self::icalendar::{read_calendar, write_icalendar, Calendar, ReadOptions};

use crate::domain::time::Instant;
use crate::pb;

/// One problem with one line of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The entries of a file, each with the line it starts on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportedEntries {
    pub shifts: Vec<pb::Shift>,
    pub shift_lines: Vec<usize>,
    pub time_off: Vec<pb::TimeOff>,
    pub time_off_lines: Vec<usize>,
    /// Agents to create or update in the same sync.
    pub agents: Vec<pb::Agent>,
    pub agent_lines: Vec<usize>,
    /// Entries of the file left out because they start outside the sync window.
    pub outside_window: usize,
}

impl ImportedEntries {
    /// Shifts and time off (agents are not entries).
    pub fn len(&self) -> usize {
        self.shifts.len() + self.time_off.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.agents.is_empty()
    }

    /// Adds the entries of another file after these.
    pub fn append(&mut self, other: ImportedEntries) {
        self.shifts.extend(other.shifts);
        self.shift_lines.extend(other.shift_lines);
        self.time_off.extend(other.time_off);
        self.time_off_lines.extend(other.time_off_lines);
        self.agents.extend(other.agents);
        self.agent_lines.extend(other.agent_lines);
        self.outside_window += other.outside_window;
    }

    /// The file line of an entry the server names as `shifts[12]...` or `time_off[3]...`.
    pub fn line_of(&self, field: &str) -> Option<usize> {
        let (kind, rest) = field.split_once('[')?;
        let index: usize = rest.split_once(']')?.0.parse().ok()?;
        match kind {
            "shifts" => self.shift_lines.get(index).copied(),
            "time_off" => self.time_off_lines.get(index).copied(),
            "agents" => self.agent_lines.get(index).copied(),
            _ => None,
        }
    }
}

/// One entry of a shift file: a shift, a time off, or an agent.
enum ImportedEntry {
    Shift(pb::Shift),
    TimeOff(pb::TimeOff),
    Agent(pb::Agent),
}

impl ImportedEntries {
    /// Adds `entry`, read from `line` of the file.
    fn push(&mut self, entry: ImportedEntry, line: usize) {
        match entry {
            ImportedEntry::Shift(shift) => {
                self.shifts.push(shift);
                self.shift_lines.push(line);
            }
            ImportedEntry::TimeOff(time_off) => {
                self.time_off.push(time_off);
                self.time_off_lines.push(line);
            }
            ImportedEntry::Agent(agent) => {
                self.agents.push(agent);
                self.agent_lines.push(line);
            }
        }
    }
}

/// The entries of a file, or every problem it has.
fn entries_unless_errors(entries: ImportedEntries, errors: Vec<LineError>) -> Result<ImportedEntries, Vec<LineError>> {
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

fn timestamp(instant: Instant) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: instant.as_second(), nanos: instant.subsec_nanosecond() }
}

fn parse_instant(text: &str) -> Result<prost_types::Timestamp, String> {
    text.parse::<Instant>()
        .map(timestamp)
        .map_err(|_| format!("{text:?} is not an RFC 3339 instant such as 2026-12-07T08:00:00Z"))
}

fn parse_severities(text: &str) -> Result<Vec<i32>, String> {
    text.split([';', ',', ' '])
        .filter(|part| !part.is_empty())
        .map(|part| part.trim().parse::<i32>().map_err(|_| format!("severity {part:?} is not a number from 1 to 4")))
        .collect()
}

#[cfg(test)]
mod tests;

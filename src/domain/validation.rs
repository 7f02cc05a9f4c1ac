//! Checks of what callers send: the violations a check collects, each naming its field, and the
//! checks every layer shares (identifiers, intervals, windows). Every violation a caller reads
//! is written here or by a check that collects into [`Violations`].

use super::interval::Interval;
use super::time::Instant;

/// The longest identifier accepted, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// One problem with one field of a request, named by its path (`shifts[2].recurring.rrule`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Collects violations while a draft is checked, so a caller sees all of them at once.
#[derive(Default)]
pub struct Violations(pub Vec<FieldViolation>);

/// Why a caller-chosen identifier is refused; its `Display` is the violation's description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidId {
    Empty,
    LongerThanMaxIdBytes,
    WhitespaceOrControlCharacter,
}

/// One end of a window as the caller sent it, after its conversion to an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceivedInstant {
    /// The caller left the field out.
    Missing,
    /// The caller sent a value that is no instant; its violation is already recorded.
    Rejected,
    Accepted(Instant),
}

/// How a window is checked: the fields of its ends, the longest span it may have, and how its
/// problems are reported.
#[derive(Clone, Copy, Debug)]
pub struct WindowRules<'a> {
    pub start_field: &'a str,
    pub end_field: &'a str,
    pub longest: Option<LongestWindow<'a>>,
    pub reporting: WindowReporting,
}

/// The longest span a window may have, and what a longer one is told.
#[derive(Clone, Copy, Debug)]
pub struct LongestWindow<'a> {
    pub max_days: i64,
    pub description: &'a str,
}

/// How many of a window's problems are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowReporting {
    /// For a window a request cannot do without: every missing end "is required", then, when
    /// both ends are instants, their order or the span.
    Every,
    /// For an optional filter window: the first problem only (a rejected end, else a missing
    /// end "is required when a window is given", else the order or the span).
    FirstOnly,
}

impl ReceivedInstant {
    /// What the caller sent (`was_sent`) and what its conversion made of it.
    pub fn new(was_sent: bool, converted: Option<Instant>) -> ReceivedInstant {
        match (was_sent, converted) {
            (_, Some(instant)) => ReceivedInstant::Accepted(instant),
            (true, None) => ReceivedInstant::Rejected,
            (false, None) => ReceivedInstant::Missing,
        }
    }
}

impl InvalidId {
    /// What is wrong with `id`, if anything: the first of empty, too long, unprintable.
    pub fn of(id: &str) -> Option<InvalidId> {
        if id.is_empty() {
            Some(InvalidId::Empty)
        } else if id.len() > MAX_ID_BYTES {
            Some(InvalidId::LongerThanMaxIdBytes)
        } else if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
            Some(InvalidId::WhitespaceOrControlCharacter)
        } else {
            None
        }
    }
}

impl std::fmt::Display for InvalidId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvalidId::Empty => formatter.write_str("is required"),
            InvalidId::LongerThanMaxIdBytes => write!(formatter, "is longer than {MAX_ID_BYTES} bytes"),
            InvalidId::WhitespaceOrControlCharacter => {
                formatter.write_str("must not contain whitespace or control characters")
            }
        }
    }
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> FieldViolation {
        FieldViolation { field: field.into(), description: description.into() }
    }

    /// The same violation, seen from an enclosing message (`agents[3]` + `.country`).
    pub fn within(self, prefix: &str) -> FieldViolation {
        FieldViolation { field: format!("{prefix}.{}", self.field), description: self.description }
    }
}

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Keeps the value of a check, or records its violation and returns `None`.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        result.map_err(|error| self.add(field, error.to_string())).ok()
    }

    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldViolation>> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self.0)
        }
    }
}

/// Checks a caller-chosen identifier: present, short, printable.
pub fn check_id(violations: &mut Violations, field: &str, id: &str) {
    if let Some(problem) = InvalidId::of(id) {
        violations.add(field, problem.to_string());
    }
}

/// Checks a window's two ends, records what is wrong with it by `rules`, and returns it when
/// nothing is. The ends' own conversion violations come first, recorded by the caller.
pub fn check_window(
    violations: &mut Violations,
    rules: &WindowRules,
    start: ReceivedInstant,
    end: ReceivedInstant,
) -> Option<Interval> {
    let ends = [(rules.start_field, start), (rules.end_field, end)];
    match rules.reporting {
        WindowReporting::Every => {
            for (field, received) in ends {
                if received == ReceivedInstant::Missing {
                    violations.add(field, "is required");
                }
            }
        }
        WindowReporting::FirstOnly => {
            if ends.iter().any(|(_, received)| *received == ReceivedInstant::Rejected) {
                return None;
            }
            if let Some((field, _)) = ends.iter().find(|(_, received)| *received == ReceivedInstant::Missing) {
                violations.add(*field, "is required when a window is given");
                return None;
            }
        }
    }
    let (ReceivedInstant::Accepted(start), ReceivedInstant::Accepted(end)) = (start, end) else { return None };
    let Some(window) = Interval::new(start, end) else {
        violations.add(rules.end_field, format!("must be after {}", rules.start_field));
        return None;
    };
    if let Some(longest) = rules.longest {
        if end.duration_since(start) > jiff::SignedDuration::from_hours(24 * longest.max_days) {
            violations.add(rules.end_field, longest.description);
            return None;
        }
    }
    Some(window)
}

/// Checks an entry's period: both ends required, the end after the start.
pub fn check_interval(
    violations: &mut Violations,
    start_field: &str,
    end_field: &str,
    start: Option<Instant>,
    end: Option<Instant>,
) -> Option<Interval> {
    if start.is_none() {
        violations.add(start_field, "is required");
    }
    if end.is_none() {
        violations.add(end_field, "is required");
    }
    let (start, end) = (start?, end?);
    let interval = Interval::new(start, end);
    if interval.is_none() {
        violations.add(end_field, "must be after the start");
    }
    interval
}

#[cfg(test)]
mod tests;

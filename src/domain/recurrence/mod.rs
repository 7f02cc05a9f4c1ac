//! Recurring shifts: an RFC 5545 RRULE expanded in floating (local wall-clock) time, each local
//! occurrence then converted to instants by the one DST rule of [`super::time`].
//!
//! Expansion is always bounded: the rule must be dense enough to be a shift pattern and no
//! denser ([`MAX_OCCURRENCES_PER_YEAR`]), its COUNT is capped ([`MAX_COUNT`]), and every expansion
//! counts its steps against a budget ([`MAX_EXPANSION_STEPS`]) instead of trusting the iterator.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime, TimeZone as _};
use jiff::civil::{Date, DateTime, Time};
use jiff::ToSpan;
use rrule::{RRule, RRuleSet, Unvalidated};

mod periodic;

use periodic::PeriodicRule;

use super::interval::Interval;
use super::time::{Instant, LocalTimeConverter, Zone};

/// A rule may produce at most this many occurrences in the 366 days from its first one: four a
/// day on average. Anything denser is not a shift pattern (and HOURLY or finer rules are).
pub const MAX_OCCURRENCES_PER_YEAR: usize = 1_500;
/// The largest COUNT a rule may carry.
pub const MAX_COUNT: u32 = 100_000;
/// Occurrences one expansion may step through before it gives up; a daily rule reaches about
/// 2,700 years past its start.
pub const MAX_EXPANSION_STEPS: u64 = 1_000_000;

/// Local start date-times (or whole local dates) whose occurrences are skipped.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExDate {
    At(DateTime),
    Day(Date),
}

impl ExDate {
    pub fn parse(text: &str) -> Option<ExDate> {
        text.parse::<DateTime>()
            .ok()
            .filter(|_| text.contains('T'))
            .map(ExDate::At)
            .or_else(|| text.parse::<Date>().ok().map(ExDate::Day))
    }

    fn excludes(&self, occurrence_start: DateTime) -> bool {
        match self {
            ExDate::At(local) => *local == occurrence_start,
            ExDate::Day(day) => *day == occurrence_start.date(),
        }
    }
}

impl std::fmt::Display for ExDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExDate::At(local) => write!(f, "{}", local.strftime("%Y-%m-%dT%H:%M:%S")),
            ExDate::Day(day) => write!(f, "{day}"),
        }
    }
}

/// Why a recurrence cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    #[error("the rule does not parse: {0}")]
    Unparsable(String),
    #[error("FREQ={0} recurs without bound for a shift pattern; use DAILY, WEEKLY, MONTHLY or YEARLY")]
    FrequencyTooFine(String),
    #[error("COUNT={count} exceeds the limit of {MAX_COUNT}")]
    CountTooLarge { count: u64 },
    #[error("the rule carries {0}, which belongs in its own field")]
    ForeignProperty(String),
    #[error("the rule yields more than {MAX_OCCURRENCES_PER_YEAR} occurrences in its first 366 days")]
    TooDense,
    #[error("the rule never produces an occurrence")]
    NeverOccurs,
    #[error("UNTIL value {0:?} is neither a date nor a date-time")]
    BadUntil(String),
}

/// Expansion stopped at its step budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recurrence expansion exceeded {MAX_EXPANSION_STEPS} steps")]
pub struct ExpansionBudgetExceeded;

/// A validated recurring schedule. Its fields are private: the parsed rule is built from the
/// others in [`RecurringSchedule::new`], and a changed field would leave it stale.
#[derive(Clone, Debug)]
pub struct RecurringSchedule {
    zone: Zone,
    start_local: DateTime,
    end_time: Time,
    /// The rule as given, without an `RRULE:` prefix.
    rrule: String,
    exdates: Vec<ExDate>,
    rule_set: RRuleSet,
    /// The same rule in the arithmetic subset, when it is in it.
    periodic: Option<PeriodicRule>,
}

impl PartialEq for RecurringSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.zone == other.zone
            && self.start_local == other.start_local
            && self.end_time == other.end_time
            && self.rrule == other.rrule
            && self.exdates == other.exdates
    }
}

fn to_naive(local: DateTime) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(i32::from(local.year()), local.month() as u32, local.day() as u32)
        .and_then(|day| day.and_hms_opt(local.hour() as u32, local.minute() as u32, local.second() as u32))
        .expect("a jiff civil date-time is a valid chrono one")
}

fn from_naive(naive: NaiveDateTime) -> Option<DateTime> {
    use chrono::{Datelike, Timelike};
    DateTime::new(
        i16::try_from(naive.year()).ok()?,
        naive.month() as i8,
        naive.day() as i8,
        naive.hour() as i8,
        naive.minute() as i8,
        naive.second() as i8,
        0,
    )
    .ok()
}

/// Floating time is expanded in the rrule crate's UTC zone, which has no DST to get wrong.
fn floating(local: DateTime) -> chrono::DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&to_naive(local))
}

/// Rewrites UNTIL as a floating local date-time: a UTC `...Z` value is an instant and becomes the
/// zone's wall time; a local value stays; a date means the end of that local day.
fn floating_rule_parts(rule: &str, zone: &Zone) -> Result<Vec<(String, String)>, RecurrenceError> {
    let mut parts = Vec::new();
    for part in rule.split(';').filter(|part| !part.trim().is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let key = key.trim().to_ascii_uppercase();
        let value = value.trim();
        match key.as_str() {
            "FREQ" => {
                let frequency = value.to_ascii_uppercase();
                if matches!(frequency.as_str(), "SECONDLY" | "MINUTELY" | "HOURLY") {
                    return Err(RecurrenceError::FrequencyTooFine(frequency));
                }
                parts.push(("FREQ".to_owned(), frequency));
            }
            "COUNT" => {
                if let Ok(count) = value.parse::<u64>() {
                    if count > u64::from(MAX_COUNT) {
                        return Err(RecurrenceError::CountTooLarge { count });
                    }
                }
                parts.push(("COUNT".to_owned(), value.to_owned()));
            }
            "UNTIL" => {
                let local = parse_until(value, zone).ok_or_else(|| RecurrenceError::BadUntil(value.to_owned()))?;
                parts.push(("UNTIL".to_owned(), format!("{}Z", local.strftime("%Y%m%dT%H%M%S"))));
            }
            "DTSTART" | "EXDATE" | "RDATE" | "TZID" => return Err(RecurrenceError::ForeignProperty(key)),
            _ => parts.push((key, value.to_ascii_uppercase())),
        }
    }
    Ok(parts)
}

fn parse_until(value: &str, zone: &Zone) -> Option<DateTime> {
    let compact = |text: &str, format: &str| DateTime::strptime(format, text).ok();
    if let Some(utc_text) = value.strip_suffix('Z').or_else(|| value.strip_suffix('z')) {
        let utc = compact(utc_text, "%Y%m%dT%H%M%S")?;
        let instant = Zone::named("UTC").ok()?.to_instant(utc);
        return Some(zone.to_local(instant));
    }
    if let Some(local) = compact(value, "%Y%m%dT%H%M%S") {
        return Some(local);
    }
    let day = Date::strptime("%Y%m%d", value).ok()?;
    Some(day.to_datetime(Time::constant(23, 59, 59, 0)))
}

impl RecurringSchedule {
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    pub fn start_local(&self) -> DateTime {
        self.start_local
    }

    pub fn end_time(&self) -> Time {
        self.end_time
    }

    /// The rule as given, without an `RRULE:` prefix.
    pub fn rrule(&self) -> &str {
        &self.rrule
    }

    pub fn exdates(&self) -> &[ExDate] {
        &self.exdates
    }

    /// Checks a recurrence: the rule parses, is bounded, and its first year is not absurd.
    pub fn new(
        zone: Zone,
        start_local: DateTime,
        end_time: Time,
        rrule_text: &str,
        exdates: Vec<ExDate>,
    ) -> Result<RecurringSchedule, RecurrenceError> {
        let trimmed = rrule_text.trim();
        let rule_text =
            trimmed.strip_prefix("RRULE:").or_else(|| trimmed.strip_prefix("rrule:")).unwrap_or(trimmed).to_owned();
        if rule_text.contains('\n') || rule_text.contains(':') {
            return Err(RecurrenceError::Unparsable("expected a single RRULE value such as FREQ=DAILY".into()));
        }
        let parts = floating_rule_parts(&rule_text, &zone)?;
        let floating_text = parts.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(";");
        let periodic = PeriodicRule::from_parts(&parts, start_local);
        // RFC 5545 rules are ASCII; the rrule crate panics slicing some other text (found by fuzzing).
        if !floating_text.is_ascii() {
            return Err(RecurrenceError::Unparsable("a rule is ASCII text such as FREQ=DAILY".into()));
        }
        // A panic inside the crate on text nobody foresaw is a refused rule, not a crashed call.
        let built = std::panic::catch_unwind(|| -> Result<RecurringSchedule, RecurrenceError> {
            let rule: RRule<Unvalidated> = floating_text
                .parse()
                .map_err(|error: rrule::RRuleError| RecurrenceError::Unparsable(error.to_string()))?;
            // `limit` turns on the iterator's own guard against rules that never match again.
            let rule_set = rule
                .build(floating(start_local))
                .map_err(|error| RecurrenceError::Unparsable(error.to_string()))?
                .limit();
            let exdates: Vec<ExDate> = exdates.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
            let schedule =
                RecurringSchedule { zone, start_local, end_time, rrule: rule_text, exdates, rule_set, periodic };
            schedule.check_density()?;
            Ok(schedule)
        });
        built.unwrap_or_else(|_| Err(RecurrenceError::Unparsable("the rule could not be read".into())))
    }

    fn check_density(&self) -> Result<(), RecurrenceError> {
        if (&self.rule_set).into_iter().next().is_none() {
            return Err(RecurrenceError::NeverOccurs);
        }
        // A rule of the arithmetic subset (DAILY or WEEKLY, no BYHOUR and the like) starts at
        // most once a day, so its first year holds at most 367: never too dense. Counting it
        // step by step was most of what reading a stored roster cost.
        if self.periodic.is_some() {
            return Ok(());
        }
        let year_later = floating(self.start_local.saturating_add(366.days()));
        let first_year = (&self.rule_set)
            .into_iter()
            .take(MAX_OCCURRENCES_PER_YEAR + 1)
            .take_while(|occurrence| *occurrence < year_later)
            .count();
        if first_year > MAX_OCCURRENCES_PER_YEAR {
            return Err(RecurrenceError::TooDense);
        }
        Ok(())
    }

    /// The local end of an occurrence: `end_time` on its day, or the next day when not after
    /// the start time.
    fn local_end(&self, occurrence_start: DateTime) -> DateTime {
        let day = occurrence_start.date();
        let end_day = if self.end_time <= occurrence_start.time() { day.tomorrow().unwrap_or(day) } else { day };
        end_day.to_datetime(self.end_time)
    }

    /// The occurrences overlapping `window`, as instants, in order. An occurrence that DST makes
    /// empty (02:30-03:30 on the spring night: both ends become 03:30) is skipped.
    pub fn occurrences_within(&self, window: Interval) -> Result<Vec<Interval>, ExpansionBudgetExceeded> {
        self.occurrences_from(self.local_starts_near(window), window)
    }

    /// Local occurrence starts from about two days before `window` on (the margin covers any
    /// UTC offset and shift length); rules of the arithmetic subset jump straight there.
    fn local_starts_near(&self, window: Interval) -> Box<dyn Iterator<Item = DateTime> + '_> {
        match &self.periodic {
            Some(periodic) => {
                let from_day = self.zone.to_local(window.start()).date().saturating_sub(2.days());
                periodic.starts_from(from_day)
            }
            None => Box::new((&self.rule_set).into_iter().map_while(|occurrence| from_naive(occurrence.naive_utc()))),
        }
    }

    fn occurrences_from(
        &self,
        local_starts: impl Iterator<Item = DateTime>,
        window: Interval,
    ) -> Result<Vec<Interval>, ExpansionBudgetExceeded> {
        let stop_after = self.zone.to_local(window.end()).saturating_add(2.days());
        let mut converter = LocalTimeConverter::new(&self.zone);
        let mut occurrences = Vec::new();
        for (step_idx, local_start) in local_starts.enumerate() {
            if step_idx as u64 >= MAX_EXPANSION_STEPS {
                return Err(ExpansionBudgetExceeded);
            }
            if local_start > stop_after {
                break;
            }
            if self.exdates.iter().any(|exdate| exdate.excludes(local_start)) {
                continue;
            }
            let start = converter.to_instant(local_start);
            let end = converter.to_instant(self.local_end(local_start));
            if let Some(interval) = Interval::new(start, end).filter(|interval| interval.overlaps(&window)) {
                occurrences.push(interval);
            }
        }
        Ok(occurrences)
    }

    /// Every local start the rule gives before `end`, EXDATEs not applied (COUNT counts the
    /// occurrences they remove): what a caller needs to count occurrences or to start a series
    /// again at a later one.
    pub fn rule_starts_before(&self, end: DateTime) -> Result<Vec<DateTime>, ExpansionBudgetExceeded> {
        let all: Box<dyn Iterator<Item = DateTime> + '_> = match &self.periodic {
            Some(periodic) => periodic.starts_from(self.start_local.date()),
            None => Box::new((&self.rule_set).into_iter().map_while(|occurrence| from_naive(occurrence.naive_utc()))),
        };
        let mut starts = Vec::new();
        for (step_idx, local_start) in all.enumerate() {
            if step_idx as u64 >= MAX_EXPANSION_STEPS {
                return Err(ExpansionBudgetExceeded);
            }
            if local_start >= end {
                break;
            }
            starts.push(local_start);
        }
        Ok(starts)
    }

    /// The instant of `start_local` (the rule's DTSTART, which a BYDAY rule may itself skip).
    pub fn first_start(&self) -> Instant {
        self.zone.to_instant(self.start_local)
    }
}

#[cfg(test)]
mod tests;

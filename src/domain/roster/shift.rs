//! Shifts (one-off or recurring) and time off: the entries an agent's duty is made of.

use jiff::civil::{DateTime, Time};

use super::{check_country, check_severities, MAX_LIST_ENTRIES};
use crate::domain::country::Country;
use crate::domain::ids::{AgentId, ShiftId, TimeOffId};
use crate::domain::interval::Interval;
use crate::domain::policy::SeveritySet;
use crate::domain::recurrence::{ExDate, ExpansionBudgetExceeded, RecurringSchedule};
use crate::domain::time::{Instant, Zone};
use crate::domain::validation::{check_id, check_interval, FieldViolation, Violations};

#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    OneOff(Interval),
    Recurring(Box<RecurringSchedule>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Shift {
    pub shift_id: ShiftId,
    pub agent_id: AgentId,
    /// Limits the shift to these severities; empty means the agent's own.
    pub severities: SeveritySet,
    /// The country worked from during this shift, overriding the agent's location.
    pub country: Option<Country>,
    pub schedule: Schedule,
    pub source: Option<String>,
}

/// The schedule of a shift as a caller sent it.
pub enum ScheduleDraft {
    Missing,
    OneOff { starts_at: Option<Instant>, ends_at: Option<Instant> },
    Recurring { time_zone: String, start_local: String, end_time: String, rrule: String, exdates: Vec<String> },
}

/// A shift as a caller sent it, before any check.
pub struct ShiftDraft {
    pub shift_id: String,
    pub agent_id: String,
    pub severities: Vec<i32>,
    pub country: String,
    pub schedule: ScheduleDraft,
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimeOff {
    pub time_off_id: TimeOffId,
    pub agent_id: AgentId,
    pub period: Interval,
    pub source: Option<String>,
}

impl Shift {
    pub fn new(draft: ShiftDraft) -> Result<Shift, Vec<FieldViolation>> {
        let ShiftDraft { shift_id, agent_id, severities, country, schedule, source } = draft;
        let mut violations = Violations::default();
        let shift_id = ShiftId::check(&mut violations, "shift_id", shift_id);
        let agent_id = AgentId::check(&mut violations, "agent_id", agent_id);
        let severities = check_severities(&mut violations, "severities", &severities);
        let country = if country.is_empty() { None } else { check_country(&mut violations, "country", &country) };
        let schedule = match schedule {
            ScheduleDraft::Missing => {
                violations.add("schedule", "a shift is either one_off or recurring");
                None
            }
            ScheduleDraft::OneOff { starts_at, ends_at } => {
                check_interval(&mut violations, "one_off.starts_at", "one_off.ends_at", starts_at, ends_at)
                    .map(Schedule::OneOff)
            }
            ScheduleDraft::Recurring { time_zone, start_local, end_time, rrule, exdates } => {
                check_recurring(&mut violations, &time_zone, &start_local, &end_time, &rrule, &exdates)
                    .map(|recurring| Schedule::Recurring(Box::new(recurring)))
            }
        };
        if let Some(source) = &source {
            check_id(&mut violations, "source", source);
        }
        violations.finish(|| Shift {
            shift_id: shift_id.expect("checked above"),
            agent_id: agent_id.expect("checked above"),
            severities,
            country,
            schedule: schedule.expect("checked above"),
            source,
        })
    }

    /// The instant that places the shift inside or outside a sync window: a one-off shift's
    /// start, a recurring shift's `start_local` in its zone.
    pub fn starts_at(&self) -> Instant {
        match &self.schedule {
            Schedule::OneOff(interval) => interval.start(),
            Schedule::Recurring(recurring) => recurring.first_start(),
        }
    }

    /// The shift's occurrences overlapping `window`, clipped to it.
    pub fn occurrences_within(&self, window: Interval) -> Result<Vec<Interval>, ExpansionBudgetExceeded> {
        let occurrences = match &self.schedule {
            Schedule::OneOff(interval) => vec![*interval],
            Schedule::Recurring(recurring) => recurring.occurrences_within(window)?,
        };
        Ok(occurrences.iter().filter_map(|occurrence| occurrence.intersection(&window)).collect())
    }
}

impl TimeOff {
    pub fn new(
        time_off_id: String,
        agent_id: String,
        starts_at: Option<Instant>,
        ends_at: Option<Instant>,
        source: Option<String>,
    ) -> Result<TimeOff, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let time_off_id = TimeOffId::check(&mut violations, "time_off_id", time_off_id);
        let agent_id = AgentId::check(&mut violations, "agent_id", agent_id);
        let period = check_interval(&mut violations, "starts_at", "ends_at", starts_at, ends_at);
        if let Some(source) = &source {
            check_id(&mut violations, "source", source);
        }
        violations.finish(|| TimeOff {
            time_off_id: time_off_id.expect("checked above"),
            agent_id: agent_id.expect("checked above"),
            period: period.expect("checked above"),
            source,
        })
    }
}

fn parse_local_date_time(text: &str) -> Result<DateTime, String> {
    if text.contains(['Z', 'z', '+']) || text.rfind('-').is_some_and(|idx| idx > 10) {
        return Err(format!(
            "{text:?} carries an offset; give a local date-time such as 2026-03-02T22:00:00 and the zone in time_zone"
        ));
    }
    let local = text
        .parse::<DateTime>()
        .ok()
        .filter(|_| text.contains('T'))
        .ok_or_else(|| format!("{text:?} is not an ISO 8601 local date-time such as 2026-03-02T22:00:00"))?;
    // Recurrences expand from their first occurrence, so the start is held to the years in
    // which questions may be asked.
    if !(1970..2200).contains(&local.year()) {
        return Err(format!("{text:?} is outside the supported years 1970-2199"));
    }
    Ok(local)
}

fn parse_local_time(text: &str) -> Result<Time, String> {
    let valid = text.len() == 5 && text.as_bytes()[2] == b':';
    valid
        .then(|| Time::strptime("%H:%M", text).ok())
        .flatten()
        .ok_or_else(|| format!("{text:?} is not a local time HH:MM"))
}

fn check_recurring(
    violations: &mut Violations,
    time_zone: &str,
    start_local: &str,
    end_time: &str,
    rrule: &str,
    exdates: &[String],
) -> Option<RecurringSchedule> {
    let zone = if time_zone.is_empty() {
        violations.add("recurring.time_zone", "is required: a local time never travels without its IANA zone");
        None
    } else {
        violations.check("recurring.time_zone", Zone::named(time_zone))
    };
    let start_local = violations.check("recurring.start_local", parse_local_date_time(start_local));
    let end_time = violations.check("recurring.end_time", parse_local_time(end_time));
    if rrule.trim().is_empty() {
        violations.add("recurring.rrule", "is required (for example FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR)");
    }
    if exdates.len() > MAX_LIST_ENTRIES {
        violations.add("recurring.exdates", format!("has more than {MAX_LIST_ENTRIES} entries"));
    }
    let mut parsed_exdates = Vec::with_capacity(exdates.len());
    for (exdate_idx, text) in exdates.iter().enumerate() {
        match ExDate::parse(text) {
            Some(exdate) => parsed_exdates.push(exdate),
            None => violations.add(
                format!("recurring.exdates[{exdate_idx}]"),
                format!("{text:?} is not a local date-time (2026-12-25T09:00:00) or date (2026-12-25)"),
            ),
        }
    }
    let (zone, start_local, end_time) = (zone?, start_local?, end_time?);
    if rrule.trim().is_empty() {
        return None;
    }
    violations.check("recurring.rrule", RecurringSchedule::new(zone, start_local, end_time, rrule, parsed_exdates))
}

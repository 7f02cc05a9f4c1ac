//! Orgs, consents, agents, shifts and time off: the validated domain entities, and the checks
//! that turn a caller's draft into one. Every check names the field it is about.

use jiff::civil::{DateTime, Time};

use super::country::Country;
use super::interval::Interval;
use super::policy::{PlanKind, PolicyFacts, Severity, SeveritySet};
use super::recurrence::{ExDate, ExpansionBudgetExceeded, RecurringSchedule};
use super::time::{Instant, Zone};

/// The longest identifier accepted, in bytes.
pub const MAX_ID_BYTES: usize = 128;
/// The longest display name accepted, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;
/// The most location changes one agent may carry, and exdates one shift.
pub const MAX_LIST_ENTRIES: usize = 1_000;

/// One problem with one field of a request, named by its path (`shifts[2].recurring.rrule`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
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

/// Collects violations while a draft is checked, so a caller sees all of them at once.
#[derive(Default)]
pub struct Violations(pub Vec<FieldViolation>);

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
    if id.is_empty() {
        violations.add(field, "is required");
    } else if id.len() > MAX_ID_BYTES {
        violations.add(field, format!("is longer than {MAX_ID_BYTES} bytes"));
    } else if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        violations.add(field, "must not contain whitespace or control characters");
    }
}

fn check_severities(violations: &mut Violations, field: &str, numbers: &[i32]) -> SeveritySet {
    let mut severities = Vec::with_capacity(numbers.len());
    for (severity_idx, number) in numbers.iter().enumerate() {
        match Severity::from_number(i64::from(*number)) {
            Some(severity) => severities.push(severity),
            None => {
                violations.add(format!("{field}[{severity_idx}]"), format!("{number} is not a severity from 1 to 4"))
            }
        }
    }
    SeveritySet::from_severities(severities)
}

fn check_country(violations: &mut Violations, field: &str, code: &str) -> Option<Country> {
    violations.check(field, Country::parse(code))
}

fn check_interval(
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

#[derive(Clone, Debug, PartialEq)]
pub struct Org {
    pub org_id: String,
    pub cloud_region: String,
    pub plan: PlanKind,
}

impl Org {
    pub fn new(
        org_id: String,
        cloud_region: String,
        plan: Option<PlanKind>,
        facts: &PolicyFacts,
    ) -> Result<Org, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        check_id(&mut violations, "org_id", &org_id);
        if facts.region(&cloud_region).is_none() {
            let known: Vec<&str> = facts.regions.iter().map(|region| region.region.as_str()).collect();
            violations
                .add("cloud_region", format!("unknown cloud region {cloud_region:?}; known: {}", known.join(", ")));
        }
        if plan.is_none() {
            violations.add("plan", "must be PLAN_STANDARD or PLAN_EEA_ONLY");
        }
        violations.finish(|| Org { org_id, cloud_region, plan: plan.expect("checked above") })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Consent {
    pub org_id: String,
    pub ticket_id: String,
    pub agent_id: String,
    /// The consent holds before this instant.
    pub expires_at: Instant,
}

impl Consent {
    pub fn new(
        org_id: String,
        ticket_id: String,
        agent_id: String,
        expires_at: Option<Instant>,
    ) -> Result<Consent, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        check_id(&mut violations, "org_id", &org_id);
        check_id(&mut violations, "ticket_id", &ticket_id);
        check_id(&mut violations, "agent_id", &agent_id);
        if expires_at.is_none() {
            violations.add("expires_at", "is required");
        }
        violations.finish(|| Consent { org_id, ticket_id, agent_id, expires_at: expires_at.expect("checked above") })
    }

    pub fn holds_at(&self, at: Instant) -> bool {
        at < self.expires_at
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocationChange {
    pub effective_at: Instant,
    pub country: Country,
}

/// `Debug` leaves the display name out: personal information never reaches a log line.
#[derive(Clone, PartialEq)]
pub struct Agent {
    pub agent_id: String,
    /// Personal information: never logged.
    pub display_name: String,
    pub country: Country,
    pub zone: Zone,
    pub severities: SeveritySet,
    /// Sorted by `effective_at`, one per instant.
    pub location_changes: Vec<LocationChange>,
    /// The WFM system that owns the agent, when one does.
    pub source: Option<String>,
}

/// An agent as a caller sent it, before any check.
pub struct AgentDraft {
    pub agent_id: String,
    pub display_name: String,
    pub country: String,
    pub time_zone: String,
    pub severities: Vec<i32>,
    pub location_changes: Vec<(Option<Instant>, String)>,
    pub source: Option<String>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("agent_id", &self.agent_id)
            .field("display_name", &"<personal information>")
            .field("country", &self.country)
            .field("zone", &self.zone.name())
            .field("severities", &self.severities)
            .field("location_changes", &self.location_changes)
            .field("source", &self.source)
            .finish()
    }
}

impl Agent {
    pub fn new(draft: AgentDraft) -> Result<Agent, Vec<FieldViolation>> {
        let AgentDraft { agent_id, display_name, country, time_zone, severities, location_changes, source } = draft;
        let mut violations = Violations::default();
        check_id(&mut violations, "agent_id", &agent_id);
        if display_name.chars().count() > MAX_DISPLAY_NAME_CHARS {
            violations.add("display_name", format!("is longer than {MAX_DISPLAY_NAME_CHARS} characters"));
        }
        let country = check_country(&mut violations, "country", &country);
        let zone = violations.check("time_zone", Zone::named(&time_zone));
        let severities = check_severities(&mut violations, "severities", &severities);
        if location_changes.len() > MAX_LIST_ENTRIES {
            violations.add("location_changes", format!("has more than {MAX_LIST_ENTRIES} entries"));
        }
        let mut changes = Vec::with_capacity(location_changes.len());
        for (change_idx, (effective_at, code)) in location_changes.into_iter().enumerate() {
            let field = |name: &str| format!("location_changes[{change_idx}].{name}");
            if effective_at.is_none() {
                violations.add(field("effective_at"), "is required");
            }
            let country = check_country(&mut violations, &field("country"), &code);
            if let (Some(effective_at), Some(country)) = (effective_at, country) {
                if changes.iter().any(|change: &LocationChange| change.effective_at == effective_at) {
                    violations.add(field("effective_at"), "two location changes take effect at the same instant");
                }
                changes.push(LocationChange { effective_at, country });
            }
        }
        changes.sort_by_key(|change| change.effective_at);
        if let Some(source) = &source {
            check_id(&mut violations, "source", source);
        }
        violations.finish(|| Agent {
            agent_id,
            display_name,
            country: country.expect("checked above"),
            zone: zone.expect("checked above"),
            severities,
            location_changes: changes,
            source,
        })
    }

    /// Where the agent works from at an instant (ignoring any shift's own country).
    pub fn country_at(&self, at: Instant) -> Country {
        self.location_changes
            .iter()
            .take_while(|change| change.effective_at <= at)
            .last()
            .map_or(self.country, |change| change.country)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    OneOff(Interval),
    Recurring(Box<RecurringSchedule>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Shift {
    pub shift_id: String,
    pub agent_id: String,
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

impl Shift {
    pub fn new(draft: ShiftDraft) -> Result<Shift, Vec<FieldViolation>> {
        let ShiftDraft { shift_id, agent_id, severities, country, schedule, source } = draft;
        let mut violations = Violations::default();
        check_id(&mut violations, "shift_id", &shift_id);
        check_id(&mut violations, "agent_id", &agent_id);
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
            shift_id,
            agent_id,
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
            Schedule::OneOff(interval) => interval.start,
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

#[derive(Clone, Debug, PartialEq)]
pub struct TimeOff {
    pub time_off_id: String,
    pub agent_id: String,
    pub period: Interval,
    pub source: Option<String>,
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
        check_id(&mut violations, "time_off_id", &time_off_id);
        check_id(&mut violations, "agent_id", &agent_id);
        let period = check_interval(&mut violations, "starts_at", "ends_at", starts_at, ends_at);
        if let Some(source) = &source {
            check_id(&mut violations, "source", source);
        }
        violations.finish(|| TimeOff { time_off_id, agent_id, period: period.expect("checked above"), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recurring_draft(time_zone: &str, start_local: &str, end_time: &str, rrule: &str) -> ShiftDraft {
        ShiftDraft {
            shift_id: "s1".into(),
            agent_id: "a1".into(),
            severities: vec![],
            country: String::new(),
            schedule: ScheduleDraft::Recurring {
                time_zone: time_zone.into(),
                start_local: start_local.into(),
                end_time: end_time.into(),
                rrule: rrule.into(),
                exdates: vec![],
            },
            source: None,
        }
    }

    fn fields(result: Result<Shift, Vec<FieldViolation>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|violation| violation.field).collect()
    }

    #[test]
    fn a_floating_local_time_without_a_zone_is_rejected() {
        assert_eq!(
            fields(Shift::new(recurring_draft("", "2026-01-05T09:00:00", "17:00", "FREQ=DAILY"))),
            ["recurring.time_zone"]
        );
    }

    #[test]
    fn each_bad_field_of_a_recurring_shift_is_named() {
        assert_eq!(
            fields(Shift::new(recurring_draft("Europe/Nowhere", "2026-01-05T09:00:00", "17:00", "FREQ=DAILY"))),
            ["recurring.time_zone"]
        );
        assert_eq!(
            fields(Shift::new(recurring_draft("Europe/Paris", "2026-01-05T09:00:00Z", "17:00", "FREQ=DAILY"))),
            ["recurring.start_local"]
        );
        assert_eq!(
            fields(Shift::new(recurring_draft("Europe/Paris", "0001-01-05T09:00:00", "17:00", "FREQ=DAILY"))),
            ["recurring.start_local"]
        );
        assert_eq!(
            fields(Shift::new(recurring_draft("Europe/Paris", "2026-01-05T09:00:00", "25:00", "FREQ=DAILY"))),
            ["recurring.end_time"]
        );
        assert_eq!(
            fields(Shift::new(recurring_draft("Europe/Paris", "2026-01-05T09:00:00", "17:00", "FREQ=SECONDLY"))),
            ["recurring.rrule"]
        );
    }

    #[test]
    fn a_one_off_shift_must_end_after_it_starts() {
        let at: Instant = "2026-01-05T09:00:00Z".parse().unwrap();
        let draft = ShiftDraft {
            shift_id: "s1".into(),
            agent_id: "a1".into(),
            severities: vec![1, 7],
            country: "XX".into(),
            schedule: ScheduleDraft::OneOff { starts_at: Some(at), ends_at: Some(at) },
            source: None,
        };
        assert_eq!(fields(Shift::new(draft)), ["severities[1]", "country", "one_off.ends_at"]);
    }

    #[test]
    fn debug_output_leaves_display_names_out() {
        let agent = Agent::new(AgentDraft {
            agent_id: "a1".into(),
            display_name: "Siobhán Ní Bhriain".into(),
            country: "IE".into(),
            time_zone: "Europe/Dublin".into(),
            severities: vec![],
            location_changes: vec![],
            source: None,
        })
        .unwrap();
        assert!(!format!("{agent:?}").contains("Siobhán"));
        assert!(format!("{agent:?}").contains("a1"));
    }

    #[test]
    fn an_agents_country_follows_its_relocations() {
        let agent = Agent::new(AgentDraft {
            agent_id: "a1".into(),
            display_name: "Ada".into(),
            country: "DE".into(),
            time_zone: "Europe/Berlin".into(),
            severities: vec![],
            location_changes: vec![(Some("2026-06-01T00:00:00Z".parse().unwrap()), "US".into())],
            source: None,
        })
        .unwrap();
        assert_eq!(agent.country_at("2026-05-31T23:59:59Z".parse().unwrap()).as_str(), "DE");
        assert_eq!(agent.country_at("2026-06-01T00:00:00Z".parse().unwrap()).as_str(), "US");
    }
}

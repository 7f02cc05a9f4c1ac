//! SLA clocks in service time. A target such as "first response within 4 hours" counts only the
//! plan's service hours, minus the pauses the ticket system reports; a second clock counts only
//! the service time in which someone eligible for the ticket is on shift, which separates
//! breaches the calendar explains from breaches missing staff explains.
//!
//! Both clocks are read the same way: lay out the instants that count, from the moment the clock
//! started, then walk them until the target is used up (the due instant) and sum them up to `at`
//! (the elapsed time). The edge cases, as the contract states them:
//! - a clock started outside service hours starts counting at the next opening;
//! - pauses are merged, and only their part before `at` counts: what has not happened yet is not
//!   assumed to go on;
//! - a target of zero is due at the first instant the clock counts;
//! - at `due_at` itself the target has run out: breached;
//! - the service clock is searched for 366 days from its start, and a due instant beyond is an
//!   error; the staffed clock's due instant is then unset, since missing staff is an answer;
//! - `at` may lie at most 366 days after the clock started.

use jiff::SignedDuration;

use std::collections::HashMap;

use super::decision::{
    consents_matter, precomputed_index, staffed_agent_by_agent, ticket_context, DecisionError, TicketContext,
    TicketQuestion,
};
use super::eligibility::EligibilityClass;
use super::interval::{intersect, merge, subtract, Interval, QUESTIONS_END_BEFORE_THE_END_OF_TIME};
use super::policy::Severity;
use super::policy::{PlanKind, ServiceHours};
use super::snapshot::Snapshot;
use super::time::Instant;

/// How far after its start a clock is searched for its due instant, and how long after its start
/// `at` may lie.
pub const MAX_DEADLINE_DAYS: i64 = 366;
const MAX_DEADLINE_SPAN: SignedDuration = SignedDuration::from_hours(MAX_DEADLINE_DAYS * 24);

/// One ticket's clocks, read at `ticket.at`.
#[derive(Clone, Debug)]
pub struct DeadlineQuestion<'a> {
    /// The ticket, and the instant the clocks are read at.
    pub ticket: TicketQuestion<'a>,
    pub clock_started_at: Instant,
    /// Service time allowed, not negative.
    pub target: SignedDuration,
    /// When the clock stood still; in any order, overlapping or not.
    pub pauses: &'a [Interval],
}

/// One clock read at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockReading {
    /// When the target is used up; `None` only for the staffed clock, when that is not within
    /// [`MAX_DEADLINE_DAYS`] of the start.
    pub due_at: Option<Instant>,
    /// Counted time from the start up to `at`; may exceed the target.
    pub elapsed: SignedDuration,
    /// The target minus `elapsed`, never below zero.
    pub remaining: SignedDuration,
    /// `due_at` is at or before `at`.
    pub breached: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub eea_tagged: bool,
    pub org_plan: PlanKind,
    /// The plan whose rules apply.
    pub plan: PlanKind,
    pub around_the_clock: bool,
    /// Service hours, minus pauses.
    pub service: ClockReading,
    /// Service hours with someone eligible on shift, minus pauses.
    pub staffed: ClockReading,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error(transparent)]
    Decision(#[from] DecisionError),
    #[error("the target is not used up within {MAX_DEADLINE_DAYS} days of service hours from the clock's start")]
    DueBeyondSearch,
    #[error("the clock started more than {MAX_DEADLINE_DAYS} days before the instant it is read at")]
    StartedTooLongBefore,
}

/// Staffed stretches beyond the precomputed timelines, found agent by agent once per eligibility
/// class and severity and shared by the clocks of one batch read from one snapshot. Tickets for
/// which a consent widens eligibility are not shared.
#[derive(Default)]
pub struct BeyondTimelines {
    /// From the end of the timelines up to the instant held, merged.
    known: HashMap<(EligibilityClass, Severity), (Instant, Vec<Interval>)>,
}

/// How far past what it holds a [`BeyondTimelines`] reaches each time it must grow.
const BEYOND_GROWTH: SignedDuration = SignedDuration::from_hours(7 * 24);

impl BeyondTimelines {
    /// The stretches within `range`, which lies beyond the timelines (starting at `from`,
    /// their end), growing what is held as needed.
    fn staffed_within(
        &mut self,
        snapshot: &Snapshot,
        context: &TicketContext,
        from: Instant,
        range: Interval,
    ) -> Vec<Interval> {
        let class = EligibilityClass::of(context.plan, context.eea_tagged);
        let (held_until, staffed) = self.known.entry((class, context.severity)).or_insert_with(|| (from, Vec::new()));
        if *held_until < range.end() {
            let grown_until = held_until.saturating_add(BEYOND_GROWTH).unwrap_or(range.end()).max(range.end());
            let grown = Interval::new(*held_until, grown_until).expect("it grows");
            staffed.extend(staffed_agent_by_agent(snapshot, context, grown));
            *held_until = grown_until;
        }
        let first = staffed.partition_point(|interval| interval.end() <= range.start());
        staffed[first..]
            .iter()
            .take_while(|interval| interval.start() < range.end())
            .filter_map(|interval| interval.intersection(&range))
            .collect()
    }
}

/// Where anyone eligible for the ticket is on shift within `range`: from the precomputed
/// timelines when they cover it; beyond them, from `beyond` or agent by agent.
fn staffed_within(
    snapshot: &Snapshot,
    context: &TicketContext,
    ticket: &TicketQuestion,
    range: Interval,
    beyond: &mut BeyondTimelines,
) -> Vec<Interval> {
    if let Some(index) = precomputed_index(snapshot, context, ticket, range) {
        return index.staffed_within(range);
    }
    match snapshot.timelines().horizon().map(|horizon| horizon.end()) {
        Some(end) if end <= range.start() && !consents_matter(snapshot, context, ticket) => {
            beyond.staffed_within(snapshot, context, end, range)
        }
        _ => staffed_agent_by_agent(snapshot, context, range),
    }
}

/// Both clocks of one ticket, on their own.
pub fn compute_deadline(snapshot: &Snapshot, question: &DeadlineQuestion) -> Result<Deadline, DeadlineError> {
    compute_deadline_in_batch(snapshot, question, &mut BeyondTimelines::default())
}

/// Both clocks of one ticket of a batch read from `snapshot`, sharing `beyond` with the others.
/// Inlined: called out of line from another crate, it ran about half again as slow (the
/// deadlines benchmark, 64 against 43 ms for 10,000 tickets).
#[inline]
pub fn compute_deadline_in_batch(
    snapshot: &Snapshot,
    question: &DeadlineQuestion,
    beyond: &mut BeyondTimelines,
) -> Result<Deadline, DeadlineError> {
    let ticket = &question.ticket;
    let context = ticket_context(snapshot, ticket)?;
    let hours = snapshot.policy.rules(context.plan).hours_for(context.severity);
    let (start, at) = (question.clock_started_at, ticket.at);
    let search = Interval::following(start, MAX_DEADLINE_SPAN).expect(QUESTIONS_END_BEFORE_THE_END_OF_TIME);
    if at > search.end() {
        return Err(DeadlineError::StartedTooLongBefore);
    }
    // Only what happened before `at` stops the clock.
    let pauses = match Interval::new(start, at) {
        Some(before_at) => merge(question.pauses.iter().filter_map(|pause| pause.intersection(&before_at)).collect()),
        None => Vec::new(),
    };
    // The clocks are walked a stretch at a time, each stretch twice the last up to a week, and
    // only as far as they need: to their due instant and to `at`.
    let (mut service, mut staffed) = (RunningClock::new(question.target), RunningClock::new(question.target));
    let mut stretch_length = FIRST_STRETCH;
    let mut cursor = start;
    // A stretch never straddles the end of the precomputed timelines: what lies before it is
    // read from them, and only what lies beyond is expanded agent by agent.
    let timelines_end = snapshot.timelines().horizon().map(|horizon| horizon.end());
    while cursor < search.end() && !(service.is_read(cursor, at) && staffed.is_read(cursor, at)) {
        let mut stretch_end = cursor.saturating_add(stretch_length).unwrap_or(search.end()).min(search.end());
        if let Some(timelines_end) = timelines_end.filter(|end| cursor < *end) {
            stretch_end = stretch_end.min(timelines_end);
        }
        let stretch = Interval::new(cursor, stretch_end).expect("the search goes on");
        let counted = subtract(&hours.windows_within(stretch), &pauses);
        if !staffed.is_read(cursor, at) {
            staffed.count(&intersect(&counted, &staffed_within(snapshot, &context, ticket, stretch, beyond)), at);
        }
        if !service.is_read(cursor, at) {
            service.count(&counted, at);
        }
        cursor = stretch_end;
        stretch_length = (stretch_length * 2).min(LONGEST_STRETCH);
    }
    let service = service.reading(at);
    if service.due_at.is_none() {
        return Err(DeadlineError::DueBeyondSearch);
    }
    Ok(Deadline {
        eea_tagged: context.eea_tagged,
        org_plan: context.org_plan,
        plan: context.plan,
        around_the_clock: matches!(hours, ServiceHours::AroundTheClock),
        service,
        staffed: staffed.reading(at),
    })
}

const FIRST_STRETCH: SignedDuration = SignedDuration::from_hours(24);
const LONGEST_STRETCH: SignedDuration = SignedDuration::from_hours(7 * 24);

/// A clock being walked forward: what it has counted so far, and where its target ran out.
struct RunningClock {
    target: SignedDuration,
    counted: SignedDuration,
    elapsed: SignedDuration,
    due_at: Option<Instant>,
}

impl RunningClock {
    fn new(target: SignedDuration) -> RunningClock {
        RunningClock { target, counted: SignedDuration::ZERO, elapsed: SignedDuration::ZERO, due_at: None }
    }

    /// Whether walking on from `cursor` can change the reading at `at` no more.
    fn is_read(&self, cursor: Instant, at: Instant) -> bool {
        self.due_at.is_some() && cursor >= at
    }

    /// Counts the next stretch's instants (sorted, disjoint, after everything counted so far).
    fn count(&mut self, counted: &[Interval], at: Instant) {
        for interval in counted {
            let length = interval.end().duration_since(interval.start());
            let left = self.target.saturating_sub(self.counted);
            if self.due_at.is_none() && left <= length {
                self.due_at = Some(interval.start().saturating_add(left).expect("within the interval"));
            }
            self.counted = self.counted.saturating_add(length);
            if interval.start() < at {
                self.elapsed = self.elapsed.saturating_add(interval.end().min(at).duration_since(interval.start()));
            }
        }
    }

    fn reading(&self, at: Instant) -> ClockReading {
        ClockReading {
            due_at: self.due_at,
            elapsed: self.elapsed,
            remaining: self.target.saturating_sub(self.elapsed).max(SignedDuration::ZERO),
            breached: self.due_at.is_some_and(|due| due <= at),
        }
    }
}

#[cfg(test)]
mod tests;

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

use super::decision::{staffed_within, ticket_context, DecisionError, TicketQuestion};
use super::interval::{intersect, merge, subtract, Interval, QUESTIONS_END_BEFORE_THE_END_OF_TIME};
use super::policy::{PlanKind, ServiceHours};
use super::snapshot::Snapshot;
use super::time::Instant;

/// How far after its start a clock is searched for its due instant, and how long after its start
/// `at` may lie.
pub const MAX_DEADLINE_DAYS: i64 = 366;
const MAX_DEADLINE_SPAN: SignedDuration = SignedDuration::from_hours(MAX_DEADLINE_DAYS * 24);
/// Business hours a day at most: 09:00-18:00.
const BUSINESS_HOURS_A_DAY: i64 = 9;

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

/// Both clocks of one ticket.
pub fn compute_deadline(snapshot: &Snapshot, question: &DeadlineQuestion) -> Result<Deadline, DeadlineError> {
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
    let counted_in = |range: Interval| {
        let service = subtract(&merge(hours.windows_within(range)), &pauses);
        let staffed = intersect(&service, &staffed_within(snapshot, &context, ticket, range));
        (service, staffed)
    };
    // Most clocks end well within a first stretch sized from the target; the rest of the
    // search is laid out only when they do not.
    let first_end =
        (start.saturating_add(likely_span(hours, question.target)).unwrap_or(search.end())).max(at).min(search.end());
    let first = Interval::new(start, first_end).expect("the target's span is positive");
    let (mut service, mut staffed) = counted_in(first);
    // Where the first stretch falls short, the stretch laid out doubles until both clocks are
    // used up or the search ends: a roster short of staff costs what it takes to find out.
    let needs_more = |counted: &[Interval]| due_within(counted, question.target).is_none();
    let mut laid_out = first;
    while laid_out.end() < search.end() && (needs_more(&service) || needs_more(&staffed)) {
        let doubled = laid_out.end().saturating_add(laid_out.end().duration_since(start)).unwrap_or(search.end());
        let next = Interval::new(laid_out.end(), doubled.min(search.end())).expect("the search goes on");
        let (more_service, more_staffed) = counted_in(next);
        service.extend(more_service);
        staffed.extend(more_staffed);
        laid_out = laid_out.hull(&next);
    }
    let service = read_clock(&service, question.target, at);
    if service.due_at.is_none() {
        return Err(DeadlineError::DueBeyondSearch);
    }
    Ok(Deadline {
        eea_tagged: context.eea_tagged,
        org_plan: context.org_plan,
        plan: context.plan,
        around_the_clock: matches!(hours, ServiceHours::AroundTheClock),
        service,
        staffed: read_clock(&staffed, question.target, at),
    })
}

/// A span from the start that holds `target` of service time unless staff are missing: the
/// target and a day around the clock; in business hours, its business days (of nine hours) at
/// five a week, plus a weekend and four closing days.
fn likely_span(hours: &ServiceHours, target: SignedDuration) -> SignedDuration {
    match hours {
        ServiceHours::AroundTheClock => target.saturating_add(SignedDuration::from_hours(24)),
        ServiceHours::Business(_) => {
            let business_days = target.as_secs() / (BUSINESS_HOURS_A_DAY * 3600) + 1;
            SignedDuration::from_hours((business_days * 7 / 5 + 7) * 24)
        }
    }
}

/// The instant at which `counted` (sorted, disjoint) has held `target`; `None` when it never does.
fn due_within(counted: &[Interval], target: SignedDuration) -> Option<Instant> {
    let mut left = target;
    for interval in counted {
        let length = interval.end().duration_since(interval.start());
        if left <= length {
            return Some(interval.start().saturating_add(left).expect("within the interval"));
        }
        left -= length;
    }
    None
}

fn read_clock(counted: &[Interval], target: SignedDuration, at: Instant) -> ClockReading {
    let due_at = due_within(counted, target);
    let elapsed = counted
        .iter()
        .take_while(|interval| interval.start() < at)
        .map(|interval| interval.end().min(at).duration_since(interval.start()))
        .fold(SignedDuration::ZERO, |sum, length| sum.saturating_add(length));
    ClockReading {
        due_at,
        elapsed,
        remaining: target.saturating_sub(elapsed).max(SignedDuration::ZERO),
        breached: due_at.is_some_and(|due| due <= at),
    }
}

#[cfg(test)]
mod tests;

//! Live windows (`WatchWindows`): what a subscription compares between two answers, the changes
//! it reports, and the next instant at which the answer can change while the roster stays as it
//! is, so that a watch sleeps until then instead of polling.

use jiff::SignedDuration;

use super::decision::{
    decide_ticket, precomputed_index, staffed_agent_by_agent, ticket_context, DecisionError, DecisionReason,
    TicketContext, TicketDecision, TicketQuestion, NEXT_STAFFED_HORIZON,
};
use super::eligibility;
use super::interval::{intersect, Interval, QUESTIONS_END_BEFORE_THE_END_OF_TIME};
use super::policy::{PlanKind, ServiceHours};
use super::snapshot::Snapshot;
use super::time::Instant;

/// How far ahead the staffing is searched for its next change. Past it (or past the precomputed
/// timelines) the watch looks again at its end, so a quiet roster costs one look in two weeks.
const STAFFING_LOOKAHEAD: SignedDuration = SignedDuration::from_hours(14 * 24);

/// A decision without its instant: two answers that differ only in when they were asked are
/// the same state. `next_staffed_at` is kept only while the ticket cannot be handled now (it is
/// the asking instant itself otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowState {
    pub eea_tagged: bool,
    pub org_plan: PlanKind,
    pub plan: PlanKind,
    pub in_service_hours: bool,
    pub staffed_now: bool,
    pub handle_now: bool,
    pub window_closes_at: Option<Instant>,
    pub window_opens_at: Option<Instant>,
    pub next_staffed_at: Option<Instant>,
    pub eligible_on_shift: u32,
    pub reason: DecisionReason,
}

impl WindowState {
    pub fn of(decision: &TicketDecision) -> WindowState {
        WindowState {
            eea_tagged: decision.eea_tagged,
            org_plan: decision.org_plan,
            plan: decision.plan,
            in_service_hours: decision.in_service_hours,
            staffed_now: decision.staffed_now,
            handle_now: decision.handle_now,
            window_closes_at: decision.window_closes_at,
            window_opens_at: decision.window_opens_at,
            next_staffed_at: if decision.handle_now { None } else { decision.next_staffed_at },
            eligible_on_shift: decision.eligible_on_shift,
            reason: decision.reason,
        }
    }
}

/// One way in which a subscription's answer changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WindowChange {
    WindowOpened,
    WindowClosed,
    /// The window's end or next opening moved without the window opening or closing (a change
    /// of plan does that).
    WindowMoved,
    StaffingStarted,
    StaffingStopped,
    /// More or fewer eligible agents on shift, someone on shift before and after.
    HeadcountChanged,
    /// `next_staffed_at` moved while the ticket could not be handled now, before or after.
    NextStaffedMoved,
    EeaTagChanged,
    PlanChanged,
    /// The org is gone (deleted); the subscription stays, and answers again if it comes back.
    OrgRemoved,
    OrgRestored,
}

/// What changed from `before` to `after`; empty when they are the same state. Every field of
/// the state is named by at least one change (`handle_now` and `reason` follow from the others).
pub fn changes_between(before: &WindowState, after: &WindowState) -> Vec<WindowChange> {
    let mut changes = Vec::new();
    if before.in_service_hours != after.in_service_hours {
        changes.push(if after.in_service_hours { WindowChange::WindowOpened } else { WindowChange::WindowClosed });
    } else if (before.window_closes_at, before.window_opens_at) != (after.window_closes_at, after.window_opens_at) {
        changes.push(WindowChange::WindowMoved);
    }
    if before.staffed_now != after.staffed_now {
        changes.push(if after.staffed_now { WindowChange::StaffingStarted } else { WindowChange::StaffingStopped });
    } else if before.eligible_on_shift != after.eligible_on_shift {
        changes.push(WindowChange::HeadcountChanged);
    }
    if !before.handle_now && !after.handle_now && before.next_staffed_at != after.next_staffed_at {
        changes.push(WindowChange::NextStaffedMoved);
    }
    if before.eea_tagged != after.eea_tagged {
        changes.push(WindowChange::EeaTagChanged);
    }
    if (before.org_plan, before.plan) != (after.org_plan, after.plan) {
        changes.push(WindowChange::PlanChanged);
    }
    changes
}

/// A decision, and the first instant after it at which the answer can differ if the roster
/// does not change.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowReading {
    pub decision: TicketDecision,
    pub recheck_at: Instant,
}

/// Decides the ticket at `question.at` and finds when to look again: the earliest of the
/// window's next boundary, the next change in how many eligible agents are on shift, the
/// instant a staffed stretch beyond the two-week search comes within it (when none is within
/// it now), the next change of a transfer basis, and the end of the staffing look-ahead.
pub fn read_window(snapshot: &Snapshot, question: &TicketQuestion) -> Result<WindowReading, DecisionError> {
    let decision = decide_ticket(snapshot, question)?;
    let context = ticket_context(snapshot, question)?;
    let at = question.at;
    let lookahead = Interval::following(at, STAFFING_LOOKAHEAD).expect(QUESTIONS_END_BEFORE_THE_END_OF_TIME);
    let mut recheck_at = next_staffing_change(snapshot, &context, question, lookahead).unwrap_or(lookahead.end());
    for boundary in [decision.window_closes_at, decision.window_opens_at].into_iter().flatten() {
        recheck_at = recheck_at.min(boundary);
    }
    if decision.reason == DecisionReason::NoEligibleStaffWithinHorizon {
        recheck_at = recheck_at.min(staffed_service_comes_within_search(snapshot, &context, question));
    }
    let facts = &snapshot.policy.facts;
    if let Some(basis_change) = facts.basis_change_instants().iter().find(|instant| **instant > at) {
        recheck_at = recheck_at.min(*basis_change);
    }
    Ok(WindowReading { decision, recheck_at })
}

/// Whether `read_window` answers from the precomputed timelines alone, in microseconds; if not
/// (a consent widens eligibility, or the timelines do not reach four weeks ahead), it expands
/// every agent's shifts, which at tens of thousands of agents takes milliseconds.
pub fn reads_from_timelines(snapshot: &Snapshot, question: &TicketQuestion) -> bool {
    let Ok(context) = ticket_context(snapshot, question) else { return true };
    let reach = SignedDuration::from_hours(2 * 14 * 24);
    Interval::following(question.at, reach)
        .is_some_and(|range| precomputed_index(snapshot, &context, question, range).is_some())
}

/// The first instant in `range` after `question.at` at which the number of distinct eligible
/// agents on shift differs from the number at `question.at`.
fn next_staffing_change(
    snapshot: &Snapshot,
    context: &TicketContext,
    question: &TicketQuestion,
    range: Interval,
) -> Option<Instant> {
    if let Some(index) = precomputed_index(snapshot, context, question, range) {
        return index.next_change_after(question.at, range.end());
    }
    // Agent by agent: each agent's eligible stretches, as +1 and -1 steps, swept in order.
    let mut steps: Vec<(Instant, i32)> = snapshot
        .agents()
        .flat_map(|roster| eligibility::eligible_on_shift(&context.eligibility, roster, context.severity, range))
        .flat_map(|stretch| [(stretch.start(), 1), (stretch.end(), -1)])
        .collect();
    steps.sort_unstable();
    let mut count: i64 = 0;
    let mut count_at_question: Option<i64> = None;
    let mut step_idx = 0;
    while step_idx < steps.len() {
        let instant = steps[step_idx].0;
        if instant > question.at && count_at_question.is_none() {
            count_at_question = Some(count);
        }
        while steps.get(step_idx).is_some_and(|(step_at, _)| *step_at == instant) {
            count += i64::from(steps[step_idx].1);
            step_idx += 1;
        }
        if instant > question.at && instant < range.end() && Some(count) != count_at_question {
            return Some(instant);
        }
    }
    None
}

/// When no eligible agent is on shift in service hours within the two-week search, the answer
/// changes the moment the first such instant after it comes within the search: found in the two
/// weeks after the search, or else looked for again once those two weeks begin.
fn staffed_service_comes_within_search(
    snapshot: &Snapshot,
    context: &TicketContext,
    question: &TicketQuestion,
) -> Instant {
    let search_end = question.at.saturating_add(NEXT_STAFFED_HORIZON).expect("saturates");
    let beyond = Interval::following(search_end, NEXT_STAFFED_HORIZON).expect(QUESTIONS_END_BEFORE_THE_END_OF_TIME);
    let staffed = match precomputed_index(snapshot, context, question, beyond) {
        Some(index) => index.staffed_within(beyond),
        None => staffed_agent_by_agent(snapshot, context, beyond),
    };
    let hours: &ServiceHours = snapshot.policy.rules(context.plan).hours_for(context.severity);
    match intersect(&hours.windows_within(beyond), &staffed).first() {
        // The search from `t` covers `[t, t + 14 days)`: it holds `first` from just after
        // `first - 14 days` on.
        Some(first) => {
            first.start().saturating_sub(NEXT_STAFFED_HORIZON).expect("saturates") + SignedDuration::from_micros(1)
        }
        None => search_end,
    }
}

#[cfg(test)]
mod tests;

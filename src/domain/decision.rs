//! The ticket systems' two questions: may this agent handle this ticket, and can this ticket be
//! handled now (and if not, when)? Pure functions of a [`Snapshot`] and an instant.

use jiff::SignedDuration;

use super::country::Country;
pub use super::eligibility::AccessReason;
use super::eligibility::{self, access_reason, location_at, EligibilityClass, EligibilityContext};
use super::ids::OrgId;
use super::interval::{intersect, merge, Interval, QUESTIONS_END_BEFORE_THE_END_OF_TIME};
use super::policy::{PlanKind, ServiceHours, Severity, TicketCategory};
use super::roster::Shift;
use super::snapshot::Snapshot;
use super::time::Instant;
use super::timeline::StaffingIndex;

/// How far ahead `next_staffed_at` is searched.
pub const NEXT_STAFFED_HORIZON: SignedDuration = SignedDuration::from_hours(14 * 24);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionReason {
    HandleNow,
    OutsideServiceHours,
    NoEligibleStaffOnShift,
    NoEligibleStaffWithinHorizon,
}

/// The question a ticket system asks about one ticket.
#[derive(Clone, Copy, Debug)]
pub struct TicketQuestion<'a> {
    pub org_id: &'a str,
    pub ticket_id: &'a str,
    pub severity: Severity,
    pub category: TicketCategory,
    pub at: Instant,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TicketDecision {
    pub eea_tagged: bool,
    pub org_plan: PlanKind,
    /// The plan whose rules apply (STANDARD for categories the org's plan excludes).
    pub plan: PlanKind,
    pub in_service_hours: bool,
    pub staffed_now: bool,
    pub handle_now: bool,
    pub window_closes_at: Option<Instant>,
    pub window_opens_at: Option<Instant>,
    pub next_staffed_at: Option<Instant>,
    pub eligible_on_shift: u32,
    pub reason: DecisionReason,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AccessDecision {
    pub allowed: bool,
    pub reason: AccessReason,
    pub agent_country: Country,
    pub eea_tagged: bool,
    pub plan: PlanKind,
    pub handles_severity: bool,
    pub on_shift: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("org {0:?} not found")]
    UnknownOrg(String),
    #[error("agent {0:?} not found")]
    UnknownAgent(String),
    #[error("org {org_id:?} names cloud region {region:?}, which the policy in force does not know")]
    UnknownRegion { org_id: OrgId, region: String },
}

/// What the rules need to know about one ticket.
#[derive(Clone, Copy, Debug)]
pub(super) struct TicketContext<'a> {
    pub(super) eligibility: EligibilityContext<'a>,
    pub(super) severity: Severity,
    pub(super) org_plan: PlanKind,
    pub(super) plan: PlanKind,
    pub(super) eea_tagged: bool,
}

pub(super) fn ticket_context<'a>(
    snapshot: &'a Snapshot,
    question: &TicketQuestion<'a>,
) -> Result<TicketContext<'a>, DecisionError> {
    let org = snapshot.org(question.org_id).ok_or_else(|| DecisionError::UnknownOrg(question.org_id.to_owned()))?;
    let facts = &snapshot.policy.facts;
    let region = facts
        .region(&org.cloud_region)
        .ok_or_else(|| DecisionError::UnknownRegion { org_id: org.org_id.clone(), region: org.cloud_region.clone() })?;
    let plan = snapshot.policy.effective_plan(org.plan, question.category);
    let eea_tagged = facts.region_is_eea(region, question.at);
    Ok(TicketContext {
        eligibility: EligibilityContext {
            roster: snapshot.roster(),
            facts,
            plan,
            eea_tagged,
            ticket: Some((question.org_id, question.ticket_id)),
        },
        severity: question.severity,
        org_plan: org.plan,
        plan,
        eea_tagged,
    })
}

/// Whether a consent on file widens who is eligible for this ticket: only on EEA-tagged
/// STANDARD tickets with a consent for them.
pub(super) fn consents_matter(snapshot: &Snapshot, context: &TicketContext, question: &TicketQuestion) -> bool {
    EligibilityClass::of(context.plan, context.eea_tagged) == EligibilityClass::StandardEeaTagged
        && snapshot.roster().has_consents_for(question.org_id, question.ticket_id)
}

/// The snapshot's precomputed step function for the ticket, when it covers `range` and no
/// consent widens eligibility for this ticket.
pub(super) fn precomputed_index<'a>(
    snapshot: &'a Snapshot,
    context: &TicketContext,
    question: &TicketQuestion,
    range: Interval,
) -> Option<&'a StaffingIndex> {
    let timelines = snapshot.timelines();
    (timelines.covers(range) && !consents_matter(snapshot, context, question))
        .then(|| timelines.index(EligibilityClass::of(context.plan, context.eea_tagged), context.severity))
}

/// How many distinct eligible agents are on shift at `question.at`, and where anyone is, within
/// `horizon` (worked out only when asked for). From the snapshot's precomputed timelines when
/// they cover the question (and no consent widens eligibility for this ticket); otherwise
/// computed agent by agent.
fn staffing<'a>(
    snapshot: &'a Snapshot,
    context: &TicketContext,
    question: &TicketQuestion,
    horizon: Interval,
) -> (u32, Staffed<'a>) {
    if let Some(index) = precomputed_index(snapshot, context, question, horizon) {
        return (index.count_at(question.at), Staffed::Indexed { index, horizon });
    }
    let mut eligible_on_shift: u32 = 0;
    let mut staffed = Vec::new();
    for roster in snapshot.agents() {
        let intervals = eligibility::eligible_on_shift(&context.eligibility, roster, context.severity, horizon);
        if intervals.first().is_some_and(|first| first.contains(question.at)) {
            eligible_on_shift += 1;
        }
        staffed.extend(intervals);
    }
    (eligible_on_shift, Staffed::Merged(merge(staffed)))
}

/// Where anyone eligible for the ticket is on shift within `range`, merged, found agent by
/// agent: the cost of a report over `range` for one requirement.
pub(super) fn staffed_agent_by_agent(snapshot: &Snapshot, context: &TicketContext, range: Interval) -> Vec<Interval> {
    merge(
        snapshot
            .agents()
            .flat_map(|roster| eligibility::eligible_on_shift(&context.eligibility, roster, context.severity, range))
            .collect(),
    )
}

/// Where anyone eligible is on shift within the horizon: read from the precomputed index, or
/// already merged from the agents one by one.
enum Staffed<'a> {
    Indexed { index: &'a StaffingIndex, horizon: Interval },
    Merged(Vec<Interval>),
}

impl Staffed<'_> {
    fn intervals(self) -> Vec<Interval> {
        match self {
            Staffed::Indexed { index, horizon } => index.staffed_within(horizon),
            Staffed::Merged(intervals) => intervals,
        }
    }
}

/// Can the ticket be handled now, and if not, when?
pub fn decide_ticket(snapshot: &Snapshot, question: &TicketQuestion) -> Result<TicketDecision, DecisionError> {
    let context = ticket_context(snapshot, question)?;
    let at = question.at;
    let hours = snapshot.policy.rules(context.plan).hours_for(context.severity);
    let (in_service_hours, window_closes_at, window_opens_at) = match hours {
        ServiceHours::AroundTheClock => (true, None, None),
        ServiceHours::Business(window) => match window.window_containing(at) {
            Some(current) => (true, Some(current.end()), None),
            None => (false, None, window.next_opening(at).map(|next| next.start())),
        },
    };

    let horizon = Interval::following(at, NEXT_STAFFED_HORIZON).expect(QUESTIONS_END_BEFORE_THE_END_OF_TIME);
    let (eligible_on_shift, staffed) = staffing(snapshot, &context, question, horizon);
    let staffed_now = eligible_on_shift > 0;
    let handle_now = in_service_hours && staffed_now;
    // In service hours with someone eligible on shift, the earliest staffed service instant at
    // or after `at` is `at` itself; the search below would find it too, at the cost of laying
    // out two weeks of service hours.
    let next_staffed_at = if handle_now {
        Some(at)
    } else {
        intersect(&hours.windows_within(horizon), &staffed.intervals()).first().map(|first| first.start())
    };
    let reason = if handle_now {
        DecisionReason::HandleNow
    } else if next_staffed_at.is_none() {
        DecisionReason::NoEligibleStaffWithinHorizon
    } else if !in_service_hours {
        DecisionReason::OutsideServiceHours
    } else {
        DecisionReason::NoEligibleStaffOnShift
    };
    let detail = describe_decision(&context, reason, in_service_hours, eligible_on_shift);
    Ok(TicketDecision {
        eea_tagged: context.eea_tagged,
        org_plan: context.org_plan,
        plan: context.plan,
        in_service_hours,
        staffed_now,
        handle_now,
        window_closes_at,
        window_opens_at,
        next_staffed_at,
        eligible_on_shift,
        reason,
        detail,
    })
}

fn plan_name(plan: PlanKind) -> &'static str {
    match plan {
        PlanKind::Standard => "STANDARD",
        PlanKind::EeaOnly => "EEA_ONLY",
    }
}

fn describe_decision(
    context: &TicketContext,
    reason: DecisionReason,
    in_service_hours: bool,
    eligible_on_shift: u32,
) -> String {
    let plan = plan_name(context.plan);
    let severity = context.severity.number();
    match reason {
        DecisionReason::HandleNow => {
            format!("{plan} Sev{severity}: in service hours with {eligible_on_shift} eligible agent(s) on shift")
        }
        DecisionReason::OutsideServiceHours => {
            format!("{plan} Sev{severity}: outside service hours; waits for the window to open")
        }
        DecisionReason::NoEligibleStaffOnShift => {
            format!("{plan} Sev{severity}: in service hours but no eligible agent is on shift")
        }
        DecisionReason::NoEligibleStaffWithinHorizon => {
            let when = if in_service_hours { "in service hours" } else { "outside service hours" };
            format!("{plan} Sev{severity}: {when}, and no eligible agent is on shift in service hours within the next 14 days")
        }
    }
}

/// May this agent handle this ticket at `question.at`?
pub fn check_agent_access(
    snapshot: &Snapshot,
    question: &TicketQuestion,
    agent_id: &str,
) -> Result<AccessDecision, DecisionError> {
    let context = ticket_context(snapshot, question)?;
    let (agent_idx, roster) =
        snapshot.agent_at(agent_id).ok_or_else(|| DecisionError::UnknownAgent(agent_id.to_owned()))?;
    let at = question.at;
    let on_time_off = roster.time_off_merged.iter().any(|period| period.contains(at));
    let on_duty_in = |shift: &Shift| {
        let instant_range =
            Interval::following(at, SignedDuration::from_secs(1)).expect(QUESTIONS_END_BEFORE_THE_END_OF_TIME);
        shift
            .occurrences_within(instant_range)
            .is_ok_and(|occurrences| occurrences.iter().any(|occurrence| occurrence.contains(at)))
    };
    let agent_country = location_at(roster, at);
    let handles_severity = roster.agent.severities.allows(context.severity);
    let covers_severity = |shift: &Shift| shift.severities.allows(context.severity);
    // The precomputed pieces answer inside the horizon; only outside it are shifts expanded,
    // and only those whose answer matters.
    let on_duty = || {
        let from_pieces = snapshot.timelines().on_duty_at((agent_idx, agent_id), at, |piece| {
            roster.shifts.get(piece.shift_idx).is_some_and(covers_severity)
        });
        from_pieces.unwrap_or_else(|| roster.shifts.iter().any(|shift| covers_severity(shift) && on_duty_in(shift)))
    };
    let on_shift = handles_severity && !on_time_off && on_duty();
    let reason = access_reason(&context.eligibility, agent_id, agent_country, at);
    Ok(AccessDecision {
        allowed: reason.allows(),
        reason,
        agent_country,
        eea_tagged: context.eea_tagged,
        plan: context.plan,
        handles_severity,
        on_shift,
    })
}

#[cfg(test)]
mod tests;

//! The ticket systems' two questions: may this agent handle this ticket, and can this ticket be
//! handled now (and if not, when)? Pure functions of a [`Snapshot`] and an instant.

use jiff::SignedDuration;

use super::country::Country;
use super::interval::{intersect, merge, subtract, Interval};
use super::policy::{PlanKind, ServiceHours, Severity, TicketCategory, TransferBasis};
use super::roster::Shift;
use super::snapshot::{AgentRoster, Snapshot};
use super::time::Instant;

/// How far ahead `next_staffed_at` is searched.
pub const NEXT_STAFFED_HORIZON: SignedDuration = SignedDuration::from_hours(14 * 24);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionReason {
    HandleNow,
    OutsideServiceHours,
    NoEligibleStaffOnShift,
    NoEligibleStaffWithinHorizon,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessReason {
    NotEeaTagged,
    EeaStaff,
    Adequacy,
    Contractual,
    ConsentOnFile,
    OutsideEeaOnEeaOnly,
    UsWithoutConsent,
    CountryNotPermitted,
}

impl AccessReason {
    pub fn allows(self) -> bool {
        matches!(
            self,
            AccessReason::NotEeaTagged
                | AccessReason::EeaStaff
                | AccessReason::Adequacy
                | AccessReason::Contractual
                | AccessReason::ConsentOnFile
        )
    }
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
    UnknownRegion { org_id: String, region: String },
}

/// What the rules need to know about one ticket.
#[derive(Clone, Copy, Debug)]
struct TicketContext<'a> {
    org_id: &'a str,
    ticket_id: &'a str,
    severity: Severity,
    org_plan: PlanKind,
    plan: PlanKind,
    eea_tagged: bool,
}

fn ticket_context<'a>(
    snapshot: &'a Snapshot,
    question: &TicketQuestion<'a>,
) -> Result<TicketContext<'a>, DecisionError> {
    let org = snapshot.org(question.org_id).ok_or_else(|| DecisionError::UnknownOrg(question.org_id.to_owned()))?;
    let facts = &snapshot.policy.facts;
    let region = facts
        .region(&org.cloud_region)
        .ok_or_else(|| DecisionError::UnknownRegion { org_id: org.org_id.clone(), region: org.cloud_region.clone() })?;
    Ok(TicketContext {
        org_id: question.org_id,
        ticket_id: question.ticket_id,
        severity: question.severity,
        org_plan: org.plan,
        plan: snapshot.policy.effective_plan(org.plan, question.category),
        eea_tagged: facts.region_is_eea(region, question.at),
    })
}

/// May staff working from `country` handle the ticket at `at`?
fn access_reason(
    snapshot: &Snapshot,
    context: &TicketContext,
    agent_id: &str,
    country: Country,
    at: Instant,
) -> AccessReason {
    let facts = &snapshot.policy.facts;
    if context.plan == PlanKind::EeaOnly {
        return if facts.is_eea_at(country, at) { AccessReason::EeaStaff } else { AccessReason::OutsideEeaOnEeaOnly };
    }
    if !context.eea_tagged {
        return AccessReason::NotEeaTagged;
    }
    match facts.basis_at(country, at).map(|basis| basis.basis) {
        Some(TransferBasis::Eea) => AccessReason::EeaStaff,
        Some(TransferBasis::AdequacyFull | TransferBasis::AdequacyPartial) => AccessReason::Adequacy,
        Some(TransferBasis::Contractual) => AccessReason::Contractual,
        Some(TransferBasis::ConsentOnly) => {
            let consented = snapshot
                .consent(context.org_id, context.ticket_id, agent_id)
                .is_some_and(|consent| consent.holds_at(at));
            if consented {
                AccessReason::ConsentOnFile
            } else {
                AccessReason::UsWithoutConsent
            }
        }
        None => AccessReason::CountryNotPermitted,
    }
}

/// Instants inside `interval` where the agent's eligibility may change: relocations (unless the
/// shift carries its own country), the ticket's consent expiry, and policy basis boundaries.
fn eligibility_breakpoints(
    snapshot: &Snapshot,
    context: &TicketContext,
    roster: &AgentRoster,
    shift_has_country: bool,
    interval: Interval,
) -> Vec<Instant> {
    let relocations =
        roster.agent.location_changes.iter().filter(|_| !shift_has_country).map(|change| change.effective_at);
    let consent_expiry =
        snapshot.consent(context.org_id, context.ticket_id, &roster.agent.agent_id).map(|consent| consent.expires_at);
    let mut breakpoints: Vec<Instant> = relocations
        .chain(consent_expiry)
        .chain(snapshot.policy.facts.basis_change_instants().iter().copied())
        .filter(|instant| interval.start < *instant && *instant < interval.end)
        .collect();
    breakpoints.sort_unstable();
    breakpoints.dedup();
    breakpoints
}

/// The parts of `range` in which the agent is on shift for the ticket's severity, not on time
/// off, and allowed to handle the ticket. Sorted and merged.
fn eligible_on_shift_within(
    snapshot: &Snapshot,
    context: &TicketContext,
    roster: &AgentRoster,
    range: Interval,
) -> Vec<Interval> {
    if !roster.agent.severities.allows(context.severity) {
        return Vec::new();
    }
    let mut eligible = Vec::new();
    for shift in roster.shifts.iter().filter(|shift| shift.severities.allows(context.severity)) {
        // A shift whose expansion exceeds its budget contributes nothing rather than a guess.
        let occurrences = shift.occurrences_within(range).unwrap_or_default();
        for occurrence in occurrences {
            let breakpoints = eligibility_breakpoints(snapshot, context, roster, shift.country.is_some(), occurrence);
            let bounds = std::iter::once(occurrence.start).chain(breakpoints).chain(std::iter::once(occurrence.end));
            let pieces: Vec<Instant> = bounds.collect();
            for piece in pieces.windows(2).filter_map(|pair| Interval::new(pair[0], pair[1])) {
                let country = shift.country.unwrap_or_else(|| roster.agent.country_at(piece.start));
                if access_reason(snapshot, context, &roster.agent.agent_id, country, piece.start).allows() {
                    eligible.push(piece);
                }
            }
        }
    }
    subtract(&merge(eligible), &roster.time_off_merged)
}

/// The service-hours intervals of the ticket's plan and severity within `range`.
fn service_hours_within(hours: &ServiceHours, range: Interval) -> Vec<Interval> {
    match hours {
        ServiceHours::AroundTheClock => vec![range],
        ServiceHours::Business(window) => window.windows_within(range),
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
            Some(current) => (true, Some(current.end), None),
            None => (false, None, window.next_opening(at).map(|next| next.start)),
        },
    };

    let horizon = Interval {
        start: at,
        end: at.saturating_add(NEXT_STAFFED_HORIZON).expect("adding a fixed duration saturates"),
    };
    let mut eligible_on_shift: u32 = 0;
    let mut staffed = Vec::new();
    for roster in snapshot.agents() {
        let intervals = eligible_on_shift_within(snapshot, &context, roster, horizon);
        if intervals.first().is_some_and(|first| first.contains(at)) {
            eligible_on_shift += 1;
        }
        staffed.extend(intervals);
    }
    let staffed = merge(staffed);
    let next_staffed_at = intersect(&service_hours_within(hours, horizon), &staffed).first().map(|first| first.start);

    let staffed_now = eligible_on_shift > 0;
    let handle_now = in_service_hours && staffed_now;
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
    let roster = snapshot.agent(agent_id).ok_or_else(|| DecisionError::UnknownAgent(agent_id.to_owned()))?;
    let at = question.at;
    let instant_range =
        Interval { start: at, end: at.saturating_add(SignedDuration::from_secs(1)).expect("saturates") };
    let on_time_off = roster.time_off_merged.iter().any(|period| period.contains(at));
    let shifts_now: Vec<&Shift> = roster
        .shifts
        .iter()
        .filter(|shift| shift.occurrences_within(instant_range).is_ok_and(|occurrences| !occurrences.is_empty()))
        .collect();
    // Any shift running now that carries its own country says where the agent works from.
    let agent_country =
        shifts_now.iter().find_map(|shift| shift.country).unwrap_or_else(|| roster.agent.country_at(at));
    let handles_severity = roster.agent.severities.allows(context.severity);
    let on_shift =
        handles_severity && !on_time_off && shifts_now.iter().any(|shift| shift.severities.allows(context.severity));
    let reason = access_reason(snapshot, &context, agent_id, agent_country, at);
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

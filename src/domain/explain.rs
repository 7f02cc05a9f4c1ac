//! Evidence for one ticket (`ExplainTicket`): the ticket's own history (created, then changes of
//! severity or category) walked through a stretch of time in which one snapshot was in force,
//! listing the ticket's changes and every moment in between at which the answer changed: the
//! decision, the eligible headcount, or the consents in force for the ticket.

use super::decision::{DecisionError, TicketDecision, TicketQuestion};
use super::policy::{Severity, TicketCategory};
use super::roster::Consent;
use super::snapshot::Snapshot;
use super::time::Instant;
use super::watch::{changes_between, read_window, WindowChange, WindowState};

/// A ticket as its ticket system tells it (tickets are not stored here): where it was created,
/// when, as what, and each later change of its severity or category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketHistory {
    pub org_id: String,
    /// May be empty: then no consent counts.
    pub ticket_id: String,
    pub created_at: Instant,
    pub severity: Severity,
    pub category: TicketCategory,
    /// In strictly increasing order of `at`, each after `created_at`.
    pub changes: Vec<TicketChange>,
}

/// A change of the ticket's severity, category or both at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketChange {
    pub at: Instant,
    pub severity: Option<Severity>,
    pub category: Option<TicketCategory>,
}

impl TicketHistory {
    /// The ticket's severity and category at `at` (its first ones before `created_at`).
    pub fn state_at(&self, at: Instant) -> (Severity, TicketCategory) {
        let mut state = (self.severity, self.category);
        for change in self.changes.iter().take_while(|change| change.at <= at) {
            state.0 = change.severity.unwrap_or(state.0);
            state.1 = change.category.unwrap_or(state.1);
        }
        state
    }

    /// The first change of the ticket after `at`.
    pub fn next_change_after(&self, at: Instant) -> Option<Instant> {
        self.changes.iter().map(|change| change.at).find(|change_at| *change_at > at)
    }

    /// What the ticket's history says happened at `at`: nothing, its creation, or a change.
    pub fn causes_at(&self, at: Instant) -> Vec<MomentCause> {
        let mut causes = Vec::new();
        if at == self.created_at {
            causes.push(MomentCause::Created);
        }
        if let Some(change) = self.changes.iter().find(|change| change.at == at) {
            if change.severity.is_some() {
                causes.push(MomentCause::SeverityChanged);
            }
            if change.category.is_some() {
                causes.push(MomentCause::CategoryChanged);
            }
        }
        causes
    }
}

/// Why a moment is listed (several may hold at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MomentCause {
    Created,
    SeverityChanged,
    CategoryChanged,
    /// The first moment of a page that continues an earlier one.
    Continued,
    /// Time reached a window boundary, a shift's start or end, time off, a relocation.
    TimePassed,
    /// A consent for the ticket expired.
    ConsentExpired,
    /// A write committed at this moment changed the answer.
    RosterChanged,
    /// A policy taking effect at this moment changed the answer.
    PolicyChanged,
}

impl MomentCause {
    /// Causes that list their moment whether or not the answer changed there.
    fn always_listed(self) -> bool {
        matches!(
            self,
            MomentCause::Created | MomentCause::SeverityChanged | MomentCause::CategoryChanged | MomentCause::Continued
        )
    }
}

/// The answer at one listed moment, as known then.
#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    pub at: Instant,
    pub causes: Vec<MomentCause>,
    /// How the answer differs from the previous moment's; empty for the first.
    pub changes: Vec<WindowChange>,
    pub consents_changed: bool,
    pub severity: Severity,
    pub category: TicketCategory,
    /// `None` while the org was not known.
    pub decision: Option<TicketDecision>,
    /// The consents for the ticket in force at `at`, in agent order.
    pub consents: Vec<Consent>,
}

/// The previous answer, carried from one stretch to the next so that only changes are listed.
#[derive(Clone, Debug, Default)]
pub struct LastAnswer {
    /// `None` before the first moment; `Some(None)` while the org was not known.
    state: Option<Option<WindowState>>,
    consents: Vec<Consent>,
}

/// Where a walk through one stretch stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StretchEnd {
    /// The stretch's end was reached.
    Reached,
    /// `max_moments` were listed; the walk goes on from this instant.
    Full(Instant),
}

/// Walks the ticket from `from` to `until` (exclusive) under `snapshot`, listing into `moments`
/// each moment of the ticket's history and each at which the answer changed, until `moments`
/// holds `max_moments`. `entry_causes` say why `from` is looked at (besides the ticket's own
/// history): a commit, a policy version, or a page's start.
pub fn explain_stretch(
    snapshot: &Snapshot,
    ticket: &TicketHistory,
    (from, until): (Instant, Instant),
    entry_causes: &[MomentCause],
    last: &mut LastAnswer,
    moments: &mut Vec<Moment>,
    max_moments: usize,
) -> Result<StretchEnd, DecisionError> {
    let mut at = from;
    let mut causes: Vec<MomentCause> = entry_causes.to_vec();
    loop {
        causes.extend(ticket.causes_at(at));
        causes.sort_unstable();
        causes.dedup();
        let (severity, category) = ticket.state_at(at);
        let question = TicketQuestion { org_id: &ticket.org_id, ticket_id: &ticket.ticket_id, severity, category, at };
        let reading = match read_window(snapshot, &question) {
            Ok(reading) => Some(reading),
            Err(DecisionError::UnknownOrg(_)) => None,
            Err(other) => return Err(other),
        };
        let consents = consents_in_force(snapshot, ticket, at);
        let state = reading.as_ref().map(|reading| WindowState::of(&reading.decision));
        let changes = match (&last.state, &state) {
            (None, _) | (Some(None), None) => Vec::new(),
            (Some(Some(before)), Some(after)) => changes_between(before, after),
            (Some(Some(_)), None) => vec![WindowChange::OrgRemoved],
            (Some(None), Some(_)) => vec![WindowChange::OrgRestored],
        };
        let consents_changed = last.state.is_some() && last.consents != consents;
        let listed = last.state.is_none()
            || causes.iter().any(|cause| cause.always_listed())
            || !changes.is_empty()
            || consents_changed;
        if listed {
            if moments.len() >= max_moments {
                return Ok(StretchEnd::Full(at));
            }
            // A commit, a policy, a consent's expiry or the clock is a cause only where the
            // answer changed; the moment may be listed for the ticket's own sake.
            if last.state.is_some() && changes.is_empty() && !consents_changed {
                causes.retain(|cause| cause.always_listed());
            }
            moments.push(Moment {
                at,
                causes: std::mem::take(&mut causes),
                changes,
                consents_changed,
                severity,
                category,
                decision: reading.as_ref().map(|reading| reading.decision.clone()),
                consents: consents.clone(),
            });
        }
        last.state = Some(state);
        last.consents = consents;
        // The next instant anything the answer depends on can change within the stretch.
        let next_expiry = last.consents.iter().map(|consent| consent.expires_at).filter(|expiry| *expiry > at).min();
        let next_ticket_change = ticket.next_change_after(at);
        let recheck = reading.map(|reading| reading.recheck_at);
        let next = [Some(until), next_expiry, next_ticket_change, recheck].into_iter().flatten().min();
        let next = next.expect("the stretch's end is always a candidate");
        if next >= until {
            return Ok(StretchEnd::Reached);
        }
        causes.clear();
        if next_expiry == Some(next) {
            causes.push(MomentCause::ConsentExpired);
        }
        if recheck == Some(next) {
            causes.push(MomentCause::TimePassed);
        }
        at = next;
    }
}

/// The consents for the ticket that hold at `at`, in agent order.
fn consents_in_force(snapshot: &Snapshot, ticket: &TicketHistory, at: Instant) -> Vec<Consent> {
    if ticket.ticket_id.is_empty() {
        return Vec::new();
    }
    snapshot
        .consents_of(&ticket.org_id)
        .filter(|consent| consent.ticket_id.as_str() == ticket.ticket_id && consent.expires_at > at)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;

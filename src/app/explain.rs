//! Evidence for one ticket (`ExplainTicket`): the ticket's history walked through time, each
//! moment answered as known at that moment. The walk goes from one stored state to the next (a
//! commit, a policy version taking effect) and, within each, from one change of the answer to
//! the next (see `domain::explain`).

use std::sync::Arc;

use jiff::SignedDuration;

use super::error::{decision_error, storage_error, RequestField};
use super::{machine_parallelism, App, AppError, KnownAt};
use crate::domain::explain::{explain_stretch, LastAnswer, Moment, MomentCause, StretchEnd, TicketHistory};
use crate::domain::time::Instant;
use crate::storage;

/// The most moments one answer lists; a longer explanation goes on in another call, from the
/// answer's `next_from`.
pub const MAX_EXPLAINED_MOMENTS: usize = 500;
/// The most stored states (roster or policy versions) one answer walks through, each a past
/// snapshot read from the history; past it, the explanation goes on in another call.
pub const MAX_EXPLAINED_STATES: usize = 48;
/// How much time one set of precomputed timelines carries the walk: they reach 42 days ahead of
/// where they are built, and a look reads up to 28 days ahead of its instant.
const TIMELINES_CARRY: SignedDuration = SignedDuration::from_hours(14 * 24);

/// A listed moment and the stored state it was answered from.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplainedMoment {
    pub moment: Moment,
    /// The stored state the moment was answered from, as known at the moment itself.
    pub known: KnownAt,
}

/// The moments of the ticket's history from `from` (or its creation) to `until`, or to
/// `next_from` when the answer had to stop early.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub moments: Vec<ExplainedMoment>,
    pub until: Instant,
    pub next_from: Option<Instant>,
}

impl App {
    /// Walks `ticket` from `from` (its creation when `None`) to `until` (exclusive), which the
    /// caller has checked to lie after the creation and not after now. A moment before the
    /// history began is refused (FAILED_PRECONDITION naming `created_at`, or `from`).
    pub async fn explain_ticket(
        &self,
        ticket: TicketHistory,
        from: Option<Instant>,
        until: Instant,
    ) -> Result<Explanation, AppError> {
        let mut at = from.unwrap_or(ticket.created_at);
        let mut entry_causes = if at == ticket.created_at { Vec::new() } else { vec![MomentCause::Continued] };
        let ticket = Arc::new(ticket);
        let mut last = LastAnswer::default();
        // A page that resumes after the ticket's creation compares its first moment with the
        // answer just before it, as known then, so that its changes and causes are those the
        // walk that stopped there would have listed.
        if at > ticket.created_at {
            let just_before = at.checked_sub(SignedDuration::from_nanos(1)).unwrap_or(at);
            if let Some((changed_at, causes)) = self.next_known_change(just_before).await? {
                if changed_at == at {
                    entry_causes.extend(causes);
                }
            }
            let (snapshot, _) = self.snapshot_known_at_named(just_before, "from").await?;
            let ticket = ticket.clone();
            last = tokio::task::spawn_blocking(move || {
                let mut last = LastAnswer::default();
                explain_stretch(&snapshot, &ticket, (just_before, at), &[], &mut last, &mut Vec::new(), 1).map(|_| last)
            })
            .await
            .map_err(walk_failed)?
            .map_err(decision_error)?;
        }
        let mut moments: Vec<ExplainedMoment> = Vec::new();
        let mut n_states = 0;
        loop {
            // Only the first moment can lie before the history; later ones come after it.
            let field = if from.is_some() { "from" } else { "created_at" };
            let (snapshot, known) = self.snapshot_known_at_named(at, field).await?;
            n_states += 1;
            let next_state = self.next_known_change(at).await?;
            let stretch_end = next_state.as_ref().map_or(until, |(next_at, _)| (*next_at).min(until));
            // The stretch in pieces, each with timelines of its own, so that every look reads
            // them instead of expanding every agent's shifts.
            let mut piece_start = at;
            while piece_start < stretch_end {
                let piece_end = piece_start.saturating_add(TIMELINES_CARRY).unwrap_or(stretch_end).min(stretch_end);
                let (snapshot, ticket, causes) = (snapshot.clone(), ticket.clone(), std::mem::take(&mut entry_causes));
                let n_listed = moments.len();
                let (found, walked_last, end) = tokio::task::spawn_blocking({
                    let mut walked_last = std::mem::take(&mut last);
                    move || {
                        let timed = (*snapshot).clone().with_timelines(piece_start, machine_parallelism());
                        let mut found = Vec::new();
                        let end = explain_stretch(
                            &timed,
                            &ticket,
                            (piece_start, piece_end),
                            &causes,
                            &mut walked_last,
                            &mut found,
                            MAX_EXPLAINED_MOMENTS - n_listed,
                        );
                        (found, walked_last, end)
                    }
                })
                .await
                .map_err(walk_failed)?;
                last = walked_last;
                let end = end.map_err(decision_error)?;
                moments.extend(found.into_iter().map(|moment| ExplainedMoment {
                    known: KnownAt { as_known_at: moment.at, ..known.clone() },
                    moment,
                }));
                if let StretchEnd::Full(resume) = end {
                    return Ok(Explanation { moments, until, next_from: Some(resume) });
                }
                piece_start = piece_end;
            }
            let Some((next_at, causes)) = next_state.filter(|(next_at, _)| *next_at < until) else {
                return Ok(Explanation { moments, until, next_from: None });
            };
            if n_states >= MAX_EXPLAINED_STATES {
                return Ok(Explanation { moments, until, next_from: Some(next_at) });
            }
            at = next_at;
            entry_causes = causes;
        }
    }

    /// The first moment after `at` at which what is known changes: a roster commit or a policy
    /// version taking effect, with which (both when they coincide).
    async fn next_known_change(&self, at: Instant) -> Result<Option<(Instant, Vec<MomentCause>)>, AppError> {
        let (commit, policy) = self
            .store
            .read_consistent(move |connection| {
                Ok((storage::next_commit_after(connection, at)?, storage::next_policy_after(connection, at)?))
            })
            .await
            .map_err(|error| storage_error(error, RequestField::Unnamed))?;
        let Some(next_at) = [commit, policy].into_iter().flatten().min() else { return Ok(None) };
        let mut causes = Vec::new();
        if commit == Some(next_at) {
            causes.push(MomentCause::RosterChanged);
        }
        if policy == Some(next_at) {
            causes.push(MomentCause::PolicyChanged);
        }
        Ok(Some((next_at, causes)))
    }
}

/// A blocking walk that did not come back (it panicked or the runtime is stopping).
fn walk_failed(error: tokio::task::JoinError) -> AppError {
    AppError::internal(format!("explaining a ticket failed: {error}"))
}

//! Reads: answered from the snapshot in force, except the audit trail, read from the database.
//! The read rules (which entries a filter keeps, in what order, where a page ends) are here, so
//! they hold for every front end and are tested without one.

use std::sync::Arc;

use jiff::SignedDuration;

use super::error::{deadline_error, decision_error, storage_error, RequestField};
use super::pages::{take_page, Page, PageRequest};
use super::{machine_parallelism, App, AppError};
use crate::audit::{AuditEvent, AuditQuery};
use crate::domain::coverage::{self, CoverageQuestion, RequirementCoverage};
use crate::domain::deadline::{self, BeyondTimelines, Deadline, DeadlineQuestion};
use crate::domain::decision::{self, AccessDecision, TicketDecision, TicketQuestion};
use crate::domain::interval::Interval;
use crate::domain::on_shift::{on_shift, OnShift};
use crate::domain::policy::{PlanKind, Severity, TicketCategory};
use crate::domain::roster::{Agent, AgentRoster, Consent, Org, Shift, TimeOff};
use crate::domain::snapshot::Snapshot;
use crate::domain::sync::SyncEntry;
use crate::domain::time::Instant;
use crate::domain::working_time::{working_time_report, works_from_eea, AgentWorkingTime};
use crate::storage;

/// One ticket of a `compute_deadlines` batch, owned so the batch can leave the async runtime.
#[derive(Clone, Debug)]
pub struct DeadlineItem {
    pub org_id: String,
    pub ticket_id: String,
    pub severity: Severity,
    pub category: TicketCategory,
    /// When the clocks are read.
    pub at: Instant,
    pub clock_started_at: Instant,
    pub target: SignedDuration,
    pub pauses: Vec<Interval>,
}

impl DeadlineItem {
    fn question(&self) -> DeadlineQuestion<'_> {
        DeadlineQuestion {
            ticket: TicketQuestion {
                org_id: &self.org_id,
                ticket_id: &self.ticket_id,
                severity: self.severity,
                category: self.category,
                at: self.at,
            },
            clock_started_at: self.clock_started_at,
            target: self.target,
            pauses: &self.pauses,
        }
    }
}

/// Which entries of a kind a listing asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryFilter {
    /// One agent's entries; every agent's when `None`.
    pub agent_id: Option<String>,
    /// Entries worked or taken at some moment of this window; all when `None`.
    pub window: Option<Interval>,
}

/// An entry an agent owns and a listing filters by window: shifts and time off.
trait ListedEntry: SyncEntry {
    /// The agent's entries of this kind, in ID order.
    fn of(roster: &AgentRoster) -> &[Self];
    /// Whether the entry is worked or taken at some moment of `window`.
    fn touches(&self, window: Interval) -> bool;
}

impl ListedEntry for Shift {
    fn of(roster: &AgentRoster) -> &[Shift] {
        &roster.shifts
    }

    fn touches(&self, window: Interval) -> bool {
        self.occurrences_within(window).is_ok_and(|occurrences| !occurrences.is_empty())
    }
}

impl ListedEntry for TimeOff {
    fn of(roster: &AgentRoster) -> &[TimeOff] {
        &roster.time_off
    }

    fn touches(&self, window: Interval) -> bool {
        self.period.overlaps(&window)
    }
}

fn unknown_agent(agent_id: &str) -> AppError {
    AppError::NotFound { entity: "agent", id: agent_id.to_owned(), field: "agent_id".into() }
}

fn unknown_org(org_id: &str) -> AppError {
    AppError::NotFound { entity: "org", id: org_id.to_owned(), field: "org_id".into() }
}

/// One page of the entries of one kind that `filter` keeps, in ID order.
fn list_entries<T: ListedEntry>(
    snapshot: &Snapshot,
    filter: &EntryFilter,
    page: &PageRequest,
) -> Result<Page<T>, AppError> {
    let rosters: Vec<&AgentRoster> = match &filter.agent_id {
        None => snapshot.agents().collect(),
        Some(agent_id) => vec![snapshot.agent(agent_id).ok_or_else(|| unknown_agent(agent_id))?],
    };
    let mut entries: Vec<&T> = rosters
        .into_iter()
        .flat_map(|roster| T::of(roster).iter())
        .filter(|entry| page.after.as_deref().is_none_or(|after| entry.id() > after))
        .filter(|entry| filter.window.is_none_or(|window| entry.touches(window)))
        .collect();
    entries.sort_by(|left, right| left.id().cmp(right.id()));
    Ok(take_page(entries.into_iter(), page.size, |entry| entry.id().to_owned()).map(T::clone))
}

/// The key consents are listed by: the ticket, then the agent.
fn consent_key(consent: &Consent) -> String {
    format!("{}\u{0}{}", consent.ticket_id, consent.agent_id)
}

impl App {
    pub fn get_agent(&self, agent_id: &str) -> Result<Agent, AppError> {
        let snapshot = self.snapshot.load();
        let roster = snapshot.agent(agent_id).ok_or_else(|| unknown_agent(agent_id))?;
        Ok(roster.agent.clone())
    }

    /// Agents in ID order.
    pub fn list_agents(&self, page: &PageRequest) -> Page<Agent> {
        let snapshot = self.snapshot.load();
        take_page(snapshot.agents_after(page.after.as_deref()), page.size, |roster| {
            roster.agent.agent_id.as_str().to_owned()
        })
        .map(|roster| roster.agent.clone())
    }

    /// Shifts in ID order; a window keeps those with an occurrence in it.
    pub fn list_shifts(&self, filter: &EntryFilter, page: &PageRequest) -> Result<Page<Shift>, AppError> {
        list_entries(&self.snapshot.load(), filter, page)
    }

    /// Time off in ID order; a window keeps the entries that overlap it.
    pub fn list_time_off(&self, filter: &EntryFilter, page: &PageRequest) -> Result<Page<TimeOff>, AppError> {
        list_entries(&self.snapshot.load(), filter, page)
    }

    pub fn get_org(&self, org_id: &str) -> Result<Org, AppError> {
        self.snapshot.load().org(org_id).cloned().ok_or_else(|| unknown_org(org_id))
    }

    /// Orgs in ID order.
    pub fn list_orgs(&self, page: &PageRequest) -> Page<Org> {
        let snapshot = self.snapshot.load();
        take_page(snapshot.orgs_after(page.after.as_deref()), page.size, |org| org.org_id.as_str().to_owned())
            .map(Org::clone)
    }

    /// An org's consents, by ticket then agent; `ticket_id` keeps one ticket's.
    pub fn list_consents(
        &self,
        org_id: &str,
        ticket_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Consent>, AppError> {
        let snapshot = self.snapshot.load();
        if snapshot.org(org_id).is_none() {
            return Err(unknown_org(org_id));
        }
        let matching = snapshot
            .consents_of(org_id)
            .filter(|consent| ticket_id.is_none_or(|ticket_id| consent.ticket_id == ticket_id))
            .filter(|consent| page.after.as_ref().is_none_or(|after| consent_key(consent) > *after));
        Ok(take_page(matching, page.size, |consent| consent_key(consent)).map(Consent::clone))
    }

    /// One page of the audit events matching `query` (at most `query.limit`), oldest first,
    /// read from the database (the audit trail is not part of the snapshot); the next page
    /// starts after the last event's sequence number.
    pub async fn audit_events(&self, query: AuditQuery) -> Result<Page<AuditEvent>, AppError> {
        let page_size = query.limit;
        // One more than a page, to know whether another page follows.
        let query = AuditQuery { limit: page_size + 1, ..query };
        let events = self
            .store
            .read(move |connection| storage::list_audit_events(connection, &query))
            .await
            .map_err(|error| storage_error(error, RequestField::Unnamed))?;
        Ok(take_page(events.into_iter(), page_size, |event| event.sequence.to_string()))
    }

    /// Builds a coverage report off the async runtime: it is CPU work over the whole roster.
    pub async fn coverage_report(&self, question: CoverageQuestion) -> Result<Vec<RequirementCoverage>, AppError> {
        self.coverage_report_from(self.snapshot(), question).await
    }

    /// `coverage_report` from the given snapshot (one of a past moment: `snapshot_known_at`).
    pub async fn coverage_report_from(
        &self,
        snapshot: Arc<Snapshot>,
        question: CoverageQuestion,
    ) -> Result<Vec<RequirementCoverage>, AppError> {
        tokio::task::spawn_blocking(move || coverage::coverage_report(&snapshot, &question, machine_parallelism()))
            .await
            .map_err(|error| AppError::internal(format!("coverage report task failed: {error}")))
    }

    /// One page of the working-time report, off the async runtime: the agents asked for (every
    /// agent who works from an EEA country during the window when none are), in ID order.
    pub async fn working_time_report(
        &self,
        window: Interval,
        agent_ids: Vec<String>,
        page: PageRequest,
    ) -> Result<Page<AgentWorkingTime>, AppError> {
        let snapshot = self.snapshot();
        let settings = self.working_time.clone();
        tokio::task::spawn_blocking(move || {
            let facts = &snapshot.policy.facts;
            let after = |roster: &&AgentRoster| {
                page.after.as_deref().is_none_or(|after| roster.agent.agent_id.as_str() > after)
            };
            let rosters: Vec<&AgentRoster> = if agent_ids.is_empty() {
                let eligible = snapshot.agents_after(page.after.as_deref());
                eligible.filter(|roster| works_from_eea(facts, roster, window)).take(page.size + 1).collect()
            } else {
                let mut listed = Vec::with_capacity(agent_ids.len());
                for (idx, agent_id) in agent_ids.iter().enumerate() {
                    let roster = snapshot.agent(agent_id).ok_or_else(|| AppError::NotFound {
                        entity: "agent",
                        id: agent_id.clone(),
                        field: format!("agent_ids[{idx}]"),
                    })?;
                    listed.push(roster);
                }
                listed.sort_by(|left, right| left.agent.agent_id.cmp(&right.agent.agent_id));
                listed.dedup_by(|left, right| left.agent.agent_id == right.agent.agent_id);
                listed.into_iter().filter(after).collect()
            };
            let chosen = take_page(rosters.into_iter(), page.size, |roster| roster.agent.agent_id.as_str().to_owned());
            let reports =
                working_time_report(&facts.working_time, &chosen.items, window, &settings, machine_parallelism());
            Ok(Page { items: reports, next_after: chosen.next_after })
        })
        .await
        .map_err(|error| AppError::internal(format!("working-time report task failed: {error}")))?
    }

    /// Each item's SLA clocks, all read from one snapshot, off the async runtime: an item whose
    /// staffed clock reaches outside the precomputed timelines expands shifts agent by agent.
    pub async fn compute_deadlines(
        &self,
        items: Vec<DeadlineItem>,
    ) -> Result<Vec<Result<Deadline, AppError>>, AppError> {
        self.compute_deadlines_from(self.snapshot(), items).await
    }

    /// `compute_deadlines` from the given snapshot (one of a past moment: `snapshot_known_at`).
    pub async fn compute_deadlines_from(
        &self,
        snapshot: Arc<Snapshot>,
        items: Vec<DeadlineItem>,
    ) -> Result<Vec<Result<Deadline, AppError>>, AppError> {
        tokio::task::spawn_blocking(move || {
            let mut beyond = BeyondTimelines::default();
            items
                .iter()
                .map(|item| {
                    deadline::compute_deadline_in_batch(&snapshot, &item.question(), &mut beyond)
                        .map_err(deadline_error)
                })
                .collect()
        })
        .await
        .map_err(|error| AppError::internal(format!("deadline task failed: {error}")))
    }

    pub fn on_shift(&self, plan: PlanKind, eea_tagged: bool, severity: Severity, at: Instant) -> Vec<OnShift> {
        on_shift(&self.snapshot(), plan, eea_tagged, severity, at)
    }

    /// `on_shift` from the given snapshot (one of a past moment: `snapshot_known_at`).
    pub fn on_shift_from(
        snapshot: &Snapshot,
        plan: PlanKind,
        eea_tagged: bool,
        severity: Severity,
        at: Instant,
    ) -> Vec<OnShift> {
        on_shift(snapshot, plan, eea_tagged, severity, at)
    }

    /// `decide_ticket` from the given snapshot (one of a past moment: `snapshot_known_at`).
    pub fn decide_ticket_from(snapshot: &Snapshot, question: &TicketQuestion) -> Result<TicketDecision, AppError> {
        decision::decide_ticket(snapshot, question).map_err(decision_error)
    }

    /// `check_agent_access` from the given snapshot (one of a past moment: `snapshot_known_at`).
    pub fn check_agent_access_from(
        snapshot: &Snapshot,
        question: &TicketQuestion,
        agent_id: &str,
    ) -> Result<AccessDecision, AppError> {
        decision::check_agent_access(snapshot, question, agent_id).map_err(decision_error)
    }

    /// Borrows the snapshot in force (`load`) rather than cloning its `Arc` (`load_full`), as
    /// `check_agent_access` does: a clone and its drop are two atomic writes to one counter
    /// that every core's calls share.
    pub fn decide_ticket(&self, question: &TicketQuestion) -> Result<TicketDecision, AppError> {
        decision::decide_ticket(&self.snapshot.load(), question).map_err(decision_error)
    }

    pub fn check_agent_access(&self, question: &TicketQuestion, agent_id: &str) -> Result<AccessDecision, AppError> {
        decision::check_agent_access(&self.snapshot.load(), question, agent_id).map_err(decision_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::HolidayCalendar;
    use crate::domain::fixtures::{agent, interval, one_off, policy, time_off};

    fn snapshot() -> Snapshot {
        Snapshot::build(
            policy(HolidayCalendar::None),
            vec![],
            vec![agent("a", "IE", &[]), agent("b", "FR", &[])],
            vec![
                one_off("s3", "a", "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z"),
                one_off("s1", "b", "2026-12-02T08:00:00Z", "2026-12-02T16:00:00Z"),
                one_off("s2", "a", "2026-12-03T08:00:00Z", "2026-12-03T16:00:00Z"),
            ],
            vec![
                time_off("t2", "a", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"),
                time_off("t1", "b", "2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z"),
            ],
            vec![],
        )
    }

    fn page(size: usize, after: Option<&str>) -> PageRequest {
        PageRequest { size, after: after.map(str::to_owned) }
    }

    fn filter(agent_id: Option<&str>, window: Option<Interval>) -> EntryFilter {
        EntryFilter { agent_id: agent_id.map(str::to_owned), window }
    }

    fn check_shifts(filter: EntryFilter, page: PageRequest, expected_ids: &[&str], expected_next: Option<&str>) {
        let listed = list_entries::<Shift>(&snapshot(), &filter, &page).unwrap();
        let ids: Vec<&str> = listed.items.iter().map(|shift| shift.shift_id.as_str()).collect();
        assert_eq!(
            (ids.as_slice(), listed.next_after.as_deref()),
            (expected_ids, expected_next),
            "{filter:?} {page:?}"
        );
    }

    #[test]
    fn shifts_are_listed_in_id_order_across_agents_and_paged_by_id() {
        check_shifts(filter(None, None), page(10, None), &["s1", "s2", "s3"], None);
        check_shifts(filter(None, None), page(2, None), &["s1", "s2"], Some("s2"));
        check_shifts(filter(None, None), page(2, Some("s2")), &["s3"], None);
        check_shifts(filter(Some("a"), None), page(10, None), &["s2", "s3"], None);
    }

    #[test]
    fn a_window_keeps_the_shifts_with_an_occurrence_in_it() {
        let first_two_days = interval("2026-12-01T12:00:00Z", "2026-12-02T09:00:00Z");
        check_shifts(filter(None, Some(first_two_days)), page(10, None), &["s1", "s3"], None);
        let a_quiet_day = interval("2026-12-04T00:00:00Z", "2026-12-05T00:00:00Z");
        check_shifts(filter(None, Some(a_quiet_day)), page(10, None), &[], None);
        // A shift ending as the window starts has no moment in it (half-open intervals).
        let from_the_end_of_s3 = interval("2026-12-01T16:00:00Z", "2026-12-01T20:00:00Z");
        check_shifts(filter(Some("a"), Some(from_the_end_of_s3)), page(10, None), &[], None);
    }

    #[test]
    fn time_off_is_listed_in_id_order_and_a_window_keeps_what_overlaps_it() {
        let listed = |filter: EntryFilter| -> Vec<String> {
            let listed = list_entries::<TimeOff>(&snapshot(), &filter, &page(10, None)).unwrap();
            listed.items.into_iter().map(|entry| entry.time_off_id.into_string()).collect()
        };
        assert_eq!(listed(filter(None, None)), ["t1", "t2"]);
        assert_eq!(listed(filter(Some("b"), None)), ["t1"]);
        assert_eq!(listed(filter(None, Some(interval("2026-12-01T23:00:00Z", "2026-12-05T01:00:00Z")))), ["t1", "t2"]);
        assert_eq!(listed(filter(None, Some(interval("2026-12-02T00:00:00Z", "2026-12-05T00:00:00Z")))), [""; 0]);
    }

    #[test]
    fn listing_an_unknown_agents_entries_names_the_agent_id_field() {
        let error = list_entries::<Shift>(&snapshot(), &filter(Some("nobody"), None), &page(10, None)).unwrap_err();
        match error {
            AppError::NotFound { entity, id, field } => {
                assert_eq!((entity, id.as_str(), field.as_str()), ("agent", "nobody", "agent_id"))
            }
            other => panic!("expected NotFound, got {other:?}"),
        }
    }
}

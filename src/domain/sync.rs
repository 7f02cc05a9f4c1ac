//! Workforce-management sync: the difference between what a source has stored in a window and
//! what it sends now, decided by ID and full equality. Pure: storage loads the stored side and
//! writes the outcome inside one transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::coverage::{coverage_reports_compared, gap_changes, CoverageQuestion, Gap};
use super::interval::Interval;
use super::parallel::Parallelism;
use super::policy::{PlanKind, Severity};
use super::roster::{Agent, AgentRoster, RosterChanges, Shift, TimeOff};
use super::snapshot::Snapshot;
use super::working_time::{change_warnings, Warning, WorkingTimeSettings};

/// The longest window one sync may replace.
pub const MAX_SYNC_DAYS: i64 = 366;

/// An entry a source owns, diffed by ID and full equality.
pub trait SyncEntry: Clone + PartialEq {
    fn id(&self) -> &str;
}

impl SyncEntry for Shift {
    fn id(&self) -> &str {
        self.shift_id.as_str()
    }
}

impl SyncEntry for TimeOff {
    fn id(&self) -> &str {
        self.time_off_id.as_str()
    }
}

/// What a sync does to one kind of entry.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryChanges<T> {
    pub created: Vec<T>,
    pub updated: Vec<T>,
    pub deleted: Vec<String>,
    pub n_unchanged: usize,
}

impl<T> EntryChanges<T> {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty() && self.deleted.is_empty()
    }
}

/// What a sync did (or, for a dry run, would do), by ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncChanges {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub deleted: Vec<String>,
    pub n_unchanged: usize,
}

/// How many entries a sync carries, of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncEntryCounts {
    pub n_shifts: usize,
    pub n_time_off: usize,
    pub n_agents: usize,
}

/// The entries a sync brings: all of its source's shifts and time off that start in its window,
/// and the agents it creates or updates (which no window bounds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncEntries {
    pub shifts: Vec<Shift>,
    pub time_off: Vec<TimeOff>,
    pub agents: Vec<Agent>,
}

impl SyncEntries {
    pub fn counts(&self) -> SyncEntryCounts {
        SyncEntryCounts { n_shifts: self.shifts.len(), n_time_off: self.time_off.len(), n_agents: self.agents.len() }
    }

    /// Shifts and time off together.
    pub fn n_entries(&self) -> usize {
        self.shifts.len() + self.time_off.len()
    }
}

/// A sync whose stream carried other counts than its end message declared: part of it was
/// lost (or added) on the way, so none of it may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the sync's end message declares {}, but {} arrived", counts_text(declared), counts_text(received))]
pub struct IncompleteSync {
    pub declared: SyncEntryCounts,
    pub received: SyncEntryCounts,
}

/// `3 shifts and 2 time-off entries`, with `and 4 agents` when a sync carries agents.
fn counts_text(counts: &SyncEntryCounts) -> String {
    let entries = format!("{} shifts and {} time-off entries", counts.n_shifts, counts.n_time_off);
    if counts.n_agents == 0 {
        entries
    } else {
        format!("{entries} and {} agents", counts.n_agents)
    }
}

/// What a sync did to each kind it carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub agents: SyncChanges,
    pub shifts: SyncChanges,
    pub time_off: SyncChanges,
}

/// A sync may be written only when it carried exactly what it declared (when it declared
/// anything: the end message is optional).
pub fn check_complete(declared: Option<SyncEntryCounts>, received: SyncEntryCounts) -> Result<(), IncompleteSync> {
    match declared {
        Some(declared) if declared != received => Err(IncompleteSync { declared, received }),
        _ => Ok(()),
    }
}

/// `stored`: the source's entries that start inside the window. `sent`: the new set (already
/// checked: unique IDs, inside the window, tagged with the source).
pub fn diff_entries<T: SyncEntry>(stored: Vec<T>, sent: Vec<T>) -> EntryChanges<T> {
    let mut stored_by_id: HashMap<String, T> = stored.into_iter().map(|entry| (entry.id().to_owned(), entry)).collect();
    let mut changes = EntryChanges { created: Vec::new(), updated: Vec::new(), deleted: Vec::new(), n_unchanged: 0 };
    for entry in sent {
        match stored_by_id.remove(entry.id()) {
            None => changes.created.push(entry),
            Some(previous) if previous == entry => changes.n_unchanged += 1,
            Some(_) => changes.updated.push(entry),
        }
    }
    changes.deleted = stored_by_id.into_keys().collect();
    changes.deleted.sort_unstable();
    changes
}

/// The gaps one requirement gains and loses through a sync.
#[derive(Clone, Debug, PartialEq)]
pub struct RequirementGapChanges {
    pub plan: PlanKind,
    pub eea_tagged: bool,
    pub severity: Severity,
    pub opened: Vec<Gap>,
    pub closed: Vec<Gap>,
}

/// The roster as it is after a sync: `before` with the entries the sync updated or deleted
/// taken out, and the ones it created or updated (from `sent`) put in. Built in memory, so that
/// the change is measured against the state it was written over, whatever else has been
/// committed since.
pub fn snapshot_after_sync(before: &Snapshot, outcome: &SyncOutcome, sent: &SyncEntries) -> Snapshot {
    fn ids<'a>(first: &'a [String], second: &'a [String]) -> HashSet<&'a str> {
        first.iter().chain(second).map(String::as_str).collect()
    }
    let (shift_changes, time_off_changes) = (&outcome.shifts, &outcome.time_off);
    // The agents it created or updated first, each keeping the entries it had.
    let written_agent_ids = ids(&outcome.agents.created, &outcome.agents.updated);
    let agent_changes: Vec<_> = sent
        .agents
        .iter()
        .filter(|agent| written_agent_ids.contains(agent.agent_id.as_str()))
        .map(|agent| {
            let (shifts, time_off) = match before.roster().agent(agent.agent_id.as_str()) {
                Some(stored) => (stored.shifts.to_vec(), stored.time_off.to_vec()),
                None => (Vec::new(), Vec::new()),
            };
            (agent.agent_id.clone(), Some(AgentRoster::new(agent.clone(), shifts, time_off)))
        })
        .collect();
    let with_agents = if agent_changes.is_empty() {
        before.roster().clone()
    } else {
        before.roster().with_changes(RosterChanges { agents: agent_changes, orgs: Vec::new() }).0
    };
    let removed_shift_ids = ids(&shift_changes.updated, &shift_changes.deleted);
    let removed_time_off_ids = ids(&time_off_changes.updated, &time_off_changes.deleted);
    let written_shift_ids = ids(&shift_changes.created, &shift_changes.updated);
    let written_time_off_ids = ids(&time_off_changes.created, &time_off_changes.updated);
    let added_shifts: Vec<Shift> =
        sent.shifts.iter().filter(|shift| written_shift_ids.contains(shift.id())).cloned().collect();
    let added_time_off: Vec<TimeOff> =
        sent.time_off.iter().filter(|entry| written_time_off_ids.contains(entry.id())).cloned().collect();
    let roster =
        with_agents.with_entries_replaced(&removed_shift_ids, &added_shifts, &removed_time_off_ids, &added_time_off);
    Snapshot::of_roster(before.policy.clone(), roster)
}

/// The working-time breaches a sync introduces, for the agents it gives work to (shifts created or
/// changed, time off changed or removed), against the state before it; the periods looked at are
/// those of the changed entries within `bound`. Agents in ID order.
pub fn sync_warnings(
    before: &Snapshot,
    after: &Snapshot,
    outcome: &SyncOutcome,
    sent: &SyncEntries,
    bound: Interval,
    settings: &WorkingTimeSettings,
    parallelism: Parallelism,
) -> Vec<Warning> {
    fn ids(changes: &SyncChanges) -> HashSet<&str> {
        changes.created.iter().chain(&changes.updated).chain(&changes.deleted).map(String::as_str).collect()
    }
    let (shift_ids, time_off_ids) = (ids(&outcome.shifts), ids(&outcome.time_off));
    let mut agent_ids: BTreeSet<&str> = sent
        .shifts
        .iter()
        .filter(|shift| shift_ids.contains(shift.shift_id.as_str()))
        .map(|shift| shift.agent_id.as_str())
        .chain(
            sent.time_off
                .iter()
                .filter(|entry| time_off_ids.contains(entry.time_off_id.as_str()))
                .map(|entry| entry.agent_id.as_str()),
        )
        .collect();
    if !outcome.time_off.deleted.is_empty() {
        let deleted: HashSet<&str> = outcome.time_off.deleted.iter().map(String::as_str).collect();
        agent_ids.extend(
            before
                .agents()
                .filter(|roster| roster.time_off.iter().any(|entry| deleted.contains(entry.time_off_id.as_str())))
                .map(|roster| roster.agent.agent_id.as_str()),
        );
    }
    let rules = &before.policy.facts.working_time;
    let agents: Vec<_> =
        agent_ids.into_iter().filter_map(|agent_id| Some((before.agent(agent_id), after.agent(agent_id)?))).collect();
    parallelism
        .map_in_order(&agents, |(stored, synced)| {
            change_warnings(*stored, synced, (&shift_ids, &time_off_ids), bound, rules, settings)
        })
        .into_iter()
        .flatten()
        .collect()
}

/// The gaps each requirement gains and loses between two states of the roster, for both plans
/// as EEA-tagged tickets see them (one staffed agent required).
pub fn compare_gaps(
    before: &Snapshot,
    after: &Snapshot,
    window: Interval,
    parallelism: Parallelism,
) -> Vec<RequirementGapChanges> {
    let mut changes = Vec::new();
    for (plan, eea_tagged) in [(PlanKind::EeaOnly, true), (PlanKind::Standard, true)] {
        let question = CoverageQuestion { plan, eea_tagged, window, min_staff: 1 };
        // One sweep for both states: the agents the sync left alone are expanded once.
        let compared = coverage_reports_compared(before, after, &question, parallelism);
        for (old_requirement, new_requirement) in compared.before.iter().zip(&compared.after) {
            let (opened, closed) = gap_changes(&old_requirement.gaps, &new_requirement.gaps);
            changes.push(RequirementGapChanges {
                plan,
                eea_tagged,
                severity: new_requirement.severity,
                opened,
                closed,
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{one_off, time_off};

    #[test]
    fn entries_are_created_updated_deleted_or_left_alone_by_id_and_content() {
        let stored = vec![
            one_off("same", "a", "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z"),
            one_off("moved", "a", "2026-12-02T08:00:00Z", "2026-12-02T16:00:00Z"),
            one_off("gone", "a", "2026-12-03T08:00:00Z", "2026-12-03T16:00:00Z"),
        ];
        let sent = vec![
            one_off("same", "a", "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z"),
            one_off("moved", "a", "2026-12-02T09:00:00Z", "2026-12-02T17:00:00Z"),
            one_off("new", "a", "2026-12-04T08:00:00Z", "2026-12-04T16:00:00Z"),
        ];
        let changes = diff_entries(stored, sent);
        assert_eq!(changes.created.iter().map(|shift| shift.shift_id.as_str()).collect::<Vec<_>>(), ["new"]);
        assert_eq!(changes.updated.iter().map(|shift| shift.shift_id.as_str()).collect::<Vec<_>>(), ["moved"]);
        assert_eq!(changes.deleted, ["gone"]);
        assert_eq!(changes.n_unchanged, 1);
    }

    fn counts(n_shifts: usize, n_time_off: usize) -> SyncEntryCounts {
        SyncEntryCounts { n_shifts, n_time_off, n_agents: 0 }
    }

    #[test]
    fn a_sync_is_complete_when_it_declares_nothing_or_exactly_what_arrived() {
        let cases = [
            (None, counts(50, 0), true),
            (Some(counts(50, 2)), counts(50, 2), true),
            (Some(counts(0, 0)), counts(0, 0), true),
            (Some(counts(100, 0)), counts(50, 0), false),
            (Some(counts(50, 0)), counts(100, 0), false),
            (Some(counts(50, 1)), counts(50, 0), false),
            (Some(counts(0, 0)), counts(0, 1), false),
        ];
        for (declared, received, complete) in cases {
            assert_eq!(check_complete(declared, received).is_ok(), complete, "{declared:?} against {received:?}");
        }
    }

    #[test]
    fn an_incomplete_sync_names_both_counts() {
        let error = check_complete(Some(counts(100, 3)), counts(50, 0)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the sync's end message declares 100 shifts and 3 time-off entries, but 50 shifts and 0 time-off entries arrived"
        );
    }

    #[test]
    fn the_same_sync_twice_changes_nothing() {
        let entries = vec![time_off("leave", "a", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z")];
        let changes = diff_entries(entries.clone(), entries);
        assert!(changes.is_empty());
        assert_eq!(changes.n_unchanged, 1);
    }

    fn shift_ids(snapshot: &Snapshot) -> Vec<String> {
        let mut ids: Vec<String> = snapshot
            .agents()
            .flat_map(|roster| roster.shifts.iter().map(|shift| shift.shift_id.as_str().to_owned()))
            .collect();
        ids.sort();
        ids
    }

    fn ids(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn the_state_after_a_sync_takes_out_what_it_replaced_and_puts_in_what_it_wrote() {
        use crate::domain::calendar::HolidayCalendar;
        use crate::domain::fixtures::{agent, policy};
        let before = Snapshot::build(
            policy(HolidayCalendar::None),
            vec![],
            vec![agent("a", "IE", &[])],
            vec![
                one_off("kept", "a", "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z"),
                one_off("moved", "a", "2026-12-02T08:00:00Z", "2026-12-02T16:00:00Z"),
                one_off("gone", "a", "2026-12-03T08:00:00Z", "2026-12-03T16:00:00Z"),
            ],
            vec![time_off("holiday", "a", "2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z")],
            vec![],
        );
        let moved = one_off("moved", "a", "2026-12-02T10:00:00Z", "2026-12-02T18:00:00Z");
        let sent = SyncEntries {
            shifts: vec![
                one_off("kept", "a", "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z"),
                moved.clone(),
                one_off("new", "a", "2026-12-04T08:00:00Z", "2026-12-04T16:00:00Z"),
            ],
            time_off: vec![],
            agents: vec![],
        };
        let shift_changes =
            SyncChanges { created: ids(&["new"]), updated: ids(&["moved"]), deleted: ids(&["gone"]), n_unchanged: 1 };
        let time_off_changes = SyncChanges { deleted: ids(&["holiday"]), ..SyncChanges::default() };
        let outcome = SyncOutcome { shifts: shift_changes, time_off: time_off_changes, ..SyncOutcome::default() };
        let after = snapshot_after_sync(&before, &outcome, &sent);
        assert_eq!(shift_ids(&after), ids(&["kept", "moved", "new"]));
        let roster = after.agent("a").unwrap();
        assert_eq!(roster.shifts.iter().find(|shift| shift.shift_id == "moved"), Some(&moved));
        assert!(roster.time_off.is_empty());
        // The state it was built from is left as it was.
        assert_eq!(shift_ids(&before), ids(&["gone", "kept", "moved"]));
    }

    #[test]
    fn a_sync_that_removes_the_only_shift_opens_a_gap_and_putting_it_back_closes_it() {
        use crate::domain::calendar::HolidayCalendar;
        use crate::domain::fixtures::{agent, interval, org, policy};
        let window = interval("2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z");
        let build = |shifts: Vec<Shift>| {
            Snapshot::build(
                policy(HolidayCalendar::None),
                vec![org("acme", "eu-west-1", PlanKind::EeaOnly)],
                vec![agent("a", "IE", &[])],
                shifts,
                vec![],
                vec![],
            )
        };
        let staffed = build(vec![one_off("day", "a", "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z")]);
        let empty = build(vec![]);
        let total_gaps = |changes: &[RequirementGapChanges]| -> (usize, usize) {
            (
                changes.iter().map(|change| change.opened.len()).sum(),
                changes.iter().map(|change| change.closed.len()).sum(),
            )
        };
        let removed = compare_gaps(&staffed, &empty, window, Parallelism::SEQUENTIAL);
        let (n_opened, n_closed) = total_gaps(&removed);
        assert!(n_opened > 0 && n_closed == 0, "removing the shift: {removed:?}");
        let restored = compare_gaps(&empty, &staffed, window, Parallelism::SEQUENTIAL);
        assert_eq!(total_gaps(&restored), (0, n_opened), "putting it back closes what removing it opened");
        assert_eq!(total_gaps(&compare_gaps(&staffed, &staffed, window, Parallelism::SEQUENTIAL)), (0, 0));
        // Both plans, every severity, as EEA-tagged tickets see them.
        assert!(removed.iter().all(|change| change.eea_tagged));
        assert!(removed.iter().any(|change| change.plan == PlanKind::Standard));
        assert!(removed.iter().any(|change| change.plan == PlanKind::EeaOnly));
    }
}

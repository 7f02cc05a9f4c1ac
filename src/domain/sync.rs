//! Workforce-management sync: the difference between what a source has stored in a window and
//! what it sends now, decided by ID and full equality. Pure: storage loads the stored side and
//! writes the outcome inside one transaction.

use std::collections::HashMap;

use super::roster::{Shift, TimeOff};

/// The longest window one sync may replace.
pub const MAX_SYNC_DAYS: i64 = 366;

/// An entry a source owns, diffed by ID and full equality.
pub trait SyncEntry: Clone + PartialEq {
    fn id(&self) -> &str;
}

impl SyncEntry for Shift {
    fn id(&self) -> &str {
        &self.shift_id
    }
}

impl SyncEntry for TimeOff {
    fn id(&self) -> &str {
        &self.time_off_id
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
}

/// A sync whose stream carried other counts than its end message declared: part of it was
/// lost (or added) on the way, so none of it may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the sync's end message declares {} shifts and {} time-off entries, but {} shifts and {} time-off entries arrived",
    declared.n_shifts, declared.n_time_off, received.n_shifts, received.n_time_off
)]
pub struct IncompleteSync {
    pub declared: SyncEntryCounts,
    pub received: SyncEntryCounts,
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
        SyncEntryCounts { n_shifts, n_time_off }
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
}

//! Answers as known at a past moment: the roster as committed at or before it and the policy in
//! force then, read from the history (the present's hot path never reads it). The last few past
//! snapshots are kept, since one question is often asked of many tickets.

use std::sync::Arc;

use super::error::{storage_error, RequestField};
use super::{App, AppError};
use crate::clock;
use crate::domain::policy::{PlanSettings, Policy, PolicyFacts};
use crate::domain::snapshot::Snapshot;
use crate::domain::time::Instant;
use crate::domain::validation::FieldViolation;
use crate::storage::{self, PolicyVersion, Refusal, RosterCommit};

/// How many past snapshots are kept, newest use first.
const KEPT_PAST_SNAPSHOTS: usize = 4;

/// Which stored state an answer as known at a moment came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownAt {
    pub as_known_at: Instant,
    /// The last roster version committed at or before `as_known_at`, and when it committed.
    pub roster_version: i64,
    pub roster_committed_at: Instant,
    /// The policy version in force at `as_known_at`, and since when.
    pub policy_version: i64,
    pub policy_effective_at: Instant,
}

/// Past snapshots by (roster version, policy version), most recently used last.
pub(super) type PastSnapshots = std::sync::Mutex<Vec<((i64, i64), Arc<Snapshot>)>>;

/// A refusal of `as_known_at` for a moment the history does not reach, saying why.
fn before_history(field: &str, description: String) -> AppError {
    AppError::Refused(Refusal {
        kind: "BEFORE_HISTORY",
        summary: format!("{field}: {description}"),
        violations: vec![(field.to_owned(), description)],
    })
}

impl App {
    /// The snapshot the service would have answered from at `at`, with where it came from:
    /// everything committed at or before `at`, and the policy in force then. `at` after now is
    /// invalid; before the history began (the upgrade that started it, or the first start-up
    /// that recorded a policy) it is refused with FAILED_PRECONDITION.
    pub async fn snapshot_known_at(&self, at: Instant) -> Result<(Arc<Snapshot>, KnownAt), AppError> {
        self.snapshot_known_at_named(at, "as_known_at").await
    }

    /// `snapshot_known_at`, its errors naming `field` (the request's field holding `at`).
    pub(super) async fn snapshot_known_at_named(
        &self,
        at: Instant,
        field: &str,
    ) -> Result<(Arc<Snapshot>, KnownAt), AppError> {
        if at > clock::now() {
            return Err(AppError::Invalid(vec![FieldViolation::new(
                field,
                "is after now: nothing is known yet about a moment to come",
            )]));
        }
        let read = self
            .store
            .read_consistent(move |connection| {
                let commit = storage::commit_known_at(connection, at)?;
                // Where the history begins is read only to say so.
                let commit = match commit {
                    Some(commit) => Ok(commit),
                    None => Err(storage::history_start(connection)?),
                };
                Ok((commit, storage::policy_known_at(connection, at)?))
            })
            .await
            .map_err(|error| storage_error(error, RequestField::Unnamed))?;
        let (commit, policy): (Result<RosterCommit, RosterCommit>, Option<PolicyVersion>) = read;
        let commit = commit.map_err(|first_commit| {
            before_history(
                field,
                format!("the roster's history begins at {}: nothing is known before it", first_commit.committed_at),
            )
        })?;
        let Some(policy) = policy else {
            return Err(before_history(
                field,
                format!(
                "no policy had been recorded by {at}: the first is recorded when a server of this release first starts"
            ),
            ));
        };
        let known = KnownAt {
            as_known_at: at,
            roster_version: commit.version,
            roster_committed_at: commit.committed_at,
            policy_version: policy.policy_version,
            policy_effective_at: policy.effective_at,
        };
        let key = (commit.version, policy.policy_version);
        if let Some(snapshot) = self.kept_past_snapshot(key) {
            return Ok((snapshot, known));
        }
        let facts = PolicyFacts::parse(&policy.facts).map_err(|error| {
            AppError::internal(format!("recorded policy version {} does not parse: {error}", policy.policy_version))
        })?;
        let settings = PlanSettings::from_record(&policy.plan_settings).map_err(|error| {
            AppError::internal(format!("recorded policy version {}: {error}", policy.policy_version))
        })?;
        let past_policy = Arc::new(Policy::new(facts, settings));
        let version = commit.version;
        let stored = self
            .store
            .read_consistent(move |connection| storage::load_as_of(connection, version))
            .await
            .map_err(|error| storage_error(error, RequestField::Unnamed))?;
        let snapshot = tokio::task::spawn_blocking(move || {
            Snapshot::build(past_policy, stored.orgs, stored.agents, stored.shifts, stored.time_off, stored.consents)
        })
        .await
        .map_err(|error| AppError::internal(format!("building a past snapshot failed: {error}")))?;
        let snapshot = Arc::new(snapshot);
        self.keep_past_snapshot(key, snapshot.clone());
        Ok((snapshot, known))
    }

    fn kept_past_snapshot(&self, key: (i64, i64)) -> Option<Arc<Snapshot>> {
        let mut kept = self.past_snapshots.lock().expect("the past snapshots' lock is never poisoned");
        let idx = kept.iter().position(|(kept_key, _)| *kept_key == key)?;
        let entry = kept.remove(idx);
        let snapshot = entry.1.clone();
        kept.push(entry);
        Some(snapshot)
    }

    fn keep_past_snapshot(&self, key: (i64, i64), snapshot: Arc<Snapshot>) {
        let mut kept = self.past_snapshots.lock().expect("the past snapshots' lock is never poisoned");
        kept.retain(|(kept_key, _)| *kept_key != key);
        if kept.len() >= KEPT_PAST_SNAPSHOTS {
            kept.remove(0);
        }
        kept.push((key, snapshot));
    }
}

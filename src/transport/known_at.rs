//! `as_known_at` on the read calls: the field read, the snapshot of that moment fetched, and
//! where it came from told back (`KnownAs`).

use std::sync::Arc;

use tonic::Status;

use super::convert::{question_instant_field, timestamp};
use super::status::{invalid, to_status};
use crate::app::{App, KnownAt};
use crate::domain::snapshot::Snapshot;
use crate::domain::time::Instant;
use crate::pb;

/// The moment a call asks about, when it gives one; INVALID_ARGUMENT naming `as_known_at` for
/// a malformed one.
pub fn as_known_at_field(as_known_at: Option<prost_types::Timestamp>) -> Result<Option<Instant>, Status> {
    let mut violations = Vec::new();
    let at = question_instant_field("as_known_at", as_known_at, &mut violations);
    if violations.is_empty() {
        Ok(at)
    } else {
        Err(invalid(violations))
    }
}

/// The snapshot the call answers from, with where it came from when it is one of a past moment.
pub async fn snapshot_for(
    app: &App,
    as_known_at: Option<Instant>,
) -> Result<(Arc<Snapshot>, Option<pb::KnownAs>), Status> {
    match as_known_at {
        None => Ok((app.snapshot(), None)),
        Some(at) => {
            let (snapshot, known) = app.snapshot_known_at(at).await.map_err(to_status)?;
            Ok((snapshot, Some(known_as_to_pb(&known))))
        }
    }
}

pub fn known_as_to_pb(known: &KnownAt) -> pb::KnownAs {
    pb::KnownAs {
        as_known_at: Some(timestamp(known.as_known_at)),
        roster_version: known.roster_version,
        roster_committed_at: Some(timestamp(known.roster_committed_at)),
        policy_version: known.policy_version,
        policy_effective_at: Some(timestamp(known.policy_effective_at)),
    }
}

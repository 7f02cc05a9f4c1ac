//! What batched writes share: statements cut into chunks, the lookup of which IDs exist (and
//! which source owns each), and the counts a batch upsert reports.

use std::collections::{HashMap, HashSet};

use super::StorageError;

/// What a batch upsert did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: usize,
    pub updated: usize,
}

/// Rows per statement in batched writes, well under both backends' bind-parameter limits.
pub(super) const CHUNK_ROWS: usize = 500;

pub(super) fn not_found_unless(n_rows: usize, entity: &'static str, id: &str) -> Result<(), StorageError> {
    if n_rows == 0 {
        Err(StorageError::NotFound { entity, id: id.to_owned() })
    } else {
        Ok(())
    }
}

pub(super) fn existing_ids<F>(ids: &[&str], mut lookup: F) -> Result<HashSet<String>, StorageError>
where
    F: FnMut(Vec<String>) -> Result<Vec<String>, StorageError>,
{
    let mut existing = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK_ROWS) {
        existing.extend(lookup(chunk.iter().map(|id| (*id).to_owned()).collect())?);
    }
    Ok(existing)
}

/// The stored entries among `ids`, with the source that owns each (if any).
pub(super) fn owned_ids<F>(ids: &[&str], mut lookup: F) -> Result<HashMap<String, Option<String>>, StorageError>
where
    F: FnMut(Vec<String>) -> Result<Vec<(String, Option<String>)>, StorageError>,
{
    let mut owned = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK_ROWS) {
        owned.extend(lookup(chunk.iter().map(|id| (*id).to_owned()).collect())?);
    }
    Ok(owned)
}

/// Entries a WFM source synced are that source's to change: a direct upsert or delete would be
/// undone, or blocked, by its next sync.
pub(super) fn refuse_owned(ids: &[&str], owned: &HashMap<String, Option<String>>) -> Result<(), StorageError> {
    for (index, id) in ids.iter().enumerate() {
        if let Some(Some(source)) = owned.get(*id) {
            return Err(StorageError::OwnedBySource { index, id: (*id).to_owned(), owner: source.clone() });
        }
    }
    Ok(())
}

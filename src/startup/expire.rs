//! `eea-coverage expire`: the retention setting applied. What lies before the window is first
//! written to a file (JSON lines) with its SHA-256 beside it, then removed through the one path
//! the append-only triggers admit, and the removal is itself an audit event naming the checksum.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{open_store, StartupError};
use crate::audit::Actor;
use crate::config::Settings;
use crate::domain::time::Instant;
use crate::storage::{ExpiredRows, Expiry, ExpiryBounds, StorageError, TableCounts};

/// What the command was asked: remove what lies only before `cutoff`, export into `directory`.
pub struct ExpiryRequest {
    pub cutoff: Instant,
    pub directory: PathBuf,
    pub now: Instant,
    /// Who ran it, as the audit trail records it (`command:USER`).
    pub caller: String,
}

/// What an expiry at `cutoff` would remove, table by table, without writing or removing anything.
pub async fn expiry_preview(settings: &Settings, cutoff: Instant) -> Result<(ExpiryBounds, TableCounts), StartupError> {
    let store = open_store(&settings.database_url).await?;
    store
        .read_consistent(move |connection| crate::storage::expiry_preview(connection, cutoff))
        .await
        .map_err(|error| StartupError::Storage { url: settings.database_url.redacted(), error })
}

/// What the command did, and where the export is.
pub struct ExpiryReport {
    pub expiry: Expiry,
    pub file: Option<PathBuf>,
}

/// The export's file name for a cutoff: sortable, and one per cutoff instant.
fn export_name(cutoff: Instant) -> String {
    format!("eea-coverage-expired-before-{}.jsonl", cutoff.strftime("%Y%m%dT%H%M%S%.6fZ"))
}

/// Writes the rows as JSON lines under `directory` (a header line, then one line per row), made
/// durable before it answers, with `NAME.sha256` beside it in the form `sha256sum -c` reads.
/// Answers the checksum.
fn write_export(
    directory: &Path,
    name: &str,
    bounds: &ExpiryBounds,
    now: Instant,
    expired: &[ExpiredRows],
) -> std::io::Result<String> {
    std::fs::create_dir_all(directory)?;
    let (path, partial) = (directory.join(name), directory.join(format!("{name}.partial")));
    let mut hasher = Sha256::new();
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        let mut line = |text: String| -> std::io::Result<()> {
            hasher.update(text.as_bytes());
            hasher.update(b"\n");
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")
        };
        let header = serde_json::json!({
            "expiry": {
                "cutoff": bounds.cutoff.to_string(),
                "through_version": bounds.through_version,
                "first_kept_policy": bounds.first_kept_policy,
                "exported_at": now.to_string(),
                "rows": expired.iter().map(|rows| (rows.table, rows.rows.len())).collect::<std::collections::BTreeMap<_, _>>(),
            }
        });
        line(header.to_string())?;
        for rows in expired {
            for row in &rows.rows {
                line(format!("{{\"table\":\"{}\",\"row\":{row}}}", rows.table))?;
            }
        }
        let file = file.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()?;
    }
    std::fs::rename(&partial, &path)?;
    let checksum = format!("{:x}", hasher.finalize());
    let mut sums = std::fs::File::create(directory.join(format!("{name}.sha256")))?;
    writeln!(sums, "{checksum}  {name}")?;
    sums.sync_all()?;
    std::fs::File::open(directory)?.sync_all()?;
    Ok(checksum)
}

/// The cutoff the retention setting and an explicit `before` give at `now`: `before` when
/// given (refused when it lies inside the kept days), else `now - keep_days`.
pub fn expiry_cutoff(keep_days: Option<u32>, before: Option<Instant>, now: Instant) -> Result<Instant, StartupError> {
    let kept_from = match keep_days {
        Some(0) => return Err(StartupError::Expiry("keep_days 0 would expire everything: at least 1".into())),
        Some(days) => Some(
            now.checked_sub(jiff::SignedDuration::from_hours(i64::from(days) * 24))
                .map_err(|_| StartupError::Expiry(format!("keep_days {days}: before the earliest instant")))?,
        ),
        None => None,
    };
    match (before, kept_from) {
        (Some(before), _) if before > now => Err(StartupError::Expiry(format!("--before {before} is after now"))),
        (Some(before), Some(kept_from)) if before > kept_from => Err(StartupError::Expiry(format!(
            "--before {before} lies inside the retention window (kept from {kept_from})"
        ))),
        (Some(before), _) => Ok(before),
        (None, Some(kept_from)) => Ok(kept_from),
        (None, None) => {
            Err(StartupError::Expiry("no retention set: give --keep-days, [retention] keep_days or --before".into()))
        }
    }
}

/// Applies the retention setting once: everything only the past before the cutoff needs is
/// exported, then removed. Runs beside live servers: it holds the writers' lock while it works.
pub async fn expire(settings: &Settings, request: ExpiryRequest) -> Result<ExpiryReport, StartupError> {
    let store = open_store(&settings.database_url).await?;
    let cutoff = request.cutoff;
    let name = export_name(cutoff);
    let (directory, now) = (request.directory.clone(), request.now);
    let export_name_used = name.clone();
    let actor =
        Actor { caller: request.caller, rpc: "eea-coverage expire".into(), request_id: format!("expire-{now}") };
    let expiry = store
        .expire_history(cutoff, actor, now, move |bounds, expired| {
            write_export(&directory, &export_name_used, bounds, now, expired)
                .map_err(|error| StorageError::Unavailable(format!("writing the export: {error}")))
        })
        .await
        .map_err(|error| StartupError::Storage { url: settings.database_url.redacted(), error })?;
    let file = expiry.exported.as_ref().map(|_| request.directory.join(name));
    Ok(ExpiryReport { expiry, file })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Instant {
        text.parse().unwrap()
    }

    #[test]
    fn the_cutoff_is_the_retention_window_or_an_earlier_instant() {
        let now = at("2026-12-03T10:00:00Z");
        assert_eq!(expiry_cutoff(Some(30), None, now).unwrap(), at("2026-11-03T10:00:00Z"));
        let before = at("2026-10-01T00:00:00Z");
        assert_eq!(expiry_cutoff(Some(30), Some(before), now).unwrap(), before);
        assert_eq!(expiry_cutoff(None, Some(before), now).unwrap(), before);
        let inside = expiry_cutoff(Some(30), Some(at("2026-11-20T00:00:00Z")), now).unwrap_err().to_string();
        assert!(inside.contains("inside the retention window"), "{inside}");
        assert!(expiry_cutoff(Some(0), None, now).unwrap_err().to_string().contains("at least 1"));
        assert!(expiry_cutoff(None, None, now).unwrap_err().to_string().contains("no retention set"));
        assert!(expiry_cutoff(None, Some(at("2026-12-04T00:00:00Z")), now)
            .unwrap_err()
            .to_string()
            .contains("after now"));
    }

    #[test]
    fn the_export_is_json_lines_with_a_checksum_sha256sum_reads() {
        let directory = tempfile::tempdir().unwrap();
        let bounds =
            ExpiryBounds { cutoff: at("2026-11-03T10:00:00Z"), through_version: Some(7), first_kept_policy: None };
        let expired = vec![
            ExpiredRows {
                table: "roster_commits",
                rows: vec![r#"{"version":6,"committed_at":1,"audit_sequence":null}"#.into()],
            },
            ExpiredRows { table: "audit_events", rows: Vec::new() },
        ];
        let name = export_name(bounds.cutoff);
        let checksum = write_export(directory.path(), &name, &bounds, at("2026-12-03T10:00:00Z"), &expired).unwrap();
        let text = std::fs::read_to_string(directory.path().join(&name)).unwrap();
        assert_eq!(format!("{:x}", Sha256::digest(text.as_bytes())), checksum);
        let lines: Vec<serde_json::Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert_eq!(lines[0]["expiry"]["through_version"], 7);
        assert_eq!(lines[0]["expiry"]["rows"]["roster_commits"], 1);
        assert_eq!(lines[1]["table"], "roster_commits");
        assert_eq!(lines[1]["row"]["version"], 6);
        assert_eq!(lines.len(), 2);
        let sums = std::fs::read_to_string(directory.path().join(format!("{name}.sha256"))).unwrap();
        assert_eq!(sums, format!("{checksum}  {name}\n"));
        assert!(!directory.path().join(format!("{name}.partial")).exists());
    }
}

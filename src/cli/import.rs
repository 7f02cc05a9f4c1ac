//! `eea-coverage import`: streams a CSV or iCalendar file (read by `formats`) into `SyncShifts`
//! on a running server, and prints what the sync changed.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use tonic::codec::CompressionEncoding;

use crate::cli::connection::{connect, CallerArgs};
use crate::cli::parse_when;
use crate::domain::time::Zone;
use crate::formats::report::duration_text;
use crate::formats::{parse_csv, parse_icalendar, ImportedEntries, LineError};
use crate::pb;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The WFM system's name; the sync replaces this source's entries in the window.
    #[arg(long, value_name = "NAME")]
    source: String,
    /// Start of the window: a date (Brussels midnight) or an instant.
    #[arg(long, value_name = "WHEN")]
    from: String,
    /// End of the window (excluded).
    #[arg(long, value_name = "WHEN")]
    to: String,
    /// Report what the sync would change, and the gaps it would open, without writing.
    #[arg(long)]
    dry_run: bool,
    /// csv or ics; by default taken from the file's extension.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// iCalendar: the agent of every event (one agent per file).
    #[arg(long, value_name = "ID")]
    agent: Option<String>,
    /// iCalendar: the zone of date-times that carry no TZID.
    #[arg(long, value_name = "ZONE")]
    time_zone: Option<String>,
    /// Entries per streamed message.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    batch_size: usize,
    /// Compress the stream with gzip or zstd (a server from before 30 November 2026 accepts
    /// neither), or send it as it is (none).
    #[arg(long, value_name = "ENCODING", default_value = "none", value_parser = ["none", "gzip", "zstd"])]
    compression: String,
    /// The CSV or iCalendar file.
    file: PathBuf,
    #[command(flatten)]
    caller: CallerArgs,
}

/// Streams a CSV or iCalendar file into `SyncShifts`.
pub async fn run_import(args: ImportArgs) -> Result<(), String> {
    let text =
        std::fs::read_to_string(&args.file).map_err(|error| format!("cannot read {}: {error}", args.file.display()))?;
    let format = args
        .format
        .clone()
        .or_else(|| args.file.extension().map(|extension| extension.to_string_lossy().to_ascii_lowercase()))
        .unwrap_or_default();
    let parsed = match format.as_str() {
        "csv" => parse_csv(&text),
        "ics" | "ical" | "icalendar" => parse_icalendar(&text, args.agent.as_deref(), args.time_zone.as_deref()),
        other => return Err(format!("--format {other:?}: expected csv or ics")),
    };
    let entries = parsed.map_err(|errors| {
        print_line_errors(&errors, &args.file);
        format!("{} bad line(s); nothing was sent", errors.len())
    })?;
    let header = pb::SyncHeader {
        source: args.source.clone(),
        window_start: Some(parse_when("--from", &args.from)?),
        window_end: Some(parse_when("--to", &args.to)?),
        dry_run: args.dry_run,
    };
    let mut client = pb::roster_service_client::RosterServiceClient::new(connect(&args.server, &args.caller).await?)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd);
    match args.compression.as_str() {
        "gzip" => client = client.send_compressed(CompressionEncoding::Gzip),
        "zstd" => client = client.send_compressed(CompressionEncoding::Zstd),
        _ => {}
    }
    let total = entries.len();
    let messages = sync_messages(header, entries.clone(), args.batch_size);
    let mut progress = SendProgress { total, interactive: std::io::stderr().is_terminal(), last_quarter: 0 };
    let mut sent = 0;
    let stream = tokio_stream::iter(messages.into_iter().inspect(move |message| {
        if let Some(pb::sync_shifts_request::Message::Batch(batch)) = &message.message {
            sent += batch.shifts.len() + batch.time_off.len();
            progress.update(sent);
        }
    }));
    let response = client.sync_shifts(stream).await.map_err(|status| {
        use tonic_types::StatusExt;
        if let Some(bad_request) = status.get_details_bad_request() {
            for violation in &bad_request.field_violations {
                match entries.line_of(&violation.field) {
                    Some(line) => {
                        eprintln!("{}:{line}: {}: {}", args.file.display(), violation.field, violation.description)
                    }
                    None => eprintln!("{}: {}: {}", args.file.display(), violation.field, violation.description),
                }
            }
        }
        match status.code() {
            tonic::Code::InvalidArgument
            | tonic::Code::NotFound
            | tonic::Code::FailedPrecondition
            | tonic::Code::Aborted => {
                format!("the server refused the sync ({:?}): nothing was changed", status.code())
            }
            // The sync may or may not have committed; sending it again is safe (it is idempotent).
            code => format!(
                "the sync failed ({code:?}: {}); run the import again to be sure of the outcome",
                status.message()
            ),
        }
    })?;
    std::io::stdout().write_all(summary(&response.into_inner()).as_bytes()).map_err(|error| error.to_string())?;
    Ok(())
}

/// The last message of a sync, declaring what it carried: the server then commits only a sync
/// that arrived whole.
pub fn sync_end(n_shifts: usize, n_time_off: usize) -> pb::SyncShiftsRequest {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::End(pb::SyncEnd {
            shift_count: count(n_shifts),
            time_off_count: count(n_time_off),
        })),
    }
}

fn print_line_errors(errors: &[LineError], file: &std::path::Path) {
    for error in errors {
        eprintln!("{}:{}: {}", file.display(), error.line, error.message);
    }
}

/// Shows how much of a large file has been sent.
struct SendProgress {
    total: usize,
    interactive: bool,
    last_quarter: usize,
}

impl SendProgress {
    fn update(&mut self, sent: usize) {
        if self.total < 5_000 {
            return;
        }
        if self.interactive {
            let width = 30;
            let filled = sent * width / self.total.max(1);
            eprint!("\r[{}{}] {sent}/{} entries sent", "#".repeat(filled), " ".repeat(width - filled), self.total);
            if sent == self.total {
                eprintln!();
            }
        } else {
            let quarter = sent * 4 / self.total.max(1);
            if quarter > self.last_quarter {
                self.last_quarter = quarter;
                eprintln!("{sent}/{} entries sent", self.total);
            }
        }
    }
}

fn sync_messages(header: pb::SyncHeader, entries: ImportedEntries, batch_size: usize) -> Vec<pb::SyncShiftsRequest> {
    let batch_size = batch_size.max(1);
    let mut messages = vec![pb::SyncShiftsRequest { message: Some(pb::sync_shifts_request::Message::Header(header)) }];
    let batch = |shifts: Vec<pb::Shift>, time_off: Vec<pb::TimeOff>| pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch { shifts, time_off })),
    };
    for chunk in entries.shifts.chunks(batch_size) {
        messages.push(batch(chunk.to_vec(), Vec::new()));
    }
    for chunk in entries.time_off.chunks(batch_size) {
        messages.push(batch(Vec::new(), chunk.to_vec()));
    }
    messages.push(sync_end(entries.shifts.len(), entries.time_off.len()));
    messages
}

fn summary(response: &pb::SyncShiftsResponse) -> String {
    let verb = if response.dry_run { "would be" } else { "were" };
    let mut out = format!(
        "{}{} created, {} updated, {} deleted, {} unchanged (shifts and time off) {verb} synced\n",
        if response.dry_run { "dry run: " } else { "" },
        response.created,
        response.updated,
        response.deleted,
        response.unchanged
    );
    for change in response.gap_changes.iter().filter(|change| !change.opened.is_empty() || !change.closed.is_empty()) {
        let plan = pb::Plan::try_from(change.plan).map_or("?", |plan| plan.as_str_name());
        let severity = pb::Severity::try_from(change.severity).map_or("?", |severity| severity.as_str_name());
        let seconds = |gaps: &[pb::Gap]| -> i64 {
            gaps.iter()
                .map(|gap| gap.ends_at.map_or(0, |end| end.seconds) - gap.starts_at.map_or(0, |start| start.seconds))
                .sum()
        };
        out.push_str(&format!(
            "  {plan} {severity}: {} gap(s) opened ({}), {} closed ({})\n",
            change.opened.len(),
            duration_text(seconds(&change.opened)),
            change.closed.len(),
            duration_text(seconds(&change.closed))
        ));
        for gap in change.opened.iter().take(5) {
            let when = |timestamp: &Option<prost_types::Timestamp>| {
                timestamp
                    .and_then(|timestamp| crate::domain::time::Instant::new(timestamp.seconds, timestamp.nanos).ok())
                    .map(|instant| Zone::brussels().format(instant, "%a %Y-%m-%d %H:%M %Z"))
                    .unwrap_or_default()
            };
            out.push_str(&format!("    opens {} -> {}\n", when(&gap.starts_at), when(&gap.ends_at)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n_shifts: usize, n_time_off: usize) -> ImportedEntries {
        let shift = |shift_idx: usize| pb::Shift { shift_id: format!("s{shift_idx}"), ..Default::default() };
        let leave = |entry_idx: usize| pb::TimeOff { time_off_id: format!("t{entry_idx}"), ..Default::default() };
        ImportedEntries {
            shifts: (0..n_shifts).map(shift).collect(),
            shift_lines: (0..n_shifts).collect(),
            time_off: (0..n_time_off).map(leave).collect(),
            time_off_lines: (0..n_time_off).collect(),
        }
    }

    #[test]
    fn an_import_is_sent_as_header_batches_and_an_end_that_counts_them() {
        let cases = [(0, 0, 10, 2), (25, 3, 10, 6), (10, 0, 10, 3), (1, 1, 1, 4)];
        for (n_shifts, n_time_off, batch_size, n_messages) in cases {
            let messages = sync_messages(pb::SyncHeader::default(), entries(n_shifts, n_time_off), batch_size);
            assert_eq!(messages.len(), n_messages, "{n_shifts} shifts, {n_time_off} time off in {batch_size}s");
            assert!(matches!(messages[0].message, Some(pb::sync_shifts_request::Message::Header(_))));
            let Some(pb::sync_shifts_request::Message::End(end)) = &messages[messages.len() - 1].message else {
                panic!("the last message is the end: {:?}", messages.last());
            };
            assert_eq!((end.shift_count, end.time_off_count), (n_shifts as i32, n_time_off as i32));
        }
    }
}

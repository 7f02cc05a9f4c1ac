//! `eea-coverage import`: streams CSV or iCalendar files (read by `formats`) into `SyncShifts`
//! on a running server, and prints what the sync changed.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use tonic::codec::CompressionEncoding;

use crate::cli::connection::{connect, every_page, AuthChannel, CallerArgs};
use crate::cli::parse_when;
use crate::domain::interval::Interval;
use crate::domain::time::{Instant, Zone};
use crate::formats::report::duration_text;
use crate::formats::{parse_csv, read_calendar, Calendar, ImportedEntries, LineError, ReadOptions};
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
    /// csv or ics; by default taken from each file's extension.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// iCalendar, one file: the agent of every event. Otherwise each event's X-EEA-AGENT-ID or
    /// first ATTENDEE, else the file's name without its extension.
    #[arg(long, value_name = "ID")]
    agent: Option<String>,
    /// iCalendar: the zone of date-times that carry no TZID [default: the agent's home zone].
    #[arg(long, value_name = "ZONE")]
    time_zone: Option<String>,
    /// Entries per streamed message.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    batch_size: usize,
    /// Compress the stream with gzip or zstd (a server from before 30 November 2026 accepts
    /// neither), or send it as it is (none).
    #[arg(long, value_name = "ENCODING", default_value = "none", value_parser = ["none", "gzip", "zstd"])]
    compression: String,
    /// The CSV or iCalendar files, or folders of them (their .csv and .ics files, in name
    /// order): all of them make one sync.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    caller: CallerArgs,
}

/// A file to read, and how.
struct Source {
    path: PathBuf,
    format: String,
}

/// The files named on the command line, folders expanded.
fn sources(args: &ImportArgs) -> Result<Vec<Source>, String> {
    let mut paths = Vec::new();
    for path in &args.files {
        if path.is_dir() {
            let listing =
                std::fs::read_dir(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
            let mut inside: Vec<PathBuf> = listing
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.is_file() && matches!(extension(file).as_str(), "csv" | "ics"))
                .collect();
            if inside.is_empty() {
                return Err(format!("{} holds no .csv or .ics file", path.display()));
            }
            inside.sort();
            paths.extend(inside);
        } else {
            paths.push(path.clone());
        }
    }
    if args.agent.is_some() && paths.len() > 1 {
        return Err("--agent names the agent of one file; with several, each file's events name theirs (or the file's name does)".into());
    }
    paths
        .into_iter()
        .map(|path| {
            let format = args.format.clone().unwrap_or_else(|| extension(&path));
            match format.as_str() {
                "csv" => Ok(Source { path, format }),
                "ics" | "ical" | "icalendar" => Ok(Source { path, format: "ics".into() }),
                other => Err(format!("{}: format {other:?}: expected csv or ics (give --format)", path.display())),
            }
        })
        .collect()
}

fn extension(path: &Path) -> String {
    path.extension().map(|extension| extension.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

/// What was read: every file's entries in one list, and which file each came from.
struct ReadFiles {
    entries: ImportedEntries,
    shift_files: Vec<usize>,
    time_off_files: Vec<usize>,
    agent_files: Vec<usize>,
    paths: Vec<PathBuf>,
}

impl ReadFiles {
    /// `file:line` of the entry the server names as `shifts[12]...` or `time_off[3]...`.
    fn place_of(&self, field: &str) -> Option<String> {
        let line = self.entries.line_of(field)?;
        let index: usize = field.split_once('[')?.1.split_once(']')?.0.parse().ok()?;
        let files = match field.split_once('[')?.0 {
            "shifts" => &self.shift_files,
            "time_off" => &self.time_off_files,
            _ => &self.agent_files,
        };
        Some(format!("{}:{line}", self.paths[*files.get(index)?].display()))
    }
}

/// A file as read before it is placed in the window: CSV entries, or a calendar.
type ReadFile = Result<ImportedEntries, Calendar>;

/// Reads every file; nothing is sent when any has a problem.
fn read_sources(args: &ImportArgs) -> Result<(Vec<Source>, Vec<ReadFile>), String> {
    let sources = sources(args)?;
    let mut n_errors = 0;
    let mut per_file: Vec<ReadFile> = Vec::new();
    for source in &sources {
        let text = std::fs::read_to_string(&source.path)
            .map_err(|error| format!("cannot read {}: {error}", source.path.display()))?;
        let read = if source.format == "csv" {
            parse_csv(&text).map(Ok)
        } else {
            let stem = source.path.file_stem().map(|stem| stem.to_string_lossy().into_owned());
            let options = ReadOptions {
                agent: args.agent.as_deref(),
                fallback_agent: stem.as_deref(),
                default_zone: args.time_zone.as_deref(),
            };
            read_calendar(&text, options).map(Err)
        };
        match read {
            Ok(read) => per_file.push(read),
            Err(errors) => {
                print_line_errors(&errors, &source.path);
                n_errors += errors.len();
            }
        }
    }
    if n_errors > 0 {
        return Err(format!("{n_errors} bad line(s); nothing was sent"));
    }
    Ok((sources, per_file))
}

/// Places every calendar's events in the window; all-day events and floating times ask the
/// server for the agents' home zones first.
async fn place_files(
    sources: Vec<Source>,
    per_file: Vec<ReadFile>,
    window: Interval,
    channel: &AuthChannel,
) -> Result<ReadFiles, String> {
    let mut n_errors = 0;
    // The agents the files create or update give their own home zones; the server gives the
    // others'.
    let mut home_zones: HashMap<String, Zone> = per_file
        .iter()
        .filter_map(|read| read.as_ref().ok())
        .flat_map(|entries| &entries.agents)
        .filter_map(|agent| Some((agent.agent_id.clone(), Zone::named(&agent.time_zone).ok()?)))
        .collect();
    let mut wanted: Vec<String> = per_file
        .iter()
        .filter_map(|read| read.as_ref().err())
        .flat_map(Calendar::agents_needing_home_zone)
        .filter(|agent_id| !home_zones.contains_key(agent_id))
        .collect();
    wanted.sort();
    wanted.dedup();
    if !wanted.is_empty() {
        home_zones.extend(server_home_zones(channel, &wanted).await?);
    }
    let names: HashMap<String, String> =
        per_file.iter().filter_map(|read| read.as_ref().err()).flat_map(Calendar::agent_names).collect();
    let mut read = ReadFiles {
        entries: ImportedEntries::default(),
        shift_files: Vec::new(),
        time_off_files: Vec::new(),
        agent_files: Vec::new(),
        paths: sources.iter().map(|source| source.path.clone()).collect(),
    };
    for (file_idx, (source, file)) in sources.iter().zip(per_file).enumerate() {
        let entries = match file {
            Ok(entries) => entries,
            Err(calendar) => match calendar.entries(window, &home_zones) {
                Ok(entries) => entries,
                Err(errors) => {
                    print_line_errors(&errors, &source.path);
                    n_errors += errors.len();
                    continue;
                }
            },
        };
        read.shift_files.extend(std::iter::repeat_n(file_idx, entries.shifts.len()));
        read.time_off_files.extend(std::iter::repeat_n(file_idx, entries.time_off.len()));
        read.agent_files.extend(std::iter::repeat_n(file_idx, entries.agents.len()));
        read.entries.append(entries);
    }
    // An agent row without a name takes the one its calendar's attendees give.
    for agent in read.entries.agents.iter_mut().filter(|agent| agent.display_name.is_empty()) {
        if let Some(name) = names.get(&agent.agent_id) {
            agent.display_name = name.clone();
        }
    }
    if n_errors > 0 {
        return Err(format!("{n_errors} bad line(s); nothing was sent"));
    }
    Ok(read)
}

/// The home zones of `agents`, from the server's roster. An agent it does not hold is left out
/// (the calendar then names what needed it).
async fn server_home_zones(channel: &AuthChannel, agents: &[String]) -> Result<HashMap<String, Zone>, String> {
    let client = pb::roster_service_client::RosterServiceClient::new(channel.clone());
    let listed = every_page(|page_token| {
        let mut client = client.clone();
        async move {
            let page = client.list_agents(pb::ListAgentsRequest { page_size: 1_000, page_token }).await?.into_inner();
            Ok((page.agents, page.next_page_token))
        }
    })
    .await
    .map_err(|status| format!("cannot read the agents' home zones: {:?}: {}", status.code(), status.message()))?;
    Ok(listed
        .into_iter()
        .filter(|agent| agents.binary_search(&agent.agent_id).is_ok())
        .filter_map(|agent| Some((agent.agent_id, Zone::named(&agent.time_zone).ok()?)))
        .collect())
}

fn instant_of(timestamp: &prost_types::Timestamp) -> Result<Instant, String> {
    Instant::new(timestamp.seconds, timestamp.nanos).map_err(|error| error.to_string())
}

/// Streams CSV or iCalendar files into one `SyncShifts`.
pub async fn run_import(args: ImportArgs) -> Result<(), String> {
    let window_start = parse_when("--from", &args.from)?;
    let window_end = parse_when("--to", &args.to)?;
    let window = Interval::new(instant_of(&window_start)?, instant_of(&window_end)?)
        .ok_or_else(|| format!("--to {} is not after --from {}", args.to, args.from))?;
    let header = pb::SyncHeader {
        source: args.source.clone(),
        window_start: Some(window_start),
        window_end: Some(window_end),
        dry_run: args.dry_run,
    };
    let (sources, per_file) = read_sources(&args)?;
    let channel = connect(&args.server, &args.caller).await?;
    let files = place_files(sources, per_file, window, &channel).await?;
    if files.entries.outside_window > 0 {
        eprintln!(
            "{} entr{} starting outside [{}, {}) left out",
            files.entries.outside_window,
            if files.entries.outside_window == 1 { "y" } else { "ies" },
            args.from,
            args.to
        );
    }
    let mut client = pb::roster_service_client::RosterServiceClient::new(channel)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd);
    match args.compression.as_str() {
        "gzip" => client = client.send_compressed(CompressionEncoding::Gzip),
        "zstd" => client = client.send_compressed(CompressionEncoding::Zstd),
        _ => {}
    }
    let total = files.entries.len();
    let messages = sync_messages(header, files.entries.clone(), args.batch_size);
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
                match files.place_of(&violation.field) {
                    Some(place) => eprintln!("{place}: {}: {}", violation.field, violation.description),
                    None => eprintln!("{}: {}", violation.field, violation.description),
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
pub fn sync_end(n_shifts: usize, n_time_off: usize, n_agents: usize) -> pb::SyncShiftsRequest {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::End(pb::SyncEnd {
            shift_count: count(n_shifts),
            time_off_count: count(n_time_off),
            agent_count: count(n_agents),
        })),
    }
}

fn print_line_errors(errors: &[LineError], file: &Path) {
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
    let batch = |shifts: Vec<pb::Shift>, time_off: Vec<pb::TimeOff>, agents: Vec<pb::Agent>| pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch { shifts, time_off, agents })),
    };
    // Agents first: a reader sees who the entries name before the entries.
    for chunk in entries.agents.chunks(batch_size) {
        messages.push(batch(Vec::new(), Vec::new(), chunk.to_vec()));
    }
    for chunk in entries.shifts.chunks(batch_size) {
        messages.push(batch(chunk.to_vec(), Vec::new(), Vec::new()));
    }
    for chunk in entries.time_off.chunks(batch_size) {
        messages.push(batch(Vec::new(), chunk.to_vec(), Vec::new()));
    }
    messages.push(sync_end(entries.shifts.len(), entries.time_off.len(), entries.agents.len()));
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
    if let Some(agents) = response.agents.filter(|agents| agents.created + agents.updated + agents.unchanged > 0) {
        out.push_str(&format!(
            "agents: {} created, {} updated, {} unchanged\n",
            agents.created, agents.updated, agents.unchanged
        ));
    }
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
    if !response.working_time_warnings.is_empty() {
        out.push_str(&format!(
            "working time: {} breach(es) of the Working Time Directive introduced{}\n",
            response.working_time_warning_count,
            if response.working_time_warning_count > 10 { ", the first 10:" } else { "" }
        ));
        for warning in response.working_time_warnings.iter().take(10) {
            let Some(breach) = &warning.breach else { continue };
            let rule = pb::WorkingTimeRule::try_from(breach.rule).map_or("?", |rule| rule.as_str_name());
            let seconds = |duration: &Option<prost_types::Duration>| duration.map_or(0, |duration| duration.seconds);
            let start = breach.window_start.map_or(0, |start| start.seconds);
            let start = crate::domain::time::Instant::from_second(start).unwrap_or_default();
            out.push_str(&format!(
                "  {} {rule} from {start}: {} measured, limit {} (shifts {})\n",
                warning.agent_id,
                duration_text(seconds(&breach.measured)),
                duration_text(seconds(&breach.limit)),
                breach.shift_ids.join(", ")
            ));
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
            ..Default::default()
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

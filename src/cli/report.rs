//! `eea-coverage report`: asks a running server for a coverage report and writes it as a table,
//! CSV, JSON or SVG (the rendering is `formats::report`'s). With `--what-if FILE` (changes in TOML
//! or JSON, `formats::what_if`) or `--what-if-sync FILE --source NAME` (a CSV or iCalendar shift
//! file) it asks for the simulated report instead, and adds the gaps the changes open and close.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::cli::connection::{connect, every_page, CallerArgs};
use crate::cli::parse_when;
use crate::formats::report::{render, render_simulation, render_working_time, ReportFormat};
use crate::formats::what_if::{parse_changes, ChangesFormat};
use crate::pb;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The plan: standard or eea-only (not with --working-time).
    #[arg(long, value_name = "PLAN", required_unless_present = "working_time", conflicts_with = "working_time")]
    plan: Option<String>,
    /// The Working Time Directive instead of coverage: per agent, the weeks' work, night work
    /// and every breach of daily rest, weekly rest and the average weekly limit.
    #[arg(long)]
    working_time: bool,
    /// With --working-time: this agent (repeat for more; everyone who works from an EEA country
    /// during the window when none is given). With --what-if-sync, an iCalendar file: the agent
    /// of every event (once).
    #[arg(long = "agent", value_name = "AGENT_ID")]
    agents: Vec<String>,
    /// For the standard plan: report on EEA-tagged tickets (true) or untagged ones (false).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    eea_tagged: bool,
    /// Start of the window: a date or an instant.
    #[arg(long, value_name = "WHEN")]
    from: String,
    /// End of the window (excluded): a date or an instant.
    #[arg(long, value_name = "WHEN")]
    to: String,
    /// Distinct eligible agents required at every moment.
    #[arg(long, value_name = "N", default_value_t = 1)]
    min_staff: i32,
    /// The report as the service would have given it at this moment, from what had been
    /// committed by then and the policy in force then: a date or an instant.
    #[arg(long, value_name = "WHEN", conflicts_with = "working_time")]
    as_known_at: Option<String>,
    /// table, csv, json or svg.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: ReportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Simulate: lay the hypothetical changes of this TOML or JSON file (by its extension) over
    /// the stored roster, and report the gaps they open and close. Nothing is written.
    /// The format is in docs/what-if.md.
    #[arg(long, value_name = "FILE", conflicts_with = "what_if_sync")]
    what_if: Option<PathBuf>,
    /// Simulate syncing this CSV or iCalendar shift file (as `import` would) for `--source`,
    /// over the report's window or `--sync-from`/`--sync-to`. Nothing is written.
    #[arg(long, value_name = "FILE", requires = "source")]
    what_if_sync: Option<PathBuf>,
    /// With --what-if-sync: the WFM source the file would be synced for.
    #[arg(long, value_name = "NAME", requires = "what_if_sync")]
    source: Option<String>,
    /// With --what-if-sync: csv or ics [default: from the file's extension].
    #[arg(long, value_name = "FORMAT", requires = "what_if_sync")]
    sync_format: Option<String>,
    /// With --what-if-sync: the start of the sync's window [default: --from].
    #[arg(long, value_name = "WHEN", requires = "what_if_sync")]
    sync_from: Option<String>,
    /// With --what-if-sync: the end of the sync's window [default: --to].
    #[arg(long, value_name = "WHEN", requires = "what_if_sync")]
    sync_to: Option<String>,
    /// With --what-if-sync, an iCalendar file: the zone of date-times that carry no TZID.
    #[arg(long, value_name = "ZONE", requires = "what_if_sync")]
    time_zone: Option<String>,
    #[command(flatten)]
    caller: CallerArgs,
}

/// What a simulation lays over the stored roster, as read from the command line's files.
enum WhatIf {
    Changes(Vec<pb::HypotheticalChange>),
    File(pb::SyncFile),
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

fn extension(path: &Path) -> String {
    path.extension().map(|extension| extension.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

/// The simulation the flags ask for, if any.
fn what_if(args: &ReportArgs) -> Result<Option<WhatIf>, String> {
    if let Some(path) = &args.what_if {
        let bytes = read_file(path)?;
        let text = String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
        let changes = parse_changes(&text, ChangesFormat::of_extension(&extension(path)))
            .map_err(|problem| format!("{}: {problem}", path.display()))?;
        return Ok(Some(WhatIf::Changes(changes)));
    }
    let Some(path) = &args.what_if_sync else { return Ok(None) };
    let format = match args.sync_format.clone().unwrap_or_else(|| extension(path)).as_str() {
        "csv" => pb::SyncFileFormat::Csv,
        "ics" | "ical" | "icalendar" => pb::SyncFileFormat::Icalendar,
        other => return Err(format!("{}: format {other:?}: expected csv or ics (give --sync-format)", path.display())),
    };
    let window = match (&args.sync_from, &args.sync_to) {
        (None, None) => None,
        (from, to) => Some(pb::TimeWindow {
            start_at: Some(parse_when("--sync-from", from.as_deref().unwrap_or(&args.from))?),
            end_at: Some(parse_when("--sync-to", to.as_deref().unwrap_or(&args.to))?),
        }),
    };
    Ok(Some(WhatIf::File(pb::SyncFile {
        source: args.source.clone().unwrap_or_default(),
        format: format as i32,
        content: read_file(path)?,
        window,
        agent_id: match args.agents.as_slice() {
            [] => String::new(),
            [agent_id] => agent_id.clone(),
            _ => return Err("--what-if-sync takes one --agent".into()),
        },
        time_zone: args.time_zone.clone().unwrap_or_default(),
    })))
}

/// A refused call as the user reads it: the status, then each field the server names.
fn refusal(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    let mut text = format!("{:?}: {}", status.code(), status.message());
    if let Some(bad_request) = status.get_details_bad_request() {
        for violation in &bad_request.field_violations {
            text.push_str(&format!("\n  {}: {}", violation.field, violation.description));
        }
    }
    text
}

/// Asks the server for the report and writes it to `--output` or standard output.
pub async fn run_report(args: ReportArgs) -> Result<(), String> {
    if args.working_time {
        return run_working_time_report(args).await;
    }
    let plan = crate::cli::plan(args.plan.as_deref().unwrap_or_default())?;
    let request = pb::GetCoverageReportRequest {
        plan: plan as i32,
        eea_tagged: args.eea_tagged,
        window_start: Some(parse_when("--from", &args.from)?),
        window_end: Some(parse_when("--to", &args.to)?),
        min_staff: args.min_staff,
        as_known_at: args.as_known_at.as_deref().map(|when| parse_when("--as-known-at", when)).transpose()?,
    };
    let what_if = what_if(&args)?;
    let mut client =
        pb::coverage_service_client::CoverageServiceClient::new(connect(&args.server, &args.caller).await?);
    let progress = spawn_progress();
    let outcome = match what_if {
        None => client.get_coverage_report(request).await.map(|report| render(&report.into_inner(), args.format)),
        Some(what_if) => {
            let pb::GetCoverageReportRequest { plan, eea_tagged, window_start, window_end, min_staff, as_known_at } =
                request;
            if as_known_at.is_some() {
                return Err("--as-known-at asks about the past; a what-if asks about a change to the present: give one or the other".into());
            }
            let (changes, sync_file) = match what_if {
                WhatIf::Changes(changes) => (changes, None),
                WhatIf::File(file) => (Vec::new(), Some(file)),
            };
            let simulation = pb::SimulateCoverageRequest {
                plan,
                eea_tagged,
                window_start,
                window_end,
                min_staff,
                changes,
                sync_file,
            };
            client
                .simulate_coverage(simulation)
                .await
                .map(|simulated| render_simulation(&simulated.into_inner(), args.format))
        }
    };
    progress.abort();
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K");
    }
    let text = outcome.map_err(|status| refusal(&status))?;
    write_output(args.output.as_ref(), &text)
}

/// The working-time report, every page of it, in one rendering.
async fn run_working_time_report(args: ReportArgs) -> Result<(), String> {
    let (window_start, window_end) = (parse_when("--from", &args.from)?, parse_when("--to", &args.to)?);
    let client = pb::coverage_service_client::CoverageServiceClient::new(connect(&args.server, &args.caller).await?);
    let mut last = pb::GetWorkingTimeReportResponse::default();
    let agents = every_page(|page_token| {
        let mut client = client.clone();
        let request = pb::GetWorkingTimeReportRequest {
            window_start: Some(window_start),
            window_end: Some(window_end),
            agent_ids: args.agents.clone(),
            page_size: 1_000,
            page_token,
        };
        async move {
            let page = client.get_working_time_report(request).await?.into_inner();
            Ok((vec![page.clone()], page.next_page_token))
        }
    })
    .await
    .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?;
    for page in agents {
        let mut agents = std::mem::take(&mut last.agents);
        agents.extend(page.agents);
        last = pb::GetWorkingTimeReportResponse { agents, next_page_token: String::new(), ..page };
    }
    write_output(args.output.as_ref(), &render_working_time(&last, args.format)?)
}

fn write_output(output: Option<&PathBuf>, text: &str) -> Result<(), String> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display())),
        None => std::io::stdout().write_all(text.as_bytes()).map_err(|error| error.to_string()),
    }
}

/// Shows that the report is being built when it takes more than a moment.
fn spawn_progress() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        let started = std::time::Instant::now();
        let interactive = std::io::stderr().is_terminal();
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        loop {
            let elapsed = started.elapsed().as_secs_f64();
            if interactive {
                eprint!("\rbuilding the coverage report... {elapsed:.0}s ");
            } else {
                eprintln!("building the coverage report ({elapsed:.0}s so far)");
            }
            tokio::time::sleep(std::time::Duration::from_secs(if interactive { 1 } else { 10 })).await;
        }
    })
}

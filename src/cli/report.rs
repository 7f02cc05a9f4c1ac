//! `eea-coverage report`: asks a running server for a coverage report and writes it as a table,
//! CSV, JSON or SVG (the rendering is `formats::report`'s).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::connection::{connect, every_page, CallerArgs};
use crate::cli::parse_when;
use crate::formats::report::{render, render_working_time, ReportFormat};
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
    /// With --working-time: this agent (repeat for more); everyone who works from an EEA
    /// country during the window when none is given.
    #[arg(long = "agent", value_name = "AGENT_ID", requires = "working_time")]
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
    /// table, csv, json or svg.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: ReportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    caller: CallerArgs,
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
    };
    let mut client =
        pb::coverage_service_client::CoverageServiceClient::new(connect(&args.server, &args.caller).await?);
    let progress = spawn_progress();
    let outcome = client.get_coverage_report(request).await;
    progress.abort();
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K");
    }
    let report = outcome.map_err(|status| format!("{:?}: {}", status.code(), status.message()))?.into_inner();
    write_output(args.output.as_ref(), &render(&report, args.format))
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

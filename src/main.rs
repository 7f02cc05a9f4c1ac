//! The `eea-coverage` binary.

use std::path::PathBuf;
use std::process::ExitCode;

use std::io::{IsTerminal, Write};

use clap::{Parser, Subcommand};
use eea_coverage::config::{LogFormat, RawLog, RawSettings, Settings};
use eea_coverage::domain::time::Zone;
use eea_coverage::pb;
use eea_coverage::report::{render, ReportFormat};
use eea_coverage::startup::{shutdown_signal, Server};

#[derive(Parser)]
#[command(
    name = "eea-coverage",
    version,
    about = "Proves a support organisation keeps its EEA data-residency promises"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC server (embedded SQLite by default; PostgreSQL with a postgres:// URL).
    #[command(
        after_help = "Settings are layered: defaults, then --config FILE, then environment variables, then flags.\n\
Environment variables: EEA_COVERAGE_LISTEN, EEA_COVERAGE_DATABASE_URL, EEA_COVERAGE_POLICY_FILE,\n\
EEA_COVERAGE_LOG_FORMAT (human|json), EEA_COVERAGE_LOG_FILTER (e.g. info,eea_coverage=debug),\n\
EEA_COVERAGE_EEA_ONLY_HOLIDAYS (none|target2), EEA_COVERAGE_STANDARD_HOURS (24x7|business_sev2_to_4|business),\n\
EEA_COVERAGE_STANDARD_HOLIDAYS (none|target2)."
    )]
    Serve {
        /// Address to listen on [default: 127.0.0.1:50051].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// postgres://USER@HOST/DB, sqlite://PATH or a plain file path [default: data/eea-coverage.db].
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// TOML configuration file (see README.md for its keys).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Log format: human or json [default: human].
        #[arg(long, value_name = "FORMAT")]
        log_format: Option<String>,
    },
    /// Ask a running server for a coverage report and print it as a table, CSV, JSON or SVG.
    #[command(after_help = "Dates (YYYY-MM-DD) mean midnight in Europe/Brussels, the zone of the policy's hours;\n\
instants are RFC 3339 (2026-12-01T08:00:00Z). The window is [--from, --to), at most 366 days.\n\
Example: eea-coverage report --plan eea-only --from 2026-12-07 --to 2026-12-14 --format svg --output week.svg")]
    Report(ReportArgs),
}

#[derive(clap::Args)]
struct ReportArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The plan: standard or eea-only.
    #[arg(long, value_name = "PLAN")]
    plan: String,
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
}

/// A date is midnight in Brussels; anything else must be an RFC 3339 instant.
fn parse_when(flag: &str, text: &str) -> Result<prost_types::Timestamp, String> {
    // Only a bare YYYY-MM-DD is a date: the date parser would also accept a date-time and drop
    // its time.
    let bare_date = text.len() == 10 && !text.contains('T');
    let instant = match text.parse::<jiff::civil::Date>() {
        Ok(day) if bare_date => Zone::brussels().to_instant(day.to_datetime(jiff::civil::Time::midnight())),
        _ => text.parse::<jiff::Timestamp>().map_err(|_| {
            format!("{flag} {text:?} is neither a date (2026-12-01) nor an instant (2026-12-01T08:00:00Z)")
        })?,
    };
    Ok(prost_types::Timestamp { seconds: instant.as_second(), nanos: instant.subsec_nanosecond() })
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

async fn run_report(args: ReportArgs) -> Result<(), String> {
    let plan = match args.plan.as_str() {
        "standard" | "STANDARD" | "PLAN_STANDARD" => pb::Plan::Standard,
        "eea-only" | "eea_only" | "EEA_ONLY" | "PLAN_EEA_ONLY" => pb::Plan::EeaOnly,
        other => return Err(format!("--plan {other:?}: expected standard or eea-only")),
    };
    let request = pb::GetCoverageReportRequest {
        plan: plan as i32,
        eea_tagged: args.eea_tagged,
        window_start: Some(parse_when("--from", &args.from)?),
        window_end: Some(parse_when("--to", &args.to)?),
        min_staff: args.min_staff,
    };
    let mut client = pb::coverage_service_client::CoverageServiceClient::connect(args.server.clone())
        .await
        .map_err(|error| format!("cannot reach {}: {error}", args.server))?;
    let progress = spawn_progress();
    let outcome = client.get_coverage_report(request).await;
    progress.abort();
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K");
    }
    let report = outcome.map_err(|status| format!("{:?}: {}", status.code(), status.message()))?.into_inner();
    let text = render(&report, args.format);
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))?
        }
        None => std::io::stdout().write_all(text.as_bytes()).map_err(|error| error.to_string())?,
    }
    Ok(())
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn settings_for_serve(
    listen: Option<String>,
    database_url: Option<String>,
    config: Option<PathBuf>,
    log_format: Option<String>,
) -> Result<Settings, String> {
    let file = match config {
        Some(path) => RawSettings::from_file(&path).map_err(|error| error.to_string())?,
        None => RawSettings::default(),
    };
    let environment = RawSettings::from_environment(|name| std::env::var(name).ok());
    let flags = RawSettings {
        listen,
        database_url,
        log: RawLog { format: log_format, filter: None },
        ..RawSettings::default()
    };
    file.overridden_by(environment).overridden_by(flags).validate().map_err(|error| error.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { listen, database_url, config, log_format } => {
            let settings = match settings_for_serve(listen, database_url, config, log_format) {
                Ok(settings) => settings,
                Err(error) => {
                    eprintln!("eea-coverage: {error}");
                    return ExitCode::from(2);
                }
            };
            init_logging(&settings);
            let runtime =
                tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("building the tokio runtime");
            let outcome = runtime.block_on(async {
                let server = Server::build(&settings).await?;
                server.run_until(shutdown_signal()).await
            });
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(error = %error, "eea-coverage failed");
                    eprintln!("eea-coverage: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Report(args) => {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("building the tokio runtime");
            match runtime.block_on(run_report(args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("eea-coverage report: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

//! The `eea-coverage` binary.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eea_coverage::cli::console::{run_console, ConsoleArgs};
use eea_coverage::cli::deadline::{run_deadline, DeadlineArgs};
use eea_coverage::cli::everyday::{
    run_access, run_agent, run_audit, run_consent, run_decide, run_explain, run_on_shift, run_org, run_policy,
    AccessArgs, AgentArgs, AuditArgs, ConsentArgs, DecideArgs, ExplainArgs, Failure, OnShiftArgs, OrgArgs, PolicyArgs,
};
use eea_coverage::cli::export::{run_export, ExportArgs};
use eea_coverage::cli::import::{run_import, ImportArgs};
use eea_coverage::cli::load::{run_load, LoadArgs};
use eea_coverage::cli::report::{run_report, ReportArgs};
use eea_coverage::cli::watch::{run_watch, WatchArgs};
use eea_coverage::config::{LogFormat, RawLog, RawSettings, Settings};
use eea_coverage::startup::{shutdown_signal, Server};

/// mimalloc rather than the system allocator: snapshots are built and dropped on many threads,
/// and glibc's per-thread arenas kept the memory freed by old snapshots (see docs/benchmarks.md,
/// "Measuring the hot path", with glibc's figures at 50,000 agents).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in the mimalloc release that `libmimalloc-sys` builds (v3: its place
/// in `mi_option_e`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps freed memory before it gives it back to the system, in milliseconds.
const PURGE_DELAY_MS: std::os::raw::c_long = 1;

/// Tells mimalloc to give freed memory back to the system after 1 ms rather than 10 (and ten
/// times that for arenas), so a burst of work such as a coverage report does not hold its peak
/// long after it has freed it. At 5,000 agents, with mimalloc built without transparent huge
/// pages (`no_thp` in Cargo.toml), the peak through a mixed load with three 90-day reports was
/// 87 MB against 92 MB at 10 ms; at 0 ms it was 84 MB, but `DecideTicket` lost about 4% of its
/// rate to the extra system calls (see docs/benchmarks.md, "Memory under the mixed load").
/// `MIMALLOC_PURGE_DELAY`, read when mimalloc starts, still wins: the option is set here only
/// when it is unset.
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        #[allow(unsafe_code, reason = "mimalloc's option setter: a plain C call taking two integers")]
        // SAFETY: `mi_option_set` takes an option's index and a value and may be called at any
        // time; the index is one of this mimalloc release's options.
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
}

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
    /// Apply the retention setting: export what lies before the window, then remove it.
    #[command(
        after_help = "Works on the database directly (beside running servers, holding the writers' lock while it\n\
works). What the roster's history, its commits, the policy versions and the audit trail hold only\n\
about the time before now minus keep_days is written to DIR as JSON lines, with NAME.sha256 beside\n\
it (sha256sum -c checks it), then removed; the removal is an audit event naming the checksum.\n\
Answers as known at any moment from the cutoff on are unchanged; earlier ones are refused.\n\
Example: eea-coverage expire --config eea-coverage.toml --keep-days 400 --export-dir /var/backups/eea"
    )]
    Expire {
        /// postgres://USER@HOST/DB, sqlite://PATH or a plain file path [default: data/eea-coverage.db].
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// TOML configuration file: its database_url and [retention] keep_days.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Days kept before now [default: the configuration's retention.keep_days].
        #[arg(long, value_name = "DAYS")]
        keep_days: Option<u32>,
        /// Expire what lies before this RFC 3339 instant instead (never inside the kept days).
        #[arg(long, value_name = "INSTANT")]
        before: Option<String>,
        /// Where the export is written.
        #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
        export_dir: Option<PathBuf>,
        /// Only print what would be removed, table by table; nothing is written or removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Ask a running server for a coverage report and print it as a table, CSV, JSON or SVG.
    #[command(after_help = "Dates (YYYY-MM-DD) mean midnight in Europe/Brussels, the zone of the policy's hours;\n\
instants are RFC 3339 (2026-12-01T08:00:00Z). The window is [--from, --to), at most 366 days.\n\
Example: eea-coverage report --plan eea-only --from 2026-12-07 --to 2026-12-14 --format svg --output week.svg")]
    Report(ReportArgs),
    /// Read one ticket's SLA clocks on a running server: due in service time, and in service time
    /// with someone eligible on shift.
    #[command(after_help = "Dates (YYYY-MM-DD) mean midnight in Europe/Brussels; instants are RFC 3339.\n\
Example: eea-coverage deadline --org acme --severity 3 --started 2026-12-04T15:30:00Z --target 4h \\\n\
  --pause 2026-12-07T09:00:00Z/2026-12-07T10:00:00Z --at 2026-12-07T12:00:00Z")]
    Deadline(DeadlineArgs),
    /// Follow a running server's live answers and print each change as it comes.
    #[command(after_help = "Examples: eea-coverage watch windows --org acme --severity 1 --severity 3\n\
          eea-coverage watch gaps --plan eea-only --look-ahead 72\n\
Each line: when (with Brussels wall time), the subscription, what happened and why, the answer or gap now.")]
    Watch(WatchArgs),
    /// Stream a CSV or iCalendar file of shifts into SyncShifts on a running server.
    #[command(
        after_help = "The file's entries become exactly the source's shifts and time off that start in [--from, --to).\n\
Columns of the CSV format and the iCalendar properties read: see README.md or docs/examples/.\n\
Example: eea-coverage import --source wfm --from 2026-12-07 --to 2026-12-14 --dry-run docs/examples/shifts.csv"
    )]
    Import(ImportArgs),
    /// Write a window's shifts and time off as CSV or iCalendar, the files import reads.
    #[command(
        after_help = "Entries that start in [--from, --to), as a sync of that window sees them. Exported with --source and\n\
imported again over the same window with the same --source, nothing changes.\n\
Example: eea-coverage export --source wfm --from 2026-12-07 --to 2026-12-14 --output week.ics"
    )]
    Export(ExportArgs),
    /// Print a link that signs a browser into the web console with your token.
    #[command(
        after_help = "The token rides in the link's fragment (#token=...), which browsers never send to a server; the\n\
console keeps it for the browser tab only. The console can also be opened at the URL and the token pasted.\n\
Example: eea-coverage console --url http://127.0.0.1:8080"
    )]
    Console(ConsoleArgs),
    /// Measure a running server: the health check, then DecideTicket, at the same concurrency.
    Load(LoadArgs),
    /// Create, show and list orgs.
    #[command(after_help = EVERYDAY_HELP)]
    Org(OrgArgs),
    /// Create, show and list agents.
    #[command(after_help = EVERYDAY_HELP)]
    Agent(AgentArgs),
    /// Grant, revoke and list per-ticket consents.
    #[command(after_help = EVERYDAY_HELP)]
    Consent(ConsentArgs),
    /// Ask whether a ticket can be handled now, and when its window opens (DecideTicket).
    #[command(after_help = EVERYDAY_HELP)]
    Decide(DecideArgs),
    /// Show the evidence for one ticket: its decision at each change and at each moment it would
    /// have changed, as known then (ExplainTicket).
    #[command(after_help = EVERYDAY_HELP)]
    Explain(ExplainArgs),
    /// Ask whether an agent may handle a ticket (CheckAgentAccess).
    #[command(after_help = EVERYDAY_HELP)]
    Access(AccessArgs),
    /// List who is on shift and eligible at an instant (ListOnShift).
    #[command(name = "on-shift", after_help = EVERYDAY_HELP)]
    OnShift(OnShiftArgs),
    /// Show the policy the server enforces: plans, hours, countries and their bases.
    #[command(after_help = EVERYDAY_HELP)]
    Policy(PolicyArgs),
    /// Read the audit trail of writes (admins).
    #[command(after_help = EVERYDAY_HELP)]
    Audit(AuditArgs),
    /// Print a completion script: eea-coverage completions bash > /etc/bash_completion.d/eea-coverage
    Completions {
        /// bash, zsh or fish.
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
}

const EVERYDAY_HELP: &str =
    "Output: for people by default; --format json prints the contract's messages in the proto3\n\
JSON mapping (a list as a JSON array). Exit codes: 0 done, 1 other failure, 2 bad usage, 3 server\n\
not reached, 4 not found, 5 refused as invalid, 6 not allowed, 7 server unavailable or too slow.";

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

/// `expire`: the retention setting applied once, its outcome printed.
fn run_expire(
    database_url: Option<String>,
    config: Option<PathBuf>,
    keep_days: Option<u32>,
    before: Option<String>,
    export_dir: Option<PathBuf>,
    dry_run: bool,
) -> ExitCode {
    let settings = match settings_for_serve(None, database_url, config, None) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("eea-coverage expire: {error}");
            return ExitCode::from(2);
        }
    };
    let before = match before.map(|text| text.parse::<jiff::Timestamp>().map_err(|_| text)).transpose() {
        Ok(before) => before,
        Err(text) => {
            eprintln!("eea-coverage expire: --before {text:?} is not an RFC 3339 instant (2026-01-01T00:00:00Z)");
            return ExitCode::from(2);
        }
    };
    let now = eea_coverage::clock::now();
    let cutoff = match eea_coverage::startup::expiry_cutoff(keep_days.or(settings.retention_keep_days), before, now) {
        Ok(cutoff) => cutoff,
        Err(error) => {
            eprintln!("eea-coverage {error}");
            return ExitCode::from(2);
        }
    };
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("building the tokio runtime");
    let Some(export_dir) = export_dir.filter(|_| !dry_run) else {
        return match runtime.block_on(eea_coverage::startup::expiry_preview(&settings, cutoff)) {
            Ok((bounds, counts)) => {
                println!("would expire what lies before {}:", bounds.cutoff);
                for (table, count) in counts {
                    println!("  {count} {table}");
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("eea-coverage expire: {error}");
                ExitCode::FAILURE
            }
        };
    };
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let request =
        eea_coverage::startup::ExpiryRequest { cutoff, directory: export_dir, now, caller: format!("command:{user}") };
    match runtime.block_on(eea_coverage::startup::expire(&settings, request)) {
        Ok(report) => {
            let expiry = &report.expiry;
            match (&report.file, &expiry.exported) {
                (Some(file), Some(checksum)) => {
                    let counts: Vec<String> = expiry
                        .removed
                        .iter()
                        .filter(|(_, count)| *count > 0)
                        .map(|(table, count)| format!("{count} {table}"))
                        .collect();
                    println!("expired what lay before {}: {}", expiry.bounds.cutoff, counts.join(", "));
                    println!("exported to {} (sha256 {checksum})", file.display());
                    if let Some(sequence) = expiry.audit_sequence {
                        println!("recorded as audit event {sequence}");
                    }
                }
                _ => println!("nothing lies before {}: nothing expired", expiry.bounds.cutoff),
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("eea-coverage expire: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one of the client commands to completion.
fn run_client(name: &str, command: impl std::future::Future<Output = Result<(), String>>) -> ExitCode {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("building the tokio runtime");
    match runtime.block_on(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("eea-coverage {name}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an everyday command; its failure's exit code says what went wrong.
fn run_everyday(name: &str, command: impl std::future::Future<Output = Result<(), Failure>>) -> ExitCode {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("building the tokio runtime");
    match runtime.block_on(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("eea-coverage {name}: {}", failure.message);
            ExitCode::from(failure.exit_code)
        }
    }
}

/// Lets a client command end quietly when the reader of its output goes away (`| head`), as
/// other command-line tools do, instead of panicking on the failed write. The server keeps
/// Rust's default (SIGPIPE ignored): a peer that closes a socket must not stop it.
fn end_quietly_on_closed_output() {
    #[allow(unsafe_code, reason = "resetting one signal's disposition: a plain C call")]
    // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve { .. } | Command::Load(_)) {
        end_quietly_on_closed_output();
    }
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
        Command::Expire { database_url, config, keep_days, before, export_dir, dry_run } => {
            run_expire(database_url, config, keep_days, before, export_dir, dry_run)
        }
        Command::Report(args) => run_client("report", run_report(args)),
        Command::Deadline(args) => run_client("deadline", run_deadline(args)),
        Command::Watch(args) => run_client("watch", run_watch(args)),
        Command::Import(args) => run_client("import", run_import(args)),
        Command::Export(args) => run_client("export", run_export(args)),
        Command::Console(args) => match run_console(&args) {
            Ok(link) => {
                println!("Open the console (the link holds your token; do not share it):\n{link}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("eea-coverage console: {message}");
                ExitCode::from(2)
            }
        },
        Command::Org(args) => run_everyday("org", run_org(args)),
        Command::Agent(args) => run_everyday("agent", run_agent(args)),
        Command::Consent(args) => run_everyday("consent", run_consent(args)),
        Command::Decide(args) => run_everyday("decide", run_decide(args)),
        Command::Explain(args) => run_everyday("explain", run_explain(args)),
        Command::Access(args) => run_everyday("access", run_access(args)),
        Command::OnShift(args) => run_everyday("on-shift", run_on_shift(args)),
        Command::Policy(args) => run_everyday("policy", run_policy(args)),
        Command::Audit(args) => run_everyday("audit", run_audit(args)),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let shell = match shell.as_str() {
                "zsh" => clap_complete::Shell::Zsh,
                "fish" => clap_complete::Shell::Fish,
                _ => clap_complete::Shell::Bash,
            };
            clap_complete::generate(shell, &mut Cli::command(), "eea-coverage", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Load(args) => {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("building the tokio runtime");
            match runtime.block_on(run_load(args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("eea-coverage load: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

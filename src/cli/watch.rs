//! `eea-coverage watch windows` and `watch gaps`: follow ticket windows
//! (`TicketService.WatchWindows`) or the gaps ahead (`CoverageService.WatchGaps`) on a running
//! server and print a line per message until interrupted.

use crate::cli::connection::{connect, CallerArgs};
use crate::cli::{brussels_text, category, plan, severity};
use crate::pb;

#[derive(clap::Args)]
pub struct WatchArgs {
    #[command(subcommand)]
    what: WatchCommand,
}

#[derive(clap::Subcommand)]
enum WatchCommand {
    /// Whether tickets of an org can be handled now: the current state, then every change.
    Windows(WindowsArgs),
    /// The gaps ahead for a plan's severities: the current ones, then each one opened or
    /// closed by a write, started or ended as time passes.
    Gaps(GapsArgs),
}

#[derive(clap::Args)]
struct GapsArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The plan: standard or eea-only.
    #[arg(long, value_name = "PLAN")]
    plan: String,
    /// For the standard plan: EEA-tagged tickets (true) or untagged ones (false).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    eea_tagged: bool,
    /// 1 to 4; may be repeated (default: all four).
    #[arg(long = "severity", value_name = "N")]
    severities: Vec<u8>,
    /// Distinct eligible agents required at every moment.
    #[arg(long, value_name = "N", default_value_t = 1)]
    min_staff: i32,
    /// How far ahead to watch, in hours (1 to 336).
    #[arg(long, value_name = "HOURS", default_value_t = 72)]
    look_ahead: i64,
    #[command(flatten)]
    caller: CallerArgs,
}

#[derive(clap::Args)]
struct WindowsArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The org whose tickets to follow.
    #[arg(long, value_name = "ORG_ID")]
    org: String,
    /// 1 to 4; may be repeated (default: all four).
    #[arg(long = "severity", value_name = "N")]
    severities: Vec<u8>,
    /// product-support, custom-application-support, professional-services, third-party or
    /// sub-processor.
    #[arg(long, value_name = "CATEGORY", default_value = "product-support")]
    category: String,
    /// A ticket whose consents count.
    #[arg(long, value_name = "TICKET_ID", default_value = "")]
    ticket: String,
    /// Seconds of silence before the server sends a heartbeat (1 to 3600).
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    heartbeat: i64,
    /// Print heartbeats too.
    #[arg(long)]
    show_heartbeats: bool,
    #[command(flatten)]
    caller: CallerArgs,
}

pub async fn run_watch(args: WatchArgs) -> Result<(), String> {
    match args.what {
        WatchCommand::Windows(args) => watch_windows(args).await,
        WatchCommand::Gaps(args) => watch_gaps(args).await,
    }
}

async fn watch_windows(args: WindowsArgs) -> Result<(), String> {
    let numbers = if args.severities.is_empty() { vec![1, 2, 3, 4] } else { args.severities.clone() };
    let category = category(&args.category)?;
    let subscriptions = numbers
        .iter()
        .map(|number| {
            Ok(pb::WindowSubscription {
                org_id: args.org.clone(),
                severity: severity(*number)? as i32,
                category: category as i32,
                ticket_id: args.ticket.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let request = pb::WatchWindowsRequest {
        subscriptions,
        heartbeat_interval: Some(prost_types::Duration { seconds: args.heartbeat, nanos: 0 }),
    };
    let mut client = pb::ticket_service_client::TicketServiceClient::new(connect(&args.server, &args.caller).await?);
    let status_text = |status: tonic::Status| format!("{:?}: {}", status.code(), status.message());
    let mut stream = client.watch_windows(request).await.map_err(status_text)?.into_inner();
    while let Some(message) = stream.message().await.map_err(status_text)? {
        match message.event {
            Some(pb::watch_windows_response::Event::Update(update)) => {
                let severity_number = usize::try_from(update.subscription_index).ok().and_then(|idx| numbers.get(idx));
                println!("{}", describe_update(&args.org, severity_number.copied().unwrap_or(0), &update));
            }
            Some(pb::watch_windows_response::Event::Heartbeat(beat)) if args.show_heartbeats => {
                let at = beat.at.as_ref().map_or_else(|| "-".into(), brussels_text);
                println!("{at}  heartbeat, roster version {}", beat.roster_version);
            }
            _ => {}
        }
    }
    Err("the server ended the watch".into())
}

async fn watch_gaps(args: GapsArgs) -> Result<(), String> {
    let numbers = if args.severities.is_empty() { vec![1, 2, 3, 4] } else { args.severities.clone() };
    let plan = plan(&args.plan)?;
    let requirements = numbers
        .iter()
        .map(|number| {
            Ok(pb::GapRequirement {
                plan: plan as i32,
                eea_tagged: args.eea_tagged,
                severity: severity(*number)? as i32,
                min_staff: args.min_staff,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let request = pb::WatchGapsRequest {
        requirements,
        look_ahead: Some(prost_types::Duration { seconds: args.look_ahead * 3600, nanos: 0 }),
        heartbeat_interval: None,
    };
    let mut client =
        pb::coverage_service_client::CoverageServiceClient::new(connect(&args.server, &args.caller).await?);
    let status_text = |status: tonic::Status| format!("{:?}: {}", status.code(), status.message());
    let mut stream = client.watch_gaps(request).await.map_err(status_text)?.into_inner();
    let (mut n_current, mut watching) = (0, false);
    while let Some(message) = stream.message().await.map_err(status_text)? {
        match message.event {
            Some(pb::watch_gaps_response::Event::Gap(event)) => {
                n_current += usize::from(event.kind() == pb::GapEventKind::Current);
                let severity_number = usize::try_from(event.requirement_index).ok().and_then(|idx| numbers.get(idx));
                println!("{}", describe_gap_event(severity_number.copied().unwrap_or(0), &event));
            }
            Some(pb::watch_gaps_response::Event::Heartbeat(_)) if !watching => {
                watching = true;
                println!("{n_current} gap(s) within the next {} hours; watching", args.look_ahead);
            }
            _ => {}
        }
    }
    Err("the server ended the watch".into())
}

/// One gap event as a line: when, which severity, what happened and why, and the gap.
pub fn describe_gap_event(severity_number: u8, event: &pb::GapEvent) -> String {
    let cause = match event.cause() {
        pb::WindowUpdateCause::CurrentState => "now",
        pb::WindowUpdateCause::TimePassed => "time passed",
        pb::WindowUpdateCause::RosterChanged => "roster changed",
        pb::WindowUpdateCause::Unspecified => "?",
    };
    let kind = event.kind().as_str_name().trim_start_matches("GAP_EVENT_KIND_");
    let at = event.at.as_ref().map_or_else(|| "-".into(), brussels_text);
    let gap = event.gap.as_ref().map_or_else(
        || "-".into(),
        |gap| {
            let when = |timestamp: Option<&prost_types::Timestamp>| timestamp.map_or_else(|| "-".into(), brussels_text);
            format!(
                "gap {} to {}, {} on shift, {}",
                when(gap.starts_at.as_ref()),
                when(gap.ends_at.as_ref()),
                gap.eligible_on_shift,
                gap.cause().as_str_name().trim_start_matches("GAP_CAUSE_")
            )
        },
    );
    format!("{at}  Sev{severity_number}  {kind} ({cause})  {gap}  [roster v{}]", event.roster_version)
}

/// One update as a line: when, which subscription, what changed and why, and the answer now.
pub fn describe_update(org_id: &str, severity_number: u8, update: &pb::WindowUpdate) -> String {
    let cause = match update.cause() {
        pb::WindowUpdateCause::CurrentState => "now",
        pb::WindowUpdateCause::TimePassed => "time passed",
        pb::WindowUpdateCause::RosterChanged => "roster changed",
        pb::WindowUpdateCause::Unspecified => "?",
    };
    let changes: Vec<&str> =
        update.changes().map(|change| change.as_str_name().trim_start_matches("WINDOW_CHANGE_")).collect();
    let what = if changes.is_empty() { "CURRENT".to_owned() } else { changes.join(",") };
    let Some(decision) = &update.decision else {
        return format!(
            "{org_id} Sev{severity_number}  {what} ({cause})  org not found  [roster v{}]",
            update.roster_version
        );
    };
    let at = decision.at.as_ref().map_or_else(|| "-".into(), brussels_text);
    let answer = if decision.handle_now {
        format!("handle now, {} eligible on shift", decision.eligible_on_shift)
    } else {
        let next = decision.next_staffed_at.as_ref().map_or_else(|| "not within 14 days".into(), brussels_text);
        format!("wait: next staffed {next}")
    };
    format!("{at}  {org_id} Sev{severity_number}  {what} ({cause})  {answer}  [roster v{}]", update.roster_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_reads_as_when_what_why_and_the_answer() {
        let at = Some(prost_types::Timestamp { seconds: 1_796_630_400, nanos: 0 });
        let update = pb::WindowUpdate {
            subscription_index: 0,
            cause: pb::WindowUpdateCause::TimePassed as i32,
            changes: vec![pb::WindowChange::WindowOpened as i32],
            roster_version: 12,
            decision: Some(pb::DecideTicketResponse {
                handle_now: true,
                eligible_on_shift: 2,
                at,
                ..Default::default()
            }),
        };
        assert_eq!(
            describe_update("acme", 3, &update),
            "2026-12-07T08:00:00Z (Mon 07 Dec 09:00 Brussels)  acme Sev3  WINDOW_OPENED (time passed)  handle now, 2 eligible on shift  [roster v12]"
        );
        let removed = pb::WindowUpdate {
            cause: pb::WindowUpdateCause::RosterChanged as i32,
            changes: vec![pb::WindowChange::OrgRemoved as i32],
            decision: None,
            ..update
        };
        assert_eq!(
            describe_update("acme", 3, &removed),
            "acme Sev3  ORG_REMOVED (roster changed)  org not found  [roster v12]"
        );
    }
}

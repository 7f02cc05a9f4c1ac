//! `eea-coverage export`: the roster of a window as CSV or iCalendar (written by `formats`),
//! the same files `import` reads, so that exporting a source's window and importing it again
//! over the same window changes nothing.

use std::path::PathBuf;

use crate::cli::connection::{connect, every_page, CallerArgs};
use crate::cli::parse_when;
use crate::domain::interval::Interval;
use crate::domain::time::{Instant, Zone};
use crate::formats::{write_csv, write_icalendar, ImportedEntries};
use crate::pb;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Start of the window: a date (Brussels midnight) or an instant.
    #[arg(long, value_name = "WHEN")]
    from: String,
    /// End of the window (excluded).
    #[arg(long, value_name = "WHEN")]
    to: String,
    /// Only the entries this WFM source synced (what `import --source` replaces); `-` for the
    /// entries no source owns [default: every entry].
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// csv or ics [default: from --output's extension, else csv].
    #[arg(long, value_name = "FORMAT", value_parser = ["csv", "ics"])]
    format: Option<String>,
    /// CSV: also write the agents the entries name, as `agent` rows.
    #[arg(long)]
    with_agents: bool,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    caller: CallerArgs,
}

fn instant_of(timestamp: Option<prost_types::Timestamp>) -> Option<Instant> {
    timestamp.and_then(|timestamp| Instant::new(timestamp.seconds, timestamp.nanos).ok())
}

/// Where an entry starts, by the rule a sync uses to tell what its window holds.
fn shift_start(shift: &pb::Shift) -> Option<Instant> {
    match &shift.schedule {
        Some(pb::shift::Schedule::OneOff(one_off)) => instant_of(one_off.starts_at),
        Some(pb::shift::Schedule::Recurring(recurring)) => {
            let zone = Zone::named(&recurring.time_zone).ok()?;
            Some(zone.to_instant(recurring.start_local.parse().ok()?))
        }
        None => None,
    }
}

/// Writes the window's shifts and time off (those that start in it) to `--output` or standard
/// output.
pub async fn run_export(args: ExportArgs) -> Result<(), String> {
    let (start, end) = (parse_when("--from", &args.from)?, parse_when("--to", &args.to)?);
    let window = Interval::new(instant_of(Some(start)).ok_or("--from")?, instant_of(Some(end)).ok_or("--to")?)
        .ok_or_else(|| format!("--to {} is not after --from {}", args.to, args.from))?;
    let format = args.format.clone().unwrap_or_else(|| {
        let extension = args
            .output
            .as_ref()
            .and_then(|path| path.extension())
            .map(|ext| ext.to_string_lossy().to_ascii_lowercase());
        if extension.as_deref() == Some("ics") {
            "ics".into()
        } else {
            "csv".into()
        }
    });
    let wanted_source = |source: &str| match args.source.as_deref() {
        None => true,
        Some("-") => source.is_empty(),
        Some(name) => source == name,
    };
    let status_text = |status: tonic::Status| format!("{:?}: {}", status.code(), status.message());
    let mut client = pb::roster_service_client::RosterServiceClient::new(connect(&args.server, &args.caller).await?);
    let time_window = Some(pb::TimeWindow { start_at: Some(start), end_at: Some(end) });
    let shifts = every_page(|page_token| {
        let (mut client, window) = (client.clone(), time_window);
        async move {
            let request = pb::ListShiftsRequest { window, page_size: 1_000, page_token, ..Default::default() };
            let page = client.list_shifts(request).await?.into_inner();
            Ok((page.shifts, page.next_page_token))
        }
    })
    .await
    .map_err(status_text)?;
    let time_off = every_page(|page_token| {
        let (mut client, window) = (client.clone(), time_window);
        async move {
            let request = pb::ListTimeOffRequest { agent_id: String::new(), window, page_size: 1_000, page_token };
            let page = client.list_time_off(request).await?.into_inner();
            Ok((page.time_off, page.next_page_token))
        }
    })
    .await
    .map_err(status_text)?;
    // Written as read back: the source is the import's to give.
    let shifts = shifts
        .into_iter()
        .filter(|shift| wanted_source(&shift.source) && shift_start(shift).is_some_and(|start| window.contains(start)))
        .map(|shift| pb::Shift { source: String::new(), ..shift })
        .collect();
    let time_off = time_off
        .into_iter()
        .filter(|entry| {
            wanted_source(&entry.source) && instant_of(entry.starts_at).is_some_and(|start| window.contains(start))
        })
        .map(|entry| pb::TimeOff { source: String::new(), ..entry })
        .collect();
    let mut entries = ImportedEntries { shifts, time_off, ..ImportedEntries::default() };
    if args.with_agents {
        let mut named: Vec<&str> = entries.shifts.iter().map(|shift| shift.agent_id.as_str()).collect();
        named.extend(entries.time_off.iter().map(|entry| entry.agent_id.as_str()));
        named.sort_unstable();
        named.dedup();
        let mut agents = Vec::new();
        for agent_id in named {
            let agent = client
                .get_agent(pb::GetAgentRequest { agent_id: agent_id.to_owned() })
                .await
                .map_err(status_text)?
                .into_inner();
            agents.push(agent);
        }
        entries.agents = agents;
    }
    let text = match format.as_str() {
        "ics" => write_icalendar(&entries, window),
        _ => write_csv(&entries),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))?
        }
        None => print!("{text}"),
    }
    eprintln!("{} shifts and {} time off entries exported", entries.shifts.len(), entries.time_off.len());
    Ok(())
}

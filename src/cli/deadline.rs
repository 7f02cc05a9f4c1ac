//! `eea-coverage deadline`: reads one ticket's SLA clocks from a running server
//! (`TicketService.ComputeDeadlines`) and prints both, or the server's JSON-shaped answer.

use jiff::SignedDuration;

use crate::cli::connection::{connect, CallerArgs};
use crate::cli::{brussels_text, category, parse_when, severity};
use crate::pb;

#[derive(clap::Args)]
pub struct DeadlineArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The ticket's org.
    #[arg(long, value_name = "ORG_ID")]
    org: String,
    /// 1 to 4.
    #[arg(long, value_name = "N")]
    severity: u8,
    /// product-support, custom-application-support, professional-services, third-party or
    /// sub-processor.
    #[arg(long, value_name = "CATEGORY", default_value = "product-support")]
    category: String,
    /// The ticket's ID (consents for it count for the staffed clock).
    #[arg(long, value_name = "TICKET_ID", default_value = "")]
    ticket: String,
    /// When the clock started: a date (midnight in Brussels) or an instant.
    #[arg(long, value_name = "WHEN")]
    started: String,
    /// Service time allowed: `4h`, `1h 30m`, `PT8H`.
    #[arg(long, value_name = "DURATION")]
    target: String,
    /// A pause, `FROM/TO` (instants or dates); may be repeated.
    #[arg(long = "pause", value_name = "FROM/TO")]
    pauses: Vec<String>,
    /// When to read the clocks; default now.
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    #[command(flatten)]
    caller: CallerArgs,
}

/// The request `args` make, checked as far as the command line can.
fn query(args: &DeadlineArgs) -> Result<pb::DeadlineQuery, String> {
    let severity = severity(args.severity)?;
    let target: SignedDuration = args
        .target
        .parse()
        .map_err(|_| format!("--target {:?}: expected a duration such as 4h, 1h 30m or PT8H", args.target))?;
    let pauses = args
        .pauses
        .iter()
        .map(|pause| {
            let (from, to) = pause.split_once('/').ok_or_else(|| format!("--pause {pause:?}: expected FROM/TO"))?;
            Ok(pb::TimeWindow {
                start_at: Some(parse_when("--pause", from)?),
                end_at: Some(parse_when("--pause", to)?),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(pb::DeadlineQuery {
        org_id: args.org.clone(),
        severity: severity as i32,
        category: category(&args.category)? as i32,
        ticket_id: args.ticket.clone(),
        clock_started_at: Some(parse_when("--started", &args.started)?),
        target: Some(prost_types::Duration { seconds: target.as_secs(), nanos: target.subsec_nanos() }),
        pauses,
        at: args.at.as_deref().map(|at| parse_when("--at", at)).transpose()?,
    })
}

fn duration_text(duration: Option<&prost_types::Duration>) -> String {
    let Some(duration) = duration else { return "-".into() };
    let minutes = duration.seconds / 60;
    format!("{}h {:02}m", minutes / 60, minutes % 60)
}

fn instant_text(timestamp: Option<&prost_types::Timestamp>) -> String {
    timestamp.map_or_else(|| "not within 366 days".into(), brussels_text)
}

/// Both clocks, one line each, then what decided the hours.
pub fn describe(deadline: &pb::Deadline) -> String {
    let clock = |name: &str, clock: Option<&pb::SlaClock>| {
        let Some(clock) = clock else { return format!("{name:<22}-\n") };
        format!(
            "{name:<22}due {}, elapsed {}, remaining {}{}\n",
            instant_text(clock.due_at.as_ref()),
            duration_text(clock.elapsed.as_ref()),
            duration_text(clock.remaining.as_ref()),
            if clock.breached { ", BREACHED" } else { "" }
        )
    };
    let hours = if deadline.around_the_clock { "around the clock" } else { "business hours" };
    format!(
        "{}{}plan {} ({hours}), EEA-tagged: {}, read at {}\n",
        clock("service time:", deadline.service_time.as_ref()),
        clock("staffed service time:", deadline.staffed_service_time.as_ref()),
        deadline.plan().as_str_name(),
        deadline.eea_tagged,
        instant_text(deadline.at.as_ref()),
    )
}

/// Asks the server and prints the answer, or the item's error.
pub async fn run_deadline(args: DeadlineArgs) -> Result<(), String> {
    let request = pb::ComputeDeadlinesRequest { items: vec![query(&args)?], as_known_at: None };
    let mut client = pb::ticket_service_client::TicketServiceClient::new(connect(&args.server, &args.caller).await?);
    let response = client
        .compute_deadlines(request)
        .await
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?
        .into_inner();
    match response.answers.into_iter().next().and_then(|answer| answer.outcome) {
        Some(pb::deadline_answer::Outcome::Deadline(deadline)) => {
            print!("{}", describe(&deadline));
            Ok(())
        }
        Some(pb::deadline_answer::Outcome::Error(error)) => {
            let fields: Vec<String> = error
                .violations
                .iter()
                .map(|violation| format!("{}: {}", violation.field, violation.description))
                .collect();
            Err(format!("{} ({})", error.message, fields.join("; ")))
        }
        None => Err("the server sent no answer".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Option<prost_types::Timestamp> {
        let instant: jiff::Timestamp = text.parse().unwrap();
        Some(prost_types::Timestamp { seconds: instant.as_second(), nanos: 0 })
    }

    #[test]
    fn both_clocks_are_printed_with_brussels_wall_time() {
        let clock = |due: Option<prost_types::Timestamp>, breached| pb::SlaClock {
            due_at: due,
            elapsed: Some(prost_types::Duration { seconds: 5400, nanos: 0 }),
            remaining: Some(prost_types::Duration { seconds: 9000, nanos: 0 }),
            breached,
        };
        let deadline = pb::Deadline {
            eea_tagged: true,
            plan: pb::Plan::EeaOnly as i32,
            org_plan: pb::Plan::EeaOnly as i32,
            around_the_clock: false,
            at: ts("2026-12-04T16:30:00Z"),
            service_time: Some(clock(ts("2026-12-07T10:30:00Z"), false)),
            staffed_service_time: Some(clock(None, false)),
        };
        assert_eq!(
            describe(&deadline),
            "service time:         due 2026-12-07T10:30:00Z (Mon 07 Dec 11:30 Brussels), elapsed 1h 30m, remaining 2h 30m\n\
             staffed service time: due not within 366 days, elapsed 1h 30m, remaining 2h 30m\n\
             plan PLAN_EEA_ONLY (business hours), EEA-tagged: true, read at 2026-12-04T16:30:00Z (Fri 04 Dec 17:30 Brussels)\n"
        );
    }
}

//! `explain`: the evidence for one ticket (`TicketService.ExplainTicket`), every page of it, one
//! moment after another.

use super::tickets::known_as_text;
use super::{print_list, short_name, when_text, CommonArgs, Failure};
use crate::cli::parse_when;
use crate::pb;

#[derive(clap::Args)]
pub struct ExplainArgs {
    #[arg(long, value_name = "ORG")]
    org: String,
    /// The ticket, for per-ticket consents.
    #[arg(long, value_name = "TICKET", default_value = "")]
    ticket: String,
    /// When the ticket was created: a date (Brussels midnight) or an instant.
    #[arg(long, value_name = "WHEN")]
    created_at: String,
    /// Its severity when created, 1 to 4.
    #[arg(long, value_name = "N")]
    severity: u8,
    /// Its category when created: product-support (default), custom-application-support,
    /// professional-services, third-party or sub-processor.
    #[arg(long, value_name = "CATEGORY", default_value = "product-support")]
    category: String,
    /// A change of the ticket, in order: WHEN,severity=N and/or WHEN,category=NAME, for example
    /// 2026-03-03T10:00:00Z,severity=1. Repeat for each change.
    #[arg(long = "change", value_name = "WHEN,FIELD=VALUE")]
    changes: Vec<String>,
    /// Where the explanation ends: a date or an instant [default: now].
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

/// One `--change` text: `WHEN,severity=N`, `WHEN,category=NAME` or both, in any order.
fn parse_change(text: &str) -> Result<pb::TicketChange, String> {
    let mut parts = text.split(',');
    let when = parts.next().unwrap_or_default();
    let mut change = pb::TicketChange { at: Some(parse_when("--change", when)?), severity: 0, category: 0 };
    for part in parts {
        match part.split_once('=') {
            Some(("severity", number)) => {
                let number = number.parse::<u8>().map_err(|_| format!("--change {text:?}: severity is 1 to 4"))?;
                change.severity = crate::cli::severity(number)? as i32;
            }
            Some(("category", name)) => change.category = crate::cli::category(name)? as i32,
            _ => {
                return Err(format!(
                    "--change {text:?}: expected WHEN,severity=N and/or WHEN,category=NAME, \
                     such as 2026-03-03T10:00:00Z,severity=1"
                ))
            }
        }
    }
    if change.severity == 0 && change.category == 0 {
        return Err(format!("--change {text:?}: a change sets severity=N, category=NAME or both"));
    }
    Ok(change)
}

pub async fn run_explain(args: ExplainArgs) -> Result<(), Failure> {
    let changes = args.changes.iter().map(|text| parse_change(text)).collect::<Result<Vec<_>, _>>()?;
    let mut request = pb::ExplainTicketRequest {
        org_id: args.org,
        ticket_id: args.ticket,
        created_at: Some(parse_when("--created-at", &args.created_at)?),
        severity: crate::cli::severity(args.severity)? as i32,
        category: crate::cli::category(&args.category)? as i32,
        changes,
        until: args.until.as_deref().map(|text| parse_when("--until", text)).transpose()?,
        from: None,
    };
    let mut client = pb::ticket_service_client::TicketServiceClient::new(args.common.channel().await?);
    let mut moments = Vec::new();
    loop {
        let page = client.explain_ticket(request.clone()).await?.into_inner();
        let mut page_moments = page.moments.into_iter();
        // A later page begins with the answer where it resumed: when nothing but the page's
        // start lists it, the moments before already said it; otherwise it is listed for what
        // changed there.
        if !moments.is_empty() {
            if let Some(mut first) = page_moments.next() {
                first.causes.retain(|cause| *cause != pb::ExplainCause::Continued as i32);
                if !first.causes.is_empty() {
                    moments.push(first);
                }
            }
        }
        moments.extend(page_moments);
        match page.next_from {
            // Every later page ends where the first one said, not at a later "now".
            Some(next_from) => {
                request.until = page.until;
                request.from = Some(next_from);
            }
            None => break,
        }
    }
    if args.common.json() {
        print_list(&args.common, &moments, "ExplainedMoment", &[], |_| Vec::new());
        return Ok(());
    }
    for moment in &moments {
        print!("{}", moment_text(moment));
    }
    Ok(())
}

/// A moment for people: when, why, the decision and what it rested on.
fn moment_text(moment: &pb::ExplainedMoment) -> String {
    let mut out = format!("{}\n  {}\n", when_text(&moment.at), moment.summary);
    if let Some(decision) = &moment.decision {
        out.push_str(&format!(
            "  {}, plan {}, {} eligible on shift\n",
            if decision.handle_now { "handle now" } else { "not now" },
            short_name(decision.plan().as_str_name(), "PLAN_"),
            decision.eligible_on_shift
        ));
    }
    let changes: Vec<String> =
        moment.changes().map(|change| short_name(change.as_str_name(), "WINDOW_CHANGE_").to_lowercase()).collect();
    if !changes.is_empty() {
        out.push_str(&format!("  changed: {}\n", changes.join(", ")));
    }
    out.push_str(&known_as_text(moment.known_as.as_ref()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_names_its_instant_and_what_it_sets() {
        let change = parse_change("2026-03-03T10:00:00Z,severity=1,category=third-party").unwrap();
        assert_eq!(change.at.unwrap().seconds, 1_772_532_000);
        assert_eq!(change.severity, pb::Severity::Severity1 as i32);
        assert_eq!(change.category, pb::TicketCategory::ThirdParty as i32);
        let change = parse_change("2026-03-03,category=sub-processor").unwrap();
        assert_eq!(change.severity, 0);
        assert_eq!(change.category, pb::TicketCategory::SubProcessor as i32);
    }

    #[test]
    fn a_change_that_sets_nothing_or_something_unknown_is_refused() {
        assert!(parse_change("2026-03-03T10:00:00Z").unwrap_err().contains("sets severity=N"));
        assert!(parse_change("2026-03-03T10:00:00Z,severity=5").unwrap_err().contains("1 to 4"));
        assert!(parse_change("2026-03-03T10:00:00Z,priority=1").unwrap_err().contains("expected WHEN"));
        assert!(parse_change("yesterday,severity=1").unwrap_err().contains("neither a date"));
    }
}

//! `decide`, `access` and `on-shift`: the ticket system's questions; `policy` and `audit`: what
//! the service enforces and what was written.

use super::{print_list, print_one, short_name, when_text, CommonArgs, Failure};
use crate::cli::parse_when;
use crate::pb;

/// `--at WHEN`, or now when absent.
fn at(text: &Option<String>) -> Result<Option<prost_types::Timestamp>, String> {
    text.as_deref().map(|text| parse_when("--at", text)).transpose()
}

#[derive(clap::Args)]
pub struct DecideArgs {
    #[arg(long, value_name = "ORG")]
    org: String,
    /// 1 to 4.
    #[arg(long, value_name = "N")]
    severity: u8,
    /// product-support (default), custom-application-support, professional-services,
    /// third-party or sub-processor.
    #[arg(long, value_name = "CATEGORY", default_value = "product-support")]
    category: String,
    /// The ticket, for per-ticket consents.
    #[arg(long, value_name = "TICKET", default_value = "")]
    ticket: String,
    /// When to decide for: a date (Brussels midnight) or an instant [default: now].
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    /// Answer as the service would have at this moment, from what had been committed by then:
    /// a date (Brussels midnight) or an instant [default: now].
    #[arg(long, value_name = "WHEN")]
    as_known_at: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

pub async fn run_decide(args: DecideArgs) -> Result<(), Failure> {
    let request = pb::DecideTicketRequest {
        org_id: args.org,
        severity: crate::cli::severity(args.severity)? as i32,
        category: crate::cli::category(&args.category)? as i32,
        ticket_id: args.ticket,
        at: at(&args.at)?,
        as_known_at: at(&args.as_known_at)?,
    };
    let mut client = pb::ticket_service_client::TicketServiceClient::new(args.common.channel().await?);
    let decision = client.decide_ticket(request).await?.into_inner();
    print_one(&args.common, &decision, "DecideTicketResponse", |decision| {
        let mut out = format!(
            "{} at {}\n  {}\n  plan {}{}, {} eligible on shift\n",
            if decision.handle_now { "handle now" } else { "not now" },
            when_text(&decision.at),
            decision.detail,
            short_name(decision.plan().as_str_name(), "PLAN_"),
            if decision.eea_tagged { " (EEA-tagged)" } else { "" },
            decision.eligible_on_shift
        );
        for (label, value) in [
            ("window closes", &decision.window_closes_at),
            ("window opens", &decision.window_opens_at),
            ("next staffed", &decision.next_staffed_at),
        ] {
            if value.is_some() && !(label == "next staffed" && decision.handle_now) {
                out.push_str(&format!("  {label} {}\n", when_text(value)));
            }
        }
        out.push_str(&known_as_text(decision.known_as.as_ref()));
        out
    });
    Ok(())
}

#[derive(clap::Args)]
pub struct AccessArgs {
    #[arg(long, value_name = "ORG")]
    org: String,
    #[arg(long, value_name = "TICKET")]
    ticket: String,
    #[arg(long, value_name = "AGENT")]
    agent: String,
    /// 1 to 4.
    #[arg(long, value_name = "N")]
    severity: u8,
    #[arg(long, value_name = "CATEGORY", default_value = "product-support")]
    category: String,
    /// A date (Brussels midnight) or an instant [default: now].
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    /// Answer as the service would have at this moment, from what had been committed by then:
    /// a date (Brussels midnight) or an instant [default: now].
    #[arg(long, value_name = "WHEN")]
    as_known_at: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

pub async fn run_access(args: AccessArgs) -> Result<(), Failure> {
    let request = pb::CheckAgentAccessRequest {
        org_id: args.org,
        ticket_id: args.ticket,
        severity: crate::cli::severity(args.severity)? as i32,
        category: crate::cli::category(&args.category)? as i32,
        agent_id: args.agent,
        at: at(&args.at)?,
        as_known_at: at(&args.as_known_at)?,
    };
    let mut client = pb::ticket_service_client::TicketServiceClient::new(args.common.channel().await?);
    let answer = client.check_agent_access(request).await?.into_inner();
    print_one(&args.common, &answer, "CheckAgentAccessResponse", |answer| {
        format!(
            "{} ({})\n  {}\n  works from {}; {}on shift for this severity\n",
            if answer.allowed { "allowed" } else { "denied" },
            short_name(answer.reason().as_str_name(), "ACCESS_REASON_"),
            answer.detail,
            answer.agent_country,
            if answer.on_shift { "" } else { "not " }
        )
    });
    Ok(())
}

#[derive(clap::Args)]
pub struct OnShiftArgs {
    /// standard or eea-only.
    #[arg(long, value_name = "PLAN", default_value = "eea-only")]
    plan: String,
    /// For the standard plan: EEA-tagged tickets (true) or untagged ones (false).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    eea_tagged: bool,
    /// 1 to 4.
    #[arg(long, value_name = "N", default_value_t = 1)]
    severity: u8,
    /// A date (Brussels midnight) or an instant [default: now].
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    /// Answer as the service would have at this moment, from what had been committed by then:
    /// a date (Brussels midnight) or an instant [default: now].
    #[arg(long, value_name = "WHEN")]
    as_known_at: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

pub async fn run_on_shift(args: OnShiftArgs) -> Result<(), Failure> {
    let request = pb::ListOnShiftRequest {
        plan: crate::cli::plan(&args.plan)? as i32,
        eea_tagged: args.eea_tagged,
        severity: crate::cli::severity(args.severity)? as i32,
        at: at(&args.at)?,
        as_known_at: at(&args.as_known_at)?,
    };
    let mut client = pb::coverage_service_client::CoverageServiceClient::new(args.common.channel().await?);
    let answer = client.list_on_shift(request).await?.into_inner();
    if args.common.json() {
        print_one(&args.common, &answer, "ListOnShiftResponse", |_| String::new());
        return Ok(());
    }
    println!("{} eligible on shift at {}", answer.agents.len(), when_text(&answer.at));
    print_list(&args.common, &answer.agents, "OnShiftAgent", &["AGENT", "COUNTRY", "SHIFT", "UNTIL"], |agent| {
        vec![agent.agent_id.clone(), agent.country.clone(), agent.shift_id.clone(), when_text(&agent.until)]
    });
    Ok(())
}

#[derive(clap::Args)]
pub struct PolicyArgs {
    /// Which bases are in force at this instant or date [default: now].
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

pub async fn run_policy(args: PolicyArgs) -> Result<(), Failure> {
    let mut client = pb::policy_service_client::PolicyServiceClient::new(args.common.channel().await?);
    let policy = client.get_policy(pb::GetPolicyRequest { at: at(&args.at)? }).await?.into_inner();
    print_one(&args.common, &policy, "Policy", |policy| {
        let mut out = format!(
            "policy {} (tz database {}), effective {}\n",
            policy.policy_version,
            policy.tz_database_version,
            when_text(&policy.effective_at)
        );
        for plan in &policy.plans {
            let hours: Vec<String> = plan
                .service_hours
                .iter()
                .map(|hours| format!("{} {}", short_name(hours.severity().as_str_name(), "SEVERITY_"), hours.hours))
                .collect();
            out.push_str(&format!("{}: {}\n", short_name(plan.plan().as_str_name(), "PLAN_"), hours.join(", ")));
        }
        out.push_str("countries whose staff may handle EEA-tagged tickets on STANDARD:\n");
        for country in policy.countries.iter().filter(|country| country.in_force) {
            out.push_str(&format!(
                "  {} {} ({})\n",
                country.country,
                country.name,
                short_name(country.basis().as_str_name(), "TRANSFER_BASIS_").to_ascii_lowercase()
            ));
        }
        out.push_str("working time (Working Time Directive):\n");
        for limits in &policy.working_time {
            let hours = |duration: &Option<prost_types::Duration>| {
                let seconds = duration.map_or(0, |duration| duration.seconds);
                if seconds % 3_600 == 0 {
                    format!("{}h", seconds / 3_600)
                } else {
                    format!("{}h{:02}", seconds / 3_600, seconds % 3_600 / 60)
                }
            };
            out.push_str(&format!(
                "  {}: daily rest {}, weekly rest {}, at most {} a week on average over {} weeks, night {}-{} \
                 (night worker from {} a night) [{}]\n",
                if limits.country.is_empty() { "defaults" } else { limits.country.as_str() },
                hours(&limits.daily_rest),
                hours(&limits.weekly_rest),
                hours(&limits.max_average_weekly_work),
                limits.reference_weeks,
                limits.night_starts,
                limits.night_ends,
                hours(&limits.night_worker_min_night_work),
                limits.source
            ));
        }
        out
    });
    Ok(())
}

#[derive(clap::Args)]
pub struct AuditArgs {
    /// Only this caller, as recorded (token:NAME or certificate:SUBJECT).
    #[arg(long, value_name = "CALLER", default_value = "")]
    caller: String,
    /// Only this method, for example eeacoverage.v1.RosterService/SyncShifts.
    #[arg(long, value_name = "METHOD", default_value = "")]
    rpc: String,
    /// Recorded at or after (a date or an instant).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Recorded before.
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
    /// Only events that touched this entity: org, agent, shift, time-off, ticket or source, and
    /// its ID, as KIND:ID.
    #[arg(long, value_name = "KIND:ID")]
    entity: Option<String>,
    /// At most this many events, the oldest first.
    #[arg(long, value_name = "N", default_value_t = 200)]
    limit: usize,
    #[command(flatten)]
    common: CommonArgs,
}

fn entity_kind(name: &str) -> Result<pb::AuditEntityKind, String> {
    use pb::AuditEntityKind as Kind;
    Ok(match name {
        "org" => Kind::Org,
        "agent" => Kind::Agent,
        "shift" => Kind::Shift,
        "time-off" | "time_off" => Kind::TimeOff,
        "ticket" => Kind::Ticket,
        "source" => Kind::Source,
        other => return Err(format!("--entity {other:?}: expected org, agent, shift, time-off, ticket or source")),
    })
}

pub async fn run_audit(args: AuditArgs) -> Result<(), Failure> {
    let (kind, entity_id) = match &args.entity {
        Some(text) => {
            let (kind, id) = text
                .split_once(':')
                .ok_or_else(|| format!("--entity {text:?}: expected KIND:ID, such as agent:ie-0042"))?;
            (entity_kind(kind)? as i32, id.to_owned())
        }
        None => (0, String::new()),
    };
    let since = args.since.as_deref().map(|text| parse_when("--since", text)).transpose()?;
    let until = args.until.as_deref().map(|text| parse_when("--until", text)).transpose()?;
    let mut client = pb::policy_service_client::PolicyServiceClient::new(args.common.channel().await?);
    let mut events = Vec::new();
    let mut page_token = String::new();
    while events.len() < args.limit {
        let request = pb::ListAuditEventsRequest {
            page_size: 200,
            page_token,
            caller: args.caller.clone(),
            rpc: args.rpc.clone(),
            since,
            until,
            entity_kind: kind,
            entity_id: entity_id.clone(),
            after_sequence: 0,
        };
        let page = client.list_audit_events(request).await?.into_inner();
        events.extend(page.events);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    events.truncate(args.limit);
    print_list(&args.common, &events, "AuditEvent", &["SEQ", "RECORDED", "CALLER", "METHOD", "SUMMARY"], |event| {
        vec![
            event.sequence.to_string(),
            event.recorded_at.map_or("-".into(), |at| {
                jiff::Timestamp::new(at.seconds, at.nanos).map_or("-".into(), |instant| instant.to_string())
            }),
            event.caller.clone(),
            event.rpc.rsplit('.').next().unwrap_or(&event.rpc).to_owned(),
            event.summary.clone(),
        ]
    });
    Ok(())
}

/// Where an answer about a past moment came from, as a line; empty for an answer about now.
pub fn known_as_text(known_as: Option<&pb::KnownAs>) -> String {
    known_as.map_or_else(String::new, |known| {
        format!(
            "  as known at {}: roster version {} (committed {}), policy version {} (in force since {})\n",
            when_text(&known.as_known_at),
            known.roster_version,
            when_text(&known.roster_committed_at),
            known.policy_version,
            when_text(&known.policy_effective_at)
        )
    })
}

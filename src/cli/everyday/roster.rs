//! `org`, `agent` and `consent`: the records a manager keeps by hand.

use super::{every_page, print_list, print_one, short_name, when_text, CommonArgs, Failure};
use crate::cli::parse_when;
use crate::pb;

#[derive(clap::Args)]
pub struct OrgArgs {
    #[command(subcommand)]
    action: OrgAction,
}

#[derive(clap::Subcommand)]
enum OrgAction {
    /// Create or replace an org.
    Set {
        org_id: String,
        /// Its cloud region, for example eu-central-1 (the policy's regions: `eea-coverage policy`).
        #[arg(long, value_name = "REGION")]
        region: String,
        /// standard or eea-only.
        #[arg(long, value_name = "PLAN")]
        plan: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Show one org.
    Get {
        org_id: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// List every org.
    List {
        #[command(flatten)]
        common: CommonArgs,
    },
}

fn org_lines(org: &pb::Org) -> String {
    format!(
        "org {}\n  region {} ({}){}\n  plan {}\n",
        org.org_id,
        org.cloud_region,
        org.region_country,
        if org.eea_tagged { ", EEA-tagged" } else { "" },
        short_name(org.plan().as_str_name(), "PLAN_")
    )
}

pub async fn run_org(args: OrgArgs) -> Result<(), Failure> {
    match args.action {
        OrgAction::Set { org_id, region, plan, common } => {
            let plan = crate::cli::plan(&plan)?;
            let org = pb::Org { org_id, cloud_region: region, plan: plan as i32, ..Default::default() };
            let mut client = pb::policy_service_client::PolicyServiceClient::new(common.channel().await?);
            let stored = client.upsert_org(pb::UpsertOrgRequest { org: Some(org) }).await?.into_inner();
            print_one(&common, &stored, "Org", org_lines);
        }
        OrgAction::Get { org_id, common } => {
            let mut client = pb::policy_service_client::PolicyServiceClient::new(common.channel().await?);
            let org = client.get_org(pb::GetOrgRequest { org_id }).await?.into_inner();
            print_one(&common, &org, "Org", org_lines);
        }
        OrgAction::List { common } => {
            let client = pb::policy_service_client::PolicyServiceClient::new(common.channel().await?);
            let orgs = every_page(|page_token| {
                let mut client = client.clone();
                async move {
                    let page = client.list_orgs(pb::ListOrgsRequest { page_size: 1_000, page_token }).await?;
                    let page = page.into_inner();
                    Ok((page.orgs, page.next_page_token))
                }
            })
            .await?;
            print_list(&common, &orgs, "Org", &["ORG", "REGION", "COUNTRY", "EEA-TAGGED", "PLAN"], |org| {
                vec![
                    org.org_id.clone(),
                    org.cloud_region.clone(),
                    org.region_country.clone(),
                    if org.eea_tagged { "yes".into() } else { "no".into() },
                    short_name(org.plan().as_str_name(), "PLAN_"),
                ]
            });
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct AgentArgs {
    #[command(subcommand)]
    action: AgentAction,
}

#[derive(clap::Subcommand)]
enum AgentAction {
    /// Create or replace an agent.
    Set {
        agent_id: String,
        /// The agent's name (personal information: the server never logs it).
        #[arg(long, value_name = "NAME", default_value = "")]
        name: String,
        /// Where the agent works from: ISO 3166-1 alpha-2.
        #[arg(long, value_name = "CC")]
        country: String,
        /// The agent's home IANA zone, for example Europe/Dublin.
        #[arg(long, value_name = "ZONE")]
        time_zone: String,
        /// A severity the agent handles (repeat for several; none means all).
        #[arg(long = "severity", value_name = "N")]
        severities: Vec<u8>,
        /// From an instant on, the agent works from another country: INSTANT=CC (repeatable).
        #[arg(long = "location-change", value_name = "INSTANT=CC")]
        location_changes: Vec<String>,
        /// The WFM system that owns the agent, if one does.
        #[arg(long, value_name = "NAME", default_value = "")]
        source: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Show one agent.
    Get {
        agent_id: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// List every agent.
    List {
        #[command(flatten)]
        common: CommonArgs,
    },
}

fn severities_text(severities: &[i32]) -> String {
    if severities.is_empty() {
        "all".into()
    } else {
        severities.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
    }
}

fn agent_lines(agent: &pb::Agent) -> String {
    let mut out = format!(
        "agent {}{}\n  works from {} (home zone {})\n  severities {}\n",
        agent.agent_id,
        if agent.display_name.is_empty() { String::new() } else { format!(" ({})", agent.display_name) },
        agent.country,
        agent.time_zone,
        severities_text(&agent.severities)
    );
    for change in &agent.location_changes {
        out.push_str(&format!("  from {} works from {}\n", when_text(&change.effective_at), change.country));
    }
    out
}

pub async fn run_agent(args: AgentArgs) -> Result<(), Failure> {
    match args.action {
        AgentAction::Set { agent_id, name, country, time_zone, severities, location_changes, source, common } => {
            let severities = severities
                .into_iter()
                .map(|number| crate::cli::severity(number).map(|severity| severity as i32))
                .collect::<Result<Vec<_>, _>>()?;
            let location_changes = location_changes
                .iter()
                .map(|text| {
                    let (at, country) = text.split_once('=').ok_or_else(|| {
                        format!("--location-change {text:?}: expected INSTANT=CC, such as 2027-01-04T00:00:00Z=NO")
                    })?;
                    Ok(pb::LocationChange {
                        effective_at: Some(parse_when("--location-change", at)?),
                        country: country.to_owned(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let agent = pb::Agent { agent_id, display_name: name, country, time_zone, severities, location_changes };
            let mut client = pb::roster_service_client::RosterServiceClient::new(common.channel().await?);
            let reply =
                client.upsert_agents(pb::UpsertAgentsRequest { agents: vec![agent], source }).await?.into_inner();
            if let Some(stored) = reply.agents.first() {
                print_one(&common, stored, "Agent", agent_lines);
            }
        }
        AgentAction::Get { agent_id, common } => {
            let mut client = pb::roster_service_client::RosterServiceClient::new(common.channel().await?);
            let agent = client.get_agent(pb::GetAgentRequest { agent_id }).await?.into_inner();
            print_one(&common, &agent, "Agent", agent_lines);
        }
        AgentAction::List { common } => {
            let client = pb::roster_service_client::RosterServiceClient::new(common.channel().await?);
            let agents = every_page(|page_token| {
                let mut client = client.clone();
                async move {
                    let page = client.list_agents(pb::ListAgentsRequest { page_size: 1_000, page_token }).await?;
                    let page = page.into_inner();
                    Ok((page.agents, page.next_page_token))
                }
            })
            .await?;
            print_list(&common, &agents, "Agent", &["AGENT", "NAME", "COUNTRY", "HOME ZONE", "SEVERITIES"], |agent| {
                vec![
                    agent.agent_id.clone(),
                    agent.display_name.clone(),
                    agent.country.clone(),
                    agent.time_zone.clone(),
                    severities_text(&agent.severities),
                ]
            });
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ConsentArgs {
    #[command(subcommand)]
    action: ConsentAction,
}

#[derive(clap::Subcommand)]
enum ConsentAction {
    /// Record a customer's consent to one agent handling one ticket, until an instant.
    Grant {
        #[arg(long, value_name = "ORG")]
        org: String,
        #[arg(long, value_name = "TICKET")]
        ticket: String,
        #[arg(long, value_name = "AGENT")]
        agent: String,
        /// The consent holds before this instant (or date: Brussels midnight).
        #[arg(long, value_name = "WHEN")]
        expires: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Withdraw a consent.
    Revoke {
        #[arg(long, value_name = "ORG")]
        org: String,
        #[arg(long, value_name = "TICKET")]
        ticket: String,
        #[arg(long, value_name = "AGENT")]
        agent: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// List an org's consents, or one ticket's.
    List {
        #[arg(long, value_name = "ORG")]
        org: String,
        #[arg(long, value_name = "TICKET", default_value = "")]
        ticket: String,
        #[command(flatten)]
        common: CommonArgs,
    },
}

fn consent_lines(consent: &pb::Consent) -> String {
    format!(
        "consent: agent {} may handle ticket {} of org {} until {}\n",
        consent.agent_id,
        consent.ticket_id,
        consent.org_id,
        when_text(&consent.expires_at)
    )
}

pub async fn run_consent(args: ConsentArgs) -> Result<(), Failure> {
    match args.action {
        ConsentAction::Grant { org, ticket, agent, expires, common } => {
            let consent = pb::Consent {
                org_id: org,
                ticket_id: ticket,
                agent_id: agent,
                expires_at: Some(parse_when("--expires", &expires)?),
            };
            let mut client = pb::policy_service_client::PolicyServiceClient::new(common.channel().await?);
            let stored = client.grant_consent(pb::GrantConsentRequest { consent: Some(consent) }).await?.into_inner();
            print_one(&common, &stored, "Consent", consent_lines);
        }
        ConsentAction::Revoke { org, ticket, agent, common } => {
            let mut client = pb::policy_service_client::PolicyServiceClient::new(common.channel().await?);
            let request =
                pb::RevokeConsentRequest { org_id: org.clone(), ticket_id: ticket.clone(), agent_id: agent.clone() };
            client.revoke_consent(request).await?;
            if common.json() {
                println!("{{}}");
            } else {
                println!("consent of agent {agent} for ticket {ticket} of org {org} revoked");
            }
        }
        ConsentAction::List { org, ticket, common } => {
            let client = pb::policy_service_client::PolicyServiceClient::new(common.channel().await?);
            let consents = every_page(|page_token| {
                let (mut client, org_id, ticket_id) = (client.clone(), org.clone(), ticket.clone());
                async move {
                    let request = pb::ListConsentsRequest { org_id, ticket_id, page_size: 1_000, page_token };
                    let page = client.list_consents(request).await?.into_inner();
                    Ok((page.consents, page.next_page_token))
                }
            })
            .await?;
            print_list(&common, &consents, "Consent", &["ORG", "TICKET", "AGENT", "EXPIRES"], |consent| {
                vec![
                    consent.org_id.clone(),
                    consent.ticket_id.clone(),
                    consent.agent_id.clone(),
                    when_text(&consent.expires_at),
                ]
            });
        }
    }
    Ok(())
}

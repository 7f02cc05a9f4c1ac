//! Display names never reach a log line, at any level: a server is driven through every call
//! that carries or returns agents while every log line, down to TRACE and including the
//! libraries', is captured; then the capture is searched for the names sent.
//!
//! A test binary of its own, because it installs the process-wide log subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};

use eea_coverage::cli::connection::with_token;
use eea_coverage::pb;
use eea_coverage::testing::{settings_with_admin_token, SpawnedServer};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("the capture lock is never poisoned").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const NAMES: [&str; 3] = ["Aoife Ní Bhriain", "Zbigniew Wróblewski", "Marie-Claire Dubois"];

fn timestamp(text: &str) -> prost_types::Timestamp {
    let instant: jiff::Timestamp = text.parse().unwrap();
    prost_types::Timestamp { seconds: instant.as_second(), nanos: 0 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_display_name_reaches_any_log_line() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let directory = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", directory.path().join("logs.db").display());
    let server =
        SpawnedServer::start(&settings_with_admin_token(&database_url, "logs-admin", "logs-admin-token")).await;
    let channel = server.connect().await;
    let channel = with_token(channel, Some("logs-admin-token"));
    let mut roster = pb::roster_service_client::RosterServiceClient::new(channel.clone());
    let mut policy = pb::policy_service_client::PolicyServiceClient::new(channel.clone());
    let mut tickets = pb::ticket_service_client::TicketServiceClient::new(channel.clone());
    let mut coverage = pb::coverage_service_client::CoverageServiceClient::new(channel);

    policy
        .upsert_org(pb::UpsertOrgRequest {
            org: Some(pb::Org {
                org_id: "acme".into(),
                cloud_region: "eu-west-1".into(),
                plan: pb::Plan::EeaOnly as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let agents: Vec<pb::Agent> = NAMES
        .iter()
        .enumerate()
        .map(|(agent_idx, name)| pb::Agent {
            agent_id: format!("agent-{agent_idx}"),
            display_name: (*name).to_owned(),
            country: "IE".into(),
            time_zone: "Europe/Dublin".into(),
            severities: vec![],
            location_changes: vec![],
        })
        .collect();
    roster.upsert_agents(pb::UpsertAgentsRequest { agents: agents.clone(), source: "wfm".into() }).await.unwrap();
    // A rejected batch echoes nothing of the names either.
    let mut bad = agents[0].clone();
    bad.country = "XX".into();
    roster.upsert_agents(pb::UpsertAgentsRequest { agents: vec![bad], source: String::new() }).await.unwrap_err();
    roster.get_agent(pb::GetAgentRequest { agent_id: "agent-1".into() }).await.unwrap();
    roster.list_agents(pb::ListAgentsRequest::default()).await.unwrap();
    let shift = pb::Shift {
        source: String::new(),
        shift_id: "s".into(),
        agent_id: "agent-0".into(),
        severities: vec![],
        country: String::new(),
        schedule: Some(pb::shift::Schedule::OneOff(pb::OneOffShift {
            starts_at: Some(timestamp("2026-12-07T08:00:00Z")),
            ends_at: Some(timestamp("2026-12-07T16:00:00Z")),
        })),
    };
    roster.upsert_shifts(pb::UpsertShiftsRequest { shifts: vec![shift] }).await.unwrap();
    tickets
        .decide_ticket(pb::DecideTicketRequest {
            org_id: "acme".into(),
            severity: 2,
            category: 0,
            ticket_id: "T".into(),
            at: Some(timestamp("2026-12-07T10:00:00Z")),
            as_known_at: None,
        })
        .await
        .unwrap();
    coverage
        .get_coverage_report(pb::GetCoverageReportRequest {
            plan: pb::Plan::EeaOnly as i32,
            eea_tagged: true,
            window_start: Some(timestamp("2026-12-07T00:00:00Z")),
            window_end: Some(timestamp("2026-12-08T00:00:00Z")),
            min_staff: 1,
            as_known_at: None,
        })
        .await
        .unwrap();
    roster.delete_agent(pb::DeleteAgentRequest { agent_id: "agent-2".into() }).await.unwrap();
    server.stop().await;

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("agents upserted") && logs.contains("agent.id"),
        "the capture holds the service's own log lines"
    );
    assert!(logs.lines().count() > 100, "TRACE lines of the libraries are captured too");
    for name in NAMES {
        for fragment in name.split_whitespace().filter(|part| part.len() > 3) {
            assert!(!logs.contains(fragment), "{fragment:?} (from a display name) reached the logs");
        }
    }
}

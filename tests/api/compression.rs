//! Compressed traffic, as WFM tools on a WAN send it: requests compressed with gzip or zstd on
//! every service, answers compressed when the caller accepts it (the hot path's excepted), and
//! the message limit held against what a compressed request inflates to.

use eea_coverage::pb;
use tonic::codec::CompressionEncoding;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::helpers::{
    agent, org, recurring, spawn_app, spawn_app_with, sync_batch, sync_header, ticket_question, timestamp, Backend,
};

/// The `grpc-encoding` an answer came with, when it was compressed.
fn encoding_of<T>(response: &tonic::Response<T>) -> Option<String> {
    response.metadata().get("grpc-encoding").map(|value| value.to_str().unwrap().to_owned())
}

async fn every_service_takes_compressed_requests_and_answers_in_kind(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let encodings = [
        (CompressionEncoding::Gzip, "gzip"),
        (CompressionEncoding::Zstd, "zstd"),
        (CompressionEncoding::Deflate, "deflate"),
    ];
    for (encoding, name) in encodings {
        let org_id = format!("acme-{name}");
        let agent_id = format!("ie-{name}");
        let mut policy = pb::policy_service_client::PolicyServiceClient::new(app.authed.clone())
            .send_compressed(encoding)
            .accept_compressed(encoding);
        policy
            .upsert_org(pb::UpsertOrgRequest { org: Some(org(&org_id, "eu-west-1", pb::Plan::EeaOnly)) })
            .await
            .unwrap();
        let mut roster = pb::roster_service_client::RosterServiceClient::new(app.authed.clone())
            .send_compressed(encoding)
            .accept_compressed(encoding);
        let agents = vec![agent(&agent_id, "IE", "Europe/Dublin")];
        roster.upsert_agents(pb::UpsertAgentsRequest { agents, source: "wfm".into() }).await.unwrap();
        let weekdays = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR";
        let shift = recurring(
            &format!("{agent_id}-days"),
            &agent_id,
            "Europe/Dublin",
            "2026-11-30T08:00:00",
            "18:00",
            weekdays,
        );
        let messages = vec![
            sync_header("wfm", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", false),
            sync_batch(vec![shift], vec![]),
        ];
        let synced = roster.sync_shifts(tokio_stream::iter(messages)).await.unwrap();
        assert_eq!(encoding_of(&synced).as_deref(), Some(name), "SyncShifts answers compressed");
        assert_eq!(synced.into_inner().created, 1);
        let listed = roster.get_agent(pb::GetAgentRequest { agent_id: agent_id.clone() }).await.unwrap();
        assert_eq!(encoding_of(&listed).as_deref(), Some(name));
        assert_eq!(listed.into_inner().country, "IE");

        // The hot path reads compressed questions and answers uncompressed, as gRPC allows.
        let mut tickets = pb::ticket_service_client::TicketServiceClient::new(app.authed.clone())
            .send_compressed(encoding)
            .accept_compressed(encoding);
        let question = ticket_question(
            &org_id,
            pb::Severity::Severity3 as i32,
            pb::TicketCategory::ProductSupport as i32,
            Some(timestamp("2026-12-01T10:00:00Z")),
        );
        let decided = tickets.decide_ticket(question.clone()).await.unwrap();
        assert_eq!(encoding_of(&decided), None, "the hot path's answers go uncompressed");
        let plain = app.tickets.clone().decide_ticket(question).await.unwrap().into_inner();
        assert_eq!(decided.into_inner(), plain);
        assert_eq!(plain.eligible_on_shift, 1);

        let report_request = pb::GetCoverageReportRequest {
            plan: pb::Plan::EeaOnly as i32,
            eea_tagged: true,
            window_start: Some(timestamp("2026-11-30T00:00:00Z")),
            window_end: Some(timestamp("2026-12-07T00:00:00Z")),
            min_staff: 1,
            as_known_at: None,
        };
        let compressed = app
            .coverage()
            .send_compressed(encoding)
            .accept_compressed(encoding)
            .get_coverage_report(report_request)
            .await
            .unwrap();
        assert_eq!(encoding_of(&compressed).as_deref(), Some(name), "reports answer compressed");
        let plain = app.coverage().get_coverage_report(report_request).await.unwrap();
        assert_eq!(encoding_of(&plain), None, "a caller that accepts no compression gets none");
        assert_eq!(compressed.into_inner(), plain.into_inner());

        let health = HealthClient::new(app.channel.clone())
            .send_compressed(encoding)
            .check(HealthCheckRequest { service: String::new() })
            .await
            .unwrap();
        assert_eq!(health.into_inner().status, 1, "SERVING");
    }
}

async fn a_compressed_request_is_held_to_the_message_limit_once_inflated(backend: Backend) {
    let Some(spawned) = spawn_app_with(backend, "[limits]\nmax_message_bytes = 65536\n").await else { return };
    let app = &spawned.app;
    let mut roster = pb::roster_service_client::RosterServiceClient::new(app.authed.clone())
        .send_compressed(CompressionEncoding::Gzip);
    // 200 KB of one letter: a few hundred bytes gzipped, over the 64 KiB limit inflated.
    let mut bomb = agent("inflated", "IE", "Europe/Dublin");
    bomb.display_name = "a".repeat(200_000);
    let refused = roster.upsert_agents(pb::UpsertAgentsRequest { agents: vec![bomb], source: String::new() }).await;
    let status = refused.unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("65536 bytes"), "{status:?}");
    let missing = roster.get_agent(pb::GetAgentRequest { agent_id: "inflated".into() }).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound, "nothing was stored");
    // The same request within the limit goes through compressed.
    let mut fits = agent("inflated", "IE", "Europe/Dublin");
    fits.display_name = "a".repeat(200);
    roster.upsert_agents(pb::UpsertAgentsRequest { agents: vec![fits], source: String::new() }).await.unwrap();
}

crate::on_both_backends!(
    every_service_takes_compressed_requests_and_answers_in_kind,
    a_compressed_request_is_held_to_the_message_limit_once_inflated
);

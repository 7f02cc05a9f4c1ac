//! Bad input: the right status, the offending field named, and nothing stored.

use eea_coverage::pb;
use tonic::Code;

use crate::helpers::{agent, one_off, org, recurring, spawn_app, ticket_question, timestamp, violated_fields, Backend};

async fn a_bad_agent_anywhere_in_a_batch_rejects_the_whole_batch(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut roster = spawned.app.roster.clone();
    let mut bad = agent("agent-3", "XX", "Mars/Olympus");
    bad.severities = vec![9];
    let batch = vec![agent("agent-1", "IE", "Europe/Dublin"), agent("agent-2", "DE", "Europe/Berlin"), bad];
    let error =
        roster.upsert_agents(pb::UpsertAgentsRequest { agents: batch, source: String::new() }).await.unwrap_err();
    assert_eq!(violated_fields(&error), ["agents[2].country", "agents[2].time_zone", "agents[2].severities[0]"]);
    let listed = roster.list_agents(pb::ListAgentsRequest::default()).await.unwrap().into_inner();
    assert!(listed.agents.is_empty(), "nothing of a rejected batch is stored");

    let duplicate = vec![agent("same", "IE", "Europe/Dublin"), agent("same", "IE", "Europe/Dublin")];
    let error =
        roster.upsert_agents(pb::UpsertAgentsRequest { agents: duplicate, source: String::new() }).await.unwrap_err();
    assert_eq!(violated_fields(&error), ["agents[1].agent_id"]);
    let error =
        roster.upsert_agents(pb::UpsertAgentsRequest { agents: vec![], source: String::new() }).await.unwrap_err();
    assert_eq!(violated_fields(&error), ["agents"]);
}

async fn bad_shifts_are_named_by_position_and_field(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut roster = spawned.app.roster.clone();
    spawned.app.put_agents(vec![agent("a", "IE", "Europe/Dublin")]).await;
    let good = recurring("ok", "a", "Europe/Dublin", "2026-12-01T09:00:00", "17:00", "FREQ=DAILY");
    let cases: Vec<(pb::Shift, &str)> = vec![
        (
            recurring("s", "a", "Europe/Nowhere", "2026-12-01T09:00:00", "17:00", "FREQ=DAILY"),
            "shifts[1].recurring.time_zone",
        ),
        (recurring("s", "a", "", "2026-12-01T09:00:00", "17:00", "FREQ=DAILY"), "shifts[1].recurring.time_zone"),
        (
            recurring("s", "a", "Europe/Dublin", "2026-12-01T09:00:00", "17:00", "FREQ=SECONDLY"),
            "shifts[1].recurring.rrule",
        ),
        (
            recurring("s", "a", "Europe/Dublin", "2026-12-01T09:00:00", "17:00", "FREQ=MINUTELY"),
            "shifts[1].recurring.rrule",
        ),
        (
            recurring("s", "a", "Europe/Dublin", "2026-12-01T09:00:00", "17:00", "FREQ=DAILY;COUNT=5000000"),
            "shifts[1].recurring.rrule",
        ),
        (
            recurring("s", "a", "Europe/Dublin", "2026-12-01T09:00:00", "17:00", "NOT A RULE"),
            "shifts[1].recurring.rrule",
        ),
        (recurring("s", "a", "Europe/Dublin", "tomorrow", "17:00", "FREQ=DAILY"), "shifts[1].recurring.start_local"),
        (
            recurring("s", "a", "Europe/Dublin", "2026-12-01T09:00:00", "5pm", "FREQ=DAILY"),
            "shifts[1].recurring.end_time",
        ),
        (one_off("s", "a", "2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z"), "shifts[1].one_off.ends_at"),
        (
            pb::Shift { severities: vec![5], ..one_off("s", "a", "2026-12-01T08:00:00Z", "2026-12-01T10:00:00Z") },
            "shifts[1].severities[0]",
        ),
        (
            pb::Shift { schedule: None, ..one_off("s", "a", "2026-12-01T08:00:00Z", "2026-12-01T10:00:00Z") },
            "shifts[1].schedule",
        ),
    ];
    for (bad, field) in cases {
        let error =
            roster.upsert_shifts(pb::UpsertShiftsRequest { shifts: vec![good.clone(), bad] }).await.unwrap_err();
        assert_eq!(violated_fields(&error), [field]);
    }
    let unknown_agent = one_off("s", "ghost", "2026-12-01T08:00:00Z", "2026-12-01T10:00:00Z");
    let error =
        roster.upsert_shifts(pb::UpsertShiftsRequest { shifts: vec![good.clone(), unknown_agent] }).await.unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    assert!(error.message().contains("shifts[1].agent_id"), "{}", error.message());
    let listed = roster.list_shifts(pb::ListShiftsRequest::default()).await.unwrap().into_inner();
    assert!(listed.shifts.is_empty(), "no shift of a rejected batch is stored");
}

async fn bad_ticket_questions_are_named(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let (mut policy, mut tickets) = (spawned.app.policy.clone(), spawned.app.tickets.clone());
    let error = policy
        .upsert_org(pb::UpsertOrgRequest { org: Some(org("acme", "eu-mars-1", pb::Plan::Unspecified)) })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&error), ["org.cloud_region", "org.plan"]);
    let out_of_range = prost_types::Timestamp { seconds: i64::MAX, nanos: 0 };
    let bad_questions = [
        (
            ticket_question("", 0, 99, None),
            vec!["org_id", "severity", "category"],
            "no org, no severity, an unknown category",
        ),
        (ticket_question("acme", 1, 0, Some(out_of_range)), vec!["at"], "an instant out of range"),
        (
            ticket_question("acme", 1, 0, Some(timestamp("2300-01-01T00:00:00Z"))),
            vec!["at"],
            "questions are bounded to a supported range",
        ),
    ];
    for (question, fields, why) in bad_questions {
        let error = tickets.decide_ticket(question).await.unwrap_err();
        assert_eq!(violated_fields(&error), fields, "{why}");
    }
    let unknown_org = ticket_question("nobody", 1, 0, Some(timestamp("2026-06-01T00:00:00Z")));
    let error = tickets.decide_ticket(unknown_org).await.unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
}

/// grpc-core (Python, C++, Ruby, C#) and grpc-java refuse response metadata over 8 KB by
/// default; a client with that limit must still read every rejected batch's violations.
async fn a_rejection_echoing_long_non_ascii_values_fits_a_client_with_an_8_kb_header_limit(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", spawned.app.address))
        .unwrap()
        .http2_max_header_list_size(8 * 1024)
        .connect()
        .await
        .unwrap();
    let mut roster = pb::roster_service_client::RosterServiceClient::new(crate::helpers::with_token(
        channel,
        Some(crate::helpers::TEST_TOKEN),
    ));
    for (n_agents, letter) in [(5, "ü"), (20, "ü"), (20, "𝔘"), (200, "€")] {
        let agents = (0..n_agents)
            .map(|agent_idx| {
                let mut bad = agent(&format!("agent-{agent_idx}"), "IE", "Europe/Dublin");
                bad.country = letter.repeat(300);
                bad.time_zone = letter.repeat(300);
                bad
            })
            .collect();
        let error = roster.upsert_agents(pb::UpsertAgentsRequest { agents, source: String::new() }).await.unwrap_err();
        let fields = violated_fields(&error);
        assert_eq!(fields[..2], ["agents[0].country", "agents[0].time_zone"], "{n_agents} agents of {letter}");
        assert!(error.message().contains("more"), "the rest is counted: {}", error.message());
    }
    let listed = roster.list_agents(pb::ListAgentsRequest::default()).await.unwrap().into_inner();
    assert!(listed.agents.is_empty());
}

crate::on_both_backends!(
    a_rejection_echoing_long_non_ascii_values_fits_a_client_with_an_8_kb_header_limit,
    a_bad_agent_anywhere_in_a_batch_rejects_the_whole_batch,
    bad_shifts_are_named_by_position_and_field,
    bad_ticket_questions_are_named
);

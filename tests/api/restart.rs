//! A restart loses nothing.

use eea_coverage::pb;

use crate::helpers::{agent, create_database, org, recurring, spawn_app_on, Backend};

async fn data_survives_a_restart(backend: Backend) {
    let Some(database) = create_database(backend) else { return };
    let first = spawn_app_on(&database, "").await;
    let (mut policy, mut roster) = (first.policy.clone(), first.roster.clone());
    policy.upsert_org(pb::UpsertOrgRequest { org: Some(org("acme", "eu-north-1", pb::Plan::EeaOnly)) }).await.unwrap();
    roster
        .upsert_agents(pb::UpsertAgentsRequest {
            agents: vec![agent("se-1", "SE", "Europe/Stockholm")],
            ..Default::default()
        })
        .await
        .unwrap();
    let shift = recurring(
        "se-nights",
        "se-1",
        "Europe/Stockholm",
        "2026-12-01T22:00:00",
        "06:00",
        "FREQ=DAILY;UNTIL=20270101T000000Z",
    );
    roster.upsert_shifts(pb::UpsertShiftsRequest { shifts: vec![shift.clone()] }).await.unwrap();
    first.stop().await;

    let second = spawn_app_on(&database, "").await;
    let (mut policy, mut roster) = (second.policy.clone(), second.roster.clone());
    let stored_org = policy.get_org(pb::GetOrgRequest { org_id: "acme".into() }).await.unwrap().into_inner();
    assert_eq!(stored_org.plan(), pb::Plan::EeaOnly);
    let stored_agent = roster.get_agent(pb::GetAgentRequest { agent_id: "se-1".into() }).await.unwrap().into_inner();
    assert_eq!(stored_agent, agent("se-1", "SE", "Europe/Stockholm"));
    let shifts = roster.list_shifts(pb::ListShiftsRequest::default()).await.unwrap().into_inner().shifts;
    assert_eq!(shifts, vec![shift]);
    second.stop().await;
}

/// The policy in force now, as the database recorded it.
async fn policy_in_force(database: &crate::helpers::TestDatabase) -> eea_coverage::storage::PolicyVersion {
    let url = eea_coverage::storage::DatabaseUrl::parse(database.url()).unwrap();
    let store = tokio::task::spawn_blocking(move || eea_coverage::storage::Store::open(&url)).await.unwrap().unwrap();
    let now = eea_coverage::clock::now();
    store
        .read_consistent(move |connection| eea_coverage::storage::policy_known_at(connection, now))
        .await
        .unwrap()
        .expect("a start-up recorded its policy")
}

async fn each_start_up_that_changes_the_policy_records_it(backend: Backend) {
    let Some(database) = create_database(backend) else { return };
    spawn_app_on(&database, "").await.stop().await;
    let first = policy_in_force(&database).await;
    assert!(first.plan_settings.contains("standard_hours = 24x7"), "{}", first.plan_settings);
    assert_eq!(first.facts, eea_coverage::domain::policy::DEFAULT_POLICY_FACTS, "the shipped facts, as parsed");

    spawn_app_on(&database, "").await.stop().await;
    assert_eq!(policy_in_force(&database).await, first, "the same policy again: nothing new recorded");

    spawn_app_on(&database, "[plans]\nstandard_hours = \"business\"\n").await.stop().await;
    let changed = policy_in_force(&database).await;
    assert!(changed.policy_version > first.policy_version);
    assert!(changed.effective_at >= first.effective_at);
    assert!(changed.plan_settings.contains("standard_hours = business"), "{}", changed.plan_settings);
    assert_eq!(changed.facts, first.facts, "only the plan settings changed");
}

crate::on_both_backends!(data_survives_a_restart, each_start_up_that_changes_the_policy_records_it);

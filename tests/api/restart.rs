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

crate::on_both_backends!(data_survives_a_restart);

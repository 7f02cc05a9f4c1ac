//! Random and malformed values thrown at the write and ticket calls: every one gets a clear
//! status (never INTERNAL or UNKNOWN, never a panic), and a refused write changes nothing.

use eea_coverage::pb;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tonic::Code;

use crate::helpers::{agent, org, spawn_app, Backend};

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\u{0}\u{7}".to_owned()),
        Just("x".repeat(5_000)),
        Just("FREQ=SECONDLY".to_owned()),
        Just("FREQ=DAILY;COUNT=99999999999999999999".to_owned()),
        Just("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31".to_owned()),
        Just("FREQ=DAILY;UNTIL=19000101T000000Z".to_owned()),
        Just("RRULE:FREQ=WEEKLY;BYDAY=XX".to_owned()),
        Just("Europe/Atlantis".to_owned()),
        Just("9999-99-99T99:99:99".to_owned()),
        Just("25:61".to_owned()),
        "\\PC{0,40}",
    ]
}

fn hostile_timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    prop_oneof![
        Just(None),
        (any::<i64>(), any::<i32>()).prop_map(|(seconds, nanos)| Some(prost_types::Timestamp { seconds, nanos })),
        (-1_000_000i64..1_000_000i64).prop_map(|seconds| Some(prost_types::Timestamp { seconds, nanos: -1 })),
    ]
}

fn hostile_shift() -> impl Strategy<Value = pb::Shift> {
    (
        hostile_text(),
        prop::collection::vec(any::<i32>(), 0..3),
        hostile_text(),
        (hostile_timestamp(), hostile_timestamp()),
        (hostile_text(), hostile_text(), hostile_text(), hostile_text(), prop::collection::vec(hostile_text(), 0..3)),
        any::<bool>(),
    )
        .prop_map(
            |(
                shift_id,
                severities,
                country,
                (starts_at, ends_at),
                (time_zone, start_local, end_time, rrule, exdates),
                one_off,
            )| {
                let schedule = if one_off {
                    pb::shift::Schedule::OneOff(pb::OneOffShift { starts_at, ends_at })
                } else {
                    pb::shift::Schedule::Recurring(pb::RecurringShift {
                        time_zone,
                        start_local,
                        end_time,
                        rrule,
                        exdates,
                    })
                };
                // Always one bad value at least: the agent does not exist.
                pb::Shift { shift_id, agent_id: "nobody".into(), severities, country, schedule: Some(schedule) }
            },
        )
}

fn clear(code: Code) -> bool {
    matches!(code, Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition)
}

async fn malformed_requests_get_a_clear_status_and_change_nothing(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let (mut policy, mut roster, mut tickets) =
        (spawned.app.policy.clone(), spawned.app.roster.clone(), spawned.app.tickets.clone());
    policy.upsert_org(pb::UpsertOrgRequest { org: Some(org("acme", "eu-west-1", pb::Plan::EeaOnly)) }).await.unwrap();
    roster
        .upsert_agents(pb::UpsertAgentsRequest {
            agents: vec![agent("ie-1", "IE", "Europe/Dublin")],
            ..Default::default()
        })
        .await
        .unwrap();

    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    let strategy = (
        prop::collection::vec(hostile_shift(), 1..4),
        (hostile_text(), any::<i32>(), any::<i32>(), hostile_timestamp()),
        (hostile_text(), hostile_text(), hostile_text(), prop::collection::vec(any::<i32>(), 0..2)),
    );
    let handle = tokio::runtime::Handle::current();
    let outcome = runner.run(
        &strategy,
        |(shifts, (org_id, severity, category, at), (agent_id, country, time_zone, agent_severities))| {
            let (mut roster, mut tickets) = (roster.clone(), tickets.clone());
            let result: Result<(), String> = tokio::task::block_in_place(|| {
                handle.block_on(async {
                    let refused = roster
                        .upsert_shifts(pb::UpsertShiftsRequest { shifts })
                        .await
                        .expect_err("a shift of an unknown agent is refused");
                    if !clear(refused.code()) {
                        return Err(format!("UpsertShifts answered {:?}: {}", refused.code(), refused.message()));
                    }
                    let bad_agent = pb::Agent {
                        agent_id,
                        display_name: "x".repeat(300),
                        country,
                        time_zone,
                        severities: agent_severities,
                        location_changes: vec![],
                    };
                    let refused = roster
                        .upsert_agents(pb::UpsertAgentsRequest { agents: vec![bad_agent], source: String::new() })
                        .await
                        .expect_err("an over-long name is refused");
                    if !clear(refused.code()) {
                        return Err(format!("UpsertAgents answered {:?}", refused.code()));
                    }
                    let question = pb::DecideTicketRequest { org_id, severity, category, ticket_id: String::new(), at };
                    if let Err(status) = tickets.decide_ticket(question).await {
                        if !clear(status.code()) {
                            return Err(format!("DecideTicket answered {:?}: {}", status.code(), status.message()));
                        }
                    }
                    Ok(())
                })
            });
            result.map_err(proptest::test_runner::TestCaseError::fail)
        },
    );
    outcome.unwrap();
    let shifts = roster.list_shifts(pb::ListShiftsRequest::default()).await.unwrap().into_inner().shifts;
    assert!(shifts.is_empty(), "no refused write left anything behind");
    let agents = roster.list_agents(pb::ListAgentsRequest::default()).await.unwrap().into_inner().agents;
    assert_eq!(agents.len(), 1);
    let decision = tickets
        .decide_ticket(pb::DecideTicketRequest {
            org_id: "acme".into(),
            severity: 1,
            category: 0,
            ticket_id: String::new(),
            at: None,
        })
        .await;
    assert!(decision.is_ok(), "the server still answers");
}

crate::on_both_backends!(malformed_requests_get_a_clear_status_and_change_nothing);

//! RosterService round trips: agents, shifts, time off.

use eea_coverage::pb;
use tonic::Code;

use crate::helpers::{agent, one_off, org, recurring, spawn_app, time_off, timestamp, violated_fields, Backend};

type RosterClient = pb::roster_service_client::RosterServiceClient<crate::helpers::AuthChannel>;

async fn agents_round_trip_with_pagination(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut roster = spawned.app.roster.clone();
    let mut mover = agent("agent-2", "FR", "Europe/Paris");
    mover.severities = vec![pb::Severity::Severity1 as i32, pb::Severity::Severity2 as i32];
    mover.location_changes =
        vec![pb::LocationChange { effective_at: Some(timestamp("2026-07-01T00:00:00Z")), country: "EL".into() }];
    let batch = vec![agent("agent-1", "IE", "Europe/Dublin"), mover, agent("agent-3", "IN", "Asia/Kolkata")];
    let response = roster
        .upsert_agents(pb::UpsertAgentsRequest { agents: batch, source: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((response.created, response.updated), (3, 0));

    let stored = roster.get_agent(pb::GetAgentRequest { agent_id: "agent-2".into() }).await.unwrap().into_inner();
    assert_eq!(stored.display_name, "Display Name agent-2");
    assert_eq!(stored.severities, vec![1, 2]);
    assert_eq!(stored.location_changes[0].country, "GR", "EL is stored as its ISO code");

    let response = roster
        .upsert_agents(pb::UpsertAgentsRequest {
            agents: vec![agent("agent-1", "PT", "Europe/Lisbon")],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((response.created, response.updated), (0, 1));
    let moved = roster.get_agent(pb::GetAgentRequest { agent_id: "agent-1".into() }).await.unwrap().into_inner();
    assert_eq!((moved.country.as_str(), moved.time_zone.as_str()), ("PT", "Europe/Lisbon"));

    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = roster.list_agents(pb::ListAgentsRequest { page_size: 2, page_token }).await.unwrap().into_inner();
        seen.extend(page.agents.into_iter().map(|agent| agent.agent_id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, ["agent-1", "agent-2", "agent-3"]);

    roster.delete_agent(pb::DeleteAgentRequest { agent_id: "agent-3".into() }).await.unwrap();
    let error = roster.get_agent(pb::GetAgentRequest { agent_id: "agent-3".into() }).await.unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
}

async fn shifts_and_time_off_round_trip(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut roster = spawned.app.roster.clone();
    roster
        .upsert_agents(pb::UpsertAgentsRequest {
            agents: vec![agent("a", "DE", "Europe/Berlin"), agent("b", "NL", "Europe/Amsterdam")],
            ..Default::default()
        })
        .await
        .unwrap();
    let mut pager = recurring(
        "a-weekdays",
        "a",
        "Europe/Berlin",
        "2026-11-02T09:00:00",
        "17:00",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    );
    pager.severities = vec![pb::Severity::Severity1 as i32];
    if let Some(pb::shift::Schedule::Recurring(recurrence)) = pager.schedule.as_mut() {
        recurrence.exdates = vec!["2026-12-25T09:00:00".into()];
    }
    let shifts = vec![pager.clone(), one_off("b-once", "b", "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z")];
    let response = roster.upsert_shifts(pb::UpsertShiftsRequest { shifts }).await.unwrap().into_inner();
    assert_eq!((response.created, response.updated), (2, 0));

    let of_a = listed_shifts(&mut roster, pb::ListShiftsRequest { agent_id: "a".into(), ..Default::default() }).await;
    assert_eq!(of_a, vec![pager]);

    // Only shifts with an occurrence in the window: b's one-off is on 1 December.
    let in_window = |start_at: &str, end_at: &str| pb::ListShiftsRequest {
        window: Some(pb::TimeWindow { start_at: Some(timestamp(start_at)), end_at: Some(timestamp(end_at)) }),
        ..Default::default()
    };
    let saturday = listed_shifts(&mut roster, in_window("2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z")).await;
    assert!(saturday.is_empty(), "a Saturday has no occurrence: {saturday:?}");
    let tuesday = listed_shifts(&mut roster, in_window("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z")).await;
    assert_eq!(tuesday.iter().map(|shift| shift.shift_id.as_str()).collect::<Vec<_>>(), ["a-weekdays", "b-once"]);

    let time_off = time_off("leave-1", "b", "2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z");
    let response = roster
        .upsert_time_off(pb::UpsertTimeOffRequest { time_off: vec![time_off.clone()] })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.created, 1);
    let listed = roster
        .list_time_off(pb::ListTimeOffRequest { agent_id: "b".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.time_off, vec![time_off]);

    roster.delete_time_off(pb::DeleteTimeOffRequest { time_off_id: "leave-1".into() }).await.unwrap();
    roster.delete_shift(pb::DeleteShiftRequest { shift_id: "b-once".into() }).await.unwrap();
    let error = roster.delete_shift(pb::DeleteShiftRequest { shift_id: "b-once".into() }).await.unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    let listed = roster.list_time_off(pb::ListTimeOffRequest::default()).await.unwrap().into_inner();
    assert!(listed.time_off.is_empty());

    // Deleting an agent takes its shifts with it.
    roster.delete_agent(pb::DeleteAgentRequest { agent_id: "a".into() }).await.unwrap();
    let listed = roster.list_shifts(pb::ListShiftsRequest::default()).await.unwrap().into_inner();
    assert!(listed.shifts.is_empty());
}

/// The shifts the server lists for `request`.
async fn listed_shifts(roster: &mut RosterClient, request: pb::ListShiftsRequest) -> Vec<pb::Shift> {
    roster.list_shifts(request).await.unwrap().into_inner().shifts
}

/// Writers commit one at a time but wait for the snapshot together: each answer still comes
/// only once a snapshot holding that write is in force, and each write keeps its own audit
/// event and its own outcome, a bad one among them included.
async fn concurrent_writes_are_each_visible_when_answered(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    const N_WRITERS: usize = 24;
    let mut writers = tokio::task::JoinSet::new();
    for writer_idx in 0..N_WRITERS {
        let (mut roster, mut tickets) = (app.roster.clone(), app.tickets.clone());
        writers.spawn(async move {
            let agent_id = format!("agent-{writer_idx:02}");
            let country = if writer_idx == 7 { "XX" } else { "IE" };
            let agents = vec![agent(&agent_id, country, "Europe/Dublin")];
            let written = roster.upsert_agents(pb::UpsertAgentsRequest { agents, source: String::new() }).await;
            if writer_idx == 7 {
                return (writer_idx, written.map(|_| ()).map_err(|status| status.code()));
            }
            written.unwrap();
            // Writer 11's shift names an agent that does not exist: the write fails in the
            // database, alone, whatever group it was committed with.
            let owner = if writer_idx == 11 { "nobody" } else { &agent_id };
            let shift = one_off(&format!("{agent_id}-day"), owner, "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z");
            let written = roster.upsert_shifts(pb::UpsertShiftsRequest { shifts: vec![shift] }).await;
            if writer_idx == 11 {
                return (writer_idx, written.map(|_| ()).map_err(|status| status.code()));
            }
            written.unwrap();
            // Answered means in force: the agent is on duty for the very next question.
            let question = pb::CheckAgentAccessRequest {
                org_id: "acme".into(),
                ticket_id: "T-1".into(),
                severity: pb::Severity::Severity1 as i32,
                category: pb::TicketCategory::ProductSupport as i32,
                agent_id: agent_id.clone(),
                at: Some(timestamp("2026-12-01T10:00:00Z")),
                as_known_at: None,
            };
            let access = tickets.check_agent_access(question).await.unwrap().into_inner();
            assert!(access.allowed && access.on_shift, "{agent_id}: {access:?}");
            (writer_idx, Ok(()))
        });
    }
    for (writer_idx, outcome) in writers.join_all().await {
        match writer_idx {
            7 => assert_eq!(outcome, Err(tonic::Code::InvalidArgument)),
            11 => assert_eq!(outcome, Err(tonic::Code::NotFound)),
            _ => assert_eq!(outcome, Ok(()), "writer {writer_idx}"),
        }
    }
    let decision = app.decide("acme", pb::Severity::Severity1, "2026-12-01T10:00:00Z").await;
    assert_eq!(decision.eligible_on_shift as usize, N_WRITERS - 2);
    let filter = pb::ListAuditEventsRequest { page_size: 200, ..Default::default() };
    let events = app.policy.clone().list_audit_events(filter).await.unwrap().into_inner().events;
    // The org, then two events for each good writer; the refused writes left none.
    assert_eq!(events.len(), 1 + 2 * (N_WRITERS - 2) + 1);
}

/// `with_occurrences` answers each listed shift's occurrences as the service expands them: a
/// Berlin 09:00-17:00 weekday shift is 08:00-16:00 UTC before the spring change of 28 March 2027
/// and 07:00-15:00 UTC after it, an exception leaves its day out, and occurrences are clipped to
/// the window.
async fn shift_occurrences_are_listed_as_expanded(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut roster = spawned.app.roster.clone();
    spawned.app.put_agents(vec![agent("a", "DE", "Europe/Berlin"), agent("b", "NL", "Europe/Amsterdam")]).await;
    let mut weekdays = recurring(
        "a-weekdays",
        "a",
        "Europe/Berlin",
        "2027-03-01T09:00:00",
        "17:00",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    );
    if let Some(pb::shift::Schedule::Recurring(recurrence)) = weekdays.schedule.as_mut() {
        recurrence.exdates = vec!["2027-03-30".into()];
    }
    spawned
        .app
        .put_shifts(vec![weekdays, one_off("b-once", "b", "2027-03-26T20:00:00Z", "2027-03-27T04:00:00Z")])
        .await;
    let window = |start_at: &str, end_at: &str| {
        Some(pb::TimeWindow { start_at: Some(timestamp(start_at)), end_at: Some(timestamp(end_at)) })
    };
    let request = pb::ListShiftsRequest {
        window: window("2027-03-26T00:00:00Z", "2027-03-31T12:00:00Z"),
        with_occurrences: true,
        ..Default::default()
    };
    let listed = roster.list_shifts(request).await.unwrap().into_inner();
    let occurrences: Vec<(String, String, String, String)> = listed
        .occurrences
        .iter()
        .map(|occurrence| {
            let text = |instant: &Option<prost_types::Timestamp>| {
                let instant = instant.as_ref().expect("an instant");
                jiff::Timestamp::new(instant.seconds, 0).expect("an instant").to_string()
            };
            (
                occurrence.shift_id.clone(),
                occurrence.agent_id.clone(),
                text(&occurrence.starts_at),
                text(&occurrence.ends_at),
            )
        })
        .collect();
    let expected = [
        ("a-weekdays", "a", "2027-03-26T08:00:00Z", "2027-03-26T16:00:00Z"),
        ("a-weekdays", "a", "2027-03-29T07:00:00Z", "2027-03-29T15:00:00Z"),
        ("a-weekdays", "a", "2027-03-31T07:00:00Z", "2027-03-31T12:00:00Z"),
        ("b-once", "b", "2027-03-26T20:00:00Z", "2027-03-27T04:00:00Z"),
    ];
    let expected: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(shift, agent, start, end)| ((*shift).into(), (*agent).into(), (*start).into(), (*end).into()))
        .collect();
    assert_eq!(occurrences, expected);

    // Without the flag, no occurrences; with it, a window is required and at most 31 days long.
    let plain =
        pb::ListShiftsRequest { window: window("2027-03-26T00:00:00Z", "2027-03-31T12:00:00Z"), ..Default::default() };
    assert!(roster.list_shifts(plain).await.unwrap().into_inner().occurrences.is_empty());
    let unbounded = pb::ListShiftsRequest { with_occurrences: true, ..Default::default() };
    let error = roster.list_shifts(unbounded).await.unwrap_err();
    assert_eq!((error.code(), violated_fields(&error)), (Code::InvalidArgument, vec!["window".to_owned()]));
    let too_long = pb::ListShiftsRequest {
        window: window("2027-03-01T00:00:00Z", "2027-04-01T00:00:01Z"),
        with_occurrences: true,
        ..Default::default()
    };
    let error = roster.list_shifts(too_long).await.unwrap_err();
    assert_eq!((error.code(), violated_fields(&error)), (Code::InvalidArgument, vec!["window.end_at".to_owned()]));
    assert!(error.message().contains("31 days"), "{}", error.message());
}

crate::on_both_backends!(
    agents_round_trip_with_pagination,
    shifts_and_time_off_round_trip,
    shift_occurrences_are_listed_as_expanded,
    concurrent_writes_are_each_visible_when_answered
);

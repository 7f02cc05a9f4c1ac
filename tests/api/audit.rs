//! The audit trail: every committed write is recorded with its caller, RPC, entities and request
//! ID; failed writes and dry runs are not; events can be paged and filtered, and nothing can
//! change or remove them.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use eea_coverage::pb;
use tonic::Code;

use crate::helpers::{
    agent, consent, one_off, org, spawn_app, sync_batch, sync_header, time_off, violated_fields, with_token, Backend,
    ROLE_TOKENS, TEST_TOKEN,
};

fn token_of(role: &str) -> &'static str {
    ROLE_TOKENS.iter().find(|(name, _)| *name == role).expect("a test token for the role").1
}

fn with_request_id<T>(message: T, request_id: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("x-request-id", request_id.parse().expect("a valid header value"));
    request
}

type Policy = pb::policy_service_client::PolicyServiceClient<crate::helpers::AuthChannel>;

/// Every page of events `filter` lists, following page tokens.
async fn all_pages(policy: &mut Policy, filter: pb::ListAuditEventsRequest) -> Vec<pb::ListAuditEventsResponse> {
    let mut pages = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = policy
            .list_audit_events(pb::ListAuditEventsRequest { page_token: page_token.clone(), ..filter.clone() })
            .await
            .expect("listing audit events")
            .into_inner();
        let next_page_token = page.next_page_token.clone();
        pages.push(page);
        if next_page_token.is_empty() {
            return pages;
        }
        page_token = next_page_token;
    }
}

/// Every event, following page tokens.
async fn all_events(policy: &mut Policy, filter: pb::ListAuditEventsRequest) -> Vec<pb::AuditEvent> {
    all_pages(policy, filter).await.into_iter().flat_map(|page| page.events).collect()
}

fn entities(event: &pb::AuditEvent) -> Vec<(pb::AuditEntityKind, &str)> {
    event.affected.iter().map(|entity| (entity.kind(), entity.id.as_str())).collect()
}

async fn every_committed_write_is_recorded_with_its_caller(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let channel = spawned.app.channel.clone();
    let mut writer = pb::roster_service_client::RosterServiceClient::new(with_token(
        channel.clone(),
        Some(token_of("roster-writer")),
    ));
    let mut admin_policy = spawned.app.policy.clone();

    // Roster writes by the roster writer, each with a request ID of its own.
    let response = writer
        .upsert_agents(with_request_id(
            pb::UpsertAgentsRequest {
                agents: vec![agent("a-1", "IE", "Europe/Dublin"), agent("a-2", "DE", "Europe/Berlin")],
                source: String::new(),
            },
            "wfm-run-1",
        ))
        .await
        .unwrap();
    assert_eq!(response.metadata().get("x-request-id").unwrap(), "wfm-run-1", "the request ID is echoed");
    writer
        .upsert_shifts(with_request_id(
            pb::UpsertShiftsRequest {
                shifts: vec![
                    one_off("s-1", "a-1", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z"),
                    one_off("s-2", "a-2", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z"),
                ],
            },
            "wfm-run-2",
        ))
        .await
        .unwrap();
    writer.delete_shift(with_request_id(pb::DeleteShiftRequest { shift_id: "s-2".into() }, "wfm-run-3")).await.unwrap();

    // Failed writes leave no event: a bad field, an unknown agent, an unknown ID.
    let refused = [
        (one_off("s-9", "a-1", "2026-12-07T08:00:00Z", "2026-12-07T07:00:00Z"), Code::InvalidArgument),
        (one_off("s-9", "nobody", "2026-12-07T08:00:00Z", "2026-12-07T09:00:00Z"), Code::NotFound),
    ];
    for (shift, code) in refused {
        let status = writer.upsert_shifts(pb::UpsertShiftsRequest { shifts: vec![shift] }).await.unwrap_err();
        assert_eq!(status.code(), code, "{status:?}");
    }
    let missing = writer.delete_shift(pb::DeleteShiftRequest { shift_id: "s-404".into() }).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    // A sync and its dry run: only the real one is recorded, with every entry it changed.
    let sync = |dry_run: bool| {
        let shifts = vec![
            one_off("w-1", "a-1", "2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z"),
            one_off("w-2", "a-2", "2026-12-15T08:00:00Z", "2026-12-15T16:00:00Z"),
        ];
        let header = sync_header("wfm", "2026-12-14T00:00:00Z", "2026-12-21T00:00:00Z", dry_run);
        tokio_stream::iter(vec![header, sync_batch(shifts, vec![])])
    };
    writer.sync_shifts(sync(true)).await.unwrap();
    writer.sync_shifts(with_request_id(sync(false), "wfm-sync-1")).await.unwrap();

    // Policy writes by the admin; the consent is granted and revoked.
    let app = &spawned.app;
    app.put_org(org("acme", "eu-central-1", pb::Plan::Standard)).await;
    app.grant_consent(consent("acme", "T-7", "a-1", "2027-01-01T00:00:00Z")).await;
    admin_policy
        .revoke_consent(pb::RevokeConsentRequest {
            org_id: "acme".into(),
            ticket_id: "T-7".into(),
            agent_id: "a-1".into(),
        })
        .await
        .unwrap();
    writer.delete_agent(pb::DeleteAgentRequest { agent_id: "a-2".into() }).await.unwrap();
    app.grant_consent(consent("acme", "T-8", "a-1", "2027-01-01T00:00:00Z")).await;
    let leave = time_off("leave-1", "a-1", "2026-12-24T00:00:00Z", "2026-12-27T00:00:00Z");
    writer.upsert_time_off(pb::UpsertTimeOffRequest { time_off: vec![leave] }).await.unwrap();
    writer.delete_time_off(pb::DeleteTimeOffRequest { time_off_id: "leave-1".into() }).await.unwrap();
    // Deleting the org takes its remaining consent with it.
    admin_policy.delete_org(pb::DeleteOrgRequest { org_id: "acme".into() }).await.unwrap();

    let events = all_events(&mut admin_policy, pb::ListAuditEventsRequest::default()).await;
    let summary: Vec<(&str, &str)> = events.iter().map(|event| (event.caller.as_str(), event.rpc.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("token:test-roster-writer", "eeacoverage.v1.RosterService/UpsertAgents"),
            ("token:test-roster-writer", "eeacoverage.v1.RosterService/UpsertShifts"),
            ("token:test-roster-writer", "eeacoverage.v1.RosterService/DeleteShift"),
            ("token:test-roster-writer", "eeacoverage.v1.RosterService/SyncShifts"),
            ("token:test-admin", "eeacoverage.v1.PolicyService/UpsertOrg"),
            ("token:test-admin", "eeacoverage.v1.PolicyService/GrantConsent"),
            ("token:test-admin", "eeacoverage.v1.PolicyService/RevokeConsent"),
            ("token:test-roster-writer", "eeacoverage.v1.RosterService/DeleteAgent"),
            ("token:test-admin", "eeacoverage.v1.PolicyService/GrantConsent"),
            ("token:test-roster-writer", "eeacoverage.v1.RosterService/UpsertTimeOff"),
            ("token:test-roster-writer", "eeacoverage.v1.RosterService/DeleteTimeOff"),
            ("token:test-admin", "eeacoverage.v1.PolicyService/DeleteOrg"),
        ]
    );
    assert!(events.windows(2).all(|pair| pair[0].sequence < pair[1].sequence), "sequences increase");
    let request_ids: Vec<&str> = events.iter().map(|event| event.request_id.as_str()).collect();
    assert_eq!(&request_ids[..4], ["wfm-run-1", "wfm-run-2", "wfm-run-3", "wfm-sync-1"]);
    assert!(request_ids[4..].iter().all(|id| !id.is_empty()), "the server names calls that sent no ID");
    let mut distinct = request_ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), request_ids.len(), "generated request IDs are distinct");

    use pb::AuditEntityKind::{Agent, Org, Shift, Source, Ticket, TimeOff};
    assert_eq!(entities(&events[0]), [(Agent, "a-1"), (Agent, "a-2")]);
    assert_eq!(events[0].summary, "agents: 2 created, 0 updated");
    assert_eq!(entities(&events[1]), [(Shift, "s-1"), (Shift, "s-2")]);
    assert_eq!(entities(&events[2]), [(Shift, "s-2")]);
    assert_eq!(entities(&events[3]), [(Shift, "w-1"), (Shift, "w-2"), (Source, "wfm")]);
    assert!(events[3].summary.contains("shifts 2 created, 0 updated, 0 deleted"), "{}", events[3].summary);
    assert_eq!(entities(&events[4]), [(Org, "acme")]);
    // A ticket is named with its org, apart by a space, which no ID may hold.
    assert_eq!(entities(&events[5]), [(Org, "acme"), (Agent, "a-1"), (Ticket, "acme T-7")]);
    assert_eq!(entities(&events[6]), [(Org, "acme"), (Agent, "a-1"), (Ticket, "acme T-7")]);
    // Deleting an agent records the entries that went with it.
    assert_eq!(entities(&events[7]), [(Agent, "a-2"), (Shift, "w-2")]);
    assert_eq!(entities(&events[8]), [(Org, "acme"), (Agent, "a-1"), (Ticket, "acme T-8")]);
    assert_eq!(entities(&events[9]), [(TimeOff, "leave-1")]);
    assert_eq!(events[9].summary, "time off entries: 1 created, 0 updated");
    assert_eq!(entities(&events[10]), [(TimeOff, "leave-1")]);
    // Deleting an org records the consents' tickets and agents that went with it.
    assert_eq!(entities(&events[11]), [(Org, "acme"), (Agent, "a-1"), (Ticket, "acme T-8")]);
    assert_eq!(events[11].summary, "org deleted with 1 consents");

    // Following the trail by sequence: nothing after the last event, everything after the first.
    let last = events.last().unwrap().sequence;
    let after_last = admin_policy
        .list_audit_events(pb::ListAuditEventsRequest { after_sequence: last, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(after_last.events.is_empty());
    let after_first = all_events(
        &mut admin_policy,
        pb::ListAuditEventsRequest { after_sequence: events[0].sequence, ..Default::default() },
    )
    .await;
    assert_eq!(after_first.len(), events.len() - 1);
    for event in &events {
        assert_eq!(event.affected_count, event.affected.len() as i64);
        let recorded = event.recorded_at.expect("a recording time");
        assert!(recorded.seconds > 1_700_000_000, "recorded now, not at the epoch");
        let text = format!("{event:?}");
        for secret in [TEST_TOKEN, token_of("roster-writer"), "Display Name"] {
            assert!(!text.contains(secret), "an audit event holds {secret:?}: {text}");
        }
    }
}

async fn events_page_and_filter(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let mut policy = app.policy.clone();
    let before_all = eea_coverage::clock::now();
    for idx in 0..5 {
        app.put_agents(vec![agent(&format!("a-{idx}"), "FR", "Europe/Paris")]).await;
    }
    app.put_shifts(vec![one_off("s-1", "a-3", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z")]).await;

    // Pages of two, in order, with no event twice and none missed.
    let pages = all_pages(&mut policy, pb::ListAuditEventsRequest { page_size: 2, ..Default::default() }).await;
    assert!(pages.iter().all(|page| page.events.len() <= 2));
    let seen: Vec<i64> = pages.iter().flat_map(|page| page.events.iter().map(|event| event.sequence)).collect();
    assert_eq!((seen.len(), pages.len()), (6, 3));
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]));

    // By entity: agent a-3 was created by one call; its shift by another.
    let about_agent = all_events(
        &mut policy,
        pb::ListAuditEventsRequest {
            entity_kind: pb::AuditEntityKind::Agent as i32,
            entity_id: "a-3".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(about_agent.len(), 1);
    assert_eq!(entities(&about_agent[0]), [(pb::AuditEntityKind::Agent, "a-3")]);
    let by_rpc = all_events(
        &mut policy,
        pb::ListAuditEventsRequest { rpc: "eeacoverage.v1.RosterService/UpsertShifts".into(), ..Default::default() },
    )
    .await;
    assert_eq!(by_rpc.len(), 1);
    let by_caller =
        all_events(&mut policy, pb::ListAuditEventsRequest { caller: "token:test-admin".into(), ..Default::default() })
            .await;
    assert_eq!(by_caller.len(), 6);
    let nobody =
        all_events(&mut policy, pb::ListAuditEventsRequest { caller: "token:someone".into(), ..Default::default() })
            .await;
    assert!(nobody.is_empty());
    let window = |since: jiff::Timestamp, until: jiff::Timestamp| pb::ListAuditEventsRequest {
        since: Some(prost_types::Timestamp { seconds: since.as_second(), nanos: since.subsec_nanosecond() }),
        until: Some(prost_types::Timestamp { seconds: until.as_second(), nanos: until.subsec_nanosecond() }),
        ..Default::default()
    };
    let an_hour = jiff::SignedDuration::from_hours(1);
    let recent =
        all_events(&mut policy, window(before_all - jiff::SignedDuration::from_secs(1), before_all + an_hour)).await;
    assert_eq!(recent.len(), 6);
    let earlier = all_events(&mut policy, window(before_all - an_hour - an_hour, before_all - an_hour)).await;
    assert!(earlier.is_empty());

    // Bad filters name their field.
    let agent_kind = pb::AuditEntityKind::Agent as i32;
    let bad_filters = [
        (pb::ListAuditEventsRequest { entity_kind: agent_kind, ..Default::default() }, "entity_id"),
        (pb::ListAuditEventsRequest { entity_id: "a-1".into(), ..Default::default() }, "entity_kind"),
        (pb::ListAuditEventsRequest { entity_kind: 99, entity_id: "a-1".into(), ..Default::default() }, "entity_kind"),
        (pb::ListAuditEventsRequest { page_token: "forged".into(), ..Default::default() }, "page_token"),
        (window(before_all, before_all - an_hour), "until"),
    ];
    for (filter, field) in bad_filters {
        let status = policy.list_audit_events(filter.clone()).await.unwrap_err();
        assert_eq!(violated_fields(&status), [field], "{filter:?}");
    }

    // Admins only.
    for (role, token) in ROLE_TOKENS {
        let mut client =
            pb::policy_service_client::PolicyServiceClient::new(with_token(spawned.app.channel.clone(), Some(token)));
        let denied = client.list_audit_events(pb::ListAuditEventsRequest::default()).await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{role}");
    }
}

/// The database itself refuses to change or remove an event, whoever connects to it.
async fn events_cannot_be_changed_or_removed(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    spawned.app.put_agents(vec![agent("a-1", "IE", "Europe/Dublin")]).await;
    let url = spawned._database.url().to_owned();
    let attempts = [
        "UPDATE audit_events SET caller = 'token:someone-else'",
        "DELETE FROM audit_events",
        "UPDATE audit_event_entities SET entity_id = 'a-2'",
        "DELETE FROM audit_event_entities",
    ];
    for statement in attempts {
        let refused = match backend {
            Backend::Sqlite => {
                let path = url.trim_start_matches("sqlite://");
                let mut connection = diesel::SqliteConnection::establish(path).expect("opening the test database");
                connection.batch_execute(statement)
            }
            Backend::Postgres => {
                let mut connection = diesel::PgConnection::establish(&url).expect("connecting to the test database");
                connection.batch_execute(statement)
            }
        };
        let error = refused.expect_err(statement).to_string();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    if backend == Backend::Postgres {
        let mut connection = diesel::PgConnection::establish(&url).unwrap();
        let error = connection.batch_execute("TRUNCATE audit_events CASCADE").expect_err("TRUNCATE").to_string();
        assert!(error.contains("append-only"), "{error}");
    }
    let events = all_events(&mut spawned.app.policy.clone(), pb::ListAuditEventsRequest::default()).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].caller, "token:test-admin");
    assert_eq!(entities(&events[0]), [(pb::AuditEntityKind::Agent, "a-1")]);
}

crate::on_both_backends!(
    every_committed_write_is_recorded_with_its_caller,
    events_page_and_filter,
    events_cannot_be_changed_or_removed
);

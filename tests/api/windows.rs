//! TicketService.WatchWindows over gRPC with the real clock: the current state first, a
//! boundary and a write through another replica within a second, heartbeats past the call
//! timeout, the stream limit, the shutdown, and requests refused with the field named.

use std::time::{Duration, Instant};

use eea_coverage::pb;
use pb::watch_windows_response::Event;
use tonic::Streaming;

use crate::helpers::{create_database, one_off, spawn_app_on, spawn_app_with, violated_fields, Backend, TestApp};

fn subscription(severity: pb::Severity) -> pb::WindowSubscription {
    pb::WindowSubscription {
        org_id: "acme".into(),
        severity: severity as i32,
        category: pb::TicketCategory::ProductSupport as i32,
        ticket_id: String::new(),
    }
}

fn seconds(n: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds: n, nanos: 0 })
}

async fn watch(
    app: &TestApp,
    request: pb::WatchWindowsRequest,
) -> Result<Streaming<pb::WatchWindowsResponse>, tonic::Status> {
    app.tickets.clone().watch_windows(request).await.map(tonic::Response::into_inner)
}

/// The next update on the stream, skipping heartbeats; fails after `within`.
async fn next_update(stream: &mut Streaming<pb::WatchWindowsResponse>, within: Duration) -> pb::WindowUpdate {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let message = tokio::time::timeout_at(deadline, stream.message())
            .await
            .expect("an update within the time allowed")
            .expect("the stream goes on")
            .expect("the stream is open");
        if let Some(Event::Update(update)) = message.event {
            return update;
        }
    }
}

/// A whole-second instant `offset` from now, as RFC 3339 text.
fn from_now(offset: Duration, before: bool) -> String {
    let now = eea_coverage::clock::now();
    let shifted = if before { now - offset } else { now + offset };
    jiff::Timestamp::from_second(shifted.as_second()).unwrap().to_string()
}

async fn seed(app: &TestApp) {
    crate::helpers::seed_acme_with_ie_1(app, false).await;
}

async fn a_watch_reports_the_current_state_then_a_shift_ending_within_a_second_of_its_end(backend: Backend) {
    let Some(spawned) = spawn_app_with(backend, "").await else { return };
    let app = &spawned.app;
    seed(app).await;
    let shift_end = from_now(Duration::from_secs(3), false);
    app.put_shifts(vec![one_off("now", "ie-1", &from_now(Duration::from_secs(3600), true), &shift_end)]).await;
    let request = pb::WatchWindowsRequest {
        subscriptions: vec![subscription(pb::Severity::Severity1), subscription(pb::Severity::Severity3)],
        heartbeat_interval: seconds(30),
    };
    let mut stream = watch(app, request).await.unwrap();
    for subscription_index in [0, 1] {
        let current = next_update(&mut stream, Duration::from_secs(2)).await;
        assert_eq!(current.subscription_index, subscription_index);
        assert_eq!(current.cause(), pb::WindowUpdateCause::CurrentState);
        assert!(current.changes.is_empty());
        let decision = current.decision.unwrap();
        assert!(decision.staffed_now);
        // The same answer DecideTicket gives for the same instant.
        let asked = app
            .tickets
            .clone()
            .decide_ticket(pb::DecideTicketRequest {
                org_id: "acme".into(),
                severity: [pb::Severity::Severity1, pb::Severity::Severity3][subscription_index as usize] as i32,
                category: pb::TicketCategory::ProductSupport as i32,
                ticket_id: String::new(),
                at: decision.at,
                as_known_at: None,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(decision, asked);
    }
    // Sev1 staffing stops when the shift ends (Sev3 too, and it may be outside its hours).
    let stopped = next_update(&mut stream, Duration::from_secs(6)).await;
    let end: jiff::Timestamp = shift_end.parse().unwrap();
    let reported_at = stopped.decision.as_ref().unwrap().at.unwrap();
    let reported_at = jiff::Timestamp::new(reported_at.seconds, reported_at.nanos).unwrap();
    assert_eq!(stopped.cause(), pb::WindowUpdateCause::TimePassed);
    assert!(stopped.changes.contains(&(pb::WindowChange::StaffingStopped as i32)), "{stopped:?}");
    let late = reported_at.duration_since(end);
    assert!(late >= jiff::SignedDuration::ZERO && late < jiff::SignedDuration::from_secs(1), "{late:?} late");
    eprintln!("the end of a shift was reported {late:?} after it");
}

async fn watch_requests_are_checked_field_by_field(backend: Backend) {
    let Some(spawned) = spawn_app_with(backend, "").await else { return };
    let app = &spawned.app;
    seed(app).await;
    let empty = watch(app, pb::WatchWindowsRequest { subscriptions: vec![], heartbeat_interval: None }).await;
    assert_eq!(violated_fields(&empty.unwrap_err()), ["subscriptions"]);
    let mut bad = subscription(pb::Severity::Severity1);
    bad.severity = 0;
    bad.org_id = "not an id".into();
    let request = pb::WatchWindowsRequest {
        subscriptions: vec![subscription(pb::Severity::Severity2), bad],
        heartbeat_interval: seconds(0),
    };
    let refused = watch(app, request).await.unwrap_err();
    assert_eq!(
        violated_fields(&refused),
        ["subscriptions[1].org_id", "subscriptions[1].severity", "heartbeat_interval"]
    );
    let mut unknown = subscription(pb::Severity::Severity2);
    unknown.org_id = "nobody".into();
    let request = pb::WatchWindowsRequest { subscriptions: vec![unknown], heartbeat_interval: None };
    let not_found = watch(app, request).await.unwrap_err();
    assert_eq!(not_found.code(), tonic::Code::NotFound);
    assert!(not_found.message().contains("nobody"), "{}", not_found.message());
    let too_many = vec![subscription(pb::Severity::Severity1); 101];
    let request = pb::WatchWindowsRequest { subscriptions: too_many, heartbeat_interval: None };
    assert_eq!(violated_fields(&watch(app, request).await.unwrap_err()), ["subscriptions"]);
}

/// Heartbeats keep coming past the call timeout (1 s here); the stream limit (1 here) refuses a
/// second watch until the first is dropped; stopping the server ends the stream at once.
async fn watches_outlive_the_call_timeout_are_limited_and_end_when_the_server_stops(backend: Backend) {
    let Some(mut spawned) =
        spawn_app_with(backend, "[limits]\ncall_timeout_secs = 1\nmax_watch_streams = 1\nshutdown_grace_secs = 20\n")
            .await
    else {
        return;
    };
    seed(&spawned.app).await;
    let request = pb::WatchWindowsRequest {
        subscriptions: vec![subscription(pb::Severity::Severity1)],
        heartbeat_interval: seconds(1),
    };
    let mut stream = watch(&spawned.app, request.clone()).await.unwrap();
    next_update(&mut stream, Duration::from_secs(2)).await;
    let started = Instant::now();
    let mut heartbeats = 0;
    while heartbeats < 3 {
        let message = tokio::time::timeout(Duration::from_secs(3), stream.message()).await.unwrap().unwrap().unwrap();
        if let Some(Event::Heartbeat(heartbeat)) = message.event {
            assert!(heartbeat.roster_version > 0);
            heartbeats += 1;
        }
    }
    assert!(started.elapsed() >= Duration::from_millis(2_500), "three heartbeats a second apart");

    let refused = watch(&spawned.app, request.clone()).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut stream = loop {
        match watch(&spawned.app, request.clone()).await {
            Ok(stream) => break stream,
            Err(status) => assert_eq!(status.code(), tonic::Code::ResourceExhausted),
        }
        assert!(Instant::now() < deadline, "the dropped watch's place was never given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    next_update(&mut stream, Duration::from_secs(2)).await;

    let stopping = Instant::now();
    spawned.app.begin_stop();
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.message()).await.expect("the stream ends") {
            Ok(Some(_)) => continue,
            ended => break ended,
        }
    };
    let status = ended.expect_err("the stream ends with a status");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert!(stopping.elapsed() < Duration::from_secs(5), "the watch held the shutdown");
}

crate::on_both_backends!(
    a_watch_reports_the_current_state_then_a_shift_ending_within_a_second_of_its_end,
    watch_requests_are_checked_field_by_field,
    watches_outlive_the_call_timeout_are_limited_and_end_when_the_server_stops,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_another_replica_reaches_a_watch_within_a_second() {
    let Some(database) = create_database(Backend::Postgres) else { return };
    let first = spawn_app_on(&database, "").await;
    let second = spawn_app_on(&database, "").await;
    seed(&first).await;
    // Wait until the org has reached the second replica.
    let request = pb::WatchWindowsRequest {
        subscriptions: vec![subscription(pb::Severity::Severity1)],
        heartbeat_interval: None,
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut stream = loop {
        if let Ok(stream) = watch(&second, request.clone()).await {
            break stream;
        }
        assert!(Instant::now() < deadline, "the org never reached the second replica");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let current = next_update(&mut stream, Duration::from_secs(2)).await;
    assert!(!current.decision.as_ref().unwrap().staffed_now);

    let written = Instant::now();
    let shift = one_off(
        "cover",
        "ie-1",
        &from_now(Duration::from_secs(3600), true),
        &from_now(Duration::from_secs(3600), false),
    );
    first.put_shifts(vec![shift]).await;
    let update = next_update(&mut stream, Duration::from_secs(1)).await;
    let seen_after = written.elapsed();
    assert_eq!(update.cause(), pb::WindowUpdateCause::RosterChanged);
    assert_eq!(update.changes, [pb::WindowChange::StaffingStarted as i32]);
    assert!(update.roster_version > current.roster_version);
    let decision = update.decision.unwrap();
    assert!(decision.handle_now && decision.eligible_on_shift == 1);
    eprintln!("a write through the other replica reached the watch after {seen_after:?}");
}

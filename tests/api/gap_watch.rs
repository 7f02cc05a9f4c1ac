//! CoverageService.WatchGaps over gRPC with the real clock: the current gaps, then a heartbeat at
//! once; a write that covers a gap closes it within a second; a gap that starts in a moment is
//! reported when it does; requests refused with the field named.

use std::time::Duration;

use eea_coverage::pb;
use pb::watch_gaps_response::Event;
use tonic::Streaming;

use crate::helpers::{one_off, spawn_app_with, violated_fields, Backend, TestApp};

fn sev1() -> pb::GapRequirement {
    pb::GapRequirement {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        severity: pb::Severity::Severity1 as i32,
        min_staff: 1,
    }
}

fn hours(n: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds: n * 3600, nanos: 0 })
}

async fn watch(
    app: &TestApp,
    request: pb::WatchGapsRequest,
) -> Result<Streaming<pb::WatchGapsResponse>, tonic::Status> {
    app.coverage().watch_gaps(request).await.map(tonic::Response::into_inner)
}

async fn next(stream: &mut Streaming<pb::WatchGapsResponse>, within: Duration) -> Event {
    tokio::time::timeout(within, stream.message())
        .await
        .expect("a message within the time allowed")
        .expect("the stream goes on")
        .expect("the stream is open")
        .event
        .expect("an event")
}

/// A whole-second instant `offset_secs` from now (negative: before), as RFC 3339 text.
fn from_now(offset_secs: i64) -> String {
    let now = eea_coverage::clock::now().as_second();
    jiff::Timestamp::from_second(now + offset_secs).unwrap().to_string()
}

fn instant(timestamp: Option<&prost_types::Timestamp>) -> jiff::Timestamp {
    let timestamp = timestamp.expect("an instant");
    jiff::Timestamp::new(timestamp.seconds, timestamp.nanos).unwrap()
}

async fn a_gap_watch_reports_current_gaps_then_what_time_and_writes_do_to_them(backend: Backend) {
    let Some(spawned) = spawn_app_with(backend, "").await else { return };
    let app = &spawned.app;
    crate::helpers::seed_acme_with_ie_1(app, false).await;
    // On shift from an hour ago until 3 s from now: the gap after it starts then.
    let shift_end = from_now(3);
    app.put_shifts(vec![one_off("now", "ie-1", &from_now(-3600), &shift_end)]).await;
    let request = pb::WatchGapsRequest { requirements: vec![sev1()], look_ahead: hours(6), heartbeat_interval: None };
    let mut stream = watch(app, request).await.unwrap();
    let mut current = Vec::new();
    while let Event::Gap(event) = next(&mut stream, Duration::from_secs(5)).await {
        current.push(event);
    }
    // The gap after the shift; the one before it ended an hour ago.
    assert_eq!(current.len(), 1, "{current:?}");
    assert_eq!(current[0].kind(), pb::GapEventKind::Current);
    let after = current[0].gap.unwrap();
    assert_eq!(instant(after.starts_at.as_ref()).to_string(), shift_end);
    assert_eq!(after.cause(), pb::GapCause::NoOneScheduled);

    let started = match next(&mut stream, Duration::from_secs(6)).await {
        Event::Gap(event) => event,
        Event::Heartbeat(beat) => panic!("a heartbeat before the gap started: {beat:?}"),
    };
    assert_eq!((started.kind(), started.cause()), (pb::GapEventKind::Started, pb::WindowUpdateCause::TimePassed));
    let late = instant(started.at.as_ref()).duration_since(shift_end.parse().unwrap());
    assert!(late >= jiff::SignedDuration::ZERO && late < jiff::SignedDuration::from_secs(1), "{late:?} late");

    // Cover the next two hours: the gap is closed and what is left of it opened.
    let written = std::time::Instant::now();
    app.put_shifts(vec![one_off("cover", "ie-1", &from_now(-1), &from_now(7200))]).await;
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        if let Event::Gap(event) = next(&mut stream, Duration::from_secs(1)).await {
            assert_eq!(event.cause(), pb::WindowUpdateCause::RosterChanged);
            kinds.push(event.kind());
        }
    }
    assert_eq!(kinds, [pb::GapEventKind::Closed, pb::GapEventKind::Opened]);
    eprintln!("a write's gap events reached the watch after {:?}", written.elapsed());
}

async fn gap_watch_requests_are_checked_field_by_field(backend: Backend) {
    let Some(spawned) = spawn_app_with(backend, "").await else { return };
    let app = &spawned.app;
    let none = watch(app, pb::WatchGapsRequest::default()).await.unwrap_err();
    assert_eq!(violated_fields(&none), ["requirements"]);
    let mut bad = sev1();
    bad.plan = 0;
    bad.min_staff = -1;
    let request =
        pb::WatchGapsRequest { requirements: vec![sev1(), bad], look_ahead: hours(24 * 15), heartbeat_interval: None };
    let refused = watch(app, request).await.unwrap_err();
    assert_eq!(violated_fields(&refused), ["requirements[1].plan", "requirements[1].min_staff", "look_ahead"]);
}

crate::on_both_backends!(
    a_gap_watch_reports_current_gaps_then_what_time_and_writes_do_to_them,
    gap_watch_requests_are_checked_field_by_field,
);

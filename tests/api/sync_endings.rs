//! Every way a sync's stream can end. A sync is committed only when its stream ended cleanly
//! and, when it ends with a count, carried exactly that count; however else it ends, the window
//! is exactly as before and the audit trail holds no event for it.
//!
//! Streams are ended frame by frame through `raw_h2`, the way grpc-core ends them (a cancel is
//! an RST_STREAM with CANCEL), so nothing between the test and the server decides when to flush.

use std::collections::BTreeSet;

use eea_coverage::cli::import::sync_end;
use eea_coverage::pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{
    agent, one_off, spawn_app_on, spawn_app_with, sync_batch, sync_header, wait_for_log_line, watched_request_id,
    Backend, Spawned, TestApp, TEST_TOKEN,
};
use crate::raw_h2::{RawCall, CANCEL, NO_ERROR};

const SYNC_PATH: &str = "/eeacoverage.v1.RosterService/SyncShifts";
const SYNC_RPC: &str = "eeacoverage.v1.RosterService/SyncShifts";
const WINDOW_START: &str = "2026-12-07T00:00:00Z";
const WINDOW_END: &str = "2026-12-14T00:00:00Z";
const SOURCE: &str = "wfm";

/// `n_shifts` (at most 504) shifts of 19 minutes named `<label>-<i>`, spread over the window's
/// week.
fn generation(label: &str, n_shifts: usize) -> Vec<pb::Shift> {
    (0..n_shifts)
        .map(|shift_idx| {
            let (hour, minute) = (shift_idx % (7 * 24), (shift_idx / (7 * 24)) * 20);
            let (day, hour_of_day) = (7 + hour / 24, hour % 24);
            let starts_at = format!("2026-12-{day:02}T{hour_of_day:02}:{minute:02}:00Z");
            let ends_at = format!("2026-12-{day:02}T{hour_of_day:02}:{:02}:00Z", minute + 19);
            one_off(&format!("{label}-{shift_idx}"), "ie-1", &starts_at, &ends_at)
        })
        .collect()
}

/// The sync's messages for `shifts`, in batches of `batch_size`, with or without the end.
fn sync_messages(shifts: &[pb::Shift], batch_size: usize, with_end: bool) -> Vec<pb::SyncShiftsRequest> {
    let mut messages = vec![sync_header(SOURCE, WINDOW_START, WINDOW_END, false)];
    messages.extend(shifts.chunks(batch_size).map(|chunk| sync_batch(chunk.to_vec(), vec![])));
    if with_end {
        messages.push(sync_end(shifts.len(), 0, 0));
    }
    messages
}

fn ids(shifts: &[pb::Shift]) -> BTreeSet<String> {
    shifts.iter().map(|shift| shift.shift_id.clone()).collect()
}

/// A server whose source `wfm` holds the 100 shifts `old-*` in the window (two batches of 50).
async fn seeded_with(backend: Backend, extra_toml: &str) -> Option<Spawned> {
    let spawned = spawn_app_with(backend, extra_toml).await?;
    seed(&spawned.app).await;
    Some(spawned)
}

async fn seed(app: &TestApp) {
    app.put_agents_from(SOURCE, vec![agent("ie-1", "IE", "Europe/Dublin")]).await;
    app.sync(sync_messages(&generation("old", 100), 50, true)).await.unwrap();
}

/// The IDs of the shifts stored in the window.
async fn window_ids(app: &TestApp) -> BTreeSet<String> {
    let listed = app
        .roster
        .clone()
        .list_shifts(pb::ListShiftsRequest { page_size: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.next_page_token.is_empty(), "one page holds the test's shifts");
    listed.shifts.into_iter().map(|shift| shift.shift_id).collect()
}

/// How many syncs the audit trail records.
async fn n_sync_events(app: &TestApp) -> usize {
    let mut policy = app.policy.clone();
    let (mut n_events, mut page_token) = (0, String::new());
    loop {
        let page = policy
            .list_audit_events(pb::ListAuditEventsRequest {
                page_size: 200,
                page_token: page_token.clone(),
                rpc: SYNC_RPC.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        n_events += page.events.len();
        if page.next_page_token.is_empty() {
            return n_events;
        }
        page_token = page.next_page_token;
    }
}

/// The window and the audit trail as they stood before a sync that must change nothing.
struct Before {
    ids: BTreeSet<String>,
    n_events: usize,
}

impl Before {
    async fn of(app: &TestApp) -> Before {
        Before { ids: window_ids(app).await, n_events: n_sync_events(app).await }
    }

    /// Fails, naming `what`, unless the window holds the same shifts and the audit trail no
    /// further sync.
    async fn assert_unchanged(&self, app: &TestApp, what: &str) {
        assert_eq!(window_ids(app).await, self.ids, "{what}: the window changed");
        assert_eq!(n_sync_events(app).await, self.n_events, "{what}: an audit event was recorded");
    }
}

/// A sync opened frame by frame, with a watched request ID and, when given, a `grpc-timeout`.
async fn raw_sync(app: &TestApp, request_id: &str, grpc_timeout: Option<&str>) -> RawCall {
    let authorization = format!("Bearer {TEST_TOKEN}");
    let mut headers = vec![("authorization", authorization.as_str()), ("x-request-id", request_id)];
    if let Some(timeout) = grpc_timeout {
        headers.push(("grpc-timeout", timeout));
    }
    RawCall::open(app.address, SYNC_PATH, &headers).await
}

async fn send_all(call: &RawCall, messages: &[pb::SyncShiftsRequest]) {
    for message in messages {
        call.send_message(message).await;
    }
}

/// The server's last word on a sync: `committed`, `rolled_back`, `refused` (its stream did not
/// end cleanly), `abandoned` (its caller left before it was written), `dry_run` or `failed`.
async fn sync_outcome(request_id: &str) -> String {
    let line = wait_for_log_line(request_id, "sync.outcome=").await;
    let outcome = line.split("sync.outcome=").nth(1).expect("the field");
    outcome.trim_start_matches('"').split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap().to_owned()
}

/// A sync of 100 new shifts in batches of 10, opened frame by frame on a seeded server under a
/// watched request ID, and what it must leave as it was when it does not end cleanly. The call
/// is dropped before the server.
struct InterruptedSync {
    call: RawCall,
    request_id: String,
    /// The header, then the ten batches; no end message.
    messages: Vec<pb::SyncShiftsRequest>,
    before: Before,
    spawned: Spawned,
}

impl InterruptedSync {
    async fn open(backend: Backend, label: &str, grpc_timeout: Option<&str>) -> Option<InterruptedSync> {
        let spawned = seeded_with(backend, "").await?;
        let before = Before::of(&spawned.app).await;
        let request_id = watched_request_id(label);
        let call = raw_sync(&spawned.app, &request_id, grpc_timeout).await;
        let messages = sync_messages(&generation("new", 100), 10, false);
        Some(InterruptedSync { call, request_id, messages, before, spawned })
    }

    /// Sends `messages[range]`.
    async fn send(&self, range: std::ops::Range<usize>) {
        send_all(&self.call, &self.messages[range]).await;
    }

    /// Fails unless the server's last word on the sync was `outcome` and the sync changed
    /// nothing, naming `what` happened to it.
    async fn assert_changed_nothing(&self, outcome: &str, what: &str) {
        assert_eq!(sync_outcome(&self.request_id).await, outcome, "{what}");
        self.before.assert_unchanged(&self.spawned.app, what).await;
    }
}

/// Cancels a sync after `n_batches` of the new generation's batches (0: after the header).
async fn cancelled_after(backend: Backend, n_batches: usize) {
    let Some(sync) = InterruptedSync::open(backend, "cancelled", None).await else { return };
    sync.send(0..1 + n_batches).await;
    sync.call.reset(CANCEL).await;
    sync.assert_changed_nothing("refused", &format!("cancelled after {n_batches} batches")).await;
}

async fn a_sync_cancelled_after_its_header_changes_nothing(backend: Backend) {
    cancelled_after(backend, 0).await;
}

async fn a_sync_cancelled_after_one_batch_changes_nothing(backend: Backend) {
    cancelled_after(backend, 1).await;
}

async fn a_sync_cancelled_after_many_batches_changes_nothing(backend: Backend) {
    // All ten batches: everything but the stream's end.
    cancelled_after(backend, 10).await;
}

/// hyper ends a request body reset with NO_ERROR as if it were whole; the call still writes
/// nothing.
async fn a_sync_reset_with_no_error_mid_stream_changes_nothing(backend: Backend) {
    let Some(sync) = InterruptedSync::open(backend, "no-error", None).await else { return };
    sync.send(0..2).await;
    sync.call.reset(NO_ERROR).await;
    sync.assert_changed_nothing("abandoned", "reset with NO_ERROR").await;
}

async fn a_sync_whose_connection_closes_mid_stream_changes_nothing(backend: Backend) {
    let Some(sync) = InterruptedSync::open(backend, "closed", None).await else { return };
    sync.send(0..1).await;
    // A stream whose connection closes before the server has taken it up is never seen at all;
    // this one is being read when its client goes.
    wait_for_log_line(&sync.request_id, "sync header read").await;
    sync.send(1..4).await;
    // Closing takes the call; the rest of `sync` is checked field by field.
    sync.call.close_connection().await;
    assert_eq!(sync_outcome(&sync.request_id).await, "refused");
    sync.before.assert_unchanged(&sync.spawned.app, "connection closed").await;
}

async fn a_sync_whose_deadline_expires_mid_stream_changes_nothing(backend: Backend) {
    let Some(mut sync) = InterruptedSync::open(backend, "deadline", Some("300m")).await else { return };
    sync.send(0..4).await;
    // The server answers DEADLINE_EXCEEDED once the deadline passes, having dropped the call.
    sync.call.answered().await;
    sync.before.assert_unchanged(&sync.spawned.app, "deadline expired").await;
}

async fn a_sync_that_ends_cleanly_is_committed_with_or_without_its_count(backend: Backend) {
    let Some(spawned) = seeded_with(backend, "").await else { return };
    let app = &spawned.app;
    let n_events = n_sync_events(app).await;
    let counted = generation("counted", 60);
    let response = app.sync(sync_messages(&counted, 7, true)).await.unwrap();
    assert_eq!((response.created, response.deleted), (60, 100));
    assert_eq!(window_ids(app).await, ids(&counted));
    assert_eq!(n_sync_events(app).await, n_events + 1);

    // Frame by frame, without the end message: a stream that ends cleanly is still whole.
    let uncounted = generation("uncounted", 30);
    let request_id = watched_request_id("clean");
    let mut call = raw_sync(app, &request_id, None).await;
    send_all(&call, &sync_messages(&uncounted, 10, false)).await;
    call.end_stream().await;
    call.answered().await;
    assert_eq!(sync_outcome(&request_id).await, "committed");
    assert_eq!(window_ids(app).await, ids(&uncounted));
    assert_eq!(n_sync_events(app).await, n_events + 2);
}

async fn a_sync_whose_count_disagrees_is_aborted_and_changes_nothing(backend: Backend) {
    let Some(spawned) = seeded_with(backend, "").await else { return };
    let app = &spawned.app;
    let before = Before::of(app).await;
    let shifts = generation("new", 50);
    for (declared_shifts, declared_time_off) in [(100, 0), (49, 0), (50, 1), (0, 0)] {
        let mut messages = sync_messages(&shifts, 25, false);
        messages.push(sync_end(declared_shifts, declared_time_off, 0));
        let status = app.sync(messages).await.unwrap_err();
        assert_eq!(status.code(), Code::Aborted, "{status:?}");
        let expected = format!(
            "declares {declared_shifts} shifts and {declared_time_off} time-off entries, but 50 shifts and 0 time-off entries arrived"
        );
        assert!(status.message().contains(&expected), "{}", status.message());
        let info = status.get_details_error_info().expect("ErrorInfo details");
        assert_eq!(info.reason, "SYNC_INCOMPLETE");
        assert_eq!(info.metadata.get("declared_shift_count"), Some(&declared_shifts.to_string()));
        assert_eq!(info.metadata.get("received_shift_count"), Some(&"50".to_owned()));
    }
    // Nothing may follow the end message, and its counts are never negative.
    let mut followed = sync_messages(&shifts, 25, true);
    followed.push(sync_messages(&generation("late", 1), 1, false).remove(1));
    let status = app.sync(followed).await.unwrap_err();
    assert_eq!(crate::helpers::violated_fields(&status), ["end"]);
    let mut negative = sync_messages(&shifts, 25, false);
    negative.push(pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::End(pb::SyncEnd {
            shift_count: -1,
            time_off_count: 0,
            agent_count: 0,
        })),
    });
    let status = app.sync(negative).await.unwrap_err();
    assert_eq!(crate::helpers::violated_fields(&status), ["end.shift_count"]);
    before.assert_unchanged(app, "count disagreed").await;
}

/// A sync in flight when the server is told to stop: its connection gets a GOAWAY, the sync may
/// still finish within the shutdown grace and is then committed whole; one that does not finish
/// by then is dropped whole.
async fn a_sync_in_flight_at_shutdown_is_finished_whole_or_dropped_whole(backend: Backend) {
    for finishes in [true, false] {
        let Some(Spawned { mut app, _database: database }) =
            seeded_with(backend, "[limits]\nshutdown_grace_secs = 1\n").await
        else {
            return;
        };
        let (before, n_events) = (window_ids(&app).await, n_sync_events(&app).await);
        let shifts = generation("new", 40);
        let messages = sync_messages(&shifts, 10, true);
        let request_id = watched_request_id("goaway");
        let mut call = raw_sync(&app, &request_id, None).await;
        send_all(&call, &messages[..2]).await;
        // In flight: being read by its handler when the server is told to stop.
        wait_for_log_line(&request_id, "sync header read").await;
        app.begin_stop();
        call.goaway_received().await;
        if finishes {
            send_all(&call, &messages[2..]).await;
            call.end_stream().await;
            call.answered().await;
        }
        // The unfinished call stays open until the server has given up on it.
        app.stop().await;
        drop(call);
        let restarted = spawn_app_on(&database, "").await;
        let after = window_ids(&restarted).await;
        if finishes {
            assert_eq!(after, ids(&shifts), "finished after the GOAWAY");
            assert_eq!(n_sync_events(&restarted).await, n_events + 1);
        } else {
            assert_eq!(after, before, "unfinished when the grace ran out");
            assert_eq!(n_sync_events(&restarted).await, n_events);
        }
        restarted.stop().await;
    }
}

/// Whole syncs cancelled at moments spread over their stream's end, their checks and their
/// write: each ends entirely old or entirely new, with an audit event exactly when new.
async fn syncs_cancelled_at_any_moment_leave_the_window_old_or_new(backend: Backend) {
    let Some(spawned) = seeded_with(backend, "").await else { return };
    let app = &spawned.app;
    let generations = [generation("even", 300), generation("odd", 300)];
    let mut outcomes = BTreeSet::new();
    for round in 0..16u64 {
        let (before, n_events) = (window_ids(app).await, n_sync_events(app).await);
        let sent = &generations[round as usize % 2];
        let request_id = watched_request_id("any-moment");
        let call = raw_sync(app, &request_id, None).await;
        send_all(&call, &sync_messages(sent, 100, true)).await;
        call.end_stream().await;
        // From at once to well after a sync of this size commits.
        tokio::time::sleep(std::time::Duration::from_micros(round * round * 400)).await;
        call.reset(CANCEL).await;
        let outcome = sync_outcome(&request_id).await;
        let after = window_ids(app).await;
        let n_new_events = n_sync_events(app).await - n_events;
        // Judged by the outcome, not by the window: when the round before was not committed
        // either, the old window already holds what this round sends.
        if outcome == "committed" {
            assert_eq!(after, ids(sent), "round {round}: committed, yet the window is not new");
            assert_eq!(n_new_events, 1, "round {round}");
        } else {
            assert_eq!(after, before, "round {round}: not committed, yet the window changed");
            assert_eq!(n_new_events, 0, "round {round}");
        }
        outcomes.insert(outcome);
    }
    eprintln!("outcomes seen: {outcomes:?}");
}

crate::on_both_backends!(
    a_sync_cancelled_after_its_header_changes_nothing,
    a_sync_cancelled_after_one_batch_changes_nothing,
    a_sync_cancelled_after_many_batches_changes_nothing,
    a_sync_reset_with_no_error_mid_stream_changes_nothing,
    a_sync_whose_connection_closes_mid_stream_changes_nothing,
    a_sync_whose_deadline_expires_mid_stream_changes_nothing,
    a_sync_that_ends_cleanly_is_committed_with_or_without_its_count,
    a_sync_whose_count_disagrees_is_aborted_and_changes_nothing,
    a_sync_in_flight_at_shutdown_is_finished_whole_or_dropped_whole,
    syncs_cancelled_at_any_moment_leave_the_window_old_or_new,
);

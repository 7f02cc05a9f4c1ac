//! SyncShifts: atomic, idempotent window replacement per source, with a dry run.

use eea_coverage::pb;
use tonic::Code;

use crate::helpers::{
    agent, one_off, org, span, spawn_app, sync_batch as batch, sync_header, time_off as leave, violated_fields,
    Backend, TestApp,
};

fn counts(response: &pb::SyncShiftsResponse) -> (i32, i32, i32, i32) {
    (response.created, response.updated, response.deleted, response.unchanged)
}

const WEEK_START: &str = "2026-12-07T00:00:00Z";
const WEEK_END: &str = "2026-12-14T00:00:00Z";

/// The header of a sync by `wfm` of the week.
fn week_header(dry_run: bool) -> pb::SyncShiftsRequest {
    sync_header("wfm", WEEK_START, WEEK_END, dry_run)
}

/// A sync by `wfm` of the week, with `shifts` in one batch.
fn week_sync(shifts: Vec<pb::Shift>) -> Vec<pb::SyncShiftsRequest> {
    vec![week_header(false), batch(shifts, vec![])]
}

fn week_shifts() -> Vec<pb::Shift> {
    vec![
        one_off("wfm-mon", "ie-1", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z"),
        one_off("wfm-tue", "ie-1", "2026-12-08T08:00:00Z", "2026-12-08T16:00:00Z"),
        one_off("wfm-wed", "ie-1", "2026-12-09T08:00:00Z", "2026-12-09T16:00:00Z"),
    ]
}

async fn setup(app: &TestApp) {
    app.put_agents_from("wfm", vec![agent("ie-1", "IE", "Europe/Dublin"), agent("de-1", "DE", "Europe/Berlin")]).await;
}

async fn a_sync_creates_updates_deletes_and_leaves_equal_entries_alone(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let (app, mut roster) = (&spawned.app, spawned.app.roster.clone());
    setup(app).await;
    let week_with_leave = || {
        let leave = leave("wfm-leave", "ie-1", "2026-12-10T00:00:00Z", "2026-12-11T00:00:00Z");
        vec![week_header(false), batch(week_shifts(), vec![leave])]
    };
    let first = app.sync(week_with_leave()).await.unwrap();
    assert_eq!(counts(&first), (4, 0, 0, 0));
    assert_eq!(first.shifts.unwrap().created, 3);
    assert_eq!(first.time_off.unwrap().created, 1);

    let again = app.sync(week_with_leave()).await.unwrap();
    assert_eq!(counts(&again), (0, 0, 0, 4), "the same sync twice changes nothing");

    // Tuesday moves an hour, Wednesday goes, Thursday arrives, the leave is dropped.
    let mut changed = week_shifts();
    changed[1] = one_off("wfm-tue", "ie-1", "2026-12-08T09:00:00Z", "2026-12-08T17:00:00Z");
    changed[2] = one_off("wfm-thu", "ie-1", "2026-12-10T08:00:00Z", "2026-12-10T16:00:00Z");
    let third = app
        .sync(vec![week_header(false), batch(changed[..2].to_vec(), vec![]), batch(changed[2..].to_vec(), vec![])])
        .await
        .unwrap();
    assert_eq!(counts(&third), (1, 1, 2, 1));
    assert_eq!(app.shift_ids().await, ["wfm-mon", "wfm-thu", "wfm-tue"]);
    let time_off = roster.list_time_off(pb::ListTimeOffRequest::default()).await.unwrap().into_inner().time_off;
    assert!(time_off.is_empty());
}

async fn a_sync_leaves_other_sources_and_the_outside_of_its_window_alone(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let (app, mut roster) = (&spawned.app, spawned.app.roster.clone());
    setup(app).await;
    // Another source in the same week, the same source the week before, and a manual shift.
    let rota_monday = one_off("rota-mon", "de-1", "2026-12-07T06:00:00Z", "2026-12-07T14:00:00Z");
    app.sync(vec![sync_header("rota", WEEK_START, WEEK_END, false), batch(vec![rota_monday], vec![])]).await.unwrap();
    let previous_monday = one_off("wfm-prev", "ie-1", "2026-11-30T08:00:00Z", "2026-11-30T16:00:00Z");
    let previous_week = sync_header("wfm", "2026-11-30T00:00:00Z", WEEK_START, false);
    app.sync(vec![previous_week, batch(vec![previous_monday], vec![])]).await.unwrap();
    app.put_shifts(vec![one_off("manual", "de-1", "2026-12-08T06:00:00Z", "2026-12-08T14:00:00Z")]).await;
    let emptied = app.sync(vec![week_header(false)]).await.unwrap();
    assert_eq!(counts(&emptied), (0, 0, 0, 0));
    let filled = app.sync(week_sync(week_shifts())).await.unwrap();
    assert_eq!(counts(&filled), (3, 0, 0, 0));
    let emptied = app.sync(vec![week_header(false)]).await.unwrap();
    assert_eq!(counts(&emptied), (0, 0, 3, 0));
    assert_eq!(app.shift_ids().await, ["manual", "rota-mon", "wfm-prev"]);

    // A synced entry is its source's: a direct upsert or delete is refused.
    let moved = one_off("rota-mon", "de-1", "2026-12-07T07:00:00Z", "2026-12-07T15:00:00Z");
    let direct = app.try_put_shifts(vec![moved]).await.unwrap_err();
    assert_eq!(direct.code(), Code::FailedPrecondition);
    let delete = roster.delete_shift(pb::DeleteShiftRequest { shift_id: "rota-mon".into() }).await.unwrap_err();
    assert_eq!(delete.code(), Code::FailedPrecondition);
    // Reusing another source's ID, or sending an entry outside the window, is refused.
    let refused = [
        (one_off("rota-mon", "ie-1", "2026-12-07T06:00:00Z", "2026-12-07T14:00:00Z"), "shifts[0].shift_id"),
        (one_off("wfm-late", "ie-1", "2026-12-20T06:00:00Z", "2026-12-20T14:00:00Z"), "shifts[0].one_off.starts_at"),
    ];
    for (shift, field) in refused {
        let error = app.sync(week_sync(vec![shift])).await.unwrap_err();
        assert_eq!(violated_fields(&error), [field]);
    }
}

async fn a_bad_entry_in_the_last_batch_leaves_the_database_untouched(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    setup(app).await;
    app.sync(week_sync(week_shifts())).await.unwrap();
    let mut bad = one_off("wfm-bad", "ie-1", "2026-12-11T08:00:00Z", "2026-12-11T16:00:00Z");
    bad.severities = vec![9];
    let messages = vec![
        week_header(false),
        batch(vec![one_off("wfm-fri", "ie-1", "2026-12-11T08:00:00Z", "2026-12-11T16:00:00Z")], vec![]),
        batch(vec![one_off("wfm-sat", "ie-1", "2026-12-12T08:00:00Z", "2026-12-12T16:00:00Z"), bad], vec![]),
    ];
    let error = app.sync(messages).await.unwrap_err();
    assert_eq!(violated_fields(&error), ["shifts[2].severities[0]"]);
    assert!(error.message().contains("wfm-bad"), "the entry's ID is named: {}", error.message());
    assert_eq!(app.shift_ids().await, ["wfm-mon", "wfm-tue", "wfm-wed"]);

    let monday = || week_shifts()[0].clone();
    let refused = [
        (
            week_sync(vec![one_off("wfm-x", "ghost", "2026-12-11T08:00:00Z", "2026-12-11T16:00:00Z")]),
            "shifts[0].agent_id",
        ),
        (vec![batch(week_shifts(), vec![])], "header"),
        (vec![week_header(false), batch(vec![monday()], vec![]), batch(vec![monday()], vec![])], "shifts[1].shift_id"),
    ];
    for (messages, field) in refused {
        let refusal = app.sync(messages).await.unwrap_err();
        assert_eq!(violated_fields(&refusal), [field]);
    }
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(app.shift_ids().await, ["wfm-mon", "wfm-tue", "wfm-wed"]);
}

async fn a_dry_run_reports_the_gap_it_would_open_and_writes_nothing(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    setup(app).await;
    app.sync(week_sync(week_shifts())).await.unwrap();
    // Dropping Tuesday would open Tuesday's 08:00-16:00Z for Sev1.
    let mut without_tuesday = week_shifts();
    without_tuesday.remove(1);
    let dry = app.sync(vec![week_header(true), batch(without_tuesday, vec![])]).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!(counts(&dry), (0, 0, 1, 2));
    let sev1 = dry
        .gap_changes
        .iter()
        .find(|change| change.plan() == pb::Plan::EeaOnly && change.severity() == pb::Severity::Severity1)
        .unwrap();
    let opened: Vec<_> = sev1.opened.iter().map(|gap| (gap.starts_at, gap.ends_at)).collect();
    assert_eq!(opened, vec![span("2026-12-08T08:00:00Z", "2026-12-08T16:00:00Z")]);
    assert!(sev1.closed.is_empty());
    assert_eq!(app.shift_ids().await, ["wfm-mon", "wfm-tue", "wfm-wed"], "a dry run writes nothing");
}

fn agents_batch(agents: Vec<pb::Agent>) -> pb::SyncShiftsRequest {
    pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch { agents, ..Default::default() })),
    }
}

fn sync_end(n_shifts: i32, n_agents: i32) -> pb::SyncShiftsRequest {
    pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::End(pb::SyncEnd {
            shift_count: n_shifts,
            time_off_count: 0,
            agent_count: n_agents,
        })),
    }
}

async fn agents_travel_in_the_sync_and_are_written_with_its_entries(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let (app, mut roster) = (&spawned.app, spawned.app.roster.clone());
    let new_agents = || vec![agent("ie-1", "IE", "Europe/Dublin"), agent("de-1", "DE", "Europe/Berlin")];
    let sync = |agents: Vec<pb::Agent>, n_agents: i32| {
        vec![week_header(false), agents_batch(agents), batch(week_shifts(), vec![]), sync_end(3, n_agents)]
    };
    // An empty server: the agents and their shifts arrive together, and the gap they close is
    // reported against the roster without them.
    let first = app.sync(sync(new_agents(), 2)).await.unwrap();
    assert_eq!(counts(&first), (3, 0, 0, 0), "the totals count entries only");
    let agents = first.agents.unwrap();
    assert_eq!((agents.created, agents.updated, agents.unchanged), (2, 0, 0));
    assert!(first.gap_changes.iter().any(|change| !change.closed.is_empty()), "the new shifts close gaps");
    let stored = roster.get_agent(pb::GetAgentRequest { agent_id: "de-1".into() }).await.unwrap().into_inner();
    assert_eq!(stored.time_zone, "Europe/Berlin");

    // Sent again as they are: unchanged. One moves country: updated.
    let again = app.sync(sync(new_agents(), 2)).await.unwrap().agents.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
    let mut moved = new_agents();
    moved[1].country = "AT".into();
    moved[1].time_zone = "Europe/Vienna".into();
    let third = app.sync(sync(moved, 2)).await.unwrap().agents.unwrap();
    assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 1));
    let stored = roster.get_agent(pb::GetAgentRequest { agent_id: "de-1".into() }).await.unwrap().into_inner();
    assert_eq!(stored.country, "AT");

    // An agent named twice, a bad agent, or a lost agent batch: refused, and nothing written.
    let twice = vec![agent("fr-1", "FR", "Europe/Paris"), agent("fr-1", "FR", "Europe/Paris")];
    let refused = app.sync(sync(twice, 2)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), ["agents[1].agent_id"]);
    let bad = vec![agent("fr-1", "FR", "Europe/Paris"), agent("nl-1", "NL", "Mars/Olympus")];
    let refused = app.sync(sync(bad, 2)).await.unwrap_err();
    assert_eq!(violated_fields(&refused), ["agents[1].time_zone"]);
    let lost = app.sync(sync(vec![agent("fr-1", "FR", "Europe/Paris")], 2)).await.unwrap_err();
    assert_eq!(lost.code(), Code::Aborted);
    assert!(lost.message().contains("and 2 agents") && lost.message().contains("and 1 agents"), "{}", lost.message());
    assert!(roster.get_agent(pb::GetAgentRequest { agent_id: "fr-1".into() }).await.is_err());
}

crate::on_both_backends!(
    agents_travel_in_the_sync_and_are_written_with_its_entries,
    a_sync_creates_updates_deletes_and_leaves_equal_entries_alone,
    a_sync_leaves_other_sources_and_the_outside_of_its_window_alone,
    a_bad_entry_in_the_last_batch_leaves_the_database_untouched,
    a_dry_run_reports_the_gap_it_would_open_and_writes_nothing
);

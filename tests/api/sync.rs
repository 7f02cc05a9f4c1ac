//! SyncShifts: atomic, idempotent window replacement per source, with a dry run.

use eea_coverage::pb;
use tonic::Code;

use crate::helpers::{agent, one_off, org, spawn_app, timestamp, violated_fields, Backend};

type RosterClient = pb::roster_service_client::RosterServiceClient<crate::helpers::AuthChannel>;

fn header(source: &str, start: &str, end: &str, dry_run: bool) -> pb::SyncShiftsRequest {
    pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Header(pb::SyncHeader {
            source: source.into(),
            window_start: Some(timestamp(start)),
            window_end: Some(timestamp(end)),
            dry_run,
        })),
    }
}

fn batch(shifts: Vec<pb::Shift>, time_off: Vec<pb::TimeOff>) -> pb::SyncShiftsRequest {
    pb::SyncShiftsRequest { message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch { shifts, time_off })) }
}

fn leave(time_off_id: &str, agent_id: &str, start: &str, end: &str) -> pb::TimeOff {
    pb::TimeOff {
        time_off_id: time_off_id.into(),
        agent_id: agent_id.into(),
        starts_at: Some(timestamp(start)),
        ends_at: Some(timestamp(end)),
    }
}

async fn sync(
    roster: &mut RosterClient,
    messages: Vec<pb::SyncShiftsRequest>,
) -> Result<pb::SyncShiftsResponse, tonic::Status> {
    roster.sync_shifts(tokio_stream::iter(messages)).await.map(tonic::Response::into_inner)
}

fn counts(response: &pb::SyncShiftsResponse) -> (i32, i32, i32, i32) {
    (response.created, response.updated, response.deleted, response.unchanged)
}

async fn shift_ids(roster: &mut RosterClient) -> Vec<String> {
    let listed =
        roster.list_shifts(pb::ListShiftsRequest { page_size: 1000, ..Default::default() }).await.unwrap().into_inner();
    listed.shifts.into_iter().map(|shift| shift.shift_id).collect()
}

const WEEK_START: &str = "2026-12-07T00:00:00Z";
const WEEK_END: &str = "2026-12-14T00:00:00Z";

fn week_shifts() -> Vec<pb::Shift> {
    vec![
        one_off("wfm-mon", "ie-1", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z"),
        one_off("wfm-tue", "ie-1", "2026-12-08T08:00:00Z", "2026-12-08T16:00:00Z"),
        one_off("wfm-wed", "ie-1", "2026-12-09T08:00:00Z", "2026-12-09T16:00:00Z"),
    ]
}

async fn setup(roster: &mut RosterClient) {
    roster
        .upsert_agents(pb::UpsertAgentsRequest {
            agents: vec![agent("ie-1", "IE", "Europe/Dublin"), agent("de-1", "DE", "Europe/Berlin")],
            source: "wfm".into(),
        })
        .await
        .unwrap();
}

async fn a_sync_creates_updates_deletes_and_leaves_equal_entries_alone(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut roster = spawned.app.roster.clone();
    setup(&mut roster).await;
    let first = sync(
        &mut roster,
        vec![
            header("wfm", WEEK_START, WEEK_END, false),
            batch(week_shifts(), vec![leave("wfm-leave", "ie-1", "2026-12-10T00:00:00Z", "2026-12-11T00:00:00Z")]),
        ],
    )
    .await
    .unwrap();
    assert_eq!(counts(&first), (4, 0, 0, 0));
    assert_eq!(first.shifts.unwrap().created, 3);
    assert_eq!(first.time_off.unwrap().created, 1);

    let again = sync(
        &mut roster,
        vec![
            header("wfm", WEEK_START, WEEK_END, false),
            batch(week_shifts(), vec![leave("wfm-leave", "ie-1", "2026-12-10T00:00:00Z", "2026-12-11T00:00:00Z")]),
        ],
    )
    .await
    .unwrap();
    assert_eq!(counts(&again), (0, 0, 0, 4), "the same sync twice changes nothing");

    // Tuesday moves an hour, Wednesday goes, Thursday arrives, the leave is dropped.
    let mut changed = week_shifts();
    changed[1] = one_off("wfm-tue", "ie-1", "2026-12-08T09:00:00Z", "2026-12-08T17:00:00Z");
    changed[2] = one_off("wfm-thu", "ie-1", "2026-12-10T08:00:00Z", "2026-12-10T16:00:00Z");
    let third = sync(
        &mut roster,
        vec![
            header("wfm", WEEK_START, WEEK_END, false),
            batch(changed[..2].to_vec(), vec![]),
            batch(changed[2..].to_vec(), vec![]),
        ],
    )
    .await
    .unwrap();
    assert_eq!(counts(&third), (1, 1, 2, 1));
    assert_eq!(shift_ids(&mut roster).await, ["wfm-mon", "wfm-thu", "wfm-tue"]);
    let time_off = roster.list_time_off(pb::ListTimeOffRequest::default()).await.unwrap().into_inner().time_off;
    assert!(time_off.is_empty());
}

async fn a_sync_leaves_other_sources_and_the_outside_of_its_window_alone(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut roster = spawned.app.roster.clone();
    setup(&mut roster).await;
    // Another source in the same week, the same source the week before, and a manual shift.
    sync(
        &mut roster,
        vec![
            header("rota", WEEK_START, WEEK_END, false),
            batch(vec![one_off("rota-mon", "de-1", "2026-12-07T06:00:00Z", "2026-12-07T14:00:00Z")], vec![]),
        ],
    )
    .await
    .unwrap();
    sync(
        &mut roster,
        vec![
            header("wfm", "2026-11-30T00:00:00Z", WEEK_START, false),
            batch(vec![one_off("wfm-prev", "ie-1", "2026-11-30T08:00:00Z", "2026-11-30T16:00:00Z")], vec![]),
        ],
    )
    .await
    .unwrap();
    roster
        .upsert_shifts(pb::UpsertShiftsRequest {
            shifts: vec![one_off("manual", "de-1", "2026-12-08T06:00:00Z", "2026-12-08T14:00:00Z")],
        })
        .await
        .unwrap();
    let emptied = sync(&mut roster, vec![header("wfm", WEEK_START, WEEK_END, false)]).await.unwrap();
    assert_eq!(counts(&emptied), (0, 0, 0, 0));
    let filled = sync(&mut roster, vec![header("wfm", WEEK_START, WEEK_END, false), batch(week_shifts(), vec![])])
        .await
        .unwrap();
    assert_eq!(counts(&filled), (3, 0, 0, 0));
    let emptied = sync(&mut roster, vec![header("wfm", WEEK_START, WEEK_END, false)]).await.unwrap();
    assert_eq!(counts(&emptied), (0, 0, 3, 0));
    assert_eq!(shift_ids(&mut roster).await, ["manual", "rota-mon", "wfm-prev"]);

    // A synced entry is its source's: a direct upsert or delete is refused.
    let direct = roster
        .upsert_shifts(pb::UpsertShiftsRequest {
            shifts: vec![one_off("rota-mon", "de-1", "2026-12-07T07:00:00Z", "2026-12-07T15:00:00Z")],
        })
        .await
        .unwrap_err();
    assert_eq!(direct.code(), Code::FailedPrecondition);
    let delete = roster.delete_shift(pb::DeleteShiftRequest { shift_id: "rota-mon".into() }).await.unwrap_err();
    assert_eq!(delete.code(), Code::FailedPrecondition);
    // Reusing another source's ID, or sending an entry outside the window, is refused.
    let stolen = sync(
        &mut roster,
        vec![
            header("wfm", WEEK_START, WEEK_END, false),
            batch(vec![one_off("rota-mon", "ie-1", "2026-12-07T06:00:00Z", "2026-12-07T14:00:00Z")], vec![]),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&stolen), ["shifts[0].shift_id"]);
    let outside = sync(
        &mut roster,
        vec![
            header("wfm", WEEK_START, WEEK_END, false),
            batch(vec![one_off("wfm-late", "ie-1", "2026-12-20T06:00:00Z", "2026-12-20T14:00:00Z")], vec![]),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&outside), ["shifts[0].one_off.starts_at"]);
}

async fn a_bad_entry_in_the_last_batch_leaves_the_database_untouched(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut roster = spawned.app.roster.clone();
    setup(&mut roster).await;
    sync(&mut roster, vec![header("wfm", WEEK_START, WEEK_END, false), batch(week_shifts(), vec![])]).await.unwrap();
    let mut bad = one_off("wfm-bad", "ie-1", "2026-12-11T08:00:00Z", "2026-12-11T16:00:00Z");
    bad.severities = vec![9];
    let messages = vec![
        header("wfm", WEEK_START, WEEK_END, false),
        batch(vec![one_off("wfm-fri", "ie-1", "2026-12-11T08:00:00Z", "2026-12-11T16:00:00Z")], vec![]),
        batch(vec![one_off("wfm-sat", "ie-1", "2026-12-12T08:00:00Z", "2026-12-12T16:00:00Z"), bad], vec![]),
    ];
    let error = sync(&mut roster, messages).await.unwrap_err();
    assert_eq!(violated_fields(&error), ["shifts[2].severities[0]"]);
    assert!(error.message().contains("wfm-bad"), "the entry's ID is named: {}", error.message());
    assert_eq!(shift_ids(&mut roster).await, ["wfm-mon", "wfm-tue", "wfm-wed"]);

    let ghost = sync(
        &mut roster,
        vec![
            header("wfm", WEEK_START, WEEK_END, false),
            batch(vec![one_off("wfm-x", "ghost", "2026-12-11T08:00:00Z", "2026-12-11T16:00:00Z")], vec![]),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&ghost), ["shifts[0].agent_id"]);
    let no_header = sync(&mut roster, vec![batch(week_shifts(), vec![])]).await.unwrap_err();
    assert_eq!(violated_fields(&no_header), ["header"]);
    let duplicate = sync(
        &mut roster,
        vec![
            header("wfm", WEEK_START, WEEK_END, false),
            batch(vec![week_shifts()[0].clone()], vec![]),
            batch(vec![week_shifts()[0].clone()], vec![]),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&duplicate), ["shifts[1].shift_id"]);
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(shift_ids(&mut roster).await, ["wfm-mon", "wfm-tue", "wfm-wed"]);
}

async fn a_dry_run_reports_the_gap_it_would_open_and_writes_nothing(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let (mut policy, mut roster) = (spawned.app.policy.clone(), spawned.app.roster.clone());
    policy.upsert_org(pb::UpsertOrgRequest { org: Some(org("acme", "eu-west-1", pb::Plan::EeaOnly)) }).await.unwrap();
    setup(&mut roster).await;
    sync(&mut roster, vec![header("wfm", WEEK_START, WEEK_END, false), batch(week_shifts(), vec![])]).await.unwrap();
    // Dropping Tuesday would open Tuesday's 08:00-16:00Z for Sev1.
    let mut without_tuesday = week_shifts();
    without_tuesday.remove(1);
    let dry = sync(&mut roster, vec![header("wfm", WEEK_START, WEEK_END, true), batch(without_tuesday, vec![])])
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(counts(&dry), (0, 0, 1, 2));
    let sev1 = dry
        .gap_changes
        .iter()
        .find(|change| change.plan() == pb::Plan::EeaOnly && change.severity() == pb::Severity::Severity1)
        .unwrap();
    let opened: Vec<_> = sev1.opened.iter().map(|gap| (gap.starts_at, gap.ends_at)).collect();
    assert_eq!(opened, vec![(Some(timestamp("2026-12-08T08:00:00Z")), Some(timestamp("2026-12-08T16:00:00Z")))]);
    assert!(sev1.closed.is_empty());
    assert_eq!(shift_ids(&mut roster).await, ["wfm-mon", "wfm-tue", "wfm-wed"], "a dry run writes nothing");
}

crate::on_both_backends!(
    a_sync_creates_updates_deletes_and_leaves_equal_entries_alone,
    a_sync_leaves_other_sources_and_the_outside_of_its_window_alone,
    a_bad_entry_in_the_last_batch_leaves_the_database_untouched,
    a_dry_run_reports_the_gap_it_would_open_and_writes_nothing
);

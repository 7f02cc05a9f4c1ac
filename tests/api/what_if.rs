//! CoverageService.SimulateCoverage over gRPC: hypothetical changes and shift files laid over the
//! stored roster, answered as the report of the changed roster would be, with nothing written.

use eea_coverage::pb;
use pb::hypothetical_change::{Absence, AddAgent, AddShift, Change, ChangeShift, Relocation, RemoveShift};
use pb::watch_gaps_response::Event;
use tonic::Code;

use crate::helpers::{
    agent, one_off, span, spawn_app, sync_batch, sync_header, timestamp, violated_fields, with_token, Backend, TestApp,
    ROLE_TOKENS,
};

const MONDAY: &str = "2026-12-07T00:00:00Z";
const TUESDAY: &str = "2026-12-08T00:00:00Z";

fn at(hour: u32) -> String {
    if hour == 24 {
        TUESDAY.to_owned()
    } else {
        format!("2026-12-07T{hour:02}:00:00Z")
    }
}

/// An Irish agent 08:00-16:00Z and a German one 16:00-24:00Z on Monday 7 December: Sev1 on the
/// EEA-only plan has a gap from midnight to 08:00Z.
async fn seed(app: &TestApp) {
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin"), agent("de-1", "DE", "Europe/Berlin")]).await;
    app.put_shifts(vec![one_off("ie-day", "ie-1", &at(8), &at(16)), one_off("de-evening", "de-1", &at(16), &at(24))])
        .await;
}

fn monday_request(changes: Vec<Change>) -> pb::SimulateCoverageRequest {
    pb::SimulateCoverageRequest {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        window_start: Some(timestamp(MONDAY)),
        window_end: Some(timestamp(TUESDAY)),
        min_staff: 1,
        changes: changes.into_iter().map(|change| pb::HypotheticalChange { change: Some(change) }).collect(),
        sync_file: None,
    }
}

fn monday_report_request() -> pb::GetCoverageReportRequest {
    pb::GetCoverageReportRequest {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        window_start: Some(timestamp(MONDAY)),
        window_end: Some(timestamp(TUESDAY)),
        min_staff: 1,
        as_known_at: None,
    }
}

fn window(start: &str, end: &str) -> Option<pb::TimeWindow> {
    Some(pb::TimeWindow { start_at: Some(timestamp(start)), end_at: Some(timestamp(end)) })
}

fn absence(agent_id: &str, start: &str, end: &str) -> Change {
    Change::Absence(Absence { agent_id: agent_id.into(), interval: window(start, end) })
}

fn add_shift(shift: pb::Shift) -> Change {
    Change::AddShift(AddShift { shift: Some(shift) })
}

type Span = (Option<prost_types::Timestamp>, Option<prost_types::Timestamp>);
/// Stretches with their causes, as a test compares them.
type Stretches = Vec<(Span, pb::GapCause)>;

/// Sev1's opened and closed stretches, with their causes.
fn sev1_changes(response: &pb::SimulateCoverageResponse) -> (Stretches, Stretches) {
    let sev1 = &response.gap_changes[0];
    assert_eq!((sev1.plan(), sev1.eea_tagged, sev1.severity()), (pb::Plan::EeaOnly, true, pb::Severity::Severity1));
    let listed = |gaps: &[pb::Gap]| gaps.iter().map(|gap| ((gap.starts_at, gap.ends_at), gap.cause())).collect();
    (listed(&sev1.opened), listed(&sev1.closed))
}

async fn simulate(
    app: &TestApp,
    request: pb::SimulateCoverageRequest,
) -> Result<pb::SimulateCoverageResponse, tonic::Status> {
    app.coverage().simulate_coverage(request).await.map(tonic::Response::into_inner)
}

async fn changes_are_simulated_as_the_report_of_the_changed_roster(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed(app).await;
    let changes = vec![
        absence("ie-1", &at(10), &at(12)),
        add_shift(one_off("de-early", "de-1", &at(0), &at(5))),
        Change::AddAgent(AddAgent { agent: Some(agent("fr-1", "FR", "Europe/Paris")) }),
        add_shift(one_off("fr-late", "fr-1", &at(20), &at(24))),
        Change::RemoveShift(RemoveShift { shift_id: "de-evening".into() }),
    ];
    let simulated = simulate(app, monday_request(changes)).await.unwrap();
    let (opened, closed) = sev1_changes(&simulated);
    assert_eq!(
        opened,
        vec![
            (span(&at(10), &at(12)), pb::GapCause::StaffOnTimeOff),
            (span(&at(16), &at(20)), pb::GapCause::NoOneScheduled)
        ]
    );
    assert_eq!(closed, vec![(span(&at(0), &at(5)), pb::GapCause::NoOneScheduled)]);
    assert_eq!(simulated.touched_agent_ids, ["de-1", "fr-1", "ie-1"]);
    assert!(simulated.sync_file.is_none());
    assert_eq!(simulated.gap_changes.len(), 4, "one per requirement");

    // Written for real, the same changes give the report the simulation gave.
    app.put_agents(vec![agent("fr-1", "FR", "Europe/Paris")]).await;
    app.put_shifts(vec![one_off("de-early", "de-1", &at(0), &at(5)), one_off("fr-late", "fr-1", &at(20), &at(24))])
        .await;
    app.put_time_off(vec![crate::helpers::time_off("away", "ie-1", &at(10), &at(12))]).await;
    app.roster.clone().delete_shift(pb::DeleteShiftRequest { shift_id: "de-evening".into() }).await.unwrap();
    let written = app.coverage().get_coverage_report(monday_report_request()).await.unwrap().into_inner();
    assert_eq!(simulated.report, Some(written));
}

async fn relocations_and_changed_shifts_are_simulated(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed(app).await;
    let changes = vec![
        Change::Relocation(Relocation {
            agent_id: "ie-1".into(),
            effective_at: Some(timestamp(&at(12))),
            country: "US".into(),
        }),
        Change::ChangeShift(ChangeShift { shift: Some(one_off("de-evening", "de-1", &at(14), &at(24))) }),
    ];
    let simulated = simulate(app, monday_request(changes)).await.unwrap();
    let (opened, closed) = sev1_changes(&simulated);
    // From 12:00Z the Irish agent is in the US; the German one now starts at 14:00Z.
    assert_eq!(opened, vec![(span(&at(12), &at(14)), pb::GapCause::OnlyIneligibleStaff)]);
    assert!(closed.is_empty());
    assert_eq!(simulated.touched_agent_ids, ["de-1", "ie-1"]);
}

/// The roster version the server's watch reports, read from a gap watch's first heartbeat.
async fn roster_version(app: &TestApp) -> i64 {
    let requirement = pb::GapRequirement {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        severity: pb::Severity::Severity1 as i32,
        min_staff: 1,
    };
    let request = pb::WatchGapsRequest { requirements: vec![requirement], look_ahead: None, heartbeat_interval: None };
    let mut stream = app.coverage().watch_gaps(request).await.unwrap().into_inner();
    loop {
        let message = stream.message().await.unwrap().expect("the watch goes on");
        if let Some(Event::Heartbeat(beat)) = message.event {
            return beat.roster_version;
        }
    }
}

async fn audit_event_count(app: &TestApp) -> usize {
    let request = pb::ListAuditEventsRequest { page_size: 1000, ..Default::default() };
    app.policy.clone().list_audit_events(request).await.unwrap().into_inner().events.len()
}

async fn agent_ids(app: &TestApp) -> Vec<String> {
    let request = pb::ListAgentsRequest { page_size: 1000, page_token: String::new() };
    app.roster.clone().list_agents(request).await.unwrap().into_inner().agents.into_iter().map(|a| a.agent_id).collect()
}

async fn a_simulation_writes_nothing(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed(app).await;
    let before = (roster_version(app).await, audit_event_count(app).await, agent_ids(app).await, app.shift_ids().await);
    let report_before = app.coverage().get_coverage_report(monday_report_request()).await.unwrap().into_inner();
    let changes = vec![
        Change::AddAgent(AddAgent { agent: Some(agent("fr-1", "FR", "Europe/Paris")) }),
        add_shift(one_off("fr-night", "fr-1", &at(0), &at(8))),
        Change::RemoveShift(RemoveShift { shift_id: "ie-day".into() }),
        absence("de-1", &at(16), &at(24)),
    ];
    simulate(app, monday_request(changes)).await.unwrap();
    let csv = format!("kind,id,agent_id,starts_at,ends_at\nshift,wfm-1,ie-1,{},{}\n", at(0), at(8));
    simulate(app, file_request(pb::SyncFileFormat::Csv, csv.as_bytes())).await.unwrap();
    let after = (roster_version(app).await, audit_event_count(app).await, agent_ids(app).await, app.shift_ids().await);
    assert_eq!(after, before);
    assert_eq!(before.2, ["de-1", "ie-1"]);
    let report_after = app.coverage().get_coverage_report(monday_report_request()).await.unwrap().into_inner();
    assert_eq!(report_after, report_before);
}

async fn bad_changes_are_refused_with_the_field_named(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed(app).await;
    let shift_for = |agent_id: &str| one_off("new", agent_id, &at(1), &at(2));
    let cases: Vec<(Vec<Change>, Vec<&str>)> = vec![
        (vec![absence("nobody", &at(1), &at(2))], vec!["changes[0].absence.agent_id"]),
        (vec![absence("ie-1", &at(2), &at(2))], vec!["changes[0].absence.interval.end_at"]),
        (
            vec![Change::Absence(Absence { agent_id: "ie-1".into(), interval: None })],
            vec!["changes[0].absence.interval"],
        ),
        (
            vec![Change::Relocation(Relocation {
                agent_id: "ie-1".into(),
                effective_at: Some(timestamp(&at(1))),
                country: "XX".into(),
            })],
            vec!["changes[0].relocation.country"],
        ),
        (vec![add_shift(shift_for("ie-1")), add_shift(shift_for("de-1"))], vec!["changes[1].add_shift.shift.shift_id"]),
        (vec![add_shift(shift_for("nobody"))], vec!["changes[0].add_shift.shift.agent_id"]),
        (
            vec![add_shift(pb::Shift { schedule: None, ..shift_for("ie-1") })],
            vec!["changes[0].add_shift.shift.schedule"],
        ),
        (vec![Change::RemoveShift(RemoveShift { shift_id: "gone".into() })], vec!["changes[0].remove_shift.shift_id"]),
        (
            vec![Change::ChangeShift(ChangeShift { shift: Some(one_off("gone", "ie-1", &at(1), &at(2))) })],
            vec!["changes[0].change_shift.shift.shift_id"],
        ),
        (
            vec![Change::AddAgent(AddAgent { agent: Some(agent("ie-1", "IE", "Europe/Dublin")) })],
            vec!["changes[0].add_agent.agent.agent_id"],
        ),
        (
            vec![Change::AddAgent(AddAgent { agent: Some(agent("xx-1", "IE", "Mars/Olympus")) })],
            vec!["changes[0].add_agent.agent.time_zone"],
        ),
    ];
    for (changes, fields) in cases {
        let status = simulate(app, monday_request(changes.clone())).await.unwrap_err();
        assert_eq!(violated_fields(&status), fields, "{changes:?}");
    }
    let empty = pb::SimulateCoverageRequest {
        changes: vec![pb::HypotheticalChange { change: None }],
        ..monday_request(vec![])
    };
    assert_eq!(violated_fields(&simulate(app, empty).await.unwrap_err()), ["changes[0].change"]);
    let too_many = monday_request((0..1_001).map(|_| absence("ie-1", &at(1), &at(2))).collect());
    assert_eq!(violated_fields(&simulate(app, too_many).await.unwrap_err()), ["changes"]);
    let as_many_as_allowed = monday_request((0..1_000).map(|_| absence("ie-1", &at(1), &at(2))).collect());
    simulate(app, as_many_as_allowed).await.unwrap();
    let both = pb::SimulateCoverageRequest {
        sync_file: file_request(pb::SyncFileFormat::Csv, b"kind,agent_id\n").sync_file,
        ..monday_request(vec![absence("ie-1", &at(1), &at(2))])
    };
    assert_eq!(violated_fields(&simulate(app, both).await.unwrap_err()), ["sync_file"]);
    let no_plan = pb::SimulateCoverageRequest { plan: 0, window_end: None, ..monday_request(vec![]) };
    assert_eq!(violated_fields(&simulate(app, no_plan).await.unwrap_err()), ["plan", "window_end"]);
}

async fn managers_and_admins_may_simulate_and_no_one_else(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed(app).await;
    for (role, token) in ROLE_TOKENS {
        let mut client =
            pb::coverage_service_client::CoverageServiceClient::new(with_token(app.channel.clone(), Some(token)));
        let outcome = client.simulate_coverage(monday_request(vec![absence("ie-1", &at(1), &at(2))])).await;
        match role {
            "manager" => {
                outcome.unwrap();
            }
            _ => assert_eq!(outcome.unwrap_err().code(), Code::PermissionDenied, "{role}"),
        }
    }
    simulate(app, monday_request(vec![])).await.unwrap();
}

fn file_request(format: pb::SyncFileFormat, content: &[u8]) -> pb::SimulateCoverageRequest {
    pb::SimulateCoverageRequest {
        sync_file: Some(pb::SyncFile {
            source: "wfm".into(),
            format: format as i32,
            content: content.to_vec(),
            window: None,
            agent_id: String::new(),
            time_zone: String::new(),
        }),
        ..monday_request(vec![])
    }
}

fn sync_counts(counts: &Option<pb::SyncCounts>) -> (i32, i32, i32, i32) {
    let counts = counts.as_ref().expect("counts");
    (counts.created, counts.updated, counts.deleted, counts.unchanged)
}

/// The WFM source `wfm` syncs Monday: the Irish day and the German evening.
async fn seed_by_sync(app: &TestApp) {
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin"), agent("de-1", "DE", "Europe/Berlin")]).await;
    let shifts = vec![one_off("wfm-day", "ie-1", &at(8), &at(16)), one_off("wfm-evening", "de-1", &at(16), &at(24))];
    app.sync(vec![sync_header("wfm", MONDAY, TUESDAY, false), sync_batch(shifts, vec![])]).await.unwrap();
}

async fn a_csv_file_is_simulated_as_its_sync_would_apply_it(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed_by_sync(app).await;
    // The day as it was, the evening cut short at 20:00Z, a new early shift.
    let csv = format!(
        "kind,id,agent_id,starts_at,ends_at\nshift,wfm-day,ie-1,{},{}\nshift,wfm-evening,de-1,{},{}\nshift,wfm-early,de-1,{},{}\n",
        at(8),
        at(16),
        at(16),
        at(20),
        at(0),
        at(3)
    );
    let simulated = simulate(app, file_request(pb::SyncFileFormat::Csv, csv.as_bytes())).await.unwrap();
    let (opened, closed) = sev1_changes(&simulated);
    assert_eq!(opened, vec![(span(&at(20), &at(24)), pb::GapCause::NoOneScheduled)]);
    assert_eq!(closed, vec![(span(&at(0), &at(3)), pb::GapCause::NoOneScheduled)]);
    assert_eq!(simulated.touched_agent_ids, ["de-1"]);
    let outcome = simulated.sync_file.as_ref().expect("a file's outcome");
    assert_eq!(sync_counts(&outcome.shifts), (1, 1, 0, 1));
    assert_eq!(sync_counts(&outcome.time_off), (0, 0, 0, 0));

    // The counts are the ones a dry run of the same sync gives.
    let shifts = vec![
        one_off("wfm-day", "ie-1", &at(8), &at(16)),
        one_off("wfm-evening", "de-1", &at(16), &at(20)),
        one_off("wfm-early", "de-1", &at(0), &at(3)),
    ];
    let dry = app.sync(vec![sync_header("wfm", MONDAY, TUESDAY, true), sync_batch(shifts, vec![])]).await.unwrap();
    assert_eq!(outcome.shifts, dry.shifts);
    assert_eq!(outcome.time_off, dry.time_off);
    assert_eq!(outcome.agents, dry.agents);

    // A file that leaves the source's evening out deletes it, as the sync would.
    let day_only = format!("kind,id,agent_id,starts_at,ends_at\nshift,wfm-day,ie-1,{},{}\n", at(8), at(16));
    let simulated = simulate(app, file_request(pb::SyncFileFormat::Csv, day_only.as_bytes())).await.unwrap();
    assert_eq!(sync_counts(&simulated.sync_file.as_ref().unwrap().shifts), (0, 0, 1, 1));
    assert_eq!(sev1_changes(&simulated).0, vec![(span(&at(16), &at(24)), pb::GapCause::NoOneScheduled)]);

    // An agent row makes an agent, whom the file's shift may name; a window of its own narrows
    // what the file replaces to that window.
    let with_agent = format!(
        "kind,id,agent_id,starts_at,ends_at,display_name,country,time_zone\n\
         agent,,pt-1,,,New hire,PT,Europe/Lisbon\n\
         shift,wfm-night,pt-1,{},{},,,\n",
        at(0),
        at(8)
    );
    let mut request = file_request(pb::SyncFileFormat::Csv, with_agent.as_bytes());
    if let Some(file) = request.sync_file.as_mut() {
        file.window = window(MONDAY, &at(8));
    }
    let simulated = simulate(app, request).await.unwrap();
    let outcome = simulated.sync_file.as_ref().unwrap();
    assert_eq!(sync_counts(&outcome.agents), (1, 0, 0, 0));
    // The day and evening start after the file's window: they stay.
    assert_eq!(sync_counts(&outcome.shifts), (1, 0, 0, 0));
    assert_eq!(simulated.touched_agent_ids, ["pt-1"]);
    assert_eq!(sev1_changes(&simulated), (vec![], vec![(span(&at(0), &at(8)), pb::GapCause::NoOneScheduled)]));
    assert_eq!(agent_ids(app).await, ["de-1", "ie-1"], "the file's agent was not written");
}

async fn an_icalendar_file_is_simulated_as_its_sync_would_apply_it(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed_by_sync(app).await;
    // The calendar of the Irish agent's source: the day as it was, and a night shift in Dublin
    // time from 00:00 to 06:00 (UTC in December).
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:wfm-day\r\nDTSTART:20261207T080000Z\r\nDTEND:20261207T160000Z\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:wfm-night\r\nDTSTART;TZID=Europe/Dublin:20261207T000000\r\nDTEND;TZID=Europe/Dublin:20261207T060000\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:wfm-next-week\r\nDTSTART:20261214T080000Z\r\nDTEND:20261214T160000Z\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
    let mut request = file_request(pb::SyncFileFormat::Icalendar, ics.as_bytes());
    if let Some(file) = request.sync_file.as_mut() {
        file.agent_id = "ie-1".into();
    }
    let simulated = simulate(app, request).await.unwrap();
    let (opened, closed) = sev1_changes(&simulated);
    // The German evening is the same source's and not in the file: the sync would delete it.
    assert_eq!(opened, vec![(span(&at(16), &at(24)), pb::GapCause::NoOneScheduled)]);
    assert_eq!(closed, vec![(span(&at(0), &at(6)), pb::GapCause::NoOneScheduled)]);
    let outcome = simulated.sync_file.as_ref().unwrap();
    assert_eq!(sync_counts(&outcome.shifts), (1, 0, 1, 1));
    assert_eq!(outcome.outside_window, 1, "next week's event lies outside the report's window");
    assert_eq!(simulated.touched_agent_ids, ["de-1", "ie-1"]);
}

async fn a_bad_file_is_refused_naming_its_field_and_line(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed_by_sync(app).await;
    let description = |status: &tonic::Status| {
        use tonic_types::StatusExt;
        status.get_details_bad_request().unwrap().field_violations[0].description.clone()
    };
    let unknown_agent = format!("kind,id,agent_id,starts_at,ends_at\nshift,wfm-x,nobody,{},{}\n", at(1), at(2));
    let status = simulate(app, file_request(pb::SyncFileFormat::Csv, unknown_agent.as_bytes())).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["sync_file.content"]);
    assert!(description(&status).starts_with("line 2, shifts[0].agent_id"), "{status:?}");
    let backwards = format!("kind,id,agent_id,starts_at,ends_at\nshift,wfm-x,ie-1,{},{}\n", at(2), at(1));
    let status = simulate(app, file_request(pb::SyncFileFormat::Csv, backwards.as_bytes())).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["sync_file.content"]);
    assert!(description(&status).starts_with("line 2"), "{status:?}");
    let outside = "kind,id,agent_id,starts_at,ends_at\nshift,wfm-x,ie-1,2026-12-09T01:00:00Z,2026-12-09T02:00:00Z\n";
    let status = simulate(app, file_request(pb::SyncFileFormat::Csv, outside.as_bytes())).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["sync_file.content"]);
    assert!(description(&status).contains("outside the sync window"), "{status:?}");
    let status = simulate(app, file_request(pb::SyncFileFormat::Unspecified, b"kind,agent_id\n")).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["sync_file.format"]);
    let status = simulate(app, file_request(pb::SyncFileFormat::Csv, &[0xff, 0xfe])).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["sync_file.content"]);
    let oversized = vec![b'#'; 8 * 1024 * 1024 + 1];
    let status = simulate(app, file_request(pb::SyncFileFormat::Csv, &oversized)).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["sync_file.content"]);
    let mut no_source = file_request(pb::SyncFileFormat::Csv, b"kind,agent_id\n");
    if let Some(file) = no_source.sync_file.as_mut() {
        file.source = String::new();
        file.window = window(TUESDAY, MONDAY);
    }
    assert_eq!(
        violated_fields(&simulate(app, no_source).await.unwrap_err()),
        ["sync_file.source", "sync_file.window.end_at"]
    );
}

/// `report --what-if` and `--what-if-sync`, run as a manager runs them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_command_simulates_a_changes_file_and_a_shift_file() {
    let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
    let app = &spawned.app;
    seed(app).await;
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/what-if.toml");
    let report = ["report", "--plan", "eea-only", "--from", MONDAY, "--to", TUESDAY];
    let run = |extra: &[&str]| {
        let output = crate::helpers::run_binary(app, &[&report[..], extra].concat());
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        );
        (output.status.success(), stdout, stderr)
    };

    let (ok, stdout, stderr) = run(&["--what-if", example, "--format", "json"]);
    assert!(ok, "{stdout}\n{stderr}");
    let simulated: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(simulated["touched_agent_ids"], serde_json::json!(["de-1", "ie-1", "pt-1"]));
    let sev1 = &simulated["gap_changes"][0];
    assert_eq!(sev1["severity"], "SEVERITY_1");
    assert_eq!(
        sev1["opened"],
        serde_json::json!([{"starts_at": at(10), "ends_at": at(12), "seconds": 7200, "eligible_on_shift": 0, "cause": "GAP_CAUSE_STAFF_ON_TIME_OFF"}])
    );
    assert_eq!(
        sev1["closed"],
        serde_json::json!([{"starts_at": at(6), "ends_at": at(8), "seconds": 7200, "eligible_on_shift": 0, "cause": "GAP_CAUSE_NO_ONE_SCHEDULED"}])
    );
    assert_eq!(simulated["report"]["requirements"][0]["gaps"][0]["ends_at"], at(6));

    let (ok, table, stderr) = run(&["--what-if", example]);
    assert!(ok, "{table}\n{stderr}");
    assert!(table.starts_with("Coverage of plan"), "{table}");
    assert!(table.contains("What if: gaps opened / closed against the stored roster"), "{table}");
    assert!(table.contains("3 agent(s) touched: de-1, ie-1, pt-1"), "{table}");
    assert!(table.contains("Sev1 gaps opened:") && table.contains("Sev1 gaps closed:"), "{table}");

    let directory = tempfile::tempdir().unwrap();
    let csv = directory.path().join("early.csv");
    std::fs::write(&csv, format!("kind,id,agent_id,starts_at,ends_at\nshift,wfm-early,de-1,{},{}\n", at(0), at(8)))
        .unwrap();
    let (ok, stdout, stderr) = run(&["--what-if-sync", csv.to_str().unwrap(), "--source", "wfm", "--format", "csv"]);
    assert!(ok, "{stdout}\n{stderr}");
    let opened_or_closed: Vec<&str> =
        stdout.lines().filter(|line| line.starts_with("opened,") || line.starts_with("closed,")).collect();
    assert!(
        opened_or_closed.iter().any(|line| line.starts_with(&format!("closed,Sev1,{},{}", at(0), at(8)))),
        "{stdout}"
    );
    assert!(opened_or_closed.iter().all(|line| line.starts_with("closed,")), "{stdout}");

    // A change the server refuses is reported with its field, and the command fails.
    let bad = directory.path().join("bad.json");
    std::fs::write(&bad, r#"{"change": [{"kind": "remove_shift", "shift_id": "no-such-shift"}]}"#).unwrap();
    let (ok, _, stderr) = run(&["--what-if", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("changes[0].remove_shift.shift_id"), "{stderr}");
}

crate::on_both_backends!(
    changes_are_simulated_as_the_report_of_the_changed_roster,
    relocations_and_changed_shifts_are_simulated,
    a_simulation_writes_nothing,
    bad_changes_are_refused_with_the_field_named,
    managers_and_admins_may_simulate_and_no_one_else,
    a_csv_file_is_simulated_as_its_sync_would_apply_it,
    an_icalendar_file_is_simulated_as_its_sync_would_apply_it,
    a_bad_file_is_refused_naming_its_field_and_line,
);

//! `eea-coverage import` with calendars as tools export them: a folder of files, one agent each
//! (named by the file), Windows zones, edited occurrences and all-day vacations placed in the
//! agents' home zones, which the command asks the server for.

use eea_coverage::pb;

use crate::helpers::{agent, run_binary, spawn_app, timestamp, Backend, TestApp};

const OUTLOOK_ICS: &str = include_str!("../../docs/examples/outlook.ics");

/// A Google-style calendar: an IANA zone, a weekly rota that began long before the window and
/// whose hours change from 14 December on.
const GOOGLE_ICS: &str = "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\n\
BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Madrid:20250106T080000\r\nDTEND;TZID=Europe/Madrid:20250106T140000\r\n\
RRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\nUID:rota-es@google.com\r\nSUMMARY:Guardia\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Madrid:20261214T150000\r\nDTEND;TZID=Europe/Madrid:20261214T210000\r\n\
RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Madrid:20261214T080000\r\nUID:rota-es@google.com\r\nSUMMARY:Guardia (tarde)\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

async fn on_shift(app: &TestApp, at: &str) -> Vec<String> {
    let request = pb::ListOnShiftRequest {
        plan: pb::Plan::Standard as i32,
        eea_tagged: false,
        severity: pb::Severity::Severity1 as i32,
        at: Some(timestamp(at)),
        as_known_at: None,
    };
    let listed = app.coverage().list_on_shift(request).await.unwrap().into_inner();
    let mut agents: Vec<String> = listed.agents.into_iter().map(|agent| agent.agent_id).collect();
    agents.sort();
    agents
}

fn import(app: &TestApp, arguments: &[&str]) -> std::process::Output {
    run_binary(app, &[&["import", "--source", "calendars"][..], arguments].concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_exported_calendars_imports_with_the_commands_alone() {
    let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
    let app = &spawned.app;
    app.put_agents(vec![agent("anna", "AT", "Europe/Vienna"), agent("pablo", "ES", "Europe/Madrid")]).await;
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("anna.ics"), OUTLOOK_ICS).unwrap();
    std::fs::write(folder.path().join("pablo.ics"), GOOGLE_ICS).unwrap();
    std::fs::write(folder.path().join("notes.txt"), "not a calendar").unwrap();
    let folder_text = folder.path().display().to_string();

    let output = import(app, &["--from", "2026-12-07", "--to", "2026-12-21", &folder_text]);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    // Anna's series and moved occurrence, Pablo's rota in two parts, Anna's vacation.
    assert!(stdout.starts_with("5 created, 0 updated, 0 deleted, 0 unchanged"), "{stdout}");

    // Wednesday 9 December: Anna's 09:00-17:00 in Berlin time was moved to 12:00-20:00.
    assert_eq!(on_shift(app, "2026-12-09T08:30:00Z").await, ["pablo"]);
    assert_eq!(on_shift(app, "2026-12-09T18:30:00Z").await, ["anna"]);
    // Monday 14 December: Anna is on vacation (whole days in Vienna), Pablo works 15:00-21:00.
    assert!(on_shift(app, "2026-12-14T08:30:00Z").await.is_empty());
    assert_eq!(on_shift(app, "2026-12-14T15:00:00Z").await, ["pablo"]);
    assert_eq!(on_shift(app, "2026-12-16T08:30:00Z").await, ["anna"]);

    // The same files again change nothing.
    let again = import(app, &["--from", "2026-12-07", "--to", "2026-12-21", &folder_text]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.starts_with("0 created, 0 updated, 0 deleted, 5 unchanged"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_all_day_event_of_an_agent_the_server_does_not_hold_sends_nothing() {
    let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
    let app = &spawned.app;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("outlook.ics");
    std::fs::write(&file, OUTLOOK_ICS).unwrap();
    let output =
        import(app, &["--from", "2026-12-07", "--to", "2026-12-21", "--agent", "nobody", &file.display().to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("outlook.ics:43:") && stderr.contains("\"nobody\" is not known"), "{stderr}");
    assert!(app.shift_ids().await.is_empty());
}

const AGENTS_CSV: &str = "kind,agent_id,display_name,country,time_zone,severities,location_changes\n\
agent,anna,Anna Schmidt,AT,Europe/Vienna,,\n\
agent,pablo,,ES,Europe/Madrid,1;2;3;4,2027-01-11T00:00:00Z=PT\n";

async fn agent_named(app: &TestApp, agent_id: &str) -> Option<pb::Agent> {
    app.roster
        .clone()
        .get_agent(pb::GetAgentRequest { agent_id: agent_id.into() })
        .await
        .ok()
        .map(|reply| reply.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_command_loads_agents_and_their_calendars_into_an_empty_server() {
    let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
    let app = &spawned.app;
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("agents.csv"), AGENTS_CSV).unwrap();
    std::fs::write(folder.path().join("anna.ics"), OUTLOOK_ICS).unwrap();
    let pablo = GOOGLE_ICS.replace(
        "UID:rota-es@google.com\r\n",
        "UID:rota-es@google.com\r\nATTENDEE;CN=Pablo García:mailto:pablo@example.com\r\n",
    );
    std::fs::write(folder.path().join("pablo.ics"), pablo).unwrap();
    let folder_text = folder.path().display().to_string();

    // A dry run reports the agents it would create and creates none.
    let dry = import(app, &["--from", "2026-12-07", "--to", "2026-12-21", "--dry-run", &folder_text]);
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.status.success(), "{stdout}{}", String::from_utf8_lossy(&dry.stderr));
    assert!(stdout.contains("agents: 2 created, 0 updated, 0 unchanged"), "{stdout}");
    assert!(agent_named(app, "anna").await.is_none());

    let output = import(app, &["--from", "2026-12-07", "--to", "2026-12-21", &folder_text]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.starts_with("5 created"), "{stdout}");
    let pablo = agent_named(app, "pablo").await.expect("created by the sync");
    assert_eq!(
        (pablo.display_name.as_str(), pablo.country.as_str(), pablo.time_zone.as_str()),
        ("Pablo García", "ES", "Europe/Madrid")
    );
    assert_eq!(pablo.location_changes.len(), 1);
    assert_eq!(on_shift(app, "2026-12-09T18:30:00Z").await, ["anna"]);

    // Again: the agents are sent as stored.
    let again = import(app, &["--from", "2026-12-07", "--to", "2026-12-21", &folder_text]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains("agents: 0 created, 0 updated, 2 unchanged"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sync_creates_none_of_its_agents() {
    let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
    let app = &spawned.app;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("roster.csv");
    let text = "kind,id,agent_id,starts_at,ends_at,display_name,country,time_zone\n\
                agent,,zoe,,,Zoe,IE,Europe/Dublin\n\
                shift,zoe-1,zoe,2026-12-08T09:00:00Z,2026-12-08T17:00:00Z,,,\n\
                shift,ghost-1,ghost,2026-12-08T09:00:00Z,2026-12-08T17:00:00Z,,,\n";
    std::fs::write(&file, text).unwrap();
    let output = import(app, &["--from", "2026-12-07", "--to", "2026-12-21", &file.display().to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    // The server names the entry; the command names its file and line.
    assert!(stderr.contains("roster.csv:4: shifts[1].agent_id"), "{stderr}");
    assert!(agent_named(app, "zoe").await.is_none());
    assert!(app.shift_ids().await.is_empty());
}

fn binary(app: &TestApp, arguments: &[&str]) -> (bool, String, String) {
    let output = run_binary(app, arguments);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_window_imports_again_unchanged_in_both_formats() {
    use eea_coverage::formats::{write_csv, ImportedEntries};
    use eea_coverage::testing::calendars::random_entries;
    for seed in [3, 11] {
        let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
        let app = &spawned.app;
        let folder = tempfile::tempdir().unwrap();
        let random = random_entries(seed, 60);
        let n_entries = random.shifts.len() + random.time_off.len();
        let entries = ImportedEntries {
            shifts: random.shifts,
            time_off: random.time_off,
            agents: random.agents,
            ..Default::default()
        };
        let roster = folder.path().join("roster.csv");
        std::fs::write(&roster, write_csv(&entries)).unwrap();
        let window = ["--from", "2026-12-07T00:00:00Z", "--to", "2026-12-28T00:00:00Z"];
        let (ok, stdout, stderr) =
            binary(app, &[&["import", "--source", "wfm"][..], &window, &[roster.to_str().unwrap()]].concat());
        assert!(ok, "seed {seed}: {stdout}{stderr}");
        assert!(stdout.starts_with(&format!("{n_entries} created")), "seed {seed}: {stdout}");
        for format in ["csv", "ics"] {
            let file = folder.path().join(format!("export.{format}"));
            let file_text = file.to_str().unwrap();
            let (ok, _, stderr) =
                binary(app, &[&["export", "--source", "wfm", "--output", file_text][..], &window].concat());
            assert!(ok, "seed {seed} {format}: {stderr}");
            let (ok, stdout, stderr) =
                binary(app, &[&["import", "--source", "wfm"][..], &window, &[file_text]].concat());
            assert!(ok, "seed {seed} {format}: {stdout}{stderr}");
            let unchanged = format!("0 created, 0 updated, 0 deleted, {n_entries} unchanged");
            assert!(stdout.starts_with(&unchanged), "seed {seed} {format}: {stdout}");
        }
    }
}

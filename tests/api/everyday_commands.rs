//! The everyday commands, run as a user runs them: the binary against a server, for people and
//! with `--format json`, with exit codes a script can rely on.

use crate::helpers::{run_binary, spawn_app, Backend, TestApp, TEST_TOKEN};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(app: &TestApp, arguments: &[&str]) -> Run {
    let output = run_binary(app, arguments);
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn json(run: &Run) -> serde_json::Value {
    assert_eq!(run.code, 0, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|error| panic!("{error}: {}", run.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tour_needs_nothing_but_the_binary() {
    let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
    let app = &spawned.app;
    let org =
        json(&run(app, &["org", "set", "acme", "--region", "eu-central-1", "--plan", "eea-only", "--format", "json"]));
    assert_eq!(org["orgId"], "acme");
    assert_eq!(org["plan"], "PLAN_EEA_ONLY");
    assert_eq!(org["eeaTagged"], true);
    let listed = json(&run(app, &["org", "list", "--format", "json"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let human = run(app, &["org", "get", "acme"]);
    assert!(human.stdout.contains("plan EEA_ONLY"), "{}", human.stdout);

    let agent = json(&run(
        app,
        &[
            "agent",
            "set",
            "ie-1",
            "--name",
            "Aoife",
            "--country",
            "IE",
            "--time-zone",
            "Europe/Dublin",
            "--severity",
            "1",
            "--severity",
            "2",
            "--location-change",
            "2027-01-04T00:00:00Z=NO",
            "--format",
            "json",
        ],
    ));
    assert_eq!(agent["severities"], serde_json::json!(["SEVERITY_1", "SEVERITY_2"]));
    assert_eq!(agent["locationChanges"][0]["country"], "NO");
    let table = run(app, &["agent", "list"]);
    assert!(table.stdout.starts_with("AGENT") && table.stdout.contains("ie-1"), "{}", table.stdout);

    // No shift yet: not now, and no staff within the horizon.
    let decision = json(&run(
        app,
        &["decide", "--org", "acme", "--severity", "1", "--at", "2026-12-07T10:00:00Z", "--format", "json"],
    ));
    assert_eq!(decision["handleNow"], false);
    assert_eq!(decision["reason"], "DECISION_REASON_NO_ELIGIBLE_STAFF_WITHIN_HORIZON");
    let access = run(app, &["access", "--org", "acme", "--ticket", "t-1", "--agent", "ie-1", "--severity", "1"]);
    assert!(access.stdout.starts_with("allowed (EEA_STAFF)"), "{}{}", access.stdout, access.stderr);
    let on_shift = json(&run(app, &["on-shift", "--severity", "1", "--format", "json"]));
    assert_eq!(on_shift["agents"], serde_json::json!([]));

    let consent = json(&run(
        app,
        &[
            "consent",
            "grant",
            "--org",
            "acme",
            "--ticket",
            "t-1",
            "--agent",
            "ie-1",
            "--expires",
            "2027-01-01",
            "--format",
            "json",
        ],
    ));
    assert_eq!(consent["ticketId"], "t-1");
    assert_eq!(json(&run(app, &["consent", "list", "--org", "acme", "--format", "json"])).as_array().unwrap().len(), 1);
    assert_eq!(run(app, &["consent", "revoke", "--org", "acme", "--ticket", "t-1", "--agent", "ie-1"]).code, 0);

    let policy = json(&run(app, &["policy", "--format", "json"]));
    assert!(policy["tzDatabaseVersion"].as_str().unwrap() >= "2026f");
    let audit = json(&run(app, &["audit", "--entity", "agent:ie-1", "--format", "json"]));
    assert!(audit.as_array().unwrap().len() >= 2, "the agent's upsert and the consents: {audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_tell_what_went_wrong() {
    let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
    let app = &spawned.app;
    let missing = run(app, &["org", "get", "nobody"]);
    assert_eq!(missing.code, 4, "{}", missing.stderr);
    let invalid = run(app, &["agent", "set", "x-1", "--country", "ZZ", "--time-zone", "Mars/Olympus"]);
    assert_eq!(invalid.code, 5, "{}", invalid.stderr);
    assert!(invalid.stderr.contains("time_zone"), "the offending field is named: {}", invalid.stderr);
    let usage = run(app, &["decide", "--org", "acme", "--severity", "9"]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    let server = format!("http://{}", app.address);
    let wrong_token = std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
        .args(["org", "list", "--server", &server, "--token", "not-a-token"])
        .output()
        .unwrap();
    assert_eq!(wrong_token.status.code(), Some(6));
    let unreachable = std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
        .args(["org", "list", "--server", "http://127.0.0.1:9", "--token", TEST_TOKEN])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(3));
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
            .args(["completions", shell])
            .output()
            .unwrap();
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success() && script.contains("on-shift") && script.contains("consent"), "{shell}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader closes its end before the command has written (it takes milliseconds to start).
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success() || output.status.signal() == Some(13), "{:?}", output.status);
}

//! `eea-coverage expire` beside a running server: what lies before the cutoff goes to a file
//! whose checksum the audit trail records, answers as known at moments from the cutoff on stay
//! as they were, and earlier moments are refused as before the history.

use eea_coverage::pb;
use sha2::{Digest, Sha256};

use crate::helpers::{agent, create_database, moment_between_writes, one_off, org, spawn_app_on, Backend};

fn rfc3339(timestamp: prost_types::Timestamp) -> String {
    jiff::Timestamp::new(timestamp.seconds, timestamp.nanos).unwrap().to_string()
}

fn decide_known_at(at: prost_types::Timestamp) -> pb::DecideTicketRequest {
    pb::DecideTicketRequest {
        org_id: "acme".into(),
        severity: pb::Severity::Severity1 as i32,
        category: pb::TicketCategory::ProductSupport as i32,
        ticket_id: String::new(),
        at: None,
        as_known_at: Some(at),
    }
}

async fn what_lies_before_the_cutoff_is_exported_then_removed(backend: Backend) {
    let Some(database) = create_database(backend) else { return };
    let app = spawn_app_on(&database, "").await;
    let mut tickets = app.tickets.clone();
    let now = eea_coverage::clock::now();
    let (start, end) = (
        (now - jiff::SignedDuration::from_hours(1)).to_string(),
        (now + jiff::SignedDuration::from_hours(2)).to_string(),
    );
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin"), agent("de-1", "DE", "Europe/Berlin")]).await;
    let early = moment_between_writes().await;
    app.put_shifts(vec![one_off("ie-day", "ie-1", &start, &end)]).await;
    let cutoff = moment_between_writes().await;
    app.put_shifts(vec![one_off("de-day", "de-1", &start, &end)]).await;
    let later = moment_between_writes().await;
    // A correction after the cutoff: the Irish shift goes.
    app.roster.clone().delete_shift(pb::DeleteShiftRequest { shift_id: "ie-day".into() }).await.unwrap();
    let at_cutoff = tickets.decide_ticket(decide_known_at(cutoff)).await.unwrap().into_inner();
    let at_later = tickets.decide_ticket(decide_known_at(later)).await.unwrap().into_inner();
    assert_eq!((at_cutoff.eligible_on_shift, at_later.eligible_on_shift), (1, 2));
    let events_before =
        app.policy.clone().list_audit_events(pb::ListAuditEventsRequest::default()).await.unwrap().into_inner().events;

    let directory = tempfile::tempdir().unwrap();
    let expire = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
            .args(["expire", "--database-url", database.url(), "--export-dir"])
            .arg(directory.path())
            .args(extra)
            .output()
            .unwrap()
    };
    // A cutoff inside the configured retention window is refused before anything is read.
    let inside = expire(&["--keep-days", "30", "--before", &rfc3339(cutoff)]);
    assert_eq!(inside.status.code(), Some(2), "{}", String::from_utf8_lossy(&inside.stderr));
    // A dry run counts and changes nothing.
    let dry = std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
        .args(["expire", "--database-url", database.url(), "--dry-run", "--before", &rfc3339(cutoff)])
        .output()
        .unwrap();
    let dry_text = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.status.success() && dry_text.contains("roster_commits"), "{dry_text}");
    let counted: usize =
        dry_text.lines().skip(1).map(|line| line.split_whitespace().next().unwrap().parse::<usize>().unwrap()).sum();
    assert!(counted > 0, "{dry_text}");
    let output = expire(&["--before", &rfc3339(cutoff)]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));

    // The export: JSON lines, its checksum beside it as sha256sum writes it.
    let mut files: Vec<_> = std::fs::read_dir(directory.path()).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let checksum = format!("{:x}", Sha256::digest(text.as_bytes()));
    let sums = std::fs::read_to_string(&files[1]).unwrap();
    assert!(sums.starts_with(&format!("{checksum}  ")), "{sums}");
    assert!(stdout.contains(&checksum), "{stdout}");
    let lines: Vec<serde_json::Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let tables: std::collections::BTreeSet<&str> =
        lines[1..].iter().map(|line| line["table"].as_str().unwrap()).collect();
    assert!(tables.contains("roster_commits") && tables.contains("audit_events"), "{tables:?}");
    assert_eq!(lines.len() - 1, counted, "the dry run counted what was then exported");

    // The answers from the cutoff on are unchanged; before it, the history no longer reaches.
    assert_eq!(tickets.decide_ticket(decide_known_at(cutoff)).await.unwrap().into_inner(), at_cutoff);
    assert_eq!(tickets.decide_ticket(decide_known_at(later)).await.unwrap().into_inner(), at_later);
    let refused = tickets.decide_ticket(decide_known_at(early)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition, "{refused:?}");

    // The trail: the events recorded before the cutoff are gone, and the expiry is one of its own.
    let events =
        app.policy.clone().list_audit_events(pb::ListAuditEventsRequest::default()).await.unwrap().into_inner().events;
    let cutoff_micros = cutoff.seconds * 1_000_000 + i64::from(cutoff.nanos / 1_000);
    let micros = |event: &pb::AuditEvent| {
        let at = event.recorded_at.unwrap();
        at.seconds * 1_000_000 + i64::from(at.nanos / 1_000)
    };
    assert!(events.iter().all(|event| micros(event) >= cutoff_micros));
    let kept = events_before.iter().filter(|event| micros(event) >= cutoff_micros).count();
    assert_eq!(events.len(), kept + 1);
    let last = events.last().unwrap();
    assert_eq!(last.rpc, "eea-coverage expire");
    assert!(last.summary.contains(&checksum), "{}", last.summary);

    // Again at the same cutoff: nothing more lies before it.
    let again = expire(&["--before", &rfc3339(cutoff)]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing expired"));
    app.stop().await;
}

crate::on_both_backends!(what_lies_before_the_cutoff_is_exported_then_removed,);

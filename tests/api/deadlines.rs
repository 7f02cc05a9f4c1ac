//! TicketService.ComputeDeadlines over gRPC: the reference cases, both clocks, and per-item
//! errors that leave the rest of the batch answered.

use eea_coverage::pb;

use crate::helpers::{agent, one_off, org, spawn_app_with, timestamp, Backend};

fn hours(n: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds: n * 3600, nanos: 0 })
}

fn query(severity: pb::Severity, started: &str, target_hours: i64, at: &str) -> pb::DeadlineQuery {
    pb::DeadlineQuery {
        org_id: "acme".into(),
        severity: severity as i32,
        category: pb::TicketCategory::ProductSupport as i32,
        ticket_id: "T-1".into(),
        clock_started_at: Some(timestamp(started)),
        target: hours(target_hours),
        pauses: vec![],
        at: Some(timestamp(at)),
    }
}

fn deadline(answer: &pb::DeadlineAnswer) -> &pb::Deadline {
    match &answer.outcome {
        Some(pb::deadline_answer::Outcome::Deadline(deadline)) => deadline,
        other => panic!("expected a deadline, got {other:?}"),
    }
}

fn item_error(answer: &pb::DeadlineAnswer) -> &pb::ItemError {
    match &answer.outcome {
        Some(pb::deadline_answer::Outcome::Error(error)) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

async fn deadlines_count_service_time_and_staffed_service_time(backend: Backend) {
    let Some(spawned) = spawn_app_with(backend, "[plans]\neea_only_holidays = \"target2\"\n").await else { return };
    let app = &spawned.app;
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin")]).await;
    // Staffed all the time except Monday 7 December 2026 before 12:00Z.
    app.put_shifts(vec![
        one_off("before", "ie-1", "2026-11-01T00:00:00Z", "2026-12-07T00:00:00Z"),
        one_off("after", "ie-1", "2026-12-07T12:00:00Z", "2027-06-01T00:00:00Z"),
    ])
    .await;
    let mut negative = query(pb::Severity::Severity3, "2026-12-04T15:30:00Z", 1, "2026-12-04T16:00:00Z");
    negative.target = Some(prost_types::Duration { seconds: -60, nanos: 0 });
    let mut unknown = query(pb::Severity::Severity3, "2026-12-04T15:30:00Z", 1, "2026-12-04T16:00:00Z");
    unknown.org_id = "nobody".into();
    let mut paused = query(pb::Severity::Severity3, "2026-12-07T08:00:00Z", 4, "2026-12-08T00:00:00Z");
    paused.pauses = vec![
        pb::TimeWindow {
            start_at: Some(timestamp("2026-12-07T09:00:00Z")),
            end_at: Some(timestamp("2026-12-07T13:00:00Z")),
        },
        pb::TimeWindow { start_at: Some(timestamp("2026-12-07T12:00:00Z")), end_at: None },
    ];
    let items = vec![
        // Friday 16:30 CET + 4 h: Monday 11:30 CET; the staffed clock waits for 12:00Z Monday.
        query(pb::Severity::Severity3, "2026-12-04T15:30:00Z", 4, "2026-12-07T11:00:00Z"),
        negative,
        // Thursday 25 March 2027 16:00 CET + 8 h, Good Friday and Easter Monday closed.
        query(pb::Severity::Severity2, "2027-03-25T15:00:00Z", 8, "2027-03-25T16:00:00Z"),
        unknown,
        // Sev1 across the spring change: 4 real hours.
        query(pb::Severity::Severity1, "2026-03-28T23:30:00Z", 4, "2026-03-29T01:30:00Z"),
        paused,
    ];
    let answers = app
        .tickets
        .clone()
        .compute_deadlines(pb::ComputeDeadlinesRequest { items, as_known_at: None })
        .await
        .expect("a batch with bad items still answers")
        .into_inner()
        .answers;
    assert_eq!(answers.len(), 6);

    let friday = deadline(&answers[0]);
    let service = friday.service_time.as_ref().unwrap();
    assert_eq!(service.due_at, Some(timestamp("2026-12-07T10:30:00Z")));
    assert!(service.breached, "read at 11:00Z, after the due instant");
    assert_eq!(
        service.elapsed,
        hours(4).map(|target| prost_types::Duration { seconds: target.seconds + 1800, ..target })
    );
    let staffed = friday.staffed_service_time.as_ref().unwrap();
    // 90 staffed minutes on Friday, then from Monday 12:00Z.
    assert_eq!(staffed.due_at, Some(timestamp("2026-12-07T14:30:00Z")));
    assert!(!staffed.breached);
    assert_eq!(staffed.remaining, Some(prost_types::Duration { seconds: 2 * 3600 + 1800, nanos: 0 }));
    assert_eq!((friday.plan(), friday.eea_tagged, friday.around_the_clock), (pb::Plan::EeaOnly, true, false));

    let negative = item_error(&answers[1]);
    assert_eq!(negative.code, tonic::Code::InvalidArgument as i32);
    assert_eq!(
        negative.violations.iter().map(|violation| violation.field.as_str()).collect::<Vec<_>>(),
        ["items[1].target"]
    );

    let easter = deadline(&answers[2]);
    assert_eq!(easter.service_time.as_ref().unwrap().due_at, Some(timestamp("2027-03-30T13:00:00Z")));

    let unknown = item_error(&answers[3]);
    assert_eq!(unknown.code, tonic::Code::NotFound as i32);
    assert_eq!(unknown.violations[0].field, "items[3].org_id");

    let sev1 = deadline(&answers[4]);
    assert!(sev1.around_the_clock);
    assert_eq!(sev1.service_time.as_ref().unwrap().due_at, Some(timestamp("2026-03-29T03:30:00Z")));

    // The second pause has no end: the item is refused, naming it.
    let paused = item_error(&answers[5]);
    assert_eq!(paused.violations[0].field, "items[5].pauses[1].end_at");

    // More than 1,000 items is the whole call's error.
    let too_many = vec![query(pb::Severity::Severity3, "2026-12-04T15:30:00Z", 4, "2026-12-07T11:00:00Z"); 1_001];
    let status = app
        .tickets
        .clone()
        .compute_deadlines(pb::ComputeDeadlinesRequest { items: too_many, as_known_at: None })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("items"), "{}", status.message());
}

crate::on_both_backends!(deadlines_count_service_time_and_staffed_service_time);

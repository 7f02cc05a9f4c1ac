//! Answers as known at a past moment: from what had been committed by then and the policy in
//! force then, unmoved by later corrections, saying which versions they used.

use eea_coverage::pb;

use crate::helpers::{agent, create_database, moment_between_writes, one_off, org, spawn_app_on, timestamp, Backend};

const MONDAY_10: &str = "2027-03-01T10:00:00Z";

fn decide_request(as_known_at: Option<prost_types::Timestamp>) -> pb::DecideTicketRequest {
    pb::DecideTicketRequest {
        org_id: "acme".into(),
        severity: pb::Severity::Severity1 as i32,
        category: pb::TicketCategory::ProductSupport as i32,
        ticket_id: "T-1".into(),
        at: Some(timestamp(MONDAY_10)),
        as_known_at,
    }
}

fn report_request(as_known_at: Option<prost_types::Timestamp>) -> pb::GetCoverageReportRequest {
    pb::GetCoverageReportRequest {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        window_start: Some(timestamp("2027-03-01T00:00:00Z")),
        window_end: Some(timestamp("2027-03-02T00:00:00Z")),
        min_staff: 1,
        as_known_at,
    }
}

fn covered_sev1(report: &pb::CoverageReport) -> f64 {
    let sev1 = report.requirements.iter().find(|requirement| requirement.severity() == pb::Severity::Severity1);
    sev1.expect("a Sev1 requirement").coverage_ratio
}

async fn later_corrections_do_not_change_answers_about_the_past(backend: Backend) {
    let Some(database) = create_database(backend) else { return };
    let app = spawn_app_on(&database, "").await;
    let (mut tickets, mut coverage) = (app.tickets.clone(), app.coverage());
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin")]).await;
    app.put_shifts(vec![one_off("day", "ie-1", "2027-03-01T09:00:00Z", "2027-03-01T17:00:00Z")]).await;
    let before_correction = moment_between_writes().await;

    // The correction: the shift was never worked, and the agent had moved to the US.
    app.roster.clone().delete_shift(pb::DeleteShiftRequest { shift_id: "day".into() }).await.unwrap();
    app.put_agents(vec![agent("ie-1", "US", "America/New_York")]).await;

    let now = tickets.decide_ticket(decide_request(None)).await.unwrap().into_inner();
    assert_eq!((now.eligible_on_shift, now.handle_now, now.known_as.is_some()), (0, false, false));
    let then = tickets.decide_ticket(decide_request(Some(before_correction))).await.unwrap().into_inner();
    assert_eq!((then.eligible_on_shift, then.handle_now), (1, true), "as known before the correction");
    let known = then.known_as.expect("an answer about the past says what it used");
    assert_eq!(known.as_known_at, Some(before_correction));
    assert_eq!(known.roster_version, 3, "three writes had committed: the org, the agent and the shift");
    assert!(known.roster_committed_at.unwrap().seconds <= before_correction.seconds);
    assert!(known.policy_version >= 1);

    let report_now = coverage.get_coverage_report(report_request(None)).await.unwrap().into_inner();
    let report_then = coverage.get_coverage_report(report_request(Some(before_correction))).await.unwrap().into_inner();
    assert_eq!(covered_sev1(&report_now), 0.0);
    assert!((covered_sev1(&report_then) - 8.0 / 24.0).abs() < 1e-9, "{}", covered_sev1(&report_then));
    assert_eq!(report_then.known_as, Some(known));

    let on_shift = |as_known_at| pb::ListOnShiftRequest {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        severity: pb::Severity::Severity1 as i32,
        at: Some(timestamp(MONDAY_10)),
        as_known_at,
    };
    let listed_then = coverage.list_on_shift(on_shift(Some(before_correction))).await.unwrap().into_inner();
    let ids: Vec<&str> = listed_then.agents.iter().map(|agent| agent.agent_id.as_str()).collect();
    assert_eq!((ids, listed_then.known_as.as_ref()), (vec!["ie-1"], Some(&known)));
    assert!(coverage.list_on_shift(on_shift(None)).await.unwrap().into_inner().agents.is_empty());

    let access = |as_known_at| pb::CheckAgentAccessRequest {
        org_id: "acme".into(),
        ticket_id: "T-1".into(),
        severity: pb::Severity::Severity1 as i32,
        category: pb::TicketCategory::ProductSupport as i32,
        agent_id: "ie-1".into(),
        at: Some(timestamp(MONDAY_10)),
        as_known_at,
    };
    let access_then = tickets.check_agent_access(access(Some(before_correction))).await.unwrap().into_inner();
    assert_eq!((access_then.allowed, access_then.on_shift, access_then.agent_country.as_str()), (true, true, "IE"));
    let access_now = tickets.check_agent_access(access(None)).await.unwrap().into_inner();
    assert_eq!((access_now.allowed, access_now.agent_country.as_str()), (false, "US"));

    let deadline_item = pb::DeadlineQuery {
        org_id: "acme".into(),
        severity: pb::Severity::Severity3 as i32,
        category: pb::TicketCategory::ProductSupport as i32,
        ticket_id: "T-1".into(),
        clock_started_at: Some(timestamp("2027-03-01T08:00:00Z")),
        target: Some(prost_types::Duration { seconds: 2 * 3600, nanos: 0 }),
        pauses: vec![],
        at: Some(timestamp("2027-03-01T08:00:00Z")),
    };
    let deadlines = |as_known_at| pb::ComputeDeadlinesRequest { items: vec![deadline_item.clone()], as_known_at };
    let staffed_due = |response: &pb::ComputeDeadlinesResponse| match &response.answers[0].outcome {
        Some(pb::deadline_answer::Outcome::Deadline(deadline)) => {
            deadline.staffed_service_time.as_ref().and_then(|clock| clock.due_at)
        }
        other => panic!("expected a deadline, got {other:?}"),
    };
    let deadlines_then = tickets.compute_deadlines(deadlines(Some(before_correction))).await.unwrap().into_inner();
    // Staffed from 09:00Z: two staffed service hours end at 11:00Z.
    assert_eq!(staffed_due(&deadlines_then), Some(timestamp("2027-03-01T11:00:00Z")));
    assert_eq!(deadlines_then.known_as, Some(known));
    let deadlines_now = tickets.compute_deadlines(deadlines(None)).await.unwrap().into_inner();
    assert_ne!(staffed_due(&deadlines_now), Some(timestamp("2027-03-01T11:00:00Z")));

    // More corrections later: the answer about that moment does not move.
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin")]).await;
    app.put_shifts(vec![one_off("day", "ie-1", "2027-03-01T12:00:00Z", "2027-03-01T13:00:00Z")]).await;
    let again = tickets.decide_ticket(decide_request(Some(before_correction))).await.unwrap().into_inner();
    assert_eq!(again, then, "a later correction does not change an answer about the past");

    // A moment to come is not known yet; one before the history began is refused.
    let future = prost_types::Timestamp { seconds: before_correction.seconds + 86_400, nanos: 0 };
    let refused = tickets.decide_ticket(decide_request(Some(future))).await.unwrap_err();
    assert_eq!(crate::helpers::violated_fields(&refused), ["as_known_at"]);
    let refused = tickets.decide_ticket(decide_request(Some(timestamp("2020-01-01T00:00:00Z")))).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("as_known_at"), "{}", refused.message());
    app.stop().await;
}

/// The plan settings in force at a moment answer for it: a start-up that changes them does not
/// rewrite answers about the time before it.
async fn answers_about_the_past_use_the_policy_in_force_then(backend: Backend) {
    let Some(database) = create_database(backend) else { return };
    let first = spawn_app_on(&database, "").await;
    first.put_org(org("std", "us-east-1", pb::Plan::Standard)).await;
    first.put_agents(vec![agent("us-1", "US", "America/New_York")]).await;
    first.put_shifts(vec![one_off("sat", "us-1", "2027-03-06T00:00:00Z", "2027-03-07T00:00:00Z")]).await;
    let before_restart = moment_between_writes().await;
    first.stop().await;

    // The STANDARD plan's Sev2-4 hours become business hours at the next start-up.
    let second = spawn_app_on(&database, "[plans]\nstandard_hours = \"business_sev2_to_4\"\n").await;
    let saturday = |as_known_at| pb::DecideTicketRequest {
        org_id: "std".into(),
        severity: pb::Severity::Severity3 as i32,
        category: pb::TicketCategory::ProductSupport as i32,
        ticket_id: String::new(),
        at: Some(timestamp("2027-03-06T12:00:00Z")),
        as_known_at,
    };
    let mut tickets = second.tickets.clone();
    let now = tickets.decide_ticket(saturday(None)).await.unwrap().into_inner();
    assert!(!now.in_service_hours, "business hours now: Saturday is outside them");
    let then = tickets.decide_ticket(saturday(Some(before_restart))).await.unwrap().into_inner();
    assert!(then.in_service_hours && then.handle_now, "around the clock as the first start-up ran");
    let (known_then, known_now) = (
        then.known_as.expect("known as"),
        tickets
            .decide_ticket(saturday(Some(moment_between_writes().await)))
            .await
            .unwrap()
            .into_inner()
            .known_as
            .expect("known as"),
    );
    assert!(known_now.policy_version > known_then.policy_version, "{known_then:?} {known_now:?}");
    assert_eq!(known_now.roster_version, known_then.roster_version, "no write since");
    second.stop().await;
}

crate::on_both_backends!(
    later_corrections_do_not_change_answers_about_the_past,
    answers_about_the_past_use_the_policy_in_force_then
);

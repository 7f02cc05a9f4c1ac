//! TicketService over gRPC with a small roster.

use eea_coverage::pb;

use crate::helpers::{
    agent, consent, one_off, org, recurring, spawn_app, spawn_app_with, time_off, timestamp, Backend,
};

async fn decisions_follow_the_roster(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let (app, mut roster) = (&spawned.app, spawned.app.roster.clone());
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    let mut mover = agent("mover", "FR", "Europe/Paris");
    mover.location_changes =
        vec![pb::LocationChange { effective_at: Some(timestamp("2026-12-02T12:00:00Z")), country: "GB".into() }];
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin"), mover]).await;
    // ie-1 works weekdays 09:00-13:00 Dublin time; mover works a long day on 2 December.
    let shifts = vec![
        recurring(
            "ie-mornings",
            "ie-1",
            "Europe/Dublin",
            "2026-11-30T09:00:00",
            "13:00",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        ),
        one_off("mover-day", "mover", "2026-12-02T08:00:00Z", "2026-12-02T17:00:00Z"),
    ];
    app.put_shifts(shifts).await;

    // Tuesday 1 December 10:00Z: in hours, ie-1 on shift.
    let staffed = app.decide("acme", pb::Severity::Severity3, "2026-12-01T10:00:00Z").await;
    assert!(staffed.handle_now && staffed.in_service_hours && staffed.staffed_now);
    assert_eq!(staffed.eligible_on_shift, 1);
    assert_eq!(staffed.reason(), pb::DecisionReason::HandleNow);
    assert_eq!(staffed.window_closes_at, Some(timestamp("2026-12-01T17:00:00Z")));
    assert_eq!(staffed.next_staffed_at, Some(timestamp("2026-12-01T10:00:00Z")));

    // 14:00Z: in hours, nobody on shift until Wednesday 08:00Z (mover).
    let gap = app.decide("acme", pb::Severity::Severity3, "2026-12-01T14:00:00Z").await;
    assert!(gap.in_service_hours && !gap.staffed_now && !gap.handle_now);
    assert_eq!(gap.reason(), pb::DecisionReason::NoEligibleStaffOnShift);
    assert_eq!(gap.next_staffed_at, Some(timestamp("2026-12-02T08:00:00Z")));

    // Wednesday 12:30Z: mover relocated to GB at 12:00Z, ie-1 is on until 13:00.
    let relocated = app.decide("acme", pb::Severity::Severity3, "2026-12-02T12:30:00Z").await;
    assert_eq!(relocated.eligible_on_shift, 1);
    let before = app.decide("acme", pb::Severity::Severity3, "2026-12-02T11:30:00Z").await;
    assert_eq!(before.eligible_on_shift, 2);

    // Time off removes ie-1 on Thursday morning.
    app.put_time_off(vec![time_off("leave", "ie-1", "2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z")]).await;
    let away = app.decide("acme", pb::Severity::Severity3, "2026-12-03T10:00:00Z").await;
    assert!(!away.staffed_now);
    assert_eq!(away.next_staffed_at, Some(timestamp("2026-12-04T09:00:00Z")));

    // Saturday: outside the window; it opens Monday 08:00Z and ie-1 is on from 09:00Z.
    let weekend = app.decide("acme", pb::Severity::Severity2, "2026-12-05T10:00:00Z").await;
    assert!(!weekend.in_service_hours && !weekend.handle_now);
    assert_eq!(weekend.window_opens_at, Some(timestamp("2026-12-07T08:00:00Z")));
    assert_eq!(weekend.next_staffed_at, Some(timestamp("2026-12-07T09:00:00Z")));
    assert_eq!(weekend.reason(), pb::DecisionReason::OutsideServiceHours);

    // Sev1 is in hours at the weekend, but nobody works weekends.
    let sev1 = app.decide("acme", pb::Severity::Severity1, "2026-12-05T10:00:00Z").await;
    assert!(sev1.in_service_hours && !sev1.staffed_now);
    assert_eq!(sev1.next_staffed_at, Some(timestamp("2026-12-07T09:00:00Z")));

    // Beyond the 14-day horizon: absent, and the reason says so.
    let later = app.decide("acme", pb::Severity::Severity1, "2027-06-01T10:00:00Z").await;
    assert!(later.next_staffed_at.is_some(), "the recurring shift still runs in June");
    roster.delete_shift(pb::DeleteShiftRequest { shift_id: "ie-mornings".into() }).await.unwrap();
    let empty = app.decide("acme", pb::Severity::Severity1, "2027-06-01T10:00:00Z").await;
    assert_eq!(empty.next_staffed_at, None);
    assert_eq!(empty.reason(), pb::DecisionReason::NoEligibleStaffWithinHorizon);
}

async fn access_checks_follow_the_plan_and_consent(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let (app, mut tickets) = (&spawned.app, spawned.app.tickets.clone());
    app.put_org(org("std", "eu-central-1", pb::Plan::Standard)).await;
    app.put_org(org("eea", "eu-west-1", pb::Plan::EeaOnly)).await;
    let agents = [("us", "US", "America/Chicago"), ("in", "IN", "Asia/Kolkata"), ("gb", "GB", "Europe/London")];
    app.put_agents(agents.iter().map(|(agent_id, country, zone)| agent(agent_id, country, zone)).collect()).await;
    let check = |org_id: &str, agent_id: &str, category: pb::TicketCategory| pb::CheckAgentAccessRequest {
        org_id: org_id.into(),
        ticket_id: "T-9".into(),
        severity: pb::Severity::Severity2 as i32,
        category: category as i32,
        agent_id: agent_id.into(),
        at: Some(timestamp("2026-12-01T10:00:00Z")),
        as_known_at: None,
    };
    let product = pb::TicketCategory::ProductSupport;
    let us = tickets.check_agent_access(check("std", "us", product)).await.unwrap().into_inner();
    assert_eq!((us.allowed, us.reason()), (false, pb::AccessReason::UsWithoutConsent));
    app.grant_consent(consent("std", "T-9", "us", "2026-12-31T00:00:00Z")).await;
    let us = tickets.check_agent_access(check("std", "us", product)).await.unwrap().into_inner();
    assert_eq!((us.allowed, us.reason()), (true, pb::AccessReason::ConsentOnFile));
    let india = tickets
        .check_agent_access(check("eea", "in", pb::TicketCategory::CustomApplicationSupport))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (india.allowed, india.reason(), india.plan()),
        (true, pb::AccessReason::Contractual, pb::Plan::Standard)
    );
    let britain = tickets.check_agent_access(check("eea", "gb", product)).await.unwrap().into_inner();
    assert_eq!((britain.allowed, britain.reason()), (false, pb::AccessReason::OutsideEeaOnEeaOnly));
}

async fn the_holiday_calendar_is_chosen_in_the_configuration(backend: Backend) {
    let Some(spawned) = spawn_app_with(backend, "[plans]\neea_only_holidays = \"target2\"\n").await else { return };
    let app = &spawned.app;
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    // Thursday 31 December 18:00 CET; 1 January is a target2 closing day.
    let decision = app.decide("acme", pb::Severity::Severity3, "2026-12-31T17:00:00Z").await;
    assert_eq!(decision.window_opens_at, Some(timestamp("2027-01-04T08:00:00Z")));
}

crate::on_both_backends!(
    decisions_follow_the_roster,
    access_checks_follow_the_plan_and_consent,
    the_holiday_calendar_is_chosen_in_the_configuration
);

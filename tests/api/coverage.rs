//! CoverageService over gRPC, and the manager's renderings of its report.

use eea_coverage::formats::report::{render, ReportFormat};
use eea_coverage::pb;
use tonic::Code;

use crate::helpers::{
    agent, one_off, recurring, span, spawn_app, time_off, timestamp, violated_fields, Backend, TestApp,
};

/// A week in December 2026: an Irish day shift on weekdays, a German night pager for Sev1, a US
/// agent (never eligible for EEA-only), and a day of time off.
async fn seed_roster(app: &TestApp) {
    let mut pager_holder = agent("de-nights", "DE", "Europe/Berlin");
    pager_holder.severities = vec![pb::Severity::Severity1 as i32];
    let agents =
        vec![agent("ie-days", "IE", "Europe/Dublin"), pager_holder, agent("us-days", "US", "America/New_York")];
    app.put_agents(agents).await;
    let shifts = vec![
        recurring(
            "ie-weekdays",
            "ie-days",
            "Europe/Dublin",
            "2026-11-30T08:00:00",
            "17:00",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        ),
        recurring("de-pager", "de-nights", "Europe/Berlin", "2026-11-30T17:00:00", "09:00", "FREQ=DAILY"),
        one_off("us-wednesday", "us-days", "2026-12-02T13:00:00Z", "2026-12-02T22:00:00Z"),
    ];
    app.put_shifts(shifts).await;
    app.put_time_off(vec![time_off("ie-thursday", "ie-days", "2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z")]).await;
}

fn week_request(plan: pb::Plan) -> pb::GetCoverageReportRequest {
    pb::GetCoverageReportRequest {
        plan: plan as i32,
        eea_tagged: true,
        window_start: Some(timestamp("2026-11-30T00:00:00Z")),
        window_end: Some(timestamp("2026-12-07T00:00:00Z")),
        min_staff: 0,
        as_known_at: None,
    }
}

async fn a_week_of_coverage_is_reported_per_severity(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    seed_roster(&spawned.app).await;
    let mut coverage = spawned.app.coverage();
    let report = coverage.get_coverage_report(week_request(pb::Plan::EeaOnly)).await.unwrap().into_inner();
    assert_eq!(report.min_staff, 1);
    assert_eq!(report.requirements.len(), 4);
    let sev1 = &report.requirements[0];
    assert_eq!(
        (sev1.severity(), sev1.hours.as_str(), sev1.required_seconds),
        (pb::Severity::Severity1, "24x7", 7 * 86_400)
    );
    let sev3 = &report.requirements[2];
    assert_eq!((sev3.hours.as_str(), sev3.required_seconds), ("business", 5 * 9 * 3_600));
    // Sev3: the Irish agent covers 08:00-17:00Z of the 08:00-17:00Z window, except Thursday.
    assert_eq!(sev3.covered_seconds, 4 * 9 * 3_600);
    let thursday: Vec<_> = sev3.gaps.iter().map(|gap| ((gap.starts_at, gap.ends_at), gap.cause())).collect();
    assert_eq!(thursday, vec![(span("2026-12-03T08:00:00Z", "2026-12-03T17:00:00Z"), pb::GapCause::StaffOnTimeOff)]);
    assert_eq!(sev3.hour_of_week.len(), 168);
    // Sev1: the pager covers 16:00Z-08:00Z from Monday evening on and the Irish agent weekdays;
    // nobody covers Monday before 08:00Z or weekend days, and Thursday the Irish agent is away.
    let sev1_gaps: Vec<_> = sev1.gaps.iter().map(|gap| ((gap.starts_at, gap.ends_at), gap.cause())).collect();
    assert_eq!(
        sev1_gaps,
        vec![
            (span("2026-11-30T00:00:00Z", "2026-11-30T08:00:00Z"), pb::GapCause::NoOneScheduled),
            (span("2026-12-03T08:00:00Z", "2026-12-03T16:00:00Z"), pb::GapCause::StaffOnTimeOff),
            (span("2026-12-05T08:00:00Z", "2026-12-05T16:00:00Z"), pb::GapCause::NoOneScheduled),
            (span("2026-12-06T08:00:00Z", "2026-12-06T16:00:00Z"), pb::GapCause::NoOneScheduled),
        ]
    );
    assert!((sev1.coverage_ratio - (sev1.covered_seconds as f64 / sev1.required_seconds as f64)).abs() < 1e-12);

    let table = render(&report, ReportFormat::Table);
    insta::assert_snapshot!("eea_only_week_table", table);
    let csv = render(&report, ReportFormat::Csv);
    insta::assert_snapshot!("eea_only_week_csv", csv);
    let json: serde_json::Value = serde_json::from_str(&render(&report, ReportFormat::Json)).unwrap();
    assert_eq!(json["requirements"][2]["gaps"][0]["cause"], "GAP_CAUSE_STAFF_ON_TIME_OFF");
    let svg = render(&report, ReportFormat::Svg);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<rect x=").count(), 4 * 168 + 7, "168 cells per requirement and 7 legend swatches");
}

async fn only_ineligible_staff_is_named_on_the_standard_plan(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    seed_roster(&spawned.app).await;
    let mut coverage = spawned.app.coverage();
    let mut request = week_request(pb::Plan::Standard);
    request.window_start = Some(timestamp("2026-12-02T17:00:00Z"));
    request.window_end = Some(timestamp("2026-12-02T22:00:00Z"));
    let report = coverage.get_coverage_report(request).await.unwrap().into_inner();
    // Sev2 on Wednesday evening: only the US agent is on shift (17:00-22:00Z), without consent.
    let sev2 = &report.requirements[1];
    assert_eq!(sev2.gaps.len(), 1);
    assert_eq!(sev2.gaps[0].cause(), pb::GapCause::OnlyIneligibleStaff);
    request.eea_tagged = false;
    let untagged = coverage.get_coverage_report(request).await.unwrap().into_inner();
    assert_eq!(untagged.requirements[1].covered_seconds, 5 * 3_600);
}

async fn list_on_shift_names_eligible_agents(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    seed_roster(&spawned.app).await;
    let mut coverage = spawned.app.coverage();
    let request = pb::ListOnShiftRequest {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        severity: pb::Severity::Severity1 as i32,
        at: Some(timestamp("2026-12-02T16:30:00Z")),
        as_known_at: None,
    };
    let found = coverage.list_on_shift(request).await.unwrap().into_inner();
    let names: Vec<(&str, &str, &str)> = found
        .agents
        .iter()
        .map(|entry| (entry.agent_id.as_str(), entry.country.as_str(), entry.shift_id.as_str()))
        .collect();
    assert_eq!(names, vec![("de-nights", "DE", "de-pager"), ("ie-days", "IE", "ie-weekdays")]);
    assert_eq!(found.agents[1].until, Some(timestamp("2026-12-02T17:00:00Z")));
}

async fn bad_report_requests_are_named(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut coverage = spawned.app.coverage();
    let mut request = week_request(pb::Plan::Unspecified);
    request.window_end = Some(timestamp("2028-01-01T00:00:00Z"));
    request.min_staff = -1;
    let error = coverage.get_coverage_report(request).await.unwrap_err();
    assert_eq!(violated_fields(&error), ["plan", "window_end", "min_staff"]);
    let mut request = week_request(pb::Plan::EeaOnly);
    request.window_start = None;
    let error = coverage.get_coverage_report(request).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&error), ["window_start"]);
    let on_shift = pb::ListOnShiftRequest {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        severity: 0,
        at: None,
        as_known_at: None,
    };
    let error = coverage.list_on_shift(on_shift).await.unwrap_err();
    assert_eq!(violated_fields(&error), ["severity"]);
}

crate::on_both_backends!(
    a_week_of_coverage_is_reported_per_severity,
    only_ineligible_staff_is_named_on_the_standard_plan,
    list_on_shift_names_eligible_agents,
    bad_report_requests_are_named
);

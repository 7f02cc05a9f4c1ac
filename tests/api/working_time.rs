//! The Working Time Directive over gRPC: the report, and the warnings (or refusals) of writes.

use eea_coverage::domain::time::Zone;
use eea_coverage::pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{
    agent, one_off, run_binary, spawn_app, spawn_app_with, sync_batch, sync_header, timestamp, violated_fields,
    with_token, Backend, TestApp, ROLE_TOKENS,
};

/// A Monday three weeks from now, in Brussels: writes' warnings look a year around now, so the
/// dates move with the clock. The instants of its days are given as RFC 3339 in UTC.
struct Week {
    monday: jiff::civil::Date,
}

impl Week {
    fn ahead() -> Week {
        let today = Zone::brussels().to_local(eea_coverage::clock::now()).date();
        let in_three_weeks = today.checked_add(jiff::Span::new().days(21)).unwrap();
        let to_monday = i64::from(in_three_weeks.weekday().to_monday_zero_offset());
        Week { monday: in_three_weeks.checked_sub(jiff::Span::new().days(to_monday)).unwrap() }
    }

    /// Day `day` (0 is Monday) at `hour:minute`, Brussels time, as RFC 3339 in UTC.
    fn at(&self, day: i64, hour: i8, minute: i8) -> String {
        let date = self.monday.checked_add(jiff::Span::new().days(day)).unwrap();
        Zone::brussels().to_instant(date.at(hour, minute, 0, 0)).to_string()
    }

    fn window(&self, first_day: i64, days: i64) -> (Option<prost_types::Timestamp>, Option<prost_types::Timestamp>) {
        (Some(timestamp(&self.at(first_day, 0, 0))), Some(timestamp(&self.at(first_day + days, 0, 0))))
    }
}

fn request(week: &Week, agent_ids: &[&str]) -> pb::GetWorkingTimeReportRequest {
    let (window_start, window_end) = week.window(0, 7);
    pb::GetWorkingTimeReportRequest {
        window_start,
        window_end,
        agent_ids: agent_ids.iter().map(|agent_id| (*agent_id).to_owned()).collect(),
        page_size: 0,
        page_token: String::new(),
    }
}

fn hours(hours: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds: hours * 3_600, nanos: 0 })
}

/// A Belgian agent who works Monday 08:00-21:00 and Tuesday from 07:00 (10 hours of rest), and
/// an agent in the United States.
async fn seed(app: &TestApp, week: &Week) -> pb::UpsertShiftsResponse {
    app.put_agents(vec![agent("be-agent", "BE", "Europe/Brussels"), agent("us-agent", "US", "America/New_York")]).await;
    app.put_shifts(vec![
        one_off("be-mon", "be-agent", &week.at(0, 8, 0), &week.at(0, 21, 0)),
        one_off("us-mon", "us-agent", &week.at(0, 14, 0), &week.at(0, 23, 0)),
    ])
    .await;
    app.put_shifts(vec![one_off("be-tue", "be-agent", &week.at(1, 7, 0), &week.at(1, 12, 0))]).await
}

async fn the_report_lists_each_agents_weeks_and_breaches(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let week = Week::ahead();
    seed(&spawned.app, &week).await;
    let mut coverage = spawned.app.coverage();

    // By default, only those who work from the EEA.
    let report = coverage.get_working_time_report(request(&week, &[])).await.unwrap().into_inner();
    let ids: Vec<&str> = report.agents.iter().map(|agent| agent.agent_id.as_str()).collect();
    assert_eq!(ids, ["be-agent"]);
    assert!(!report.policy_version.is_empty() && !report.tz_database_version.is_empty());
    let be = &report.agents[0];
    assert_eq!((be.time_zone.as_str(), be.worked, be.night_working_days), ("Europe/Brussels", hours(18), 0));
    assert_eq!(be.weeks.len(), 1);
    assert_eq!(be.weeks[0].week_start, Some(timestamp(&week.at(0, 0, 0))));
    assert_eq!((be.weeks[0].worked, be.weeks[0].reference_weeks), (hours(18), 17));
    assert_eq!(be.breaches.len(), 1, "{:?}", be.breaches);
    let breach = &be.breaches[0];
    assert_eq!(breach.rule(), pb::WorkingTimeRule::DailyRest);
    assert_eq!(
        (breach.window_start, breach.window_end),
        (Some(timestamp(&week.at(0, 8, 0))), Some(timestamp(&week.at(1, 8, 0))))
    );
    assert_eq!((breach.measured, breach.limit), (hours(10), hours(11)));
    assert_eq!(breach.shift_ids, ["be-mon", "be-tue"]);

    // Named agents, wherever they work, in ID order and a page at a time.
    let mut named = request(&week, &["us-agent", "be-agent"]);
    named.page_size = 1;
    let first = coverage.get_working_time_report(named.clone()).await.unwrap().into_inner();
    assert_eq!(first.agents.iter().map(|agent| agent.agent_id.as_str()).collect::<Vec<_>>(), ["be-agent"]);
    assert!(!first.next_page_token.is_empty());
    named.page_token = first.next_page_token;
    let second = coverage.get_working_time_report(named).await.unwrap().into_inner();
    assert_eq!(second.agents.iter().map(|agent| agent.agent_id.as_str()).collect::<Vec<_>>(), ["us-agent"]);
    assert_eq!((second.next_page_token.as_str(), second.agents[0].worked), ("", hours(9)));
}

async fn a_bad_question_names_its_field_and_managers_alone_may_ask(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let week = Week::ahead();
    seed(&spawned.app, &week).await;
    let mut coverage = spawned.app.coverage();

    let unknown = coverage.get_working_time_report(request(&week, &["be-agent", "nobody"])).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().starts_with("agent_ids[1]"), "{unknown:?}");
    let mut backwards = request(&week, &[]);
    std::mem::swap(&mut backwards.window_start, &mut backwards.window_end);
    let status = coverage.get_working_time_report(backwards).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["window_end"]);
    let mut too_long = request(&week, &[]);
    too_long.window_end = week.window(0, 400).1;
    assert_eq!(violated_fields(&coverage.get_working_time_report(too_long).await.unwrap_err()), ["window_end"]);
    let mut crowded = request(&week, &[]);
    crowded.agent_ids = (0..1_001).map(|idx| format!("agent-{idx}")).collect();
    assert_eq!(violated_fields(&coverage.get_working_time_report(crowded).await.unwrap_err()), ["agent_ids"]);

    for (role, token) in ROLE_TOKENS {
        let mut client = pb::coverage_service_client::CoverageServiceClient::new(with_token(
            spawned.app.channel.clone(),
            Some(token),
        ));
        let outcome = client.get_working_time_report(request(&week, &[])).await;
        match role {
            "manager" => assert_eq!(outcome.unwrap().into_inner().agents.len(), 1),
            _ => assert_eq!(outcome.unwrap_err().code(), Code::PermissionDenied, "{role}"),
        }
    }
}

async fn writes_answer_the_breaches_they_introduce(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let week = Week::ahead();
    let introduced = seed(&spawned.app, &week).await;
    assert_eq!(introduced.working_time_warnings.len(), 1, "{:?}", introduced.working_time_warnings);
    assert_eq!(introduced.working_time_warning_count, 1);
    let warning = &introduced.working_time_warnings[0];
    assert_eq!(warning.agent_id, "be-agent");
    let breach = warning.breach.as_ref().unwrap();
    assert_eq!((breach.rule(), breach.measured), (pb::WorkingTimeRule::DailyRest, hours(10)));

    // Writing the same shift again introduces nothing; moving it to 08:00 neither.
    let again =
        spawned.app.put_shifts(vec![one_off("be-tue", "be-agent", &week.at(1, 7, 0), &week.at(1, 12, 0))]).await;
    assert_eq!(again.working_time_warnings, vec![]);
    let later =
        spawned.app.put_shifts(vec![one_off("be-tue", "be-agent", &week.at(1, 8, 0), &week.at(1, 12, 0))]).await;
    assert_eq!(later.working_time_warnings, vec![]);

    // A sync that adds a late Wednesday before an early Thursday: a warning, dry run or not.
    let (start, end) = (week.at(2, 0, 0), week.at(5, 0, 0));
    let shifts = || {
        vec![
            one_off("wfm-wed", "be-agent", &week.at(2, 14, 0), &week.at(2, 23, 0)),
            one_off("wfm-thu", "be-agent", &week.at(3, 9, 0), &week.at(3, 12, 0)),
        ]
    };
    for dry_run in [true, false] {
        let answer = spawned
            .app
            .sync(vec![sync_header("wfm", &start, &end, dry_run), sync_batch(shifts(), vec![])])
            .await
            .unwrap();
        let warned: Vec<_> = answer
            .working_time_warnings
            .iter()
            .map(|warning| (warning.agent_id.as_str(), warning.breach.as_ref().unwrap().window_start))
            .collect();
        assert_eq!(warned, [("be-agent", Some(timestamp(&week.at(2, 14, 0))))], "dry run {dry_run}");
    }
    // Synced again, unchanged: nothing new.
    let answer =
        spawned.app.sync(vec![sync_header("wfm", &start, &end, false), sync_batch(shifts(), vec![])]).await.unwrap();
    assert_eq!(answer.working_time_warnings, vec![]);
}

async fn a_source_set_to_refuse_breaches_writes_nothing_that_introduces_one(backend: Backend) {
    let settings = "[sources.strict]\nworking_time_breaches = \"refuse\"\n";
    let Some(spawned) = spawn_app_with(backend, settings).await else { return };
    let week = Week::ahead();
    spawned.app.put_agents(vec![agent("be-agent", "BE", "Europe/Brussels")]).await;
    let (start, end) = (week.at(0, 0, 0), week.at(7, 0, 0));
    let rested = vec![
        one_off("strict-mon", "be-agent", &week.at(0, 8, 0), &week.at(0, 20, 0)),
        one_off("strict-tue", "be-agent", &week.at(1, 8, 0), &week.at(1, 12, 0)),
    ];
    let answer = spawned
        .app
        .sync(vec![sync_header("strict", &start, &end, false), sync_batch(rested.clone(), vec![])])
        .await
        .unwrap();
    assert_eq!((answer.created, answer.working_time_warnings.len()), (2, 0));

    let mut breaching = rested.clone();
    breaching[1] = one_off("strict-tue", "be-agent", &week.at(1, 6, 0), &week.at(1, 12, 0));
    // The dry run lists the breach; the sync is refused and leaves the stored shifts alone.
    let dry = spawned
        .app
        .sync(vec![sync_header("strict", &start, &end, true), sync_batch(breaching.clone(), vec![])])
        .await
        .unwrap();
    assert_eq!(dry.working_time_warnings.len(), 1);
    let refused = spawned
        .app
        .sync(vec![sync_header("strict", &start, &end, false), sync_batch(breaching, vec![])])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let violations = refused.get_details_precondition_failure().expect("precondition details").violations;
    assert_eq!(violations.len(), 1);
    assert_eq!(
        (violations[0].r#type.as_str(), violations[0].subject.as_str()),
        ("WORKING_TIME_BREACH", "agent be-agent")
    );
    assert!(violations[0].description.starts_with("daily rest over"), "{}", violations[0].description);
    let stored = spawned
        .app
        .roster
        .clone()
        .list_shifts(pb::ListShiftsRequest { agent_id: "be-agent".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let tuesday = stored.shifts.iter().find(|shift| shift.shift_id == "strict-tue").unwrap();
    let Some(pb::shift::Schedule::OneOff(stored_tuesday)) = &tuesday.schedule else { panic!("{tuesday:?}") };
    assert_eq!(stored_tuesday.starts_at, Some(timestamp(&week.at(1, 8, 0))));
}

async fn a_standby_source_s_pager_shifts_are_not_work(backend: Backend) {
    let settings = "[sources.pager]\npager_shifts = \"standby\"\n";
    let Some(spawned) = spawn_app_with(backend, settings).await else { return };
    let week = Week::ahead();
    spawned.app.put_agents(vec![agent("be-agent", "BE", "Europe/Brussels")]).await;
    spawned.app.put_shifts(vec![one_off("day", "be-agent", &week.at(0, 8, 0), &week.at(0, 21, 0))]).await;
    let mut pager = one_off("pager-night", "be-agent", &week.at(0, 21, 0), &week.at(1, 7, 0));
    pager.severities = vec![pb::Severity::Severity1 as i32];
    let answer = spawned
        .app
        .sync(vec![sync_header("pager", &week.at(0, 0, 0), &week.at(7, 0, 0), false), sync_batch(vec![pager], vec![])])
        .await
        .unwrap();
    assert_eq!((answer.created, answer.working_time_warnings.len()), (1, 0));
    let report = spawned.app.coverage().get_working_time_report(request(&week, &[])).await.unwrap().into_inner();
    assert_eq!((report.agents[0].worked, report.agents[0].breaches.len()), (hours(13), 0));
}

async fn the_report_command_shows_weeks_and_breaches(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let week = Week::ahead();
    seed(&spawned.app, &week).await;
    let (from, to) = (week.at(0, 0, 0), week.at(7, 0, 0));
    let run = |format: &str| {
        let output =
            run_binary(&spawned.app, &["report", "--working-time", "--from", &from, "--to", &to, "--format", format]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let csv = run("csv");
    let breach_rows: Vec<&str> = csv.lines().filter(|line| line.starts_with("breach,")).collect();
    let (start, end) = (week.at(0, 8, 0), week.at(1, 8, 0));
    assert_eq!(
        breach_rows,
        [format!("breach,be-agent,{start},{end},,,,WORKING_TIME_RULE_DAILY_REST,36000,39600,be-mon be-tue")]
    );
    assert!(csv.lines().any(|line| line.starts_with("week,be-agent,") && line.contains(",64800,0,")), "{csv}");
    let table = run("table");
    assert!(table.contains("BREACH daily rest"), "{table}");
    assert!(table.contains("10h 00m of rest at most, at least 11h 00m"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["agents"][0]["breaches"][0]["rule"], "WORKING_TIME_RULE_DAILY_REST");
    // The US agent, named, is reported too.
    let output = run_binary(
        &spawned.app,
        &["report", "--working-time", "--from", &from, "--to", &to, "--agent", "us-agent", "--format", "csv"],
    );
    let named = String::from_utf8(output.stdout).unwrap();
    assert!(named.lines().skip(1).all(|line| line.contains(",us-agent,")), "{named}");
}

async fn a_country_s_own_values_come_from_the_policy_file(backend: Backend) {
    let directory = tempfile::tempdir().unwrap();
    let policy_file = directory.path().join("policy.toml");
    let french =
        "\n[[working_time.countries]]\ncode = \"FR\"\ndaily_rest_hours = 12\nsource = \"a test's own value\"\n";
    std::fs::write(&policy_file, format!("{}{french}", eea_coverage::domain::policy::DEFAULT_POLICY_FACTS)).unwrap();
    let settings = format!("policy_file = {:?}\n", policy_file.display().to_string());
    let Some(spawned) = spawn_app_with(backend, &settings).await else { return };
    let view = spawned.app.policy.clone().get_policy(pb::GetPolicyRequest { at: None }).await.unwrap().into_inner();
    let countries: Vec<(&str, Option<prost_types::Duration>)> =
        view.working_time.iter().map(|limits| (limits.country.as_str(), limits.daily_rest)).collect();
    assert_eq!(countries, [("", hours(11)), ("FR", hours(12))]);

    // 11 hours 30 minutes of rest: enough in Belgium, not in France.
    let week = Week::ahead();
    spawned
        .app
        .put_agents(vec![agent("be-agent", "BE", "Europe/Brussels"), agent("fr-agent", "FR", "Europe/Paris")])
        .await;
    let mut shifts = Vec::new();
    for agent_id in ["be-agent", "fr-agent"] {
        shifts.push(one_off(&format!("{agent_id}-mon"), agent_id, &week.at(0, 8, 0), &week.at(0, 20, 0)));
        shifts.push(one_off(&format!("{agent_id}-tue"), agent_id, &week.at(1, 7, 30), &week.at(1, 12, 0)));
    }
    let written = spawned.app.put_shifts(shifts).await;
    let warned: Vec<&str> = written.working_time_warnings.iter().map(|warning| warning.agent_id.as_str()).collect();
    assert_eq!(warned, ["fr-agent"]);
    let report = spawned.app.coverage().get_working_time_report(request(&week, &[])).await.unwrap().into_inner();
    let breaches: Vec<(&str, usize)> =
        report.agents.iter().map(|agent| (agent.agent_id.as_str(), agent.breaches.len())).collect();
    assert_eq!(breaches, [("be-agent", 0), ("fr-agent", 1)]);
    let breach = &report.agents[1].breaches[0];
    assert_eq!((breach.measured, breach.limit), (Some(prost_types::Duration { seconds: 41_400, nanos: 0 }), hours(12)));
}

async fn a_simulation_shows_the_breaches_its_changes_would_introduce(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let week = Week::ahead();
    spawned.app.put_agents(vec![agent("be-agent", "BE", "Europe/Brussels")]).await;
    spawned.app.put_shifts(vec![one_off("be-mon", "be-agent", &week.at(0, 8, 0), &week.at(0, 16, 0))]).await;
    // Closing an evening gap by keeping the agent until 22:00, and back at 07:00.
    let add = |shift: pb::Shift| pb::HypotheticalChange {
        change: Some(pb::hypothetical_change::Change::AddShift(pb::hypothetical_change::AddShift {
            shift: Some(shift),
        })),
    };
    let (window_start, window_end) = week.window(0, 7);
    let request = pb::SimulateCoverageRequest {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        window_start,
        window_end,
        min_staff: 1,
        changes: vec![
            add(one_off("evening", "be-agent", &week.at(0, 16, 0), &week.at(0, 22, 0))),
            add(one_off("early", "be-agent", &week.at(1, 7, 0), &week.at(1, 12, 0))),
        ],
        sync_file: None,
    };
    let answer = spawned.app.coverage().simulate_coverage(request).await.unwrap().into_inner();
    // The 24 hours from 08:00 and those from 16:00 (the evening shift's start) each hold 9 hours
    // of rest at most.
    assert_eq!(answer.working_time_warning_count, 2);
    let warned: Vec<_> = answer
        .working_time_warnings
        .iter()
        .map(|warning| {
            let breach = warning.breach.as_ref().unwrap();
            (warning.agent_id.as_str(), breach.rule(), breach.window_start, breach.measured, breach.shift_ids.clone())
        })
        .collect();
    let daily = pb::WorkingTimeRule::DailyRest;
    let shifts = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        warned,
        [
            ("be-agent", daily, Some(timestamp(&week.at(0, 8, 0))), hours(9), shifts(&["be-mon", "early", "evening"])),
            ("be-agent", daily, Some(timestamp(&week.at(0, 16, 0))), hours(9), shifts(&["early", "evening"])),
        ]
    );
    // Nothing was written: the stored roster has no breach.
    let report = spawned.app.coverage().get_working_time_report(request_for(&week)).await.unwrap().into_inner();
    assert_eq!(report.agents[0].breaches, vec![]);
}

fn request_for(week: &Week) -> pb::GetWorkingTimeReportRequest {
    request(week, &[])
}

crate::on_both_backends!(
    a_simulation_shows_the_breaches_its_changes_would_introduce,
    a_country_s_own_values_come_from_the_policy_file,
    the_report_command_shows_weeks_and_breaches,
    the_report_lists_each_agents_weeks_and_breaches,
    a_bad_question_names_its_field_and_managers_alone_may_ask,
    writes_answer_the_breaches_they_introduce,
    a_source_set_to_refuse_breaches_writes_nothing_that_introduces_one,
    a_standby_source_s_pager_shifts_are_not_work,
);

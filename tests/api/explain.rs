//! `ExplainTicket`: a ticket's history walked through time, each moment answered as known then;
//! the commits that changed the answer are listed, those that did not are not, and a later
//! correction leaves the explanation as it was.

use eea_coverage::pb;

use crate::helpers::{
    agent, consent, create_database, moment_between_writes, one_off, org, run_binary, spawn_app_on, violated_fields,
    Backend,
};

/// An instant `hours` from now, as the helpers' shift builders take it.
fn hours_from_now(hours: i64) -> String {
    (eea_coverage::clock::now() + jiff::SignedDuration::from_hours(hours)).to_string()
}

fn causes(moment: &pb::ExplainedMoment) -> Vec<pb::ExplainCause> {
    moment.causes().collect()
}

fn explain_request(
    created_at: prost_types::Timestamp,
    changes: Vec<pb::TicketChange>,
    until: Option<prost_types::Timestamp>,
) -> pb::ExplainTicketRequest {
    pb::ExplainTicketRequest {
        org_id: "acme".into(),
        ticket_id: "T-1".into(),
        created_at: Some(created_at),
        severity: pb::Severity::Severity1 as i32,
        category: pb::TicketCategory::ProductSupport as i32,
        changes,
        until,
        from: None,
    }
}

async fn a_tickets_explanation_lists_what_changed_its_answer_as_known_then(backend: Backend) {
    let Some(database) = create_database(backend) else { return };
    let app = spawn_app_on(&database, "").await;
    let mut tickets = app.tickets.clone();
    let (shift_start, shift_end) = (hours_from_now(-1), hours_from_now(2));
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin"), agent("de-1", "DE", "Europe/Berlin")]).await;
    app.put_shifts(vec![one_off("ie-day", "ie-1", &shift_start, &shift_end)]).await;
    let created_at = moment_between_writes().await;
    // A second agent comes on shift: two eligible.
    app.put_shifts(vec![one_off("de-day", "de-1", &shift_start, &shift_end)]).await;
    // An agent with no shift: a commit that changes nothing of the ticket's answer.
    app.put_agents(vec![agent("pt-1", "PT", "Europe/Lisbon")]).await;
    let moved_to_third_party = moment_between_writes().await;
    // The Irish agent turns out to work from the US: the EEA-tagged ticket of a third-party
    // category (standard rules) needs the ticket's consent for them.
    app.put_agents(vec![agent("ie-1", "US", "America/New_York")]).await;
    app.grant_consent(consent("acme", "T-1", "ie-1", &shift_end)).await;
    let until = moment_between_writes().await;

    let change = pb::TicketChange {
        at: Some(moved_to_third_party),
        severity: 0,
        category: pb::TicketCategory::ThirdParty as i32,
    };
    let request = explain_request(created_at, vec![change], Some(until));
    let explained = tickets.explain_ticket(request.clone()).await.unwrap().into_inner();
    use pb::ExplainCause::*;
    let listed: Vec<(Vec<pb::ExplainCause>, i32, usize)> = explained
        .moments
        .iter()
        .map(|moment| {
            let decision = moment.decision.as_ref().expect("the org is known throughout");
            (causes(moment), decision.eligible_on_shift, moment.consents_in_force.len())
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (vec![Created], 1, 0),
            (vec![RosterChanged], 2, 0),
            (vec![CategoryChanged], 2, 0),
            (vec![RosterChanged], 1, 0),
            (vec![RosterChanged], 2, 1),
        ],
        "{explained:#?}"
    );
    let moments = &explained.moments;
    assert_eq!(moments[0].at, Some(created_at));
    assert_eq!(moments[2].at, Some(moved_to_third_party));
    assert_eq!(moments[2].changes().collect::<Vec<_>>(), vec![pb::WindowChange::PlanChanged]);
    assert_eq!(moments[2].decision.as_ref().unwrap().plan(), pb::Plan::Standard);
    assert!(moments[4].consents_changed);
    assert_eq!(moments[4].consents_in_force[0].agent_id, "ie-1");
    // Each moment says what it was answered from: the versions move with the commits listed,
    // and the commit that changed nothing (the agent with no shift) is skipped over.
    let versions: Vec<i64> = moments.iter().map(|moment| moment.known_as.as_ref().unwrap().roster_version).collect();
    assert_eq!(versions, vec![3, 4, 5, 6, 7]);
    for moment in moments {
        assert_eq!(moment.decision.as_ref().unwrap().known_as, moment.known_as);
        assert_eq!(moment.known_as.as_ref().unwrap().as_known_at, moment.at);
        assert!(moment.summary.contains("roster version"), "{}", moment.summary);
    }
    assert!(moments[4].summary.contains("consents in force: ie-1"), "{}", moments[4].summary);
    assert_eq!(explained.until, Some(until));
    assert_eq!(explained.next_from, None);

    // Each moment equals DecideTicket asked as known at it.
    for moment in moments {
        let asked = pb::DecideTicketRequest {
            org_id: "acme".into(),
            severity: moment.severity,
            category: moment.category,
            ticket_id: "T-1".into(),
            at: None,
            as_known_at: moment.at,
        };
        let decided = tickets.decide_ticket(asked).await.unwrap().into_inner();
        assert_eq!(Some(&decided), moment.decision.as_ref());
    }

    // A later correction (the German shift deleted) leaves the explanation as it was.
    app.roster.clone().delete_shift(pb::DeleteShiftRequest { shift_id: "de-day".into() }).await.unwrap();
    let again = tickets.explain_ticket(request.clone()).await.unwrap().into_inner();
    assert_eq!(again, explained);

    // A page that continues from a moment begins there, with the answer as known then.
    let continued = tickets
        .explain_ticket(pb::ExplainTicketRequest { from: moments[3].at, ..request.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(continued.moments.len(), 2);
    // It resumes at a commit, and says so.
    assert_eq!(causes(&continued.moments[0]), vec![Continued, RosterChanged]);
    assert_eq!(continued.moments[0].decision, moments[3].decision);
    assert_eq!(continued.moments[1], moments[4]);
    // Where nothing changed, the page's first moment says only that it continues.
    let quiet = prost_types::Timestamp { nanos: moments[1].at.unwrap().nanos + 1_000, ..moments[1].at.unwrap() };
    let continued = tickets
        .explain_ticket(pb::ExplainTicketRequest { from: Some(quiet), ..request.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(continued.moments.len(), 4);
    assert_eq!(causes(&continued.moments[0]), vec![Continued]);
    assert_eq!(continued.moments[0].changes, Vec::<i32>::new());
    assert_eq!(continued.moments[1..], moments[2..]);

    // Refusals name their field.
    let refused = |request: pb::ExplainTicketRequest| {
        let mut tickets = tickets.clone();
        async move { tickets.explain_ticket(request).await.unwrap_err() }
    };
    // The history began as the test's database was created, moments ago.
    let yesterday = prost_types::Timestamp { seconds: until.seconds - 86_400, nanos: 0 };
    let before_history = refused(explain_request(yesterday, vec![], Some(until))).await;
    assert_eq!(before_history.code(), tonic::Code::FailedPrecondition, "{before_history:?}");
    let precondition = {
        use tonic_types::StatusExt;
        before_history.get_details_precondition_failure().expect("FAILED_PRECONDITION carries its violations")
    };
    let violation = &precondition.violations[0];
    assert_eq!((violation.r#type.as_str(), violation.subject.as_str()), ("BEFORE_HISTORY", "created_at"));
    let future = prost_types::Timestamp { seconds: until.seconds + 3_600, nanos: 0 };
    let in_the_future = refused(explain_request(created_at, vec![], Some(future))).await;
    assert_eq!(in_the_future.code(), tonic::Code::InvalidArgument);
    assert_eq!(violated_fields(&in_the_future), vec!["until"]);
    let out_of_order = vec![
        pb::TicketChange { at: Some(moved_to_third_party), severity: pb::Severity::Severity2 as i32, category: 0 },
        pb::TicketChange { at: Some(created_at), severity: pb::Severity::Severity3 as i32, category: 0 },
        pb::TicketChange { at: Some(until), severity: 0, category: 0 },
    ];
    let disordered = refused(explain_request(created_at, out_of_order, Some(until))).await;
    assert_eq!(disordered.code(), tonic::Code::InvalidArgument);
    assert_eq!(violated_fields(&disordered), vec!["changes[1].at", "changes[2].severity", "changes[2].at"]);
    let no_ticket_created = refused(pb::ExplainTicketRequest { created_at: None, ..request }).await;
    assert_eq!(violated_fields(&no_ticket_created), vec!["created_at"]);
    app.stop().await;
}

crate::on_both_backends!(a_tickets_explanation_lists_what_changed_its_answer_as_known_then,);

/// `eea-coverage explain` follows the answer's pages to the end: with more commits in the
/// ticket's life than one answer walks through, it prints every moment, once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explain_command_prints_every_page_of_the_evidence() {
    let Some(database) = create_database(Backend::Sqlite) else { return };
    let app = spawn_app_on(&database, "").await;
    let (shift_start, shift_end) = (hours_from_now(-1), hours_from_now(2));
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin"), agent("de-1", "DE", "Europe/Berlin")]).await;
    app.put_shifts(vec![one_off("ie-day", "ie-1", &shift_start, &shift_end)]).await;
    let created_at = moment_between_writes().await;
    // More commits than one answer walks through, none of which changes the ticket's answer.
    for idx in 0..60 {
        app.put_agents(vec![agent(&format!("pt-{idx}"), "PT", "Europe/Lisbon")]).await;
    }
    app.put_shifts(vec![one_off("de-day", "de-1", &shift_start, &shift_end)]).await;
    let lowered = moment_between_writes().await;
    let until = moment_between_writes().await;
    let text = |timestamp: prost_types::Timestamp| {
        jiff::Timestamp::new(timestamp.seconds, timestamp.nanos).unwrap().to_string()
    };
    let change = format!("{},severity=3", text(lowered));
    let (created_at_text, until_text) = (text(created_at), text(until));
    let arguments = [
        "explain",
        "--org",
        "acme",
        "--ticket",
        "T-1",
        "--created-at",
        &created_at_text,
        "--severity",
        "1",
        "--change",
        &change,
        "--until",
        &until_text,
    ];

    // The same question over gRPC needs two answers.
    let first_page = app
        .tickets
        .clone()
        .explain_ticket(pb::ExplainTicketRequest {
            changes: vec![pb::TicketChange {
                at: Some(lowered),
                severity: pb::Severity::Severity3 as i32,
                category: 0,
            }],
            ..explain_request(created_at, vec![], Some(until))
        })
        .await
        .unwrap()
        .into_inner();
    assert!(first_page.next_from.is_some(), "one answer stops early: {first_page:#?}");

    let output = run_binary(&app, &[&arguments[..], &["--format", "json"]].concat());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let moments: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let listed: Vec<(String, i64)> = moments
        .as_array()
        .unwrap()
        .iter()
        .map(|moment| {
            (moment["causes"][0].as_str().unwrap().to_owned(), moment["decision"]["eligibleOnShift"].as_i64().unwrap())
        })
        .collect();
    let expected =
        [("EXPLAIN_CAUSE_CREATED", 1), ("EXPLAIN_CAUSE_ROSTER_CHANGED", 2), ("EXPLAIN_CAUSE_SEVERITY_CHANGED", 2)];
    let expected: Vec<(String, i64)> =
        expected.iter().map(|(cause, eligible)| (cause.to_string(), *eligible)).collect();
    assert_eq!(listed, expected, "{stdout}");
    assert_eq!(moments[2]["severity"], "SEVERITY_3");

    let human = run_binary(&app, &arguments);
    let human = String::from_utf8_lossy(&human.stdout);
    assert_eq!(human.matches("roster version").count(), 2 * 3, "a summary and a source line a moment: {human}");
    assert!(human.contains("severity changed; Sev3 product support"), "{human}");
    app.stop().await;
}

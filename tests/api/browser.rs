//! The console in a real browser: headless Chromium, driven over WebDriver by ChromeDriver
//! (Debian's `chromium` and `chromium-driver`, which `.ci/run` installs when missing), loads the
//! pages of a spawned server holding a roster whose answers are worked out here, and checks what
//! a person would see: who is on shift, the gap rows, the heat map's cells, an error for a bad
//! window, a refusal for a role that may not see a page.
//!
//! Without ChromeDriver the tests print a notice and pass, except under `CI=true`, where a missing
//! browser is a failure. `EEA_COVERAGE_SCREENSHOTS=DIR` saves a screenshot of every page checked
//! into DIR, to look at.

use eea_coverage::pb;
use jiff::{SignedDuration, Timestamp};

use crate::helpers::{agent, one_off, recurring, spawn_app, Backend, TestApp, ROLE_TOKENS, TEST_TOKEN};
use crate::webdriver::Browser;

/// The ID of the element that has the keyboard's focus.
async fn focused(browser: &Browser) -> Option<String> {
    let active = browser.client().active_element().await.expect("an active element");
    active.attr("id").await.expect("its ID")
}

/// An instant as the JSON API writes it (whole seconds, `Z`).
fn json_instant(instant: Timestamp) -> String {
    instant.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The roster the pages are checked against, relative to `now` (whole minutes):
/// - ie-1 (Ireland) and us-1 (the United States, eligible for an EEA-tagged ticket only with the
///   customer's consent for it) each on a one-off shift from an hour ago to two hours on;
/// - de-1 (Germany) on Monday-Friday 09:00-18:00 Berlin time from 1 March 2027 (so not now),
///   moving to Portugal on 1 June 2027.
async fn seed(app: &TestApp, now: Timestamp) -> (Timestamp, Timestamp) {
    let mut de = agent("de-1", "DE", "Europe/Berlin");
    de.location_changes = vec![pb::LocationChange {
        effective_at: Some(crate::helpers::timestamp("2027-05-31T22:00:00Z")),
        country: "PT".into(),
    }];
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin"), agent("us-1", "US", "America/New_York"), de]).await;
    let starts_at = now - SignedDuration::from_hours(1);
    let starts = json_instant(starts_at);
    let ends_at = now + SignedDuration::from_hours(2);
    let ends = json_instant(ends_at);
    app.put_shifts(vec![
        one_off("ie-now", "ie-1", &starts, &ends),
        one_off("us-now", "us-1", &starts, &ends),
        recurring(
            "de-weekdays",
            "de-1",
            "Europe/Berlin",
            "2027-03-01T09:00:00",
            "18:00",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        ),
    ])
    .await;
    (starts_at, ends_at)
}

fn whole_minute(instant: Timestamp) -> Timestamp {
    Timestamp::from_second(instant.as_second() - instant.as_second().rem_euclid(60)).expect("an instant")
}

/// The Now page's tables: per audience, per severity, the cells a person reads.
const NOW_TABLES: &str = r#"
const tables = [...document.querySelectorAll('#page table')];
if (tables.length < 3) return null;
return tables.map((table) => ({
  caption: table.caption.innerText,
  rows: [...table.tBodies[0].rows].map((row) => ({
    severity: row.cells[0].innerText,
    handled: row.cells[2].innerText,
    eligible: row.cells[3].innerText,
    gaps: row.cells[5].innerText,
    gapInstants: [...row.cells[5].querySelectorAll('time')].map((time) => time.getAttribute('datetime')),
  })),
}));
"#;

/// The Coverage page's result: per requirement, its heading, its gap count line and the heat
/// map's cells (text and class) by weekday row.
const COVERAGE_RESULT: &str = r#"
const sections = [...document.querySelectorAll('#coverage-result section.requirement')];
if (sections.length < 4) return null;
return sections.map((section) => ({
  heading: section.querySelector('h3').innerText,
  lists: [...section.querySelectorAll('h4')].map((heading) => heading.innerText),
  cells: [...section.querySelector('table.heat').tBodies[0].rows].map((row) =>
    [...row.cells].slice(1).map((cell) => ({ text: cell.innerText, level: cell.className, title: cell.title }))),
}));
"#;

#[tokio::test]
async fn a_manager_sees_who_is_on_shift_the_gaps_and_the_heat_map_in_a_browser() {
    let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
    let app = &spawned.app;
    let Some(browser) = Browser::open(&format!("http://{}", app.http_address.expect("test servers serve HTTP"))).await
    else {
        return;
    };
    let now = whole_minute(eea_coverage::clock::now());
    let (shifts_start, shifts_end) = seed(app, now).await;
    let manager = ROLE_TOKENS.iter().find(|(role, _)| *role == "manager").expect("a manager token").1;

    // Now: Sev 1 is handled around the clock; ie-1 is the one eligible for EEA-only and
    // EEA-tagged tickets, ie-1 and us-1 both for untagged ones, and the EEA gap opens when
    // their shifts end.
    browser.sign_in(manager).await;
    browser.page("Now").await;
    let tables = browser.wait_for("the three audiences", NOW_TABLES).await;
    browser.screenshot("now").await;
    let sev1 = |audience: usize| tables[audience]["rows"][0].clone();
    assert_eq!(tables[0]["caption"], "EEA_ONLY");
    assert_eq!(tables[1]["caption"], "STANDARD, EEA-tagged");
    assert_eq!(tables[2]["caption"], "STANDARD, untagged");
    for (audience, eligible) in [(0, "1"), (1, "1"), (2, "2")] {
        let row = sev1(audience);
        assert_eq!(row["severity"], "Sev 1", "{row}");
        assert!(row["handled"].as_str().unwrap().starts_with("Yes"), "{row}");
        assert_eq!(row["eligible"], eligible, "{row}");
        assert_eq!(row["gapInstants"][0], json_instant(shifts_end), "the first gap starts as the shifts end: {row}");
    }

    // Coverage, the first week of March 2027 on the EEA-only plan: only de-1's weekday hours.
    browser.click("nav a[href='#coverage']").await;
    browser.page("Coverage").await;
    browser.set("plan", "PLAN_EEA_ONLY").await;
    browser.set("from", "2027-03-01").await;
    browser.set("to", "2027-03-08").await;
    browser.set("min-staff", "1").await;
    browser.click("#coverage-form button[type=submit]").await;
    let requirements = browser.wait_for("the four requirements", COVERAGE_RESULT).await;
    browser.screenshot("coverage").await;
    let link = browser.client().current_url().await.expect("the page's address");
    assert_eq!(
        link.fragment(),
        Some("coverage?plan=PLAN_EEA_ONLY&eeaTagged=false&from=2027-03-01&to=2027-03-08&minStaff=1"),
        "the question is in the page's link"
    );
    let sev1 = &requirements[0];
    // 5 days x 9 hours of 168.
    assert!(sev1["heading"].as_str().unwrap().ends_with(": 26.8% covered"), "{sev1}");
    // Monday 00:00 to 09:00, four nights, then Friday 18:00 to the window's end.
    assert_eq!(sev1["lists"][0], "Gaps (6)");
    let monday = &sev1["cells"][0];
    assert_eq!(monday[8]["text"], "0");
    assert_eq!(monday[8]["level"], "gap");
    assert_eq!(monday[9]["text"], "1");
    assert_eq!(monday[9]["level"], "thin", "one eligible against a minimum of one");
    assert!(monday[9]["title"].as_str().unwrap().starts_with("Mon 09:00-10:00 Brussels"));
    assert_eq!(sev1["cells"][5][12]["level"], "gap", "Saturday noon");
    let sev2 = &requirements[1];
    assert!(sev2["heading"].as_str().unwrap().ends_with(": 100.0% covered"), "{sev2}");
    assert_eq!(sev2["lists"][0], "Gaps (0)");
    assert_eq!(sev2["lists"][1], "Thin stretches, exactly the minimum (5)");
    assert_eq!(sev2["cells"][5][12]["level"], "off", "Saturday is outside Sev 2's hours");
    assert_eq!(sev2["cells"][0][8]["level"], "off", "Monday 08:00 is outside Sev 2's hours");

    // A window longer than the server allows: the server's reason, under the form.
    browser.set("from", "2027-01-01").await;
    browser.set("to", "2029-01-01").await;
    browser.click("#coverage-form button[type=submit]").await;
    let refusal = browser
        .wait_for(
            "the server's refusal",
            "const error = document.querySelector('#coverage-result p.error'); return error ? error.innerText : null;",
        )
        .await;
    assert!(refusal.as_str().unwrap().contains("window"), "the refusal names the window: {refusal}");
    browser.screenshot("coverage-refused").await;

    // Roster: all three agents with where they work now, de-1's move, a filter by country, and
    // ie-1's week.
    browser.click("nav a[href='#roster']").await;
    let roster = browser.page("Roster").await;
    assert!(roster.contains("3 of 3 agents."), "{roster}");
    let de_row = browser
        .wait_for("de-1's row", "const row = [...document.querySelectorAll('#roster-list tbody tr')].find((row) => row.cells[0].innerText === 'de-1'); return row ? [...row.cells].map((cell) => cell.innerText) : null;")
        .await;
    assert_eq!(de_row[2], "DE");
    assert!(de_row[3].as_str().unwrap().starts_with("PT from Tue, 1 Jun 2027, 00:00 Brussels"), "{de_row}");
    browser.screenshot("roster").await;
    browser.set("roster-country", "IE").await;
    let filtered = browser.text("#page").await;
    assert!(filtered.contains("1 of 3 agents."), "{filtered}");
    browser.click("#roster-list tbody tr button").await;
    let on_shift = browser
        .wait_for(
            "ie-1's week",
            "const week = document.getElementById('roster-week'); return week ? [...week.tBodies[0].rows].flatMap((row) => [...row.cells[1].querySelectorAll('time')].map((time) => time.getAttribute('datetime'))) : null;",
        )
        .await;
    let on_shift: Vec<Timestamp> =
        on_shift.as_array().unwrap().iter().map(|text| text.as_str().unwrap().parse().expect("an instant")).collect();
    // The week starts at midnight in Brussels today, which may fall inside the shift.
    let brussels = jiff::tz::TimeZone::get("Europe/Brussels").expect("Brussels");
    let midnight = now.to_zoned_datetime(brussels).start_of_day().expect("a midnight").timestamp();
    assert_eq!(on_shift.first(), Some(&shifts_start.max(midnight)), "{on_shift:?}");
    assert_eq!(on_shift.last(), Some(&shifts_end), "{on_shift:?}");
    let week = browser.text("#roster-agent").await;
    assert!(week.contains("(shift ie-now)"), "the occurrence names its shift: {week}");
    browser.screenshot("roster-agent").await;

    // Audit is for admins: the manager is told so.
    browser.click("nav a[href='#audit']").await;
    let refused = browser.page("Not allowed").await;
    assert!(refused.contains("Your role may not see this page"), "{refused}");
    browser.screenshot("audit-refused").await;
    browser.close().await;
}

#[tokio::test]
async fn the_other_pages_answer_an_admin_and_refuse_a_ticket_system_in_a_browser() {
    let Some(spawned) = spawn_app(Backend::Sqlite).await else { return };
    let app = &spawned.app;
    let Some(browser) = Browser::open(&format!("http://{}", app.http_address.expect("test servers serve HTTP"))).await
    else {
        return;
    };

    // No roster yet: the page says what to do.
    browser.go(&format!("/#token={TEST_TOKEN}")).await;
    let empty = browser.page("No roster yet").await;
    assert!(empty.contains("eea-coverage import"), "{empty}");
    browser.screenshot("no-roster").await;

    let now = whole_minute(eea_coverage::clock::now());
    let (shifts_start, shifts_end) = seed(app, now).await;

    // Working time from yesterday (the shift may have begun before midnight): ie-1's three
    // hours, no breach.
    let brussels = jiff::tz::TimeZone::get("Europe/Brussels").expect("Brussels");
    let today = now.to_zoned_datetime(brussels.clone()).date();
    let midnight = now.to_zoned_datetime(brussels).start_of_day().expect("a midnight").timestamp();
    browser.click("nav a[href='#working-time']").await;
    browser.page("Working time").await;
    browser.set("wt-from", &today.yesterday().expect("a date").to_string()).await;
    browser.set("wt-agent", "ie-1").await;
    browser.click("#working-time-form button[type=submit]").await;
    let worked = browser
        .wait_for("ie-1's working time", "const row = document.querySelector('#working-time-result tbody tr'); return row ? [...row.cells].map((cell) => cell.innerText) : null;")
        .await;
    assert_eq!(worked[0], "ie-1 (Europe/Dublin)");
    assert_eq!(worked[1], "3.0 h");
    assert_eq!(worked[5], "0");
    browser.screenshot("working-time").await;

    // What if ie-1 were away today and tomorrow: EEA-only Sev 1 gains a gap over ie-1's shift,
    // with staff on time off as its cause; the gaps before and after it stay as they are.
    browser.click("nav a[href='#what-if']").await;
    browser.page("What if").await;
    browser.set("absent-agent", "ie-1").await;
    browser.set("absent-from", &today.to_string()).await;
    browser.set("absent-to", &today.tomorrow().expect("a date").tomorrow().expect("a date").to_string()).await;
    browser.click("#what-if-form button[type=submit]").await;
    let changes = browser
        .wait_for("the gap changes", "const rows = [...document.querySelectorAll('#what-if-result tbody tr')]; return rows.length ? rows.map((row) => [...row.cells].map((cell) => ({ text: cell.innerText, instants: [...cell.querySelectorAll('time')].map((time) => time.getAttribute('datetime')) }))) : null;")
        .await;
    let eea_sev1 = changes
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row[0]["text"] == "EEA_ONLY, Sev 1")
        .expect("EEA_ONLY Sev 1 changes");
    // The window starts at midnight in Brussels today, which may fall inside the shift.
    let opened = [json_instant(shifts_start.max(midnight)), json_instant(shifts_end)];
    assert_eq!(eea_sev1[1]["instants"], serde_json::json!(opened), "{eea_sev1}");
    assert!(eea_sev1[1]["text"].as_str().unwrap().contains("eligible staff on time off"), "{eea_sev1}");
    assert_eq!(eea_sev1[2]["text"], "none", "{eea_sev1}");
    let touched = browser.text("#what-if-result").await;
    assert!(touched.contains("Agents the changes touch: ie-1."), "{touched}");
    browser.screenshot("what-if").await;

    // A link with the question in it shows the report at once.
    browser.go("/#coverage?plan=PLAN_EEA_ONLY&from=2027-03-01&to=2027-03-08&minStaff=2").await;
    let linked = browser.wait_for("the linked report", COVERAGE_RESULT).await;
    assert_eq!(linked[1]["lists"][0], "Gaps (5)", "Sev 2 is below a minimum of two all week: {}", linked[1]);
    let minimum = browser.client().execute("return document.getElementById('min-staff').value;", Vec::new()).await;
    assert_eq!(minimum.expect("the script runs"), "2", "the form shows the linked question");

    // Policy: the countries in force.
    browser.click("nav a[href='#policy']").await;
    let policy = browser.page("Policy").await;
    assert!(policy.contains("IE"), "{policy}");
    // For the keyboard: a page drawn takes the focus, so the next Tab reads on from its start.
    assert_eq!(focused(&browser).await.as_deref(), Some("main"));
    browser.screenshot("policy").await;

    // Audit: the admin sees the writes that built the roster.
    browser.click("nav a[href='#audit']").await;
    browser.page("Audit").await;
    let audit = browser
        .wait_for(
            "the audit table",
            "const table = document.querySelector('#audit-result table'); return table ? table.innerText : null;",
        )
        .await;
    assert!(audit.as_str().unwrap().contains("eeacoverage.v1.RosterService/UpsertShifts"), "{audit}");
    browser.screenshot("audit").await;

    // A ticket system's token opens no manager's page, and a wrong token is sent back to sign in.
    browser.click("#sign-out").await;
    assert_eq!(focused(&browser).await.as_deref(), Some("token"), "signing out puts the focus on the token field");
    let ticket_reader = ROLE_TOKENS.iter().find(|(role, _)| *role == "ticket-reader").expect("a ticket-reader token").1;
    browser.sign_in(ticket_reader).await;
    let refused = browser.page("Not allowed").await;
    assert!(refused.contains("Your role may not see this page"), "{refused}");
    browser.click("#sign-out").await;
    browser.sign_in("not-a-token").await;
    let message = browser
        .wait_for("the sign-in message", "const message = document.getElementById('sign-in-message'); return message && !document.getElementById('sign-in').hidden && message.innerText ? message.innerText : null;")
        .await;
    assert!(message.as_str().unwrap().contains("did not accept the token"), "{message}");
    browser.screenshot("sign-in-refused").await;
    browser.close().await;
}

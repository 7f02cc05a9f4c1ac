//! The managers' web console: its shell and assets as the HTTP listener serves them (built in,
//! hashed, cached, compressed, under a Content-Security-Policy without inline code), the JSON
//! calls its Now page makes, and the sign-in link `eea-coverage console` prints.

use std::io::Read;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use serde_json::{json, Value};

use crate::helpers::{
    agent, one_off, run_binary, seed_acme_with_ie_1, spawn_app, Backend, TestApp, ROLE_TOKENS, TEST_TOKEN,
};

/// The whole of the console's assets, compressed or not, stays under this.
const ASSET_BUDGET_BYTES: usize = 300 * 1024;

struct Fetched {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().expect("a text header"))
    }
}

async fn fetch(app: &TestApp, method: http::Method, path: &str, gzip: bool) -> Fetched {
    let address = app.http_address.expect("test servers serve HTTP");
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut request = http::Request::builder().method(method).uri(format!("http://{address}{path}"));
    if gzip {
        request = request.header(http::header::ACCEPT_ENCODING, "br;q=1.0, gzip;q=0.8");
    }
    let response = client.request(request.body(Empty::new()).unwrap()).await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("the whole body").to_bytes().to_vec();
    Fetched { status, headers, body }
}

/// The values of `attribute` on the `tag` elements of `html` (enough HTML for our own shell).
fn attributes<'a>(html: &'a str, tag: &str, attribute: &str) -> Vec<Option<&'a str>> {
    html.split(&format!("<{tag}"))
        .skip(1)
        .map(|element| {
            let element = &element[..element.find('>').expect("a closed tag")];
            let pattern = format!(" {attribute}=\"");
            element.find(&pattern).map(|start| {
                let value = &element[start + pattern.len()..];
                &value[..value.find('"').expect("a closed attribute")]
            })
        })
        .collect()
}

async fn the_shell_is_served_under_a_strict_policy_with_no_inline_code(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let shell = fetch(app, http::Method::GET, "/", false).await;
    assert_eq!(shell.status, 200);
    assert_eq!(shell.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(shell.header("cache-control"), Some("no-cache"));
    let policy = shell.header("content-security-policy").expect("a Content-Security-Policy");
    for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{policy}");
    assert_eq!(shell.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(shell.header("referrer-policy"), Some("no-referrer"));

    let html = String::from_utf8(shell.body).expect("UTF-8");
    let scripts = attributes(&html, "script", "src");
    assert!(!scripts.is_empty(), "{html}");
    assert!(scripts.iter().all(Option::is_some), "every script is a file: {html}");
    assert!(html.contains("<script type=\"module\" src=\"/console/console."), "{html}");
    assert!(!html.contains("<style") && !html.contains(" style=\""), "no inline style: {html}");
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing from elsewhere: {html}");
    // The sign-in form: a labelled password field.
    assert!(html.contains("<label for=\"token\">") && html.contains("id=\"token\" name=\"token\" type=\"password\""));

    // Other methods are refused, and a HEAD answers like a GET.
    assert_eq!(fetch(app, http::Method::POST, "/", false).await.status, 405);
    assert_eq!(fetch(app, http::Method::HEAD, "/", false).await.status, 200);
}

async fn the_assets_are_hashed_immutable_compressed_and_small(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let html = String::from_utf8(fetch(app, http::Method::GET, "/", false).await.body).unwrap();
    let mut paths: Vec<String> = attributes(&html, "script", "src").into_iter().flatten().map(str::to_owned).collect();
    paths.extend(attributes(&html, "link", "href").into_iter().flatten().map(str::to_owned));
    assert_eq!(paths.len(), 2, "{html}");
    let mut total = html.len();
    for path in &paths {
        let (content_type, extension) = if path.ends_with(".js") {
            ("text/javascript; charset=utf-8", "js")
        } else {
            ("text/css; charset=utf-8", "css")
        };
        // console.<16 hex digits>.<extension>
        let name = path.strip_prefix("/console/").expect("under /console/");
        let hash = name.strip_prefix("console.").and_then(|rest| rest.strip_suffix(&format!(".{extension}")));
        assert!(hash.is_some_and(|hash| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())), "{path}");

        let plain = fetch(app, http::Method::GET, path, false).await;
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(plain.header("content-type"), Some(content_type), "{path}");
        assert_eq!(plain.header("cache-control"), Some("public, max-age=31536000, immutable"), "{path}");
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        assert_eq!(plain.header("x-content-type-options"), Some("nosniff"), "{path}");
        total += plain.body.len();

        let compressed = fetch(app, http::Method::GET, path, true).await;
        assert_eq!(compressed.status, 200, "{path}");
        assert_eq!(compressed.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(compressed.header("vary"), Some("accept-encoding"), "{path}");
        assert!(compressed.body.len() < plain.body.len(), "{path}");
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&compressed.body[..]).read_to_end(&mut unzipped).expect("gzip");
        assert_eq!(unzipped, plain.body, "{path}");
    }
    assert!(total < ASSET_BUDGET_BYTES, "the console's files take {total} bytes");

    // A name with the wrong hash, or no file at all, is not found.
    for missing in ["/console/console.0000000000000000.js", "/console/", "/console/../Cargo.toml"] {
        assert_eq!(fetch(app, http::Method::GET, missing, false).await.status, 404, "{missing}");
    }
}

/// POSTs `request` to `/v1/<path>` with `token`, and returns the status and JSON body.
async fn call(app: &TestApp, path: &str, token: &str, request: Value) -> (u16, Value) {
    let address = app.http_address.expect("test servers serve HTTP");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<Bytes>>();
    let request = http::Request::post(format!("http://{address}/v1/{path}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(http_body_util::Full::new(Bytes::from(request.to_string())))
        .unwrap();
    let response = client.request(request).await.expect("the JSON API answers");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).expect("a JSON body"))
}

/// The Now page's calls, with a manager's token, and the fields its script reads from them.
async fn a_manager_gets_what_the_now_page_reads(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let manager = ROLE_TOKENS.iter().find(|(role, _)| *role == "manager").unwrap().1;

    // No roster yet: the page says what to do.
    let (status, roster) = call(app, "RosterService/ListAgents", manager, json!({ "pageSize": 1 })).await;
    assert_eq!(status, 200, "{roster}");
    assert!(roster["agents"].as_array().is_none_or(Vec::is_empty), "{roster}");

    seed_acme_with_ie_1(app, true).await;
    let (status, roster) = call(app, "RosterService/ListAgents", manager, json!({ "pageSize": 1 })).await;
    assert_eq!(status, 200, "{roster}");
    assert_eq!(roster["agents"].as_array().map(Vec::len), Some(1), "{roster}");

    let (at, window) = ("2026-12-07T10:00:00Z", ("2026-12-07T10:00:00Z", "2026-12-14T10:00:00Z"));
    let question =
        json!({ "plan": "PLAN_EEA_ONLY", "eeaTagged": false, "windowStart": window.0, "windowEnd": window.1 });
    let (status, report) = call(app, "CoverageService/GetCoverageReport", manager, question).await;
    assert_eq!(status, 200, "{report}");
    let first = &report["requirements"][0];
    assert_eq!(first["severity"], "SEVERITY_1", "{report}");
    assert_eq!(first["hours"], "24x7", "{report}");
    // ie-1 is on shift until 16:00 UTC that day; Sev 1 is required around the clock after that.
    let gap = &first["gaps"][0];
    assert_eq!(gap["startsAt"], "2026-12-07T16:00:00Z", "{report}");
    assert_eq!(gap["cause"], "GAP_CAUSE_NO_ONE_SCHEDULED", "{report}");

    // The Now page's one-minute report: whether now lies in each severity's service hours (an
    // int64 as a string), Sev 3 on EEA_ONLY in business hours on a Monday, not on a Saturday.
    for (start, end, expected) in
        [("2026-12-07T10:00:00Z", "2026-12-07T10:01:00Z", "60"), ("2026-12-12T10:00:00Z", "2026-12-12T10:01:00Z", "0")]
    {
        let question = json!({ "plan": "PLAN_EEA_ONLY", "eeaTagged": false, "windowStart": start, "windowEnd": end });
        let (status, minute) = call(app, "CoverageService/GetCoverageReport", manager, question).await;
        assert_eq!(status, 200, "{minute}");
        assert_eq!(minute["requirements"][2]["severity"], "SEVERITY_3", "{minute}");
        assert_eq!(minute["requirements"][2]["requiredSeconds"], expected, "{minute}");
        assert_eq!(minute["requirements"][0]["requiredSeconds"], "60", "{minute}");
    }

    let question = json!({ "plan": "PLAN_EEA_ONLY", "eeaTagged": false, "severity": "SEVERITY_1", "at": at });
    let (status, on_shift) = call(app, "CoverageService/ListOnShift", manager, question).await;
    assert_eq!(status, 200, "{on_shift}");
    assert_eq!(on_shift["agents"][0]["until"], "2026-12-07T16:00:00Z", "{on_shift}");

    // The Coverage page: the window and minimum headcount of the user's choosing, the heat map,
    // the gaps and the thin stretches.
    let question = json!({
        "plan": "PLAN_STANDARD", "eeaTagged": true, "windowStart": "2026-12-06T23:00:00Z",
        "windowEnd": "2026-12-13T23:00:00Z", "minStaff": 1,
    });
    let (status, report) = call(app, "CoverageService/GetCoverageReport", manager, question).await;
    assert_eq!(status, 200, "{report}");
    for field in ["plan", "eeaTagged", "windowStart", "windowEnd", "minStaff", "policyVersion", "tzDatabaseVersion"] {
        assert!(!report[field].is_null(), "{field}: {report}");
    }
    let first = &report["requirements"][0];
    assert!(first["coverageRatio"].as_f64().is_some_and(|ratio| ratio > 0.0 && ratio < 1.0), "{report}");
    let cells = first["hourOfWeek"].as_array().expect("the heat map");
    assert_eq!(cells.len(), 168);
    // Monday 7 December, 11:00-12:00 in Brussels: ie-1 is on shift (08:00-16:00 UTC).
    let monday_eleven = cells.iter().find(|cell| cell["weekday"] == 1 && cell["hour"] == 11).unwrap();
    assert_eq!((&monday_eleven["required"], &monday_eleven["minEligible"]), (&json!(true), &json!(1)), "{report}");
    let thin = &first["thin"][0];
    assert_eq!((&thin["startsAt"], &thin["endsAt"]), (&json!("2026-12-07T08:00:00Z"), &json!("2026-12-07T16:00:00Z")));

    // A role that may not read coverage is refused; the page says so.
    let reader = ROLE_TOKENS.iter().find(|(role, _)| *role == "ticket-reader").unwrap().1;
    let (status, _) = call(app, "CoverageService/ListOnShift", reader, json!({ "at": at })).await;
    assert_eq!(status, 403);
    let (status, _) = call(app, "CoverageService/ListOnShift", "not-a-token", json!({ "at": at })).await;
    assert_eq!(status, 401);
}

fn manager_token() -> &'static str {
    ROLE_TOKENS.iter().find(|(role, _)| *role == "manager").unwrap().1
}

/// The Working time page: the report over a Brussels-date window, every page of it, and the
/// fields its script reads (durations as proto3 JSON strings such as "39600s").
async fn a_manager_gets_what_the_working_time_page_reads(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let manager = manager_token();
    seed_acme_with_ie_1(app, true).await;
    // Four hours after the day shift ends, a late one: too little daily rest.
    app.put_shifts(vec![one_off("late", "ie-1", "2026-12-07T20:00:00Z", "2026-12-08T02:00:00Z")]).await;

    let mut agents = Vec::new();
    let mut page_token = String::new();
    let mut first = Value::Null;
    loop {
        let question = json!({
            "windowStart": "2026-12-06T23:00:00Z", "windowEnd": "2026-12-13T23:00:00Z",
            "pageSize": 1000, "pageToken": page_token,
        });
        let (status, report) = call(app, "CoverageService/GetWorkingTimeReport", manager, question).await;
        assert_eq!(status, 200, "{report}");
        agents.extend(report["agents"].as_array().cloned().unwrap_or_default());
        page_token = report["nextPageToken"].as_str().unwrap_or_default().to_owned();
        if first.is_null() {
            first = report;
        }
        if page_token.is_empty() {
            break;
        }
    }
    for field in ["windowStart", "windowEnd", "policyVersion", "tzDatabaseVersion"] {
        assert!(first[field].is_string(), "{field}: {first}");
    }
    assert_eq!(agents.len(), 1, "{first}");
    let agent = &agents[0];
    assert_eq!(agent["agentId"], "ie-1", "{agent}");
    assert_eq!(agent["timeZone"], "Europe/Dublin", "{agent}");
    assert_eq!(agent["worked"], "50400s", "{agent}");
    assert!(agent["nightWork"].as_str().is_some_and(|text| text.ends_with('s')), "{agent}");
    assert!(agent["workingDays"].as_i64().is_some_and(|days| days >= 1), "{agent}");
    assert!(agent["nightWorker"].is_boolean() || agent["nightWorker"].is_null(), "{agent}");
    let breach = &agent["breaches"][0];
    assert_eq!(breach["rule"], "WORKING_TIME_RULE_DAILY_REST", "{agent}");
    assert_eq!(breach["limit"], "39600s", "{agent}");
    assert!(breach["measured"].as_str().is_some_and(|text| text.ends_with('s')), "{agent}");
    assert!(breach["windowStart"].is_string() && breach["windowEnd"].is_string(), "{agent}");
    assert_eq!(breach["shiftIds"], json!(["day", "late"]), "{agent}");

    // One agent by ID.
    let question = json!({
        "windowStart": "2026-12-06T23:00:00Z", "windowEnd": "2026-12-13T23:00:00Z",
        "agentIds": ["ie-1"], "pageSize": 1000, "pageToken": "",
    });
    let (status, report) = call(app, "CoverageService/GetWorkingTimeReport", manager, question).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["agents"][0]["agentId"], "ie-1", "{report}");
}

/// The Policy page: GetPolicy with no question, and the fields its script reads.
async fn a_manager_gets_what_the_policy_page_reads(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let (status, policy) = call(app, "PolicyService/GetPolicy", manager_token(), json!({})).await;
    assert_eq!(status, 200, "{policy}");
    assert!(policy["policyVersion"].is_string() && policy["tzDatabaseVersion"].is_string(), "{policy}");
    let plans = policy["plans"].as_array().expect("plans");
    assert!(plans.iter().any(|plan| plan["plan"] == "PLAN_EEA_ONLY"), "{policy}");
    let hours = &plans[0]["serviceHours"];
    assert!(hours[0]["severity"].as_str().is_some_and(|text| text.starts_with("SEVERITY_")), "{policy}");
    let business = hours.as_array().unwrap().iter().chain(plans.last().unwrap()["serviceHours"].as_array().unwrap());
    for entry in business.filter(|entry| entry["hours"] == "business") {
        for field in ["opensLocal", "closesLocal", "timeZone"] {
            assert!(entry[field].is_string(), "{field}: {entry}");
        }
    }
    let countries = policy["countries"].as_array().expect("countries");
    let in_force: Vec<_> = countries.iter().filter(|country| country["inForce"] == true).collect();
    assert!(!in_force.is_empty(), "{policy}");
    for country in in_force {
        assert!(country["name"].is_string() && country["country"].is_string(), "{country}");
        assert!(country["basis"].as_str().is_some_and(|text| text.starts_with("TRANSFER_BASIS_")), "{country}");
    }
    let limits = policy["workingTime"].as_array().expect("working-time limits");
    let defaults = &limits[0];
    assert!(defaults["country"].is_null() || defaults["country"] == "", "the defaults come first: {defaults}");
    assert_eq!(defaults["dailyRest"], "39600s", "{defaults}");
    for field in ["weeklyRest", "maxAverageWeeklyWork", "nightStarts", "nightEnds", "nightWorkerMinNightWork"] {
        assert!(defaults[field].is_string(), "{field}: {defaults}");
    }
    assert!(defaults["referenceWeeks"].as_i64().is_some_and(|weeks| weeks > 0), "{defaults}");
}

/// The Audit page: the trail from a date on, with the caller and RPC filters, for an admin; a
/// manager is refused (403) and the page says so.
async fn an_admin_gets_what_the_audit_page_reads_and_a_manager_is_refused(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed_acme_with_ie_1(app, true).await;
    let since = "2020-01-01T00:00:00Z";
    let (status, trail) = call(
        app,
        "PolicyService/ListAuditEvents",
        TEST_TOKEN,
        json!({ "since": since, "pageSize": 200, "pageToken": "" }),
    )
    .await;
    assert_eq!(status, 200, "{trail}");
    let events = trail["events"].as_array().expect("events");
    assert!(events.len() >= 3, "{trail}");
    let shifts = events
        .iter()
        .find(|event| event["rpc"] == "eeacoverage.v1.RosterService/UpsertShifts")
        .unwrap_or_else(|| panic!("{trail}"));
    for field in ["recordedAt", "caller", "rpc", "summary", "requestId"] {
        assert!(shifts[field].is_string(), "{field}: {shifts}");
    }
    assert!(
        shifts["affected"][0]["kind"].as_str().is_some_and(|kind| kind.starts_with("AUDIT_ENTITY_KIND_")),
        "{shifts}"
    );
    assert_eq!(shifts["affected"][0]["id"], "day", "{shifts}");
    assert!(shifts["affectedCount"].is_string(), "an int64 as a string: {shifts}");

    // The filters: caller and RPC exactly as recorded.
    let caller = shifts["caller"].as_str().unwrap();
    let question = json!({
        "since": since, "caller": caller, "rpc": "eeacoverage.v1.RosterService/UpsertShifts", "pageSize": 200, "pageToken": "",
    });
    let (status, filtered) = call(app, "PolicyService/ListAuditEvents", TEST_TOKEN, question).await;
    assert_eq!(status, 200, "{filtered}");
    assert_eq!(filtered["events"].as_array().map(Vec::len), Some(1), "{filtered}");
    let question = json!({ "since": since, "caller": "token:nobody", "pageSize": 200, "pageToken": "" });
    let (status, none) = call(app, "PolicyService/ListAuditEvents", TEST_TOKEN, question).await;
    assert_eq!(status, 200, "{none}");
    assert!(none["events"].as_array().is_none_or(Vec::is_empty), "{none}");

    let question = json!({ "since": since, "pageSize": 200, "pageToken": "" });
    let (status, refused) = call(app, "PolicyService/ListAuditEvents", manager_token(), question).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["message"].is_string(), "the page shows the reason: {refused}");
}

/// The Roster page: every agent (with display names, which a manager may read, and location
/// changes), then one agent's shifts and time off over a window, asked by ID in the body.
async fn a_manager_gets_what_the_roster_page_reads(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let manager = manager_token();
    seed_acme_with_ie_1(app, true).await;
    let moving = json!({ "agents": [{
        "agentId": "pt-1", "displayName": "Inês", "country": "PT", "timeZone": "Europe/Lisbon",
        "severities": ["SEVERITY_1", "SEVERITY_2"],
        "locationChanges": [{ "effectiveAt": "2026-12-10T00:00:00Z", "country": "ES" }],
    }] });
    let (status, answer) = call(app, "RosterService/UpsertAgents", TEST_TOKEN, moving).await;
    assert_eq!(status, 200, "{answer}");
    let away = json!({ "timeOff": [{
        "timeOffId": "leave", "agentId": "ie-1", "startsAt": "2026-12-08T00:00:00Z", "endsAt": "2026-12-09T00:00:00Z",
    }] });
    let (status, answer) = call(app, "RosterService/UpsertTimeOff", TEST_TOKEN, away).await;
    assert_eq!(status, 200, "{answer}");

    let (status, roster) =
        call(app, "RosterService/ListAgents", manager, json!({ "pageSize": 1000, "pageToken": "" })).await;
    assert_eq!(status, 200, "{roster}");
    assert!(roster["nextPageToken"].as_str().is_none_or(str::is_empty), "{roster}");
    let agents = roster["agents"].as_array().expect("agents");
    assert_eq!(agents.len(), 2, "{roster}");
    let pt = agents.iter().find(|agent| agent["agentId"] == "pt-1").unwrap();
    assert_eq!(pt["displayName"], "Inês", "{pt}");
    assert_eq!((&pt["country"], &pt["timeZone"]), (&json!("PT"), &json!("Europe/Lisbon")), "{pt}");
    assert_eq!(pt["severities"], json!(["SEVERITY_1", "SEVERITY_2"]), "{pt}");
    assert_eq!(pt["locationChanges"][0], json!({ "effectiveAt": "2026-12-10T00:00:00Z", "country": "ES" }), "{pt}");

    let window = json!({ "startAt": "2026-12-07T00:00:00Z", "endAt": "2026-12-14T00:00:00Z" });
    let question = json!({ "agentId": "ie-1", "window": window, "pageSize": 1000, "pageToken": "" });
    let (status, shifts) = call(app, "RosterService/ListShifts", manager, question.clone()).await;
    assert_eq!(status, 200, "{shifts}");
    let shift = &shifts["shifts"][0];
    assert_eq!(shift["shiftId"], "day", "{shifts}");
    assert_eq!(shift["oneOff"]["startsAt"], "2026-12-07T08:00:00Z", "{shifts}");
    assert_eq!(shift["oneOff"]["endsAt"], "2026-12-07T16:00:00Z", "{shifts}");
    let (status, time_off) = call(app, "RosterService/ListTimeOff", manager, question).await;
    assert_eq!(status, 200, "{time_off}");
    let entry = &time_off["timeOff"][0];
    assert_eq!(entry["timeOffId"], "leave", "{time_off}");
    assert_eq!(
        (&entry["startsAt"], &entry["endsAt"]),
        (&json!("2026-12-08T00:00:00Z"), &json!("2026-12-09T00:00:00Z"))
    );

    // Another agent's week, and a week with nothing in it.
    let later = json!({ "startAt": "2027-01-04T00:00:00Z", "endAt": "2027-01-11T00:00:00Z" });
    let question = json!({ "agentId": "ie-1", "window": later, "pageSize": 1000, "pageToken": "" });
    let (status, none) = call(app, "RosterService/ListShifts", manager, question).await;
    assert_eq!(status, 200, "{none}");
    assert!(none["shifts"].as_array().is_none_or(Vec::is_empty), "{none}");
}

/// The What-if page: one absence and one relocation simulated over a Brussels-date window, the
/// gaps each requirement opens and closes, and the working-time warnings.
async fn a_manager_gets_what_the_what_if_page_reads(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let manager = manager_token();
    seed_acme_with_ie_1(app, true).await;
    let window = ("2026-12-06T23:00:00Z", "2026-12-13T23:00:00Z");
    let absence = json!({ "absence": {
        "agentId": "ie-1", "interval": { "startAt": "2026-12-06T23:00:00Z", "endAt": "2026-12-07T23:00:00Z" },
    } });
    let relocation =
        json!({ "relocation": { "agentId": "ie-1", "effectiveAt": "2026-12-06T23:00:00Z", "country": "US" } });
    for changes in [json!([absence]), json!([relocation]), json!([absence, relocation])] {
        let question = json!({
            "plan": "PLAN_EEA_ONLY", "eeaTagged": false, "windowStart": window.0, "windowEnd": window.1,
            "minStaff": 1, "changes": changes,
        });
        let (status, answer) = call(app, "CoverageService/SimulateCoverage", manager, question).await;
        assert_eq!(status, 200, "{answer}");
        let changed = answer["gapChanges"].as_array().expect("gap changes");
        let first = changed.iter().find(|change| change["severity"] == "SEVERITY_1").expect("Sev 1 changes");
        assert_eq!(first["plan"], "PLAN_EEA_ONLY", "{answer}");
        let opened = first["opened"].as_array().expect("a gap opens where ie-1 worked");
        assert!(!opened.is_empty(), "{answer}");
        for field in ["startsAt", "endsAt", "cause"] {
            assert!(opened[0][field].is_string(), "{field}: {answer}");
        }
        assert!(first["closed"].as_array().is_none_or(|closed| closed.iter().all(|gap| gap["startsAt"].is_string())));
        assert!(answer["workingTimeWarnings"].as_array().is_none_or(|warnings| warnings
            .iter()
            .all(|warning| warning["agentId"].is_string() && warning["breach"]["rule"].is_string())));
        assert_eq!(answer["touchedAgentIds"], json!(["ie-1"]), "{answer}");
    }

    // An unknown agent is the server's reason, shown under the form.
    let question = json!({
        "plan": "PLAN_EEA_ONLY", "windowStart": window.0, "windowEnd": window.1, "minStaff": 1,
        "changes": [{ "absence": { "agentId": "nobody", "interval": { "startAt": window.0, "endAt": window.1 } } }],
    });
    let (status, refused) = call(app, "CoverageService/SimulateCoverage", manager, question).await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"].as_str().is_some_and(|message| message.contains("changes[0].absence.agent_id")),
        "{refused}"
    );
}

const SHIFTS_CSV: &str = include_str!("../../docs/examples/shifts.csv");
const OUTLOOK_ICS: &str = include_str!("../../docs/examples/outlook.ics");

/// The What-if page's question for a shift file over the Brussels week of 7 December 2026, as its
/// script builds it: the file's bytes in base64 (what `FileReader.readAsDataURL` gives), and the
/// agent ID and time zone for an iCalendar file only.
fn shift_file_question(source: &str, format: &str, content: &str, ical_options: Option<(&str, &str)>) -> Value {
    use base64::Engine as _;
    let mut sync_file = json!({
        "source": source, "format": format,
        "content": base64::engine::general_purpose::STANDARD.encode(content),
    });
    if let Some((agent_id, time_zone)) = ical_options {
        sync_file["agentId"] = json!(agent_id);
        sync_file["timeZone"] = json!(time_zone);
    }
    json!({
        "plan": "PLAN_EEA_ONLY", "eeaTagged": false, "windowStart": "2026-12-06T23:00:00Z",
        "windowEnd": "2026-12-13T23:00:00Z", "minStaff": 1, "syncFile": sync_file,
    })
}

/// The counts `{created, updated, deleted, unchanged}` of one kind in a `syncFile` outcome.
fn counts(outcome: &Value, kind: &str) -> [i64; 4] {
    ["created", "updated", "deleted", "unchanged"]
        .map(|count| outcome[kind][count].as_i64().unwrap_or_else(|| panic!("{kind}.{count} is a number: {outcome}")))
}

/// The rows of a shift CSV of each kind: (shifts, time off).
fn rows_of_each_kind(csv: &str) -> (i64, i64) {
    let kind_count = |kind: &str| csv.lines().filter(|line| line.starts_with(&format!("{kind},"))).count() as i64;
    (kind_count("shift"), kind_count("time_off"))
}

/// The What-if page with a shift file: the sync's counts (what SyncShifts's dry run would
/// change), the entries left out, and the gaps it closes; before and after the file is synced
/// for real, and edited; then an iCalendar file with an agent ID and time zone.
async fn a_manager_simulates_a_shift_file_as_the_what_if_page_sends_it(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let manager = manager_token();
    app.put_agents(vec![
        agent("ie-0042", "IE", "Europe/Dublin"),
        agent("de-0007", "DE", "Europe/Berlin"),
        agent("pl-0100", "PL", "Europe/Warsaw"),
        agent("anna", "AT", "Europe/Vienna"),
    ])
    .await;
    let (n_shifts, n_time_off) = rows_of_each_kind(SHIFTS_CSV);
    assert!(n_shifts > 1 && n_time_off > 0, "{SHIFTS_CSV}");

    // Nothing stored yet: every entry of the file would be created, and gaps closed.
    let question = shift_file_question("wfm", "SYNC_FILE_FORMAT_CSV", SHIFTS_CSV, None);
    let (status, answer) = call(app, "CoverageService/SimulateCoverage", manager, question).await;
    assert_eq!(status, 200, "{answer}");
    let outcome = &answer["syncFile"];
    assert_eq!(counts(outcome, "shifts"), [n_shifts, 0, 0, 0], "{outcome}");
    assert_eq!(counts(outcome, "timeOff"), [n_time_off, 0, 0, 0], "{outcome}");
    assert_eq!(counts(outcome, "agents"), [0, 0, 0, 0], "{outcome}");
    assert_eq!(outcome["outsideWindow"], 0, "{outcome}");
    assert_eq!(answer["touchedAgentIds"], json!(["de-0007", "ie-0042", "pl-0100"]), "{answer}");
    let first = answer["gapChanges"].as_array().and_then(|changes| changes.first()).expect("gap changes");
    assert_eq!(first["severity"], "SEVERITY_1", "{answer}");
    assert!(first["closed"].as_array().is_some_and(|closed| !closed.is_empty()), "the file closes gaps: {answer}");
    assert!(first["opened"].as_array().is_none_or(Vec::is_empty), "{answer}");
    assert!(app.shift_ids().await.is_empty(), "a simulation writes nothing");

    // Synced for real, the same file would change nothing; edited, it would delete the shift it
    // drops and update the time off it moves.
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("shifts.csv");
    std::fs::write(&path, SHIFTS_CSV).unwrap();
    let path_text = path.display().to_string();
    let imported =
        run_binary(app, &["import", "--source", "wfm", "--from", "2026-12-07", "--to", "2026-12-14", &path_text]);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let question = shift_file_question("wfm", "SYNC_FILE_FORMAT_CSV", SHIFTS_CSV, None);
    let (status, answer) = call(app, "CoverageService/SimulateCoverage", manager, question).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(counts(&answer["syncFile"], "shifts"), [0, 0, 0, n_shifts], "{answer}");
    assert_eq!(counts(&answer["syncFile"], "timeOff"), [0, 0, 0, n_time_off], "{answer}");
    assert!(answer["touchedAgentIds"].as_array().is_none_or(Vec::is_empty), "{answer}");

    let dropped = SHIFTS_CSV.lines().find(|line| line.starts_with("shift,pl-0100-saturday,")).expect("the row");
    let moved = SHIFTS_CSV.lines().find(|line| line.starts_with("time_off,")).expect("a time-off row");
    let edited =
        SHIFTS_CSV.replace(&format!("{dropped}\n"), "").replace(moved, &moved.replace("T12:00:00Z", "T13:00:00Z"));
    assert_ne!(rows_of_each_kind(&edited), (n_shifts, n_time_off), "{edited}");
    let question = shift_file_question("wfm", "SYNC_FILE_FORMAT_CSV", &edited, None);
    let (status, answer) = call(app, "CoverageService/SimulateCoverage", manager, question).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(counts(&answer["syncFile"], "shifts"), [0, 0, 1, n_shifts - 1], "{answer}");
    assert_eq!(counts(&answer["syncFile"], "timeOff"), [0, 1, 0, n_time_off - 1], "{answer}");

    // An Outlook export for one agent: its series and the occurrence moved out of it are
    // shifts; its vacation starts on 14 December, Vienna, the window's end: left out.
    let question =
        shift_file_question("outlook", "SYNC_FILE_FORMAT_ICALENDAR", OUTLOOK_ICS, Some(("anna", "Europe/Vienna")));
    let (status, answer) = call(app, "CoverageService/SimulateCoverage", manager, question).await;
    assert_eq!(status, 200, "{answer}");
    let outcome = &answer["syncFile"];
    assert_eq!(counts(outcome, "shifts"), [2, 0, 0, 0], "{outcome}");
    assert_eq!(counts(outcome, "timeOff"), [0, 0, 0, 0], "{outcome}");
    assert_eq!(outcome["outsideWindow"], 1, "{outcome}");
    assert_eq!(answer["touchedAgentIds"], json!(["anna"]), "{answer}");

    // A file with many bad lines: the message names the first, the details every one, which the
    // page lists under it.
    let header = SHIFTS_CSV.lines().next().expect("a header");
    let bad_lines: Vec<String> =
        (0..8).map(|index| format!("shift,bad-{index},ie-0042,tomorrow,2026-12-08T10:00:00Z,,,,,,,")).collect();
    let bad_file = format!("{header}\n{}\n", bad_lines.join("\n"));
    let question = shift_file_question("wfm", "SYNC_FILE_FORMAT_CSV", &bad_file, None);
    let (status, refused) = call(app, "CoverageService/SimulateCoverage", manager, question).await;
    assert_eq!(status, 400, "{refused}");
    let details = &refused["details"][0];
    assert_eq!(details["@type"], "type.googleapis.com/google.rpc.BadRequest", "{refused}");
    let violations = details["fieldViolations"].as_array().expect("field violations");
    assert_eq!(violations.len(), bad_lines.len(), "{refused}");
    for (index, violation) in violations.iter().enumerate() {
        assert_eq!(violation["field"], "sync_file.content", "{violation}");
        let line = format!("line {}", index + 2);
        assert!(violation["description"].as_str().is_some_and(|text| text.starts_with(&line)), "{violation}");
    }

    // A file without a source is the server's reason, naming the field, shown under the form.
    let question = shift_file_question("", "SYNC_FILE_FORMAT_CSV", SHIFTS_CSV, None);
    let (status, refused) = call(app, "CoverageService/SimulateCoverage", manager, question).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["message"].as_str().is_some_and(|message| message.contains("sync_file.source")), "{refused}");
}

/// `eea-coverage console` prints a link that carries the token in its fragment only.
#[test]
fn the_console_command_prints_a_sign_in_link_with_the_token_in_the_fragment() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
        .args(["console", "--url", "http://127.0.0.1:8080", "--token", TEST_TOKEN])
        .env_remove("EEA_COVERAGE_TOKEN")
        .output()
        .expect("running eea-coverage");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}{}", String::from_utf8_lossy(&output.stderr));
    let link = printed.lines().find(|line| line.starts_with("http://")).expect("a link");
    let (before, fragment) = link.split_once('#').expect("a fragment");
    assert_eq!(before, "http://127.0.0.1:8080/");
    assert!(!before.contains(TEST_TOKEN));
    assert_eq!(fragment, format!("token={TEST_TOKEN}"));

    // From the environment too, and refused without any token.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
        .args(["console", "--token-file", "/nonexistent/token"])
        .env("EEA_COVERAGE_TOKEN", "from-the-environment")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("http://127.0.0.1:8080/#token=from-the-environment"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
        .args(["console", "--token-file", "/nonexistent/token"])
        .env_remove("EEA_COVERAGE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no token"));
}

crate::on_both_backends!(
    the_shell_is_served_under_a_strict_policy_with_no_inline_code,
    the_assets_are_hashed_immutable_compressed_and_small,
    a_manager_gets_what_the_now_page_reads,
    a_manager_gets_what_the_working_time_page_reads,
    a_manager_gets_what_the_policy_page_reads,
    an_admin_gets_what_the_audit_page_reads_and_a_manager_is_refused,
    a_manager_gets_what_the_roster_page_reads,
    a_manager_gets_what_the_what_if_page_reads,
    a_manager_simulates_a_shift_file_as_the_what_if_page_sends_it,
);

//! The JSON API: every unary method over HTTP at `POST /v1/<Service>/<Method>`, answered by the
//! gRPC service stack, with the proto3 JSON mapping, the same tokens and roles, the audit trail
//! and request IDs, and errors as `google.rpc.Status` bodies with the matching HTTP status.

use bytes::Bytes;
use eea_coverage::formats::report::{render, ReportFormat};
use eea_coverage::pb;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

use crate::helpers::{
    agent, run_binary, seed_acme_with_ie_1, spawn_app, timestamp, Backend, TestApp, ROLE_TOKENS, TEST_TOKEN,
};

/// An HTTP answer: its status, its request ID header, and its body as JSON.
struct Answer {
    status: u16,
    request_id: Option<String>,
    allow: Option<String>,
    body: Value,
}

/// Sends `body` with `method` to `path` on the test server's JSON API, with `token` as the
/// bearer token and `request_id` as `x-request-id` when set.
async fn send(
    app: &TestApp,
    method: http::Method,
    path: &str,
    token: Option<&str>,
    request_id: Option<&str>,
    body: &str,
) -> Answer {
    let address = app.http_address.expect("test servers serve the JSON API");
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{address}{path}"))
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(request_id) = request_id {
        request = request.header("x-request-id", request_id);
    }
    let request = request.body(Full::new(Bytes::from(body.to_owned()))).expect("a valid request");
    let response = client.request(request).await.expect("the JSON API answers");
    let header = |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    let (request_id, allow) = (header("x-request-id"), header("allow"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.expect("the whole body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("a JSON body ({error}): {bytes:?}"));
    Answer { status, request_id, allow, body }
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> Answer {
    send(app, http::Method::POST, path, token, None, &body.to_string()).await
}

fn token_of(role: &str) -> &'static str {
    ROLE_TOKENS.iter().find(|(name, _)| *name == role).expect("a test token for the role").1
}

/// Checks that `answer` is a `google.rpc.Status` body with `code` and HTTP status `http_status`,
/// and returns its message.
fn refused(answer: &Answer, http_status: u16, code: tonic::Code) -> String {
    assert_eq!(answer.status, http_status, "{}", answer.body);
    assert_eq!(answer.body["code"], code as i32, "{}", answer.body);
    assert!(answer.body["details"].is_array(), "{}", answer.body);
    answer.body["message"].as_str().expect("a message").to_owned()
}

/// An HTTP answer whatever its content type: status, headers and the bytes of the body.
struct Download {
    status: u16,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Download {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().expect("a text header"))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| panic!("a JSON body ({error}): {:?}", self.body))
    }
}

/// POSTs `body` to `path` with `token`, `accept` as the Accept header (none when `None`) and
/// `request_id` as `x-request-id`.
async fn post_accepting(
    app: &TestApp,
    path: &str,
    token: &str,
    accept: Option<&str>,
    request_id: &str,
    body: &Value,
) -> Download {
    let address = app.http_address.expect("test servers serve the JSON API");
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = http::Request::post(format!("http://{address}{path}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header("x-request-id", request_id);
    if let Some(accept) = accept {
        request = request.header(http::header::ACCEPT, accept);
    }
    let request = request.body(Full::new(Bytes::from(body.to_string()))).expect("a valid request");
    let response = client.request(request).await.expect("the JSON API answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("the whole body").to_bytes();
    Download { status, headers, body }
}

const REPORT_PATH: &str = "/v1/CoverageService/GetCoverageReport";

/// A coverage report asked with `Accept: text/csv`, `image/svg+xml` or the report command's JSON
/// type is, byte for byte, what `eea-coverage report --format ...` writes for the same question,
/// and what `formats::report` renders from the gRPC answer; as an attachment, with a request ID.
async fn a_coverage_report_downloads_as_the_report_command_writes_it(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed_acme_with_ie_1(app, true).await;
    // The Brussels week of Monday 7 December 2026, as the console and `report --from` ask it.
    let (from, to) = ("2026-12-07", "2026-12-14");
    let window = ("2026-12-06T23:00:00Z", "2026-12-13T23:00:00Z");
    let question = json!({
        "plan": "PLAN_EEA_ONLY", "eeaTagged": false, "windowStart": window.0, "windowEnd": window.1, "minStaff": 1,
    });
    let over_grpc = app
        .coverage()
        .get_coverage_report(pb::GetCoverageReportRequest {
            plan: pb::Plan::EeaOnly as i32,
            eea_tagged: false,
            window_start: Some(timestamp(window.0)),
            window_end: Some(timestamp(window.1)),
            min_staff: 1,
            as_known_at: None,
        })
        .await
        .expect("the report over gRPC")
        .into_inner();
    assert!(!over_grpc.requirements.is_empty() && !over_grpc.requirements[0].gaps.is_empty(), "{over_grpc:?}");

    for (accept, format, content_type, extension) in [
        ("text/csv", ReportFormat::Csv, "text/csv; charset=utf-8", "csv"),
        ("image/svg+xml", ReportFormat::Svg, "image/svg+xml", "svg"),
        (
            "application/vnd.eea-coverage.report+json",
            ReportFormat::Json,
            "application/vnd.eea-coverage.report+json",
            "json",
        ),
    ] {
        let request_id = format!("download-{extension}");
        let download =
            post_accepting(app, REPORT_PATH, token_of("manager"), Some(accept), &request_id, &question).await;
        assert_eq!(download.status, 200, "{accept}: {:?}", download.body);
        assert_eq!(download.header("content-type"), Some(content_type), "{accept}");
        let expected_disposition = format!("attachment; filename=\"coverage-eea-only-{from}-{to}.{extension}\"");
        assert_eq!(download.header("content-disposition"), Some(expected_disposition.as_str()), "{accept}");
        assert_eq!(download.header("x-request-id"), Some(request_id.as_str()), "{accept}");
        assert_eq!(download.header("vary"), Some("accept"), "{accept}");
        assert_eq!(download.header("x-content-type-options"), Some("nosniff"), "{accept}");

        let rendered = render(&over_grpc, format);
        assert_eq!(std::str::from_utf8(&download.body).expect("UTF-8"), rendered, "{accept}");
        // The same question: the command asks about EEA-tagged tickets unless told otherwise.
        let arguments = [
            "report",
            "--plan",
            "eea-only",
            "--eea-tagged",
            "false",
            "--from",
            from,
            "--to",
            to,
            "--format",
            extension,
        ];
        let command = run_binary(app, &arguments);
        assert!(command.status.success(), "{}", String::from_utf8_lossy(&command.stderr));
        assert_eq!(download.body.as_ref(), command.stdout.as_slice(), "{accept}: the report command's bytes");
    }

    // No Accept, */*, application/json, or a preference for JSON: the proto3 JSON answer as before.
    let proto_json: Value = serde_json::from_slice(&pb::to_json(&over_grpc, "CoverageReport")).unwrap();
    for accept in [None, Some("*/*"), Some("application/json"), Some("text/csv;q=0.5, application/json")] {
        let answer = post_accepting(app, REPORT_PATH, token_of("manager"), accept, "as-json", &question).await;
        assert_eq!(answer.status, 200, "{accept:?}: {:?}", answer.body);
        assert_eq!(answer.header("content-type"), Some("application/json"), "{accept:?}");
        assert_eq!(answer.header("content-disposition"), None, "{accept:?}");
        assert_eq!(answer.json(), proto_json, "{accept:?}");
    }
}

/// The downloads are the JSON call's in everything but the rendering: no token is 401, a role
/// that may not read reports is 403, a bad question is 400, each a google.rpc.Status in JSON; an
/// Accept that names nothing the method answers in is 406; other methods ignore Accept.
async fn a_coverage_download_is_refused_as_the_json_call_is(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed_acme_with_ie_1(app, true).await;
    let question = json!({
        "plan": "PLAN_EEA_ONLY", "windowStart": "2026-12-06T23:00:00Z", "windowEnd": "2026-12-13T23:00:00Z",
    });
    let status_of = |download: &Download, http_status: u16, code: tonic::Code| -> String {
        assert_eq!(download.status, http_status, "{:?}", download.body);
        assert_eq!(download.header("content-type"), Some("application/json"));
        assert_eq!(download.header("content-disposition"), None);
        let body = download.json();
        assert_eq!(body["code"], code as i32, "{body}");
        body["message"].as_str().expect("a message").to_owned()
    };

    for role in ["ticket-reader", "roster-writer"] {
        let refused = post_accepting(app, REPORT_PATH, token_of(role), Some("text/csv"), "csv-403", &question).await;
        let message = status_of(&refused, 403, tonic::Code::PermissionDenied);
        assert!(message.contains(role) && message.contains("GetCoverageReport"), "{message}");
        assert_eq!(refused.header("x-request-id"), Some("csv-403"));
    }
    let refused = post_accepting(app, REPORT_PATH, "not-a-token", Some("image/svg+xml"), "svg-401", &question).await;
    status_of(&refused, 401, tonic::Code::Unauthenticated);
    let too_long = json!({
        "plan": "PLAN_EEA_ONLY", "windowStart": "2026-01-01T00:00:00Z", "windowEnd": "2028-01-01T00:00:00Z",
    });
    let refused = post_accepting(app, REPORT_PATH, token_of("manager"), Some("text/csv"), "csv-400", &too_long).await;
    status_of(&refused, 400, tonic::Code::InvalidArgument);

    for accept in ["text/html", "application/xml, text/plain;q=0.5", "text/csv;q=0"] {
        let refused =
            post_accepting(app, REPORT_PATH, token_of("manager"), Some(accept), "not-acceptable", &question).await;
        let message = status_of(&refused, 406, tonic::Code::InvalidArgument);
        for offered in ["application/json", "text/csv", "image/svg+xml", "application/vnd.eea-coverage.report+json"] {
            assert!(message.contains(offered), "{accept}: {message}");
        }
        assert_eq!(refused.header("vary"), Some("accept"), "{accept}");
    }

    // Another method answers proto3 JSON whatever Accept asks for, as it always has.
    let decide = json!({ "orgId": "acme", "severity": "SEVERITY_3", "at": "2026-12-07T10:00:00Z" });
    for accept in ["text/csv", "text/html"] {
        let path = "/v1/TicketService/DecideTicket";
        let answer = post_accepting(app, path, token_of("ticket-reader"), Some(accept), "decide", &decide).await;
        assert_eq!(answer.status, 200, "{accept}: {:?}", answer.body);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(answer.json()["handleNow"], true, "{accept}");
    }
}

async fn decide_ticket_over_json_answers_what_grpc_answers(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    seed_acme_with_ie_1(app, true).await;
    for at in ["2026-12-07T10:00:00Z", "2026-12-07T17:30:00Z", "2026-12-05T12:00:00Z"] {
        let over_grpc = app.decide("acme", pb::Severity::Severity3, at).await;
        let question = json!({ "orgId": "acme", "severity": "SEVERITY_3", "ticketId": "T-1", "at": at });
        let over_json = post(app, "/v1/TicketService/DecideTicket", Some(token_of("ticket-reader")), question).await;
        assert_eq!(over_json.status, 200, "{}", over_json.body);
        let expected: Value = serde_json::from_slice(&pb::to_json(&over_grpc, "DecideTicketResponse")).unwrap();
        assert_eq!(over_json.body, expected, "at {at}");
        assert!(over_json.request_id.is_some(), "a request ID is echoed");
    }
    // The mapping itself: enums by name, instants in RFC 3339, the proto field names read too.
    let question = json!({ "org_id": "acme", "severity": 3, "ticket_id": "T-1", "at": "2026-12-07T11:30:00+01:00" });
    let answer = post(app, "/v1/TicketService/DecideTicket", Some(TEST_TOKEN), question).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["plan"], "PLAN_EEA_ONLY");
    assert_eq!(answer.body["handleNow"], true);
    assert_eq!(answer.body["windowClosesAt"], "2026-12-07T17:00:00Z");
}

async fn a_write_over_json_is_audited_with_its_caller_and_request_id(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let mut new_agent =
        serde_json::from_slice::<Value>(&pb::to_json(&agent("ie-7", "IE", "Europe/Dublin"), "Agent")).unwrap();
    new_agent["severities"] = json!(["SEVERITY_1"]);
    let body = json!({ "agents": [new_agent] }).to_string();
    let written = send(
        app,
        http::Method::POST,
        "/v1/RosterService/UpsertAgents",
        Some(token_of("roster-writer")),
        Some("json-put-1"),
        &body,
    )
    .await;
    assert_eq!(written.status, 200, "{}", written.body);
    assert_eq!(written.request_id.as_deref(), Some("json-put-1"));

    let stored = app.roster.clone().get_agent(pb::GetAgentRequest { agent_id: "ie-7".into() }).await.unwrap();
    assert_eq!(stored.into_inner().severities, [pb::Severity::Severity1 as i32]);

    let listed = post(app, "/v1/PolicyService/ListAuditEvents", Some(TEST_TOKEN), json!({})).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let events = listed.body["events"].as_array().expect("a list of events");
    let event = events.iter().find(|event| event["requestId"] == "json-put-1").expect("the write is audited");
    assert_eq!(event["caller"], "token:test-roster-writer");
    assert_eq!(event["rpc"], "eeacoverage.v1.RosterService/UpsertAgents");
    assert_eq!(event["affected"][0]["id"], "ie-7");
    for int64_field in ["sequence", "affectedCount"] {
        let value = event[int64_field].as_str().unwrap_or_else(|| panic!("{int64_field} is a string: {event}"));
        assert!(value.parse::<i64>().is_ok_and(|number| number >= 1), "{int64_field}: {value}");
    }
}

async fn refusals_are_statuses_with_the_matching_http_status(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let decide = "/v1/TicketService/DecideTicket";
    let question = json!({ "orgId": "acme", "severity": "SEVERITY_1", "at": "2026-12-07T10:00:00Z" });

    let message = refused(&post(app, decide, None, question.clone()).await, 401, tonic::Code::Unauthenticated);
    assert!(message.contains("Bearer"), "{message}");
    let message =
        refused(&post(app, decide, Some("not-a-token"), question.clone()).await, 401, tonic::Code::Unauthenticated);
    assert!(message.contains("Bearer"), "{message}");

    let upsert = json!({ "agents": [] });
    let answer = post(app, "/v1/RosterService/UpsertAgents", Some(token_of("ticket-reader")), upsert).await;
    let message = refused(&answer, 403, tonic::Code::PermissionDenied);
    assert!(message.contains("ticket-reader") && message.contains("UpsertAgents"), "{message}");
    assert!(answer.request_id.is_some(), "a refused call has a request ID too");

    let answer = send(app, http::Method::POST, decide, Some(TEST_TOKEN), None, "{\"orgId\": ").await;
    let message = refused(&answer, 400, tonic::Code::InvalidArgument);
    assert!(message.contains("eeacoverage.v1.DecideTicketRequest"), "{message}");
    let answer = post(app, decide, Some(TEST_TOKEN), json!({ "orgId": "acme", "severity": "SEVERITY_9" })).await;
    let message = refused(&answer, 400, tonic::Code::InvalidArgument);
    assert!(message.contains("SEVERITY_9"), "{message}");

    // A request the service refuses carries its field violations as google.rpc.BadRequest.
    let bad_agent =
        json!({ "agents": [{ "agentId": "x-1", "displayName": "X", "country": "XX", "timeZone": "Europe/Dublin" }] });
    let answer = post(app, "/v1/RosterService/UpsertAgents", Some(TEST_TOKEN), bad_agent).await;
    refused(&answer, 400, tonic::Code::InvalidArgument);
    let details = &answer.body["details"][0];
    assert_eq!(details["@type"], "type.googleapis.com/google.rpc.BadRequest", "{}", answer.body);
    assert_eq!(details["fieldViolations"][0]["field"], "agents[0].country", "{}", answer.body);

    let answer = post(app, "/v1/RosterService/GetAgent", Some(TEST_TOKEN), json!({ "agentId": "nobody" })).await;
    let message = refused(&answer, 404, tonic::Code::NotFound);
    assert!(message.contains("agent_id") && message.contains("nobody"), "{message}");
    assert_eq!(answer.body["details"][0]["@type"], "type.googleapis.com/google.rpc.ResourceInfo", "{}", answer.body);
}

async fn paths_that_are_not_unary_methods_are_refused_with_why(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let message =
        refused(&post(app, "/v1/TicketService/Decide", Some(TEST_TOKEN), json!({})).await, 404, tonic::Code::NotFound);
    assert!(message.contains("/v1/<Service>/<Method>"), "{message}");
    refused(
        &post(app, "/eeacoverage.v1.TicketService/DecideTicket", Some(TEST_TOKEN), json!({})).await,
        404,
        tonic::Code::NotFound,
    );
    for streaming in ["/v1/RosterService/SyncShifts", "/v1/TicketService/WatchWindows", "/v1/CoverageService/WatchGaps"]
    {
        let message =
            refused(&post(app, streaming, Some(TEST_TOKEN), json!({})).await, 501, tonic::Code::Unimplemented);
        assert!(message.contains("gRPC only"), "{message}");
    }
    let answer = send(app, http::Method::GET, "/v1/TicketService/DecideTicket", Some(TEST_TOKEN), None, "").await;
    refused(&answer, 405, tonic::Code::Unimplemented);
    assert_eq!(answer.allow.as_deref(), Some("POST"));
}

async fn the_openapi_document_lists_every_unary_method(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    // Open, like reflection: no token.
    let answer = send(app, http::Method::GET, "/v1/openapi.json", None, None, "").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body["openapi"].as_str().is_some_and(|version| version.starts_with("3.")));
    let paths = answer.body["paths"].as_object().expect("paths");
    let pool = prost_reflect::DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
    let mut n_unary = 0;
    for service in pool.services() {
        for method in service.methods().filter(|method| !method.is_client_streaming() && !method.is_server_streaming())
        {
            n_unary += 1;
            let path = format!("/v1/{}/{}", service.name(), method.name());
            let schema = &paths[&path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(schema, &json!(format!("#/components/schemas/{}", method.input().full_name())), "{path}");
        }
    }
    assert_eq!(paths.len(), n_unary + 1, "every unary method and the document itself");
}

/// `load --http` asks the JSON API the gRPC phase's questions, and every one is answered.
async fn the_load_generator_measures_json_decide_ticket_beside_grpc(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let app = &spawned.app;
    let http = format!("http://{}", app.http_address.expect("test servers serve the JSON API"));
    let arguments =
        ["load", "--seed-agents", "20", "--calls", "200", "--concurrency", "4", "--connections", "1", "--http", &http];
    let output = crate::helpers::run_binary(app, &arguments);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}{}", String::from_utf8_lossy(&output.stderr));
    let json_phase = printed.lines().find(|line| line.starts_with("JSON DecideTicket ")).expect("a JSON phase");
    assert!(json_phase.contains("[OK=200]"), "{json_phase}");
    let comparison = printed.lines().find(|line| line.starts_with("JSON DecideTicket / DecideTicket: throughput "));
    assert!(comparison.is_some(), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_http_address_stops_the_start_naming_the_setting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = taken.local_addr().unwrap();
    let database = crate::helpers::create_database(Backend::Sqlite).expect("SQLite is always available");
    let settings = crate::helpers::test_settings(&database, &format!("[http]\nlisten = \"{address}\"\n"));
    let Err(refused) = eea_coverage::startup::Server::build(&settings).await else { panic!("the start fails") };
    let message = refused.to_string();
    assert!(message.starts_with(&format!("setting http.listen: cannot listen on {address}")), "{message}");
}

/// The default address, taken (a second replica on one host, or a release upgraded without the
/// setting): the server starts all the same, without HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_default_http_address_leaves_the_server_running_without_http() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let database = crate::helpers::create_database(Backend::Sqlite).expect("SQLite is always available");
    let mut settings = crate::helpers::test_settings(&database, "");
    settings.http_listen = Some(taken.local_addr().unwrap());
    settings.http_listen_is_default = true;
    let server = eea_coverage::startup::Server::build(&settings).await.expect("the start goes on without HTTP");
    assert_eq!(server.http_addr(), None);
}

crate::on_both_backends!(
    decide_ticket_over_json_answers_what_grpc_answers,
    a_write_over_json_is_audited_with_its_caller_and_request_id,
    refusals_are_statuses_with_the_matching_http_status,
    paths_that_are_not_unary_methods_are_refused_with_why,
    the_openapi_document_lists_every_unary_method,
    the_load_generator_measures_json_decide_ticket_beside_grpc,
    a_coverage_report_downloads_as_the_report_command_writes_it,
    a_coverage_download_is_refused_as_the_json_call_is,
);

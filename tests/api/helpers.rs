//! `spawn_app()`: a real server on 127.0.0.1:0 over a throw-away database, SQLite or PostgreSQL.

use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use eea_coverage::auth::token_hash;
pub use eea_coverage::cli::connection::{with_token, AuthChannel};
use eea_coverage::config::{RawAuth, RawSettings, RawToken, Settings};
use eea_coverage::pb;
use eea_coverage::testing::SpawnedServer;
use tonic::transport::Channel;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that disappears with the test.
pub enum TestDatabase {
    Sqlite {
        _directory: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
    /// Another way to reach a database owned elsewhere (through a proxy); dropping it drops nothing.
    External {
        url: String,
    },
}

impl TestDatabase {
    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. } | TestDatabase::Postgres { url, .. } | TestDatabase::External { url } => {
                url
            }
        }
    }

    pub fn external(url: String) -> TestDatabase {
        TestDatabase::External { url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name, .. } = self {
            if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

/// The PostgreSQL server for tests, or `None` with a printed notice. Under `CI=true` a missing
/// PostgreSQL fails the test instead of skipping it.
fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI"
            );
            eprintln!("skipping a PostgreSQL test: TEST_DATABASE_URL is not set");
            None
        }
    }
}

fn with_database(admin_url: &str, name: &str) -> String {
    // Replace the path of postgres://user@host:port/db?params with the new database's name.
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(base, query)| (base, Some(query)));
    let scheme_end = base.find("://").map_or(0, |idx| idx + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |idx| scheme_end + idx);
    let mut url = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

pub fn create_database(backend: Backend) -> Option<TestDatabase> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    match backend {
        Backend::Sqlite => {
            let directory = tempfile::tempdir().expect("a temporary directory");
            let url = format!("sqlite://{}", directory.path().join("test.db").display());
            Some(TestDatabase::Sqlite { _directory: directory, url })
        }
        Backend::Postgres => {
            let admin_url = postgres_admin_url()?;
            let nanos = eea_coverage::clock::now().subsec_nanosecond();
            let name = format!("eea_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
            let mut admin = diesel::PgConnection::establish(&admin_url)
                .unwrap_or_else(|error| panic!("TEST_DATABASE_URL is set but unreachable: {error}"));
            admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("creating a throw-away database");
            let url = with_database(&admin_url, &name);
            Some(TestDatabase::Postgres { admin_url, name, url })
        }
    }
}

/// Every display name a test agent gets starts with this (see `agent`), so the log scan below
/// recognises one wherever it turns up.
pub const DISPLAY_NAME_MARKER: &str = "Display Name ";

/// Log lines, from the whole suite at TRACE level, that held a display name.
static LEAKED_LOG_LINES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Log lines that name a watched request ID (see `watched_request_id`).
static WATCHED_LOG_LINES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Request IDs that start with this have their log lines kept for the test that made them.
const WATCHED_REQUEST_ID_PREFIX: &str = "watched-";

/// A request ID, unique in the suite, whose log lines `wait_for_log_line` can find.
pub fn watched_request_id(label: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    // The closing dot keeps one ID from being the start of another in a log line.
    format!("{WATCHED_REQUEST_ID_PREFIX}{}-{label}.", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The first log line that names `request_id` and holds `needle`, once the server has written
/// it: how a test learns that the server has finished with a call whose client went away, so
/// nothing answers it. Fails after 30 s.
pub async fn wait_for_log_line(request_id: &str, needle: &str) -> String {
    let named = format!("request.id={request_id}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = WATCHED_LOG_LINES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .find(|line| line.contains(&named) && line.contains(needle))
            .cloned();
        if let Some(line) = found {
            return line;
        }
        assert!(std::time::Instant::now() < deadline, "no log line of {request_id} held {needle:?} within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A log sink that keeps nothing but the lines holding a display name or a watched request ID.
struct ScanningWriter;

impl std::io::Write for ScanningWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(bytes);
        if line.contains(DISPLAY_NAME_MARKER) {
            LEAKED_LOG_LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(line.into_owned());
        } else if line.contains(WATCHED_REQUEST_ID_PREFIX) {
            WATCHED_LOG_LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(line.into_owned());
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The whole integration suite runs with every log line, at every level and from every crate,
/// formatted and scanned for display names; a server's test fails when it stops (see
/// `TestApp`'s drop) if any line held one.
fn scan_logs_of_the_whole_suite() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_writer(|| ScanningWriter)
            .with_ansi(false)
            .try_init();
    });
}

fn assert_no_display_name_was_logged() {
    let leaked = LEAKED_LOG_LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    assert!(leaked.is_empty(), "{} log lines held a display name; the first: {}", leaked.len(), leaked[0]);
}

/// A running server and clients for it. Dropping it stops the server.
pub struct TestApp {
    pub roster: pb::roster_service_client::RosterServiceClient<AuthChannel>,
    pub policy: pb::policy_service_client::PolicyServiceClient<AuthChannel>,
    pub tickets: pb::ticket_service_client::TicketServiceClient<AuthChannel>,
    /// Without a token: for health and reflection, which are open.
    pub channel: Channel,
    /// With the test's admin token.
    pub authed: AuthChannel,
    pub metrics_address: Option<std::net::SocketAddr>,
    /// Where the JSON API is bound (on every test server unless its settings turn it off).
    pub http_address: Option<std::net::SocketAddr>,
    /// Where the gRPC listener is bound.
    pub address: std::net::SocketAddr,
    /// `None` once `stop` has taken it to wait for it.
    server: Option<SpawnedServer>,
}

impl TestApp {
    /// Asks the server to stop (it reports NOT_SERVING, sends GOAWAY and drains), without
    /// waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(server) = self.server.as_mut() {
            server.begin_stop();
        }
    }

    /// Stops the server and waits until it has released the database.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }
}

/// Typed calls for the requests tests make again and again, so a test reads as what it asks.
/// Each one panics with the server's status when the call fails; a test that expects a refusal
/// calls the client itself.
impl TestApp {
    /// Creates or replaces `org`.
    pub async fn put_org(&self, org: pb::Org) {
        self.policy.clone().upsert_org(pb::UpsertOrgRequest { org: Some(org) }).await.unwrap();
    }

    /// Creates or replaces `agents`, entered by hand (no source).
    pub async fn put_agents(&self, agents: Vec<pb::Agent>) {
        self.put_agents_from("", agents).await;
    }

    /// Creates or replaces `agents` as the WFM system `source` sends them.
    pub async fn put_agents_from(&self, source: &str, agents: Vec<pb::Agent>) {
        let request = pb::UpsertAgentsRequest { agents, source: source.into() };
        self.roster.clone().upsert_agents(request).await.unwrap();
    }

    /// Creates or replaces `shifts`, entered by hand.
    pub async fn put_shifts(&self, shifts: Vec<pb::Shift>) -> pb::UpsertShiftsResponse {
        self.try_put_shifts(shifts).await.unwrap()
    }

    /// Asks to create or replace `shifts`: the server's answer, or its refusal.
    pub async fn try_put_shifts(&self, shifts: Vec<pb::Shift>) -> Result<pb::UpsertShiftsResponse, tonic::Status> {
        self.roster.clone().upsert_shifts(pb::UpsertShiftsRequest { shifts }).await.map(tonic::Response::into_inner)
    }

    /// Creates or replaces `time_off`, entered by hand.
    pub async fn put_time_off(&self, time_off: Vec<pb::TimeOff>) {
        self.roster.clone().upsert_time_off(pb::UpsertTimeOffRequest { time_off }).await.unwrap();
    }

    /// Records `consent`.
    pub async fn grant_consent(&self, consent: pb::Consent) {
        self.policy.clone().grant_consent(pb::GrantConsentRequest { consent: Some(consent) }).await.unwrap();
    }

    /// The decision on a ticket `T-1` of `org_id` with `severity` and no category, at `at`.
    pub async fn decide(&self, org_id: &str, severity: pb::Severity, at: &str) -> pb::DecideTicketResponse {
        let question =
            ticket_question(org_id, severity as i32, pb::TicketCategory::Unspecified as i32, Some(timestamp(at)));
        let request = pb::DecideTicketRequest { ticket_id: "T-1".into(), ..question };
        self.tickets.clone().decide_ticket(request).await.unwrap().into_inner()
    }

    /// Streams `messages` into SyncShifts: the server's answer, or its refusal.
    pub async fn sync(&self, messages: Vec<pb::SyncShiftsRequest>) -> Result<pb::SyncShiftsResponse, tonic::Status> {
        self.roster.clone().sync_shifts(tokio_stream::iter(messages)).await.map(tonic::Response::into_inner)
    }

    /// The IDs of every shift, in the order the server lists them.
    pub async fn shift_ids(&self) -> Vec<String> {
        let request = pb::ListShiftsRequest { page_size: 1000, ..Default::default() };
        let listed = self.roster.clone().list_shifts(request).await.unwrap().into_inner();
        listed.shifts.into_iter().map(|shift| shift.shift_id).collect()
    }

    /// A client of the coverage service with the admin token.
    pub fn coverage(&self) -> pb::coverage_service_client::CoverageServiceClient<AuthChannel> {
        pb::coverage_service_client::CoverageServiceClient::new(self.authed.clone())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.begin_stop();
        if !std::thread::panicking() {
            assert_no_display_name_was_logged();
        }
    }
}

/// The settings of a test server on `127.0.0.1:0` over `database`, with the test tokens and
/// `extra_toml` (for example plan or TLS settings).
pub fn test_settings(database: &TestDatabase, extra_toml: &str) -> Settings {
    let mut raw: RawSettings = toml::from_str(extra_toml).expect("test settings parse");
    // Never the default port: tests run side by side. A test may still ask for its own.
    raw.http.listen.get_or_insert_with(|| "127.0.0.1:0".into());
    let overrides = RawSettings {
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(database.url().to_owned()),
        auth: test_auth(),
        ..RawSettings::default()
    };
    raw.overridden_by(overrides).validate().expect("test settings are valid")
}

/// Starts a server on `database` with extra settings as TOML (for example plan settings).
pub async fn spawn_app_on(database: &TestDatabase, extra_toml: &str) -> TestApp {
    scan_logs_of_the_whole_suite();
    let server = SpawnedServer::start(&test_settings(database, extra_toml)).await;
    let channel = server.connect().await;
    let authed = with_token(channel.clone(), Some(TEST_TOKEN));
    TestApp {
        roster: pb::roster_service_client::RosterServiceClient::new(authed.clone()),
        policy: pb::policy_service_client::PolicyServiceClient::new(authed.clone()),
        tickets: pb::ticket_service_client::TicketServiceClient::new(authed.clone()),
        channel,
        authed,
        metrics_address: server.metrics_address,
        http_address: server.http_address,
        address: server.address,
        server: Some(server),
    }
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}

pub fn timestamp(text: &str) -> prost_types::Timestamp {
    let instant: jiff::Timestamp = text.parse().expect("a valid RFC 3339 instant");
    prost_types::Timestamp { seconds: instant.as_second(), nanos: instant.subsec_nanosecond() }
}

pub fn agent(agent_id: &str, country: &str, time_zone: &str) -> pb::Agent {
    pb::Agent {
        agent_id: agent_id.into(),
        display_name: format!("{DISPLAY_NAME_MARKER}{agent_id}"),
        country: country.into(),
        time_zone: time_zone.into(),
        severities: vec![],
        location_changes: vec![],
    }
}

pub fn one_off(shift_id: &str, agent_id: &str, starts_at: &str, ends_at: &str) -> pb::Shift {
    pb::Shift {
        source: String::new(),
        shift_id: shift_id.into(),
        agent_id: agent_id.into(),
        severities: vec![],
        country: String::new(),
        schedule: Some(pb::shift::Schedule::OneOff(pb::OneOffShift {
            starts_at: Some(timestamp(starts_at)),
            ends_at: Some(timestamp(ends_at)),
        })),
    }
}

pub fn recurring(
    shift_id: &str,
    agent_id: &str,
    time_zone: &str,
    start_local: &str,
    end_time: &str,
    rrule: &str,
) -> pb::Shift {
    pb::Shift {
        source: String::new(),
        shift_id: shift_id.into(),
        agent_id: agent_id.into(),
        severities: vec![],
        country: String::new(),
        schedule: Some(pb::shift::Schedule::Recurring(pb::RecurringShift {
            time_zone: time_zone.into(),
            start_local: start_local.into(),
            end_time: end_time.into(),
            rrule: rrule.into(),
            exdates: vec![],
        })),
    }
}

pub fn time_off(time_off_id: &str, agent_id: &str, starts_at: &str, ends_at: &str) -> pb::TimeOff {
    pb::TimeOff {
        source: String::new(),
        time_off_id: time_off_id.into(),
        agent_id: agent_id.into(),
        starts_at: Some(timestamp(starts_at)),
        ends_at: Some(timestamp(ends_at)),
    }
}

/// The first message of a sync by `source` of the window [`starts_at`, `ends_at`).
pub fn sync_header(source: &str, starts_at: &str, ends_at: &str, dry_run: bool) -> pb::SyncShiftsRequest {
    pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Header(pb::SyncHeader {
            source: source.into(),
            window_start: Some(timestamp(starts_at)),
            window_end: Some(timestamp(ends_at)),
            dry_run,
        })),
    }
}

/// A message of a sync carrying entries.
pub fn sync_batch(shifts: Vec<pb::Shift>, time_off: Vec<pb::TimeOff>) -> pb::SyncShiftsRequest {
    pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch { shifts, time_off, agents: vec![] })),
    }
}

/// A span of a report or a decision, as the wire carries it.
pub fn span(starts_at: &str, ends_at: &str) -> (Option<prost_types::Timestamp>, Option<prost_types::Timestamp>) {
    (Some(timestamp(starts_at)), Some(timestamp(ends_at)))
}

/// A DecideTicket request with no ticket ID; the numbers are raw so a test can send bad ones.
pub fn ticket_question(
    org_id: &str,
    severity: i32,
    category: i32,
    at: Option<prost_types::Timestamp>,
) -> pb::DecideTicketRequest {
    pb::DecideTicketRequest {
        org_id: org_id.into(),
        severity,
        category,
        ticket_id: String::new(),
        at,
        as_known_at: None,
    }
}

/// The consent of `org_id`'s customer for `agent_id` to work ticket `ticket_id` until `expires_at`.
pub fn consent(org_id: &str, ticket_id: &str, agent_id: &str, expires_at: &str) -> pb::Consent {
    pb::Consent {
        org_id: org_id.into(),
        ticket_id: ticket_id.into(),
        agent_id: agent_id.into(),
        expires_at: Some(timestamp(expires_at)),
    }
}

pub fn org(org_id: &str, region: &str, plan: pb::Plan) -> pb::Org {
    pb::Org { org_id: org_id.into(), cloud_region: region.into(), plan: plan as i32, ..Default::default() }
}

/// Seeds `app` with the org `acme` (EEA_ONLY, Dublin region), the Irish agent `ie-1`, and, when
/// `with_shift`, her shift `day` on 2026-12-07 08:00-16:00 UTC.
pub async fn seed_acme_with_ie_1(app: &TestApp, with_shift: bool) {
    app.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    app.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin")]).await;
    if with_shift {
        app.put_shifts(vec![one_off("day", "ie-1", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z")]).await;
    }
}

/// The field paths of an INVALID_ARGUMENT status's BadRequest details.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .expect("INVALID_ARGUMENT carries BadRequest details")
        .field_violations
        .into_iter()
        .map(|violation| violation.field)
        .collect()
}

/// A server with its database; the server is declared first so it stops before the database
/// is dropped.
pub struct Spawned {
    pub app: TestApp,
    pub _database: TestDatabase,
}

/// A server over a fresh database, or `None` when the backend is not available here.
pub async fn spawn_app(backend: Backend) -> Option<Spawned> {
    spawn_app_with(backend, "").await
}

pub async fn spawn_app_with(backend: Backend, extra_toml: &str) -> Option<Spawned> {
    let database = create_database(backend)?;
    let app = spawn_app_on(&database, extra_toml).await;
    Some(Spawned { app, _database: database })
}

/// The admin token every test server accepts, plus one per role for the access tests.
pub const TEST_TOKEN: &str = "test-admin-token";
pub const ROLE_TOKENS: [(&str, &str); 3] = [
    ("roster-writer", "test-roster-writer-token"),
    ("ticket-reader", "test-ticket-reader-token"),
    ("manager", "test-manager-token"),
];

pub fn test_auth() -> RawAuth {
    let mut tokens = vec![RawToken { name: "test-admin".into(), role: "admin".into(), sha256: token_hash(TEST_TOKEN) }];
    tokens.extend(ROLE_TOKENS.iter().map(|(role, token)| RawToken {
        name: format!("test-{role}"),
        role: (*role).into(),
        sha256: token_hash(token),
    }));
    RawAuth { tokens, certificates: Vec::new(), token_file: None, reflection: None }
}

/// Runs the binary with `arguments`, then `--server` for `app` and the admin token, as a user
/// would from a shell.
pub fn run_binary(app: &TestApp, arguments: &[&str]) -> std::process::Output {
    let server = format!("http://{}", app.address);
    std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
        .args(arguments)
        .args(["--server", &server, "--token", TEST_TOKEN])
        .env_remove("EEA_COVERAGE_TOKEN")
        .output()
        .expect("running eea-coverage")
}

/// A moment between writes: the wall clock, to the microsecond, as a wire timestamp; the clock
/// moves on a little either side, so the writes before it committed before it and those after
/// it after it (commit stamps are the database's clock).
pub async fn moment_between_writes() -> prost_types::Timestamp {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let now = eea_coverage::clock::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    prost_types::Timestamp { seconds: now.as_second(), nanos: now.subsec_nanosecond() / 1_000 * 1_000 }
}

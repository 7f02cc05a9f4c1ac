//! Issue 18's figures with a year of history stored: a 90-day `EEA_ONLY` report for 5,000 agents
//! as known at moments of the last 90 days against the present one, the history's size on disk,
//! and what one `ExplainTicket` costs. Run with `cargo bench --bench history_year`; PostgreSQL is
//! measured too when `TEST_DATABASE_URL` names a server.
//!
//! The year: the load generator's 5,000-agent roster (`testing::rosters::load_test_roster`, its
//! recurring shifts running from 100 days before the generation to 100 after), seeded by one
//! `SyncShifts` of source `wfm` (agents, shifts and time off), then 365 daily syncs through a
//! server in this process, each sending the whole source again with a few percent changed:
//! about 2% of the main shifts moved by an hour, 25 one-off extra shifts added and 25 removed,
//! 5 time off added and 5 removed, and every 7th day two agents relocated (sent in the sync's
//! agents). Each daily sync is one commit, so the history triggers run as in service.
//!
//! Commits are stamped by the database's clock, so the whole year commits within minutes. After
//! generating, the benchmark re-dates the stamps (`roster_commits.committed_at`) to one day
//! apart, the last 2 hours before the generation, and the first policy version to just before
//! the first stamp; nothing else is changed. So "the last 90 days" are the last 90 daily
//! commits, and a ticket's walk spans days of wall time as it would in service.
//!
//! `HISTORY_YEAR_BACKEND=sqlite` (or `postgres`) measures one backend only;
//! `HISTORY_YEAR_SPLIT_ONLY=1` only the sizes and the split (seconds, for a profiler).
//!
//! Generating takes minutes, so the database is kept: SQLite as a file under
//! `target/history_year/`, PostgreSQL as a database `eea_bench_history_year_v1` that each run
//! copies (`CREATE DATABASE ... TEMPLATE`). `HISTORY_YEAR_FRESH=1` generates them again.
//!
//! Measured, per backend, on a server started afresh on a copy of the kept database: the present
//! report and the report as known at 8 moments of the last 90 days, three rounds, every moment a
//! different roster version so that each answer is the first about its version (the app keeps
//! four past snapshots); a repeated (kept) answer; where a first answer's time goes (reading the
//! history, building the snapshot, the report), in this process through the same functions; and
//! `ExplainTicket` for a ticket of 7 days and one of 90, every page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant as WallClock};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use eea_coverage::app::machine_parallelism;
use eea_coverage::cli::connection::{with_token, AuthChannel};
use eea_coverage::domain::coverage::{coverage_report, CoverageQuestion};
use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::policy::{PlanKind, Policy};
use eea_coverage::domain::snapshot::Snapshot;
use eea_coverage::domain::time::Instant;
use eea_coverage::pb;
use eea_coverage::storage::{self, DatabaseUrl, Store};
use eea_coverage::testing::rosters::load_test_roster;
use eea_coverage::testing::{one_off_shift, settings_with_admin_token, DeterministicRandom, SpawnedServer};

const TOKEN: &str = "bench-admin-token";
const SOURCE: &str = "wfm";
const N_AGENTS: usize = 5_000;
const DAYS: i64 = 365;
const DAY: i64 = 86_400;
const RUNS: usize = 3;
/// Days before the last commit at which the report is asked as known at (plus the round's index,
/// so that every answer is about a roster version not asked before).
const MOMENT_DAYS_AGO: [i64; 8] = [1, 13, 26, 39, 52, 65, 77, 87];
/// Bump when the generated year changes, so a kept database of another make is not reused.
const GENERATION: &str = "v1";
const ORG: &str = "load-eea-dublin";

/// What a kept database was generated with, kept beside it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Generated {
    /// The wall clock at generation (seconds); the stamps end 2 hours before it.
    now_secs: i64,
    /// The last roster version of each day: index 0 the seed, 1..=365 the daily syncs.
    last_version_of_day: Vec<i64>,
    /// The database's size after the seed, before the year: (name, bytes).
    sizes_after_seed: Vec<(String, i64)>,
    generation_secs: f64,
    shifts_after_seed: usize,
    entries_changed: usize,
}

impl Generated {
    /// The re-dated stamp of `day`'s commit, in seconds.
    fn stamp_of_day(&self, day: i64) -> i64 {
        self.now_secs - 2 * 3_600 - (DAYS - day) * DAY
    }

    /// The 90-day report window: 45 days either side of the generation's day.
    fn report_window(&self) -> (i64, i64) {
        let today = self.now_secs - self.now_secs.rem_euclid(DAY);
        (today - 45 * DAY, today + 45 * DAY)
    }
}

fn timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.0}", duration.as_secs_f64() * 1e3)
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("history_year")
}

fn fresh_requested() -> bool {
    std::env::var("HISTORY_YEAR_FRESH").is_ok_and(|value| value == "1")
}

// ---------------------------------------------------------------------------------------------
// The roster and its year of changes

/// The source's entries as the WFM tool would send them on one day.
struct WfmState {
    agents: Vec<pb::Agent>,
    /// Each agent's country as generated, to relocate from.
    home: Vec<String>,
    shifts: BTreeMap<String, pb::Shift>,
    /// The main shifts' start hours as generated: a move stays within an hour of it.
    main_hours: BTreeMap<String, u32>,
    time_off: BTreeMap<String, pb::TimeOff>,
    first_day: String,
    now_secs: i64,
    random: DeterministicRandom,
    next_id: usize,
}

impl WfmState {
    fn generate(now_secs: i64) -> WfmState {
        let roster = load_test_roster(N_AGENTS, now_secs).expect("the load roster generates");
        let first_day = jiff::Timestamp::from_second(now_secs - 100 * DAY).unwrap().strftime("%Y-%m-%d").to_string();
        let mut shifts = BTreeMap::new();
        let mut main_hours = BTreeMap::new();
        for mut shift in roster.shifts {
            if let Some(pb::shift::Schedule::Recurring(recurring)) = shift.schedule.as_mut() {
                // From 100 days before the generation to 100 after, in place of 45 either side.
                let (_, time) = recurring.start_local.split_once('T').expect("a local date-time");
                main_hours.insert(shift.shift_id.clone(), time[..2].parse().expect("an hour"));
                recurring.start_local = format!("{first_day}T{time}");
                recurring.rrule = recurring.rrule.replace("COUNT=90", "COUNT=200");
            }
            shift.source = SOURCE.into();
            shifts.insert(shift.shift_id.clone(), shift);
        }
        let time_off = roster
            .time_off
            .into_iter()
            .map(|mut entry| {
                entry.source = SOURCE.into();
                (entry.time_off_id.clone(), entry)
            })
            .collect();
        let home = roster.agents.iter().map(|agent| agent.country.clone()).collect();
        WfmState {
            agents: roster.agents,
            home,
            shifts,
            main_hours,
            time_off,
            first_day,
            now_secs,
            random: DeterministicRandom::new(18),
            next_id: 0,
        }
    }

    /// The sync window: every entry starts inside it.
    fn window(&self) -> (i64, i64) {
        (self.now_secs - 101 * DAY, self.now_secs + 101 * DAY)
    }

    /// A random instant on the hour within 90 days before the generation and 60 after.
    fn random_hour(&mut self) -> i64 {
        let base = self.now_secs - self.now_secs.rem_euclid(3_600) - 90 * DAY;
        base + self.random.below(150 * 24) as i64 * 3_600
    }

    /// One day's changes; returns how many entries and agents changed.
    fn change_one_day(&mut self, day: i64) -> usize {
        let mut changed = 0;
        // About 2% of the main shifts move by an hour (or back).
        let main_ids: Vec<String> = self.main_hours.keys().cloned().collect();
        for _ in 0..N_AGENTS / 50 {
            let shift_id = &main_ids[self.random.below(main_ids.len() as u64) as usize];
            let hour = self.main_hours[shift_id];
            let new_hour = match self.random.below(3) {
                0 => hour.saturating_sub(1),
                1 => hour,
                _ => (hour + 1).min(23),
            };
            let shift = self.shifts.get_mut(shift_id).expect("a main shift");
            if let Some(pb::shift::Schedule::Recurring(recurring)) = shift.schedule.as_mut() {
                let moved = format!("{}T{new_hour:02}:00:00", self.first_day);
                if recurring.start_local != moved {
                    recurring.start_local = moved;
                    changed += 1;
                }
            }
        }
        // 25 one-off extras added, and (once there are some) 25 removed.
        let extras: Vec<String> = self.shifts.keys().filter(|id| id.starts_with("extra-")).cloned().collect();
        if extras.len() > 100 {
            for _ in 0..25 {
                let victim = &extras[self.random.below(extras.len() as u64) as usize];
                if self.shifts.remove(victim).is_some() {
                    changed += 1;
                }
            }
        }
        for _ in 0..25 {
            let agent = &self.agents[self.random.below(N_AGENTS as u64) as usize].agent_id.clone();
            let start = self.random_hour();
            let shift_id = format!("extra-{:06}", self.next_id);
            self.next_id += 1;
            let mut shift = one_off_shift(shift_id.clone(), agent.clone(), start, start + 6 * 3_600);
            shift.source = SOURCE.into();
            self.shifts.insert(shift_id, shift);
            changed += 1;
        }
        // 5 time off added and 5 removed.
        let leave: Vec<String> = self.time_off.keys().cloned().collect();
        for _ in 0..5 {
            let victim = &leave[self.random.below(leave.len() as u64) as usize];
            if self.time_off.remove(victim).is_some() {
                changed += 1;
            }
        }
        for _ in 0..5 {
            let agent = self.agents[self.random.below(N_AGENTS as u64) as usize].agent_id.clone();
            let start = self.random_hour();
            let time_off_id = format!("leave-{:06}", self.next_id);
            self.next_id += 1;
            self.time_off.insert(
                time_off_id.clone(),
                pb::TimeOff {
                    source: SOURCE.into(),
                    time_off_id,
                    agent_id: agent,
                    starts_at: Some(timestamp(start)),
                    ends_at: Some(timestamp(start + (1 + self.random.below(3) as i64) * DAY)),
                },
            );
            changed += 1;
        }
        // Every 7th day two agents relocate (or come back).
        if day % 7 == 0 {
            for _ in 0..2 {
                let idx = self.random.below(N_AGENTS as u64) as usize;
                let at = self.random_hour();
                let away = if self.home[idx] == "GB" { "IE" } else { "GB" };
                let agent = &mut self.agents[idx];
                agent.location_changes = if agent.location_changes.is_empty() {
                    vec![pb::LocationChange { effective_at: Some(timestamp(at)), country: away.into() }]
                } else {
                    vec![]
                };
                changed += 1;
            }
        }
        changed
    }

    fn sync_messages(&self) -> Vec<pb::SyncShiftsRequest> {
        let (start, end) = self.window();
        let header = pb::SyncShiftsRequest {
            message: Some(pb::sync_shifts_request::Message::Header(pb::SyncHeader {
                source: SOURCE.into(),
                window_start: Some(timestamp(start)),
                window_end: Some(timestamp(end)),
                dry_run: false,
            })),
        };
        let batch =
            |shifts: Vec<pb::Shift>, time_off: Vec<pb::TimeOff>, agents: Vec<pb::Agent>| pb::SyncShiftsRequest {
                message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch { shifts, time_off, agents })),
            };
        let mut messages = vec![header];
        for agents in self.agents.chunks(1_000) {
            messages.push(batch(vec![], vec![], agents.to_vec()));
        }
        let shifts: Vec<pb::Shift> = self.shifts.values().cloned().collect();
        for chunk in shifts.chunks(1_000) {
            messages.push(batch(chunk.to_vec(), vec![], vec![]));
        }
        messages.push(batch(vec![], self.time_off.values().cloned().collect(), vec![]));
        messages
    }
}

// ---------------------------------------------------------------------------------------------
// Databases

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database for one run: a copy of the kept year.
struct Database {
    url: String,
    backend: Backend,
    path: Option<PathBuf>,
    postgres_admin: Option<(String, String)>,
    _directory: Option<tempfile::TempDir>,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres_admin {
            if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

fn postgres_url(admin_url: &str, name: &str) -> String {
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
    format!("{base}/{name}")
}

fn kept_name() -> String {
    format!("eea_bench_history_year_{GENERATION}")
}

fn sidecar_path(backend: Backend) -> PathBuf {
    cache_dir().join(format!("{}-{GENERATION}.json", backend.name()))
}

fn sqlite_kept_path() -> PathBuf {
    cache_dir().join(format!("year-{GENERATION}.db"))
}

/// The kept year of `backend`, generated when missing (or asked for afresh).
fn kept_year(backend: Backend, admin_url: Option<&str>, runtime: &tokio::runtime::Runtime) -> Generated {
    std::fs::create_dir_all(cache_dir()).unwrap();
    let sidecar = sidecar_path(backend);
    let kept_exists = match backend {
        Backend::Sqlite => sqlite_kept_path().exists(),
        Backend::Postgres => {
            let mut admin = diesel::PgConnection::establish(admin_url.unwrap()).expect("PostgreSQL reachable");
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            let found: Count =
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM pg_database WHERE datname = '{}'", kept_name()))
                    .get_result(&mut admin)
                    .unwrap();
            found.n == 1
        }
    };
    if kept_exists && sidecar.exists() && !fresh_requested() {
        let generated: Generated = serde_json::from_str(&std::fs::read_to_string(&sidecar).unwrap()).unwrap();
        println!(
            "{}: using the kept year (generated {}, in {:.0} s); HISTORY_YEAR_FRESH=1 generates it again",
            backend.name(),
            jiff::Timestamp::from_second(generated.now_secs).unwrap(),
            generated.generation_secs
        );
        return generated;
    }
    let url = match backend {
        Backend::Sqlite => {
            let path = sqlite_kept_path();
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}", path.display())
        }
        Backend::Postgres => {
            let admin_url = admin_url.unwrap();
            let mut admin = diesel::PgConnection::establish(admin_url).unwrap();
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", kept_name())).unwrap();
            admin.batch_execute(&format!("CREATE DATABASE \"{}\"", kept_name())).unwrap();
            postgres_url(admin_url, &kept_name())
        }
    };
    let generated = runtime.block_on(generate_year(backend, &url));
    std::fs::write(&sidecar, serde_json::to_string_pretty(&generated).unwrap()).unwrap();
    generated
}

/// A copy of the kept year for one run.
fn copy_of_year(backend: Backend, admin_url: Option<&str>, run: &str) -> Database {
    match backend {
        Backend::Sqlite => {
            let directory = tempfile::tempdir().unwrap();
            let path = directory.path().join("year.db");
            std::fs::copy(sqlite_kept_path(), &path).unwrap();
            Database {
                url: format!("sqlite://{}", path.display()),
                backend,
                path: Some(path),
                postgres_admin: None,
                _directory: Some(directory),
            }
        }
        Backend::Postgres => {
            let admin_url = admin_url.unwrap();
            let name = format!("eea_bench_year_{}_{run}", std::process::id());
            let mut admin = diesel::PgConnection::establish(admin_url).unwrap();
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).unwrap();
            admin.batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{}\"", kept_name())).unwrap();
            Database {
                url: postgres_url(admin_url, &name),
                backend,
                path: None,
                postgres_admin: Some((admin_url.to_owned(), name)),
                _directory: None,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generating the year

async fn generate_year(backend: Backend, url: &str) -> Generated {
    let started = WallClock::now();
    let now_secs = eea_coverage::clock::now().as_second();
    let mut state = WfmState::generate(now_secs);
    let server = SpawnedServer::start(&settings_with_admin_token(url, "bench", TOKEN)).await;
    let channel = with_token(server.connect().await, Some(TOKEN));
    let mut policy = pb::policy_service_client::PolicyServiceClient::new(channel.clone());
    let mut roster = pb::roster_service_client::RosterServiceClient::new(channel.clone());
    let load = load_test_roster(1, now_secs).unwrap();
    for org in load.orgs {
        policy.upsert_org(pb::UpsertOrgRequest { org: Some(org) }).await.unwrap();
    }
    let store = Store::open(&DatabaseUrl::parse(url).unwrap()).unwrap();
    let version = || async { store.version(Duration::from_secs(10)).await.unwrap() };

    let seeded = roster.sync_shifts(tokio_stream::iter(state.sync_messages())).await.unwrap().into_inner();
    let mut last_version_of_day = vec![version().await];
    let shifts_after_seed = state.shifts.len();
    let sizes_after_seed = sizes(backend, url);
    println!(
        "{}: seeded {} agents, {} shifts, {} time off (created {}) in {:.1} s",
        backend.name(),
        state.agents.len(),
        state.shifts.len(),
        state.time_off.len(),
        seeded.created,
        started.elapsed().as_secs_f64()
    );
    let mut entries_changed = 0;
    for day in 1..=DAYS {
        entries_changed += state.change_one_day(day);
        let synced = roster.sync_shifts(tokio_stream::iter(state.sync_messages())).await.unwrap().into_inner();
        assert!(synced.created + synced.updated + synced.deleted > 0, "day {day} changed nothing");
        last_version_of_day.push(version().await);
        if day % 73 == 0 {
            println!(
                "{}: day {day} of {DAYS}: {} shifts stored, roster version {}, {:.0} s",
                backend.name(),
                state.shifts.len(),
                last_version_of_day[day as usize],
                started.elapsed().as_secs_f64()
            );
        }
    }
    drop((policy, roster, channel));
    server.stop().await;
    drop(store);
    let generated = Generated {
        now_secs,
        last_version_of_day,
        sizes_after_seed,
        generation_secs: started.elapsed().as_secs_f64(),
        shifts_after_seed,
        entries_changed,
    };
    redate_commits(url, &generated);
    generated
}

/// Stamps the year's commits one day apart (each day's commits a second apart), and the first
/// policy version just before the first commit.
fn redate_commits(url: &str, generated: &Generated) {
    let mut connection = raw_connection(url);
    let mut statements = String::from("BEGIN;\n");
    let mut day = 0;
    let mut previous_version = -1;
    let mut within_day = 0;
    for version in versions(&mut connection) {
        while version > generated.last_version_of_day[day] {
            day += 1;
            within_day = 0;
        }
        assert!(version > previous_version);
        previous_version = version;
        let stamp = (generated.stamp_of_day(day as i64) + within_day) * 1_000_000;
        within_day += 1;
        statements.push_str(&format!("UPDATE roster_commits SET committed_at = {stamp} WHERE version = {version};\n"));
    }
    let first = (generated.stamp_of_day(0) - 1) * 1_000_000;
    statements.push_str(&format!(
        "UPDATE policy_versions SET effective_at = {first} WHERE policy_version = (SELECT MIN(policy_version) FROM policy_versions);\nCOMMIT;\n"
    ));
    batch(&mut connection, &statements);
}

/// A plain connection to a bench database, outside the service's transactions.
enum Raw {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

fn raw_connection(url: &str) -> Raw {
    match url.strip_prefix("sqlite://") {
        Some(path) => Raw::Sqlite(diesel::SqliteConnection::establish(path).expect("the SQLite file opens")),
        None => Raw::Postgres(diesel::PgConnection::establish(url).expect("PostgreSQL reachable")),
    }
}

fn batch(connection: &mut Raw, statements: &str) {
    match connection {
        Raw::Sqlite(sqlite) => sqlite.batch_execute(statements),
        Raw::Postgres(postgres) => postgres.batch_execute(statements),
    }
    .unwrap_or_else(|error| panic!("raw statements: {error}"));
}

fn versions(connection: &mut Raw) -> Vec<i64> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let rows: Vec<Version> = query(connection, "SELECT version FROM roster_commits ORDER BY version");
    rows.into_iter().map(|row| row.version).collect()
}

fn query<T>(connection: &mut Raw, sql: &str) -> Vec<T>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    match connection {
        Raw::Sqlite(sqlite) => diesel::sql_query(sql).load::<T>(sqlite),
        Raw::Postgres(postgres) => diesel::sql_query(sql).load::<T>(postgres),
    }
    .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

// ---------------------------------------------------------------------------------------------
// Sizes

const HISTORY_TABLES: [&str; 6] = [
    "orgs_history",
    "consents_history",
    "agents_history",
    "location_changes_history",
    "shifts_history",
    "time_off_history",
];

#[derive(QueryableByName)]
struct NamedSize {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    bytes: i64,
}

/// The database's size, whole and per table (with its indexes): (name, bytes).
fn sizes(backend: Backend, url: &str) -> Vec<(String, i64)> {
    let mut connection = raw_connection(url);
    let mut tables: Vec<&str> = HISTORY_TABLES.to_vec();
    tables.extend([
        "roster_commits",
        "shifts",
        "agents",
        "time_off",
        "audit_events",
        "audit_entities",
        "roster_changes",
    ]);
    let rows: Vec<NamedSize> = match backend {
        Backend::Sqlite => {
            batch(&mut connection, "PRAGMA wal_checkpoint(TRUNCATE);");
            // dbstat names each B-tree; an index counts towards its table.
            let mut rows: Vec<NamedSize> = query(
                &mut connection,
                "SELECT COALESCE(m.tbl_name, s.name) AS name, SUM(s.pgsize) AS bytes FROM dbstat AS s \
                 LEFT JOIN sqlite_schema AS m ON m.name = s.name GROUP BY 1",
            );
            rows.retain(|row| tables.contains(&row.name.as_str()));
            rows.extend(query::<NamedSize>(
                &mut connection,
                "SELECT 'database' AS name, page_count * page_size AS bytes FROM pragma_page_count, pragma_page_size",
            ));
            rows
        }
        Backend::Postgres => {
            let mut rows = Vec::new();
            for table in &tables {
                rows.extend(query::<NamedSize>(
                    &mut connection,
                    &format!(
                        "SELECT '{table}' AS name, pg_total_relation_size(to_regclass('{table}'))::BIGINT AS bytes \
                         WHERE to_regclass('{table}') IS NOT NULL"
                    ),
                ));
            }
            rows.extend(query::<NamedSize>(
                &mut connection,
                "SELECT 'database' AS name, pg_database_size(current_database())::BIGINT AS bytes",
            ));
            rows
        }
    };
    rows.into_iter().map(|row| (row.name, row.bytes)).collect()
}

fn row_counts(url: &str) -> Vec<(String, i64, i64)> {
    let mut connection = raw_connection(url);
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = BigInt)]
        n_all: i64,
        #[diesel(sql_type = BigInt)]
        n_open: i64,
    }
    let mut counts = Vec::new();
    for table in HISTORY_TABLES.iter().chain(&["roster_commits"]) {
        let open =
            if *table == "roster_commits" { "0" } else { "SUM(CASE WHEN until_version IS NULL THEN 1 ELSE 0 END)" };
        let row: Vec<Counts> = query(
            &mut connection,
            &format!("SELECT COUNT(*) AS n_all, CAST(COALESCE({open}, 0) AS BIGINT) AS n_open FROM {table}"),
        );
        counts.push((table.to_string(), row[0].n_all, row[0].n_open));
    }
    counts
}

fn print_sizes(backend: Backend, generated: &Generated, database: &Database) {
    let after = sizes(backend, &database.url);
    let before: BTreeMap<&str, i64> =
        generated.sizes_after_seed.iter().map(|(name, bytes)| (name.as_str(), *bytes)).collect();
    println!("{}: size on disk, after the seed -> after the year (MiB):", backend.name());
    let mib = |bytes: i64| bytes as f64 / (1024.0 * 1024.0);
    let mut history_total = (0, 0);
    for (name, bytes) in &after {
        let was = before.get(name.as_str()).copied().unwrap_or(0);
        if HISTORY_TABLES.contains(&name.as_str()) || name == "roster_commits" {
            history_total.0 += was;
            history_total.1 += bytes;
        }
        println!("  {name:<26} {:>8.2} -> {:>8.2}", mib(was), mib(*bytes));
    }
    println!("  {:<26} {:>8.2} -> {:>8.2}", "history (6 tables+commits)", mib(history_total.0), mib(history_total.1));
    if let Some(path) = &database.path {
        let file = std::fs::metadata(path).unwrap().len();
        println!("  SQLite file {:.2} MiB", file as f64 / (1024.0 * 1024.0));
    }
    for (table, all, open) in row_counts(&database.url) {
        println!("  {table:<26} {all:>8} rows, {open:>6} open");
    }
    println!(
        "  the year changed {} entries and agents in {} daily syncs ({} shifts after the seed)",
        generated.entries_changed, DAYS, generated.shifts_after_seed
    );
}

// ---------------------------------------------------------------------------------------------
// Measuring

fn report_request(generated: &Generated, as_known_at: Option<i64>) -> pb::GetCoverageReportRequest {
    let (start, end) = generated.report_window();
    pb::GetCoverageReportRequest {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        window_start: Some(timestamp(start)),
        window_end: Some(timestamp(end)),
        min_staff: 1,
        as_known_at: as_known_at.map(timestamp),
    }
}

async fn timed_report(
    coverage: &mut pb::coverage_service_client::CoverageServiceClient<AuthChannel>,
    request: pb::GetCoverageReportRequest,
) -> (Duration, pb::CoverageReport) {
    let started = WallClock::now();
    let report = coverage.get_coverage_report(request).await.expect("the report").into_inner();
    (started.elapsed(), report)
}

async fn measure_reports(generated: &Generated, database: &Database) {
    let name = database.backend.name();
    let server = SpawnedServer::start(&settings_with_admin_token(&database.url, "bench", TOKEN)).await;
    let channel = with_token(server.connect().await, Some(TOKEN));
    let mut coverage = pb::coverage_service_client::CoverageServiceClient::new(channel.clone());
    // One present report first, so that the first timed one is not also the first of the server.
    timed_report(&mut coverage, report_request(generated, None)).await;
    let mut present = Vec::new();
    let mut past: BTreeMap<i64, Vec<Duration>> = BTreeMap::new();
    let mut all_past = Vec::new();
    let mut last_asked = 0;
    for round in 0..RUNS {
        let (elapsed, _) = timed_report(&mut coverage, report_request(generated, None)).await;
        present.push(elapsed);
        for days_ago in MOMENT_DAYS_AGO {
            let day = DAYS - days_ago - round as i64;
            let at = generated.stamp_of_day(day) + 3_600;
            let (elapsed, report) = timed_report(&mut coverage, report_request(generated, Some(at))).await;
            let known = report.known_as.expect("known_as is set");
            assert_eq!(known.roster_version, generated.last_version_of_day[day as usize]);
            past.entry(days_ago).or_default().push(elapsed);
            all_past.push(elapsed);
            last_asked = at;
        }
    }
    let mut kept = Vec::new();
    for _ in 0..RUNS {
        kept.push(timed_report(&mut coverage, report_request(generated, Some(last_asked))).await.0);
    }
    let present_median = median(present.clone());
    println!(
        "{name}: present report: median {} ms (runs {:?})",
        ms(present_median),
        present.iter().map(|run| ms(*run)).collect::<Vec<_>>()
    );
    for (days_ago, runs) in &past {
        println!(
            "{name}:   as known at {days_ago}-{} days ago, first answer: median {} ms (runs {:?}), {:.1}x",
            days_ago + RUNS as i64 - 1,
            ms(median(runs.clone())),
            runs.iter().map(|run| ms(*run)).collect::<Vec<_>>(),
            median(runs.clone()).as_secs_f64() / present_median.as_secs_f64()
        );
    }
    let (min, max) = (all_past.iter().min().unwrap(), all_past.iter().max().unwrap());
    println!(
        "{name}: as known at a moment of the last 90 days, first answer: median {} ms of {} ({} to {} ms): {:.1}x the present (target within 3x)",
        ms(median(all_past.clone())),
        all_past.len(),
        ms(*min),
        ms(*max),
        median(all_past.clone()).as_secs_f64() / present_median.as_secs_f64()
    );
    println!(
        "{name}: the same moment asked again (snapshot kept): median {} ms (runs {:?}), {:.2}x",
        ms(median(kept.clone())),
        kept.iter().map(|run| ms(*run)).collect::<Vec<_>>(),
        median(kept.clone()).as_secs_f64() / present_median.as_secs_f64()
    );
    measure_explain(generated, &channel, name).await;
    drop((coverage, channel));
    server.stop().await;
}

/// `ExplainTicket` for a ticket living `days` days, ending 6 hours before the generation (so it
/// crosses `days` daily commits), its severity changed twice; every page, three times.
async fn measure_explain(generated: &Generated, channel: &AuthChannel, name: &str) {
    let mut tickets = pb::ticket_service_client::TicketServiceClient::new(channel.clone());
    for days in [7, 90] {
        let until = generated.now_secs - 6 * 3_600;
        let created = until - days * DAY;
        let request = pb::ExplainTicketRequest {
            org_id: ORG.into(),
            ticket_id: "T-18".into(),
            created_at: Some(timestamp(created)),
            severity: pb::Severity::Severity2 as i32,
            category: pb::TicketCategory::ProductSupport as i32,
            changes: vec![
                pb::TicketChange {
                    at: Some(timestamp(created + days * DAY / 3)),
                    severity: pb::Severity::Severity1 as i32,
                    category: 0,
                },
                pb::TicketChange {
                    at: Some(timestamp(created + 2 * days * DAY / 3)),
                    severity: pb::Severity::Severity3 as i32,
                    category: 0,
                },
            ],
            until: Some(timestamp(until)),
            from: None,
        };
        let mut runs = Vec::new();
        let (mut n_pages, mut n_moments, mut versions) = (0, 0, std::collections::BTreeSet::new());
        for _ in 0..RUNS {
            let started = WallClock::now();
            let mut from = None;
            (n_pages, n_moments) = (0, 0);
            loop {
                let page = tickets
                    .explain_ticket(pb::ExplainTicketRequest { from, ..request.clone() })
                    .await
                    .expect("the explanation")
                    .into_inner();
                n_pages += 1;
                n_moments += page.moments.len();
                versions.extend(
                    page.moments.iter().filter_map(|moment| moment.known_as.as_ref()).map(|k| k.roster_version),
                );
                match page.next_from {
                    Some(next) => from = Some(next),
                    None => break,
                }
            }
            runs.push(started.elapsed());
        }
        let commits_crossed = (0..=DAYS).filter(|day| {
            let stamp = generated.stamp_of_day(*day);
            stamp > created && stamp < until
        });
        println!(
            "{name}: ExplainTicket, a ticket of {days} days ({} commits in its life): median {} ms (runs {:?}), {n_pages} page(s), {n_moments} moments from {} roster versions",
            commits_crossed.count(),
            ms(median(runs.clone())),
            runs.iter().map(|run| ms(*run)).collect::<Vec<_>>(),
            versions.len()
        );
    }
}

/// Where a first answer's time goes, in this process through the service's own functions: the
/// present roster read (`load_all`), a past one (`load_as_of`), the snapshot built from it, and
/// the report.
fn measure_split(generated: &Generated, database: &Database) {
    let name = database.backend.name();
    let store = Store::open(&DatabaseUrl::parse(&database.url).unwrap()).unwrap();
    let (start, end) = generated.report_window();
    let window = Interval::new(Instant::from_second(start).unwrap(), Instant::from_second(end).unwrap()).unwrap();
    let question = CoverageQuestion { plan: PlanKind::EeaOnly, eea_tagged: true, window, min_staff: 1 };
    let policy = std::sync::Arc::new(Policy::default_policy());
    let mut present_loads = Vec::new();
    for _ in 0..RUNS {
        let started = WallClock::now();
        let stored = store.read_consistent_here(storage::load_all).unwrap();
        present_loads.push(started.elapsed());
        std::hint::black_box(stored);
    }
    println!("{name}: split: load_all (the present roster) median {} ms", ms(median(present_loads)));
    for days_ago in [5, 45, 85] {
        let version = generated.last_version_of_day[(DAYS - days_ago) as usize];
        let (mut loads, mut builds, mut reports) = (Vec::new(), Vec::new(), Vec::new());
        let mut sizes = (0, 0);
        for _ in 0..RUNS {
            let started = WallClock::now();
            let stored =
                store.read_consistent_here(move |connection| storage::load_as_of(connection, version)).unwrap();
            loads.push(started.elapsed());
            sizes = (stored.agents.len(), stored.shifts.len());
            let started = WallClock::now();
            let snapshot = Snapshot::build(
                policy.clone(),
                stored.orgs,
                stored.agents,
                stored.shifts,
                stored.time_off,
                stored.consents,
            );
            builds.push(started.elapsed());
            let started = WallClock::now();
            std::hint::black_box(coverage_report(&snapshot, &question, machine_parallelism()));
            reports.push(started.elapsed());
        }
        println!(
            "{name}: split, version {version} ({days_ago} days ago; {} agents, {} shifts): load_as_of median {} ms {:?}, Snapshot::build {} ms, report {} ms",
            sizes.0,
            sizes.1,
            ms(median(loads.clone())),
            loads.iter().map(|run| ms(*run)).collect::<Vec<_>>(),
            ms(median(builds)),
            ms(median(reports))
        );
    }
}

fn main() {
    let postgres = std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty());
    let mut backends: Vec<(Backend, Option<&str>)> = vec![(Backend::Sqlite, None)];
    match &postgres {
        Some(url) => backends.push((Backend::Postgres, Some(url.as_str()))),
        None => println!("postgres: skipped (TEST_DATABASE_URL is not set)"),
    }
    let only = std::env::var("HISTORY_YEAR_BACKEND").ok();
    // Only the sizes and where a first answer's time goes: quick, for a profiler.
    let split_only = std::env::var("HISTORY_YEAR_SPLIT_ONLY").is_ok_and(|value| value == "1");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for (backend, admin_url) in backends {
        if only.as_deref().is_some_and(|only| only != backend.name()) {
            continue;
        }
        let generated = kept_year(backend, admin_url, &runtime);
        let database = copy_of_year(backend, admin_url, "run");
        print_sizes(backend, &generated, &database);
        if !split_only {
            runtime.block_on(measure_reports(&generated, &database));
        }
        measure_split(&generated, &database);
    }
}

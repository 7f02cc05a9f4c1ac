//! 100,000 shifts in one SyncShifts, timed end to end from a gRPC client against a server in
//! this process, beside the same rows inserted directly into the same kind of database in one
//! transaction. Run with `cargo bench --bench sync_shifts`; PostgreSQL is measured too when
//! `TEST_DATABASE_URL` names a server (a throw-away database is created and dropped per run).
//!
//! Prints the median of each over `RUNS` runs and their ratio; then, on SQLite, the bytes the
//! same sync puts on the wire (counted by a TCP relay between client and server) sent as it is
//! and compressed with gzip and with zstd.

use std::time::{Duration, Instant as WallClock};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;

use eea_coverage::cli::connection::with_token;
use eea_coverage::domain::roster::{ScheduleDraft, Shift, ShiftDraft};
use eea_coverage::pb;
use eea_coverage::storage::{self, DatabaseUrl, Store};
use eea_coverage::testing::{one_off_shift, settings_with_admin_token, SpawnedServer};

const BENCH_TOKEN: &str = "bench-admin-token";

const N_AGENTS: usize = 1_000;
const SHIFTS_PER_AGENT: usize = 100;
const BATCH_SIZE: usize = 1_000;
const RUNS: usize = 3;
/// 2027-01-04T00:00:00Z, a Monday: 100 daily shifts per agent fit in the 366-day window.
const WINDOW_START: i64 = 1_798_934_400;

fn timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

fn shift_times(agent_idx: usize, shift_idx: usize) -> (i64, i64) {
    let start = WINDOW_START + shift_idx as i64 * 86_400 + (agent_idx % 16) as i64 * 3_600;
    (start, start + 8 * 3_600)
}

fn wire_shifts() -> Vec<pb::Shift> {
    (0..N_AGENTS)
        .flat_map(|agent_idx| {
            (0..SHIFTS_PER_AGENT).map(move |shift_idx| {
                let (start, end) = shift_times(agent_idx, shift_idx);
                one_off_shift(format!("wfm-{agent_idx:04}-{shift_idx:03}"), format!("agent-{agent_idx:04}"), start, end)
            })
        })
        .collect()
}

fn domain_shifts() -> Vec<Shift> {
    (0..N_AGENTS)
        .flat_map(|agent_idx| {
            (0..SHIFTS_PER_AGENT).map(move |shift_idx| {
                let (start, end) = shift_times(agent_idx, shift_idx);
                Shift::new(ShiftDraft {
                    shift_id: format!("wfm-{agent_idx:04}-{shift_idx:03}"),
                    agent_id: format!("agent-{agent_idx:04}"),
                    severities: vec![],
                    country: String::new(),
                    schedule: ScheduleDraft::OneOff {
                        starts_at: Some(jiff::Timestamp::from_second(start).unwrap()),
                        ends_at: Some(jiff::Timestamp::from_second(end).unwrap()),
                    },
                    source: Some("wfm".into()),
                })
                .expect("a valid generated shift")
            })
        })
        .collect()
}

fn agents() -> Vec<pb::Agent> {
    (0..N_AGENTS)
        .map(|agent_idx| pb::Agent {
            agent_id: format!("agent-{agent_idx:04}"),
            display_name: format!("Agent {agent_idx}"),
            country: "IE".into(),
            time_zone: "Europe/Dublin".into(),
            severities: vec![],
            location_changes: vec![],
        })
        .collect()
}

/// A fresh database of the backend: a temporary SQLite file or a throw-away PostgreSQL database.
struct Database {
    url: String,
    postgres_admin: Option<(String, String)>,
    _directory: Option<tempfile::TempDir>,
}

impl Database {
    fn create(postgres_admin_url: Option<&str>, run_idx: usize) -> Database {
        match postgres_admin_url {
            None => {
                let directory = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", directory.path().join("bench.db").display());
                Database { url, postgres_admin: None, _directory: Some(directory) }
            }
            Some(admin_url) => {
                let name = format!("eea_bench_{}_{run_idx}", std::process::id());
                let mut admin = diesel::PgConnection::establish(admin_url).expect("PostgreSQL reachable");
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).unwrap();
                admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
                let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
                Database {
                    url: format!("{base}/{name}"),
                    postgres_admin: Some((admin_url.to_owned(), name)),
                    _directory: None,
                }
            }
        }
    }
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

/// Relays one connection to `server`, counting the bytes each way: (to the server, from it).
async fn counting_relay(server: std::net::SocketAddr) -> (std::net::SocketAddr, JoinHandle<(u64, u64)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let relay = tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let upstream = TcpStream::connect(server).await.unwrap();
        let ((client_read, client_write), (upstream_read, upstream_write)) =
            (client.into_split(), upstream.into_split());
        let to_server = tokio::spawn(pump(client_read, upstream_write));
        let from_server = tokio::spawn(pump(upstream_read, client_write));
        (to_server.await.unwrap(), from_server.await.unwrap())
    });
    (address, relay)
}

/// Copies until either side ends or fails (a server that stops resets the connection), and
/// returns the bytes copied.
async fn pump(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin) -> u64 {
    let (mut buffer, mut copied) = (vec![0u8; 64 * 1024], 0u64);
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return copied,
            Ok(n_read) => {
                if to.write_all(&buffer[..n_read]).await.is_err() {
                    return copied;
                }
                copied += n_read as u64;
            }
        }
    }
}

/// One sync through the service, sent as it is: how long it took.
async fn sync_through_the_service(database: &Database, shifts: &[pb::Shift]) -> Duration {
    sync_over_the_wire(database, shifts, None, false).await.0
}

/// One sync through the service, its request stream compressed with `compression` (or not):
/// how long it took and, when `count_bytes`, the bytes on the wire each way.
async fn sync_over_the_wire(
    database: &Database,
    shifts: &[pb::Shift],
    compression: Option<CompressionEncoding>,
    count_bytes: bool,
) -> (Duration, Option<(u64, u64)>) {
    let server = SpawnedServer::start(&settings_with_admin_token(&database.url, "bench", BENCH_TOKEN)).await;
    let (channel, relay) = if count_bytes {
        let (address, relay) = counting_relay(server.address).await;
        let channel = Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
        (channel, Some(relay))
    } else {
        (server.connect().await, None)
    };
    let mut roster = pb::roster_service_client::RosterServiceClient::new(with_token(channel, Some(BENCH_TOKEN)));
    if let Some(encoding) = compression {
        roster = roster.send_compressed(encoding).accept_compressed(encoding);
    }
    roster.upsert_agents(pb::UpsertAgentsRequest { agents: agents(), source: "wfm".into() }).await.unwrap();

    let header = pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Header(pb::SyncHeader {
            source: "wfm".into(),
            window_start: Some(timestamp(WINDOW_START)),
            window_end: Some(timestamp(WINDOW_START + 366 * 86_400)),
            dry_run: false,
        })),
    };
    let batches: Vec<pb::SyncShiftsRequest> = shifts
        .chunks(BATCH_SIZE)
        .map(|chunk| pb::SyncShiftsRequest {
            message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch {
                shifts: chunk.to_vec(),
                time_off: vec![],
                agents: vec![],
            })),
        })
        .collect();
    let started = WallClock::now();
    let response = roster
        .sync_shifts(tokio_stream::iter(std::iter::once(header).chain(batches)))
        .await
        .expect("the sync succeeds")
        .into_inner();
    let elapsed = started.elapsed();
    assert_eq!(response.created as usize, shifts.len());
    drop(roster);
    server.stop().await;
    let bytes = match relay {
        Some(relay) => Some(relay.await.unwrap()),
        None => None,
    };
    (elapsed, bytes)
}

fn insert_directly(database: &Database, shifts: Vec<Shift>) -> Duration {
    let url = DatabaseUrl::parse(&database.url).unwrap();
    let store = Store::open(&url).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let agents: Vec<_> = agents()
        .into_iter()
        .map(|agent| {
            eea_coverage::domain::roster::Agent::new(eea_coverage::domain::roster::AgentDraft {
                agent_id: agent.agent_id,
                display_name: agent.display_name,
                country: agent.country,
                time_zone: agent.time_zone,
                severities: vec![],
                location_changes: vec![],
                source: None,
            })
            .unwrap()
        })
        .collect();
    let never_abandoned = || false;
    runtime
        .block_on(store.write_unless(move |connection| storage::upsert_agents(connection, &agents), never_abandoned))
        .unwrap();
    let started = WallClock::now();
    let counts = runtime
        .block_on(store.write_unless(move |connection| storage::upsert_entries(connection, &shifts), never_abandoned))
        .unwrap()
        .outcome;
    let elapsed = started.elapsed();
    assert_eq!(counts.created, N_AGENTS * SHIFTS_PER_AGENT);
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    let postgres = std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty());
    let mut backends: Vec<(&str, Option<&str>)> = vec![("sqlite", None)];
    match &postgres {
        Some(url) => backends.push(("postgres", Some(url.as_str()))),
        None => println!("postgres: skipped (TEST_DATABASE_URL is not set)"),
    }
    let wire = wire_shifts();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for (name, admin_url) in backends {
        let mut service_runs = Vec::new();
        let mut direct_runs = Vec::new();
        for run_idx in 0..RUNS {
            let database = Database::create(admin_url, run_idx);
            service_runs.push(runtime.block_on(sync_through_the_service(&database, &wire)));
            let database = Database::create(admin_url, RUNS + run_idx);
            direct_runs.push(insert_directly(&database, domain_shifts()));
        }
        let (service, direct) = (median(service_runs.clone()), median(direct_runs.clone()));
        println!(
            "{name}: {} shifts in one SyncShifts: median {:.2} s end to end (runs {:?}); direct insert in one transaction: median {:.2} s; ratio {:.2}x",
            wire.len(),
            service.as_secs_f64(),
            service_runs.iter().map(|run| format!("{:.2}", run.as_secs_f64())).collect::<Vec<_>>(),
            direct.as_secs_f64(),
            service.as_secs_f64() / direct.as_secs_f64()
        );
    }
    let encodings =
        [("none", None), ("gzip", Some(CompressionEncoding::Gzip)), ("zstd", Some(CompressionEncoding::Zstd))];
    for (run_idx, (name, compression)) in encodings.into_iter().enumerate() {
        let database = Database::create(None, 2 * RUNS + run_idx);
        let (elapsed, bytes) = runtime.block_on(sync_over_the_wire(&database, &wire, compression, true));
        let (sent, received) = bytes.expect("counted");
        println!(
            "sqlite, {} shifts, stream compression {name}: {:.2} MB to the server, {:.1} KB back, {:.2} s end to end",
            wire.len(),
            sent as f64 / 1e6,
            received as f64 / 1e3,
            elapsed.as_secs_f64()
        );
    }
}

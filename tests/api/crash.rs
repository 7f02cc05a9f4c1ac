//! A server process killed (SIGKILL) in the middle of a large sync leaves the window entirely
//! old or entirely new, never a mix.

use eea_coverage::pb;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use eea_coverage::testing::one_off_shift;

use crate::helpers::{agent, create_database, sync_batch, Backend, TestDatabase};

type RosterClient = pb::roster_service_client::RosterServiceClient<crate::helpers::AuthChannel>;

const N_AGENTS: usize = 50;
const SHIFTS_PER_AGENT: usize = 300;
const WINDOW_START: i64 = 1_798_934_400; // 2027-01-04T00:00:00Z

/// The real binary, serving on a free port; the address comes from its JSON start-up log.
struct ServerProcess {
    child: Child,
    address: String,
    token_file: std::path::PathBuf,
}

impl ServerProcess {
    fn start(database: &TestDatabase, token_file: &std::path::Path) -> ServerProcess {
        // With no tokens configured, the server generates an admin token into this file.
        let mut child = Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--database-url", database.url()])
            .env("EEA_COVERAGE_TOKEN_FILE", token_file)
            // The JSON API on a free port too: tests run side by side.
            .env("EEA_COVERAGE_HTTP_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines.next().expect("the server logs its address before exiting").expect("readable log");
            let log: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if let Some(address) = log.get("listen.address").and_then(|value| value.as_str()) {
                break address.to_owned();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServerProcess { child, address, token_file: token_file.to_owned() }
    }

    async fn client(&self) -> RosterClient {
        let channel = tonic::transport::Channel::from_shared(format!("http://{}", self.address))
            .unwrap()
            .connect()
            .await
            .expect("connecting to the server process");
        let token = std::fs::read_to_string(&self.token_file).expect("the server wrote its admin token");
        RosterClient::new(crate::helpers::with_token(channel, Some(token.trim())))
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        self.child.wait().expect("the killed server is reaped");
    }
}

/// Generation `generation` of the roster: the same IDs, each generation an hour later.
fn shifts(generation: i64) -> Vec<pb::Shift> {
    (0..N_AGENTS)
        .flat_map(|agent_idx| {
            (0..SHIFTS_PER_AGENT).map(move |shift_idx| {
                let start = WINDOW_START + shift_idx as i64 * 86_400 + generation * 3_600;
                let (shift_id, agent_id) =
                    (format!("crash-{agent_idx:03}-{shift_idx:03}"), format!("agent-{agent_idx:03}"));
                one_off_shift(shift_id, agent_id, start, start + 8 * 3_600)
            })
        })
        .collect()
}

fn sync_messages(generation: i64) -> Vec<pb::SyncShiftsRequest> {
    let header = pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Header(pb::SyncHeader {
            source: "wfm".into(),
            window_start: Some(prost_types::Timestamp { seconds: WINDOW_START, nanos: 0 }),
            window_end: Some(prost_types::Timestamp { seconds: WINDOW_START + 366 * 86_400, nanos: 0 }),
            dry_run: false,
        })),
    };
    std::iter::once(header)
        .chain(shifts(generation).chunks(500).map(|chunk| sync_batch(chunk.to_vec(), vec![])))
        .collect()
}

/// How many shifts of each generation one listing shows, following page tokens.
async fn listed_generations(roster: &mut RosterClient) -> std::collections::BTreeMap<i64, usize> {
    let mut generations = std::collections::BTreeMap::<i64, usize>::new();
    let mut page_token = String::new();
    loop {
        let page = roster
            .list_shifts(pb::ListShiftsRequest { page_size: 1000, page_token, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        for shift in &page.shifts {
            let Some(pb::shift::Schedule::OneOff(one_off)) = &shift.schedule else { panic!("one-off shifts only") };
            let offset = one_off.starts_at.unwrap().seconds - WINDOW_START;
            *generations.entry((offset % 86_400) / 3_600).or_default() += 1;
        }
        if page.next_page_token.is_empty() {
            return generations;
        }
        page_token = page.next_page_token;
    }
}

/// The generation every stored shift belongs to; panics on a mix. A listing spans several pages,
/// and a commit the killed server sent just before dying may land while the new server lists
/// (its snapshot then changes between pages); so a mix must persist over repeated listings to
/// count: a half-written window in the database would.
async fn stored_generation(roster: &mut RosterClient) -> i64 {
    let mut generations = listed_generations(roster).await;
    for _ in 0..3 {
        if generations.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        generations = listed_generations(roster).await;
    }
    assert_eq!(generations.len(), 1, "the window holds a mix of generations: {generations:?}");
    let (generation, count) = generations.into_iter().next().unwrap();
    assert_eq!(count, N_AGENTS * SHIFTS_PER_AGENT, "generation {generation} is incomplete");
    generation
}

async fn a_server_killed_mid_sync_leaves_the_window_old_or_new(backend: Backend) {
    let Some(database) = create_database(backend) else { return };
    let token_directory = tempfile::tempdir().unwrap();
    let token_file = token_directory.path().join("admin.token");
    let server = ServerProcess::start(&database, &token_file);
    let mut roster = server.client().await;
    let agents =
        (0..N_AGENTS).map(|agent_idx| agent(&format!("agent-{agent_idx:03}"), "IE", "Europe/Dublin")).collect();
    roster.upsert_agents(pb::UpsertAgentsRequest { agents, source: "wfm".into() }).await.unwrap();
    let started = std::time::Instant::now();
    roster.sync_shifts(tokio_stream::iter(sync_messages(0))).await.unwrap();
    let full_sync = started.elapsed();
    let mut server = server;
    let mut outcomes = Vec::new();
    // Kill points spread from early in the stream to well after a sync takes: each attempt syncs
    // the next generation and kills the process after that fraction of a whole sync's time.
    for (attempt, percent) in [5u32, 30, 60, 85, 95, 105, 120, 300].into_iter().enumerate() {
        let delay = full_sync * percent / 100;
        let before = stored_generation(&mut roster).await;
        let target = before + 1;
        let mut client = server.client().await;
        let sync = tokio::spawn(async move { client.sync_shifts(tokio_stream::iter(sync_messages(target))).await });
        tokio::time::sleep(delay).await;
        server.kill();
        let _ = sync.await;
        server = ServerProcess::start(&database, &token_file);
        roster = server.client().await;
        let after = stored_generation(&mut roster).await;
        assert!(
            after == before || after == target,
            "attempt {attempt}: generation {after}, expected {before} or {target}"
        );
        outcomes.push(after == target);
    }
    eprintln!("kill test, whole sync {full_sync:?}: the new window landed {outcomes:?}");
    assert!(outcomes.last() == Some(&true), "a kill long after a whole sync's time finds the new window");
    server.kill();
}

crate::on_both_backends!(a_server_killed_mid_sync_leaves_the_window_old_or_new);

//! `eea-coverage load`: a load generator built on the project's own client. It can seed a
//! server with a realistic roster, then measures the health check (the cost of a gRPC round trip
//! alone) and `DecideTicket` under the same concurrency, counting outcomes by status code.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant as WallClock};

use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::cli::connection::{with_token, AuthChannel, CallerArgs};
use crate::pb;
use crate::testing::rosters::{load_test_roster, LOAD_TEST_ORGS};
use crate::testing::DeterministicRandom;

#[derive(clap::Args)]
pub struct LoadArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// HTTP/2 connections to spread the calls over.
    #[arg(long, value_name = "N", default_value_t = 4)]
    connections: usize,
    /// Calls in flight at once.
    #[arg(long, value_name = "N", default_value_t = 64)]
    concurrency: usize,
    /// How long each phase runs, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    duration: u64,
    /// Run each phase for exactly this many calls instead of for `--duration` (with
    /// `--concurrency 1 --connections 1`: calls one after another, as for the stall count).
    #[arg(long, value_name = "N")]
    calls: Option<u64>,
    /// Repeat the cycle of phases this many times, each phase getting its share of the time or
    /// calls, and report each call over all rounds: the health check and the hot calls then
    /// take turns often enough that a noisy machine treats them alike.
    #[arg(long, value_name = "N", default_value_t = 1)]
    rounds: u32,
    /// How many seeded agents (`load-agent-00000` on) `CheckAgentAccess` asks about; default:
    /// `--seed-agents` when given, else 5000.
    #[arg(long, value_name = "N")]
    agents: Option<usize>,
    /// First load the server with a roster of this many agents (with orgs, shifts over 90 days
    /// around now, and time off); 0 loads nothing.
    #[arg(long, value_name = "AGENTS", default_value_t = 0)]
    seed_agents: usize,
    #[command(flatten)]
    caller: CallerArgs,
}

/// What one phase measured.
pub struct PhaseResult {
    pub name: &'static str,
    pub elapsed: Duration,
    pub outcomes: BTreeMap<String, u64>,
    /// Latencies of successful calls, microseconds, sorted.
    pub latencies_us: Vec<u64>,
}

/// Seeds the server when asked, then measures each phase and prints what it measured.
pub async fn run_load(args: LoadArgs) -> Result<(), String> {
    let mut channels = Vec::new();
    for _ in 0..args.connections.max(1) {
        let channel = args
            .caller
            .endpoint(&args.server)?
            .connect()
            .await
            .map_err(|error| format!("cannot reach {}: {error}", args.server))?;
        channels.push(channel);
    }
    let now = crate::clock::now().as_second();
    let token = args.caller.token();
    if args.seed_agents > 0 {
        let started = WallClock::now();
        seed(with_token(channels[0].clone(), token.as_deref()), args.seed_agents, now).await?;
        eprintln!("seeded {} agents in {:.1} s", args.seed_agents, started.elapsed().as_secs_f64());
    }
    let rounds = args.rounds.max(1);
    let length = match args.calls {
        Some(n_calls) => PhaseLength::Calls((n_calls / u64::from(rounds)).max(1)),
        None => PhaseLength::Duration(Duration::from_secs(args.duration.max(1)) / rounds),
    };
    let per_phase = match length {
        PhaseLength::Calls(n_calls) => format!("{n_calls} calls per phase"),
        PhaseLength::Duration(duration) => format!("{} s per phase", duration.as_secs()),
    };
    println!("{} connections, {} calls in flight, {per_phase}, {rounds} round(s)", channels.len(), args.concurrency);
    // A short warm-up, so connection set-up is not measured.
    let warm_up = PhaseLength::Duration(Duration::from_millis(500));
    let _ = run_phase("warm-up", &channels, args.concurrency, warm_up, 0, health_call).await;
    let authenticated: Vec<AuthChannel> =
        channels.iter().map(|channel| with_token(channel.clone(), token.as_deref())).collect();
    let n_agents = args.agents.unwrap_or(if args.seed_agents > 0 { args.seed_agents } else { 5_000 }).max(1);
    let concurrency = args.concurrency;
    let (mut health, mut decide, mut health_again, mut access) = (None, None, None, None);
    for round in 0..rounds {
        // Each round asks new questions: its calls are numbered on from the last round's.
        let first_call_idx = u64::from(round) * 1_000_000_000_000;
        let health_round = run_phase("health Check", &channels, concurrency, length, first_call_idx, health_call).await;
        let decide_round =
            run_phase("DecideTicket", &authenticated, concurrency, length, first_call_idx, move |channel, call_idx| {
                decide_call(channel, call_idx, now)
            })
            .await;
        let health_again_round =
            run_phase("health Check", &channels, concurrency, length, first_call_idx, health_call).await;
        let access_round = run_phase(
            "CheckAgentAccess",
            &authenticated,
            concurrency,
            length,
            first_call_idx,
            move |channel, call_idx| access_call(channel, call_idx, now, n_agents),
        )
        .await;
        health = Some(PhaseResult::merged(health, health_round));
        decide = Some(PhaseResult::merged(decide, decide_round));
        health_again = Some(PhaseResult::merged(health_again, health_again_round));
        access = Some(PhaseResult::merged(access, access_round));
    }
    let [health, decide, health_again, access] =
        [health, decide, health_again, access].map(|phase| phase.expect("at least one round"));
    // Each hot call is compared with the health phases that ran just before it, round by round,
    // so the two compared ran under the same conditions.
    for phase in [&health, &decide, &health_again, &access] {
        println!("{}", phase.describe());
    }
    println!("{}", decide.compare(&health));
    println!("{}", access.compare(&health_again));
    Ok(())
}

impl PhaseResult {
    /// `next` added to what came before it (`None` for the first round).
    fn merged(before: Option<PhaseResult>, next: PhaseResult) -> PhaseResult {
        let Some(mut before) = before else { return next };
        before.elapsed += next.elapsed;
        for (code, count) in next.outcomes {
            *before.outcomes.entry(code).or_default() += count;
        }
        before.latencies_us.extend(next.latencies_us);
        before.latencies_us.sort_unstable();
        before
    }

    pub fn n_calls(&self) -> u64 {
        self.outcomes.values().sum()
    }

    pub fn throughput(&self) -> f64 {
        self.n_calls() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile_us(&self, fraction: f64) -> u64 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let rank = ((self.latencies_us.len() as f64 * fraction).ceil() as usize).clamp(1, self.latencies_us.len());
        self.latencies_us[rank - 1]
    }

    /// Successful calls slower than `bound_us`: the stalls a caller notices.
    pub fn n_slower_than_us(&self, bound_us: u64) -> usize {
        self.latencies_us.len() - self.latencies_us.partition_point(|&latency| latency <= bound_us)
    }

    pub fn describe(&self) -> String {
        let outcomes: Vec<String> = self.outcomes.iter().map(|(code, count)| format!("{code}={count}")).collect();
        format!(
            "{:<16} {:>9} calls in {:>5.1} s  {:>9.0} calls/s  p50 {:>6.2} ms  p99 {:>6.2} ms  p99.9 {:>6.2} ms  max {:>6.2} ms  >5ms {:>5}  [{}]",
            self.name,
            self.n_calls(),
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.percentile_us(0.50) as f64 / 1e3,
            self.percentile_us(0.99) as f64 / 1e3,
            self.percentile_us(0.999) as f64 / 1e3,
            self.latencies_us.last().copied().unwrap_or(0) as f64 / 1e3,
            self.n_slower_than_us(5_000),
            outcomes.join(" ")
        )
    }

    /// This phase against a baseline phase (the health check): throughput and tail ratios.
    pub fn compare(&self, baseline: &PhaseResult) -> String {
        let ratio = |mine: u64, theirs: u64| mine as f64 / theirs.max(1) as f64;
        format!(
            "{} / {}: throughput {:.2}x, p50 {:.2}x, p99 {:.2}x, p99.9 {:.2}x",
            self.name,
            baseline.name,
            self.throughput() / baseline.throughput().max(1e-9),
            ratio(self.percentile_us(0.50), baseline.percentile_us(0.50)),
            ratio(self.percentile_us(0.99), baseline.percentile_us(0.99)),
            ratio(self.percentile_us(0.999), baseline.percentile_us(0.999)),
        )
    }
}

fn timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

/// Loads orgs, agents, recurring shifts and time off: a 90-day roster around now.
async fn seed(channel: AuthChannel, n_agents: usize, now: i64) -> Result<(), String> {
    let roster_to_load = load_test_roster(n_agents, now)?;
    let mut policy = pb::policy_service_client::PolicyServiceClient::new(channel.clone());
    for org in roster_to_load.orgs {
        policy
            .upsert_org(pb::UpsertOrgRequest { org: Some(org) })
            .await
            .map_err(|status| status.message().to_owned())?;
    }
    let mut roster = pb::roster_service_client::RosterServiceClient::new(channel);
    for batch in roster_to_load.agents.chunks(1_000) {
        roster
            .upsert_agents(pb::UpsertAgentsRequest { agents: batch.to_vec(), source: "load".into() })
            .await
            .map_err(|status| status.message().to_owned())?;
    }
    let (shifts, time_off, window_start) =
        (roster_to_load.shifts, roster_to_load.time_off, roster_to_load.window_start_secs);
    let header = pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Header(pb::SyncHeader {
            source: "load".into(),
            window_start: Some(timestamp(window_start - 86_400)),
            window_end: Some(timestamp(window_start + 100 * 86_400)),
            dry_run: false,
        })),
    };
    let batches = shifts.chunks(1_000).map(|chunk| pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch {
            shifts: chunk.to_vec(),
            time_off: vec![],
        })),
    });
    let end = crate::cli::import::sync_end(shifts.len(), time_off.len());
    let leave = pb::SyncShiftsRequest {
        message: Some(pb::sync_shifts_request::Message::Batch(pb::SyncBatch { shifts: vec![], time_off })),
    };
    let messages: Vec<_> =
        std::iter::once(header).chain(batches).chain(std::iter::once(leave)).chain(std::iter::once(end)).collect();
    roster.sync_shifts(tokio_stream::iter(messages)).await.map_err(|status| status.message().to_owned())?;
    Ok(())
}

/// How long a phase runs.
#[derive(Clone, Copy, Debug)]
enum PhaseLength {
    Duration(Duration),
    Calls(u64),
}

/// Runs `call` from `concurrency` tasks over `channels` until the phase's time or calls are
/// used up.
async fn run_phase<C, F, Fut>(
    name: &'static str,
    channels: &[C],
    concurrency: usize,
    length: PhaseLength,
    first_call_idx: u64,
    call: F,
) -> PhaseResult
where
    C: Clone + Send + 'static,
    F: Fn(C, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), tonic::Code>> + Send,
{
    let call = Arc::new(call);
    let started = WallClock::now();
    let (deadline, calls_left) = match length {
        PhaseLength::Duration(duration) => (Some(started + duration), None),
        PhaseLength::Calls(n_calls) => (None, Some(Arc::new(std::sync::atomic::AtomicU64::new(n_calls)))),
    };
    let tasks: Vec<_> = (0..concurrency)
        .map(|task_idx| {
            let channel = channels[task_idx % channels.len()].clone();
            let call = call.clone();
            let calls_left = calls_left.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
                let mut call_idx = first_call_idx + task_idx as u64 * 1_000_003;
                let another_call = || match (&calls_left, deadline) {
                    (Some(calls_left), _) => calls_left
                        .fetch_update(std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed, |n| {
                            n.checked_sub(1)
                        })
                        .is_ok(),
                    (None, Some(deadline)) => WallClock::now() < deadline,
                    (None, None) => false,
                };
                while another_call() {
                    let sent = WallClock::now();
                    let outcome = call(channel.clone(), call_idx).await;
                    call_idx += 1;
                    match outcome {
                        Ok(()) => {
                            latencies.push(sent.elapsed().as_micros() as u64);
                            *outcomes.entry("OK".into()).or_default() += 1;
                        }
                        Err(code) => *outcomes.entry(format!("{code:?}")).or_default() += 1,
                    }
                }
                (latencies, outcomes)
            })
        })
        .collect();
    let mut latencies_us = Vec::new();
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        let (task_latencies, task_outcomes) = task.await.expect("a load task does not panic");
        latencies_us.extend(task_latencies);
        for (code, count) in task_outcomes {
            *outcomes.entry(code).or_default() += count;
        }
    }
    latencies_us.sort_unstable();
    PhaseResult { name, elapsed: started.elapsed(), outcomes, latencies_us }
}

async fn health_call(channel: Channel, _call_idx: u64) -> Result<(), tonic::Code> {
    outcome(HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await)
}

/// Varied orgs, severities, categories and instants within the next two weeks.
async fn decide_call(channel: AuthChannel, call_idx: u64, now: i64) -> Result<(), tonic::Code> {
    let question = RandomQuestion::draw(call_idx, now, None);
    let request = pb::DecideTicketRequest {
        org_id: question.org_id,
        severity: question.severity,
        category: question.category,
        ticket_id: question.ticket_id,
        at: question.at,
    };
    outcome(pb::ticket_service_client::TicketServiceClient::new(channel).decide_ticket(request).await)
}

/// The same mix as `decide_call`, asked about one of the seeded agents.
async fn access_call(channel: AuthChannel, call_idx: u64, now: i64, n_agents: usize) -> Result<(), tonic::Code> {
    let question = RandomQuestion::draw(call_idx, now, Some(n_agents));
    let request = pb::CheckAgentAccessRequest {
        org_id: question.org_id,
        severity: question.severity,
        category: question.category,
        ticket_id: question.ticket_id,
        agent_id: question.agent_id,
        at: question.at,
    };
    outcome(pb::ticket_service_client::TicketServiceClient::new(channel).check_agent_access(request).await)
}

/// What a phase counts of a call: success, or the status code it failed with.
fn outcome<T>(response: Result<tonic::Response<T>, tonic::Status>) -> Result<(), tonic::Code> {
    response.map(|_| ()).map_err(|status| status.code())
}

/// One question of a load test, drawn from the call's index, so every run asks the same ones.
struct RandomQuestion {
    org_id: String,
    severity: i32,
    category: i32,
    ticket_id: String,
    /// Empty unless the question is about one of `n_agents` seeded agents.
    agent_id: String,
    at: Option<prost_types::Timestamp>,
}

impl RandomQuestion {
    /// The draws keep the order the calls have always made them in (the agent before the
    /// instant), so a question asked before this type existed is asked again.
    fn draw(call_idx: u64, now: i64, n_agents: Option<usize>) -> RandomQuestion {
        let mut random = DeterministicRandom::new(call_idx);
        let (org_id, _, _) = LOAD_TEST_ORGS[random.below(LOAD_TEST_ORGS.len() as u64) as usize];
        let severity = 1 + random.below(4) as i32;
        let category = if random.below(10) == 0 { pb::TicketCategory::ThirdParty as i32 } else { 0 };
        let ticket_id = format!("load-ticket-{}", random.below(1_000_000));
        let agent_id = match n_agents {
            Some(n_agents) => format!("load-agent-{:05}", random.below(n_agents as u64)),
            None => String::new(),
        };
        let at = Some(timestamp(now - 3 * 86_400 + random.below(17 * 86_400) as i64));
        RandomQuestion { org_id: org_id.into(), severity, category, ticket_id, agent_id, at }
    }
}

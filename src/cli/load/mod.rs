//! `eea-coverage load`: a load generator built on the project's own client. It can seed a
//! server with a realistic roster, then measures the health check (the cost of a gRPC round trip
//! alone) against `DecideTicket` and `CheckAgentAccess`, or against a mix of those with
//! single-agent writes, under the same concurrency, counting outcomes by status code. With
//! `--http`, `DecideTicket` is asked over the JSON API too, with the same questions.

mod calls;
mod json;
mod phase;
mod watches;

use std::sync::Arc;
use std::time::{Duration, Instant as WallClock};

use calls::{access_call, decide_call, health_call, mixed_call, seed, write_call};
use phase::{run_mixed_phase, run_paced, run_phase, PhaseLength, PhaseResult};

use crate::cli::connection::{with_token, AuthChannel, CallerArgs};
use crate::testing::rosters::load_test_roster;

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
    /// Instead of the hot calls' own phases, a mixed phase after each health check: 95 in 100
    /// calls `DecideTicket`, 4 `CheckAgentAccess`, 1 a write touching one seeded agent (the
    /// server needs the roster `--seed-agents` loads, now or in an earlier run).
    #[arg(long, conflicts_with = "writes")]
    mixed: bool,
    /// Instead of the hot calls' own phases, a phase of single-agent writes alone (those of
    /// `--mixed`) after each health check: what a write costs, call to answer.
    #[arg(long)]
    writes: bool,
    /// With `--mixed`: writes at this many a second of their own, beside the calls in flight
    /// (which then ask `DecideTicket` where they would have written), instead of one call in a
    /// hundred: a sustained write rate to hold the hot path's rate against. Each round then also
    /// runs the health check with the same writes beside it, and `DecideTicket` is compared with
    /// both health phases.
    #[arg(long, value_name = "PER_SECOND", requires = "mixed", value_parser = clap::value_parser!(u32).range(1..))]
    write_rate: Option<u32>,
    /// Hold this many `WatchWindows` streams open (one subscription each, on connections of
    /// their own) while the phases run.
    #[arg(long, value_name = "N", default_value_t = 0)]
    watch_streams: usize,
    /// Also ask `DecideTicket` over the JSON API at this address (`http://HOST:PORT`), in a phase
    /// after the gRPC one with the same questions and calls in flight (over HTTP/1.1, one
    /// connection per call in flight), and compare the two.
    #[arg(long, value_name = "URL", conflicts_with_all = ["mixed", "writes"])]
    http: Option<String>,
    #[command(flatten)]
    caller: CallerArgs,
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
    let watches = if args.watch_streams > 0 {
        let started = WallClock::now();
        let endpoint = args.caller.endpoint(&args.server)?;
        let opened = watches::OpenWatches::open(&endpoint, token.as_deref(), args.watch_streams).await?;
        eprintln!("opened {} watch streams in {:.1} s", args.watch_streams, started.elapsed().as_secs_f64());
        Some(opened)
    } else {
        None
    };
    let measured = measure(&args, &channels, &authenticated, length, rounds, now, n_agents).await;
    if let Some(watches) = watches {
        println!("{}", watches.close());
    }
    measured
}

/// Runs the phases the arguments ask for and prints what they measured.
async fn measure(
    args: &LoadArgs,
    channels: &[tonic::transport::Channel],
    authenticated: &[AuthChannel],
    length: PhaseLength,
    rounds: u32,
    now: i64,
    n_agents: usize,
) -> Result<(), String> {
    let concurrency = args.concurrency;
    if args.mixed || args.writes {
        let agents = Arc::new(load_test_roster(n_agents, now)?.agents);
        let mix = if args.writes { Mix::WritesAlone } else { Mix::HotPathWithWrites { paced: args.write_rate } };
        return run_mixed(channels, authenticated, concurrency, length, rounds, now, (mix, agents)).await;
    }
    let json_clients = match &args.http {
        Some(base) => {
            let client = json::JsonClient::new(base, args.caller.token().as_deref())?;
            // The warm-up opens the connections, so their set-up is not measured.
            let warm_up = PhaseLength::Duration(Duration::from_millis(500));
            let _ = run_phase(
                "warm-up",
                std::slice::from_ref(&client),
                concurrency,
                warm_up,
                0,
                move |client, call_idx| json::json_decide_call(client, call_idx, now),
            )
            .await;
            Some(vec![client])
        }
        None => None,
    };
    let (mut health, mut decide, mut health_again, mut access) = (None, None, None, None);
    let mut json_decide = None;
    for round in 0..rounds {
        // Each round asks new questions: its calls are numbered on from the last round's.
        let first_call_idx = u64::from(round) * 1_000_000_000_000;
        let health_round = run_phase("health Check", channels, concurrency, length, first_call_idx, health_call).await;
        let decide_round =
            run_phase("DecideTicket", authenticated, concurrency, length, first_call_idx, move |channel, call_idx| {
                decide_call(channel, call_idx, now)
            })
            .await;
        if let Some(json_clients) = &json_clients {
            let json_round = run_phase(
                "JSON DecideTicket",
                json_clients,
                concurrency,
                length,
                first_call_idx,
                move |client, call_idx| json::json_decide_call(client, call_idx, now),
            )
            .await;
            json_decide = Some(PhaseResult::merged(json_decide, json_round));
        }
        let health_again_round =
            run_phase("health Check", channels, concurrency, length, first_call_idx, health_call).await;
        let access_round = run_phase(
            "CheckAgentAccess",
            authenticated,
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
    if let Some(json_decide) = &json_decide {
        println!("{}", json_decide.describe());
    }
    println!("{}", decide.compare(&health));
    println!("{}", access.compare(&health_again));
    if let Some(json_decide) = &json_decide {
        println!("{}", json_decide.compare(&decide));
    }
    Ok(())
}

/// What the calls of a mixed phase are.
#[derive(Clone, Copy)]
enum Mix {
    /// 95% `DecideTicket`, 4% `CheckAgentAccess`, 1% single-agent writes; or, `paced`, 96%
    /// `DecideTicket` and 4% `CheckAgentAccess` with writes at that many a second beside them.
    HotPathWithWrites {
        paced: Option<u32>,
    },
    WritesAlone,
}

/// Rounds of a health check and a mixed phase; prints each kind of call of the mix, and the
/// mix's throughput and `DecideTicket`'s tail against the health check's.
async fn run_mixed(
    channels: &[tonic::transport::Channel],
    authenticated: &[AuthChannel],
    concurrency: usize,
    length: PhaseLength,
    rounds: u32,
    now: i64,
    (mix, agents): (Mix, Arc<Vec<crate::pb::Agent>>),
) -> Result<(), String> {
    let mut health = None;
    let mut health_beside_writes = None;
    let mut mixed: Vec<PhaseResult> = Vec::new();
    for round in 0..rounds {
        let first_call_idx = u64::from(round) * 1_000_000_000_000;
        let health_round = run_phase("health Check", channels, concurrency, length, first_call_idx, health_call).await;
        health = Some(PhaseResult::merged(health, health_round));
        if let (Mix::HotPathWithWrites { paced: Some(per_second) }, PhaseLength::Duration(duration)) = (mix, length) {
            // The health check again, with the same writes beside it: what the writes' own cost
            // leaves any call, against which DecideTicket's share of the rest is read.
            let agents = agents.clone();
            let writes = run_paced(authenticated, per_second, duration, first_call_idx, move |channel, call_idx| {
                let agents = agents.clone();
                async move { write_call(channel, call_idx, now, &agents).await }
            });
            let checks = run_phase("health, writes", channels, concurrency, length, first_call_idx, health_call);
            let (checks, _) = tokio::join!(checks, writes);
            health_beside_writes = Some(PhaseResult::merged(health_beside_writes, checks));
        }
        let calls_agents = agents.clone();
        let in_flight =
            run_mixed_phase(authenticated, concurrency, length, first_call_idx, move |channel, call_idx| {
                let agents = calls_agents.clone();
                async move {
                    match mix {
                        Mix::HotPathWithWrites { paced } => {
                            mixed_call(channel, call_idx, now, agents, paced.is_some()).await
                        }
                        Mix::WritesAlone => write_call(channel, call_idx, now, &agents).await,
                    }
                }
            });
        let mixed_round = match (mix, length) {
            (Mix::HotPathWithWrites { paced: Some(per_second) }, PhaseLength::Duration(duration)) => {
                let agents = agents.clone();
                let writes =
                    run_paced(authenticated, per_second, duration, first_call_idx, move |channel, call_idx| {
                        let agents = agents.clone();
                        async move { write_call(channel, call_idx, now, &agents).await }
                    });
                let (mut calls, writes) = tokio::join!(in_flight, writes);
                calls.extend(writes);
                calls
            }
            (Mix::HotPathWithWrites { paced: Some(_) }, PhaseLength::Calls(_)) => {
                return Err("--write-rate paces writes over a time: give --duration, not --calls".into())
            }
            _ => in_flight.await,
        };
        for kind in mixed_round {
            let earlier =
                mixed.iter().position(|known| known.name == kind.name).map(|known_idx| mixed.remove(known_idx));
            mixed.push(PhaseResult::merged(earlier, kind));
        }
    }
    let health = health.ok_or("no round ran")?;
    mixed.sort_by_key(|kind| std::cmp::Reverse(kind.n_calls()));
    println!("{}", health.describe());
    for kind in &mixed {
        println!("  mixed: {}", kind.describe());
    }
    let mix_calls: u64 = mixed.iter().map(PhaseResult::n_calls).sum();
    let mix_elapsed = mixed.first().map_or(Duration::ZERO, |kind| kind.elapsed);
    let mix_rate = mix_calls as f64 / mix_elapsed.as_secs_f64().max(1e-9);
    println!(
        "mixed phase / health Check: throughput {:.2}x ({mix_rate:.0} calls/s of every kind)",
        mix_rate / health.throughput().max(1e-9)
    );
    if let Some(health_beside_writes) = &health_beside_writes {
        println!("{}", health_beside_writes.describe());
    }
    if let Some(decide) = mixed.iter().find(|kind| kind.name == "DecideTicket") {
        println!("mixed {}", decide.compare(&health));
        if let Some(health_beside_writes) = &health_beside_writes {
            println!("mixed {}", decide.compare(health_beside_writes));
        }
    }
    Ok(())
}

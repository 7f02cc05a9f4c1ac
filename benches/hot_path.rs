//! The hot path's own work, without gRPC: `DecideTicket` and `CheckAgentAccess` on a snapshot of
//! 5,000 agents with its timelines built, over a fixed mix of orgs, severities, categories,
//! agents and instants from 3 days before to 14 days after the build instant (the load
//! generator's mix). Run with `cargo bench --bench hot_path`.
//!
//! Prints, before divan's own table, the median time per call of each over the whole mix.

use std::time::{Duration, Instant as WallClock};

use eea_coverage::app::machine_parallelism;
use eea_coverage::domain::decision::{check_agent_access, decide_ticket, TicketQuestion};
use eea_coverage::domain::ids::OrgId;
use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::policy::{PlanKind, Severity, TicketCategory};
use eea_coverage::domain::roster::Org;
use eea_coverage::domain::snapshot::Snapshot;
use eea_coverage::domain::time::Instant;
use eea_coverage::testing::rosters::coverage_benchmark_snapshot_with_orgs;
use eea_coverage::testing::DeterministicRandom;

const N_AGENTS: usize = 5_000;
const N_QUESTIONS: usize = 4_096;
const SUMMARY_RUNS: usize = 15;
const ORGS: [(&str, &str, PlanKind); 4] = [
    ("eea-dublin", "eu-west-1", PlanKind::EeaOnly),
    ("std-frankfurt", "eu-central-1", PlanKind::Standard),
    ("std-london", "eu-west-2", PlanKind::Standard),
    ("std-virginia", "us-east-1", PlanKind::Standard),
];
const CATEGORIES: [TicketCategory; 2] = [TicketCategory::ProductSupport, TicketCategory::ProfessionalServices];

fn instant(text: &str) -> Instant {
    text.parse().expect("a valid instant")
}

fn built_at() -> Instant {
    instant("2026-03-20T12:00:00Z")
}

fn snapshot() -> Snapshot {
    let window = Interval::new(instant("2026-02-01T00:00:00Z"), instant("2026-05-01T00:00:00Z")).unwrap();
    let orgs = ORGS
        .iter()
        .map(|(org_id, region, plan)| Org {
            org_id: OrgId::new((*org_id).to_owned()).unwrap(),
            cloud_region: (*region).into(),
            plan: *plan,
        })
        .collect();
    coverage_benchmark_snapshot_with_orgs(N_AGENTS, window, orgs).with_timelines(built_at(), machine_parallelism())
}

/// A question and the agent an access check asks about.
struct Asked {
    org_id: &'static str,
    ticket_id: String,
    severity: Severity,
    category: TicketCategory,
    at: Instant,
    agent_id: String,
}

impl Asked {
    fn question(&self) -> TicketQuestion<'_> {
        TicketQuestion {
            org_id: self.org_id,
            ticket_id: &self.ticket_id,
            severity: self.severity,
            category: self.category,
            at: self.at,
        }
    }
}

/// The fixed mix: one in ten a category the EEA-only plan excludes.
fn questions() -> Vec<Asked> {
    let mut random = DeterministicRandom::new(11);
    let from = built_at().as_second() - 3 * 86_400;
    (0..N_QUESTIONS)
        .map(|_| Asked {
            org_id: ORGS[random.below(ORGS.len() as u64) as usize].0,
            ticket_id: format!("t-{}", random.below(1_000_000)),
            severity: Severity::ALL[random.below(4) as usize],
            category: CATEGORIES[usize::from(random.below(10) == 0)],
            at: Instant::from_second(from + random.below(17 * 86_400) as i64).unwrap(),
            agent_id: format!("agent-{:05}", random.below(N_AGENTS as u64)),
        })
        .collect()
}

/// The median over `SUMMARY_RUNS` passes of the time per call of `call` over the whole mix.
fn median_per_call(asked: &[Asked], call: impl Fn(&Asked)) -> Duration {
    let mut samples: Vec<Duration> = (0..SUMMARY_RUNS)
        .map(|_| {
            let started = WallClock::now();
            asked.iter().for_each(&call);
            started.elapsed() / asked.len() as u32
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn summary() {
    let snapshot = snapshot();
    let asked = questions();
    let decide = median_per_call(&asked, |asked| {
        std::hint::black_box(decide_ticket(&snapshot, &asked.question()).unwrap());
    });
    let access = median_per_call(&asked, |asked| {
        std::hint::black_box(check_agent_access(&snapshot, &asked.question(), &asked.agent_id).unwrap());
    });
    println!("{N_AGENTS} agents, {N_QUESTIONS} questions, median of {SUMMARY_RUNS} passes:");
    println!("  decide_ticket        {:>8.0} ns per call", decide.as_nanos() as f64);
    println!("  check_agent_access   {:>8.0} ns per call", access.as_nanos() as f64);
}

fn main() {
    summary();
    divan::main();
}

#[divan::bench(sample_count = 20)]
fn decide_the_mix(bencher: divan::Bencher) {
    let (snapshot, asked) = (snapshot(), questions());
    bencher.bench_local(|| {
        for asked in &asked {
            std::hint::black_box(decide_ticket(&snapshot, &asked.question()).unwrap());
        }
    });
}

#[divan::bench(sample_count = 20)]
fn check_access_for_the_mix(bencher: divan::Bencher) {
    let (snapshot, asked) = (snapshot(), questions());
    bencher.bench_local(|| {
        for asked in &asked {
            std::hint::black_box(check_agent_access(&snapshot, &asked.question(), &asked.agent_id).unwrap());
        }
    });
}

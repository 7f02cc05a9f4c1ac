//! `ComputeDeadlines`' own work, without gRPC: both SLA clocks for business-hours tickets on a
//! snapshot of 5,000 agents with its timelines built. Each ticket's clock starts at a random
//! instant in the four weeks after the build instant, with a target of 1-72 hours and 0-2
//! pauses, and is read a random time after its start. Run with `cargo bench --bench deadlines`.
//!
//! Prints, before divan's own table, the median rate on one thread, in batches of 1,000 as
//! `ComputeDeadlines` takes them, over the whole mix and over the tickets whose clocks are used
//! up within the precomputed timelines.

use std::time::{Duration, Instant as WallClock};

use eea_coverage::app::machine_parallelism;
use eea_coverage::domain::deadline::{compute_deadline, compute_deadline_in_batch, BeyondTimelines, DeadlineQuestion};
use eea_coverage::domain::decision::TicketQuestion;
use eea_coverage::domain::ids::OrgId;
use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::policy::{PlanKind, Severity, TicketCategory};
use eea_coverage::domain::roster::Org;
use eea_coverage::domain::snapshot::Snapshot;
use eea_coverage::domain::time::Instant;
use eea_coverage::testing::rosters::coverage_benchmark_snapshot_with_orgs;
use eea_coverage::testing::DeterministicRandom;
use jiff::SignedDuration;

const N_AGENTS: usize = 5_000;
const N_ITEMS: usize = 10_000;
const SUMMARY_RUNS: usize = 7;
const SEVERITIES: [Severity; 3] = [Severity::Sev2, Severity::Sev3, Severity::Sev4];

fn instant(text: &str) -> Instant {
    text.parse().expect("a valid instant")
}

fn built_at() -> Instant {
    instant("2026-03-20T12:00:00Z")
}

fn snapshot() -> Snapshot {
    let window = Interval::new(instant("2026-02-01T00:00:00Z"), instant("2026-06-01T00:00:00Z")).unwrap();
    let orgs = vec![Org {
        org_id: OrgId::new("eea-dublin".to_owned()).unwrap(),
        cloud_region: "eu-west-1".into(),
        plan: PlanKind::EeaOnly,
    }];
    coverage_benchmark_snapshot_with_orgs(N_AGENTS, window, orgs).with_timelines(built_at(), machine_parallelism())
}

/// One ticket's clock: severity, start, target, pauses and the instant it is read at.
struct Item {
    severity: Severity,
    started: Instant,
    target: SignedDuration,
    pauses: Vec<Interval>,
    at: Instant,
}

fn minutes(n: u64) -> SignedDuration {
    SignedDuration::from_mins(n as i64)
}

fn items() -> Vec<Item> {
    let mut random = DeterministicRandom::new(14);
    (0..N_ITEMS)
        .map(|_| {
            let started = built_at().saturating_add(minutes(random.below(28 * 24 * 60))).unwrap();
            let pauses = (0..random.below(3))
                .map(|_| {
                    let from = started.saturating_add(minutes(random.below(2 * 24 * 60))).unwrap();
                    Interval::following(from, minutes(10 + random.below(4 * 60))).unwrap()
                })
                .collect();
            Item {
                severity: SEVERITIES[random.below(3) as usize],
                started,
                target: SignedDuration::from_hours(1 + random.below(72) as i64),
                pauses,
                at: started.saturating_add(minutes(random.below(5 * 24 * 60))).unwrap(),
            }
        })
        .collect()
}

fn question(item: &Item) -> DeadlineQuestion<'_> {
    DeadlineQuestion {
        ticket: TicketQuestion {
            org_id: "eea-dublin",
            ticket_id: "T-1",
            severity: item.severity,
            category: TicketCategory::ProductSupport,
            at: item.at,
        },
        clock_started_at: item.started,
        target: item.target,
        pauses: &item.pauses,
    }
}

fn compute_all(snapshot: &Snapshot, items: &[Item]) -> usize {
    items
        .iter()
        .filter(|item| compute_deadline(snapshot, &question(item)).expect("a deadline").service.breached)
        .count()
}

fn summary() {
    let (snapshot, items) = (snapshot(), items());
    let horizon_end = snapshot.timelines().horizon().expect("timelines built").end();
    let deadlines: Vec<_> =
        items.iter().map(|item| compute_deadline(&snapshot, &question(item)).expect("a deadline")).collect();
    let unstaffed = deadlines.iter().filter(|deadline| deadline.staffed.due_at.is_none()).count();
    let beyond =
        deadlines.iter().filter(|deadline| deadline.staffed.due_at.is_some_and(|due| due > horizon_end)).count();
    println!("staffed clock: {unstaffed} of {N_ITEMS} not used up within 366 days, {beyond} due beyond the timelines");
    let within: Vec<&Item> = items
        .iter()
        .zip(&deadlines)
        .filter(|(_, deadline)| deadline.staffed.due_at.is_some_and(|due| due <= horizon_end))
        .map(|(item, _)| item)
        .collect();
    for (name, mix) in [("all", items.iter().collect::<Vec<_>>()), ("used up within the timelines", within)] {
        let mut runs: Vec<Duration> = (0..SUMMARY_RUNS)
            .map(|_| {
                let started = WallClock::now();
                // In batches of 1,000, as ComputeDeadlines takes them.
                for batch in mix.chunks(1_000) {
                    let mut beyond = BeyondTimelines::default();
                    let answered = batch
                        .iter()
                        .filter(|item| compute_deadline_in_batch(&snapshot, &question(item), &mut beyond).is_ok())
                        .count();
                    std::hint::black_box(answered);
                }
                started.elapsed()
            })
            .collect();
        runs.sort_unstable();
        let median = runs[runs.len() / 2];
        println!(
            "{N_AGENTS} agents, {} business-hours tickets ({name}), both clocks, one thread: median {:.1} ms, {:.0} items per second",
            mix.len(),
            median.as_secs_f64() * 1e3,
            mix.len() as f64 / median.as_secs_f64()
        );
    }
}

fn main() {
    summary();
    divan::main();
}

#[divan::bench(sample_count = 10)]
fn both_clocks_for_the_mix(bencher: divan::Bencher) {
    let (snapshot, items) = (snapshot(), items());
    bencher.bench_local(|| compute_all(&snapshot, &items));
}

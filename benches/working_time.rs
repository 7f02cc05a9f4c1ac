//! The working-time report for 5,000 agents over 17 weeks, and the warnings a one-agent shift
//! write computes. Run with `cargo bench --bench working_time`.
//!
//! Prints, before divan's own table: the median of each over nine runs, with the number of agents,
//! shifts and breaches behind it.

use std::time::{Duration, Instant as WallClock};

use eea_coverage::app::machine_parallelism;
use eea_coverage::domain::ids::ShiftId;
use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::roster::{AgentRoster, Schedule, Shift};
use eea_coverage::domain::snapshot::Snapshot;
use eea_coverage::domain::time::Instant;
use eea_coverage::domain::working_time::{upsert_warnings, working_time_report, WorkingTimeSettings};
use eea_coverage::testing::rosters::coverage_benchmark_snapshot;
use jiff::SignedDuration;

const N_AGENTS: usize = 5_000;
const SUMMARY_RUNS: usize = 9;

fn instant(text: &str) -> Instant {
    text.parse().expect("a valid instant")
}

/// Seventeen weeks from Monday 2 March 2026, through the spring change.
fn window() -> Interval {
    Interval::new(instant("2026-03-02T00:00:00Z"), instant("2026-06-29T00:00:00Z")).unwrap()
}

/// The coverage benchmark's roster (`eea_coverage::testing::rosters`): recurring shifts of many
/// patterns, some pagers, time off and relocations, over the reference weeks before the window too.
fn roster() -> Snapshot {
    coverage_benchmark_snapshot(N_AGENTS, Interval::new(instant("2025-11-01T00:00:00Z"), window().end()).unwrap())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// A one-off shift of the first agent that leaves it 9 hours of rest after its main shift's
/// first occurrence in the window: the write a manager makes to close a gap.
fn extra_shift(snapshot: &Snapshot) -> Vec<Shift> {
    let agent = snapshot.agents().next().expect("agents");
    let main = &agent.shifts[0];
    let occurrence = main.occurrences_within(window()).unwrap()[0];
    let start = occurrence.end() + SignedDuration::from_hours(9);
    let period = Interval::new(start, start + SignedDuration::from_hours(4)).unwrap();
    vec![Shift {
        shift_id: ShiftId::new("extra".into()).unwrap(),
        schedule: Schedule::OneOff(period),
        source: None,
        ..main.clone()
    }]
}

fn summary() {
    let snapshot = roster();
    let agents: Vec<&AgentRoster> = snapshot.agents().collect();
    let rules = &snapshot.policy.facts.working_time;
    let settings = WorkingTimeSettings::default();
    let mut n_breaches = 0;
    let report_runs = (0..SUMMARY_RUNS)
        .map(|_| {
            let started = WallClock::now();
            let report = working_time_report(rules, &agents, window(), &settings, machine_parallelism());
            let elapsed = started.elapsed();
            n_breaches = report.iter().map(|agent| agent.breaches.len()).sum::<usize>();
            elapsed
        })
        .collect();
    let shifts = extra_shift(&snapshot);
    let bound = Interval::new(instant("2025-06-01T00:00:00Z"), instant("2027-06-01T00:00:00Z")).unwrap();
    let mut n_warnings = 0;
    let warning_runs = (0..SUMMARY_RUNS * 11)
        .map(|_| {
            let started = WallClock::now();
            let warnings =
                upsert_warnings(snapshot.roster(), &shifts, bound, (rules, &settings), machine_parallelism());
            let elapsed = started.elapsed();
            n_warnings = warnings.len();
            elapsed
        })
        .collect::<Vec<_>>();
    let slowest_warning = warning_runs.iter().max().copied().unwrap_or_default();
    println!(
        "{N_AGENTS} agents, {} shifts, 17 weeks: working-time report median {:.1} ms ({n_breaches} breaches); \
         one-agent write's warnings median {:.3} ms, slowest of {} {:.3} ms ({n_warnings} warning(s))",
        snapshot.n_shifts(),
        median(report_runs).as_secs_f64() * 1e3,
        median(warning_runs).as_secs_f64() * 1e3,
        SUMMARY_RUNS * 11,
        slowest_warning.as_secs_f64() * 1e3,
    );
}

fn main() {
    summary();
    divan::main();
}

#[divan::bench(sample_count = 10)]
fn report_5000_agents_17_weeks(bencher: divan::Bencher) {
    let snapshot = roster();
    let agents: Vec<&AgentRoster> = snapshot.agents().collect();
    let settings = WorkingTimeSettings::default();
    bencher.bench_local(|| {
        working_time_report(&snapshot.policy.facts.working_time, &agents, window(), &settings, machine_parallelism())
    });
}

#[divan::bench(sample_count = 50)]
fn one_agent_write_warnings(bencher: divan::Bencher) {
    let snapshot = roster();
    let shifts = extra_shift(&snapshot);
    let bound = Interval::new(instant("2025-06-01T00:00:00Z"), instant("2027-06-01T00:00:00Z")).unwrap();
    let settings = WorkingTimeSettings::default();
    bencher.bench_local(|| {
        upsert_warnings(
            snapshot.roster(),
            &shifts,
            bound,
            (&snapshot.policy.facts.working_time, &settings),
            machine_parallelism(),
        )
    });
}

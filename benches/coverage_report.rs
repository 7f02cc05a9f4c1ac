//! A coverage report for 5,000 agents over 90 days, against the time to merely sort the same
//! interval endpoints. Run with `cargo bench --bench coverage_report`.
//!
//! Prints, before divan's own table: the median of each, their ratio, and the peak resident
//! memory of the process (VmHWM).

use std::time::{Duration, Instant as WallClock};

use eea_coverage::app::machine_parallelism;
use eea_coverage::domain::coverage::{coverage_report, sweep_endpoints, CoverageQuestion};
use eea_coverage::domain::eligibility::shift_pieces;
use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::policy::PlanKind;
use eea_coverage::domain::snapshot::Snapshot;
use eea_coverage::domain::time::Instant;
use eea_coverage::testing::rosters::coverage_benchmark_snapshot;

const N_AGENTS: usize = 5_000;
const SUMMARY_RUNS: usize = 9;

/// The generated roster (`eea_coverage::testing::rosters`), the same on every run.
fn roster(window: Interval) -> Snapshot {
    coverage_benchmark_snapshot(N_AGENTS, window)
}

fn instant(text: &str) -> Instant {
    text.parse().expect("a valid instant")
}

/// Spring: 90 days around the March change; autumn: 90 days around the October change.
fn windows() -> [(&'static str, Interval); 2] {
    [
        ("spring", Interval::new(instant("2026-02-15T00:00:00Z"), instant("2026-05-16T00:00:00Z")).unwrap()),
        ("autumn", Interval::new(instant("2026-09-01T00:00:00Z"), instant("2026-11-30T00:00:00Z")).unwrap()),
    ]
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// The median time, over `SUMMARY_RUNS` runs, to sort a fresh copy of `endpoints`; the copy is
/// made outside the timed part.
fn median_sort_time<T: Ord + Clone>(endpoints: &[T]) -> Duration {
    let runs = (0..SUMMARY_RUNS)
        .map(|_| {
            let mut copy = endpoints.to_vec();
            let started = WallClock::now();
            copy.sort_unstable();
            std::hint::black_box(&copy);
            started.elapsed()
        })
        .collect();
    median(runs)
}

fn peak_resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn summary() {
    for (name, window) in windows() {
        let snapshot = roster(window);
        let question = CoverageQuestion { plan: PlanKind::EeaOnly, eea_tagged: true, window, min_staff: 1 };
        let endpoints = sweep_endpoints(&snapshot, &question);
        // The stricter baseline: every shift piece's two endpoints, once.
        let context = snapshot.eligibility_context(question.plan, question.eea_tagged);
        let piece_endpoints: Vec<i64> = snapshot
            .agents()
            .flat_map(|roster| shift_pieces(&context, roster, window))
            .flat_map(|piece| [piece.interval.start().as_microsecond(), piece.interval.end().as_microsecond()])
            .collect();
        let report_runs: Vec<Duration> = (0..SUMMARY_RUNS)
            .map(|_| {
                let started = WallClock::now();
                let report = coverage_report(&snapshot, &question, machine_parallelism());
                std::hint::black_box(&report);
                started.elapsed()
            })
            .collect();
        let (report_median, sort_median, piece_sort_median) =
            (median(report_runs), median_sort_time(&endpoints), median_sort_time(&piece_endpoints));
        println!(
            "{name}: {N_AGENTS} agents, {} shifts, 90 days: report median {:.1} ms; sorting the four requirements' {} endpoints {:.1} ms (ratio {:.2}x); sorting each piece's {} endpoints once {:.1} ms (ratio {:.2}x)",
            snapshot.n_shifts(),
            report_median.as_secs_f64() * 1e3,
            endpoints.len(),
            sort_median.as_secs_f64() * 1e3,
            report_median.as_secs_f64() / sort_median.as_secs_f64(),
            piece_endpoints.len(),
            piece_sort_median.as_secs_f64() * 1e3,
            report_median.as_secs_f64() / piece_sort_median.as_secs_f64()
        );
    }
    if let Some(peak) = peak_resident_kib() {
        println!("peak resident memory (VmHWM): {:.1} MiB", peak as f64 / 1024.0);
    }
}

fn main() {
    summary();
    divan::main();
}

#[divan::bench(sample_count = 10)]
fn report_all_four_requirements(bencher: divan::Bencher) {
    let (_, window) = windows()[0];
    let snapshot = roster(window);
    let question = CoverageQuestion { plan: PlanKind::EeaOnly, eea_tagged: true, window, min_staff: 1 };
    bencher.bench_local(|| coverage_report(&snapshot, &question, machine_parallelism()));
}

#[divan::bench(sample_count = 10)]
fn sort_the_same_endpoints(bencher: divan::Bencher) {
    let (_, window) = windows()[0];
    let snapshot = roster(window);
    let question = CoverageQuestion { plan: PlanKind::EeaOnly, eea_tagged: true, window, min_staff: 1 };
    let endpoints = sweep_endpoints(&snapshot, &question);
    bencher.with_inputs(|| endpoints.clone()).bench_local_values(|mut copy| {
        copy.sort_unstable();
        copy
    });
}

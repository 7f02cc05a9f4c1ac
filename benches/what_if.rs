//! What-if against the plain report: `SimulateCoverage`'s domain work (50 hypothetical changes
//! applied, then the report under them and the stored roster's, compared) for 5,000 agents over
//! 90 days, against the plain coverage report of the same roster and window. The figure:
//! within 1.5x. Run with `cargo bench --bench what_if`.
//!
//! Prints, before divan's own table: the median of each over `SUMMARY_RUNS` runs (taken in
//! turn, so both see the same machine), and their ratio.

use std::time::{Duration, Instant as WallClock};

use eea_coverage::app::machine_parallelism;
use eea_coverage::domain::country::Country;
use eea_coverage::domain::coverage::{coverage_report, CoverageQuestion};
use eea_coverage::domain::ids::{AgentId, ShiftId};
use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::policy::PlanKind;
use eea_coverage::domain::roster::{Agent, AgentDraft, ScheduleDraft, Shift, ShiftDraft};
use eea_coverage::domain::snapshot::Snapshot;
use eea_coverage::domain::time::Instant;
use eea_coverage::domain::what_if::{apply_changes, simulate, working_time_warnings, HypotheticalChange};
use eea_coverage::domain::working_time::WorkingTimeSettings;
use eea_coverage::testing::rosters::coverage_benchmark_snapshot;

const N_AGENTS: usize = 5_000;
const N_CHANGES: usize = 50;
const SUMMARY_RUNS: usize = 9;

fn instant(text: &str) -> Instant {
    text.parse().expect("a valid instant")
}

/// 90 days around the spring clock change, as the coverage report's benchmark takes them.
fn window() -> Interval {
    Interval::new(instant("2026-02-15T00:00:00Z"), instant("2026-05-16T00:00:00Z")).expect("a window")
}

fn question() -> CoverageQuestion {
    CoverageQuestion { plan: PlanKind::EeaOnly, eea_tagged: true, window: window(), min_staff: 1 }
}

fn shift(shift_id: String, agent_id: &str, schedule: ScheduleDraft) -> Shift {
    Shift::new(ShiftDraft {
        shift_id,
        agent_id: agent_id.to_owned(),
        severities: vec![],
        country: String::new(),
        schedule,
        source: None,
    })
    .expect("a valid shift")
}

/// Fifty changes spread over the roster, ten of each kind: absences of a few days, relocations
/// out of the EEA, main shifts removed, main shifts moved to other hours, and one-off shifts or
/// new agents added.
fn changes(snapshot: &Snapshot) -> Vec<HypotheticalChange> {
    let agent_ids: Vec<AgentId> = snapshot.agents().map(|roster| roster.agent.agent_id.clone()).collect();
    let start = window().start();
    let at_day = |day: i64| start + jiff::SignedDuration::from_hours(24 * day);
    (0..N_CHANGES)
        .map(|change_idx| {
            // Each change its own agent, far apart in the roster.
            let agent_id = &agent_ids[(change_idx * 97) % agent_ids.len()];
            let day = (change_idx as i64 * 7) % 80;
            match change_idx % 5 {
                0 => HypotheticalChange::Absence {
                    agent_id: agent_id.clone(),
                    period: Interval::new(at_day(day), at_day(day + 3)).expect("a period"),
                },
                1 => HypotheticalChange::Relocation {
                    agent_id: agent_id.clone(),
                    effective_at: at_day(day),
                    country: Country::parse("US").expect("a country"),
                },
                2 => HypotheticalChange::RemoveShift(ShiftId::new(format!("{agent_id}-main")).expect("an ID")),
                3 => HypotheticalChange::ChangeShift(shift(
                    format!("{agent_id}-main"),
                    agent_id.as_str(),
                    ScheduleDraft::Recurring {
                        time_zone: "Europe/Brussels".into(),
                        start_local: "2026-01-12T07:00:00".into(),
                        end_time: "15:00".into(),
                        rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".into(),
                        exdates: vec![],
                    },
                )),
                _ if change_idx % 10 == 4 => HypotheticalChange::AddShift(shift(
                    format!("what-if-extra-{change_idx}"),
                    agent_id.as_str(),
                    ScheduleDraft::OneOff { starts_at: Some(at_day(day)), ends_at: Some(at_day(day + 1)) },
                )),
                _ => HypotheticalChange::AddAgent(
                    Agent::new(AgentDraft {
                        agent_id: format!("what-if-new-{change_idx}"),
                        display_name: String::new(),
                        country: "FR".into(),
                        time_zone: "Europe/Paris".into(),
                        severities: vec![],
                        location_changes: vec![],
                        source: None,
                    })
                    .expect("a valid agent"),
                ),
            }
        })
        .collect()
}

/// What `SimulateCoverage` computes: the changes applied, both reports, the gaps compared, and
/// the working-time breaches the changes introduce for the agents they touch.
fn simulation(snapshot: &Snapshot, changes: &[HypotheticalChange]) -> impl Sized {
    let hypothetical = apply_changes(snapshot, changes).expect("the changes apply");
    let simulated = simulate(snapshot, &hypothetical.snapshot, &question(), machine_parallelism());
    let warnings = working_time_warnings(
        (snapshot, &hypothetical.snapshot),
        &hypothetical.touched_agent_ids,
        window(),
        &WorkingTimeSettings::default(),
        machine_parallelism(),
    );
    (simulated, warnings)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn summary() {
    let snapshot = coverage_benchmark_snapshot(N_AGENTS, window());
    let changes = changes(&snapshot);
    let hypothetical = apply_changes(&snapshot, &changes).expect("the changes apply");
    let (mut report_runs, mut simulation_runs) = (Vec::new(), Vec::new());
    for _ in 0..SUMMARY_RUNS {
        let started = WallClock::now();
        std::hint::black_box(coverage_report(&snapshot, &question(), machine_parallelism()));
        report_runs.push(started.elapsed());
        let started = WallClock::now();
        std::hint::black_box(simulation(&snapshot, &changes));
        simulation_runs.push(started.elapsed());
    }
    let (report_median, simulation_median) = (median(report_runs), median(simulation_runs));
    let n_opened: usize = simulate(&snapshot, &hypothetical.snapshot, &question(), machine_parallelism())
        .gap_changes
        .iter()
        .map(|changes| changes.opened.len())
        .sum();
    println!(
        "{N_AGENTS} agents, {} shifts, 90 days, {N_CHANGES} changes touching {} agents ({n_opened} gaps opened): plain report median {:.1} ms; simulation median {:.1} ms (ratio {:.2}x) on {} threads",
        snapshot.n_shifts(),
        hypothetical.touched_agent_ids.len(),
        report_median.as_secs_f64() * 1e3,
        simulation_median.as_secs_f64() * 1e3,
        simulation_median.as_secs_f64() / report_median.as_secs_f64(),
        machine_parallelism().n_threads(),
    );
}

fn main() {
    summary();
    divan::main();
}

#[divan::bench(sample_count = 10)]
fn plain_report(bencher: divan::Bencher) {
    let snapshot = coverage_benchmark_snapshot(N_AGENTS, window());
    bencher.bench_local(|| coverage_report(&snapshot, &question(), machine_parallelism()));
}

#[divan::bench(sample_count = 10)]
fn simulation_with_50_changes(bencher: divan::Bencher) {
    let snapshot = coverage_benchmark_snapshot(N_AGENTS, window());
    let changes = changes(&snapshot);
    bencher.bench_local(|| simulation(&snapshot, &changes));
}

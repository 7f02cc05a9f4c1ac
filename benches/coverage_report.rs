//! A coverage report for 5,000 agents over 90 days, against the time to merely sort the same
//! interval endpoints. Run with `cargo bench --bench coverage_report`.
//!
//! Prints, before divan's own table: the median of each, their ratio, and the peak resident
//! memory of the process (VmHWM).

use std::sync::Arc;
use std::time::{Duration, Instant as WallClock};

use eea_coverage::app::machine_parallelism;
use eea_coverage::domain::coverage::{coverage_report, sweep_endpoints, CoverageQuestion};
use eea_coverage::domain::eligibility::{shift_pieces, EligibilityContext};
use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::policy::{PlanKind, Policy};
use eea_coverage::domain::roster::{Agent, AgentDraft, ScheduleDraft, Shift, ShiftDraft, TimeOff};
use eea_coverage::domain::snapshot::Snapshot;
use eea_coverage::domain::time::Instant;

const N_AGENTS: usize = 5_000;
const SUMMARY_RUNS: usize = 9;

/// A small deterministic generator, so every run sees the same roster.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

const PLACES: [(&str, &str); 12] = [
    ("IE", "Europe/Dublin"),
    ("DE", "Europe/Berlin"),
    ("FR", "Europe/Paris"),
    ("PL", "Europe/Warsaw"),
    ("NL", "Europe/Amsterdam"),
    ("ES", "Europe/Madrid"),
    ("PT", "Europe/Lisbon"),
    ("SE", "Europe/Stockholm"),
    ("GB", "Europe/London"),
    ("US", "America/New_York"),
    ("IN", "Asia/Kolkata"),
    ("PH", "Asia/Manila"),
];

fn instant(text: &str) -> Instant {
    text.parse().expect("a valid instant")
}

fn recurring(
    shift_id: String,
    agent_id: &str,
    zone: &str,
    start_local: String,
    end_time: &str,
    rrule: &str,
    severities: Vec<i32>,
) -> Shift {
    Shift::new(ShiftDraft {
        shift_id,
        agent_id: agent_id.to_owned(),
        severities,
        country: String::new(),
        schedule: ScheduleDraft::Recurring {
            time_zone: zone.to_owned(),
            start_local,
            end_time: end_time.to_owned(),
            rrule: rrule.to_owned(),
            exdates: vec![],
        },
        source: None,
    })
    .expect("a valid generated shift")
}

/// 5,000 agents: weekday days, daily shifts, nights across the DST changes, weekends, Sev1
/// pagers, one-off extras, time off and relocations.
fn roster(window: Interval) -> Snapshot {
    let mut random = Lcg(2026);
    let (mut agents, mut shifts, mut time_off) = (Vec::new(), Vec::new(), Vec::new());
    let window_days = (window.end().as_second() - window.start().as_second()) / 86_400;
    for agent_idx in 0..N_AGENTS {
        let (country, zone) = PLACES[(random.below(100) as usize * PLACES.len() / 100).min(PLACES.len() - 1)];
        let agent_id = format!("agent-{agent_idx:05}");
        let relocations = if random.below(20) == 0 {
            let at = window.start().as_second() + random.below(window_days as u64) as i64 * 86_400;
            vec![(Some(Instant::from_second(at).unwrap()), if country == "GB" { "IE" } else { "GB" }.to_owned())]
        } else {
            vec![]
        };
        agents.push(
            Agent::new(AgentDraft {
                agent_id: agent_id.clone(),
                display_name: format!("Agent {agent_idx}"),
                country: country.to_owned(),
                time_zone: zone.to_owned(),
                severities: vec![],
                location_changes: relocations,
                source: None,
            })
            .expect("a valid generated agent"),
        );
        let first_day = 5 + random.below(25);
        let pattern = random.below(10);
        let pager = if random.below(10) == 0 { vec![1] } else { vec![] };
        let (start_hour, end_time, rrule) = match pattern {
            0..=3 => (8 + random.below(3), "17:00", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
            4..=6 => (6 + random.below(8), "18:00", "FREQ=DAILY"),
            7..=8 => (22, "06:00", "FREQ=DAILY"),
            _ => (9, "15:00", "FREQ=WEEKLY;BYDAY=SA,SU"),
        };
        let start_local = format!("2026-01-{first_day:02}T{start_hour:02}:00:00");
        shifts.push(recurring(format!("{agent_id}-main"), &agent_id, zone, start_local, end_time, rrule, pager));
        if random.below(10) == 0 {
            let start = window.start().as_second() + random.below(window_days as u64 * 24) as i64 * 3_600;
            shifts.push(
                Shift::new(ShiftDraft {
                    shift_id: format!("{agent_id}-extra"),
                    agent_id: agent_id.clone(),
                    severities: vec![],
                    country: String::new(),
                    schedule: ScheduleDraft::OneOff {
                        starts_at: Some(Instant::from_second(start).unwrap()),
                        ends_at: Some(Instant::from_second(start + 6 * 3_600).unwrap()),
                    },
                    source: None,
                })
                .expect("a valid one-off shift"),
            );
        }
        if random.below(5) == 0 {
            let start = window.start().as_second() + random.below(window_days as u64) as i64 * 86_400;
            let days = 1 + random.below(5) as i64;
            time_off.push(
                TimeOff::new(
                    format!("{agent_id}-leave"),
                    agent_id.clone(),
                    Some(Instant::from_second(start).unwrap()),
                    Some(Instant::from_second(start + days * 86_400).unwrap()),
                    None,
                )
                .expect("valid time off"),
            );
        }
    }
    Snapshot::build(Arc::new(Policy::default_policy()), vec![], agents, shifts, time_off, vec![])
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
        let context = EligibilityContext {
            roster: snapshot.roster(),
            facts: &snapshot.policy.facts,
            plan: question.plan,
            eea_tagged: question.eea_tagged,
            ticket: None,
        };
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
        let sort_runs: Vec<Duration> = (0..SUMMARY_RUNS)
            .map(|_| {
                let mut copy = endpoints.clone();
                let started = WallClock::now();
                copy.sort_unstable();
                std::hint::black_box(&copy);
                started.elapsed()
            })
            .collect();
        let piece_sort_runs: Vec<Duration> = (0..SUMMARY_RUNS)
            .map(|_| {
                let mut copy = piece_endpoints.clone();
                let started = WallClock::now();
                copy.sort_unstable();
                std::hint::black_box(&copy);
                started.elapsed()
            })
            .collect();
        let (report_median, sort_median, piece_sort_median) =
            (median(report_runs), median(sort_runs), median(piece_sort_runs));
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

//! What one write costs the snapshot: `Snapshot::with_changes` for one agent sent again as it is
//! (its old contribution taken out of the timelines, its new one put in), on the coverage
//! benchmark's roster of 5,000 agents with its timelines built, and dropping the snapshot it
//! replaces, as a replica does once the new one is in force. Run with
//! `cargo bench --bench snapshot_changes`.

use eea_coverage::app::machine_parallelism;
use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::roster::RosterChanges;
use eea_coverage::domain::snapshot::Snapshot;
use eea_coverage::domain::time::Instant;
use eea_coverage::testing::rosters::coverage_benchmark_snapshot;

const N_AGENTS: usize = 5_000;

fn instant(text: &str) -> Instant {
    text.parse().expect("a valid instant")
}

fn snapshot() -> Snapshot {
    let window = Interval::new(instant("2026-02-01T00:00:00Z"), instant("2026-05-01T00:00:00Z")).unwrap();
    coverage_benchmark_snapshot(N_AGENTS, window).with_timelines(instant("2026-03-20T12:00:00Z"), machine_parallelism())
}

/// Every 97th agent, sent again as stored: the changes one-agent writes make.
fn one_agent_changes(snapshot: &Snapshot) -> Vec<RosterChanges> {
    snapshot
        .agents()
        .step_by(97)
        .map(|agent| RosterChanges { agents: vec![(agent.agent.agent_id.clone(), Some(agent.clone()))], orgs: vec![] })
        .collect()
}

fn main() {
    divan::main();
}

#[divan::bench(sample_count = 200)]
fn one_agent_written_again(bencher: divan::Bencher) {
    let snapshot = snapshot();
    let changes = one_agent_changes(&snapshot);
    let mut change_idx = 0;
    bencher.bench_local(|| {
        change_idx = (change_idx + 1) % changes.len();
        let next = snapshot.with_changes(changes[change_idx].clone(), machine_parallelism());
        assert_eq!(next.n_agents(), N_AGENTS);
        drop(next);
    });
}

//! Generated rosters, the same on every run: the 5,000-agent roster of the coverage benchmark
//! and the roster the load generator seeds a server with.

use std::sync::Arc;

use super::DeterministicRandom;
use crate::domain::interval::Interval;
use crate::domain::policy::Policy;
use crate::domain::roster::{Agent, AgentDraft, Org, ScheduleDraft, Shift, ShiftDraft, TimeOff};
use crate::domain::snapshot::Snapshot;
use crate::domain::time::Instant;
use crate::pb;

/// The orgs of a load test: one per plan and region the questions rotate through.
pub const LOAD_TEST_ORGS: [(&str, &str, pb::Plan); 4] = [
    ("load-eea-dublin", "eu-west-1", pb::Plan::EeaOnly),
    ("load-std-frankfurt", "eu-central-1", pb::Plan::Standard),
    ("load-std-london", "eu-west-2", pb::Plan::Standard),
    ("load-std-virginia", "us-east-1", pb::Plan::Standard),
];

/// A load test's roster, as the wire messages that load it.
pub struct LoadTestRoster {
    pub orgs: Vec<pb::Org>,
    pub agents: Vec<pb::Agent>,
    pub shifts: Vec<pb::Shift>,
    pub time_off: Vec<pb::TimeOff>,
    /// The first instant of the 90 days the shifts run over (45 days before `now`).
    pub window_start_secs: i64,
}

/// `n_agents` agents (`load-agent-00000` on) with recurring shifts over 90 days around `now_secs`,
/// one in ten a Sev1 pager, one in five with time off, and the orgs of `LOAD_TEST_ORGS`.
pub fn load_test_roster(n_agents: usize, now_secs: i64) -> Result<LoadTestRoster, String> {
    let orgs = LOAD_TEST_ORGS
        .iter()
        .map(|(org_id, region, plan)| pb::Org {
            org_id: (*org_id).into(),
            cloud_region: (*region).into(),
            plan: *plan as i32,
            ..Default::default()
        })
        .collect();
    let mut random = DeterministicRandom::new(2026);
    let (mut agents, mut shifts, mut time_off) = (Vec::new(), Vec::new(), Vec::new());
    let window_start_secs = now_secs - 45 * 86_400;
    let first_day = jiff::Timestamp::from_second(window_start_secs)
        .map_err(|error| error.to_string())?
        .strftime("%Y-%m-%d")
        .to_string();
    let places = load_test_places();
    for agent_idx in 0..n_agents {
        let (country, zone) = places[random.below(places.len() as u64) as usize];
        let agent_id = format!("load-agent-{agent_idx:05}");
        agents.push(pb::Agent {
            agent_id: agent_id.clone(),
            display_name: format!("Load agent {agent_idx}"),
            country: country.into(),
            time_zone: zone.into(),
            severities: vec![],
            location_changes: vec![],
        });
        let pattern = random.below(10);
        let (start_hour, end_time, rrule) = working_pattern(pattern, &mut random);
        shifts.push(pb::Shift {
            source: String::new(),
            shift_id: format!("{agent_id}-main"),
            agent_id: agent_id.clone(),
            severities: if random.below(10) == 0 { vec![pb::Severity::Severity1 as i32] } else { vec![] },
            country: String::new(),
            schedule: Some(pb::shift::Schedule::Recurring(pb::RecurringShift {
                time_zone: zone.into(),
                start_local: format!("{first_day}T{start_hour:02}:00:00"),
                end_time: end_time.into(),
                rrule: format!("{rrule};COUNT=90"),
                exdates: vec![],
            })),
        });
        if random.below(5) == 0 {
            let start = window_start_secs + random.below(90) as i64 * 86_400;
            time_off.push(pb::TimeOff {
                source: String::new(),
                time_off_id: format!("{agent_id}-leave"),
                agent_id: agent_id.clone(),
                starts_at: Some(wire_timestamp(start)),
                ends_at: Some(wire_timestamp(start + (1 + random.below(5) as i64) * 86_400)),
            });
        }
    }
    Ok(LoadTestRoster { orgs, agents, shifts, time_off, window_start_secs })
}

/// The coverage benchmark's roster over `window`, as a snapshot under the default policy:
/// `n_agents` agents on weekday days, daily shifts, nights across the DST changes and weekends,
/// with Sev1 pagers, one-off extras, time off and relocations.
pub fn coverage_benchmark_snapshot(n_agents: usize, window: Interval) -> Snapshot {
    coverage_benchmark_snapshot_with_orgs(n_agents, window, vec![])
}

/// The coverage benchmark's roster with `orgs` to ask tickets about (the hot-path benchmark's).
pub fn coverage_benchmark_snapshot_with_orgs(n_agents: usize, window: Interval, orgs: Vec<Org>) -> Snapshot {
    let mut random = DeterministicRandom::new(2026);
    let (mut agents, mut shifts, mut time_off) = (Vec::new(), Vec::new(), Vec::new());
    let window_days = (window.end().as_second() - window.start().as_second()) / 86_400;
    for agent_idx in 0..n_agents {
        let place_idx = (random.below(100) as usize * COVERAGE_BENCHMARK_PLACES.len() / 100)
            .min(COVERAGE_BENCHMARK_PLACES.len() - 1);
        let (country, zone) = COVERAGE_BENCHMARK_PLACES[place_idx];
        let agent_id = format!("agent-{agent_idx:05}");
        let relocations = if random.below(20) == 0 {
            let at = window.start().as_second() + random.below(window_days as u64) as i64 * 86_400;
            vec![(Some(instant_at(at)), if country == "GB" { "IE" } else { "GB" }.to_owned())]
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
        let (start_hour, end_time, rrule) = working_pattern(pattern, &mut random);
        let start_local = format!("2026-01-{first_day:02}T{start_hour:02}:00:00");
        let schedule = ScheduleDraft::Recurring {
            time_zone: zone.to_owned(),
            start_local,
            end_time: end_time.to_owned(),
            rrule: rrule.to_owned(),
            exdates: vec![],
        };
        shifts.push(generated_shift(format!("{agent_id}-main"), &agent_id, pager, schedule));
        if random.below(10) == 0 {
            let start = window.start().as_second() + random.below(window_days as u64 * 24) as i64 * 3_600;
            let schedule = ScheduleDraft::OneOff {
                starts_at: Some(instant_at(start)),
                ends_at: Some(instant_at(start + 6 * 3_600)),
            };
            shifts.push(generated_shift(format!("{agent_id}-extra"), &agent_id, vec![], schedule));
        }
        if random.below(5) == 0 {
            let start = window.start().as_second() + random.below(window_days as u64) as i64 * 86_400;
            let days = 1 + random.below(5) as i64;
            time_off.push(
                TimeOff::new(
                    format!("{agent_id}-leave"),
                    agent_id.clone(),
                    Some(instant_at(start)),
                    Some(instant_at(start + days * 86_400)),
                    None,
                )
                .expect("valid time off"),
            );
        }
    }
    Snapshot::build(Arc::new(Policy::default_policy()), orgs, agents, shifts, time_off, vec![])
}

/// Where the coverage benchmark's agents live, drawn evenly.
const COVERAGE_BENCHMARK_PLACES: [(&str, &str); 12] = [
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

/// Where load-test agents live, drawn evenly: the coverage benchmark's places but Sweden and the
/// Philippines, in the same order.
fn load_test_places() -> Vec<(&'static str, &'static str)> {
    COVERAGE_BENCHMARK_PLACES.iter().filter(|(country, _)| !matches!(*country, "SE" | "PH")).copied().collect()
}

/// The start hour, end time and rule of a generated main shift, for a `pattern` drawn from
/// `0..10`: four in ten weekday days, three daily, two nights, one weekend. The start hour is
/// drawn from `random` after `pattern`, as both rosters have always drawn it.
fn working_pattern(pattern: u64, random: &mut DeterministicRandom) -> (u64, &'static str, &'static str) {
    match pattern {
        0..=3 => (8 + random.below(3), "17:00", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        4..=6 => (6 + random.below(8), "18:00", "FREQ=DAILY"),
        7..=8 => (22, "06:00", "FREQ=DAILY"),
        _ => (9, "15:00", "FREQ=WEEKLY;BYDAY=SA,SU"),
    }
}

fn generated_shift(shift_id: String, agent_id: &str, severities: Vec<i32>, schedule: ScheduleDraft) -> Shift {
    Shift::new(ShiftDraft {
        shift_id,
        agent_id: agent_id.to_owned(),
        severities,
        country: String::new(),
        schedule,
        source: None,
    })
    .expect("a valid generated shift")
}

fn instant_at(seconds: i64) -> Instant {
    Instant::from_second(seconds).expect("a generated instant is in range")
}

fn wire_timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

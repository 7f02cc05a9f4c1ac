//! The precomputed timelines give exactly the answers of the full computation.

use jiff::civil::{date, Time};
use proptest::prelude::*;

use super::*;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::decision::{decide_ticket, TicketQuestion};
use crate::domain::fixtures::{
    consent, daily, drawn_time_off, numbered_agent, numbered_agent_id, numbered_shift, org, policy,
};
use crate::domain::on_shift::on_shift;
use crate::domain::parallel::Parallelism;
use crate::domain::policy::{PlanKind, TicketCategory};
use crate::domain::roster::Shift;
use crate::domain::snapshot::Snapshot;

/// Timelines built on two threads, as on the machines the service runs on.
const TWO_THREADS: Parallelism = Parallelism::new(std::num::NonZeroUsize::new(2).unwrap());
const COUNTRIES: [&str; 5] = ["IE", "US", "GB", "IN", "DE"];
/// 2026-03-20T00:00:00Z: the horizon spans the spring DST change.
const BUILT_AT: i64 = 1_773_964_800;

fn at_minute(minute: i64) -> Instant {
    Instant::from_second(BUILT_AT + minute * 60).unwrap()
}

/// The `length_minutes` from `start_minute`.
fn minutes(start_minute: i64, length_minutes: i64) -> Interval {
    Interval::new(at_minute(start_minute), at_minute(start_minute + length_minutes)).unwrap()
}

type RandomRoster = (Vec<(usize, bool)>, Vec<(usize, i64, i64, bool)>, Vec<(usize, i64, i64)>);

fn roster_strategy() -> impl Strategy<Value = RandomRoster> {
    (1usize..6).prop_flat_map(|n_agents| {
        (
            prop::collection::vec((0..COUNTRIES.len(), any::<bool>()), n_agents),
            prop::collection::vec(
                (0..n_agents, -7 * 1440i64..(21 * 1440), 30i64..(30 * 60), proptest::bool::weighted(0.2)),
                0..12,
            ),
            prop::collection::vec((0..n_agents, -7 * 1440i64..(21 * 1440), 60i64..(3 * 1440)), 0..3),
        )
    })
}

fn build((agents, shifts, time_off): &RandomRoster) -> Snapshot {
    let agent_list = agents
        .iter()
        .enumerate()
        .map(|(agent_idx, (country_idx, relocates))| {
            let relocations: &[(&str, &str)] = if *relocates { &[("2026-03-25T12:00:00Z", "GB")] } else { &[] };
            numbered_agent(agent_idx, COUNTRIES[*country_idx], relocations)
        })
        .collect();
    let mut shift_list: Vec<Shift> = shifts
        .iter()
        .enumerate()
        .map(|(shift_idx, (agent_idx, start, length, sev1_only))| {
            numbered_shift(shift_idx, *agent_idx, minutes(*start, *length), *sev1_only)
        })
        .collect();
    // Every agent also works a nightly shift across the DST change.
    for agent_idx in 0..agents.len() {
        shift_list.push(daily(
            &format!("nights-{agent_idx}"),
            &numbered_agent_id(agent_idx),
            date(2026, 1, 1).at(22, 0, 0, 0),
            Time::constant(2, 30, 0, 0),
        ));
    }
    let consents = vec![consent("std-eu", "t-consent", &numbered_agent_id(1), "2026-03-30T00:00:00Z")];
    Snapshot::build(
        policy(HolidayCalendar::Target2),
        vec![
            org("eea", "eu-west-1", PlanKind::EeaOnly),
            org("std-eu", "eu-central-1", PlanKind::Standard),
            org("std-us", "us-east-1", PlanKind::Standard),
        ],
        agent_list,
        shift_list,
        drawn_time_off(time_off, minutes),
        consents,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn precomputed_answers_equal_the_full_computation(
        roster in roster_strategy(),
        questions in prop::collection::vec((0usize..3, 0usize..4, -7 * 1440i64..(21 * 1440), any::<bool>(), any::<bool>()), 1..25),
    ) {
        let slow = build(&roster);
        let fast = slow.clone().with_timelines(at_minute(0), TWO_THREADS);
        prop_assert!(fast.timelines().horizon().is_some());
        for (org_idx, severity_idx, minute, consented_ticket, excluded_category) in questions {
            let question = TicketQuestion {
                org_id: ["eea", "std-eu", "std-us"][org_idx],
                ticket_id: if consented_ticket { "t-consent" } else { "t-other" },
                severity: Severity::ALL[severity_idx],
                category: if excluded_category { TicketCategory::ThirdParty } else { TicketCategory::ProductSupport },
                at: at_minute(minute) + SignedDuration::from_secs(17),
            };
            prop_assert_eq!(decide_ticket(&fast, &question), decide_ticket(&slow, &question));
            let (plan, tagged) = [(PlanKind::EeaOnly, true), (PlanKind::Standard, true), (PlanKind::Standard, false)][org_idx];
            prop_assert_eq!(
                on_shift(&fast, plan, tagged, question.severity, question.at),
                on_shift(&slow, plan, tagged, question.severity, question.at)
            );
        }
    }
}

#[test]
fn questions_outside_the_horizon_fall_back_to_the_full_computation() {
    let roster: RandomRoster = (vec![(0, false)], vec![], vec![]);
    let fast = build(&roster).with_timelines(at_minute(0), TWO_THREADS);
    let far = Interval::new(at_minute(60 * 1440), at_minute(75 * 1440)).unwrap();
    assert!(!fast.timelines().covers(far));
    let question = TicketQuestion {
        org_id: "eea",
        ticket_id: "t",
        severity: Severity::Sev1,
        category: TicketCategory::ProductSupport,
        at: far.start(),
    };
    assert_eq!(decide_ticket(&fast, &question), decide_ticket(&build(&roster), &question));
}

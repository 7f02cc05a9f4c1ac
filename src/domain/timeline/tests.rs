//! The precomputed timelines give exactly the answers of the full computation.

use proptest::prelude::*;

use super::*;
use crate::domain::decision::{decide_ticket, TicketQuestion};
use crate::domain::fixtures::{at_minute, random_roster, random_roster_snapshot as build, RandomRoster};
use crate::domain::on_shift::on_shift;
use crate::domain::parallel::Parallelism;
use crate::domain::policy::{PlanKind, TicketCategory};

/// Timelines built on two threads, as on the machines the service runs on.
const TWO_THREADS: Parallelism = Parallelism::new(std::num::NonZeroUsize::new(2).unwrap());
proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn precomputed_answers_equal_the_full_computation(
        roster in random_roster(),
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

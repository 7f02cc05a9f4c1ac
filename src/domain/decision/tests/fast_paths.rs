//! The fast paths against the full computation: `next_staffed_at` when a ticket is handled
//! now, and access from the precomputed pieces against access from expanded shifts.

use super::*;

/// `next_staffed_at` by the full search: two weeks of service hours against where anyone
/// eligible is, the first instant in both.
fn next_staffed_by_full_search(snapshot: &Snapshot, question: &TicketQuestion) -> Option<Instant> {
    let context = ticket_context(snapshot, question).unwrap();
    let hours = snapshot.policy.rules(context.plan).hours_for(context.severity);
    let horizon = Interval::following(question.at, NEXT_STAFFED_HORIZON).unwrap();
    let (_, staffed) = staffing(snapshot, &context, question, horizon);
    intersect(&hours.windows_within(horizon), &staffed.intervals()).first().map(|first| first.start())
}

#[test]
fn a_ticket_handled_now_is_next_staffed_at_its_own_instant_as_the_full_search_finds() {
    let gappy = shifts_snapshot(
        HolidayCalendar::Target2,
        vec![org("acme", "eu-west-1", PlanKind::EeaOnly), org("std", "eu-central-1", PlanKind::Standard)],
        vec![agent("be-1", "BE", &[]), agent("us-1", "US", &[])],
        vec![
            daily("be-days", "be-1", date(2026, 3, 20).at(7, 0, 0, 0), Time::constant(13, 0, 0, 0)),
            daily("us-nights", "us-1", date(2026, 3, 20).at(20, 0, 0, 0), Time::constant(4, 0, 0, 0)),
        ],
    );
    let cases = [(hand_over_snapshot(), vec!["acme"]), (gappy, vec!["acme", "std"])];
    for (built, org_ids) in cases {
        // Both paths: agent by agent, and the precomputed index.
        let indexed = built.clone().with_timelines(instant("2026-03-25T00:00:00Z"), Parallelism::SEQUENTIAL);
        for snapshot in [&built, &indexed] {
            let mut at = instant("2026-03-26T00:00:00Z");
            let mut n_handled_now = 0;
            while at < instant("2026-04-02T00:00:00Z") {
                for &org_id in &org_ids {
                    for severity in [Severity::Sev1, Severity::Sev2, Severity::Sev4] {
                        let question = product_support_question(org_id, severity, at);
                        let decision = decide_ticket(snapshot, &question).unwrap();
                        n_handled_now += usize::from(decision.handle_now);
                        assert_eq!(
                            decision.next_staffed_at,
                            next_staffed_by_full_search(snapshot, &question),
                            "{org_id} {severity:?} at {at}"
                        );
                    }
                }
                at += SignedDuration::from_mins(47);
            }
            assert!(n_handled_now > 100, "the walk meets tickets handled now ({n_handled_now})");
        }
    }
}

#[test]
fn access_from_the_precomputed_pieces_equals_access_from_expanded_shifts() {
    use crate::domain::policy::SeveritySet;
    let mut pager = daily("us-pager", "us-1", date(2026, 3, 20).at(20, 0, 0, 0), Time::constant(4, 0, 0, 0));
    pager.severities = SeveritySet::from_severities([Severity::Sev1]);
    let built = Snapshot::build(
        policy(HolidayCalendar::None),
        vec![org("acme", "eu-west-1", PlanKind::EeaOnly), org("std", "eu-central-1", PlanKind::Standard)],
        vec![
            agent("be-1", "BE", &[]),
            agent("us-1", "US", &[]),
            agent("ie-1", "IE", &[("2026-03-28T00:00:00Z", "GB")]),
        ],
        vec![
            daily("be-days", "be-1", date(2026, 3, 20).at(7, 0, 0, 0), Time::constant(15, 0, 0, 0)),
            daily("ie-days", "ie-1", date(2026, 3, 20).at(2, 30, 0, 0), Time::constant(9, 0, 0, 0)),
            pager,
            trip("be-trip", "be-1", "2026-03-30T12:00:00Z", "2026-03-30T20:00:00Z", "US"),
        ],
        vec![time_off("be-leave", "be-1", "2026-03-27T00:00:00Z", "2026-03-28T12:00:00Z")],
        vec![],
    );
    let indexed = built.clone().with_timelines(instant("2026-03-25T00:00:00Z"), Parallelism::SEQUENTIAL);
    let mut at = instant("2026-03-24T00:00:00Z");
    let (mut n_compared, mut n_on_shift) = (0, 0);
    while at < instant("2026-04-03T00:00:00Z") {
        for org_id in ["acme", "std"] {
            for agent_id in ["be-1", "us-1", "ie-1"] {
                for severity in [Severity::Sev1, Severity::Sev3] {
                    let question = product_support_question(org_id, severity, at);
                    let expanded = check_agent_access(&built, &question, agent_id).unwrap();
                    let from_pieces = check_agent_access(&indexed, &question, agent_id).unwrap();
                    assert_eq!(from_pieces, expanded, "{org_id} {agent_id} {severity:?} at {at}");
                    n_compared += 1;
                    n_on_shift += usize::from(expanded.on_shift);
                }
            }
        }
        at += SignedDuration::from_mins(29);
    }
    assert!(n_on_shift > n_compared / 10, "the walk meets agents on shift ({n_on_shift} of {n_compared})");
}

//! The watch's next look against the answers themselves: no change is missed between two
//! looks, and a look finds a change unless it is the end of the look-ahead.

use proptest::prelude::*;

use super::*;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::fixtures::{
    at_minute, eea_only_org_snapshot, instant, one_off, random_roster, random_roster_snapshot,
};
use crate::domain::parallel::Parallelism;
use crate::domain::policy::{Severity, TicketCategory};

fn question<'a>(org_id: &'a str, ticket_id: &'a str, severity: Severity, at: Instant) -> TicketQuestion<'a> {
    TicketQuestion { org_id, ticket_id, severity, category: TicketCategory::ProductSupport, at }
}

fn state_at(snapshot: &Snapshot, asked: &TicketQuestion, at: Instant) -> WindowState {
    WindowState::of(&decide_ticket(snapshot, &TicketQuestion { at, ..*asked }).unwrap())
}

/// Follows one subscription from `from` to `until` as a watch does, look after look: the state
/// at each look, and the changes reported there.
fn walk(snapshot: &Snapshot, asked: &TicketQuestion, from: &str, until: &str) -> Vec<(Instant, Vec<WindowChange>)> {
    let mut reading = read_window(snapshot, &TicketQuestion { at: instant(from), ..*asked }).unwrap();
    let mut events = Vec::new();
    while reading.recheck_at < instant(until) {
        let next = read_window(snapshot, &TicketQuestion { at: reading.recheck_at, ..*asked }).unwrap();
        let changes = changes_between(&WindowState::of(&reading.decision), &WindowState::of(&next.decision));
        if !changes.is_empty() {
            events.push((reading.recheck_at, changes));
        }
        reading = next;
    }
    events
}

#[test]
fn a_business_hours_ticket_sees_the_window_open_and_close_and_staff_come_and_go() {
    // Monday 7 December 2026: an Irish agent on shift 07:00-12:00 and 14:00-20:00 UTC
    // (08:00-13:00 and 15:00-21:00 in Brussels); the window is 09:00-18:00 Brussels.
    let snapshot = eea_only_org_snapshot(
        HolidayCalendar::None,
        vec![
            one_off("morning", "ie-1", "2026-12-07T07:00:00Z", "2026-12-07T12:00:00Z"),
            one_off("evening", "ie-1", "2026-12-07T14:00:00Z", "2026-12-07T20:00:00Z"),
        ],
    );
    for snapshot in
        [snapshot.clone(), snapshot.with_timelines(instant("2026-12-06T00:00:00Z"), Parallelism::SEQUENTIAL)]
    {
        let asked = question("acme", "T-1", Severity::Sev3, instant("2026-12-07T06:00:00Z"));
        let events = walk(&snapshot, &asked, "2026-12-07T06:00:00Z", "2026-12-08T09:00:00Z");
        use WindowChange::*;
        assert_eq!(
            events,
            vec![
                (instant("2026-12-07T07:00:00Z"), vec![StaffingStarted]),
                (instant("2026-12-07T08:00:00Z"), vec![WindowOpened]),
                (instant("2026-12-07T12:00:00Z"), vec![StaffingStopped]),
                (instant("2026-12-07T14:00:00Z"), vec![StaffingStarted]),
                (instant("2026-12-07T17:00:00Z"), vec![WindowClosed]),
                (instant("2026-12-07T20:00:00Z"), vec![StaffingStopped]),
                (instant("2026-12-08T08:00:00Z"), vec![WindowOpened]),
            ]
        );
    }
}

#[test]
fn with_no_staff_within_two_weeks_the_answer_changes_when_a_later_shift_comes_within_them() {
    let snapshot = eea_only_org_snapshot(
        HolidayCalendar::None,
        vec![one_off("far", "ie-1", "2026-12-23T10:00:00Z", "2026-12-23T12:00:00Z")],
    );
    let asked = question("acme", "T-1", Severity::Sev1, instant("2026-12-01T00:00:00Z"));
    let reading = read_window(&snapshot, &asked).unwrap();
    assert_eq!(reading.decision.next_staffed_at, None);
    assert_eq!(reading.recheck_at, instant("2026-12-09T10:00:00.000001Z"));
    let after = state_at(&snapshot, &asked, reading.recheck_at);
    assert_eq!(after.next_staffed_at, Some(instant("2026-12-23T10:00:00Z")));
    assert_eq!(state_at(&snapshot, &asked, instant("2026-12-09T10:00:00Z")).next_staffed_at, None);
}

#[test]
fn the_changes_name_every_field_that_moved() {
    let snapshot = eea_only_org_snapshot(HolidayCalendar::None, vec![]);
    let asked = question("acme", "T-1", Severity::Sev3, instant("2026-12-07T10:00:00Z"));
    let before = state_at(&snapshot, &asked, asked.at);
    assert_eq!(changes_between(&before, &before), vec![]);
    let mut plan_changed = before.clone();
    plan_changed.org_plan = PlanKind::Standard;
    assert_eq!(changes_between(&before, &plan_changed), vec![WindowChange::PlanChanged]);
    let mut moved = before.clone();
    moved.window_closes_at = Some(instant("2026-12-07T19:00:00Z"));
    assert_eq!(changes_between(&before, &moved), vec![WindowChange::WindowMoved]);
    let mut tagged = before.clone();
    tagged.eea_tagged = !before.eea_tagged;
    assert_eq!(changes_between(&before, &tagged), vec![WindowChange::EeaTagChanged]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Between a look and the next one the answer is the one the look gave, at every instant a
    /// shift, time off or relocation could change it and at random ones; at the next look it
    /// has changed, unless that look is the end of the two-week look-ahead or of a transfer
    /// basis. Agent by agent and from the precomputed timelines alike, consents included.
    #[test]
    fn a_watch_looks_again_exactly_when_the_answer_can_change(
        roster in random_roster(),
        questions in prop::collection::vec((0usize..3, 0usize..4, -7 * 1440i64..(21 * 1440), any::<bool>(), 0u64..1000), 1..6),
    ) {
        let slow = random_roster_snapshot(&roster);
        let fast = slow.clone().with_timelines(at_minute(0), Parallelism::SEQUENTIAL);
        let (_, shifts, time_off) = &roster;
        // Every instant at which some entry of the roster starts or ends, by the minute.
        let mut edges: Vec<i64> = shifts.iter().flat_map(|(_, start, length, _)| [*start, start + length]).collect();
        edges.extend(time_off.iter().flat_map(|(_, start, length)| [*start, start + length]));
        for (org_idx, severity_idx, minute, consented, seed) in questions {
            let org_id = ["eea", "std-eu", "std-us"][org_idx];
            let ticket_id = if consented { "t-consent" } else { "t-other" };
            let asked = question(org_id, ticket_id, Severity::ALL[severity_idx], at_minute(minute) + SignedDuration::from_secs(17));
            for snapshot in [&slow, &fast] {
                let reading = read_window(snapshot, &asked).unwrap();
                prop_assert!(reading.recheck_at > asked.at);
                let state = WindowState::of(&reading.decision);
                let mut probes: Vec<Instant> = edges.iter().map(|edge| at_minute(*edge)).collect();
                probes.extend((0..8).map(|probe_idx| {
                    let span = (reading.recheck_at - asked.at).as_micros() as u64;
                    asked.at + SignedDuration::from_micros(((seed * 7919 + probe_idx * 104_729) % span.max(1)) as i64)
                }));
                probes.push(reading.recheck_at - SignedDuration::from_micros(1));
                for probe in probes.into_iter().filter(|probe| *probe > asked.at && *probe < reading.recheck_at) {
                    prop_assert_eq!(&state_at(snapshot, &asked, probe), &state, "changed at {} before the look at {}", probe, reading.recheck_at);
                }
                let at_look = state_at(snapshot, &asked, reading.recheck_at);
                let lookahead_end = asked.at + STAFFING_LOOKAHEAD;
                let basis_change = snapshot.policy.facts.basis_change_instants().contains(&reading.recheck_at);
                prop_assert!(
                    at_look != state || reading.recheck_at == lookahead_end || basis_change,
                    "nothing changed at the look at {}", reading.recheck_at
                );
            }
        }
    }
}

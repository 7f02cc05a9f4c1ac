//! The walk through a stretch against the decisions themselves: every listed moment answers as
//! DecideTicket does then, nothing changes between two listed moments, and a stretch walked in
//! two pieces lists what it lists in one.

use jiff::SignedDuration;
use proptest::prelude::*;

use super::*;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::decision::decide_ticket;
use crate::domain::fixtures::{
    agent, at_minute, consent, eea_only_org_snapshot, instant, one_off, org, policy, random_roster,
    random_roster_snapshot,
};
use crate::domain::parallel::Parallelism;
use crate::domain::policy::PlanKind;

fn ticket(org_id: &str, ticket_id: &str, created_at: Instant, severity: Severity) -> TicketHistory {
    TicketHistory {
        org_id: org_id.into(),
        ticket_id: ticket_id.into(),
        created_at,
        severity,
        category: TicketCategory::ProductSupport,
        changes: Vec::new(),
    }
}

fn walk(snapshot: &Snapshot, ticket: &TicketHistory, until: Instant) -> Vec<Moment> {
    let mut moments = Vec::new();
    let end = explain_stretch(
        snapshot,
        ticket,
        (ticket.created_at, until),
        &[],
        &mut LastAnswer::default(),
        &mut moments,
        usize::MAX,
    )
    .unwrap();
    assert_eq!(end, StretchEnd::Reached);
    moments
}

/// (instant, causes, changes, handle now, eligible on shift) of each moment.
type Summary = (Instant, Vec<MomentCause>, Vec<WindowChange>, bool, u32);

fn summary(moments: &[Moment]) -> Vec<Summary> {
    moments
        .iter()
        .map(|moment| {
            let decision = moment.decision.as_ref().unwrap();
            (moment.at, moment.causes.clone(), moment.changes.clone(), decision.handle_now, decision.eligible_on_shift)
        })
        .collect()
}

#[test]
fn a_sev3_ticket_raised_to_sev1_lists_its_changes_and_each_change_of_the_answer_between() {
    // Monday 7 December 2026: an Irish agent on shift 07:00-12:00 and 14:00-20:00 UTC; the
    // window is 09:00-18:00 Brussels (08:00-17:00 UTC). The ticket is raised to Sev1 at 10:00.
    let snapshot = eea_only_org_snapshot(
        HolidayCalendar::None,
        vec![
            one_off("morning", "ie-1", "2026-12-07T07:00:00Z", "2026-12-07T12:00:00Z"),
            one_off("evening", "ie-1", "2026-12-07T14:00:00Z", "2026-12-07T20:00:00Z"),
        ],
    );
    let mut raised = ticket("acme", "T-1", instant("2026-12-07T06:00:00Z"), Severity::Sev3);
    raised.changes.push(TicketChange {
        at: instant("2026-12-07T10:00:00Z"),
        severity: Some(Severity::Sev1),
        category: None,
    });
    use MomentCause::*;
    use WindowChange::*;
    let expected: Vec<Summary> = vec![
        (instant("2026-12-07T06:00:00Z"), vec![Created], vec![], false, 0),
        (instant("2026-12-07T07:00:00Z"), vec![TimePassed], vec![StaffingStarted], false, 1),
        (instant("2026-12-07T08:00:00Z"), vec![TimePassed], vec![WindowOpened], true, 1),
        (instant("2026-12-07T10:00:00Z"), vec![SeverityChanged], vec![WindowMoved], true, 1),
        (instant("2026-12-07T12:00:00Z"), vec![TimePassed], vec![StaffingStopped], false, 0),
        (instant("2026-12-07T14:00:00Z"), vec![TimePassed], vec![StaffingStarted], true, 1),
        (instant("2026-12-07T20:00:00Z"), vec![TimePassed], vec![StaffingStopped], false, 0),
    ];
    for snapshot in
        [snapshot.clone(), snapshot.with_timelines(instant("2026-12-06T00:00:00Z"), Parallelism::SEQUENTIAL)]
    {
        let moments = walk(&snapshot, &raised, instant("2026-12-08T00:00:00Z"));
        assert_eq!(summary(&moments), expected);
        assert_eq!(moments[3].severity, Severity::Sev1);
        assert_eq!(moments[2].severity, Severity::Sev3);
    }
}

#[test]
fn a_consent_that_expires_while_its_agent_is_on_shift_is_a_moment_of_its_own() {
    // A standard org in the EU: its tickets are EEA-tagged, so a US agent needs the ticket's
    // consent, which expires at 12:00 in the middle of the agent's shift.
    let snapshot = Snapshot::build(
        policy(HolidayCalendar::None),
        vec![org("std-eu", "eu-west-1", PlanKind::Standard)],
        vec![agent("us-1", "US", &[])],
        vec![one_off("day", "us-1", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z")],
        vec![],
        vec![consent("std-eu", "T-9", "us-1", "2026-12-07T12:00:00Z")],
    );
    let moments = walk(
        &snapshot,
        &ticket("std-eu", "T-9", instant("2026-12-07T09:00:00Z"), Severity::Sev2),
        instant("2026-12-07T18:00:00Z"),
    );
    assert_eq!(moments.len(), 2, "{moments:#?}");
    assert_eq!(moments[0].consents, vec![consent("std-eu", "T-9", "us-1", "2026-12-07T12:00:00Z")]);
    assert_eq!(moments[0].decision.as_ref().unwrap().eligible_on_shift, 1);
    assert!(!moments[0].consents_changed);
    assert_eq!(moments[1].at, instant("2026-12-07T12:00:00Z"));
    assert!(moments[1].causes.contains(&MomentCause::ConsentExpired), "{:?}", moments[1].causes);
    assert!(moments[1].consents_changed);
    assert!(moments[1].consents.is_empty());
    assert_eq!(moments[1].decision.as_ref().unwrap().eligible_on_shift, 0);
    // Another ticket of the same org never had the consent: nothing to list but its creation.
    let other = walk(
        &snapshot,
        &ticket("std-eu", "T-10", instant("2026-12-07T09:00:00Z"), Severity::Sev2),
        instant("2026-12-07T18:00:00Z"),
    );
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].decision.as_ref().unwrap().eligible_on_shift, 0);
}

#[test]
fn an_unknown_org_is_listed_without_a_decision_and_a_full_page_says_where_to_go_on() {
    let snapshot = eea_only_org_snapshot(
        HolidayCalendar::None,
        vec![one_off("morning", "ie-1", "2026-12-07T07:00:00Z", "2026-12-07T12:00:00Z")],
    );
    let nowhere = walk(
        &snapshot,
        &ticket("gone", "T-1", instant("2026-12-07T06:00:00Z"), Severity::Sev3),
        instant("2026-12-08T00:00:00Z"),
    );
    assert_eq!(nowhere.len(), 1);
    assert_eq!(nowhere[0].decision, None);
    let asked = ticket("acme", "T-1", instant("2026-12-07T06:00:00Z"), Severity::Sev3);
    let mut moments = Vec::new();
    let end = explain_stretch(
        &snapshot,
        &asked,
        (asked.created_at, instant("2026-12-08T00:00:00Z")),
        &[],
        &mut LastAnswer::default(),
        &mut moments,
        2,
    )
    .unwrap();
    assert_eq!(moments.len(), 2);
    assert_eq!(end, StretchEnd::Full(instant("2026-12-07T08:00:00Z")));
}

/// A ticket drawn for a random roster: its org, whether it names the consented ticket, when it
/// is created (minutes), its severity, and up to three later changes (minutes after the one
/// before, severity index, whether the category turns to one the EEA-only plan leaves out).
type DrawnTicket = (usize, bool, i64, usize, Vec<(i64, usize, bool)>);

fn drawn_ticket((org_idx, consented, created, severity_idx, changes): &DrawnTicket) -> TicketHistory {
    let org_id = ["eea", "std-eu", "std-us"][*org_idx];
    let mut history = ticket(
        org_id,
        if *consented { "t-consent" } else { "t-other" },
        at_minute(*created) + SignedDuration::from_secs(17),
        Severity::ALL[*severity_idx],
    );
    let mut at = history.created_at;
    for (after, severity_idx, third_party) in changes {
        at += SignedDuration::from_mins(*after);
        history.changes.push(TicketChange {
            at,
            severity: Some(Severity::ALL[*severity_idx]),
            category: third_party.then_some(TicketCategory::ThirdParty),
        });
    }
    history
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every listed moment answers as DecideTicket does at that instant; between two listed
    /// moments (at every roster edge and at drawn instants) the answer and the consents are
    /// the earlier moment's; every change of the ticket is listed; and a walk split at any
    /// instant, carrying its last answer over, lists the same moments.
    #[test]
    fn the_listed_moments_are_exactly_where_the_answer_changes(
        roster in random_roster(),
        drawn in (0usize..3, any::<bool>(), -3 * 1440i64..(10 * 1440), 0usize..4,
            prop::collection::vec((1i64..2000, 0usize..4, any::<bool>()), 0..4)),
        split_minutes in 1i64..(4 * 1440),
        seed in 0u64..1000,
    ) {
        let slow = random_roster_snapshot(&roster);
        let fast = slow.clone().with_timelines(at_minute(0), Parallelism::SEQUENTIAL);
        let history = drawn_ticket(&drawn);
        let until = history.created_at + SignedDuration::from_hours(4 * 24);
        let (_, shifts, time_off) = &roster;
        let mut edges: Vec<Instant> = shifts.iter().flat_map(|(_, start, length, _)| [*start, start + length]).map(at_minute).collect();
        edges.extend(time_off.iter().flat_map(|(_, start, length)| [*start, start + length]).map(at_minute));
        for snapshot in [&slow, &fast] {
            let moments = walk(snapshot, &history, until);
            prop_assert_eq!(moments[0].at, history.created_at);
            for change in &history.changes {
                if change.at < until {
                    prop_assert!(moments.iter().any(|moment| moment.at == change.at), "change at {} not listed", change.at);
                }
            }
            for (moment_idx, moment) in moments.iter().enumerate() {
                let question = TicketQuestion {
                    org_id: &history.org_id,
                    ticket_id: &history.ticket_id,
                    severity: moment.severity,
                    category: moment.category,
                    at: moment.at,
                };
                prop_assert_eq!(moment.decision.as_ref(), Some(&decide_ticket(snapshot, &question).unwrap()));
                let next_at = moments.get(moment_idx + 1).map_or(until, |next| next.at);
                let span = (next_at - moment.at).as_micros() as u64;
                let mut probes: Vec<Instant> = edges.clone();
                probes.extend((0..6).map(|probe_idx| moment.at + SignedDuration::from_micros(((seed * 7919 + probe_idx * 104_729) % span.max(1)) as i64)));
                probes.push(next_at - SignedDuration::from_micros(1));
                for probe in probes.into_iter().filter(|probe| *probe > moment.at && *probe < next_at) {
                    let (severity, category) = history.state_at(probe);
                    let probed = decide_ticket(snapshot, &TicketQuestion { severity, category, at: probe, ..question }).unwrap();
                    prop_assert_eq!(WindowState::of(&probed), WindowState::of(moment.decision.as_ref().unwrap()), "changed at {} after the moment at {}", probe, moment.at);
                    prop_assert_eq!(&consents_in_force(snapshot, &history, probe), &moment.consents);
                }
            }
            // The same walk in two pieces, the last answer carried across.
            let split = history.created_at + SignedDuration::from_mins(split_minutes);
            let mut last = LastAnswer::default();
            let mut pieces = Vec::new();
            for range in [(history.created_at, split), (split, until)] {
                explain_stretch(snapshot, &history, range, &[], &mut last, &mut pieces, usize::MAX).unwrap();
            }
            prop_assert_eq!(&pieces, &moments);
        }
    }
}

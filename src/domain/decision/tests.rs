//! Table-driven cases: `../shared/reference-cases.md` and more.

use std::sync::Arc;

use jiff::civil::{date, Time};

use super::*;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::fixtures::{
    agent, consent, daily, hand_over_at_0230, instant, one_off, org, policy, shifts_snapshot, time_off, trip,
};
use crate::domain::parallel::Parallelism;
use crate::domain::policy::{PlanSettings, Policy, PolicyFacts, StandardHours, DEFAULT_POLICY_FACTS};
use crate::domain::recurrence::RecurringSchedule;
use crate::domain::roster::Agent;
use crate::domain::snapshot::Snapshot;
use crate::domain::time::Zone;

mod fast_paths;

/// An EEA-only org whose roster covers every instant from 2026 to 2034 with one Irish agent, so
/// only the service window decides.
fn always_staffed(holidays: HolidayCalendar) -> Snapshot {
    Snapshot::build(
        policy(holidays),
        vec![org("acme", "eu-west-1", PlanKind::EeaOnly)],
        vec![agent("ie-1", "IE", &[])],
        vec![one_off("always", "ie-1", "2025-01-01T00:00:00Z", "2034-01-01T00:00:00Z")],
        vec![],
        vec![],
    )
}

/// Ticket t-1 of `org_id`, a product-support ticket.
fn product_support_question(org_id: &str, severity: Severity, at: Instant) -> TicketQuestion<'_> {
    TicketQuestion { org_id, ticket_id: "t-1", severity, category: TicketCategory::ProductSupport, at }
}

fn decide(snapshot: &Snapshot, org_id: &str, severity: Severity, category: TicketCategory, at: &str) -> TicketDecision {
    let question = TicketQuestion { org_id, ticket_id: "t-1", severity, category, at: instant(at) };
    decide_ticket(snapshot, &question).unwrap()
}

enum Window {
    ClosesAt(&'static str),
    OpensAt(&'static str),
}

#[test]
fn the_reference_cases_of_the_sev2_to_4_window_hold() {
    use HolidayCalendar::{None as NoHolidays, Target2};
    use Window::{ClosesAt, OpensAt};
    let cases = [
        ("1", "2026-10-23T15:59:59Z", vec![Target2], ClosesAt("2026-10-23T16:00:00Z")),
        ("2", "2026-10-23T16:00:00Z", vec![Target2, NoHolidays], OpensAt("2026-10-26T08:00:00Z")),
        ("3", "2026-10-26T07:30:00Z", vec![Target2], OpensAt("2026-10-26T08:00:00Z")),
        ("4", "2026-03-27T17:00:00Z", vec![Target2], OpensAt("2026-03-30T07:00:00Z")),
        ("5a", "2026-03-30T06:59:59Z", vec![Target2], OpensAt("2026-03-30T07:00:00Z")),
        ("5b", "2026-03-30T07:00:00Z", vec![Target2], ClosesAt("2026-03-30T16:00:00Z")),
        ("6a", "2026-10-25T00:30:00Z", vec![Target2], OpensAt("2026-10-26T08:00:00Z")),
        ("6b", "2026-10-25T01:30:00Z", vec![Target2], OpensAt("2026-10-26T08:00:00Z")),
        ("7", "2026-03-29T00:30:00Z", vec![Target2], OpensAt("2026-03-30T07:00:00Z")),
        ("8a", "2027-03-25T17:00:00Z", vec![Target2], OpensAt("2027-03-30T07:00:00Z")),
        ("8b", "2027-03-25T17:00:00Z", vec![NoHolidays], OpensAt("2027-03-26T08:00:00Z")),
        ("9a", "2028-02-28T17:00:00Z", vec![Target2], OpensAt("2028-02-29T08:00:00Z")),
        ("9b", "2028-02-29T16:59:59Z", vec![Target2], ClosesAt("2028-02-29T17:00:00Z")),
        ("10", "2032-02-29T10:00:00Z", vec![Target2], OpensAt("2032-03-01T08:00:00Z")),
        ("11a", "2026-05-01T10:00:00Z", vec![Target2], OpensAt("2026-05-04T07:00:00Z")),
        ("11b", "2026-05-01T10:00:00Z", vec![NoHolidays], ClosesAt("2026-05-01T16:00:00Z")),
        ("12a", "2026-12-31T17:00:00Z", vec![Target2], OpensAt("2027-01-04T08:00:00Z")),
        ("12b", "2026-12-31T17:00:00Z", vec![NoHolidays], OpensAt("2027-01-01T08:00:00Z")),
        ("13", "2026-12-24T16:59:00Z", vec![Target2], ClosesAt("2026-12-24T17:00:00Z")),
    ];
    for (case, at, calendars, window) in cases {
        for calendar in calendars {
            let snapshot = always_staffed(calendar);
            for severity in [Severity::Sev2, Severity::Sev3, Severity::Sev4] {
                let decision = decide(&snapshot, "acme", severity, TicketCategory::ProductSupport, at);
                let label = format!("case {case} ({}) {severity:?}", calendar.name());
                match window {
                    ClosesAt(closes) => {
                        assert!(decision.in_service_hours, "{label}: in hours");
                        assert!(decision.handle_now, "{label}: handle now");
                        assert_eq!(decision.window_closes_at, Some(instant(closes)), "{label}: closes");
                        assert_eq!(decision.window_opens_at, None, "{label}: opens");
                        assert_eq!(decision.next_staffed_at, Some(instant(at)), "{label}: next staffed");
                    }
                    OpensAt(opens) => {
                        assert!(!decision.in_service_hours, "{label}: in hours");
                        assert!(!decision.handle_now, "{label}: handle now");
                        assert!(decision.staffed_now, "{label}: staffed now");
                        assert_eq!(decision.window_opens_at, Some(instant(opens)), "{label}: opens");
                        assert_eq!(decision.window_closes_at, None, "{label}: closes");
                        assert_eq!(decision.next_staffed_at, Some(instant(opens)), "{label}: next staffed");
                        assert_eq!(decision.reason, DecisionReason::OutsideServiceHours, "{label}: reason");
                    }
                }
            }
        }
    }
}

#[test]
fn sev1_on_the_eea_only_plan_is_in_service_hours_at_every_instant() {
    let snapshot = always_staffed(HolidayCalendar::Target2);
    for at in ["2026-03-29T01:30:00Z", "2026-12-25T03:00:00Z", "2026-10-25T01:30:00Z", "2027-01-02T23:59:59Z"] {
        let decision = decide(&snapshot, "acme", Severity::Sev1, TicketCategory::ProductSupport, at);
        assert!(decision.in_service_hours && decision.handle_now, "{at}");
        assert_eq!((decision.window_closes_at, decision.window_opens_at), (None, None), "{at}");
    }
}

/// The EEA-only org acme (eu-west-1, no holidays), staffed by `agents` on `shifts`.
fn eea_only_acme(agents: Vec<Agent>, shifts: Vec<Shift>) -> Snapshot {
    shifts_snapshot(HolidayCalendar::None, vec![org("acme", "eu-west-1", PlanKind::EeaOnly)], agents, shifts)
}

/// One org per (region, plan); agents by country; a consent for the US agent on ticket t-consent.
fn access_snapshot() -> Snapshot {
    Snapshot::build(
        policy(HolidayCalendar::None),
        vec![
            org("fra-std", "eu-central-1", PlanKind::Standard),
            org("lon-std", "eu-west-2", PlanKind::Standard),
            org("dub-eea", "eu-west-1", PlanKind::EeaOnly),
        ],
        ["IN", "US", "BR", "AU", "GB", "IE", "CA", "PH", "CH"]
            .iter()
            .map(|country| agent(&country.to_lowercase(), country, &[]))
            .collect(),
        vec![],
        vec![],
        vec![consent("fra-std", "t-consent", "us", "2026-12-01T00:00:00Z")],
    )
}

#[test]
fn the_reference_tagging_and_access_cases_hold() {
    use AccessReason::*;
    use TicketCategory::*;
    let snapshot = access_snapshot();
    let cases = [
        ("fra-std", ProductSupport, "in", "t-1", "2026-06-01T12:00:00Z", true, Contractual),
        ("fra-std", ProductSupport, "us", "t-1", "2026-06-01T12:00:00Z", false, UsWithoutConsent),
        ("fra-std", ProductSupport, "us", "t-consent", "2026-06-01T12:00:00Z", true, ConsentOnFile),
        ("fra-std", ProductSupport, "us", "t-consent", "2026-12-01T00:00:00Z", false, UsWithoutConsent),
        ("fra-std", ProductSupport, "br", "t-1", "2026-01-26T12:00:00Z", true, Adequacy),
        ("fra-std", ProductSupport, "br", "t-1", "2026-01-25T12:00:00Z", false, CountryNotPermitted),
        ("fra-std", ProductSupport, "au", "t-1", "2026-06-01T12:00:00Z", false, CountryNotPermitted),
        ("fra-std", ProductSupport, "ca", "t-1", "2026-06-01T12:00:00Z", true, Adequacy),
        ("fra-std", ProductSupport, "ph", "t-1", "2026-06-01T12:00:00Z", true, Contractual),
        ("fra-std", ProductSupport, "ch", "t-1", "2026-06-01T12:00:00Z", true, Adequacy),
        ("lon-std", ProductSupport, "us", "t-1", "2026-06-01T12:00:00Z", true, NotEeaTagged),
        ("dub-eea", ProductSupport, "gb", "t-1", "2026-06-01T12:00:00Z", false, OutsideEeaOnEeaOnly),
        ("dub-eea", ProductSupport, "ie", "t-1", "2026-06-01T12:00:00Z", true, EeaStaff),
        ("dub-eea", CustomApplicationSupport, "in", "t-1", "2026-06-01T12:00:00Z", true, Contractual),
        ("dub-eea", ProfessionalServices, "us", "t-1", "2026-06-01T12:00:00Z", false, UsWithoutConsent),
    ];
    for (org_id, category, agent_id, ticket_id, at, allowed, reason) in cases {
        let question = TicketQuestion { org_id, ticket_id, severity: Severity::Sev3, category, at: instant(at) };
        let decision = check_agent_access(&snapshot, &question, agent_id).unwrap();
        assert_eq!(
            (decision.allowed, decision.reason),
            (allowed, reason),
            "{org_id} {category:?} {agent_id} {ticket_id} {at}"
        );
    }
}

#[test]
fn unknown_orgs_and_agents_are_reported() {
    let snapshot = access_snapshot();
    let question = product_support_question("nobody", Severity::Sev1, instant("2026-06-01T12:00:00Z"));
    assert_eq!(decide_ticket(&snapshot, &question).unwrap_err(), DecisionError::UnknownOrg("nobody".into()));
    let question = TicketQuestion { org_id: "fra-std", ..question };
    assert_eq!(
        check_agent_access(&snapshot, &question, "ghost").unwrap_err(),
        DecisionError::UnknownAgent("ghost".into())
    );
}

/// A works 22:00-02:30 and B 02:30-10:00 in Brussels, every night.
fn hand_over_snapshot() -> Snapshot {
    let (agents, shifts) = hand_over_at_0230();
    eea_only_acme(agents, shifts)
}

#[test]
fn a_0230_hand_over_leaves_neither_gap_nor_overlap_on_either_dst_night() {
    let snapshot = hand_over_snapshot();
    // Spring: both 02:30s become 03:30 CEST (01:30Z). Autumn: both take the first 02:30 (00:30Z).
    for hand_over in ["2026-03-29T01:30:00Z", "2026-10-25T00:30:00Z"] {
        let at = instant(hand_over);
        for probe in [at - SignedDuration::from_secs(1), at, at + SignedDuration::from_secs(1)] {
            let decision =
                decide(&snapshot, "acme", Severity::Sev1, TicketCategory::ProductSupport, &probe.to_string());
            assert_eq!(decision.eligible_on_shift, 1, "{probe}");
        }
    }
}

#[test]
fn next_staffed_at_finds_the_end_of_a_gap_and_time_off_removes_an_agent() {
    let snapshot = Snapshot::build(
        policy(HolidayCalendar::None),
        vec![org("acme", "eu-central-1", PlanKind::Standard)],
        vec![agent("de-1", "DE", &[])],
        vec![
            one_off("morning", "de-1", "2026-06-01T06:00:00Z", "2026-06-01T10:00:00Z"),
            one_off("evening", "de-1", "2026-06-01T14:00:00Z", "2026-06-01T20:00:00Z"),
        ],
        vec![time_off("dentist", "de-1", "2026-06-01T14:00:00Z", "2026-06-01T15:00:00Z")],
        vec![],
    );
    let staffed = decide(&snapshot, "acme", Severity::Sev2, TicketCategory::ProductSupport, "2026-06-01T07:00:00Z");
    assert!(staffed.handle_now);
    assert_eq!(staffed.eligible_on_shift, 1);
    let gap = decide(&snapshot, "acme", Severity::Sev2, TicketCategory::ProductSupport, "2026-06-01T11:00:00Z");
    assert!(gap.in_service_hours && !gap.staffed_now);
    assert_eq!(gap.reason, DecisionReason::NoEligibleStaffOnShift);
    assert_eq!(gap.next_staffed_at, Some(instant("2026-06-01T15:00:00Z")));
    let after = decide(&snapshot, "acme", Severity::Sev2, TicketCategory::ProductSupport, "2026-06-01T21:00:00Z");
    assert_eq!(after.next_staffed_at, None);
    assert_eq!(after.reason, DecisionReason::NoEligibleStaffWithinHorizon);
}

#[test]
fn a_relocation_out_of_the_eea_ends_eligibility_at_that_instant() {
    let snapshot = eea_only_acme(
        vec![agent("mover", "FR", &[("2026-06-01T12:00:00Z", "GB")]), agent("later", "ES", &[])],
        vec![
            one_off("long", "mover", "2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z"),
            one_off("next", "later", "2026-06-02T08:00:00Z", "2026-06-02T16:00:00Z"),
        ],
    );
    let before = decide(&snapshot, "acme", Severity::Sev1, TicketCategory::ProductSupport, "2026-06-01T11:59:59Z");
    assert_eq!(before.eligible_on_shift, 1);
    let after = decide(&snapshot, "acme", Severity::Sev1, TicketCategory::ProductSupport, "2026-06-01T12:00:00Z");
    assert_eq!(after.eligible_on_shift, 0);
    assert_eq!(after.next_staffed_at, Some(instant("2026-06-02T08:00:00Z")));
}

#[test]
fn a_shifts_own_country_overrides_the_agents_location() {
    let snapshot = eea_only_acme(
        vec![agent("fr-1", "FR", &[])],
        vec![trip("trip", "fr-1", "2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z", "US")],
    );
    let decision = decide(&snapshot, "acme", Severity::Sev1, TicketCategory::ProductSupport, "2026-06-01T09:00:00Z");
    assert_eq!(decision.eligible_on_shift, 0);
    let question = product_support_question("acme", Severity::Sev1, instant("2026-06-01T09:00:00Z"));
    let access = check_agent_access(&snapshot, &question, "fr-1").unwrap();
    assert_eq!((access.allowed, access.agent_country.as_str(), access.on_shift), (false, "US", true));
}

#[test]
fn a_sev1_pager_shift_does_not_staff_sev3() {
    let mut pager = one_off("pager", "nl-1", "2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z");
    pager.severities = crate::domain::policy::SeveritySet::from_severities([Severity::Sev1]);
    let snapshot = eea_only_acme(vec![agent("nl-1", "NL", &[])], vec![pager]);
    assert!(
        decide(&snapshot, "acme", Severity::Sev1, TicketCategory::ProductSupport, "2026-06-01T09:00:00Z").handle_now
    );
    assert!(
        !decide(&snapshot, "acme", Severity::Sev3, TicketCategory::ProductSupport, "2026-06-01T09:00:00Z").staffed_now
    );
    let question = |severity| product_support_question("acme", severity, instant("2026-06-01T09:00:00Z"));
    assert!(check_agent_access(&snapshot, &question(Severity::Sev1), "nl-1").unwrap().on_shift);
    assert!(!check_agent_access(&snapshot, &question(Severity::Sev3), "nl-1").unwrap().on_shift);
}

#[test]
fn standard_hours_can_be_configured_as_business_hours() {
    let settings = PlanSettings {
        standard_hours: StandardHours::BusinessForSev2To4,
        standard_holidays: HolidayCalendar::Target2,
        ..PlanSettings::default()
    };
    let snapshot = Snapshot::build(
        Arc::new(Policy::new(PolicyFacts::parse(DEFAULT_POLICY_FACTS).unwrap(), settings)),
        vec![org("acme", "us-east-1", PlanKind::Standard)],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let saturday = decide(&snapshot, "acme", Severity::Sev2, TicketCategory::ProductSupport, "2026-06-06T12:00:00Z");
    assert!(!saturday.in_service_hours);
    assert_eq!(saturday.window_opens_at, Some(instant("2026-06-08T07:00:00Z")));
    assert!(
        decide(&snapshot, "acme", Severity::Sev1, TicketCategory::ProductSupport, "2026-06-06T12:00:00Z")
            .in_service_hours
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::interval::merge;

    const ZONES: [&str; 6] = [
        "Europe/Brussels",
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",
        "America/Edmonton",
        "Asia/Kolkata",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Shift A runs from `start` to the hand-over time, shift B from the hand-over time to
        /// `start`: over a whole year, with both DST changes, they tile the time line exactly.
        #[test]
        fn hand_overs_at_equal_local_times_never_gap_or_overlap(
            zone_idx in 0..ZONES.len(),
            start_minute in 0i32..(24 * 60),
            length_minutes in 180i32..(21 * 60),
            first_day in 0i32..365,
        ) {
            let zone = Zone::named(ZONES[zone_idx]).unwrap();
            let start = Time::constant(0, 0, 0, 0).wrapping_add(SignedDuration::from_mins(i64::from(start_minute)));
            let hand_over = start.wrapping_add(SignedDuration::from_mins(i64::from(length_minutes)));
            let first = date(2026, 1, 1).checked_add(jiff::Span::new().days(first_day)).unwrap();
            let a = RecurringSchedule::new(zone.clone(), first.to_datetime(start), hand_over, "FREQ=DAILY", vec![]).unwrap();
            let b = RecurringSchedule::new(zone.clone(), first.to_datetime(hand_over), start, "FREQ=DAILY", vec![]).unwrap();
            let window = Interval::new(zone.to_instant(first.to_datetime(hand_over)) + SignedDuration::from_hours(48), zone.to_instant(first.to_datetime(start)) + SignedDuration::from_hours(24 * 400)).unwrap();
            let mut pieces: Vec<Interval> = a.occurrences_within(window).unwrap();
            pieces.extend(b.occurrences_within(window).unwrap());
            let clipped: Vec<Interval> = pieces.iter().filter_map(|piece| piece.intersection(&window)).collect();
            let total: i64 = clipped.iter().map(Interval::duration_secs).sum();
            prop_assert_eq!(merge(clipped), vec![window], "a gap");
            prop_assert_eq!(total, window.duration_secs(), "an overlap");
        }
    }
}

#[test]
fn a_trip_shift_decides_where_the_agent_is_for_every_overlapping_shift() {
    // A DE agent on a US trip (00:00-10:00Z) with a second, overlapping shift (05:00-15:00Z).
    let snapshot = eea_only_acme(
        vec![agent("de-1", "DE", &[])],
        vec![
            trip("trip", "de-1", "2026-08-01T00:00:00Z", "2026-08-01T10:00:00Z", "US"),
            one_off("home", "de-1", "2026-08-01T05:00:00Z", "2026-08-01T15:00:00Z"),
        ],
    );
    let during_trip = decide(&snapshot, "acme", Severity::Sev1, TicketCategory::ProductSupport, "2026-08-01T07:00:00Z");
    assert_eq!(during_trip.eligible_on_shift, 0);
    assert_eq!(during_trip.next_staffed_at, Some(instant("2026-08-01T10:00:00Z")));
    let question = product_support_question("acme", Severity::Sev1, instant("2026-08-01T07:00:00Z"));
    let access = check_agent_access(&snapshot, &question, "de-1").unwrap();
    assert_eq!((access.allowed, access.agent_country.as_str()), (false, "US"));
    let back_home = decide(&snapshot, "acme", Severity::Sev1, TicketCategory::ProductSupport, "2026-08-01T11:00:00Z");
    assert_eq!(back_home.eligible_on_shift, 1);
}

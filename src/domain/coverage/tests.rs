//! Worked cases and invariants of coverage reports.

use jiff::SignedDuration;
use proptest::prelude::*;

use super::*;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::eligibility::eligible_on_shift;
use crate::domain::fixtures::{
    agent, daily, drawn_time_off, hand_over_at_0230, instant, interval, numbered_agent, numbered_agent_id,
    numbered_shift, one_off, policy, time_off, trip,
};
use crate::domain::on_shift::on_shift;
use crate::domain::policy::SeveritySet;
use crate::domain::roster::{Agent, Shift, TimeOff};

fn snapshot(agents: Vec<Agent>, shifts: Vec<Shift>, time_off: Vec<TimeOff>) -> Snapshot {
    Snapshot::build(policy(HolidayCalendar::None), vec![], agents, shifts, time_off, vec![])
}

/// A roster of one agent working one shift.
fn one_shift_roster(agent: Agent, shift: Shift) -> Snapshot {
    snapshot(vec![agent], vec![shift], vec![])
}

fn report(
    snapshot: &Snapshot,
    plan: PlanKind,
    eea_tagged: bool,
    window: Interval,
    min_staff: u32,
) -> Vec<RequirementCoverage> {
    coverage_report(snapshot, &CoverageQuestion { plan, eea_tagged, window, min_staff }, Parallelism::SEQUENTIAL)
}

fn gap(start: &str, end: &str, eligible_on_shift: u32, cause: GapCause) -> Gap {
    Gap { interval: interval(start, end), eligible_on_shift, cause }
}

fn hours(micros: i64) -> f64 {
    micros as f64 / 3_600_000_000.0
}

/// A works 22:00-02:30 and B 02:30-10:00 in Brussels, every night.
fn hand_over_roster() -> Snapshot {
    let (agents, shifts) = hand_over_at_0230();
    snapshot(agents, shifts, vec![])
}

#[test]
fn the_spring_night_hand_over_leaves_no_gap() {
    let sev1 = &report(
        &hand_over_roster(),
        PlanKind::EeaOnly,
        true,
        interval("2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z"),
        1,
    )[0];
    assert_eq!(sev1.severity, Severity::Sev1);
    assert_eq!(
        sev1.gaps,
        vec![
            gap("2026-03-28T09:00:00Z", "2026-03-28T21:00:00Z", 0, GapCause::NoOneScheduled),
            gap("2026-03-29T08:00:00Z", "2026-03-29T20:00:00Z", 0, GapCause::NoOneScheduled),
        ]
    );
    assert_eq!(
        sev1.thin,
        vec![
            interval("2026-03-28T00:00:00Z", "2026-03-28T09:00:00Z"),
            interval("2026-03-28T21:00:00Z", "2026-03-29T08:00:00Z"),
            interval("2026-03-29T20:00:00Z", "2026-03-30T00:00:00Z"),
        ]
    );
    assert_eq!((hours(sev1.required_micros), hours(sev1.covered_micros)), (48.0, 24.0));
}

#[test]
fn the_autumn_night_hand_over_leaves_no_gap() {
    let sev1 = &report(
        &hand_over_roster(),
        PlanKind::EeaOnly,
        true,
        interval("2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z"),
        1,
    )[0];
    // 24 Oct (CEST): gap 08:00Z-20:00Z. 25 Oct (CET from 01:00Z): gap 09:00Z-21:00Z. The nights
    // hand over at the first 02:30 (00:30Z) without a hole.
    assert_eq!(
        sev1.gaps,
        vec![
            gap("2026-10-24T08:00:00Z", "2026-10-24T20:00:00Z", 0, GapCause::NoOneScheduled),
            gap("2026-10-25T09:00:00Z", "2026-10-25T21:00:00Z", 0, GapCause::NoOneScheduled),
        ]
    );
    assert_eq!(hours(sev1.covered_micros), 24.0);
}

#[test]
fn a_us_agent_never_covers_a_standard_eea_tagged_requirement() {
    let roster = one_shift_roster(
        agent("us-1", "US", &[]),
        one_off("day", "us-1", "2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z"),
    );
    let window = interval("2026-06-01T06:00:00Z", "2026-06-01T18:00:00Z");
    let tagged = &report(&roster, PlanKind::Standard, true, window, 1)[2];
    assert_eq!(tagged.covered_micros, 0);
    assert_eq!(
        tagged.gaps,
        vec![
            gap("2026-06-01T06:00:00Z", "2026-06-01T08:00:00Z", 0, GapCause::NoOneScheduled),
            gap("2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z", 0, GapCause::OnlyIneligibleStaff),
            gap("2026-06-01T16:00:00Z", "2026-06-01T18:00:00Z", 0, GapCause::NoOneScheduled),
        ]
    );
    let untagged = &report(&roster, PlanKind::Standard, false, window, 1)[2];
    assert_eq!(hours(untagged.covered_micros), 8.0);
}

#[test]
fn a_relocation_in_the_middle_of_a_shift_opens_a_gap_from_that_instant() {
    let roster = one_shift_roster(
        agent("mover", "FR", &[("2026-06-01T12:00:00Z", "GB")]),
        one_off("day", "mover", "2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z"),
    );
    let sev1 =
        &report(&roster, PlanKind::EeaOnly, true, interval("2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z"), 1)[0];
    assert_eq!(sev1.gaps, vec![gap("2026-06-01T12:00:00Z", "2026-06-01T16:00:00Z", 0, GapCause::OnlyIneligibleStaff)]);
    assert_eq!(sev1.thin, vec![interval("2026-06-01T08:00:00Z", "2026-06-01T12:00:00Z")]);
}

#[test]
fn a_sev1_pager_shift_covers_sev1_and_not_sev3() {
    let mut pager = one_off("pager", "nl-1", "2026-06-01T07:00:00Z", "2026-06-01T16:00:00Z");
    pager.severities = SeveritySet::from_severities([Severity::Sev1]);
    let roster = one_shift_roster(agent("nl-1", "NL", &[]), pager);
    // Monday 1 June 2026: the Sev2-4 window is 07:00Z-16:00Z.
    let coverage =
        report(&roster, PlanKind::EeaOnly, true, interval("2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"), 1);
    assert_eq!(hours(coverage[0].covered_micros), 9.0);
    assert_eq!(hours(coverage[2].required_micros), 9.0);
    assert_eq!(coverage[2].covered_micros, 0);
    assert_eq!(
        coverage[2].gaps,
        vec![gap("2026-06-01T07:00:00Z", "2026-06-01T16:00:00Z", 0, GapCause::NoOneScheduled)]
    );
}

#[test]
fn time_off_inside_a_shift_is_named_as_the_cause() {
    let roster = snapshot(
        vec![agent("de-1", "DE", &[])],
        vec![one_off("day", "de-1", "2026-06-01T07:00:00Z", "2026-06-01T16:00:00Z")],
        vec![time_off("dentist", "de-1", "2026-06-01T10:00:00Z", "2026-06-01T11:30:00Z")],
    );
    let sev2 =
        &report(&roster, PlanKind::EeaOnly, true, interval("2026-06-01T07:00:00Z", "2026-06-01T16:00:00Z"), 1)[1];
    assert_eq!(sev2.gaps, vec![gap("2026-06-01T10:00:00Z", "2026-06-01T11:30:00Z", 0, GapCause::StaffOnTimeOff)]);
    assert_eq!(hours(sev2.covered_micros), 7.5);
}

#[test]
fn too_few_eligible_agents_is_below_minimum_and_one_more_makes_it_thin() {
    let roster = snapshot(
        vec![agent("a", "IE", &[]), agent("b", "IE", &[]), agent("c", "IE", &[])],
        vec![
            one_off("a-day", "a", "2026-06-01T07:00:00Z", "2026-06-01T16:00:00Z"),
            one_off("b-day", "b", "2026-06-01T07:00:00Z", "2026-06-01T12:00:00Z"),
            // Overlaps a's shift: still counts once per agent.
            one_off("a-extra", "a", "2026-06-01T09:00:00Z", "2026-06-01T10:00:00Z"),
            one_off("c-late", "c", "2026-06-01T14:00:00Z", "2026-06-01T16:00:00Z"),
        ],
        vec![],
    );
    let sev1 =
        &report(&roster, PlanKind::EeaOnly, true, interval("2026-06-01T07:00:00Z", "2026-06-01T16:00:00Z"), 2)[0];
    assert_eq!(sev1.gaps, vec![gap("2026-06-01T12:00:00Z", "2026-06-01T14:00:00Z", 1, GapCause::BelowMinimum)]);
    assert_eq!(
        sev1.thin,
        vec![
            interval("2026-06-01T07:00:00Z", "2026-06-01T12:00:00Z"),
            interval("2026-06-01T14:00:00Z", "2026-06-01T16:00:00Z")
        ]
    );
}

#[test]
fn the_hour_of_week_grid_records_the_lowest_headcount_in_brussels_hours() {
    let roster =
        one_shift_roster(agent("a", "IE", &[]), one_off("mon", "a", "2026-06-01T07:00:00Z", "2026-06-01T12:30:00Z"));
    let sev3 =
        &report(&roster, PlanKind::EeaOnly, true, interval("2026-06-01T00:00:00Z", "2026-06-08T00:00:00Z"), 1)[2];
    // Monday 09:00 CEST is 07:00Z; 14:00 CEST holds 12:00-12:30Z covered and the rest a gap.
    assert_eq!(sev3.hour_of_week[9].min_eligible, Some(1));
    assert_eq!(sev3.hour_of_week[14].min_eligible, Some(0));
    assert_eq!(sev3.hour_of_week[8].min_eligible, None, "not required before 09:00");
    assert_eq!(sev3.hour_of_week[24 + 9].min_eligible, Some(0), "Tuesday has nobody");
    assert_eq!(sev3.hour_of_week[5 * 24 + 12].min_eligible, None, "Saturday is not required");
}

#[test]
fn list_on_shift_names_the_agent_country_and_shift() {
    let roster = snapshot(
        vec![agent("fr-1", "FR", &[]), agent("us-1", "US", &[])],
        vec![
            trip("trip", "fr-1", "2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z", "NO"),
            one_off("us-day", "us-1", "2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z"),
        ],
        vec![time_off("break", "fr-1", "2026-06-01T12:00:00Z", "2026-06-01T12:30:00Z")],
    );
    let at = instant("2026-06-01T09:00:00Z");
    let found = on_shift(&roster, PlanKind::EeaOnly, true, Severity::Sev2, at);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].agent_id.as_str(), found[0].country.as_str(), found[0].shift_id.as_str()),
        ("fr-1", "NO", "trip")
    );
    assert_eq!(found[0].until, instant("2026-06-01T12:00:00Z"));
    assert_eq!(on_shift(&roster, PlanKind::Standard, false, Severity::Sev2, at).len(), 2);
    assert!(on_shift(&roster, PlanKind::EeaOnly, true, Severity::Sev2, instant("2026-06-01T12:10:00Z")).is_empty());
}

// Invariants over random rosters in one three-day window.

const COUNTRIES: [&str; 4] = ["IE", "US", "GB", "IN"];
const DAY_ZERO: i64 = 1_780_272_000; // 2026-06-01T00:00:00Z, a Monday

fn at_minute(minute: i64) -> Instant {
    Instant::from_second(DAY_ZERO + minute * 60).unwrap()
}

#[derive(Clone, Debug)]
struct RandomShift {
    agent_idx: usize,
    start_minute: i64,
    length_minutes: i64,
    sev1_only: bool,
}

fn random_shift(n_agents: usize) -> impl Strategy<Value = RandomShift> {
    (0..n_agents, 0i64..(3 * 1440), 15i64..(12 * 60), proptest::bool::weighted(0.2)).prop_map(
        |(agent_idx, start_minute, length_minutes, sev1_only)| RandomShift {
            agent_idx,
            start_minute,
            length_minutes,
            sev1_only,
        },
    )
}

/// The `length_minutes` from `start_minute`.
fn minutes(start_minute: i64, length_minutes: i64) -> Interval {
    Interval::new(at_minute(start_minute), at_minute(start_minute + length_minutes)).unwrap()
}

fn build(countries: &[usize], shifts: &[RandomShift], time_off: &[(usize, i64, i64)]) -> Snapshot {
    let agents = countries
        .iter()
        .enumerate()
        .map(|(agent_idx, country_idx)| numbered_agent(agent_idx, COUNTRIES[*country_idx], &[]))
        .collect();
    let shifts = shifts
        .iter()
        .enumerate()
        .map(|(shift_idx, random)| {
            let period = minutes(random.start_minute, random.length_minutes);
            numbered_shift(shift_idx, random.agent_idx, period, random.sev1_only)
        })
        .collect();
    snapshot(agents, shifts, drawn_time_off(time_off, minutes))
}

fn gap_micros(coverage: &RequirementCoverage) -> i64 {
    coverage.gaps.iter().map(|gap| micros(gap.interval.end()) - micros(gap.interval.start())).sum()
}

/// Distinct eligible agents on shift at `at`, counted agent by agent.
fn headcount(snapshot: &Snapshot, plan: PlanKind, eea_tagged: bool, severity: Severity, at: Instant) -> u32 {
    let context = snapshot.eligibility_context(plan, eea_tagged);
    let probe = Interval::following(at, SignedDuration::from_secs(1)).unwrap();
    snapshot.agents().filter(|roster| !eligible_on_shift(&context, roster, severity, probe).is_empty()).count() as u32
}

/// Agent countries, shifts, time off (agent, start minute, length), EEA-only plan, EEA-tagged,
/// minimum staff.
type RandomRoster = (Vec<usize>, Vec<RandomShift>, Vec<(usize, i64, i64)>, bool, bool, u32);

fn roster_strategy() -> impl Strategy<Value = RandomRoster> {
    (1usize..5).prop_flat_map(|n_agents| {
        (
            prop::collection::vec(0..COUNTRIES.len(), n_agents),
            prop::collection::vec(random_shift(n_agents), 0..10),
            prop::collection::vec((0..n_agents, 0i64..(3 * 1440), 10i64..300), 0..3),
            any::<bool>(),
            any::<bool>(),
            1u32..3,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn gaps_and_covered_time_partition_the_required_time(
        (countries, shifts, time_off, eea_only, eea_tagged, min_staff) in roster_strategy()
    ) {
        let plan = if eea_only { PlanKind::EeaOnly } else { PlanKind::Standard };
        let roster = build(&countries, &shifts, &time_off);
        let window = Interval::new(at_minute(0), at_minute(3 * 1440)).unwrap();
        let reports = report(&roster, plan, eea_tagged, window, min_staff);
        let on_three_threads = Parallelism::new(std::num::NonZeroUsize::new(3).unwrap());
        let question = CoverageQuestion { plan, eea_tagged, window, min_staff };
        prop_assert_eq!(&coverage_report(&roster, &question, on_three_threads), &reports, "threads change nothing");
        for coverage in reports {
            prop_assert!(coverage.covered_micros <= coverage.required_micros);
            prop_assert_eq!(coverage.covered_micros + gap_micros(&coverage), coverage.required_micros);
            for pair in coverage.gaps.windows(2) {
                prop_assert!(pair[0].interval.end() <= pair[1].interval.start(), "gaps are sorted and disjoint");
            }
            // Gaps never hold a moment with min_staff eligible agents, and their headcount is exact.
            for gap in &coverage.gaps {
                for probe in [gap.interval.start(), gap.interval.end() - SignedDuration::from_secs(1)] {
                    let count = headcount(&roster, plan, eea_tagged, coverage.severity, probe);
                    prop_assert!(count < min_staff);
                    prop_assert_eq!(count, gap.eligible_on_shift);
                }
            }
            for thin in &coverage.thin {
                prop_assert_eq!(headcount(&roster, plan, eea_tagged, coverage.severity, thin.start()), min_staff);
            }
        }
    }

    /// The added shift carries no country of its own: a trip abroad can rightly open a gap.
    #[test]
    fn adding_a_shift_never_opens_a_gap(
        (countries, shifts, time_off, eea_only, eea_tagged, min_staff) in roster_strategy(),
        extra in random_shift(1),
    ) {
        let plan = if eea_only { PlanKind::EeaOnly } else { PlanKind::Standard };
        let window = Interval::new(at_minute(0), at_minute(3 * 1440)).unwrap();
        let before = report(&build(&countries, &shifts, &time_off), plan, eea_tagged, window, min_staff);
        let mut more = shifts.clone();
        more.push(RandomShift { agent_idx: extra.agent_idx % countries.len(), ..extra });
        let after = report(&build(&countries, &more, &time_off), plan, eea_tagged, window, min_staff);
        for (old, new) in before.iter().zip(&after) {
            prop_assert!(new.covered_micros >= old.covered_micros);
            let old_gaps = merge(old.gaps.iter().map(|gap| gap.interval).collect());
            let new_gaps = merge(new.gaps.iter().map(|gap| gap.interval).collect());
            prop_assert!(subtract(&new_gaps, &old_gaps).is_empty(), "a new gap appeared");
        }
    }
}

#[test]
fn gap_changes_report_what_opened_and_what_closed() {
    let before = vec![
        gap("2026-06-01T00:00:00Z", "2026-06-01T06:00:00Z", 0, GapCause::NoOneScheduled),
        gap("2026-06-01T12:00:00Z", "2026-06-01T14:00:00Z", 0, GapCause::StaffOnTimeOff),
    ];
    let after = vec![
        gap("2026-06-01T04:00:00Z", "2026-06-01T08:00:00Z", 0, GapCause::OnlyIneligibleStaff),
        gap("2026-06-01T12:00:00Z", "2026-06-01T14:00:00Z", 0, GapCause::StaffOnTimeOff),
    ];
    let (opened, closed) = gap_changes(&before, &after);
    assert_eq!(opened, vec![gap("2026-06-01T06:00:00Z", "2026-06-01T08:00:00Z", 0, GapCause::OnlyIneligibleStaff)]);
    assert_eq!(closed, vec![gap("2026-06-01T00:00:00Z", "2026-06-01T04:00:00Z", 0, GapCause::NoOneScheduled)]);
}

#[test]
fn list_on_shift_reports_the_trip_country_and_ignores_policy_dates_that_change_nothing() {
    let mut sev4_trip = trip("trip", "u1", "2027-02-05T00:00:00Z", "2027-02-05T06:00:00Z", "FR");
    sev4_trip.severities = SeveritySet::from_severities([Severity::Sev4]);
    let roster = snapshot(
        vec![agent("u1", "US", &[]), agent("p1", "PL", &[])],
        vec![
            sev4_trip,
            one_off("main", "u1", "2027-02-05T00:00:00Z", "2027-02-05T06:00:00Z"),
            one_off("across-brazil-date", "p1", "2026-01-25T12:00:00Z", "2026-01-26T12:00:00Z"),
        ],
        vec![],
    );
    let found = on_shift(&roster, PlanKind::EeaOnly, true, Severity::Sev3, instant("2027-02-05T03:00:00Z"));
    assert_eq!((found[0].country.as_str(), found[0].shift_id.as_str()), ("FR", "main"));
    let found = on_shift(&roster, PlanKind::EeaOnly, true, Severity::Sev1, instant("2026-01-25T18:00:00Z"));
    assert_eq!(found[0].until, instant("2026-01-26T12:00:00Z"));
}

/// Trips (agent, start minute, length, country), a relocation (agent, minute, country) and a
/// nightly shift (agent, local start hour, hours) added to a random roster.
type RandomMoves = (Vec<(usize, i64, i64, usize)>, Option<(usize, i64, usize)>, Option<(usize, i8, i8)>);

fn moves_strategy() -> impl Strategy<Value = RandomMoves> {
    (
        prop::collection::vec((0usize..5, 0i64..(3 * 1440), 30i64..600, 0..COUNTRIES.len()), 0..3),
        prop::option::of((0usize..5, 0i64..(3 * 1440), 0..COUNTRIES.len())),
        prop::option::of((0usize..5, 0i8..24, 1i8..12)),
    )
}

fn build_with_moves(
    countries: &[usize],
    shifts: &[RandomShift],
    time_off: &[(usize, i64, i64)],
    (trips, relocation, nightly): &RandomMoves,
) -> Snapshot {
    let n_agents = countries.len();
    let agents = countries
        .iter()
        .enumerate()
        .map(|(agent_idx, country_idx)| {
            let moved = relocation
                .filter(|(moved_idx, _, _)| moved_idx % n_agents == agent_idx)
                .map(|(_, minute, country_idx)| (at_minute(minute).to_string(), COUNTRIES[country_idx]));
            let moves: Vec<(&str, &str)> = moved.iter().map(|(at, country)| (at.as_str(), *country)).collect();
            numbered_agent(agent_idx, COUNTRIES[*country_idx], &moves)
        })
        .collect();
    let mut all_shifts: Vec<Shift> = shifts
        .iter()
        .enumerate()
        .map(|(shift_idx, random)| {
            numbered_shift(
                shift_idx,
                random.agent_idx,
                minutes(random.start_minute, random.length_minutes),
                random.sev1_only,
            )
        })
        .collect();
    for (trip_idx, (agent_idx, start_minute, length_minutes, country_idx)) in trips.iter().enumerate() {
        let period = minutes(*start_minute, *length_minutes);
        all_shifts.push(trip(
            &format!("trip-{trip_idx}"),
            &numbered_agent_id(agent_idx % n_agents),
            &period.start().to_string(),
            &period.end().to_string(),
            COUNTRIES[*country_idx],
        ));
    }
    if let Some((agent_idx, hour, hours)) = nightly {
        let start = jiff::civil::date(2026, 5, 30).at(*hour, 0, 0, 0);
        let end = jiff::civil::Time::new((hour + hours) % 24, 0, 0, 0).unwrap();
        all_shifts.push(daily("nightly", &numbered_agent_id(agent_idx % n_agents), start, end));
    }
    snapshot(agents, all_shifts, drawn_time_off(time_off, minutes))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Seams anywhere, slices of any length: the same report as one sweep over the whole window.
    #[test]
    fn a_report_cut_into_slices_equals_one_sweep_over_the_window(
        (countries, shifts, time_off, eea_only, eea_tagged, min_staff) in roster_strategy(),
        moves in moves_strategy(),
        window_from_minute in 0i64..1440,
        slice_minutes in 1i64..(2 * 1440),
    ) {
        let plan = if eea_only { PlanKind::EeaOnly } else { PlanKind::Standard };
        let roster = build_with_moves(&countries, &shifts, &time_off, &moves);
        let window = Interval::new(at_minute(window_from_minute), at_minute(3 * 1440)).unwrap();
        let question = CoverageQuestion { plan, eea_tagged, window, min_staff };
        let whole_window = micros(window.end()) - micros(window.start());
        let one_sweep = report_in_slices(&roster, &question, Parallelism::SEQUENTIAL, whole_window);
        let on_two_threads = Parallelism::new(std::num::NonZeroUsize::new(2).unwrap());
        let sliced = report_in_slices(&roster, &question, on_two_threads, slice_minutes * 60_000_000);
        prop_assert_eq!(&sliced, &one_sweep);
        prop_assert_eq!(&coverage_report(&roster, &question, Parallelism::SEQUENTIAL), &one_sweep);
    }
}

/// The spring and autumn night hand-overs, cut into slices whose seams fall on and around the
/// changes: the same gaps, thin stretches and grid as one sweep.
#[test]
fn slices_whose_seams_fall_on_a_clock_change_change_nothing() {
    let roster = hand_over_roster();
    for window in [
        interval("2026-03-27T00:00:00Z", "2026-04-01T00:00:00Z"),
        interval("2026-10-23T00:00:00Z", "2026-10-28T00:00:00Z"),
    ] {
        let question = CoverageQuestion { plan: PlanKind::EeaOnly, eea_tagged: true, window, min_staff: 1 };
        let whole_window = micros(window.end()) - micros(window.start());
        let one_sweep = report_in_slices(&roster, &question, Parallelism::SEQUENTIAL, whole_window);
        assert!(!one_sweep[0].gaps.is_empty() && !one_sweep[0].thin.is_empty(), "the case has gaps and thin stretches");
        for slice_minutes in [1, 30, 60, 61, 24 * 60, 24 * 60 + 7] {
            let sliced = report_in_slices(&roster, &question, Parallelism::SEQUENTIAL, slice_minutes * 60_000_000);
            assert_eq!(sliced, one_sweep, "slices of {slice_minutes} minutes");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Two states of a roster compared in one sweep give the two plain reports: whether the
    /// states share their unchanged agents (one made from the other) or were built apart.
    #[test]
    fn reports_compared_in_one_sweep_equal_the_two_plain_reports(
        (countries, shifts, time_off, eea_only, eea_tagged, min_staff) in roster_strategy(),
        before_moves in moves_strategy(),
        after_moves in moves_strategy(),
        n_replaced in 0usize..3,
    ) {
        let plan = if eea_only { PlanKind::EeaOnly } else { PlanKind::Standard };
        let window = Interval::new(at_minute(0), at_minute(3 * 1440)).unwrap();
        let question = CoverageQuestion { plan, eea_tagged, window, min_staff };
        let before = build_with_moves(&countries, &shifts, &time_off, &before_moves);
        let built_apart = build_with_moves(&countries, &shifts, &time_off, &after_moves);
        // The first agents as `built_apart` has them, the rest shared with `before`.
        let replaced = built_apart
            .agents()
            .take(n_replaced)
            .map(|roster| (roster.agent.agent_id.clone(), Some(roster.clone())))
            .collect();
        let (roster, _) = before.roster().with_changes(crate::domain::roster::RosterChanges { agents: replaced, orgs: vec![] });
        let sharing = Snapshot::of_roster(before.policy.clone(), roster);
        let on_two_threads = Parallelism::new(std::num::NonZeroUsize::new(2).unwrap());
        for after in [&built_apart, &sharing, &before] {
            let compared = coverage_reports_compared(&before, after, &question, on_two_threads);
            prop_assert_eq!(&compared.before, &coverage_report(&before, &question, Parallelism::SEQUENTIAL));
            prop_assert_eq!(&compared.after, &coverage_report(after, &question, Parallelism::SEQUENTIAL));
        }
        // An agent only one side has counts in that side alone.
        let fewer = Snapshot::of_roster(
            before.policy.clone(),
            before.roster().with_changes(crate::domain::roster::RosterChanges {
                agents: vec![(numbered_agent_id(0).as_str().into(), None)],
                orgs: vec![],
            }).0,
        );
        let compared = coverage_reports_compared(&before, &fewer, &question, Parallelism::SEQUENTIAL);
        prop_assert_eq!(&compared.after, &coverage_report(&fewer, &question, Parallelism::SEQUENTIAL));
        let compared = coverage_reports_compared(&fewer, &before, &question, Parallelism::SEQUENTIAL);
        prop_assert_eq!(&compared.before, &coverage_report(&fewer, &question, Parallelism::SEQUENTIAL));
    }
}

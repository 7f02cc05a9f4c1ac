use jiff::civil::date;

use super::*;

fn brussels_daily(start: DateTime, end: Time) -> RecurringSchedule {
    RecurringSchedule::new(Zone::brussels(), start, end, "FREQ=DAILY", vec![]).unwrap()
}

fn window(start: &str, end: &str) -> Interval {
    Interval::new(start.parse().unwrap(), end.parse().unwrap()).unwrap()
}

/// A 09:00-17:00 shift in Brussels from `first_day` on, by `rule`, skipping `exdates`.
fn nine_to_five(first_day: Date, rule: &str, exdates: Vec<ExDate>) -> Result<RecurringSchedule, RecurrenceError> {
    RecurringSchedule::new(Zone::brussels(), first_day.at(9, 0, 0, 0), Time::constant(17, 0, 0, 0), rule, exdates)
}

fn rejects(rule: &str) -> RecurrenceError {
    nine_to_five(date(2026, 1, 5), rule, vec![]).unwrap_err()
}

/// Where a 22:00-02:30 and a 02:30-10:00 Brussels shift, both daily, meet in `night`: the end of
/// the first and the start of the second.
fn hand_over_within(night: Interval) -> (Instant, Instant) {
    let evening = brussels_daily(date(2026, 3, 1).at(22, 0, 0, 0), Time::constant(2, 30, 0, 0));
    let morning = brussels_daily(date(2026, 3, 1).at(2, 30, 0, 0), Time::constant(10, 0, 0, 0));
    let evening_shift = evening.occurrences_within(night).unwrap()[0];
    let morning_shift = morning.occurrences_within(night).unwrap()[0];
    (evening_shift.end(), morning_shift.start())
}

#[test]
fn a_night_shift_ends_the_next_morning() {
    let schedule = brussels_daily(date(2026, 1, 5).at(22, 0, 0, 0), Time::constant(6, 0, 0, 0));
    let occurrences = schedule.occurrences_within(window("2026-01-05T00:00:00Z", "2026-01-06T12:00:00Z")).unwrap();
    assert_eq!(occurrences, vec![window("2026-01-05T21:00:00Z", "2026-01-06T05:00:00Z")]);
}

#[test]
fn a_0230_hand_over_on_the_spring_night_meets_at_one_instant() {
    let (evening_end, morning_start) = hand_over_within(window("2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z"));
    assert_eq!(evening_end, morning_start);
    assert_eq!(morning_start, "2026-03-29T01:30:00Z".parse::<Instant>().unwrap());
}

#[test]
fn a_0230_hand_over_on_the_autumn_night_takes_the_first_0230() {
    let (evening_end, morning_start) = hand_over_within(window("2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z"));
    assert_eq!(evening_end, "2026-10-25T00:30:00Z".parse::<Instant>().unwrap());
    assert_eq!(evening_end, morning_start);
}

#[test]
fn a_utc_until_is_converted_to_local_wall_time() {
    // 2026-01-07T08:00:00Z is 09:00 in Brussels, so the 09:00 occurrence on the 7th is included.
    let schedule = nine_to_five(date(2026, 1, 5), "RRULE:FREQ=DAILY;UNTIL=20260107T080000Z", vec![]).unwrap();
    let occurrences = schedule.occurrences_within(window("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")).unwrap();
    assert_eq!(occurrences.len(), 3);
}

#[test]
fn excluded_dates_are_skipped() {
    let exdates = vec![ExDate::At(date(2026, 1, 6).at(9, 0, 0, 0)), ExDate::Day(date(2026, 1, 8))];
    let schedule = nine_to_five(date(2026, 1, 5), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", exdates).unwrap();
    let occurrences = schedule.occurrences_within(window("2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z")).unwrap();
    assert_eq!(occurrences.len(), 3);
}

#[test]
fn unbounded_or_absurd_rules_are_rejected() {
    assert!(matches!(rejects("FREQ=SECONDLY"), RecurrenceError::FrequencyTooFine(_)));
    assert!(matches!(rejects("FREQ=MINUTELY;INTERVAL=5"), RecurrenceError::FrequencyTooFine(_)));
    assert!(matches!(rejects("FREQ=HOURLY"), RecurrenceError::FrequencyTooFine(_)));
    assert!(matches!(rejects("FREQ=DAILY;COUNT=1000000"), RecurrenceError::CountTooLarge { .. }));
    assert!(matches!(rejects("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7"), RecurrenceError::TooDense));
    assert!(matches!(rejects("FREQ=FORTNIGHTLY"), RecurrenceError::Unparsable(_)));
    assert!(matches!(rejects("BYDAY=MO"), RecurrenceError::Unparsable(_)));
    assert!(matches!(rejects("FREQ=DAILY;UNTIL=tomorrow"), RecurrenceError::BadUntil(_)));
    assert!(matches!(rejects("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"), RecurrenceError::NeverOccurs));
    // Found by fuzzing: non-ASCII weekday text made the rrule crate panic.
    assert!(matches!(rejects("FREQ=WEEKLY;BYDAY=MO,FR#INTERV\u{e9}\u{c9}"), RecurrenceError::Unparsable(_)));
    assert!(matches!(rejects("FREQ=WEEKLY;BYDAY=-05T\u{00f1}2"), RecurrenceError::Unparsable(_)));
    assert!(matches!(rejects("DTSTART=20260101T000000;FREQ=DAILY"), RecurrenceError::ForeignProperty(_)));
}

#[test]
fn a_rare_but_possible_rule_is_accepted() {
    let leap_days = nine_to_five(date(2027, 1, 1), "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", vec![]).unwrap();
    let occurrences = leap_days.occurrences_within(window("2027-01-01T00:00:00Z", "2033-01-01T00:00:00Z")).unwrap();
    assert_eq!(
        occurrences,
        vec![
            window("2028-02-29T08:00:00Z", "2028-02-29T16:00:00Z"),
            window("2032-02-29T08:00:00Z", "2032-02-29T16:00:00Z")
        ]
    );
}

#[test]
fn expansion_far_from_the_start_stays_within_budget() {
    let schedule = brussels_daily(date(2026, 1, 5).at(9, 0, 0, 0), Time::constant(17, 0, 0, 0));
    let occurrences = schedule.occurrences_within(window("2099-06-01T00:00:00Z", "2099-06-02T00:00:00Z")).unwrap();
    assert_eq!(occurrences, vec![window("2099-06-01T07:00:00Z", "2099-06-01T15:00:00Z")]);
}

const WEEKDAY_CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

fn rule_text(
    daily: bool,
    interval: u8,
    weekdays: u8,
    count: Option<u16>,
    until_days: Option<u16>,
    week_start: usize,
    start: DateTime,
) -> String {
    let mut parts = vec![format!("FREQ={}", if daily { "DAILY" } else { "WEEKLY" })];
    if interval > 1 {
        parts.push(format!("INTERVAL={interval}"));
    }
    let days: Vec<&str> = (0..7).filter(|bit| weekdays & (1 << bit) != 0).map(|bit| WEEKDAY_CODES[bit]).collect();
    if !days.is_empty() {
        parts.push(format!("BYDAY={}", days.join(",")));
    }
    if let Some(count) = count {
        parts.push(format!("COUNT={count}"));
    }
    if let Some(days) = until_days {
        let until = start.saturating_add(i64::from(days).days()).saturating_add(3.hours());
        parts.push(format!("UNTIL={}", until.strftime("%Y%m%dT%H%M%S")));
    }
    parts.push(format!("WKST={}", WEEKDAY_CODES[week_start]));
    parts.join(";")
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

    /// The arithmetic path and the rrule crate agree on every rule of the subset.
    #[test]
    fn the_arithmetic_expansion_agrees_with_the_rrule_crate(
        daily in proptest::prelude::any::<bool>(),
        interval in 1u8..6,
        weekdays in 0u8..128,
        count in proptest::option::of(1u16..80),
        until_days in proptest::option::of(0u16..400),
        week_start in 0usize..7,
        start_day in 0i64..365,
        start_minute in 0i64..1440,
        window_offset_days in -30i64..500,
        window_days in 1i64..60,
        zone_idx in 0usize..3,
    ) {
        let zone = Zone::named(["Europe/Brussels", "America/New_York", "Asia/Kolkata"][zone_idx]).unwrap();
        let start = date(2026, 1, 1).to_datetime(Time::midnight()).saturating_add(start_day.days()).saturating_add(start_minute.minutes());
        let text = rule_text(daily, interval, weekdays, count, until_days, week_start, start);
        let schedule = match RecurringSchedule::new(zone.clone(), start, Time::constant(17, 30, 0, 0), &text, vec![]) {
            Ok(schedule) => schedule,
            // An UNTIL before the first matching day: rejected, whichever path expands.
            Err(RecurrenceError::NeverOccurs) => return Ok(()),
            Err(error) => panic!("{text}: {error}"),
        };
        proptest::prop_assert!(schedule.periodic.is_some(), "{text} should take the arithmetic path");
        let window_start = zone.to_instant(start.saturating_add(window_offset_days.days()));
        let window = Interval::new(window_start, window_start + jiff::SignedDuration::from_hours(24 * window_days)).unwrap();
        let arithmetic = schedule.occurrences_within(window).unwrap();
        let crate_path = schedule
            .occurrences_from((&schedule.rule_set).into_iter().map_while(|occurrence| from_naive(occurrence.naive_utc())), window)
            .unwrap();
        proptest::prop_assert_eq!(arithmetic, crate_path, "{}", text);
    }
}

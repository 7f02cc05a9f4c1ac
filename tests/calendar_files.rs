//! Calendar and CSV files written by `export` read back by `import` as the same entries: random
//! rosters through both writers and readers, and VTIMEZONEs written from the tz database
//! matched back to zones that agree.

use std::collections::HashMap;

use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::time::{Instant, Zone};
use eea_coverage::formats::{parse_csv, read_calendar, write_csv, write_icalendar, ImportedEntries, ReadOptions};
use eea_coverage::testing::calendars::random_entries;

fn instant(text: &str) -> Instant {
    text.parse().unwrap()
}

fn window(start: &str, end: &str) -> Interval {
    Interval::new(instant(start), instant(end)).unwrap()
}

fn imported(seed: u64) -> ImportedEntries {
    let random = random_entries(seed, 40);
    ImportedEntries { shifts: random.shifts, time_off: random.time_off, agents: random.agents, ..Default::default() }
}

#[test]
fn written_calendars_read_back_as_the_same_entries() {
    let window = window("2026-12-06T00:00:00Z", "2027-01-01T00:00:00Z");
    for seed in 1..=20 {
        let entries = imported(seed);
        let text = write_icalendar(&entries, window);
        let again = read_calendar(&text, ReadOptions::default())
            .unwrap_or_else(|errors| panic!("seed {seed}: {:?}", errors[0]))
            .entries(window, &HashMap::new())
            .unwrap_or_else(|errors| panic!("seed {seed}: {:?}", errors[0]));
        assert_eq!(again.shifts, entries.shifts, "seed {seed}");
        assert_eq!(again.time_off, entries.time_off, "seed {seed}");
        assert_eq!(again.outside_window, 0, "seed {seed}");
        assert!(text.lines().all(|line| line.len() <= 76), "lines are folded at 75 octets");
    }
}

#[test]
fn a_written_vtimezone_is_matched_back_to_a_zone_that_agrees() {
    let window = window("2026-12-06T00:00:00Z", "2027-01-01T00:00:00Z");
    let entries = imported(7);
    // Renamed, the zones are known only by the VTIMEZONEs written from the tz database.
    let text = write_icalendar(&entries, window)
        .replace("Europe/Berlin", "Custom Berlin")
        .replace("America/New_York", "Custom Eastern");
    let again = read_calendar(&text, ReadOptions::default()).unwrap().entries(window, &HashMap::new()).unwrap();
    let zone_of = |shift_id: &str| match &again.shifts.iter().find(|shift| shift.shift_id == shift_id).unwrap().schedule
    {
        Some(eea_coverage::pb::shift::Schedule::Recurring(recurring)) => Zone::named(&recurring.time_zone).unwrap(),
        other => panic!("{other:?}"),
    };
    let first_with = |zone: &str| {
        entries.shifts.iter().find(|shift| matches!(&shift.schedule, Some(eea_coverage::pb::shift::Schedule::Recurring(recurring)) if recurring.time_zone == zone)).expect("such a shift in this roster").shift_id.clone()
    };
    let berlin = zone_of(&first_with("Europe/Berlin"));
    let instant = instant("2026-07-01T12:00:00Z");
    assert_eq!(berlin.offset_seconds_at(instant), Zone::named("Europe/Berlin").unwrap().offset_seconds_at(instant));
    let eastern = zone_of(&first_with("America/New_York"));
    assert_eq!(eastern.offset_seconds_at(instant), -4 * 3600);
}

#[test]
fn written_csv_with_agents_reads_back_as_the_same_roster() {
    for seed in 1..=20 {
        let entries = imported(seed);
        let again = parse_csv(&write_csv(&entries)).unwrap_or_else(|errors| panic!("seed {seed}: {:?}", errors[0]));
        assert_eq!(
            (&again.shifts, &again.time_off, &again.agents),
            (&entries.shifts, &entries.time_off, &entries.agents),
            "seed {seed}"
        );
    }
}

//! What the import does on the client before it sends anything: read a 5,000-agent calendar of
//! 100,000 events (edited occurrences, all-day events, Windows and VTIMEZONE-only zones
//! included) and place its events in a four-week window, against reading the CSV of the same
//! entries. Run with `cargo bench --bench calendar_read`.

use std::collections::HashMap;

use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::time::Zone;
use eea_coverage::formats::{parse_csv, read_calendar, write_csv, ReadOptions};
use eea_coverage::testing::calendars::exported_calendar;
use eea_coverage::testing::rosters::load_test_roster;

const N_AGENTS: usize = 5_000;

fn main() {
    divan::main();
}

struct Workload {
    calendar: String,
    csv: String,
    window: Interval,
    home_zones: HashMap<String, Zone>,
}

fn workload() -> Workload {
    let now = "2026-12-14T00:00:00Z".parse::<jiff::Timestamp>().unwrap().as_second();
    let roster = load_test_roster(N_AGENTS, now).expect("the load roster");
    let calendar = exported_calendar(&roster.agents);
    let window =
        Interval::new("2026-12-06T23:00:00Z".parse().unwrap(), "2027-01-03T23:00:00Z".parse().unwrap()).unwrap();
    let home_zones: HashMap<String, Zone> =
        roster.agents.iter().map(|agent| (agent.agent_id.clone(), Zone::named(&agent.time_zone).unwrap())).collect();
    let entries = read_calendar(&calendar, ReadOptions::default()).unwrap().entries(window, &home_zones).unwrap();
    assert_eq!(entries.len(), N_AGENTS * 19, "series, 2 moved occurrences, vacation and 15 weekend shifts each");
    let csv = write_csv(&entries);
    Workload { calendar, csv, window, home_zones }
}

#[divan::bench(sample_count = 10)]
fn icalendar_read_and_placed(bencher: divan::Bencher) {
    let workload = workload();
    bencher.bench_local(|| {
        let calendar = read_calendar(divan::black_box(&workload.calendar), ReadOptions::default()).unwrap();
        calendar.entries(workload.window, &workload.home_zones).unwrap()
    });
}

#[divan::bench(sample_count = 10)]
fn csv_of_the_same_entries_read(bencher: divan::Bencher) {
    let workload = workload();
    bencher.bench_local(|| parse_csv(divan::black_box(&workload.csv)).unwrap());
}

//! Writes the import benchmark's files for a whole-command comparison: `roster.ics` (the
//! calendar of `benches/calendar_read.rs`, 20 events for each of the load generator's agents)
//! and `roster.csv` (the same entries as the calendar gives over the four weeks from 7 December
//! 2026). Load the agents first with `eea-coverage load --seed-agents N`, then time
//! `eea-coverage import` of each file (see docs/benchmarks.md, "Calendar import").
//!
//! `cargo run --release --example calendar_files -- DIR [N_AGENTS]`

use std::collections::HashMap;

use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::time::Zone;
use eea_coverage::formats::{read_calendar, write_csv, ReadOptions};
use eea_coverage::testing::calendars::exported_calendar;
use eea_coverage::testing::rosters::load_test_roster;

fn main() -> Result<(), String> {
    let mut arguments = std::env::args().skip(1);
    let folder = arguments.next().ok_or("usage: calendar_files DIR [N_AGENTS]")?;
    let n_agents: usize =
        arguments.next().map_or(Ok(5_000), |text| text.parse().map_err(|_| "N_AGENTS is a number"))?;
    let roster = load_test_roster(n_agents, 0)?;
    let calendar = exported_calendar(&roster.agents);
    let window = Interval::new(
        "2026-12-06T23:00:00Z".parse().map_err(|_| "an instant")?,
        "2027-01-03T23:00:00Z".parse().map_err(|_| "an instant")?,
    )
    .ok_or("a window")?;
    let home_zones: HashMap<String, Zone> = roster
        .agents
        .iter()
        .map(|agent| Ok((agent.agent_id.clone(), Zone::named(&agent.time_zone).map_err(|error| error.to_string())?)))
        .collect::<Result<_, String>>()?;
    let entries = read_calendar(&calendar, ReadOptions::default())
        .map_err(|errors| format!("{} problems, the first: {}", errors.len(), errors[0]))?
        .entries(window, &home_zones)
        .map_err(|errors| format!("{} problems, the first: {}", errors.len(), errors[0]))?;
    let folder = std::path::Path::new(&folder);
    std::fs::create_dir_all(folder).map_err(|error| error.to_string())?;
    std::fs::write(folder.join("roster.ics"), &calendar).map_err(|error| error.to_string())?;
    std::fs::write(folder.join("roster.csv"), write_csv(&entries)).map_err(|error| error.to_string())?;
    println!("{} events, {} entries in the window", calendar.matches("BEGIN:VEVENT").count(), entries.len());
    Ok(())
}

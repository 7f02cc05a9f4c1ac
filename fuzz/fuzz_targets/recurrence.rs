//! Recurrence parsing and expansion must never panic, hang or produce a bad interval, whatever a
//! caller sends. Input: newline-separated zone, local start, end time, RRULE, exdates, and two
//! numbers for the window. Run: see README.md ("Fuzzing").
#![no_main]

use eea_coverage::domain::interval::Interval;
use eea_coverage::domain::roster::{ScheduleDraft, Shift, ShiftDraft};
use eea_coverage::domain::time::Instant;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let mut next = || fields.next().unwrap_or("").to_owned();
    let (time_zone, start_local, end_time, rrule) = (next(), next(), next(), next());
    let exdates: Vec<String> = next().split(',').filter(|part| !part.is_empty()).map(str::to_owned).collect();
    let window_start: i64 = next().trim().parse().unwrap_or(1_780_000_000);
    let window_days: i64 = next().trim().parse::<i64>().unwrap_or(7).clamp(1, 400);
    let draft = ShiftDraft {
        shift_id: "fuzz".into(),
        agent_id: "fuzz".into(),
        severities: vec![],
        country: String::new(),
        schedule: ScheduleDraft::Recurring { time_zone, start_local, end_time, rrule, exdates },
        source: None,
    };
    let Ok(shift) = Shift::new(draft) else { return };
    let Ok(start) = Instant::from_second(window_start.clamp(0, 7_000_000_000)) else { return };
    let Ok(end) = Instant::from_second(start.as_second() + window_days * 86_400) else { return };
    let Some(window) = Interval::new(start, end) else { return };
    if let Ok(occurrences) = shift.occurrences_within(window) {
        for occurrence in occurrences {
            assert!(occurrence.start() < occurrence.end(), "an empty occurrence was produced");
            assert!(occurrence.overlaps(&window), "an occurrence outside the window was produced");
        }
    }
});

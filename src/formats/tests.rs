use super::*;

const EXAMPLE_CSV: &str = include_str!("../../docs/examples/shifts.csv");
const EXAMPLE_ICS: &str = include_str!("../../docs/examples/roster.ics");

#[test]
fn the_example_csv_reads_into_shifts_and_time_off() {
    let entries = parse_csv(EXAMPLE_CSV).unwrap();
    assert_eq!(entries.shifts.len(), 4);
    assert_eq!(entries.time_off.len(), 1);
    assert_eq!(entries.shift_lines, [2, 3, 4, 5]);
    let Some(pb::shift::Schedule::Recurring(weekdays)) = &entries.shifts[0].schedule else {
        panic!("recurring expected")
    };
    assert_eq!(weekdays.rrule, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    assert_eq!(weekdays.exdates, ["2026-12-25", "2026-12-28"]);
    assert_eq!(entries.shifts[1].severities, [1]);
    assert_eq!((entries.shifts[3].country.as_str(), entries.shifts[3].severities.as_slice()), ("NO", &[2, 3, 4][..]));
    assert_eq!(entries.line_of("shifts[2].one_off.starts_at"), Some(4));
    assert_eq!(entries.line_of("time_off[0].ends_at"), Some(6));
}

#[test]
fn bad_csv_lines_are_reported_with_their_numbers() {
    let text = "kind,id,agent_id,starts_at,ends_at\n\
                shift,a,agent,2026-12-07T08:00:00Z,2026-12-07T16:00:00Z\n\
                shift,b,agent,yesterday,2026-12-07T16:00:00Z\n\
                lunch,c,agent,2026-12-07T08:00:00Z,2026-12-07T16:00:00Z\n\
                shift,,agent,2026-12-07T08:00:00Z,2026-12-07T16:00:00Z\n";
    let errors = parse_csv(text).unwrap_err();
    assert_eq!(errors.iter().map(|error| error.line).collect::<Vec<_>>(), [3, 4, 5]);
    assert!(errors[0].message.contains("starts_at"), "{}", errors[0]);
    let unknown = parse_csv("kind,id,agent_id,colour\n").unwrap_err();
    assert_eq!(unknown[0].line, 1);
}

fn december() -> crate::domain::interval::Interval {
    crate::domain::interval::Interval::new(
        "2026-12-01T00:00:00Z".parse().unwrap(),
        "2027-01-01T00:00:00Z".parse().unwrap(),
    )
    .unwrap()
}

fn ical_entries(text: &str, options: ReadOptions<'_>) -> Result<ImportedEntries, Vec<LineError>> {
    read_calendar(text, options)?.entries(december(), &std::collections::HashMap::new())
}

#[test]
fn the_example_icalendar_reads_into_shifts_and_time_off() {
    let entries = ical_entries(EXAMPLE_ICS, ReadOptions::default()).unwrap();
    assert_eq!(
        entries.shifts.iter().map(|shift| shift.agent_id.as_str()).collect::<Vec<_>>(),
        ["ie-0042", "de-0007", "pl-0100"]
    );
    let Some(pb::shift::Schedule::Recurring(weekdays)) = &entries.shifts[0].schedule else {
        panic!("recurring expected")
    };
    assert_eq!(
        (weekdays.time_zone.as_str(), weekdays.start_local.as_str(), weekdays.end_time.as_str()),
        ("Europe/Dublin", "2026-12-07T09:00:00", "17:00")
    );
    assert_eq!(weekdays.exdates, ["2026-12-25T09:00:00", "2026-12-28T09:00:00"]);
    let Some(pb::shift::Schedule::Recurring(nights)) = &entries.shifts[1].schedule else {
        panic!("recurring expected")
    };
    assert_eq!(nights.end_time, "06:00");
    assert_eq!(entries.shifts[1].severities, [1]);
    let Some(pb::shift::Schedule::OneOff(saturday)) = &entries.shifts[2].schedule else { panic!("one-off expected") };
    assert_eq!(saturday.starts_at.unwrap().seconds, "2026-12-12T08:00:00Z".parse::<Instant>().unwrap().as_second());
    assert_eq!(entries.time_off[0].time_off_id, "ie-0042-dentist");
    assert_eq!(entries.shift_lines, [4, 13, 22]);
}

#[test]
fn icalendar_problems_name_their_lines() {
    let text = "BEGIN:VCALENDAR\n\
                BEGIN:VEVENT\n\
                UID:floating\n\
                X-EEA-AGENT-ID:ie-0042\n\
                DTSTART:20261207T090000\n\
                DTEND:20261207T170000\n\
                END:VEVENT\n\
                BEGIN:VEVENT\n\
                UID:nobody\n\
                DTSTART:20261207T090000Z\n\
                DTEND:20261207T170000Z\n\
                END:VEVENT\n\
                END:VCALENDAR\n";
    // The event without an agent (it begins on line 8).
    let errors = read_calendar(text, ReadOptions::default()).unwrap_err();
    assert_eq!(errors.iter().map(|error| error.line).collect::<Vec<_>>(), [8]);
    // With every event given its agent, the floating DTSTART (line 5) needs a zone: the agent's
    // home zone, unknown here.
    let one_agent = ReadOptions { agent: Some("ie-0042"), ..ReadOptions::default() };
    let errors = ical_entries(text, one_agent).unwrap_err();
    assert_eq!(errors.iter().map(|error| error.line).collect::<Vec<_>>(), [5]);
    assert!(errors[0].message.contains("home zone"), "{}", errors[0]);
    // A zone for floating times makes the same file valid.
    let entries = ical_entries(text, ReadOptions { default_zone: Some("Europe/Dublin"), ..one_agent }).unwrap();
    assert_eq!(entries.shifts.len(), 2);
}

#[test]
fn folded_icalendar_lines_are_unfolded() {
    let text = "BEGIN:VEVENT\nUID:long\nX-EEA-AGENT-ID:ie-\n 0042\nDTSTART:20261207T090000Z\nDTEND:20261207T170000Z\nEND:VEVENT\n";
    let entries = ical_entries(text, ReadOptions::default()).unwrap();
    assert_eq!(entries.shifts[0].agent_id, "ie-0042");
}

#[test]
fn utc_exdates_name_the_occurrence_in_the_shifts_zone() {
    let text = "BEGIN:VEVENT\nUID:daily\nX-EEA-AGENT-ID:be-1\nDTSTART;TZID=Europe/Brussels:20261207T090000\nDTEND;TZID=Europe/Brussels:20261207T170000\nRRULE:FREQ=DAILY\nEXDATE:20261208T080000Z\nEND:VEVENT\n";
    let entries = ical_entries(text, ReadOptions::default()).unwrap();
    let Some(pb::shift::Schedule::Recurring(daily)) = &entries.shifts[0].schedule else { panic!("recurring expected") };
    assert_eq!(daily.exdates, ["2026-12-08T09:00:00"]);
}

#[test]
fn cancelled_events_are_left_out_and_day_long_recurring_shifts_refused() {
    let event = |extra: &str| {
        format!("BEGIN:VEVENT\nUID:e\nX-EEA-AGENT-ID:be-1\nDTSTART:20261207T080000Z\nDTEND:20261207T160000Z\n{extra}END:VEVENT\n")
    };
    assert!(ical_entries(&event("STATUS:CANCELLED\n"), ReadOptions::default()).unwrap().is_empty());
    let recurring_leave =
        ical_entries(&event("CATEGORIES:TIME-OFF\nRRULE:FREQ=WEEKLY\n"), ReadOptions::default()).unwrap();
    assert_eq!(recurring_leave.time_off.len(), 4, "one entry per week of December from the 7th");
    let too_long = "BEGIN:VEVENT\nUID:long\nX-EEA-AGENT-ID:be-1\nDTSTART:20261207T080000Z\nDTEND:20261208T090000Z\nRRULE:FREQ=WEEKLY\nEND:VEVENT\n";
    assert_eq!(ical_entries(too_long, ReadOptions::default()).unwrap_err()[0].line, 5);
}

#[test]
fn written_csv_reads_back_as_the_same_entries() {
    let mut entries = parse_csv(EXAMPLE_CSV).unwrap();
    entries.append(ical_entries(EXAMPLE_ICS, ReadOptions::default()).unwrap());
    let again = parse_csv(&write_csv(&entries)).unwrap();
    assert_eq!(again.shifts, entries.shifts);
    assert_eq!(again.time_off, entries.time_off);
    assert_eq!(again.len(), 9);
}

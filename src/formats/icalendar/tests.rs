use std::collections::HashMap;

use super::*;
use crate::domain::time::Instant;
use crate::pb;

const OUTLOOK_ICS: &str = include_str!("../../../docs/examples/outlook.ics");

fn instant(text: &str) -> Instant {
    text.parse().unwrap()
}

fn window(start: &str, end: &str) -> Interval {
    Interval::new(instant(start), instant(end)).unwrap()
}

fn december() -> Interval {
    window("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")
}

fn homes(pairs: &[(&str, &str)]) -> HashMap<String, Zone> {
    pairs.iter().map(|(agent, zone)| (agent.to_string(), Zone::named(zone).unwrap())).collect()
}

fn read(text: &str, agent: Option<&str>) -> Calendar {
    read_calendar(text, ReadOptions { agent, ..ReadOptions::default() }).unwrap()
}

fn recurring(shift: &pb::Shift) -> &pb::RecurringShift {
    match &shift.schedule {
        Some(pb::shift::Schedule::Recurring(recurring)) => recurring,
        other => panic!("{}: recurring expected, got {other:?}", shift.shift_id),
    }
}

fn one_off(shift: &pb::Shift) -> (String, String) {
    match &shift.schedule {
        Some(pb::shift::Schedule::OneOff(one_off)) => {
            let text = |timestamp: &Option<prost_types::Timestamp>| {
                Instant::from_second(timestamp.unwrap().seconds).unwrap().to_string()
            };
            (text(&one_off.starts_at), text(&one_off.ends_at))
        }
        other => panic!("{}: one-off expected, got {other:?}", shift.shift_id),
    }
}

fn time_off_span(time_off: &pb::TimeOff) -> (String, String) {
    let text = |timestamp: &Option<prost_types::Timestamp>| {
        Instant::from_second(timestamp.unwrap().seconds).unwrap().to_string()
    };
    (text(&time_off.starts_at), text(&time_off.ends_at))
}

fn event(body: &str) -> String {
    format!("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:e1\n{body}END:VEVENT\nEND:VCALENDAR\n")
}

#[test]
fn an_outlook_export_reads_with_its_windows_zone_edited_occurrence_and_vacation() {
    let calendar = read(OUTLOOK_ICS, Some("anna"));
    assert_eq!(calendar.agents_needing_home_zone(), ["anna"]);
    let entries = calendar.entries(december(), &homes(&[("anna", "Europe/Vienna")])).unwrap();
    assert_eq!(entries.shifts.len(), 2, "{:?}", entries.shifts);
    let series = recurring(&entries.shifts[0]);
    assert_eq!(
        (series.time_zone.as_str(), series.start_local.as_str(), series.end_time.as_str()),
        ("Europe/Berlin", "2026-12-07T09:00:00", "17:00")
    );
    assert_eq!(series.exdates, ["2026-12-09T09:00:00"]);
    // The folded UID is read whole, and the moved occurrence is a one-off named after it.
    let uid = "040000008200E00074C5B7101A82E00800000000A0B1C2D3E4F5A6B7000000000000000010000000ABCDEF0123456789";
    assert_eq!(entries.shifts[0].shift_id, uid);
    assert_eq!(entries.shifts[1].shift_id, format!("{uid}#20261209T090000"));
    assert_eq!(one_off(&entries.shifts[1]), ("2026-12-09T11:00:00Z".into(), "2026-12-09T19:00:00Z".into()));
    // Two whole days in Vienna: 14 December 00:00 CET to 16 December 00:00 CET.
    assert_eq!(entries.time_off[0].time_off_id, "vacation-anna-1");
    assert_eq!(time_off_span(&entries.time_off[0]), ("2026-12-13T23:00:00Z".into(), "2026-12-15T23:00:00Z".into()));
    assert_eq!(entries.line_of("time_off[0].starts_at"), Some(42));
}

#[test]
fn windows_zone_names_map_through_cldr() {
    assert_eq!(zones::windows_zone("W. Europe Standard Time").unwrap().name(), "Europe/Berlin");
    assert_eq!(zones::windows_zone("GMT Standard Time").unwrap().name(), "Europe/London");
    assert_eq!(zones::windows_zone("Romance Standard Time").unwrap().name(), "Europe/Paris");
    assert_eq!(zones::windows_zone("Eastern Standard Time").unwrap().name(), "America/New_York");
    assert!(zones::windows_zone("Mars Standard Time").is_none());
    assert!(zones::cldr_version().parse::<u32>().unwrap() >= 48);
}

fn custom_zone(tzid: &str, standard_from: &str, daylight: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VTIMEZONE\nTZID:{tzid}\nBEGIN:STANDARD\nDTSTART:16011028T030000\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\nTZOFFSETFROM:{standard_from}\nTZOFFSETTO:+0100\nEND:STANDARD\nBEGIN:DAYLIGHT\n{daylight}TZOFFSETFROM:+0100\nTZOFFSETTO:{standard_from}\nEND:DAYLIGHT\nEND:VTIMEZONE\n\
         BEGIN:VEVENT\nUID:e1\nDTSTART;TZID=\"{tzid}\":20260706T090000\nDTEND;TZID=\"{tzid}\":20260706T170000\nEND:VEVENT\nEND:VCALENDAR\n"
    )
}

#[test]
fn a_zone_defined_only_by_its_vtimezone_is_matched_to_the_iana_zone_that_agrees() {
    let central_europe = "DTSTART:16010325T020000\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\n";
    let text = custom_zone("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "+0200", central_europe);
    let entries = read(&text, Some("a"))
        .entries(window("2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z"), &HashMap::new())
        .unwrap();
    assert_eq!(one_off(&entries.shifts[0]), ("2026-07-06T07:00:00Z".into(), "2026-07-06T15:00:00Z".into()));
    // The city the TZID names wins among the zones that agree.
    let calendar = read(&text, Some("a"));
    assert_eq!(calendar.zones.values().next().unwrap().name(), "Europe/Amsterdam");
    // Summer time that starts on the first Sunday of April is no IANA zone's in 2026.
    let odd = "DTSTART:16010401T020000\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\n";
    let errors = read_calendar(
        &custom_zone("Custom zone", "+0200", odd),
        ReadOptions { agent: Some("a"), ..ReadOptions::default() },
    )
    .unwrap_err();
    assert!(errors[0].message.contains("no IANA zone"), "{}", errors[0]);
    assert!(errors[0].message.contains("\"Custom zone\""), "{}", errors[0]);
}

#[test]
fn an_unknown_tzid_without_vtimezone_is_named() {
    let text = event("X-EEA-AGENT-ID:a\nDTSTART;TZID=Atlantis:20261207T090000\nDTEND;TZID=Atlantis:20261207T170000\n");
    let errors = read_calendar(&text, ReadOptions::default()).unwrap_err();
    assert_eq!(errors[0].line, 6);
    assert!(errors[0].message.contains("\"Atlantis\"") && errors[0].message.contains("no VTIMEZONE"), "{}", errors[0]);
}

#[test]
fn mozilla_style_tzid_paths_name_their_iana_zone() {
    let text =
        event("X-EEA-AGENT-ID:a\nDTSTART;TZID=/mozilla.org/20070129_1/Europe/Berlin:20261207T090000\nDURATION:PT8H\n");
    let entries = read(&text, None).entries(december(), &HashMap::new()).unwrap();
    assert_eq!(one_off(&entries.shifts[0]), ("2026-12-07T08:00:00Z".into(), "2026-12-07T16:00:00Z".into()));
}

const WEEKDAYS: &str = "BEGIN:VEVENT\nUID:rota\nX-EEA-AGENT-ID:a\nDTSTART;TZID=Europe/Brussels:20261207T090000\nDTEND;TZID=Europe/Brussels:20261207T170000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=20\nEND:VEVENT\n";

fn calendar_of(events: &[&str]) -> String {
    format!("BEGIN:VCALENDAR\nVERSION:2.0\n{}END:VCALENDAR\n", events.concat())
}

#[test]
fn this_and_future_edits_split_the_series_where_they_start() {
    let later = "BEGIN:VEVENT\nUID:rota\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Brussels:20261214T090000\nDTSTART;TZID=Europe/Brussels:20261214T100000\nDTEND;TZID=Europe/Brussels:20261214T190000\nEND:VEVENT\n";
    let entries = read(&calendar_of(&[WEEKDAYS, later]), None).entries(december(), &HashMap::new()).unwrap();
    assert_eq!(entries.shifts.len(), 2);
    let (before, after) = (recurring(&entries.shifts[0]), recurring(&entries.shifts[1]));
    assert_eq!(before.rrule, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=5");
    assert_eq!((after.start_local.as_str(), after.end_time.as_str()), ("2026-12-14T10:00:00", "19:00"));
    assert_eq!(after.rrule, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=15");
    assert_eq!(entries.shifts[1].shift_id, "rota#20261214T090000");
}

#[test]
fn single_edits_replace_their_occurrence_and_cancelled_ones_remove_it() {
    let moved = "BEGIN:VEVENT\nUID:rota\nRECURRENCE-ID;TZID=Europe/Brussels:20261208T090000\nDTSTART;TZID=Europe/Brussels:20261208T130000\nDTEND;TZID=Europe/Brussels:20261208T180000\nEND:VEVENT\n";
    let cancelled = "BEGIN:VEVENT\nUID:rota\nRECURRENCE-ID:20261209T080000Z\nSTATUS:CANCELLED\nDTSTART;TZID=Europe/Brussels:20261209T090000\nEND:VEVENT\n";
    let entries = read(&calendar_of(&[WEEKDAYS, moved, cancelled]), None).entries(december(), &HashMap::new()).unwrap();
    assert_eq!(recurring(&entries.shifts[0]).exdates, ["2026-12-08T09:00:00", "2026-12-09T09:00:00"]);
    assert_eq!(entries.shifts.len(), 2);
    assert_eq!(one_off(&entries.shifts[1]), ("2026-12-08T12:00:00Z".into(), "2026-12-08T17:00:00Z".into()));
}

#[test]
fn a_series_that_began_before_the_window_starts_at_its_first_occurrence_inside() {
    let old = "BEGIN:VEVENT\nUID:old\nX-EEA-AGENT-ID:a\nDTSTART;TZID=Europe/Brussels:20241202T220000\nDTEND;TZID=Europe/Brussels:20241203T060000\nRRULE:FREQ=DAILY;COUNT=800\nEXDATE;TZID=Europe/Brussels:20241203T220000,20261210T220000\nEND:VEVENT\n";
    let entries = read(&calendar_of(&[old]), None)
        .entries(window("2026-12-07T12:00:00Z", "2026-12-14T00:00:00Z"), &HashMap::new())
        .unwrap();
    let series = recurring(&entries.shifts[0]);
    assert_eq!(series.start_local, "2026-12-07T22:00:00");
    // 2 December 2024 to 6 December 2026 are 735 occurrences.
    assert_eq!(series.rrule, "FREQ=DAILY;COUNT=65");
    assert_eq!(series.exdates, ["2026-12-10T22:00:00"]);
    // A series that has ended before the window brings nothing, and says so.
    let ended = read(&calendar_of(&[old]), None)
        .entries(window("2027-06-01T00:00:00Z", "2027-06-08T00:00:00Z"), &HashMap::new())
        .unwrap();
    assert!(ended.is_empty());
    assert_eq!(ended.outside_window, 1);
}

#[test]
fn durations_and_rdates_give_ends_and_extra_occurrences() {
    let text = event(
        "X-EEA-AGENT-ID:a\nDTSTART;TZID=Europe/Lisbon:20261207T080000\nDURATION:PT7H30M\nRDATE;TZID=Europe/Lisbon:20261212T100000\nRDATE;VALUE=PERIOD:20261213T090000Z/PT2H\n",
    );
    let entries = read(&text, None).entries(december(), &HashMap::new()).unwrap();
    let spans: Vec<_> = entries.shifts.iter().map(one_off).collect();
    assert_eq!(
        spans,
        [
            ("2026-12-07T08:00:00Z".to_string(), "2026-12-07T15:30:00Z".to_string()),
            ("2026-12-12T10:00:00Z".to_string(), "2026-12-12T17:30:00Z".to_string()),
            ("2026-12-13T09:00:00Z".to_string(), "2026-12-13T11:00:00Z".to_string()),
        ]
    );
    assert_eq!(entries.shifts[1].shift_id, "e1#20261212T100000");
}

#[test]
fn all_day_events_need_the_agents_home_zone_and_recurring_ones_become_one_entry_a_day() {
    let text = event("X-EEA-AGENT-ID:fi-1\nDTSTART;VALUE=DATE:20261207\nRRULE:FREQ=WEEKLY;BYDAY=MO,FR;COUNT=4\n");
    let calendar = read(&text, None);
    let errors = calendar.entries(december(), &HashMap::new()).unwrap_err();
    assert!(errors[0].message.contains("home zone"), "{}", errors[0]);
    let entries = calendar.entries(december(), &homes(&[("fi-1", "Europe/Helsinki")])).unwrap();
    assert_eq!(entries.time_off.len(), 4);
    assert_eq!(entries.time_off[1].time_off_id, "e1#20261211");
    assert_eq!(time_off_span(&entries.time_off[1]), ("2026-12-10T22:00:00Z".into(), "2026-12-11T22:00:00Z".into()));
}

#[test]
fn events_outside_the_window_are_counted_not_sent() {
    let text = calendar_of(&[
        "BEGIN:VEVENT\nUID:in\nX-EEA-AGENT-ID:a\nDTSTART:20261207T080000Z\nDTEND:20261207T160000Z\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:out\nX-EEA-AGENT-ID:a\nDTSTART:20250107T080000Z\nDTEND:20250107T160000Z\nEND:VEVENT\n",
    ]);
    let entries = read(&text, None).entries(december(), &HashMap::new()).unwrap();
    assert_eq!((entries.shifts.len(), entries.outside_window), (1, 1));
}

#[test]
fn without_an_agent_the_files_name_is_the_agent() {
    let text = event("DTSTART:20261207T080000Z\nDTEND:20261207T160000Z\n");
    let errors = read_calendar(&text, ReadOptions::default()).unwrap_err();
    assert!(errors[0].message.contains("no agent"), "{}", errors[0]);
    let options = ReadOptions { fallback_agent: Some("lv-3"), ..ReadOptions::default() };
    let entries = read_calendar(&text, options).unwrap().entries(december(), &HashMap::new()).unwrap();
    assert_eq!(entries.shifts[0].agent_id, "lv-3");
}

#[test]
fn ids_longer_than_the_contract_allows_are_shortened_the_same_way_each_time() {
    let uid = "x".repeat(150);
    let text = event("X-EEA-AGENT-ID:a\nDTSTART:20261207T080000Z\nDTEND:20261207T160000Z\n")
        .replace("UID:e1", &format!("UID:{uid}"));
    let first = read(&text, None).entries(december(), &HashMap::new()).unwrap();
    let again = read(&text, None).entries(december(), &HashMap::new()).unwrap();
    assert_eq!(first.shifts[0].shift_id.len(), crate::domain::validation::MAX_ID_BYTES);
    assert_eq!(first.shifts[0].shift_id, again.shifts[0].shift_id);
}

#[test]
fn durations_read_as_rfc_5545_writes_them() {
    assert_eq!(parse_span("PT8H").unwrap(), Span { days: 0, seconds: 8 * 3600 });
    assert_eq!(parse_span("P1DT2H").unwrap(), Span { days: 1, seconds: 7200 });
    assert_eq!(parse_span("P2W").unwrap(), Span { days: 14, seconds: 0 });
    for bad in ["-PT1H", "PT", "8H", "P1Y", "PT1H2"] {
        assert!(parse_span(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_file_that_is_not_icalendar_names_a_line() {
    let errors =
        read_calendar("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\n", ReadOptions::default()).unwrap_err();
    assert!(errors[0].message.contains("iCalendar"), "{}", errors[0]);
}

#[test]
fn floating_times_read_in_the_calendars_own_zone_before_the_agents() {
    let text = "BEGIN:VCALENDAR\nVERSION:2.0\nX-WR-TIMEZONE:America/New_York\nBEGIN:VEVENT\nUID:e1\nX-EEA-AGENT-ID:a\nDTSTART:20261207T090000\nDTEND:20261207T170000\nEND:VEVENT\nEND:VCALENDAR\n";
    let calendar = read(text, None);
    assert!(calendar.agents_needing_home_zone().is_empty());
    let entries = calendar.entries(december(), &homes(&[("a", "Europe/Dublin")])).unwrap();
    assert_eq!(one_off(&entries.shifts[0]), ("2026-12-07T14:00:00Z".into(), "2026-12-07T22:00:00Z".into()));
}

#[test]
fn a_vtimezone_that_names_its_location_is_matched_to_it_among_equals() {
    let central_europe = "DTSTART:16010325T020000\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\n";
    let text = custom_zone("Custom", "+0200", central_europe)
        .replace("TZID:Custom\n", "TZID:Custom\nX-LIC-LOCATION:Europe/Rome\n");
    assert_eq!(read(&text, Some("a")).zones["Custom"].name(), "Europe/Rome");
}

#[test]
fn a_this_and_future_edit_to_another_day_moves_the_rules_weekdays() {
    let rota = "BEGIN:VEVENT\nUID:rota\nX-EEA-AGENT-ID:a\nDTSTART;TZID=Europe/Madrid:20261207T080000\nDTEND;TZID=Europe/Madrid:20261207T140000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE\nEND:VEVENT\n";
    let later = "BEGIN:VEVENT\nUID:rota\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Madrid:20261214T080000\nDTSTART;TZID=Europe/Madrid:20261215T080000\nDTEND;TZID=Europe/Madrid:20261215T140000\nEND:VEVENT\n";
    let entries = read(&calendar_of(&[rota, later]), None).entries(december(), &HashMap::new()).unwrap();
    let after = recurring(&entries.shifts[1]);
    assert_eq!((after.start_local.as_str(), after.rrule.as_str()), ("2026-12-15T08:00:00", "FREQ=WEEKLY;BYDAY=TU,TH"));
    // Month days cannot follow: refused, naming the line.
    let monthly = rota.replace("FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=MONTHLY;BYMONTHDAY=7,14");
    let errors = read(&calendar_of(&[&monthly, later]), None).entries(december(), &HashMap::new()).unwrap_err();
    assert_eq!(errors[0].line, 12, "the RECURRENCE-ID line");
}

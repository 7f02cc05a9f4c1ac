//! Calendars as exports write them, for the import's benchmark: one file holding 20 events for
//! each agent of a roster over the four weeks from Monday 7 December 2026. Each agent has a
//! weekday series (in its home zone; every third agent's in Outlook's Windows zone name, every
//! sixth's in a zone only a VTIMEZONE defines), two moved occurrences and a cancelled one, a
//! two-day vacation as an all-day event, and fifteen weekend shifts (in UTC, in a TZID, or with a
//! DURATION).

use std::fmt::Write;

use crate::pb;

/// Outlook's definition of Central European time, as its exports carry it.
const CENTRAL_EUROPE_RULES: &str =
    "BEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n\
TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010325T020000\r\n\
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n";

const WINDOWS_ZONE: &str = "W. Europe Standard Time";
const CUSTOM_ZONE: &str = "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna";

/// The calendar of `agents` (events name their agent with `X-EEA-AGENT-ID`).
pub fn exported_calendar(agents: &[pb::Agent]) -> String {
    let mut out = String::with_capacity(agents.len() * 6_000);
    out.push_str("BEGIN:VCALENDAR\r\nPRODID:-//eea-coverage//benchmark//EN\r\nVERSION:2.0\r\n");
    for tzid in [WINDOWS_ZONE, CUSTOM_ZONE] {
        let _ = write!(out, "BEGIN:VTIMEZONE\r\nTZID:{tzid}\r\n{CENTRAL_EUROPE_RULES}END:VTIMEZONE\r\n");
    }
    for (agent_idx, agent) in agents.iter().enumerate() {
        let tzid = match agent_idx % 6 {
            0 => CUSTOM_ZONE,
            3 => WINDOWS_ZONE,
            _ => agent.time_zone.as_str(),
        };
        agent_events(&mut out, &agent.agent_id, tzid);
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn agent_events(out: &mut String, agent_id: &str, tzid: &str) {
    let event = |out: &mut String, uid: &str, body: &str| {
        let _ = write!(out, "BEGIN:VEVENT\r\nUID:{uid}\r\nX-EEA-AGENT-ID:{agent_id}\r\n{body}END:VEVENT\r\n");
    };
    let series = format!("{agent_id}-weekdays");
    event(
        out,
        &series,
        &format!(
            "SUMMARY:Support\r\nDTSTART;TZID=\"{tzid}\":20261207T090000\r\nDTEND;TZID=\"{tzid}\":20261207T170000\r\n\
             RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=20\r\n"
        ),
    );
    for day in ["20261208", "20261215"] {
        event(
            out,
            &series,
            &format!(
                "RECURRENCE-ID;TZID=\"{tzid}\":{day}T090000\r\nDTSTART;TZID=\"{tzid}\":{day}T120000\r\n\
                 DTEND;TZID=\"{tzid}\":{day}T200000\r\nSUMMARY:Support (late)\r\n"
            ),
        );
    }
    event(
        out,
        &series,
        &format!("RECURRENCE-ID;TZID=\"{tzid}\":20261210T090000\r\nSTATUS:CANCELLED\r\nDTSTART;TZID=\"{tzid}\":20261210T090000\r\n"),
    );
    event(
        out,
        &format!("{agent_id}-vacation"),
        "SUMMARY:Vacation\r\nDTSTART;VALUE=DATE:20261221\r\nDTEND;VALUE=DATE:20261223\r\nTRANSP:TRANSPARENT\r\n",
    );
    let weekend_days = ["20261212", "20261213", "20261219", "20261220", "20261226", "20261227", "20270102", "20270103"];
    for shift_idx in 0..15 {
        let day = weekend_days[shift_idx / 2];
        let hour = if shift_idx % 2 == 0 { 8 } else { 14 };
        let body = match shift_idx % 3 {
            0 => format!("DTSTART:{day}T{hour:02}0000Z\r\nDTEND:{day}T{:02}0000Z\r\n", hour + 4),
            1 => format!(
                "DTSTART;TZID=\"{tzid}\":{day}T{hour:02}0000\r\nDTEND;TZID=\"{tzid}\":{day}T{:02}0000\r\n",
                hour + 5
            ),
            _ => format!("DTSTART;TZID=\"{tzid}\":{day}T{hour:02}3000\r\nDURATION:PT3H30M\r\n"),
        };
        event(out, &format!("{agent_id}-weekend-{shift_idx:02}"), &format!("SUMMARY:Weekend cover\r\n{body}"));
    }
}

/// Shifts and time off of a random roster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RandomEntries {
    pub agents: Vec<pb::Agent>,
    pub shifts: Vec<pb::Shift>,
    pub time_off: Vec<pb::TimeOff>,
}

/// A random roster of five agents (`agent-0` on) with one-off and recurring shifts (EXDATEs,
/// severities, trips; zones with and without DST, rules with COUNT and UNTIL) and time off, all
/// starting between 7 and 27 December 2026 (UTC): the same for the same seed.
pub fn random_entries(seed: u64, n_entries: usize) -> RandomEntries {
    let mut state = seed;
    let mut next = |below: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % below
    };
    let zones = ["Europe/Dublin", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"];
    let rules = [
        "FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "FREQ=WEEKLY;BYDAY=SA,SU;COUNT=6",
        "FREQ=DAILY;INTERVAL=2;UNTIL=20261230T000000Z",
    ];
    let mut entries = RandomEntries::default();
    for (agent_idx, (country, zone)) in [
        ("IE", "Europe/Dublin"),
        ("DE", "Europe/Berlin"),
        ("PL", "Europe/Warsaw"),
        ("IN", "Asia/Kolkata"),
        ("US", "America/New_York"),
    ]
    .into_iter()
    .enumerate()
    {
        entries.agents.push(pb::Agent {
            agent_id: format!("agent-{agent_idx}"),
            display_name: format!("Agent {agent_idx}"),
            country: country.into(),
            time_zone: zone.into(),
            severities: vec![],
            location_changes: vec![],
        });
    }
    for entry_idx in 0..n_entries {
        let agent_id = format!("agent-{}", next(5));
        let day = 7 + next(20) as i8;
        let hour = next(24) as i8;
        let at = |day: i8, hour: i8| {
            crate::domain::time::Zone::named("UTC")
                .expect("UTC exists")
                .to_instant(jiff::civil::date(2026, 12, day).at(hour, 0, 0, 0))
        };
        let stamp = |instant: crate::domain::time::Instant| {
            Some(prost_types::Timestamp { seconds: instant.as_second(), nanos: 0 })
        };
        match next(3) {
            0 => entries.time_off.push(pb::TimeOff {
                time_off_id: format!("leave-{entry_idx}"),
                agent_id,
                starts_at: stamp(at(day, hour)),
                ends_at: stamp(at(day, hour) + jiff::SignedDuration::from_hours(1 + next(72) as i64)),
                source: String::new(),
            }),
            kind => {
                let schedule = if kind == 1 {
                    pb::shift::Schedule::OneOff(pb::OneOffShift {
                        starts_at: stamp(at(day, hour)),
                        ends_at: stamp(at(day, hour) + jiff::SignedDuration::from_mins(30 * (1 + next(30) as i64))),
                    })
                } else {
                    let exdates = (0..next(3))
                        .map(|_| {
                            if next(2) == 0 {
                                format!("2026-12-{:02}", day + 1 + next(3) as i8)
                            } else {
                                format!("2026-12-{:02}T{hour:02}:30:00", day + 1 + next(3) as i8)
                            }
                        })
                        .collect();
                    pb::shift::Schedule::Recurring(pb::RecurringShift {
                        time_zone: zones[next(zones.len() as u64) as usize].into(),
                        start_local: format!("2026-12-{day:02}T{hour:02}:30:00"),
                        end_time: format!("{:02}:{:02}", next(24), 15 * next(4)),
                        rrule: rules[next(rules.len() as u64) as usize].into(),
                        exdates,
                    })
                };
                entries.shifts.push(pb::Shift {
                    shift_id: format!("shift,{entry_idx};x\\y"),
                    agent_id,
                    severities: if next(2) == 0 { vec![] } else { vec![1, 1 + next(4) as i32] },
                    country: if next(4) == 0 { "NO".into() } else { String::new() },
                    schedule: Some(schedule),
                    source: String::new(),
                });
            }
        }
    }
    entries
}

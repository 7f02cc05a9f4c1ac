use jiff::civil::{DateTime, Time};
use jiff::SignedDuration;

use super::*;
use crate::domain::fixtures::{agent, interval};
use crate::domain::policy::{PolicyFacts, Severity, SeveritySet, DEFAULT_POLICY_FACTS};
use crate::domain::recurrence::RecurringSchedule;
use crate::domain::roster::{Roster, Schedule, Shift, TimeOff};
use crate::domain::time::Zone;

fn brussels(local: &str) -> Instant {
    Zone::brussels().to_instant(local.parse::<DateTime>().unwrap())
}

/// A one-off shift of agent "a" between two Brussels wall-clock times.
fn shift(shift_id: &str, start: &str, end: &str) -> Shift {
    Shift {
        shift_id: shift_id.into(),
        agent_id: "a".into(),
        severities: SeveritySet::default(),
        country: None,
        schedule: Schedule::OneOff(Interval::new(brussels(start), brussels(end)).unwrap()),
        source: None,
    }
}

fn recurring(shift_id: &str, start: &str, end: Time, rrule: &str) -> Shift {
    let schedule = RecurringSchedule::new(Zone::brussels(), start.parse().unwrap(), end, rrule, vec![]).unwrap();
    Shift {
        schedule: Schedule::Recurring(Box::new(schedule)),
        ..shift(shift_id, "2026-01-01T00:00", "2026-01-01T01:00")
    }
}

fn time_off(time_off_id: &str, start: &str, end: &str) -> TimeOff {
    TimeOff {
        time_off_id: time_off_id.into(),
        agent_id: "a".into(),
        period: Interval::new(brussels(start), brussels(end)).unwrap(),
        source: None,
    }
}

fn roster(shifts: Vec<Shift>, time_off: Vec<TimeOff>) -> AgentRoster {
    AgentRoster::new(agent("a", "BE", &[]), shifts, time_off)
}

fn local_window(start: &str, end: &str) -> Interval {
    Interval::new(brussels(start), brussels(end)).unwrap()
}

fn report(roster: &AgentRoster, window: Interval) -> AgentWorkingTime {
    agent_working_time(roster, window, &WorkingTimeRules::directive_defaults(), &WorkingTimeSettings::default())
}

fn breaches_of(roster: &AgentRoster, window: Interval, rule: WorkingTimeRule) -> Vec<Breach> {
    report(roster, window).breaches.into_iter().filter(|breach| breach.rule == rule).collect()
}

fn hours(hours: i64) -> SignedDuration {
    SignedDuration::from_hours(hours)
}

fn minutes(minutes: i64) -> SignedDuration {
    SignedDuration::from_mins(minutes)
}

fn ids(breach: &Breach) -> Vec<&str> {
    breach.shift_ids.iter().map(|shift_id| shift_id.as_str()).collect()
}

const JUNE: (&str, &str) = ("2026-06-01T00:00", "2026-06-15T00:00");

#[test]
fn eleven_hours_of_rest_in_a_day_is_enough_and_a_minute_less_is_one_breach() {
    let window = local_window(JUNE.0, JUNE.1);
    for (next_start, expected_rest) in [("2026-06-02T08:00", None), ("2026-06-02T07:59", Some(hours(10) + minutes(59)))]
    {
        let roster = roster(
            vec![shift("mon", "2026-06-01T08:00", "2026-06-01T21:00"), shift("tue", next_start, "2026-06-02T12:00")],
            vec![],
        );
        let breaches = breaches_of(&roster, window, WorkingTimeRule::DailyRest);
        match expected_rest {
            None => assert_eq!(breaches, vec![], "Tuesday from {next_start}"),
            Some(rest) => {
                assert_eq!(breaches.len(), 1, "{breaches:?}");
                assert_eq!(breaches[0].window, local_window("2026-06-01T08:00", "2026-06-02T08:00"));
                assert_eq!((breaches[0].measured, breaches[0].limit), (rest, hours(11)));
                assert_eq!(ids(&breaches[0]), ["mon", "tue"]);
            }
        }
    }
}

#[test]
fn the_spring_night_takes_an_hour_of_rest_and_the_autumn_night_gives_one() {
    // 22:00 to 09:00 on the wall clock: 10 hours on the spring night, a breach.
    let spring = roster(
        vec![
            shift("sat", "2026-03-28T10:00", "2026-03-28T22:00"),
            shift("sun", "2026-03-29T09:00", "2026-03-29T12:00"),
        ],
        vec![],
    );
    let breaches =
        breaches_of(&spring, local_window("2026-03-23T00:00", "2026-03-30T00:00"), WorkingTimeRule::DailyRest);
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert_eq!(breaches[0].measured, hours(10));
    assert_eq!(breaches[0].window, Interval::following(brussels("2026-03-28T10:00"), hours(24)).unwrap());

    // 22:00 to 08:00 on the wall clock: 11 hours on the autumn night, enough.
    let autumn = roster(
        vec![
            shift("sat", "2026-10-24T12:00", "2026-10-24T22:00"),
            shift("sun", "2026-10-25T08:00", "2026-10-25T12:00"),
        ],
        vec![],
    );
    let window = local_window("2026-10-19T00:00", "2026-10-26T00:00");
    assert_eq!(breaches_of(&autumn, window, WorkingTimeRule::DailyRest), vec![]);
}

#[test]
fn time_off_is_rest() {
    let shifts = vec![
        shift("mon", "2026-06-01T08:00", "2026-06-01T21:00"),
        shift("tue", "2026-06-02T06:00", "2026-06-02T12:00"),
    ];
    let window = local_window(JUNE.0, JUNE.1);
    assert_eq!(breaches_of(&roster(shifts.clone(), vec![]), window, WorkingTimeRule::DailyRest).len(), 1);
    let rested = roster(shifts, vec![time_off("late", "2026-06-02T06:00", "2026-06-02T08:00")]);
    assert_eq!(breaches_of(&rested, window, WorkingTimeRule::DailyRest), vec![]);
}

/// Monday to Friday 08:00-20:00, Saturday 10:00 to `saturday_end`, and one hour on the next Monday.
fn six_days(saturday_end: &str) -> AgentRoster {
    let mut shifts: Vec<Shift> = (1..=5)
        .map(|day| shift(&format!("d{day}"), &format!("2026-06-0{day}T08:00"), &format!("2026-06-0{day}T20:00")))
        .collect();
    shifts.push(shift("d6", "2026-06-06T10:00", saturday_end));
    shifts.push(shift("d8", "2026-06-08T08:00", "2026-06-08T09:00"));
    roster(shifts, vec![])
}

#[test]
fn thirty_five_hours_of_rest_in_seven_days_is_enough_and_a_minute_less_breaks_two_windows() {
    let window = local_window(JUNE.0, JUNE.1);
    assert_eq!(report(&six_days("2026-06-06T21:00"), window).breaches, vec![]);

    let breaches = report(&six_days("2026-06-06T21:01"), window).breaches;
    // Windows from Monday and Tuesday hold Saturday 21:01 to Monday 08:00 and nothing longer;
    // Wednesday's holds Monday 09:00 onwards.
    let starts: Vec<_> = breaches.iter().map(|breach| (breach.rule, breach.window.start())).collect();
    assert_eq!(
        starts,
        [
            (WorkingTimeRule::WeeklyRest, brussels("2026-06-01T08:00")),
            (WorkingTimeRule::WeeklyRest, brussels("2026-06-02T08:00")),
        ]
    );
    assert_eq!(breaches[0].measured, hours(34) + minutes(59));
    assert_eq!(breaches[0].limit, hours(35));
    assert_eq!(breaches[0].window.end(), brussels("2026-06-08T08:00"));
    assert_eq!(ids(&breaches[0]), ["d1", "d2", "d3", "d4", "d5", "d6"]);
    assert_eq!(ids(&breaches[1]), ["d2", "d3", "d4", "d5", "d6", "d8"]);
}

#[test]
fn only_windows_that_start_inside_the_asked_window_are_reported_and_they_read_work_after_it() {
    let roster = six_days("2026-06-06T21:01");
    // Asked for Tuesday alone: the Tuesday window, which reaches into the next week.
    let breaches = report(&roster, local_window("2026-06-02T00:00", "2026-06-03T00:00")).breaches;
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert_eq!(breaches[0].window.start(), brussels("2026-06-02T08:00"));
}

/// Monday to Friday from 2 February 2026, 17 weeks (through the spring night) of 9 h 36 min a
/// day: 48 hours a week.
fn forty_eight_hour_weeks() -> Shift {
    recurring("weekdays", "2026-02-02T08:00", Time::constant(17, 36, 0, 0), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=85")
}

#[test]
fn forty_eight_hours_on_average_is_allowed_and_a_minute_more_is_a_breach_at_the_monday() {
    let monday = local_window("2026-06-01T00:00", "2026-06-02T00:00");
    let exactly = roster(vec![forty_eight_hour_weeks()], vec![]);
    let result = report(&exactly, monday);
    assert_eq!(result.breaches, vec![]);
    // The week asked for is empty; the rolling average ending with it holds 16 weeks of 48 hours.
    assert_eq!(result.weeks.len(), 1);
    assert_eq!(result.weeks[0].worked, SignedDuration::ZERO);
    assert_eq!(result.weeks[0].rolling_average, hours(48) * 16 / 17);

    let extra = shift("extra", "2026-03-01T10:00", "2026-03-01T10:01");
    let over = roster(vec![forty_eight_hour_weeks(), extra], vec![]);
    let breaches = report(&over, monday).breaches;
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    let breach = &breaches[0];
    assert_eq!(breach.rule, WorkingTimeRule::AverageWeeklyWork);
    // Seventeen local weeks, each boundary converted on its own: CET at the start, CEST at the end.
    assert_eq!(breach.window, local_window("2026-02-02T00:00", "2026-06-01T00:00"));
    assert_eq!(breach.measured, (hours(48) * 17 + minutes(1)) / 17);
    assert_eq!(breach.limit, hours(48));
    assert_eq!(ids(breach), ["extra", "weekdays"]);
}

#[test]
fn the_reference_weeks_are_a_setting() {
    let monday = local_window("2026-06-01T00:00", "2026-06-02T00:00");
    // 48 hours a week for 17 weeks, then 60 in the last one.
    let late = shift("late", "2026-05-30T06:00", "2026-05-30T18:00");
    let roster = roster(vec![forty_eight_hour_weeks(), late], vec![]);
    let mut rules = WorkingTimeRules::directive_defaults();
    assert_eq!(agent_working_time(&roster, monday, &rules, &WorkingTimeSettings::default()).breaches.len(), 1);
    rules.defaults.reference_weeks = 4;
    let breaches = agent_working_time(&roster, monday, &rules, &WorkingTimeSettings::default()).breaches;
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].window, local_window("2026-05-04T00:00", "2026-06-01T00:00"));
    assert_eq!(breaches[0].measured, (hours(48) * 4 + hours(12)) / 4);
}

#[test]
fn night_work_is_counted_per_week_and_makes_a_night_worker_across_the_spring_night() {
    // 22:00-06:00 every night of the week of the spring change (29 March 2026).
    let nights = recurring("nights", "2026-03-23T22:00", Time::constant(6, 0, 0, 0), "FREQ=DAILY;COUNT=7");
    let roster = roster(vec![nights], vec![]);
    let result = report(&roster, local_window("2026-03-23T00:00", "2026-03-30T00:00"));
    assert_eq!(result.weeks.len(), 1);
    let week = &result.weeks[0];
    // Seven nights of 8 hours, but the one into Sunday 29 March lasts 7; night time (23:00-06:00)
    // is 7 hours a night, 6 on that one; the last night ends on the next week's Monday.
    assert_eq!(week.week, local_window("2026-03-23T00:00", "2026-03-30T00:00"));
    assert_eq!(week.worked, hours(8) * 5 + hours(7) + hours(2));
    assert_eq!(week.night, hours(7) * 5 + hours(6) + hours(1));
    assert_eq!(result.worked, week.worked);
    assert_eq!((result.working_days, result.night_working_days, result.night_worker), (7, 7, true));
    // Seven nights in a row: the 168 hours from the first end at 23:00 on Monday 30 March (the
    // clocks went forward), so the longest rest in them is the 17 hours after the last night, one
    // weekly rest breach; from the second night on, the rest after the last night is long enough.
    let breaches: Vec<_> =
        result.breaches.iter().map(|breach| (breach.rule, breach.window.start(), breach.measured)).collect();
    assert_eq!(breaches, [(WorkingTimeRule::WeeklyRest, brussels("2026-03-23T22:00"), hours(17))]);
}

#[test]
fn a_day_worker_with_a_few_night_shifts_is_not_a_night_worker() {
    let mut shifts: Vec<Shift> = (1..=5)
        .map(|day| shift(&format!("d{day}"), &format!("2026-06-0{day}T09:00"), &format!("2026-06-0{day}T17:00")))
        .collect();
    shifts.push(shift("n6", "2026-06-06T22:00", "2026-06-07T04:00"));
    shifts.push(shift("n7", "2026-06-07T22:30", "2026-06-08T01:30"));
    let result = report(&roster(shifts, vec![]), local_window("2026-06-01T00:00", "2026-06-08T00:00"));
    // Saturday's holds 5 hours of night time, Sunday's 2 h 30 min (1 hour of it in this week):
    // one night-working day of seven.
    assert_eq!((result.working_days, result.night_working_days, result.night_worker), (7, 1, false));
    assert_eq!(result.weeks[0].night, hours(6));
}

#[test]
fn pager_shifts_are_work_unless_their_source_is_standby() {
    let mut pager = shift("pager", "2026-06-02T06:00", "2026-06-02T12:00");
    pager.severities = SeveritySet::from_severities([Severity::Sev1]);
    pager.source = Some("pagerduty".into());
    let roster = roster(vec![shift("mon", "2026-06-01T08:00", "2026-06-01T21:00"), pager], vec![]);
    let window = local_window(JUNE.0, JUNE.1);
    let rules = WorkingTimeRules::directive_defaults();
    let counted = agent_working_time(&roster, window, &rules, &WorkingTimeSettings::default());
    assert_eq!(counted.breaches.len(), 1);
    assert_eq!(counted.worked, hours(13 + 6));
    let standby = WorkingTimeSettings { standby_pager_sources: ["pagerduty".to_owned()].into(), ..Default::default() };
    let result = agent_working_time(&roster, window, &rules, &standby);
    assert_eq!(result.breaches, vec![]);
    assert_eq!(result.worked, hours(13));
    // A shift for every severity from the same source is work all the same.
    let mut full = shift("full", "2026-06-02T06:00", "2026-06-02T12:00");
    full.source = Some("pagerduty".into());
    assert!(standby.counts_as_work(&full));
}

#[test]
fn a_change_reports_only_the_breaches_it_introduces() {
    let before = roster(
        vec![
            shift("mon", "2026-06-01T08:00", "2026-06-01T21:00"),
            shift("tue", "2026-06-02T07:00", "2026-06-02T12:00"),
        ],
        vec![],
    );
    let rules = WorkingTimeRules::directive_defaults();
    let settings = WorkingTimeSettings::default();
    // Tuesday's early start is a breach already; adding a late Wednesday shift that leaves 10
    // hours before Thursday introduces one more.
    let mut shifts = before.shifts.clone();
    shifts.push(shift("wed", "2026-06-03T14:00", "2026-06-03T23:00"));
    shifts.push(shift("thu", "2026-06-04T09:00", "2026-06-04T12:00"));
    let after = roster(shifts, vec![]);
    let changed = local_window("2026-06-03T14:00", "2026-06-04T12:00");
    let introduced = introduced_breaches(Some(&before), &after, changed, &rules, &settings);
    assert_eq!(introduced.len(), 1, "{introduced:?}");
    assert_eq!(introduced[0].window.start(), brussels("2026-06-03T14:00"));
    assert_eq!(introduced[0].measured, hours(10));
    // A new agent's breaches are all new.
    assert_eq!(
        introduced_breaches(None, &before, interval("2026-06-01T00:00:00Z", "2026-06-03T00:00:00Z"), &rules, &settings)
            .len(),
        1
    );
}

#[test]
fn an_upsert_warns_agent_by_agent_in_id_order_on_any_number_of_threads() {
    // 40 agents with Monday's late shift stored; the upsert gives every third one an early
    // Tuesday start (10 hours of rest), and the others a Tuesday start that leaves 11.
    let agent_ids: Vec<String> = (0..40).map(|index| format!("agent-{index:02}")).collect();
    let of = |agent_id: &str, mut shift: Shift| {
        shift.shift_id = format!("{agent_id}-{}", shift.shift_id).as_str().into();
        shift.agent_id = agent_id.into();
        shift
    };
    let stored: Vec<Shift> =
        agent_ids.iter().map(|agent_id| of(agent_id, shift("mon", "2026-06-01T08:00", "2026-06-01T21:00"))).collect();
    let agents = agent_ids.iter().map(|agent_id| agent(agent_id, "BE", &[])).collect();
    let before = Roster::build(vec![], agents, stored, vec![], vec![]);
    let upserted: Vec<Shift> = agent_ids
        .iter()
        .enumerate()
        .map(|(index, agent_id)| {
            let start = if index % 3 == 0 { "2026-06-02T07:00" } else { "2026-06-02T08:00" };
            of(agent_id, shift("tue", start, "2026-06-02T12:00"))
        })
        .collect();
    let rules = WorkingTimeRules::directive_defaults();
    let settings = WorkingTimeSettings::default();
    let bound = local_window("2026-05-01T00:00", "2026-07-01T00:00");
    let warned = |parallelism| upsert_warnings(&before, &upserted, bound, (&rules, &settings), parallelism);
    let sequential = warned(Parallelism::SEQUENTIAL);
    let warned_agents: Vec<&str> = sequential.iter().map(|warning| warning.agent_id.as_str()).collect();
    let expected: Vec<&str> = agent_ids.iter().step_by(3).map(String::as_str).collect();
    assert_eq!(warned_agents, expected);
    assert!(sequential.iter().all(|warning| warning.breach.measured == hours(10)), "{sequential:?}");
    for n_threads in [2, 3, 8] {
        let parallelism = Parallelism::new(std::num::NonZeroUsize::new(n_threads).unwrap());
        assert_eq!(warned(parallelism), sequential, "{n_threads} threads");
    }
}

#[test]
fn the_default_agents_are_those_located_or_working_in_the_eea_during_the_window() {
    let facts = PolicyFacts::parse(DEFAULT_POLICY_FACTS).unwrap();
    let window = local_window(JUNE.0, JUNE.1);
    let in_eea = AgentRoster::new(agent("a", "BE", &[]), vec![], vec![]);
    let in_us = AgentRoster::new(agent("a", "US", &[]), vec![], vec![]);
    let moves_in = AgentRoster::new(agent("a", "US", &[("2026-06-10T00:00:00Z", "DE")]), vec![], vec![]);
    let mut trip = shift("trip", "2026-06-03T08:00", "2026-06-03T16:00");
    trip.country = Some(crate::domain::country::Country::parse("FR").unwrap());
    let travels = AgentRoster::new(agent("a", "US", &[]), vec![trip], vec![]);
    assert!(works_from_eea(&facts, &in_eea, window));
    assert!(!works_from_eea(&facts, &in_us, window));
    assert!(works_from_eea(&facts, &moves_in, window));
    assert!(works_from_eea(&facts, &travels, window));
}

#[test]
fn a_country_s_own_values_apply_to_the_agents_located_there() {
    let text = format!(
        "{DEFAULT_POLICY_FACTS}\n[[working_time.countries]]\ncode = \"BE\"\ndaily_rest_hours = 12\nsource = \"a test\"\n"
    );
    let facts = PolicyFacts::parse(&text).unwrap();
    let roster = roster(
        vec![
            shift("mon", "2026-06-01T08:00", "2026-06-01T20:00"),
            shift("tue", "2026-06-02T07:30", "2026-06-02T12:00"),
        ],
        vec![],
    );
    let window = local_window(JUNE.0, JUNE.1);
    let settings = WorkingTimeSettings::default();
    assert_eq!(report(&roster, window).breaches, vec![]);
    let breaches = agent_working_time(&roster, window, &facts.working_time, &settings).breaches;
    assert_eq!(breaches.len(), 1);
    assert_eq!((breaches[0].measured, breaches[0].limit), (minutes(11 * 60 + 30), hours(12)));
}

#[test]
fn the_policy_file_s_working_time_section_is_checked_field_by_field() {
    let parse = |section: &str| {
        let text = DEFAULT_POLICY_FACTS
            .replace("night_worker_min_night_hours = 3\n", &format!("night_worker_min_night_hours = 3\n{section}\n"));
        PolicyFacts::parse(&text).map(|facts| facts.working_time)
    };
    let shipped = parse("").unwrap();
    assert_eq!(shipped.defaults, WorkingTimeLimits::directive_defaults());
    assert_eq!(shipped.defaults.night_starts, Time::constant(23, 0, 0, 0));
    assert_eq!(shipped.countries().count(), 0);
    let problems = [
        ("[[working_time.countries]]\ncode = \"FR\"\nsource = \"\"", "working_time.countries[0].source"),
        ("[[working_time.countries]]\ncode = \"XX\"\nsource = \"s\"", "working_time.countries[0].code"),
        (
            "[[working_time.countries]]\ncode = \"FR\"\nsource = \"s\"\nreference_weeks = 30",
            "working_time.countries[0].reference_weeks",
        ),
        (
            "[[working_time.countries]]\ncode = \"FR\"\nsource = \"s\"\nnight_starts = \"25:00\"",
            "working_time.countries[0].night_starts",
        ),
        (
            "[[working_time.countries]]\ncode = \"FR\"\nsource = \"s\"\ndaily_rest_hours = -1",
            "working_time.countries[0].daily_rest_hours",
        ),
    ];
    for (section, location) in problems {
        let error = parse(section).unwrap_err();
        assert_eq!(error.location, location, "{section}: {error}");
    }
    assert!(parse("[[working_time.countries]]\ncode = \"FR\"\nsource = \"s\"\nbogus = 1").is_err());
    let france = parse("[[working_time.countries]]\ncode = \"FR\"\nsource = \"Code du travail\"\nmax_average_weekly_hours = 44\nreference_weeks = 12").unwrap();
    let limits = france.for_country(crate::domain::country::Country::parse("FR").unwrap());
    assert_eq!((limits.max_average_weekly_work, limits.reference_weeks, limits.daily_rest), (hours(44), 12, hours(11)));
    assert_eq!(france.longest_reference_weeks(), 17);
}

/// An independent model of the rules: a grid of 15-minute cells from Monday 23 March 2026 00:00
/// in Brussels (the week of the spring change) over five weeks, each cell worked or not, and
/// every rule read off the grid cell by cell, local times taken cell by cell.
mod model {
    use super::*;

    pub const CELL_MINUTES: i64 = 15;
    pub const CELLS: usize = 5 * 7 * 24 * 4;

    pub fn base() -> Instant {
        brussels("2026-03-23T00:00")
    }

    pub fn cell_start(cell: usize) -> Instant {
        base() + SignedDuration::from_mins(cell as i64 * CELL_MINUTES)
    }

    pub fn cell_of(instant: Instant) -> usize {
        (instant.duration_since(base()).as_mins() / CELL_MINUTES) as usize
    }

    pub struct Grid {
        pub worked: Vec<bool>,
    }

    impl Grid {
        pub fn new(shifts: &[(usize, usize)], time_off: &[(usize, usize)]) -> Grid {
            let mut worked = vec![false; CELLS];
            for (start, end) in shifts {
                worked[*start..*end].iter_mut().for_each(|cell| *cell = true);
            }
            for (start, end) in time_off {
                worked[*start..*end].iter_mut().for_each(|cell| *cell = false);
            }
            Grid { worked }
        }

        pub fn longest_rest(&self, from: usize, to: usize) -> SignedDuration {
            let (mut longest, mut run) = (0, 0);
            for cell in from..to {
                run = if self.worked.get(cell).copied().unwrap_or(false) { 0 } else { run + 1 };
                longest = longest.max(run);
            }
            SignedDuration::from_mins(longest * CELL_MINUTES)
        }

        pub fn worked_between(&self, from: usize, to: usize) -> SignedDuration {
            let cells = (from..to).filter(|cell| self.worked.get(*cell).copied().unwrap_or(false)).count();
            SignedDuration::from_mins(cells as i64 * CELL_MINUTES)
        }

        pub fn night_between(&self, from: usize, to: usize) -> SignedDuration {
            let night = |cell: usize| {
                let time = Zone::brussels().to_local(cell_start(cell)).time();
                time >= Time::constant(23, 0, 0, 0) || time < Time::constant(6, 0, 0, 0)
            };
            let cells =
                (from..to).filter(|cell| self.worked.get(*cell).copied().unwrap_or(false) && night(*cell)).count();
            SignedDuration::from_mins(cells as i64 * CELL_MINUTES)
        }
    }
}

mod agrees_with_the_model {
    use proptest::prelude::*;

    use super::model::{cell_of, cell_start, Grid, CELLS};
    use super::*;

    /// Shifts and time off as (first cell, cells), inside the first three weeks.
    fn periods(max: usize, longest: usize) -> impl Strategy<Value = Vec<(usize, usize)>> {
        proptest::collection::vec((0..3 * 7 * 96_usize, 1..=longest), 0..=max)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_rule_and_figure_matches_the_model(
            drawn_shifts in periods(14, 64),
            drawn_time_off in periods(2, 96),
            (window_first, window_cells) in (0..2 * 7 * 96_usize, 1..7 * 96_usize),
        ) {
            let spans = |periods: &[(usize, usize)]| -> Vec<(usize, usize)> {
                periods.iter().map(|(first, cells)| (*first, first + cells)).collect()
            };
            let (shift_cells, time_off_cells) = (spans(&drawn_shifts), spans(&drawn_time_off));
            let interval = |(start, end): (usize, usize)| Interval::new(cell_start(start), cell_start(end)).unwrap();
            let roster = roster(
                shift_cells
                    .iter()
                    .enumerate()
                    .map(|(idx, cells)| Shift {
                        schedule: Schedule::OneOff(interval(*cells)),
                        ..shift(&format!("s{idx:02}"), "2026-01-01T00:00", "2026-01-01T01:00")
                    })
                    .collect(),
                time_off_cells
                    .iter()
                    .enumerate()
                    .map(|(idx, cells)| TimeOff { period: interval(*cells), ..time_off(&format!("t{idx}"), "2026-01-01T00:00", "2026-01-01T01:00") })
                    .collect(),
            );
            let window_cells = (window_first, window_first + window_cells);
            let window = interval(window_cells);
            // One reference week, so the average weekly limit can be broken in a few weeks.
            let mut rules = WorkingTimeRules::directive_defaults();
            rules.defaults.reference_weeks = 1;
            let answer = agent_working_time(&roster, window, &rules, &WorkingTimeSettings::default());

            let grid = Grid::new(&shift_cells, &time_off_cells);
            let mut expected = Vec::new();
            let mut starts: Vec<usize> = shift_cells.iter().map(|(start, _)| *start).collect();
            starts.sort_unstable();
            starts.dedup();
            for start in starts.into_iter().filter(|start| (window_cells.0..window_cells.1).contains(start)) {
                for (rule, hours_long, limit) in [(WorkingTimeRule::DailyRest, 24, 11), (WorkingTimeRule::WeeklyRest, 168, 35)] {
                    let rest = grid.longest_rest(start, start + hours_long * 4);
                    if rest < hours(limit as i64) {
                        expected.push((cell_start(start), rule, rest));
                    }
                }
            }
            // Local Mondays 00:00 inside the window: the grid's Mondays, one week apart (the
            // base is a local Monday, and every cell is local time read on its own).
            for monday in (0..CELLS).filter(|cell| {
                let local = Zone::brussels().to_local(cell_start(*cell));
                local.weekday() == jiff::civil::Weekday::Monday && local.time() == Time::midnight()
            }) {
                if !(window_cells.0..window_cells.1).contains(&monday) {
                    continue;
                }
                let week_before = cell_of(Zone::brussels().to_instant(
                    Zone::brussels().to_local(cell_start(monday)).date().checked_sub(jiff::Span::new().days(7)).unwrap().at(0, 0, 0, 0),
                ));
                let average = grid.worked_between(week_before, monday);
                if average > hours(48) {
                    expected.push((cell_start(monday), WorkingTimeRule::AverageWeeklyWork, average));
                }
            }
            expected.sort_by_key(|(start, rule, _)| (*start, *rule));
            let got: Vec<_> = answer.breaches.iter().map(|breach| (breach.checked_at(), breach.rule, breach.measured)).collect();
            prop_assert_eq!(got, expected);
            // What a write's warnings compare: the same breaches, found without the report.
            prop_assert_eq!(&agent_breaches(&roster, window, &rules, &WorkingTimeSettings::default()), &answer.breaches);

            prop_assert_eq!(answer.worked, grid.worked_between(window_cells.0, window_cells.1));
            prop_assert_eq!(answer.night, grid.night_between(window_cells.0, window_cells.1));
            for week in &answer.weeks {
                let (first, last) = (cell_of(week.week.start()), cell_of(week.week.end()));
                prop_assert_eq!(week.worked, grid.worked_between(first, last));
                prop_assert_eq!(week.night, grid.night_between(first, last));
            }
        }
    }
}

mod breaches_alone {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Under the directive's own reference periods, with weekly recurring shifts that may
        /// break every rule: the breaches found without the report are the report's.
        #[test]
        fn are_the_reports_breaches(
            start_hour in 0..24_i8,
            hours_long in 1..16_i8,
            days in proptest::sample::subsequence(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU"], 1..=7),
            one_off in proptest::option::of((0..60_i64, 1..30_i64)),
            (window_day, window_days) in (0..120_i64, 1..60_i64),
        ) {
            let end = Time::new((start_hour + hours_long) % 24, 0, 0, 0).unwrap();
            let rrule = format!("FREQ=WEEKLY;BYDAY={}", days.join(","));
            let mut shifts = vec![recurring("r", &format!("2026-01-05T{start_hour:02}:00"), end, &rrule)];
            if let Some((day, hours)) = one_off {
                let from = brussels("2026-02-02T08:00") + SignedDuration::from_hours(24 * day);
                shifts.push(Shift {
                    schedule: Schedule::OneOff(Interval::following(from, SignedDuration::from_hours(hours)).unwrap()),
                    ..shift("x", "2026-01-01T00:00", "2026-01-01T01:00")
                });
            }
            let roster = roster(shifts, vec![time_off("t", "2026-03-02T00:00", "2026-03-09T00:00")]);
            let from = brussels("2026-01-01T00:00") + SignedDuration::from_hours(24 * window_day);
            let window = Interval::following(from, SignedDuration::from_hours(24 * window_days)).unwrap();
            let rules = WorkingTimeRules::directive_defaults();
            let settings = WorkingTimeSettings::default();
            prop_assert_eq!(
                agent_breaches(&roster, window, &rules, &settings),
                agent_working_time(&roster, window, &rules, &settings).breaches
            );
        }
    }
}

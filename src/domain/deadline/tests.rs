//! `../shared/reference-cases.md` ("SLA clock in service time"), the edge cases the contract
//! names, and a step-by-step model of both clocks.

use jiff::SignedDuration;
use proptest::prelude::*;

use super::*;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::fixtures::{eea_only_org_snapshot, instant, interval, one_off};
use crate::domain::parallel::Parallelism;
use crate::domain::policy::{Severity, TicketCategory};
use crate::domain::roster::Shift;

fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

/// Someone eligible is on shift at every instant of 2025-2034: only the calendar decides.
fn always_staffed(holidays: HolidayCalendar) -> Snapshot {
    eea_only_org_snapshot(holidays, vec![one_off("always", "ie-1", "2025-01-01T00:00:00Z", "2034-01-01T00:00:00Z")])
}

fn ask(
    snapshot: &Snapshot,
    severity: Severity,
    started: &str,
    target: SignedDuration,
    pauses: &[(&str, &str)],
    at: &str,
) -> Result<Deadline, DeadlineError> {
    let pauses: Vec<Interval> = pauses.iter().map(|(start, end)| interval(start, end)).collect();
    let question = DeadlineQuestion {
        ticket: TicketQuestion {
            org_id: "acme",
            ticket_id: "T-1",
            severity,
            category: TicketCategory::ProductSupport,
            at: instant(at),
        },
        clock_started_at: instant(started),
        target,
        pauses: &pauses,
    };
    compute_deadline(snapshot, &question)
}

fn due(deadline: &Result<Deadline, DeadlineError>) -> Instant {
    deadline.as_ref().expect("a deadline").service.due_at.expect("a due instant")
}

/// Clock start, target in hours, holidays, pauses, due.
type ReferenceCase = (&'static str, i64, HolidayCalendar, &'static [(&'static str, &'static str)], &'static str);

#[test]
fn the_reference_cases_fall_due_when_the_table_says() {
    let cases: [ReferenceCase; 6] = [
        ("2026-12-04T15:30:00Z", 4, HolidayCalendar::None, &[], "2026-12-07T10:30:00Z"),
        ("2026-12-05T10:00:00Z", 4, HolidayCalendar::None, &[], "2026-12-07T12:00:00Z"),
        ("2026-10-23T15:00:00Z", 3, HolidayCalendar::None, &[], "2026-10-26T10:00:00Z"),
        ("2027-03-25T15:00:00Z", 8, HolidayCalendar::None, &[], "2027-03-26T14:00:00Z"),
        ("2027-03-25T15:00:00Z", 8, HolidayCalendar::Target2, &[], "2027-03-30T13:00:00Z"),
        (
            "2026-12-07T08:00:00Z",
            4,
            HolidayCalendar::None,
            &[("2026-12-07T09:00:00Z", "2026-12-07T13:00:00Z")],
            "2026-12-07T16:00:00Z",
        ),
    ];
    for (started, target_hours, holidays, pauses, expected) in cases {
        let snapshot = always_staffed(holidays);
        // Read after the pauses, so they count.
        let deadline = ask(&snapshot, Severity::Sev3, started, hours(target_hours), pauses, "2027-06-01T00:00:00Z");
        assert_eq!(due(&deadline), instant(expected), "{started} + {target_hours} h ({holidays:?})");
        let deadline = deadline.unwrap();
        assert_eq!(deadline.staffed, deadline.service, "always staffed: the clocks agree");
        assert!(deadline.service.breached && deadline.service.elapsed > hours(target_hours));
    }
}

#[test]
fn sev1_counts_real_time_across_the_spring_change() {
    let snapshot = always_staffed(HolidayCalendar::None);
    let deadline = ask(&snapshot, Severity::Sev1, "2026-03-28T23:30:00Z", hours(4), &[], "2026-03-29T01:30:00Z");
    assert_eq!(due(&deadline), instant("2026-03-29T03:30:00Z"));
    let deadline = deadline.unwrap();
    assert!(deadline.around_the_clock);
    assert_eq!((deadline.service.elapsed, deadline.service.remaining), (hours(2), hours(2)));
    assert!(!deadline.service.breached);
}

#[test]
fn the_staffed_clock_waits_for_someone_eligible_on_shift() {
    // Monday 7 December 2026: the window opens at 08:00Z; the agent works 10:00Z-11:00Z, and
    // from 14:00Z to 18:00Z.
    let snapshot = eea_only_org_snapshot(
        HolidayCalendar::None,
        vec![
            one_off("late-morning", "ie-1", "2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z"),
            one_off("afternoon", "ie-1", "2026-12-07T14:00:00Z", "2026-12-07T18:00:00Z"),
        ],
    );
    for snapshot in
        [snapshot.clone(), snapshot.with_timelines(instant("2026-12-07T00:00:00Z"), Parallelism::SEQUENTIAL)]
    {
        let deadline =
            ask(&snapshot, Severity::Sev2, "2026-12-07T08:00:00Z", hours(2), &[], "2026-12-07T12:00:00Z").unwrap();
        assert_eq!(deadline.service.due_at, Some(instant("2026-12-07T10:00:00Z")));
        assert!(deadline.service.breached);
        assert_eq!(deadline.service.elapsed, hours(4));
        // One staffed hour before noon, the second from 14:00Z.
        assert_eq!(deadline.staffed.due_at, Some(instant("2026-12-07T15:00:00Z")));
        assert_eq!((deadline.staffed.elapsed, deadline.staffed.remaining), (hours(1), hours(1)));
        assert!(!deadline.staffed.breached);
    }
}

#[test]
fn with_nobody_eligible_the_staffed_clock_has_no_due_instant_and_is_not_an_error() {
    let snapshot = eea_only_org_snapshot(HolidayCalendar::None, vec![]);
    let deadline =
        ask(&snapshot, Severity::Sev3, "2026-12-07T08:00:00Z", hours(4), &[], "2026-12-08T08:00:00Z").unwrap();
    assert_eq!(deadline.service.due_at, Some(instant("2026-12-07T12:00:00Z")));
    assert_eq!(deadline.staffed.due_at, None);
    assert_eq!((deadline.staffed.elapsed, deadline.staffed.remaining), (SignedDuration::ZERO, hours(4)));
    assert!(!deadline.staffed.breached);
}

#[test]
fn the_edge_cases_of_the_contract() {
    let snapshot = always_staffed(HolidayCalendar::None);
    // Started on a Saturday with a target of zero: due when the clock starts, Monday 09:00 CET.
    let zero =
        ask(&snapshot, Severity::Sev3, "2026-12-05T10:00:00Z", SignedDuration::ZERO, &[], "2026-12-05T11:00:00Z");
    assert_eq!(due(&zero), instant("2026-12-07T08:00:00Z"));
    assert!(!zero.unwrap().service.breached);
    // At the due instant itself the target has run out.
    let at_due = ask(&snapshot, Severity::Sev3, "2026-12-07T08:00:00Z", hours(1), &[], "2026-12-07T09:00:00Z").unwrap();
    assert_eq!(at_due.service.due_at, Some(instant("2026-12-07T09:00:00Z")));
    assert!(at_due.service.breached);
    assert_eq!(at_due.service.remaining, SignedDuration::ZERO);
    // Overlapping pauses count once.
    let overlapping =
        [("2026-12-07T09:00:00Z", "2026-12-07T11:00:00Z"), ("2026-12-07T10:00:00Z", "2026-12-07T12:00:00Z")];
    let merged = ask(&snapshot, Severity::Sev3, "2026-12-07T08:00:00Z", hours(4), &overlapping, "2026-12-08T00:00:00Z");
    assert_eq!(due(&merged), instant("2026-12-07T15:00:00Z"));
    // A pause that runs past `at` stops the clock only up to `at`.
    let ongoing = [("2026-12-07T09:00:00Z", "2026-12-07T20:00:00Z")];
    let read_at_ten =
        ask(&snapshot, Severity::Sev3, "2026-12-07T08:00:00Z", hours(4), &ongoing, "2026-12-07T10:00:00Z");
    let deadline = read_at_ten.as_ref().unwrap();
    assert_eq!(deadline.service.elapsed, hours(1));
    assert_eq!(due(&read_at_ten), instant("2026-12-07T13:00:00Z"));
    // A clock read before it started has counted nothing.
    let early = ask(&snapshot, Severity::Sev3, "2026-12-07T08:00:00Z", hours(4), &[], "2026-12-06T08:00:00Z").unwrap();
    assert_eq!((early.service.elapsed, early.service.remaining), (SignedDuration::ZERO, hours(4)));
    // More business hours than a year holds, and a clock read too long after its start.
    let too_far = ask(&snapshot, Severity::Sev3, "2026-12-07T08:00:00Z", hours(3000), &[], "2026-12-07T09:00:00Z");
    assert_eq!(too_far, Err(DeadlineError::DueBeyondSearch));
    let too_late = ask(&snapshot, Severity::Sev3, "2026-01-01T08:00:00Z", hours(4), &[], "2027-01-03T09:00:00Z");
    assert_eq!(too_late, Err(DeadlineError::StartedTooLongBefore));
    let unknown = DeadlineQuestion {
        ticket: TicketQuestion { org_id: "nobody", ..ask_question_ticket() },
        clock_started_at: instant("2026-12-07T08:00:00Z"),
        target: hours(1),
        pauses: &[],
    };
    assert_eq!(
        compute_deadline(&snapshot, &unknown),
        Err(DeadlineError::Decision(DecisionError::UnknownOrg("nobody".into())))
    );
}

fn ask_question_ticket() -> TicketQuestion<'static> {
    TicketQuestion {
        org_id: "acme",
        ticket_id: "T-1",
        severity: Severity::Sev3,
        category: TicketCategory::ProductSupport,
        at: instant("2026-12-07T09:00:00Z"),
    }
}

/// The model's step: shifts, pauses, starts, targets and reading instants are whole steps.
const STEP: SignedDuration = SignedDuration::from_secs(15 * 60);
const STEPS_A_DAY: i64 = 24 * 4;
/// How far the model looks from the clock's start.
const MODEL_DAYS: i64 = 24;
/// Monday 30 November 2026, 00:00 UTC.
const MODEL_DAY_ZERO: &str = "2026-11-30T00:00:00Z";

fn model_step(step: i64) -> Instant {
    instant(MODEL_DAY_ZERO).saturating_add(STEP * step as i32).unwrap()
}

/// The Irish agent's one-off shifts, each drawn as (first step, length in steps).
fn step_shifts(drawn: &[(i64, i64)]) -> Vec<Shift> {
    drawn
        .iter()
        .enumerate()
        .map(|(shift_idx, (from, length))| {
            let (start, end) = (model_step(*from), model_step(from + length));
            one_off(&format!("s{shift_idx}"), "ie-1", &start.to_string(), &end.to_string())
        })
        .collect()
}

/// Both clocks stepped a quarter of an hour at a time: a step counts when the window is open (asked of the
/// decision for that step), no pause covers it, and, for the staffed clock, someone eligible
/// is on shift. Returns each clock's (due step, elapsed steps at `at`).
fn model(
    snapshot: &Snapshot,
    severity: Severity,
    start: i64,
    target: i64,
    pauses: &[(i64, i64)],
    at: i64,
) -> [(Option<i64>, i64); 2] {
    let paused = |step: i64| pauses.iter().any(|(from, to)| *from <= step && step < *to && step < at);
    let mut clocks = [(None, 0i64), (None, 0i64)];
    let mut counted = [0i64; 2];
    for step in start..(start + MODEL_DAYS * STEPS_A_DAY) {
        let decision = crate::domain::decision::decide_ticket(
            snapshot,
            &TicketQuestion { at: model_step(step), severity, ..ask_question_ticket() },
        )
        .unwrap();
        let counts = [decision.in_service_hours && !paused(step), decision.handle_now && !paused(step)];
        for clock in 0..2 {
            if !counts[clock] {
                continue;
            }
            if clocks[clock].0.is_none() && counted[clock] == target {
                clocks[clock].0 = Some(step);
            }
            counted[clock] += 1;
            if clocks[clock].0.is_none() && counted[clock] == target {
                clocks[clock].0 = Some(step + 1);
            }
            if step < at {
                clocks[clock].1 += 1;
            }
        }
    }
    clocks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The clocks against the step-by-step model, over shifts with gaps, pauses and both kinds
    /// of hours, across the TARGET2 Christmas closing days.
    #[test]
    fn both_clocks_agree_with_a_step_by_step_model(
        shifts in prop::collection::vec((0i64..(20 * STEPS_A_DAY), 2i64..48), 0..12),
        start in 0i64..(14 * STEPS_A_DAY),
        target in 0i64..(30 * 4),
        pauses in prop::collection::vec((0i64..(20 * STEPS_A_DAY), 1i64..32), 0..3),
        read_after in 0i64..(10 * STEPS_A_DAY),
        sev1 in any::<bool>(),
    ) {
        let shifts = step_shifts(&shifts);
        let snapshot = eea_only_org_snapshot(HolidayCalendar::Target2, shifts);
        let severity = if sev1 { Severity::Sev1 } else { Severity::Sev3 };
        let pauses: Vec<(i64, i64)> = pauses.iter().map(|(from, length)| (*from, from + length)).collect();
        let at = start + read_after;
        let pause_intervals: Vec<Interval> =
            pauses.iter().map(|(from, to)| Interval::new(model_step(*from), model_step(*to)).unwrap()).collect();
        let question = DeadlineQuestion {
            ticket: TicketQuestion { at: model_step(at), severity, ..ask_question_ticket() },
            clock_started_at: model_step(start),
            target: STEP * target as i32,
            pauses: &pause_intervals,
        };
        let deadline = compute_deadline(&snapshot, &question).unwrap();
        let expected = model(&snapshot, severity, start, target, &pauses, at);
        for (reading, (due_step, elapsed_steps)) in [deadline.service, deadline.staffed].iter().zip(expected) {
            // The model looks MODEL_DAYS ahead; beyond, it has no answer to compare.
            if let Some(due_step) = due_step {
                prop_assert_eq!(reading.due_at, Some(model_step(due_step)));
            } else {
                prop_assert!(reading.due_at.is_none_or(|due| due >= model_step(start + MODEL_DAYS * STEPS_A_DAY)));
            }
            prop_assert_eq!(reading.elapsed, STEP * elapsed_steps as i32);
            prop_assert_eq!(reading.remaining, (STEP * target as i32 - reading.elapsed).max(SignedDuration::ZERO));
            prop_assert_eq!(reading.breached, reading.due_at.is_some_and(|due| due <= model_step(at)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Clocks that reach past the timelines answer the same whether each expands the shifts
    /// beyond on its own or a batch shares them.
    #[test]
    fn a_batch_sharing_what_lies_beyond_the_timelines_answers_as_each_ticket_alone(
        shifts in prop::collection::vec((0i64..(70 * STEPS_A_DAY), 2i64..48), 0..40),
        tickets in prop::collection::vec((0i64..(60 * STEPS_A_DAY), 0i64..(80 * 4), 0i64..(5 * STEPS_A_DAY), 0usize..3), 1..12),
    ) {
        let shifts = step_shifts(&shifts);
        // Timelines reach about five weeks past day zero; the tickets run to nine weeks past it.
        let snapshot = eea_only_org_snapshot(HolidayCalendar::Target2, shifts).with_timelines(model_step(0), Parallelism::SEQUENTIAL);
        let mut beyond = BeyondTimelines::default();
        for (start, target, read_after, severity_idx) in tickets {
            let question = DeadlineQuestion {
                ticket: TicketQuestion {
                    at: model_step(start + read_after),
                    severity: [Severity::Sev1, Severity::Sev2, Severity::Sev4][severity_idx],
                    ..ask_question_ticket()
                },
                clock_started_at: model_step(start),
                target: STEP * target as i32,
                pauses: &[],
            };
            prop_assert_eq!(
                compute_deadline_in_batch(&snapshot, &question, &mut beyond),
                compute_deadline(&snapshot, &question)
            );
        }
    }
}

//! The one window check gives each of its three callers' answers: a sync's header, a coverage
//! report's window, a list's optional filter.

use super::*;

const SYNC: WindowRules = WindowRules {
    start_field: "header.window_start",
    end_field: "header.window_end",
    longest: Some(LongestWindow { max_days: 366, description: "a sync window spans at most 366 days" }),
    reporting: WindowReporting::Every,
};
const REPORT: WindowRules = WindowRules {
    start_field: "window_start",
    end_field: "window_end",
    longest: Some(LongestWindow { max_days: 366, description: "the window may span at most 366 days" }),
    reporting: WindowReporting::Every,
};
const FILTER: WindowRules = WindowRules {
    start_field: "window.start_at",
    end_field: "window.end_at",
    longest: None,
    reporting: WindowReporting::FirstOnly,
};

fn at(text: &str) -> ReceivedInstant {
    ReceivedInstant::Accepted(text.parse().unwrap())
}

/// Checks a window by `rules` after the violations already recorded (`recorded`, as a caller's
/// conversion of the ends would have), against the violations and window expected.
fn check(
    rules: &WindowRules,
    recorded: &[(&str, &str)],
    (start, end): (ReceivedInstant, ReceivedInstant),
    expected_violations: &[(&str, &str)],
    expected_window: Option<(&str, &str)>,
) {
    let mut violations = Violations::default();
    for (field, description) in recorded {
        violations.add(*field, *description);
    }
    let window = check_window(&mut violations, rules, start, end);
    let found: Vec<(&str, &str)> =
        violations.0.iter().map(|violation| (violation.field.as_str(), violation.description.as_str())).collect();
    assert_eq!(found, expected_violations, "{rules:?} {start:?} {end:?}");
    let expected_window =
        expected_window.map(|(start, end)| Interval::new(start.parse().unwrap(), end.parse().unwrap()).unwrap());
    assert_eq!(window, expected_window, "{rules:?} {start:?} {end:?}");
}

use ReceivedInstant::{Missing, Rejected};

const OUT_OF_RANGE: &str = "must be from 1970-01-01 up to 2200-01-01";

#[test]
fn a_window_inside_its_limits_passes_for_every_caller() {
    let ends = (at("2026-01-01T00:00:00Z"), at("2027-01-02T00:00:00Z"));
    for rules in [&SYNC, &REPORT, &FILTER] {
        check(rules, &[], ends, &[], Some(("2026-01-01T00:00:00Z", "2027-01-02T00:00:00Z")));
    }
}

#[test]
fn a_required_window_reports_every_missing_end_after_the_ends_already_rejected() {
    check(
        &SYNC,
        &[],
        (Missing, Missing),
        &[("header.window_start", "is required"), ("header.window_end", "is required")],
        None,
    );
    check(
        &SYNC,
        &[("header.window_start", OUT_OF_RANGE)],
        (Rejected, Missing),
        &[("header.window_start", OUT_OF_RANGE), ("header.window_end", "is required")],
        None,
    );
    check(&REPORT, &[], (at("2026-01-01T00:00:00Z"), Missing), &[("window_end", "is required")], None);
    check(
        &REPORT,
        &[("window_start", OUT_OF_RANGE), ("window_end", OUT_OF_RANGE)],
        (Rejected, Rejected),
        &[("window_start", OUT_OF_RANGE), ("window_end", OUT_OF_RANGE)],
        None,
    );
}

#[test]
fn a_window_ending_before_it_starts_or_spanning_too_long_is_told_so_on_its_end() {
    let backwards = (at("2026-01-02T00:00:00Z"), at("2026-01-01T00:00:00Z"));
    let empty = (at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"));
    let one_second_too_long = (at("2026-01-01T00:00:00Z"), at("2027-01-02T00:00:01Z"));
    check(&SYNC, &[], backwards, &[("header.window_end", "must be after header.window_start")], None);
    check(&SYNC, &[], empty, &[("header.window_end", "must be after header.window_start")], None);
    check(&SYNC, &[], one_second_too_long, &[("header.window_end", "a sync window spans at most 366 days")], None);
    check(&REPORT, &[], backwards, &[("window_end", "must be after window_start")], None);
    check(&REPORT, &[], one_second_too_long, &[("window_end", "the window may span at most 366 days")], None);
    check(&FILTER, &[], backwards, &[("window.end_at", "must be after window.start_at")], None);
    check(&FILTER, &[], one_second_too_long, &[], Some(("2026-01-01T00:00:00Z", "2027-01-02T00:00:01Z")));
}

#[test]
fn a_filter_window_reports_only_its_first_problem() {
    check(&FILTER, &[], (Missing, Missing), &[("window.start_at", "is required when a window is given")], None);
    check(
        &FILTER,
        &[],
        (at("2026-01-01T00:00:00Z"), Missing),
        &[("window.end_at", "is required when a window is given")],
        None,
    );
    check(&FILTER, &[("window.end_at", OUT_OF_RANGE)], (Missing, Rejected), &[("window.end_at", OUT_OF_RANGE)], None);
    check(
        &FILTER,
        &[("window.start_at", OUT_OF_RANGE)],
        (Rejected, at("2026-01-01T00:00:00Z")),
        &[("window.start_at", OUT_OF_RANGE)],
        None,
    );
}

#[test]
fn a_received_instant_is_missing_rejected_or_accepted_by_what_was_sent_and_converted() {
    let instant: Instant = "2026-01-01T00:00:00Z".parse().unwrap();
    let cases =
        [(false, None, Missing), (true, None, Rejected), (true, Some(instant), ReceivedInstant::Accepted(instant))];
    for (was_sent, converted, expected) in cases {
        assert_eq!(ReceivedInstant::new(was_sent, converted), expected, "{was_sent} {converted:?}");
    }
}

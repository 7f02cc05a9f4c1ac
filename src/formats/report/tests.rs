use super::*;

#[test]
fn durations_are_written_exact_to_the_second_in_the_largest_units_that_fit() {
    let check =
        |total_seconds: i64, expected: &str| assert_eq!(duration_text(total_seconds), expected, "{total_seconds} s");
    check(0, "0m 00s");
    check(45 * 60 + 10, "45m 10s");
    check(15 * 3_600, "15h 00m");
    check(15 * 3_600 + 61, "15h 01m 01s");
    check(86_400 + 2 * 3_600 + 30 * 60, "1d 02h 30m");
}

#[test]
fn a_download_is_named_after_its_audience_and_window_in_brussels_dates_or_utc_instants() {
    let check = |plan: pb::Plan, eea_tagged: bool, window: (&str, &str), format: ReportFormat, expected: &str| {
        let timestamp = |text: &str| {
            let instant: Instant = text.parse().expect("an RFC 3339 instant");
            Some(prost_types::Timestamp { seconds: instant.as_second(), nanos: instant.subsec_nanosecond() })
        };
        let report = pb::CoverageReport {
            plan: plan as i32,
            eea_tagged,
            window_start: timestamp(window.0),
            window_end: timestamp(window.1),
            ..pb::CoverageReport::default()
        };
        assert_eq!(file_name(&report, format), expected, "{plan:?} {eea_tagged} {window:?}");
    };
    let winter_week = ("2026-12-06T23:00:00Z", "2026-12-13T23:00:00Z");
    check(pb::Plan::EeaOnly, false, winter_week, ReportFormat::Csv, "coverage-eea-only-2026-12-07-2026-12-14.csv");
    check(pb::Plan::EeaOnly, true, winter_week, ReportFormat::Svg, "coverage-eea-only-2026-12-07-2026-12-14.svg");
    check(
        pb::Plan::Standard,
        true,
        winter_week,
        ReportFormat::Json,
        "coverage-standard-eea-tagged-2026-12-07-2026-12-14.json",
    );
    // Brussels midnight in summer is 22:00 UTC the day before.
    check(
        pb::Plan::Standard,
        false,
        ("2026-06-30T22:00:00Z", "2026-07-31T22:00:00Z"),
        ReportFormat::Csv,
        "coverage-standard-untagged-2026-07-01-2026-08-01.csv",
    );
    // UTC midnight is not Brussels midnight: the instant, without separators.
    check(
        pb::Plan::EeaOnly,
        false,
        ("2026-12-07T00:00:00Z", "2026-12-07T10:30:00Z"),
        ReportFormat::Table,
        "coverage-eea-only-20261207T000000Z-20261207T103000Z.txt",
    );
}

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

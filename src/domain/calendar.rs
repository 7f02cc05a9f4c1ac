//! Business hours: a weekly local window in one zone, minus the days of a holiday calendar.

use jiff::civil::{Date, Time, Weekday};
use jiff::ToSpan;

use super::interval::Interval;
use super::time::{Instant, Zone};

/// A named holiday calendar. Holidays are whole local dates in the business window's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HolidayCalendar {
    /// No holidays.
    None,
    /// The Eurosystem's TARGET2 closing days: 1 January, Good Friday, Easter Monday, 1 May,
    /// 25 and 26 December (Easter by the Gregorian computus, for any year).
    Target2,
}

/// The name is not a known holiday calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown holiday calendar {name:?}: expected \"none\" or \"target2\"")]
pub struct UnknownCalendar {
    pub name: String,
}

impl HolidayCalendar {
    pub const ALL: [HolidayCalendar; 2] = [HolidayCalendar::None, HolidayCalendar::Target2];

    pub fn named(name: &str) -> Result<HolidayCalendar, UnknownCalendar> {
        match name {
            "none" => Ok(HolidayCalendar::None),
            "target2" => Ok(HolidayCalendar::Target2),
            _ => Err(UnknownCalendar { name: name.to_owned() }),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            HolidayCalendar::None => "none",
            HolidayCalendar::Target2 => "target2",
        }
    }

    /// Identifies the rules of the calendar, so a report can say which ones it used.
    pub fn version(&self) -> &'static str {
        match self {
            HolidayCalendar::None => "1",
            HolidayCalendar::Target2 => "1 (Eurosystem closing days since 2002)",
        }
    }

    pub fn description(&self) -> &'static str {
        match self {
            HolidayCalendar::None => "no holidays",
            HolidayCalendar::Target2 => {
                "Eurosystem TARGET2 closing days: 1 January, Good Friday, Easter Monday, 1 May, 25 and 26 December"
            }
        }
    }

    pub fn is_holiday(&self, day: Date) -> bool {
        match self {
            HolidayCalendar::None => false,
            HolidayCalendar::Target2 => {
                let fixed = matches!((day.month(), day.day()), (1, 1) | (5, 1) | (12, 25) | (12, 26));
                let easter = easter_sunday(day.year());
                fixed || day == easter - 2.days() || day == easter + 1.days()
            }
        }
    }

    /// The holidays of one year, in order.
    pub fn holidays_in(&self, year: i16) -> Vec<Date> {
        let Ok(first) = Date::new(year, 1, 1) else {
            return Vec::new();
        };
        (0..first.days_in_year())
            .filter_map(|offset| first.checked_add(i64::from(offset).days()).ok())
            .filter(|day| self.is_holiday(*day))
            .collect()
    }
}

/// Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm).
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, month as i8, day as i8).expect("the computus yields a date in March or April")
}

/// Monday-Friday `[opens, closes)` local time in one zone, closed on the calendar's holidays.
#[derive(Clone, Debug, PartialEq)]
pub struct BusinessWindow {
    pub zone: Zone,
    pub opens: Time,
    pub closes: Time,
    pub holidays: HolidayCalendar,
}

/// How far [`BusinessWindow::next_opening`] looks; any real calendar opens well within it.
const MAX_CLOSED_DAYS: i32 = 366;

impl BusinessWindow {
    /// The policy's window: Monday-Friday 09:00-18:00 `Europe/Brussels`.
    pub fn central_european(holidays: HolidayCalendar) -> BusinessWindow {
        BusinessWindow {
            zone: Zone::brussels(),
            opens: Time::constant(9, 0, 0, 0),
            closes: Time::constant(18, 0, 0, 0),
            holidays,
        }
    }

    pub fn is_business_day(&self, day: Date) -> bool {
        !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.holidays.is_holiday(day)
    }

    /// The day's window as instants; each local boundary is converted on its own, so a DST
    /// change between two days never shifts a boundary.
    fn window_on(&self, day: Date) -> Option<Interval> {
        if !self.is_business_day(day) {
            return None;
        }
        Interval::new(
            self.zone.to_instant(day.to_datetime(self.opens)),
            self.zone.to_instant(day.to_datetime(self.closes)),
        )
    }

    /// The window containing `at`, if the window is open then.
    pub fn window_containing(&self, at: Instant) -> Option<Interval> {
        let day = self.zone.to_local(at).date();
        self.window_on(day).filter(|window| window.contains(at))
    }

    /// The first window that starts at or after `at`.
    pub fn next_opening(&self, at: Instant) -> Option<Interval> {
        let mut day = self.zone.to_local(at).date();
        for _ in 0..=MAX_CLOSED_DAYS {
            if let Some(window) = self.window_on(day) {
                if window.start() >= at {
                    return Some(window);
                }
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// The windows overlapping `range`, clipped to it, in order.
    pub fn windows_within(&self, range: Interval) -> Vec<Interval> {
        let mut windows = Vec::new();
        let mut day = self.zone.to_local(range.start()).date();
        let last_day = self.zone.to_local(range.end()).date();
        while day <= last_day {
            if let Some(clipped) = self.window_on(day).and_then(|window| window.intersection(&range)) {
                windows.push(clipped);
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        windows
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn easter_falls_on_the_known_sundays() {
        for (year, month, day) in
            [(2024, 3, 31), (2025, 4, 20), (2026, 4, 5), (2027, 3, 28), (2028, 4, 16), (2038, 4, 25), (2285, 3, 22)]
        {
            assert_eq!(easter_sunday(year), date(year, month, day), "Easter {year}");
        }
    }

    #[test]
    fn target2_closing_days_match_the_published_dates() {
        let expected = [
            (2026, ["2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-25", "2026-12-26"]),
            (2027, ["2027-01-01", "2027-03-26", "2027-03-29", "2027-05-01", "2027-12-25", "2027-12-26"]),
            (2028, ["2028-01-01", "2028-04-14", "2028-04-17", "2028-05-01", "2028-12-25", "2028-12-26"]),
        ];
        for (year, days) in expected {
            let actual: Vec<String> =
                HolidayCalendar::Target2.holidays_in(year).iter().map(ToString::to_string).collect();
            assert_eq!(actual, days, "target2 {year}");
        }
    }

    #[test]
    fn christmas_eve_is_not_a_target2_closing_day() {
        assert!(!HolidayCalendar::Target2.is_holiday(date(2026, 12, 24)));
    }

    /// Published Easter Sundays, independent of the computus above.
    const KNOWN_EASTER_SUNDAYS: [(i16, i8, i8); 17] = [
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2027, 3, 28),
        (2028, 4, 16),
        (2029, 4, 1),
        (2030, 4, 21),
        (2031, 4, 13),
        (2032, 3, 28),
        (2033, 4, 17),
        (2034, 4, 9),
        (2035, 3, 25),
        (2036, 4, 13),
        (2037, 4, 5),
        (2038, 4, 25),
        (2039, 4, 10),
        (2040, 4, 1),
    ];

    /// An independent model of the window: local wall time read off each instant, holidays from
    /// the published Easter table.
    fn model_is_open(at: Instant, holidays: HolidayCalendar) -> bool {
        let local = Zone::brussels().to_local(at);
        let day = local.date();
        let easter = KNOWN_EASTER_SUNDAYS
            .iter()
            .find(|(year, _, _)| *year == day.year())
            .map(|(year, month, day)| date(*year, *month, *day))
            .expect("the model covers 2024-2040");
        let is_holiday = holidays == HolidayCalendar::Target2
            && ([(1, 1), (5, 1), (12, 25), (12, 26)].contains(&(day.month(), day.day()))
                || day == easter.checked_sub(2.days()).unwrap()
                || day == easter.checked_add(1.days()).unwrap());
        let weekday = !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        weekday && !is_holiday && local.hour() >= 9 && local.hour() < 18
    }

    /// Whether the model is open anywhere in `[from, to)`, probing every five minutes (open
    /// stretches last hours, so none fits between two probes) and just before `to`.
    fn model_open_somewhere(from: Instant, to: Instant, holidays: HolidayCalendar) -> bool {
        let step = jiff::SignedDuration::from_mins(5);
        let mut probe = from;
        while probe < to {
            if model_is_open(probe, holidays) {
                return true;
            }
            probe += step;
        }
        to > from && model_is_open(to - jiff::SignedDuration::from_secs(1), holidays)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        #[test]
        fn the_window_agrees_with_an_independent_model(
            second in 1_704_067_200i64..2_239_000_000i64,
            target2 in proptest::prelude::any::<bool>(),
        ) {
            let holidays = if target2 { HolidayCalendar::Target2 } else { HolidayCalendar::None };
            let window = BusinessWindow::central_european(holidays);
            let at = Instant::from_second(second).unwrap();
            let one_second = jiff::SignedDuration::from_secs(1);
            match window.window_containing(at) {
                Some(current) => {
                    proptest::prop_assert!(model_is_open(at, holidays));
                    proptest::prop_assert!(model_is_open(current.end() - one_second, holidays));
                    proptest::prop_assert!(!model_is_open(current.end(), holidays));
                    proptest::prop_assert!(!model_is_open(current.start() - one_second, holidays));
                }
                None => {
                    proptest::prop_assert!(!model_is_open(at, holidays));
                    let opening = window.next_opening(at).unwrap();
                    proptest::prop_assert!(model_is_open(opening.start(), holidays));
                    proptest::prop_assert!(!model_is_open(opening.start() - one_second, holidays));
                    proptest::prop_assert!(!model_open_somewhere(at, opening.start(), holidays));
                }
            }
        }
    }
}

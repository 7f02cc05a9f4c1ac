//! The common shift patterns, DAILY and WEEKLY rules with only INTERVAL, COUNT, UNTIL, plain
//! BYDAY weekdays and WKST, expanded by arithmetic: an expansion jumps straight to its window
//! instead of stepping from the first occurrence. Every other rule goes through the rrule crate;
//! both paths are checked against each other in the tests.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::ToSpan;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frequency {
    Daily,
    Weekly,
}

/// A rule of the arithmetic subset, in floating local time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodicRule {
    frequency: Frequency,
    interval: i64,
    /// Weekdays as a bit mask, Monday = bit 0; for DAILY, 0 means every day.
    weekdays: u8,
    week_start: Weekday,
    count: Option<u64>,
    /// Inclusive: an occurrence starting exactly at UNTIL is kept.
    until: Option<DateTime>,
    start: DateTime,
}

fn weekday_bit(weekday: Weekday) -> u8 {
    1 << weekday.to_monday_zero_offset()
}

fn parse_weekday(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return None,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn epoch_day(day: Date) -> i64 {
    let (month, day_of_month) = (i64::from(day.month()), i64::from(day.day()));
    let year = i64::from(day.year()) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day_of_month - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn days_between(from: Date, to: Date) -> i64 {
    epoch_day(to) - epoch_day(from)
}

impl PeriodicRule {
    /// The rule, if `parts` (normalised `KEY=VALUE` pairs, UNTIL already floating local time
    /// written with a trailing `Z`) lie in the arithmetic subset.
    pub fn from_parts(parts: &[(String, String)], start: DateTime) -> Option<PeriodicRule> {
        let mut rule = PeriodicRule {
            frequency: Frequency::Daily,
            interval: 1,
            weekdays: 0,
            week_start: Weekday::Monday,
            count: None,
            until: None,
            start,
        };
        let mut has_frequency = false;
        for (key, value) in parts {
            match key.as_str() {
                "FREQ" => {
                    rule.frequency = match value.as_str() {
                        "DAILY" => Frequency::Daily,
                        "WEEKLY" => Frequency::Weekly,
                        _ => return None,
                    };
                    has_frequency = true;
                }
                "INTERVAL" => rule.interval = value.parse().ok().filter(|interval: &i64| *interval >= 1)?,
                "COUNT" => rule.count = Some(value.parse().ok()?),
                "UNTIL" => rule.until = Some(DateTime::strptime("%Y%m%dT%H%M%SZ", value).ok()?),
                "WKST" => rule.week_start = parse_weekday(value)?,
                "BYDAY" => {
                    for code in value.split(',') {
                        rule.weekdays |= weekday_bit(parse_weekday(code.trim())?);
                    }
                }
                _ => return None,
            }
        }
        if !has_frequency {
            return None;
        }
        if rule.frequency == Frequency::Weekly && rule.weekdays == 0 {
            rule.weekdays = weekday_bit(start.weekday());
        }
        Some(rule)
    }

    fn matches(&self, day: Date) -> bool {
        self.weekdays == 0 || self.weekdays & weekday_bit(day.weekday()) != 0
    }

    /// Occurrence starts from the period containing `from_day` on, in order, within COUNT and
    /// UNTIL. Starts before `from_day` may come first; the caller filters by instant.
    pub fn starts_from(&self, from_day: Date) -> Box<dyn Iterator<Item = DateTime> + '_> {
        match self.frequency {
            Frequency::Daily => Box::new(self.daily_from(from_day)),
            Frequency::Weekly => Box::new(self.weekly_from(from_day)),
        }
    }

    /// The occurrences on `days` (the rule's days, in order), numbered from `first_index` (how
    /// many occurrences come before the first of them), while COUNT and UNTIL allow.
    fn within_limits<'a>(
        &'a self,
        first_index: u64,
        days: impl Iterator<Item = Date> + 'a,
    ) -> impl Iterator<Item = DateTime> + 'a {
        let time = self.start.time();
        days.zip(first_index..)
            .map(move |(day, index)| (index, day.to_datetime(time)))
            .take_while(move |(index, local)| {
                self.count.is_none_or(|count| *index < count) && self.until.is_none_or(|until| *local <= until)
            })
            .map(|(_, local)| local)
    }

    fn daily_from(&self, from_day: Date) -> impl Iterator<Item = DateTime> + '_ {
        let first_day = self.start.date();
        let step = self.interval;
        let first_step = if from_day <= first_day { 0 } else { (days_between(first_day, from_day) + step - 1) / step };
        let candidate = move |step_idx: i64| first_day.checked_add((step_idx * step).days()).ok();
        let is_match = move |step_idx: i64| candidate(step_idx).is_some_and(|day| self.matches(day));
        // Candidate weekdays repeat every 7 candidates (every one, when the step is whole weeks).
        let cycle = if step % 7 == 0 { 1 } else { 7 };
        let per_cycle = (0..cycle).filter(|idx| is_match(*idx)).count() as u64;
        let partial = (first_step - first_step % cycle..first_step).filter(|idx| is_match(*idx)).count() as u64;
        let first_index = (first_step / cycle) as u64 * per_cycle + partial;
        let days = (first_step..)
            .take_while(move |_| per_cycle > 0)
            .map_while(candidate)
            .filter(move |day| self.matches(*day));
        self.within_limits(first_index, days)
    }

    fn weekly_from(&self, from_day: Date) -> impl Iterator<Item = DateTime> + '_ {
        let first_day = self.start.date();
        let week_start = i64::from(self.week_start.to_monday_zero_offset());
        let offset_in_week = |day: Date| (i64::from(day.weekday().to_monday_zero_offset()) - week_start).rem_euclid(7);
        let first_period = first_day.checked_sub(offset_in_week(first_day).days()).expect("dates in range");
        // Offsets from the period's first day of the rule's weekdays, in order.
        let offsets: Vec<i64> = (0..7)
            .filter(|offset| {
                self.weekdays
                    & weekday_bit(Weekday::from_monday_zero_offset(((week_start + offset) % 7) as i8).expect("0..7"))
                    != 0
            })
            .collect();
        let period_days = 7 * self.interval;
        let n_first_period = offsets.iter().filter(|offset| **offset >= offset_in_week(first_day)).count() as u64;
        let first_period_idx =
            if from_day <= first_period { 0 } else { days_between(first_period, from_day) / period_days };
        let first_index = if first_period_idx == 0 {
            0
        } else {
            n_first_period + (first_period_idx as u64 - 1) * offsets.len() as u64
        };
        let has_offsets = !offsets.is_empty();
        let days = (first_period_idx..)
            .take_while(move |_| has_offsets)
            .map_while(move |period_idx| first_period.checked_add((period_idx * period_days).days()).ok())
            .flat_map(move |period| {
                offsets.clone().into_iter().filter_map(move |offset| period.checked_add(offset.days()).ok())
            })
            .filter(move |day| *day >= first_day);
        self.within_limits(first_index, days)
    }
}

//! The Working Time Directive's limits as data: the directive's defaults (2003/88/EC), and the
//! values an operator sets for a country in the policy file, each with its source.

use std::collections::BTreeMap;

use jiff::civil::Time;
use jiff::SignedDuration;
use serde::Deserialize;

use super::PolicyFactsError;
use crate::domain::country::Country;

/// The limits one country applies; the directive's defaults unless the policy file says otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingTimeLimits {
    /// Consecutive rest every 24-hour period must hold (Art. 3: 11 hours).
    pub daily_rest: SignedDuration,
    /// Consecutive rest every 7-day period must hold (Art. 5: 24 hours plus the daily 11).
    pub weekly_rest: SignedDuration,
    /// The most work a week may average over the reference period (Art. 6: 48 hours).
    pub max_average_weekly_work: SignedDuration,
    /// The reference period of the weekly average, in weeks (Art. 16(b): at most 4 months; 17
    /// weeks is the common choice).
    pub reference_weeks: u32,
    /// Night time, local wall-clock times in the agent's home zone (Art. 2(3)); it ends the next
    /// day when the end is not after the start.
    pub night_starts: Time,
    pub night_ends: Time,
    /// The night work on a working day that makes it a night-working day (Art. 2(4): 3 hours).
    pub night_worker_min_night_work: SignedDuration,
}

impl WorkingTimeLimits {
    /// The directive's own values.
    pub fn directive_defaults() -> WorkingTimeLimits {
        WorkingTimeLimits {
            daily_rest: SignedDuration::from_hours(11),
            weekly_rest: SignedDuration::from_hours(35),
            max_average_weekly_work: SignedDuration::from_hours(48),
            reference_weeks: 17,
            night_starts: Time::constant(23, 0, 0, 0),
            night_ends: Time::constant(6, 0, 0, 0),
            night_worker_min_night_work: SignedDuration::from_hours(3),
        }
    }
}

/// The limits in force: the defaults, and a country's own where the policy file gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingTimeRules {
    pub defaults: WorkingTimeLimits,
    /// Where the defaults come from.
    pub source: String,
    by_country: BTreeMap<Country, (WorkingTimeLimits, String)>,
}

impl WorkingTimeRules {
    pub fn directive_defaults() -> WorkingTimeRules {
        WorkingTimeRules {
            defaults: WorkingTimeLimits::directive_defaults(),
            source: DIRECTIVE_SOURCE.into(),
            by_country: BTreeMap::new(),
        }
    }

    /// The limits of the country an agent works from.
    pub fn for_country(&self, country: Country) -> &WorkingTimeLimits {
        self.by_country.get(&country).map_or(&self.defaults, |(limits, _)| limits)
    }

    /// The longest reference period of any country, in weeks: how far back a report reads.
    pub fn longest_reference_weeks(&self) -> u32 {
        self.by_country.values().map(|(limits, _)| limits.reference_weeks).fold(self.defaults.reference_weeks, u32::max)
    }

    /// Countries with limits of their own, with the source of each.
    pub fn countries(&self) -> impl Iterator<Item = (Country, &WorkingTimeLimits, &str)> {
        self.by_country.iter().map(|(country, (limits, source))| (*country, limits, source.as_str()))
    }
}

const DIRECTIVE_SOURCE: &str = "Directive 2003/88/EC, Arts. 2, 3, 5, 6 and 16";

/// The longest reference period accepted: the directive's four months, rounded up to weeks.
const MAX_REFERENCE_WEEKS: u32 = 18;

/// The `[working_time]` section of a policy file; every value is optional and defaults to the
/// directive's.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct WorkingTimeDocument {
    #[serde(flatten)]
    limits: LimitsDocument,
    source: Option<String>,
    #[serde(default)]
    countries: Vec<CountryLimitsDocument>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsDocument {
    daily_rest_hours: Option<f64>,
    weekly_rest_hours: Option<f64>,
    max_average_weekly_hours: Option<f64>,
    reference_weeks: Option<u32>,
    night_starts: Option<String>,
    night_ends: Option<String>,
    night_worker_min_night_hours: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryLimitsDocument {
    code: String,
    /// Required: no country's values without where they come from.
    source: String,
    #[serde(flatten)]
    limits: LimitsDocument,
}

impl WorkingTimeDocument {
    pub(super) fn into_rules(self) -> Result<WorkingTimeRules, PolicyFactsError> {
        let defaults = self.limits.over(WorkingTimeLimits::directive_defaults(), "working_time")?;
        let mut by_country = BTreeMap::new();
        for (entry_idx, entry) in self.countries.into_iter().enumerate() {
            let location = |field: &str| format!("working_time.countries[{entry_idx}].{field}");
            let country = Country::parse(&entry.code)
                .map_err(|error| PolicyFactsError { location: location("code"), problem: error.to_string() })?;
            if entry.source.trim().is_empty() {
                return Err(PolicyFactsError {
                    location: location("source"),
                    problem: "a country's working-time values need their source".into(),
                });
            }
            let limits = entry.limits.over(defaults.clone(), &format!("working_time.countries[{entry_idx}]"))?;
            if by_country.insert(country, (limits, entry.source)).is_some() {
                return Err(PolicyFactsError {
                    location: location("code"),
                    problem: format!("{:?} is listed twice", entry.code),
                });
            }
        }
        Ok(WorkingTimeRules { defaults, source: self.source.unwrap_or_else(|| DIRECTIVE_SOURCE.into()), by_country })
    }
}

impl LimitsDocument {
    /// `base` with the values this document gives.
    fn over(self, base: WorkingTimeLimits, at: &str) -> Result<WorkingTimeLimits, PolicyFactsError> {
        let problem = |field: &str, problem: String| PolicyFactsError { location: format!("{at}.{field}"), problem };
        let hours = |field: &str, value: Option<f64>, base: SignedDuration, most: f64| match value {
            None => Ok(base),
            Some(hours) if hours.is_finite() && hours > 0.0 && hours <= most => {
                Ok(SignedDuration::from_secs((hours * 3_600.0).round() as i64))
            }
            Some(hours) => Err(problem(field, format!("{hours} is not within (0, {most}] hours"))),
        };
        let time = |field: &str, value: Option<String>, base: Time| match value {
            None => Ok(base),
            Some(text) => {
                text.parse::<Time>().map_err(|error| problem(field, format!("{text:?} is not an HH:MM time: {error}")))
            }
        };
        let reference_weeks = match self.reference_weeks {
            None => base.reference_weeks,
            Some(weeks) if (1..=MAX_REFERENCE_WEEKS).contains(&weeks) => weeks,
            Some(weeks) => {
                return Err(problem("reference_weeks", format!("{weeks} is not within 1..={MAX_REFERENCE_WEEKS}")))
            }
        };
        let limits = WorkingTimeLimits {
            daily_rest: hours("daily_rest_hours", self.daily_rest_hours, base.daily_rest, 24.0)?,
            weekly_rest: hours("weekly_rest_hours", self.weekly_rest_hours, base.weekly_rest, 168.0)?,
            max_average_weekly_work: hours(
                "max_average_weekly_hours",
                self.max_average_weekly_hours,
                base.max_average_weekly_work,
                168.0,
            )?,
            reference_weeks,
            night_starts: time("night_starts", self.night_starts, base.night_starts)?,
            night_ends: time("night_ends", self.night_ends, base.night_ends)?,
            night_worker_min_night_work: hours(
                "night_worker_min_night_hours",
                self.night_worker_min_night_hours,
                base.night_worker_min_night_work,
                24.0,
            )?,
        };
        if limits.night_starts == limits.night_ends {
            return Err(problem("night_ends", "night time cannot start and end at the same time".into()));
        }
        Ok(limits)
    }
}

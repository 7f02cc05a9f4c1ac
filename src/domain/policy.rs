//! The policy: the facts (countries, bases, regions) and the two plans' rules. Pure data and
//! lookups; the facts come from a TOML document so they can change without a code change.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time};
use serde::Deserialize;

use super::calendar::{BusinessWindow, HolidayCalendar};
use super::country::Country;
use super::interval::Interval;
use super::time::{Instant, Zone};
use working_time::WorkingTimeDocument;

mod working_time;

pub use working_time::{WorkingTimeLimits, WorkingTimeRules};

/// The facts shipped with this release; `policy_file` in the configuration replaces them.
pub const DEFAULT_POLICY_FACTS: &str = include_str!("policy_facts.toml");

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4];

    pub fn number(self) -> u8 {
        match self {
            Severity::Sev1 => 1,
            Severity::Sev2 => 2,
            Severity::Sev3 => 3,
            Severity::Sev4 => 4,
        }
    }

    pub fn from_number(number: i64) -> Option<Severity> {
        Severity::ALL.into_iter().find(|severity| i64::from(severity.number()) == number)
    }
}

/// A set of severities; the empty set means "all" wherever a set limits what someone handles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeveritySet(u8);

impl SeveritySet {
    pub fn from_severities(severities: impl IntoIterator<Item = Severity>) -> SeveritySet {
        SeveritySet(severities.into_iter().fold(0, |bits, severity| bits | 1 << severity.number()))
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// Whether the set allows `severity`, reading the empty set as "all".
    pub fn allows(&self, severity: Severity) -> bool {
        self.is_empty() || self.0 & (1 << severity.number()) != 0
    }

    pub fn iter(&self) -> impl Iterator<Item = Severity> + '_ {
        Severity::ALL.into_iter().filter(|severity| self.0 & (1 << severity.number()) != 0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlanKind {
    Standard,
    EeaOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TicketCategory {
    ProductSupport,
    CustomApplicationSupport,
    ProfessionalServices,
    ThirdParty,
    SubProcessor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferBasis {
    Eea,
    AdequacyFull,
    AdequacyPartial,
    Contractual,
    ConsentOnly,
}

/// Why staff in one country may handle EEA-tagged tickets, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct CountryBasis {
    pub country: Country,
    pub name: String,
    pub basis: TransferBasis,
    pub scope: String,
    /// The basis applies in `[valid_from, valid_until)`; `None` is open-ended.
    pub valid_from: Option<Instant>,
    pub valid_until: Option<Instant>,
    pub source: String,
}

impl CountryBasis {
    pub fn in_force_at(&self, at: Instant) -> bool {
        self.valid_from.is_none_or(|from| from <= at) && self.valid_until.is_none_or(|until| at < until)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CloudRegion {
    pub region: String,
    pub place: String,
    pub country: Country,
}

/// The versioned facts: countries with their basis, and cloud regions.
#[derive(Clone, Debug)]
pub struct PolicyFacts {
    pub version: String,
    pub effective_at: Instant,
    pub source: String,
    pub countries: Vec<CountryBasis>,
    pub regions: Vec<CloudRegion>,
    /// The Working Time Directive's limits, with any country's own.
    pub working_time: WorkingTimeRules,
    bases_by_country: BTreeMap<Country, Vec<usize>>,
    /// Each region's position in `regions` (they are listed once each), for the hot path.
    region_positions: BTreeMap<String, usize>,
    /// Every instant at which some basis starts or ends, sorted.
    basis_changes: Vec<Instant>,
}

/// A policy document that cannot be used; names the entry and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy facts: {location}: {problem}")]
pub struct PolicyFactsError {
    pub location: String,
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FactsDocument {
    version: String,
    effective_at: String,
    source: String,
    countries: Vec<CountryDocument>,
    regions: Vec<RegionDocument>,
    /// Optional: without it the directive's defaults apply.
    #[serde(default)]
    working_time: WorkingTimeDocument,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryDocument {
    code: String,
    name: String,
    basis: TransferBasis,
    valid_from: Option<String>,
    valid_until: Option<String>,
    #[serde(default)]
    scope: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionDocument {
    region: String,
    place: String,
    country: String,
}

impl PolicyFacts {
    /// Parses and checks a facts document (the format of `policy_facts.toml`).
    pub fn parse(text: &str) -> Result<PolicyFacts, PolicyFactsError> {
        let document: FactsDocument = toml::from_str(text)
            .map_err(|error| PolicyFactsError { location: "document".into(), problem: error.to_string() })?;
        let problem = |location: String, problem: String| PolicyFactsError { location, problem };
        let effective_at: Instant =
            document.effective_at.parse().map_err(|error| problem("effective_at".into(), format!("{error}")))?;
        let mut countries = Vec::with_capacity(document.countries.len());
        for (entry_idx, entry) in document.countries.into_iter().enumerate() {
            let location = |field: &str| format!("countries[{entry_idx}].{field}");
            let country = Country::parse(&entry.code).map_err(|error| problem(location("code"), error.to_string()))?;
            let parse_day = |field: &str, value: Option<String>| -> Result<Option<Instant>, PolicyFactsError> {
                value
                    .map(|text| {
                        text.parse::<Date>()
                            .map(|day| {
                                Zone::named("UTC").expect("UTC exists").to_instant(day.to_datetime(Time::midnight()))
                            })
                            .map_err(|error| {
                                problem(location(field), format!("{text:?} is not a YYYY-MM-DD date: {error}"))
                            })
                    })
                    .transpose()
            };
            let valid_from = parse_day("valid_from", entry.valid_from)?;
            let valid_until = parse_day("valid_until", entry.valid_until)?;
            if let (Some(from), Some(until)) = (valid_from, valid_until) {
                if until <= from {
                    return Err(problem(location("valid_until"), "must be after valid_from".into()));
                }
            }
            countries.push(CountryBasis {
                country,
                name: entry.name,
                basis: entry.basis,
                scope: entry.scope,
                valid_from,
                valid_until,
                source: entry.source,
            });
        }
        let mut regions: Vec<CloudRegion> = Vec::with_capacity(document.regions.len());
        for (entry_idx, entry) in document.regions.into_iter().enumerate() {
            let country = Country::parse(&entry.country)
                .map_err(|error| problem(format!("regions[{entry_idx}].country"), error.to_string()))?;
            if regions.iter().any(|known| known.region == entry.region) {
                return Err(problem(
                    format!("regions[{entry_idx}].region"),
                    format!("{:?} is listed twice", entry.region),
                ));
            }
            regions.push(CloudRegion { region: entry.region, place: entry.place, country });
        }
        let mut bases_by_country: BTreeMap<Country, Vec<usize>> = BTreeMap::new();
        for (basis_idx, basis) in countries.iter().enumerate() {
            bases_by_country.entry(basis.country).or_default().push(basis_idx);
        }
        let region_positions =
            regions.iter().enumerate().map(|(region_idx, known)| (known.region.clone(), region_idx)).collect();
        let mut basis_changes: Vec<Instant> =
            countries.iter().flat_map(|basis| [basis.valid_from, basis.valid_until]).flatten().collect();
        basis_changes.sort_unstable();
        basis_changes.dedup();
        let working_time = document.working_time.into_rules()?;
        Ok(PolicyFacts {
            working_time,
            basis_changes,
            version: document.version,
            effective_at,
            source: document.source,
            countries,
            regions,
            bases_by_country,
            region_positions,
        })
    }

    pub fn region(&self, region: &str) -> Option<&CloudRegion> {
        self.region_positions.get(region).map(|region_idx| &self.regions[*region_idx])
    }

    /// The basis in force for a country at an instant, if any.
    pub fn basis_at(&self, country: Country, at: Instant) -> Option<&CountryBasis> {
        self.bases_by_country
            .get(&country)?
            .iter()
            .map(|&basis_idx| &self.countries[basis_idx])
            .find(|basis| basis.in_force_at(at))
    }

    pub fn is_eea_at(&self, country: Country, at: Instant) -> bool {
        self.basis_at(country, at).is_some_and(|basis| basis.basis == TransferBasis::Eea)
    }

    /// Whether a region's tickets are EEA-tagged at an instant (by the region's country).
    pub fn region_is_eea(&self, region: &CloudRegion, at: Instant) -> bool {
        self.is_eea_at(region.country, at)
    }

    /// Every instant at which some basis starts or ends: eligibility is constant between them.
    pub fn basis_change_instants(&self) -> &[Instant] {
        &self.basis_changes
    }
}

/// When a severity is served.
#[derive(Clone, Debug, PartialEq)]
pub enum ServiceHours {
    AroundTheClock,
    Business(BusinessWindow),
}

/// One plan's rules: service hours per severity, and the categories it does not cover.
#[derive(Clone, Debug)]
pub struct PlanRules {
    pub plan: PlanKind,
    pub sev1_hours: ServiceHours,
    pub sev2_to_4_hours: ServiceHours,
    pub excluded_categories: Vec<TicketCategory>,
}

impl PlanRules {
    pub fn hours_for(&self, severity: Severity) -> &ServiceHours {
        match severity {
            Severity::Sev1 => &self.sev1_hours,
            Severity::Sev2 | Severity::Sev3 | Severity::Sev4 => &self.sev2_to_4_hours,
        }
    }
}

impl ServiceHours {
    /// The service-hours intervals within `range`.
    pub fn windows_within(&self, range: Interval) -> Vec<Interval> {
        match self {
            ServiceHours::AroundTheClock => vec![range],
            ServiceHours::Business(window) => window.windows_within(range),
        }
    }
}

/// The configurable parts of the plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanSettings {
    /// Holiday calendar of the EEA-only plan's Sev2-4 business hours.
    pub eea_only_holidays: HolidayCalendar,
    /// The STANDARD plan's service levels: around the clock, or business hours.
    pub standard_hours: StandardHours,
    pub standard_holidays: HolidayCalendar,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StandardHours {
    /// 24x7 for every severity (the default).
    AroundTheClock,
    /// Sev1 around the clock, Sev2-4 in CET business hours.
    BusinessForSev2To4,
    /// Every severity in CET business hours.
    BusinessForAll,
}

impl StandardHours {
    pub const ALL: [StandardHours; 3] =
        [StandardHours::AroundTheClock, StandardHours::BusinessForSev2To4, StandardHours::BusinessForAll];

    /// The value as the configuration spells it (`plans.standard_hours`).
    pub fn name(self) -> &'static str {
        match self {
            StandardHours::AroundTheClock => "24x7",
            StandardHours::BusinessForSev2To4 => "business_sev2_to_4",
            StandardHours::BusinessForAll => "business",
        }
    }

    pub fn named(name: &str) -> Option<StandardHours> {
        StandardHours::ALL.into_iter().find(|hours| hours.name() == name)
    }
}

impl PlanSettings {
    /// These settings as `name = value` lines with the configuration's names and values, in a
    /// fixed order: how a recorded policy version keeps them.
    pub fn to_record(&self) -> String {
        format!(
            "eea_only_holidays = {}\nstandard_hours = {}\nstandard_holidays = {}\n",
            self.eea_only_holidays.name(),
            self.standard_hours.name(),
            self.standard_holidays.name()
        )
    }

    /// Settings as `to_record` wrote them; the error names the line not understood. A setting
    /// missing from the record keeps its default, as a missing setting does in the configuration.
    pub fn from_record(record: &str) -> Result<PlanSettings, String> {
        let mut settings = PlanSettings::default();
        for line in record.lines().filter(|line| !line.trim().is_empty()) {
            let not_understood = || format!("plan settings line {line:?} is not understood");
            let (name, value) = line.split_once('=').ok_or_else(not_understood)?;
            let value = value.trim();
            match name.trim() {
                "eea_only_holidays" => {
                    settings.eea_only_holidays = HolidayCalendar::named(value).map_err(|_| not_understood())?
                }
                "standard_hours" => settings.standard_hours = StandardHours::named(value).ok_or_else(not_understood)?,
                "standard_holidays" => {
                    settings.standard_holidays = HolidayCalendar::named(value).map_err(|_| not_understood())?
                }
                _ => return Err(not_understood()),
            }
        }
        Ok(settings)
    }
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            eea_only_holidays: HolidayCalendar::None,
            standard_hours: StandardHours::AroundTheClock,
            standard_holidays: HolidayCalendar::None,
        }
    }
}

/// Everything the decisions need to know about the rules, immutable once built.
#[derive(Clone, Debug)]
pub struct Policy {
    pub facts: PolicyFacts,
    pub standard: PlanRules,
    pub eea_only: PlanRules,
    pub settings: PlanSettings,
}

impl Policy {
    pub fn new(facts: PolicyFacts, settings: PlanSettings) -> Policy {
        let business = |holidays| ServiceHours::Business(BusinessWindow::central_european(holidays));
        let (standard_sev1, standard_rest) = match settings.standard_hours {
            StandardHours::AroundTheClock => (ServiceHours::AroundTheClock, ServiceHours::AroundTheClock),
            StandardHours::BusinessForSev2To4 => (ServiceHours::AroundTheClock, business(settings.standard_holidays)),
            StandardHours::BusinessForAll => {
                (business(settings.standard_holidays), business(settings.standard_holidays))
            }
        };
        Policy {
            facts,
            standard: PlanRules {
                plan: PlanKind::Standard,
                sev1_hours: standard_sev1,
                sev2_to_4_hours: standard_rest,
                excluded_categories: Vec::new(),
            },
            eea_only: PlanRules {
                plan: PlanKind::EeaOnly,
                sev1_hours: ServiceHours::AroundTheClock,
                sev2_to_4_hours: business(settings.eea_only_holidays),
                excluded_categories: vec![
                    TicketCategory::CustomApplicationSupport,
                    TicketCategory::ProfessionalServices,
                    TicketCategory::ThirdParty,
                    TicketCategory::SubProcessor,
                ],
            },
            settings,
        }
    }

    /// The shipped facts with default plan settings.
    pub fn default_policy() -> Policy {
        Policy::new(
            PolicyFacts::parse(DEFAULT_POLICY_FACTS).expect("the shipped policy facts parse"),
            PlanSettings::default(),
        )
    }

    pub fn rules(&self, plan: PlanKind) -> &PlanRules {
        match plan {
            PlanKind::Standard => &self.standard,
            PlanKind::EeaOnly => &self.eea_only,
        }
    }

    /// The plan whose rules apply to a ticket: categories the EEA-only plan excludes follow the
    /// STANDARD rules.
    pub fn effective_plan(&self, org_plan: PlanKind, category: TicketCategory) -> PlanKind {
        if self.rules(org_plan).excluded_categories.contains(&category) {
            PlanKind::Standard
        } else {
            org_plan
        }
    }
}

#[cfg(test)]
mod tests;

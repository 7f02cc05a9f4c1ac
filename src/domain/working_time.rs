//! The Working Time Directive (2003/88/EC) over the roster: per agent, the work of each week, its
//! rolling average and night work, and every breach of daily rest, weekly rest and the average
//! weekly limit. docs/DESIGN.md ("Working time") writes each rule down with an example.
//!
//! Work is every occurrence of every shift, severity-limited pager shifts included, minus the
//! agent's time off; a source configured as standby has its pager shifts count as neither work
//! nor rest. Breaches are reported for reference windows that start inside the asked window, and
//! each reads as much earlier (and later) work as it needs, so an agent's answer is the same
//! whatever window around it is asked.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Time};
use jiff::{SignedDuration, ToSpan};

use super::ids::{AgentId, ShiftId};
use super::interval::{intersect, merge, subtract, Interval};
use super::parallel::Parallelism;
use super::policy::{PolicyFacts, WorkingTimeLimits, WorkingTimeRules};
use super::roster::{AgentRoster, Schedule, Shift};
use super::time::{Instant, LocalTimeConverter, Zone};

/// The longest window a working-time report may cover.
pub const MAX_WORKING_TIME_DAYS: i64 = 366;

const DAY: SignedDuration = SignedDuration::from_hours(24);
pub(super) const WEEK: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The rule a breach breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkingTimeRule {
    /// Every 24 hours from the start of a shift occurrence hold `daily_rest` of consecutive rest.
    DailyRest,
    /// Every 7 days (168 hours) from the start of a shift occurrence hold `weekly_rest` of
    /// consecutive rest.
    WeeklyRest,
    /// At each local Monday 00:00, the preceding `reference_weeks` local weeks average at most
    /// `max_average_weekly_work`.
    AverageWeeklyWork,
}

/// One breach: a rule, the reference window it was measured over, what was measured there and
/// the limit it was held to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    pub rule: WorkingTimeRule,
    pub window: Interval,
    /// The longest consecutive rest in the window (rest rules), or the average week's work.
    pub measured: SignedDuration,
    pub limit: SignedDuration,
    /// The shifts with work in the window, in ID order.
    pub shift_ids: Vec<ShiftId>,
}

impl Breach {
    /// The instant the rule is checked at: a rest window's start, or the Monday the reference
    /// weeks end at.
    pub fn checked_at(&self) -> Instant {
        match self.rule {
            WorkingTimeRule::DailyRest | WorkingTimeRule::WeeklyRest => self.window.start(),
            WorkingTimeRule::AverageWeeklyWork => self.window.end(),
        }
    }
}

/// One local calendar week of an agent (Monday 00:00 to Monday 00:00 in its home zone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkWeek {
    pub week: Interval,
    pub worked: SignedDuration,
    /// Work at night time (by default 23:00-06:00 local).
    pub night: SignedDuration,
    /// The average week's work over the reference weeks that end with this one: the figure the
    /// rule checks at the following Monday.
    pub rolling_average: SignedDuration,
    pub reference_weeks: u32,
}

/// One agent's working time over a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentWorkingTime {
    pub agent_id: AgentId,
    /// The home zone weeks and nights are read in.
    pub time_zone: String,
    /// Every local week that overlaps the window, in order, whole.
    pub weeks: Vec<WorkWeek>,
    /// Work and night work inside the window.
    pub worked: SignedDuration,
    pub night: SignedDuration,
    /// Local days (home zone) inside the window on which a stretch of work starts, and those of
    /// them whose stretches hold at least the night worker's minimum of night time.
    pub working_days: u32,
    pub night_working_days: u32,
    /// Night-working days are at least half of the working days (and there is one).
    pub night_worker: bool,
    /// In order of the instants they are checked at, then of the rules.
    pub breaches: Vec<Breach>,
}

/// How the service counts some shifts, set per source in the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkingTimeSettings {
    /// Sources whose pager shifts (limited to some severities) are standby: neither work nor rest.
    pub standby_pager_sources: BTreeSet<String>,
    /// Sources whose writes fail, changing nothing, when they introduce a breach.
    pub refusing_sources: BTreeSet<String>,
}

impl WorkingTimeSettings {
    /// Whether a shift's occurrences are work.
    pub fn counts_as_work(&self, shift: &Shift) -> bool {
        shift.severities.is_empty()
            || !shift.source.as_deref().is_some_and(|source| self.standby_pager_sources.contains(source))
    }
}

/// Whether an agent is in a report without a list of agents: its location is an EEA country at
/// some moment of the window, or one of its shifts is worked from one during it.
pub fn works_from_eea(facts: &PolicyFacts, roster: &AgentRoster, window: Interval) -> bool {
    let agent = &roster.agent;
    let located_in_eea = facts.is_eea_at(agent.country_at(window.start()), window.start())
        || agent
            .location_changes
            .iter()
            .filter(|change| window.contains(change.effective_at))
            .any(|change| facts.is_eea_at(change.country, change.effective_at));
    located_in_eea
        || roster.shifts.iter().any(|shift| {
            shift.country.is_some_and(|country| facts.is_eea_at(country, window.start()))
                && shift.occurrences_within(window).is_ok_and(|occurrences| !occurrences.is_empty())
        })
}

/// The report for the agents of `agents`, in their order.
pub fn working_time_report(
    rules: &WorkingTimeRules,
    agents: &[&AgentRoster],
    window: Interval,
    settings: &WorkingTimeSettings,
    parallelism: Parallelism,
) -> Vec<AgentWorkingTime> {
    parallelism.map_in_order(agents, |roster| agent_working_time(roster, window, rules, settings))
}

/// One agent's working time over `window`.
pub fn agent_working_time(
    roster: &AgentRoster,
    window: Interval,
    rules: &WorkingTimeRules,
    settings: &WorkingTimeSettings,
) -> AgentWorkingTime {
    let work = Work::of(roster, window, rules, settings);
    let agent = &roster.agent;
    let limits_at = |at: Instant| rules.for_country(agent.country_at(at));
    let mondays = local_mondays(roster, window, rules);
    let breaches = work_breaches(&work, window, rules, &mondays);
    let night = Summed::new(night_work(
        &work.stretches.intervals,
        &agent.zone,
        rules.for_country(agent.country_at(window.start())),
    ));
    let mut weeks = Vec::new();
    for (week_idx, week) in reference_weeks(&mondays, rules) {
        let reference_weeks = limits_at(week.end()).reference_weeks;
        weeks.push(WorkWeek {
            week,
            worked: work.worked_in(week),
            night: night.within(week),
            rolling_average: average_before(&work, &mondays, week_idx + 1, reference_weeks).average,
            reference_weeks,
        });
    }
    let (working_days, night_working_days) =
        work.working_days(&night, &agent.zone, window, |day_start| limits_at(day_start).night_worker_min_night_work);
    AgentWorkingTime {
        agent_id: agent.agent_id.clone(),
        time_zone: agent.zone.name().to_owned(),
        weeks,
        worked: work.worked_in(window),
        night: night.within(window),
        working_days,
        night_working_days,
        night_worker: working_days > 0 && 2 * night_working_days >= working_days,
        breaches,
    }
}

/// One agent's breaches over `window`, as `agent_working_time` finds them, without the weekly
/// figures and night time that only the report needs (what a write's warnings compare).
pub fn agent_breaches(
    roster: &AgentRoster,
    window: Interval,
    rules: &WorkingTimeRules,
    settings: &WorkingTimeSettings,
) -> Vec<Breach> {
    let work = Work::of(roster, window, rules, settings);
    work_breaches(&work, window, rules, &local_mondays(roster, window, rules))
}

/// Every local Monday 00:00 of the agent's home zone from the longest reference period before
/// the window's first week to the one after its last, each converted on its own, in order.
fn local_mondays(roster: &AgentRoster, window: Interval, rules: &WorkingTimeRules) -> Vec<Instant> {
    let zone = &roster.agent.zone;
    let lookback = rules.longest_reference_weeks() as usize;
    let first_monday =
        monday_on_or_before(zone.to_local(window.start()).date()).saturating_sub((7 * lookback as i64).days());
    let mut converter = LocalTimeConverter::new(zone);
    let mut mondays: Vec<Instant> = Vec::new();
    let mut monday = first_monday;
    loop {
        let instant = converter.to_instant(monday.to_datetime(Time::midnight()));
        mondays.push(instant);
        if instant >= window.end() || monday.year() >= 9_999 {
            break;
        }
        monday = monday.saturating_add(7.days());
    }
    mondays
}

/// The local weeks from the longest reference period's end on, each with the index of the
/// Monday it starts at; they stop at the first that does not go forward.
fn reference_weeks<'m>(
    mondays: &'m [Instant],
    rules: &WorkingTimeRules,
) -> impl Iterator<Item = (usize, Interval)> + 'm {
    let lookback = rules.longest_reference_weeks() as usize;
    (lookback..mondays.len() - 1)
        .map_while(move |week_idx| Interval::new(mondays[week_idx], mondays[week_idx + 1]).map(|week| (week_idx, week)))
}

/// The `weeks` reference weeks that end at Monday `end_idx` and their average week.
fn average_before(work: &Work, mondays: &[Instant], end_idx: usize, weeks: u32) -> AverageWeek {
    let reference = Interval::new(mondays[end_idx - weeks as usize], mondays[end_idx]).expect("weeks go forward");
    AverageWeek { reference, average: work.worked_in(reference) / i32::try_from(weeks).unwrap_or(i32::MAX) }
}

/// The breaches of every rule checked inside `window`, in order of the instants they are
/// checked at, then of the rules.
fn work_breaches(work: &Work, window: Interval, rules: &WorkingTimeRules, mondays: &[Instant]) -> Vec<Breach> {
    let agent = &work.roster.agent;
    let limits_at = |at: Instant| rules.for_country(agent.country_at(at));
    let mut breaches = Vec::new();
    rest_breaches(work, window, &mut breaches, |at| (DAY, limits_at(at).daily_rest), WorkingTimeRule::DailyRest);
    rest_breaches(work, window, &mut breaches, |at| (WEEK, limits_at(at).weekly_rest), WorkingTimeRule::WeeklyRest);
    // The rule at a Monday inside the window, over the weeks before it.
    for (week_idx, week) in reference_weeks(mondays, rules) {
        if !window.contains(week.start()) {
            continue;
        }
        let limits = limits_at(week.start());
        let average = average_before(work, mondays, week_idx, limits.reference_weeks);
        if average.average > limits.max_average_weekly_work {
            breaches.push(Breach {
                rule: WorkingTimeRule::AverageWeeklyWork,
                window: average.reference,
                measured: average.average,
                limit: limits.max_average_weekly_work,
                shift_ids: work.shifts_working_in(average.reference),
            });
        }
    }
    breaches.sort_by_key(|breach| (breach.checked_at(), breach.rule));
    breaches
}

/// The rest rules: a window from each occurrence start inside `window` (each start once), and a
/// breach where its longest consecutive rest is shorter than the limit.
fn rest_breaches(
    work: &Work,
    window: Interval,
    breaches: &mut Vec<Breach>,
    length_and_limit: impl Fn(Instant) -> (SignedDuration, SignedDuration),
    rule: WorkingTimeRule,
) {
    let mut previous_start = None;
    for start in work.occurrence_starts.iter().copied().filter(|start| window.contains(*start)) {
        if previous_start == Some(start) {
            continue;
        }
        previous_start = Some(start);
        let (length, limit) = length_and_limit(start);
        let Some(reference) = Interval::following(start, length) else { continue };
        let longest = work.longest_rest_in(reference);
        if longest < limit {
            breaches.push(Breach {
                rule,
                window: reference,
                measured: longest,
                limit,
                shift_ids: work.shifts_working_in(reference),
            });
        }
    }
}

/// The average week of the reference weeks that end at a local Monday 00:00 (each boundary
/// converted on its own).
struct AverageWeek {
    reference: Interval,
    average: SignedDuration,
}

/// An agent's work around a window, ready for the rules.
struct Work<'a> {
    roster: &'a AgentRoster,
    /// Every counted occurrence with its shift's position, by start.
    occurrences: Vec<(Interval, usize)>,
    /// Their starts, sorted.
    occurrence_starts: Vec<Instant>,
    /// The longest of them.
    longest_occurrence: SignedDuration,
    /// The occurrences merged, time off taken out.
    stretches: Summed,
}

impl<'a> Work<'a> {
    fn of(
        roster: &'a AgentRoster,
        window: Interval,
        rules: &WorkingTimeRules,
        settings: &WorkingTimeSettings,
    ) -> Work<'a> {
        // Back far enough for the longest reference period before the window's last Monday
        // (plus a week for local weeks and DST), forward for a 7-day window from its end.
        let back = WEEK * i32::try_from(rules.longest_reference_weeks() + 2).unwrap_or(i32::MAX);
        let start = window.start().checked_sub(back).unwrap_or(window.start());
        let end = window.end().checked_add(WEEK + DAY).unwrap_or(window.end());
        let reach = Interval::new(start, end).unwrap_or(window);
        let mut occurrences = Vec::new();
        for (shift_idx, shift) in roster.shifts.iter().enumerate() {
            if !settings.counts_as_work(shift) {
                continue;
            }
            // A stored shift was expanded within the budget when it was written.
            let expanded = match &shift.schedule {
                Schedule::OneOff(interval) => vec![*interval],
                Schedule::Recurring(recurring) => recurring.occurrences_within(reach).unwrap_or_default(),
            };
            occurrences.extend(
                expanded
                    .into_iter()
                    .filter_map(|occurrence| occurrence.intersection(&reach).map(|_| (occurrence, shift_idx))),
            );
        }
        occurrences.sort_unstable_by_key(|(occurrence, shift_idx)| (occurrence.start(), occurrence.end(), *shift_idx));
        let occurrence_starts = occurrences.iter().map(|(occurrence, _)| occurrence.start()).collect();
        let longest_occurrence = occurrences
            .iter()
            .map(|(occurrence, _)| SignedDuration::from_secs(occurrence.duration_secs()))
            .max()
            .unwrap_or(SignedDuration::ZERO);
        let stretches =
            subtract(&merge(occurrences.iter().map(|(occurrence, _)| *occurrence).collect()), &roster.time_off_merged);
        Work { roster, occurrences, occurrence_starts, longest_occurrence, stretches: Summed::new(stretches) }
    }

    fn worked_in(&self, window: Interval) -> SignedDuration {
        self.stretches.within(window)
    }

    /// The longest stretch without work inside `window`, its ends included.
    fn longest_rest_in(&self, window: Interval) -> SignedDuration {
        let mut longest = SignedDuration::ZERO;
        let mut rest_from = window.start();
        for stretch in overlapping(&self.stretches.intervals, window) {
            let busy = stretch.intersection(&window).expect("overlapping");
            longest = longest.max(busy.start().duration_since(rest_from));
            rest_from = busy.end();
        }
        longest.max(window.end().duration_since(rest_from))
    }

    /// The shifts whose occurrences hold work inside `window`, in ID order.
    fn shifts_working_in(&self, window: Interval) -> Vec<ShiftId> {
        // No occurrence that starts before this one can reach into the window.
        let earliest = window.start().checked_sub(self.longest_occurrence).unwrap_or(window.start());
        let first = self.occurrence_starts.partition_point(|start| *start < earliest);
        let first_after = self.occurrence_starts.partition_point(|start| *start < window.end());
        let mut shift_idxs: Vec<usize> = self.occurrences[first..first_after]
            .iter()
            .filter_map(|(occurrence, shift_idx)| {
                let inside = occurrence.intersection(&window)?;
                // Without time off, every occurrence is work throughout.
                let worked =
                    self.roster.time_off_merged.is_empty() || self.stretches.within(inside) > SignedDuration::ZERO;
                worked.then_some(*shift_idx)
            })
            .collect();
        shift_idxs.sort_unstable();
        shift_idxs.dedup();
        // Shifts are sorted by ID, so their positions are too.
        shift_idxs.into_iter().map(|shift_idx| self.roster.shifts[shift_idx].shift_id.clone()).collect()
    }

    /// Working days and night-working days inside `window`: the local days on which a stretch of
    /// work starts, and those whose stretches hold at least the minimum of night time (`night`,
    /// the night time of the stretches).
    fn working_days(
        &self,
        night: &Summed,
        zone: &Zone,
        window: Interval,
        min_night_work: impl Fn(Instant) -> SignedDuration,
    ) -> (u32, u32) {
        let mut night_by_day: BTreeMap<Date, (Instant, SignedDuration)> = BTreeMap::new();
        for stretch in self.stretches.intervals.iter().filter(|stretch| window.contains(stretch.start())) {
            let day = zone.to_local(stretch.start()).date();
            let entry = night_by_day.entry(day).or_insert((stretch.start(), SignedDuration::ZERO));
            entry.1 += night.within(*stretch);
        }
        let night_days =
            night_by_day.values().filter(|(first_start, night)| *night >= min_night_work(*first_start)).count();
        (night_by_day.len() as u32, night_days as u32)
    }
}

/// The stretches of `intervals` (sorted, disjoint) that overlap `window`.
fn overlapping(intervals: &[Interval], window: Interval) -> impl Iterator<Item = &Interval> {
    let first = intervals.partition_point(|interval| interval.end() <= window.start());
    intervals[first..].iter().take_while(move |interval| interval.start() < window.end())
}

/// Sorted, disjoint intervals with their running total, so that the length inside any window
/// takes two binary searches.
struct Summed {
    intervals: Vec<Interval>,
    /// `totals[i]`: the seconds of the first `i` intervals.
    totals: Vec<i64>,
}

impl Summed {
    fn new(intervals: Vec<Interval>) -> Summed {
        let mut totals = Vec::with_capacity(intervals.len() + 1);
        totals.push(0);
        for interval in &intervals {
            totals.push(totals.last().copied().unwrap_or(0) + interval.duration_secs());
        }
        Summed { intervals, totals }
    }

    /// The seconds of the intervals before `at`.
    fn before(&self, at: Instant) -> i64 {
        let ended = self.intervals.partition_point(|interval| interval.end() <= at);
        let partial = self
            .intervals
            .get(ended)
            .filter(|interval| interval.start() < at)
            .map_or(0, |interval| at.as_second() - interval.start().as_second());
        self.totals[ended] + partial
    }

    fn within(&self, window: Interval) -> SignedDuration {
        SignedDuration::from_secs(self.before(window.end()) - self.before(window.start()))
    }
}

/// The night time of `stretches` in the agent's home zone: the nights of every local day from the
/// one before each stretch starts to the one it ends on.
fn night_work(stretches: &[Interval], zone: &Zone, limits: &WorkingTimeLimits) -> Vec<Interval> {
    let mut converter = LocalTimeConverter::new(zone);
    let mut nights = Vec::new();
    let mut next_day: Option<Date> = None;
    for stretch in stretches {
        let first = zone.to_local(stretch.start()).date().saturating_sub(1.days());
        let last = zone.to_local(stretch.end()).date();
        let mut day = next_day.map_or(first, |next| next.max(first));
        while day <= last {
            nights.push(night_of(&mut converter, day, limits));
            day = day.saturating_add(1.days());
        }
        next_day = Some(day);
    }
    intersect(stretches, &nights)
}

/// The night that starts on local `day`, ending the next day when its end is not after its start.
fn night_of(converter: &mut LocalTimeConverter<'_>, day: Date, limits: &WorkingTimeLimits) -> Interval {
    let end_day = if limits.night_ends <= limits.night_starts { day.saturating_add(1.days()) } else { day };
    let start = converter.to_instant(day.to_datetime(limits.night_starts));
    let end = converter.to_instant(end_day.to_datetime(limits.night_ends));
    Interval::new(start, end)
        .unwrap_or_else(|| Interval::following(start, SignedDuration::from_secs(1)).expect("in range"))
}

fn monday_on_or_before(day: Date) -> Date {
    day.saturating_sub(i64::from(day.weekday().to_monday_zero_offset()).days())
}

mod warnings;
pub use warnings::{breaches_gained, change_warnings, introduced_breaches, upsert_warnings, Warning};

#[cfg(test)]
mod tests;

//! Coverage reports: for a plan and a window, per severity, how much of the required time has
//! at least `min_staff` distinct eligible agents on shift, where it does not and why, and where
//! it hangs on exactly `min_staff` people.
//!
//! Every shift is expanded once into pieces of constant eligibility; then one sweep over the
//! sorted interval endpoints per severity classifies every stretch of required time. The cost is
//! O(n log n) in the number of shift occurrences.
//!
//! The sweep goes through the window in consecutive slices, each sorting only the endpoints that
//! fall in it, so a large roster's report holds one slice's endpoints rather than the whole
//! window's. Every count is a function of the instant alone, so the slices' stretches, joined at
//! the seams, are the same maximal gaps and thin stretches one sweep over the window finds.
//!
//! Two reports over two states of a roster that differ in a few agents (a what-if, a sync's
//! before and after) come from one sweep: each endpoint says which report it counts in (both,
//! or only one), and the sweep keeps one set of counts per report. The agents the two states
//! share are expanded and sorted once.

use super::eligibility::{piece_covers, shift_pieces, EligibilityContext, ShiftPiece};
use super::interval::{intersect, merge, subtract, Interval};
use super::parallel::Parallelism;
use super::policy::{PlanKind, PlanRules, ServiceHours, Severity};
use super::roster::AgentRoster;
use super::snapshot::Snapshot;
use super::time::{Instant, Zone};

/// The longest window a report may cover.
pub const MAX_REPORT_DAYS: i64 = 366;
/// Cells of the hour-of-week grid: 7 weekdays (Monday first) by 24 local hours in Brussels.
pub const HOURS_PER_WEEK: usize = 7 * 24;

/// What a manager asks.
#[derive(Clone, Copy, Debug)]
pub struct CoverageQuestion {
    pub plan: PlanKind,
    /// Matters for STANDARD only: EEA-tagged tickets narrow who is eligible.
    pub eea_tagged: bool,
    pub window: Interval,
    pub min_staff: u32,
}

/// Why there is a gap, the first that applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GapCause {
    /// Some eligible staff are on shift, but fewer than the minimum.
    BelowMinimum,
    /// An eligible agent's shift is cancelled by time off.
    StaffOnTimeOff,
    /// Someone who handles the severity is on shift, but nobody eligible.
    OnlyIneligibleStaff,
    NoOneScheduled,
}

/// A maximal stretch of required time with one cause and one headcount below the minimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub interval: Interval,
    pub eligible_on_shift: u32,
    pub cause: GapCause,
}

/// The lowest eligible headcount seen in one hour-of-week cell, over required time only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HourCell {
    /// `None` when no required time falls in this cell within the window.
    pub min_eligible: Option<u32>,
}

/// One requirement (a severity under the plan) over the window.
#[derive(Clone, Debug, PartialEq)]
pub struct RequirementCoverage {
    pub severity: Severity,
    pub around_the_clock: bool,
    pub required_micros: i64,
    pub covered_micros: i64,
    pub gaps: Vec<Gap>,
    /// Maximal stretches of required time with exactly `min_staff` eligible agents.
    pub thin: Vec<Interval>,
    /// `HOURS_PER_WEEK` cells, Monday 00:00 first, in `Europe/Brussels` wall time.
    pub hour_of_week: Vec<HourCell>,
}

impl RequirementCoverage {
    /// Covered over required time; 1.0 when nothing is required.
    pub fn coverage_ratio(&self) -> f64 {
        if self.required_micros == 0 {
            1.0
        } else {
            self.covered_micros as f64 / self.required_micros as f64
        }
    }
}

/// An interval as microseconds since the epoch: half the size of an [`Interval`], for the
/// millions an expanded report over a large roster holds.
#[derive(Clone, Copy)]
struct Span {
    start: i64,
    end: i64,
}

fn spans(intervals: &[Interval]) -> Box<[Span]> {
    intervals.iter().map(|interval| Span { start: micros(interval.start()), end: micros(interval.end()) }).collect()
}

/// One agent's intervals for one severity, each sorted and merged.
struct AgentTimeline {
    eligible: Box<[Span]>,
    cancelled_by_time_off: Box<[Span]>,
    ineligible: Box<[Span]>,
}

fn agent_timeline(roster: &AgentRoster, pieces: &[ShiftPiece], severity: Severity) -> AgentTimeline {
    let (mut eligible, mut ineligible) = (Vec::new(), Vec::new());
    for piece in pieces.iter().filter(|piece| piece_covers(roster, piece, severity)) {
        if piece.eligible {
            eligible.push(piece.interval);
        } else {
            ineligible.push(piece.interval);
        }
    }
    let eligible = merge(eligible);
    if roster.time_off_merged.is_empty() {
        return AgentTimeline {
            eligible: spans(&eligible),
            cancelled_by_time_off: Box::default(),
            ineligible: spans(&merge(ineligible)),
        };
    }
    AgentTimeline {
        cancelled_by_time_off: spans(&intersect(&eligible, &roster.time_off_merged)),
        eligible: spans(&subtract(&eligible, &roster.time_off_merged)),
        ineligible: spans(&subtract(&merge(ineligible), &roster.time_off_merged)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Counter {
    Eligible = 0,
    Cancelled = 1,
    Ineligible = 2,
}

/// Which report of a sweep an agent's intervals count in: a plain report has one, and every
/// agent counts in it; a comparison of two states has two, and an agent the states share counts
/// in both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Both = 0,
    BeforeOnly = 1,
    AfterOnly = 2,
}

/// An endpoint of some agent's interval, packed into one integer so the sweep sorts plain
/// integers: microseconds in the high bits, then the side (2 bits), the counter (2 bits) and the
/// sign (1 bit). Microseconds of 1970..2200 need 53 bits, so the packing cannot overflow.
type Event = i64;

fn event(at_micros: i64, side: Side, counter: Counter, opens: bool) -> Event {
    (at_micros << 5) | ((side as i64) << 3) | ((counter as i64) << 1) | i64::from(opens)
}

fn event_micros(event: Event) -> i64 {
    event >> 5
}

#[derive(Clone, Copy, Default)]
struct Counts {
    eligible: i32,
    cancelled: i32,
    ineligible: i32,
}

fn micros(instant: Instant) -> i64 {
    instant.as_microsecond()
}

fn instant_at(micros: i64) -> Instant {
    Instant::from_microsecond(micros).expect("built from instants in range")
}

/// Accumulates classified stretches into maximal gaps and thin intervals.
struct ReportBuilder {
    min_staff: u32,
    covered_micros: i64,
    gaps: Vec<Gap>,
    thin: Vec<Interval>,
}

impl ReportBuilder {
    fn new(min_staff: u32) -> ReportBuilder {
        ReportBuilder { min_staff, covered_micros: 0, gaps: Vec::new(), thin: Vec::new() }
    }

    fn add(&mut self, stretch: Interval, counts: Counts) {
        let eligible = counts.eligible.max(0) as u32;
        if eligible >= self.min_staff {
            self.covered_micros += micros(stretch.end()) - micros(stretch.start());
            if eligible == self.min_staff {
                self.push_thin(stretch);
            }
            return;
        }
        let cause = if eligible > 0 {
            GapCause::BelowMinimum
        } else if counts.cancelled > 0 {
            GapCause::StaffOnTimeOff
        } else if counts.ineligible > 0 {
            GapCause::OnlyIneligibleStaff
        } else {
            GapCause::NoOneScheduled
        };
        self.push_gap(Gap { interval: stretch, eligible_on_shift: eligible, cause });
    }

    fn push_thin(&mut self, stretch: Interval) {
        match self.thin.last_mut() {
            Some(last) if last.end() == stretch.start() => *last = last.hull(&stretch),
            _ => self.thin.push(stretch),
        }
    }

    fn push_gap(&mut self, gap: Gap) {
        match self.gaps.last_mut() {
            Some(last)
                if last.interval.end() == gap.interval.start()
                    && last.cause == gap.cause
                    && last.eligible_on_shift == gap.eligible_on_shift =>
            {
                last.interval = last.interval.hull(&gap.interval);
            }
            _ => self.gaps.push(gap),
        }
    }

    /// Appends what a later slice found, joining a gap or thin stretch that runs across the seam.
    fn append(&mut self, later: &ReportBuilder) {
        self.covered_micros += later.covered_micros;
        for gap in &later.gaps {
            self.push_gap(*gap);
        }
        for stretch in &later.thin {
            self.push_thin(*stretch);
        }
    }
}

/// The hour-of-week grid: each UTC hour of the window labelled by its Brussels weekday and hour.
/// Brussels offsets are whole hours, so UTC hours and local hours share their boundaries.
struct HourGrid {
    first_hour_micros: i64,
    cell_of_hour: Vec<usize>,
}

const MICROS_PER_HOUR: i64 = 3_600_000_000;

impl HourGrid {
    fn new(window: Interval) -> HourGrid {
        let zone = Zone::brussels();
        let first_hour_micros = micros(window.start()).div_euclid(MICROS_PER_HOUR) * MICROS_PER_HOUR;
        let n_hours = (micros(window.end()) - first_hour_micros + MICROS_PER_HOUR - 1) / MICROS_PER_HOUR;
        let cell_of_hour = (0..n_hours)
            .map(|hour_idx| {
                let local = zone.to_local(instant_at(first_hour_micros + hour_idx * MICROS_PER_HOUR));
                let weekday = usize::from(local.weekday().to_monday_zero_offset() as u8);
                weekday * 24 + local.hour() as usize
            })
            .collect();
        HourGrid { first_hour_micros, cell_of_hour }
    }

    /// Lowers every cell that `stretch` touches to at most `eligible`.
    fn record(&self, cells: &mut [HourCell], stretch: Interval, eligible: u32) {
        let first = (micros(stretch.start()) - self.first_hour_micros).div_euclid(MICROS_PER_HOUR);
        let last = (micros(stretch.end()) - 1 - self.first_hour_micros).div_euclid(MICROS_PER_HOUR);
        for hour_idx in first..=last {
            let cell = &mut cells[self.cell_of_hour[hour_idx as usize]];
            cell.min_eligible = Some(cell.min_eligible.map_or(eligible, |known| known.min(eligible)));
        }
    }
}

/// One sweep over a slice's sorted events: per report (`n_reports`, 1 or 2), its stretches
/// classified and its hour-of-week cells.
fn sweep(
    required: &[Interval],
    mut events: Vec<Event>,
    min_staff: u32,
    grid: &HourGrid,
    n_reports: usize,
) -> Vec<(ReportBuilder, Vec<HourCell>)> {
    events.sort_unstable();
    let mut found: Vec<(ReportBuilder, Vec<HourCell>)> =
        (0..n_reports).map(|_| (ReportBuilder::new(min_staff), vec![HourCell::default(); HOURS_PER_WEEK])).collect();
    let mut counts = vec![Counts::default(); n_reports];
    let mut event_idx = 0;
    for window in required {
        // Apply every event up to the start of this required interval.
        while event_idx < events.len() && event_micros(events[event_idx]) <= micros(window.start()) {
            apply(&mut counts, events[event_idx]);
            event_idx += 1;
        }
        let mut cursor = micros(window.start());
        while cursor < micros(window.end()) {
            let next = events.get(event_idx).map_or(i64::MAX, |event| event_micros(*event)).min(micros(window.end()));
            if next > cursor {
                let stretch = Interval::new(instant_at(cursor), instant_at(next)).expect("next is after the cursor");
                for ((builder, cells), counts) in found.iter_mut().zip(&counts) {
                    builder.add(stretch, *counts);
                    grid.record(cells, stretch, counts.eligible.max(0) as u32);
                }
            }
            cursor = next;
            while event_idx < events.len() && event_micros(events[event_idx]) <= cursor {
                apply(&mut counts, events[event_idx]);
                event_idx += 1;
            }
        }
    }
    found
}

/// Applies an event to the counts of the reports it counts in: `counts` is `[report]` for a plain
/// report, whose events all count in it, or `[before, after]` for two compared.
fn apply(counts: &mut [Counts], event: Event) {
    let delta = if event & 1 == 1 { 1 } else { -1 };
    let reports: &mut [Counts] = match (event >> 3) & 0b11 {
        0 => counts,
        1 => &mut counts[..1],
        _ => &mut counts[1..],
    };
    for counts in reports {
        match (event >> 1) & 0b11 {
            0 => counts.eligible += delta,
            1 => counts.cancelled += delta,
            _ => counts.ineligible += delta,
        }
    }
}

/// One agent's expanded shifts, and whether any severity limit applies to it.
struct ExpandedAgent<'a> {
    roster: &'a AgentRoster,
    /// The reports the agent counts in.
    side: Side,
    /// Kept only for an agent without a `shared` timeline: the rest need them no more, and a
    /// report over 50,000 agents would hold them all at once.
    pieces: Vec<ShiftPiece>,
    /// When neither the agent nor any of its shifts limits severities, the one timeline that
    /// serves every severity.
    shared: Option<AgentTimeline>,
}

/// Severities whose reports are necessarily identical: same service hours, and no agent or
/// shift that handles one but not the other. Each class is computed once.
fn severity_classes(expanded: &[ExpandedAgent], rules: &PlanRules) -> Vec<Vec<Severity>> {
    let same = |left: Severity, right: Severity| {
        rules.hours_for(left) == rules.hours_for(right)
            && expanded.iter().all(|agent| {
                agent.shared.is_some()
                    || (agent.roster.agent.severities.allows(left) == agent.roster.agent.severities.allows(right)
                        && agent
                            .pieces
                            .iter()
                            .all(|piece| piece.severities.allows(left) == piece.severities.allows(right)))
            })
    };
    let mut classes: Vec<Vec<Severity>> = Vec::new();
    for severity in Severity::ALL {
        match classes.iter_mut().find(|class| same(class[0], severity)) {
            Some(class) => class.push(severity),
            None => classes.push(vec![severity]),
        }
    }
    classes
}

/// Agent-days one slice of a report sweeps at once: a report over 5,000 agents sorts 50 days of
/// interval endpoints at a time, one over 50,000 agents 5 days.
const AGENT_DAYS_PER_SLICE: i64 = 250_000;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// The report: one entry per severity, Sev1 first. Agents' shifts are expanded, and severities
/// swept, on as many threads as `parallelism` allows; each sweep goes one slice of the window at
/// a time.
pub fn coverage_report(
    snapshot: &Snapshot,
    question: &CoverageQuestion,
    parallelism: Parallelism,
) -> Vec<RequirementCoverage> {
    report_in_slices(snapshot, question, parallelism, slice_micros(snapshot.n_agents()))
}

/// The plain report, swept in slices of `slice_micros`.
fn report_in_slices(
    snapshot: &Snapshot,
    question: &CoverageQuestion,
    parallelism: Parallelism,
    slice_micros: i64,
) -> Vec<RequirementCoverage> {
    let rosters: Vec<(&AgentRoster, Side)> = snapshot.agents().map(|roster| (roster, Side::Both)).collect();
    let mut reports = reports_in_slices(snapshot, &rosters, 1, question, parallelism, slice_micros);
    reports.pop().expect("one report asked for")
}

/// The reports over two states of a roster, `before` and `after`, each the one
/// [`coverage_report`] gives for its state. The agents whose roster is the same in both (the
/// same shared value, or an equal one) are expanded once and count in both reports; only the
/// others are expanded twice. Both states must hold the same policy.
pub fn coverage_reports_compared(
    before: &Snapshot,
    after: &Snapshot,
    question: &CoverageQuestion,
    parallelism: Parallelism,
) -> ReportsCompared {
    let mut rosters: Vec<(&AgentRoster, Side)> = Vec::with_capacity(after.n_agents());
    for after_roster in after.agents() {
        match before.agent(after_roster.agent.agent_id.as_str()) {
            Some(before_roster) if std::ptr::eq(before_roster, after_roster) || before_roster == after_roster => {
                rosters.push((after_roster, Side::Both));
            }
            Some(before_roster) => {
                rosters.push((before_roster, Side::BeforeOnly));
                rosters.push((after_roster, Side::AfterOnly));
            }
            None => rosters.push((after_roster, Side::AfterOnly)),
        }
    }
    rosters.extend(
        before
            .agents()
            .filter(|roster| after.agent(roster.agent.agent_id.as_str()).is_none())
            .map(|roster| (roster, Side::BeforeOnly)),
    );
    let mut reports = reports_in_slices(after, &rosters, 2, question, parallelism, slice_micros(rosters.len()));
    let after_reports = reports.pop().expect("two reports asked for");
    let before_reports = reports.pop().expect("two reports asked for");
    ReportsCompared { before: before_reports, after: after_reports }
}

/// The two reports of [`coverage_reports_compared`].
#[derive(Clone, Debug, PartialEq)]
pub struct ReportsCompared {
    pub before: Vec<RequirementCoverage>,
    pub after: Vec<RequirementCoverage>,
}

/// The span of one slice of a sweep over `n_rosters` agents' timelines.
fn slice_micros(n_rosters: usize) -> i64 {
    (AGENT_DAYS_PER_SLICE / n_rosters.max(1) as i64).max(1) * MICROS_PER_DAY
}

/// One requirement's findings so far, slice by slice.
struct Findings {
    builder: ReportBuilder,
    hour_of_week: Vec<HourCell>,
}

impl Findings {
    fn append(&mut self, later: &ReportBuilder, later_cells: &[HourCell]) {
        self.builder.append(later);
        for (cell, later_cell) in self.hour_of_week.iter_mut().zip(later_cells) {
            cell.min_eligible = match (cell.min_eligible, later_cell.min_eligible) {
                (Some(known), Some(later)) => Some(known.min(later)),
                (known, later) => known.or(later),
            };
        }
    }
}

/// Consecutive slices of at most `slice_micros` that tile `window`.
fn slices(window: Interval, slice_micros: i64) -> impl Iterator<Item = Interval> {
    let (start, end) = (micros(window.start()), micros(window.end()));
    (start..end).step_by(usize::try_from(slice_micros).expect("a slice is a positive span")).map(move |from| {
        Interval::new(instant_at(from), instant_at((from + slice_micros).min(end))).expect("non-empty")
    })
}

/// `n_reports` reports (1, or 2 for before and after) over `rosters`, each agent counting in the
/// reports its side names. `snapshot` gives the policy and the eligibility context (a report's
/// context names no ticket, so no consent, and any state of the roster serves).
fn reports_in_slices(
    snapshot: &Snapshot,
    rosters: &[(&AgentRoster, Side)],
    n_reports: usize,
    question: &CoverageQuestion,
    parallelism: Parallelism,
    slice_micros: i64,
) -> Vec<Vec<RequirementCoverage>> {
    let context = snapshot.eligibility_context(question.plan, question.eea_tagged);
    let rules = snapshot.policy.rules(question.plan);
    // Shifts are expanded once, for all severities; agents are independent, so in parallel.
    let expanded: Vec<ExpandedAgent> = parallelism
        .map_in_order(rosters, |&(roster, side)| expand_agent(&context, roster, side, question.window))
        .into_iter()
        .flatten()
        .collect();
    let grid = HourGrid::new(question.window);
    let classes = severity_classes(&expanded, rules);
    let class_reports = parallelism.map_in_order(&classes, |class| {
        let severity = class[0];
        let hours = rules.hours_for(severity);
        let required = merge(hours.windows_within(question.window));
        let own: Vec<Option<AgentTimeline>> = expanded
            .iter()
            .map(|agent| agent.shared.is_none().then(|| agent_timeline(agent.roster, &agent.pieces, severity)))
            .collect();
        let timelines: Vec<(&AgentTimeline, Side)> = expanded
            .iter()
            .zip(&own)
            .map(|(agent, own)| (agent.shared.as_ref().or(own.as_ref()).expect("shared or its own"), agent.side))
            .collect();
        let required_micros = required.iter().map(|interval| micros(interval.end()) - micros(interval.start())).sum();
        sweep_in_slices(&timelines, &required, question, &grid, slice_micros, n_reports)
            .into_iter()
            .map(|findings| RequirementCoverage {
                severity,
                around_the_clock: matches!(hours, ServiceHours::AroundTheClock),
                required_micros,
                covered_micros: findings.builder.covered_micros,
                gaps: findings.builder.gaps,
                thin: findings.builder.thin,
                hour_of_week: findings.hour_of_week,
            })
            .collect::<Vec<_>>()
    });
    (0..n_reports)
        .map(|report_idx| {
            let mut reports: Vec<RequirementCoverage> = Vec::with_capacity(Severity::ALL.len());
            for (class, class_report) in classes.iter().zip(&class_reports) {
                let report = &class_report[report_idx];
                for member in &class[1..] {
                    reports.push(RequirementCoverage { severity: *member, ..report.clone() });
                }
                reports.push(report.clone());
            }
            reports.sort_by_key(|report| report.severity);
            reports
        })
        .collect()
}

/// Sweeps the window one slice at a time: each slice sorts only the endpoints of the
/// intervals (clipped) that fall in it, so the sort's memory is one slice's, not the window's.
fn sweep_in_slices(
    timelines: &[(&AgentTimeline, Side)],
    required: &[Interval],
    question: &CoverageQuestion,
    grid: &HourGrid,
    slice_micros: i64,
    n_reports: usize,
) -> Vec<Findings> {
    let mut findings: Vec<Findings> = (0..n_reports)
        .map(|_| Findings {
            builder: ReportBuilder::new(question.min_staff),
            hour_of_week: vec![HourCell::default(); HOURS_PER_WEEK],
        })
        .collect();
    // Per agent, the first eligible, cancelled and ineligible interval not yet swept to its end.
    let mut next = vec![[0usize; 3]; timelines.len()];
    for slice in slices(question.window, slice_micros) {
        let mut events = Vec::new();
        let slice_span = Span { start: micros(slice.start()), end: micros(slice.end()) };
        for ((timeline, side), next) in timelines.iter().zip(&mut next) {
            let mut push = |spans: &[Span], next: &mut usize, counter: Counter| {
                push_events_within(&mut events, spans, next, slice_span, (*side, counter));
            };
            push(&timeline.eligible, &mut next[0], Counter::Eligible);
            push(&timeline.cancelled_by_time_off, &mut next[1], Counter::Cancelled);
            push(&timeline.ineligible, &mut next[2], Counter::Ineligible);
        }
        let found = sweep(&intersect(required, &[slice]), events, question.min_staff, grid, n_reports);
        for (findings, (builder, cells)) in findings.iter_mut().zip(&found) {
            findings.append(builder, cells);
        }
    }
    findings
}

/// The endpoints of `spans` (sorted, within the window) clipped to `slice`, from `*next` on;
/// `*next` moves past the spans that end within the slice.
fn push_events_within(
    events: &mut Vec<Event>,
    spans: &[Span],
    next: &mut usize,
    slice: Span,
    (side, counter): (Side, Counter),
) {
    while let Some(span) = spans.get(*next) {
        if span.start >= slice.end {
            return;
        }
        let (start, end) = (span.start.max(slice.start), span.end.min(slice.end));
        if start < end {
            events.push(event(start, side, counter, true));
            events.push(event(end, side, counter, false));
        }
        if span.end > slice.end {
            return;
        }
        *next += 1;
    }
}

/// One agent's shifts within `window`; `None` when it has none there.
fn expand_agent<'a>(
    context: &EligibilityContext,
    roster: &'a AgentRoster,
    side: Side,
    window: Interval,
) -> Option<ExpandedAgent<'a>> {
    let pieces = shift_pieces(context, roster, window);
    if pieces.is_empty() {
        return None;
    }
    let unrestricted = roster.agent.severities.is_empty() && pieces.iter().all(|piece| piece.severities.is_empty());
    // Such an agent's timeline is the same for every severity: built here, once.
    let shared = unrestricted.then(|| agent_timeline(roster, &pieces, Severity::Sev1));
    let pieces = if shared.is_some() { Vec::new() } else { pieces };
    Some(ExpandedAgent { roster, side, pieces, shared })
}

/// What changed between two gap lists of one requirement: the stretches that are gaps only in
/// `after` (with their cause after) and those that were gaps only in `before` (cause before).
pub fn gap_changes(before: &[Gap], after: &[Gap]) -> (Vec<Gap>, Vec<Gap>) {
    let only_in = |gaps: &[Gap], other: &[Gap]| -> Vec<Gap> {
        let other_intervals = merge(other.iter().map(|gap| gap.interval).collect());
        gaps.iter()
            .flat_map(|gap| {
                subtract(&[gap.interval], &other_intervals).into_iter().map(move |interval| Gap {
                    interval,
                    eligible_on_shift: gap.eligible_on_shift,
                    cause: gap.cause,
                })
            })
            .collect()
    };
    (only_in(after, before), only_in(before, after))
}

/// The interval endpoints of the four requirements' timelines (eligible, cancelled by time off,
/// ineligible), all severities together, unsorted: what a sweep per requirement has to order,
/// the baseline a benchmark compares the whole report with. The report itself sweeps severities
/// with identical timelines once.
pub fn sweep_endpoints(snapshot: &Snapshot, question: &CoverageQuestion) -> Vec<i64> {
    let context = snapshot.eligibility_context(question.plan, question.eea_tagged);
    let mut endpoints = Vec::new();
    for roster in snapshot.agents() {
        let pieces = shift_pieces(&context, roster, question.window);
        for severity in Severity::ALL {
            let timeline = agent_timeline(roster, &pieces, severity);
            for span in timeline.eligible.iter().chain(&timeline.cancelled_by_time_off).chain(&timeline.ineligible) {
                endpoints.push(span.start);
                endpoints.push(span.end);
            }
        }
    }
    endpoints
}

#[cfg(test)]
mod tests;

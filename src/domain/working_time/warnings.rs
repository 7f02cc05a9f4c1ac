//! What a write would break: the breaches of the Working Time Directive a change to an agent's
//! shifts or time off introduces, for the warnings `UpsertShifts`, `SyncShifts` and
//! `SimulateCoverage` answer. An agent's breaches are compared before and after the change over
//! the period it touches, so a breach the agent already had is never reported again.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{agent_breaches, Breach, WorkingTimeRule, WorkingTimeSettings, WEEK};
use crate::domain::ids::AgentId;
use crate::domain::interval::Interval;
use crate::domain::parallel::Parallelism;
use crate::domain::policy::WorkingTimeRules;
use crate::domain::roster::{AgentRoster, Roster, Shift};
use crate::domain::time::Instant;

/// The breaches a change to one agent introduces: those of the agent after the change, over the
/// period the change touches (`changed`: the hull of the changed entries' occurrences and
/// periods, before and after), whose rule and window the agent before the change did not break.
pub fn introduced_breaches(
    before: Option<&AgentRoster>,
    after: &AgentRoster,
    changed: Interval,
    rules: &WorkingTimeRules,
    settings: &WorkingTimeSettings,
) -> Vec<Breach> {
    // Windows that start up to a week before the change reach into it, and Mondays up to the
    // longest reference period after it average it in.
    let lookback = WEEK;
    let lookahead = WEEK * i32::try_from(rules.longest_reference_weeks() + 1).unwrap_or(i32::MAX);
    let start = changed.start().checked_sub(lookback).unwrap_or(changed.start());
    let end = changed.end().checked_add(lookahead).unwrap_or(changed.end());
    let Some(period) = Interval::new(start, end) else { return Vec::new() };
    breaches_gained(before, after, period, rules, settings)
}

/// The breaches checked inside `window` that the agent has after a change and did not have before
/// it (the same rule checked at the same instant).
pub fn breaches_gained(
    before: Option<&AgentRoster>,
    after: &AgentRoster,
    window: Interval,
    rules: &WorkingTimeRules,
    settings: &WorkingTimeSettings,
) -> Vec<Breach> {
    let breaches_of = |roster: &AgentRoster| agent_breaches(roster, window, rules, settings);
    let known: BTreeSet<(WorkingTimeRule, Instant)> =
        before.map(breaches_of).unwrap_or_default().iter().map(|breach| (breach.rule, breach.checked_at())).collect();
    breaches_of(after).into_iter().filter(|breach| !known.contains(&(breach.rule, breach.checked_at()))).collect()
}

/// A breach a write introduces, with its agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub agent_id: AgentId,
    pub breach: Breach,
}

/// The breaches a change of one agent's entries introduces: `changed` holds the IDs of the shifts
/// and of the time off created, replaced or removed (found in either roster); the period they
/// touch is the hull of their occurrences and periods within `bound`.
pub fn change_warnings(
    before: Option<&AgentRoster>,
    after: &AgentRoster,
    changed: (&HashSet<&str>, &HashSet<&str>),
    bound: Interval,
    rules: &WorkingTimeRules,
    settings: &WorkingTimeSettings,
) -> Vec<Warning> {
    let (changed_shift_ids, changed_time_off_ids) = changed;
    let rosters = || before.into_iter().chain([after]);
    let shifts = rosters()
        .flat_map(|roster| roster.shifts.iter())
        .filter(|shift| changed_shift_ids.contains(shift.shift_id.as_str()) && settings.counts_as_work(shift));
    let mut touched: Vec<Interval> = shifts
        .flat_map(|shift| {
            let occurrences = shift.occurrences_within(bound).unwrap_or_default();
            occurrences.first().zip(occurrences.last()).map(|(first, last)| first.hull(last))
        })
        .collect();
    touched.extend(
        rosters()
            .flat_map(|roster| roster.time_off.iter())
            .filter(|entry| changed_time_off_ids.contains(entry.time_off_id.as_str()))
            .filter_map(|entry| entry.period.intersection(&bound)),
    );
    let Some(changed) = touched.iter().copied().reduce(|hull, interval| hull.hull(&interval)) else {
        return Vec::new();
    };
    introduced_breaches(before, after, changed, rules, settings)
        .into_iter()
        .map(|breach| Warning { agent_id: after.agent.agent_id.clone(), breach })
        .collect()
}

/// The breaches that creating or replacing `shifts` (a direct upsert) introduces, agent by
/// agent in ID order, the agents spread over `parallelism`. Shifts of unknown agents are left to
/// the write to refuse.
pub fn upsert_warnings(
    before: &Roster,
    shifts: &[Shift],
    bound: Interval,
    (rules, settings): (&WorkingTimeRules, &WorkingTimeSettings),
    parallelism: Parallelism,
) -> Vec<Warning> {
    let changed_ids: HashSet<&str> = shifts.iter().map(|shift| shift.shift_id.as_str()).collect();
    let mut by_agent: BTreeMap<&AgentId, Vec<&Shift>> = BTreeMap::new();
    for shift in shifts {
        by_agent.entry(&shift.agent_id).or_default().push(shift);
    }
    let no_time_off = HashSet::new();
    let agents: Vec<(&AgentRoster, Vec<&Shift>)> =
        by_agent.into_iter().filter_map(|(agent_id, added)| Some((before.agent(agent_id.as_str())?, added))).collect();
    parallelism
        .map_in_order(&agents, |(stored, added)| {
            let mut kept: Vec<Shift> =
                stored.shifts.iter().filter(|shift| !changed_ids.contains(shift.shift_id.as_str())).cloned().collect();
            kept.extend(added.iter().map(|shift| (*shift).clone()));
            let after = AgentRoster::new(stored.agent.clone(), kept, stored.time_off.clone());
            change_warnings(Some(stored), &after, (&changed_ids, &no_time_off), bound, rules, settings)
        })
        .into_iter()
        .flatten()
        .collect()
}

//! Staffed timelines held in the snapshot over a rolling horizon, so the hot path answers with
//! lookups: per eligibility class and severity, how many distinct eligible agents are on shift
//! at every instant, and which agents those are.
//!
//! Everything here is a sum over agents, kept in pieces that a change shares: each agent's own
//! pieces sit behind their own pointer, indexed by the agent's slot; the counts and the lists of
//! who is on shift are cut into buckets of the horizon (and the lists into chunks of slots).
//! A write that changes k agents takes their old contribution out and puts the new one in,
//! copying only the buckets and chunks those agents touch (`with_changes`); a horizon that moves
//! drops buckets at its start and adds them at its end (`rolled_to`). Readers hold whichever
//! timelines were in force when they started; nothing they hold changes under them.
//!
//! Questions outside the horizon (or about a ticket with consents, which only widen eligibility
//! for that ticket) take the full computation.

use std::sync::Arc;

use jiff::SignedDuration;

use super::country::Country;
use super::eligibility::{access_reason, eligible_duty, piece_covers, shift_pieces, EligibilityClass, ShiftPiece};
use super::ids::AgentId;
use super::interval::Interval;
use super::parallel::Parallelism;
use super::policy::{PolicyFacts, Severity, SeveritySet};
use super::roster::{AgentChange, AgentRoster, Roster, Slotted};
use super::time::Instant;

mod staffing;

pub use staffing::StaffingIndex;
use staffing::{interval_us, Grid, PendingSteps, BUCKET_US};

/// How far back and ahead of the snapshot's build instant the timelines reach at least; the
/// horizon's ends are rounded outwards to whole buckets.
pub const HORIZON_BACK: SignedDuration = SignedDuration::from_hours(7 * 24);
pub const HORIZON_AHEAD: SignedDuration = SignedDuration::from_hours(42 * 24);

/// Who is on shift in a bucket is kept in chunks of this many slots, so a change of one agent
/// copies one chunk of each bucket it touches, not a list of the whole organisation.
const CHUNK_SLOTS: usize = 512;

fn class_bit(class_idx: usize) -> u8 {
    1 << class_idx
}

/// One piece of an agent's shift within the horizon, with its eligibility for every class as
/// one bit each; instants as microseconds, to keep it small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    start_us: i64,
    end_us: i64,
    shift_idx: u32,
    severities: SeveritySet,
    country: Country,
    /// Bit `class.index()`: eligible for the class.
    eligible: u8,
}

impl Piece {
    fn contains_us(&self, at_us: i64) -> bool {
        self.start_us <= at_us && at_us < self.end_us
    }

    fn for_class(&self, class_idx: usize) -> ShiftPiece {
        ShiftPiece {
            interval: interval_us(self.start_us, self.end_us),
            shift_idx: self.shift_idx as usize,
            severities: self.severities,
            country: self.country,
            eligible: self.eligible & class_bit(class_idx) != 0,
        }
    }
}

/// One agent's pieces within the horizon, in shift then time order (as `shift_pieces` cuts them).
#[derive(Clone, Debug, PartialEq)]
struct AgentTimeline {
    agent_id: AgentId,
    pieces: Vec<Piece>,
}

impl AgentTimeline {
    /// Expands the agent's shifts over `range` and judges each piece for every class.
    fn build(roster: &Roster, facts: &PolicyFacts, agent_roster: &AgentRoster, range: Interval) -> AgentTimeline {
        // Pieces are cut at the same instants for every class (no ticket, so no consent); only
        // eligibility differs.
        let contexts = EligibilityClass::ALL.map(|class| class.context(roster, facts));
        let agent_id = agent_roster.agent.agent_id.as_str();
        let pieces = shift_pieces(&contexts[0], agent_roster, range)
            .into_iter()
            .map(|piece| {
                let eligible = contexts.iter().enumerate().fold(0u8, |bits, (class_idx, context)| {
                    let allows = access_reason(context, agent_id, piece.country, piece.interval.start()).allows();
                    if allows {
                        bits | class_bit(class_idx)
                    } else {
                        bits
                    }
                });
                Piece {
                    start_us: piece.interval.start().as_microsecond(),
                    end_us: piece.interval.end().as_microsecond(),
                    shift_idx: piece.shift_idx as u32,
                    severities: piece.severities,
                    country: piece.country,
                    eligible,
                }
            })
            .collect();
        AgentTimeline { agent_id: agent_roster.agent.agent_id.clone(), pieces }
    }

    fn class_pieces(&self, class_idx: usize) -> Vec<ShiftPiece> {
        self.pieces.iter().map(|piece| piece.for_class(class_idx)).collect()
    }

    /// The buckets this agent's eligible pieces overlap, each with the classes it is eligible for
    /// there; sorted by bucket.
    fn bucket_classes(&self, grid: Grid) -> Vec<(usize, u8)> {
        let mut found: Vec<(usize, u8)> = Vec::new();
        for piece in self.pieces.iter().filter(|piece| piece.eligible != 0) {
            for bucket_idx in grid.buckets_of(piece.start_us, piece.end_us) {
                found.push((bucket_idx, piece.eligible));
            }
        }
        found.sort_unstable_by_key(|(bucket_idx, _)| *bucket_idx);
        found.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 |= later.1;
            }
            same
        });
        found
    }
}

/// An agent's pieces after a roll: those `held` from `start_us` on (the first clipped there),
/// and the `tail`'s, in shift then time order; a piece cut only by the old horizon's end
/// (`old_end_us`) is joined again.
fn rolled_pieces(held: &[Piece], start_us: i64, old_end_us: i64, tail: &[Piece]) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = held
        .iter()
        .filter(|piece| piece.end_us > start_us)
        .map(|piece| Piece { start_us: piece.start_us.max(start_us), ..*piece })
        .chain(tail.iter().copied())
        .collect();
    // Stable: pieces of one shift keep their time order.
    pieces.sort_by_key(|piece| (piece.shift_idx, piece.start_us));
    pieces.dedup_by(|later, earlier| {
        let joins = earlier.end_us == old_end_us
            && later.start_us == old_end_us
            && Piece { start_us: later.start_us, end_us: later.end_us, ..*earlier } == *later;
        if joins {
            earlier.end_us = later.end_us;
        }
        joins
    });
    pieces
}

/// An agent in a bucket's list of who is on shift, with the classes it is eligible for there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Member {
    slot: u32,
    classes: u8,
}

/// Everything precomputed for one snapshot.
#[derive(Clone, Debug, Default)]
pub struct StaffedTimelines {
    /// `None` until timelines are built (`Snapshot::with_timelines`).
    grid: Option<Grid>,
    /// By slot: every agent's pieces in the horizon.
    agents: imbl::Vector<Option<Arc<AgentTimeline>>>,
    /// `[class.index() * 4 + severity]`.
    indexes: Vec<StaffingIndex>,
    /// `[bucket][slot / CHUNK_SLOTS]`: the agents with an eligible piece overlapping the bucket,
    /// by slot.
    members: Vec<Arc<Vec<Arc<Vec<Member>>>>>,
}

fn index_position(class_idx: usize, severity: Severity) -> usize {
    class_idx * Severity::ALL.len() + severity as usize
}

impl StaffedTimelines {
    /// Builds the timelines around `built_at`, expanding agents' shifts on as many threads as
    /// `parallelism` allows.
    pub fn build(
        roster: &Roster,
        facts: &PolicyFacts,
        built_at: Instant,
        parallelism: Parallelism,
    ) -> StaffedTimelines {
        let grid = Grid::around(built_at);
        let empty = StaffedTimelines {
            grid: Some(grid),
            agents: imbl::Vector::new(),
            indexes: vec![StaffingIndex::empty(grid); EligibilityClass::ALL.len() * Severity::ALL.len()],
            members: vec![Arc::default(); grid.n_buckets],
        };
        let changes: Vec<AgentChange> =
            roster.slotted_agents().map(|slotted| AgentChange { before: None, after: Some(slotted.clone()) }).collect();
        empty.with_changes(roster, facts, &changes, parallelism)
    }

    /// These timelines with `changes` applied: each changed agent's old contribution taken out
    /// and its new one (expanded from `roster`, the roster after the changes) put in. Costs what
    /// the changed agents' shifts cost; everything else is shared with `self`.
    pub fn with_changes(
        &self,
        roster: &Roster,
        facts: &PolicyFacts,
        changes: &[AgentChange],
        parallelism: Parallelism,
    ) -> StaffedTimelines {
        let Some(grid) = self.grid else { return self.clone() };
        let horizon = grid.horizon();
        let afters: Vec<&Slotted> = changes.iter().filter_map(|change| change.after.as_ref()).collect();
        let built: Vec<AgentTimeline> =
            parallelism.map_in_order(&afters, |slotted| AgentTimeline::build(roster, facts, &slotted.roster, horizon));
        let mut next = self.clone();
        while next.agents.len() < roster.n_slots() {
            next.agents.push_back(None);
        }
        let befores: Vec<(&Slotted, Arc<AgentTimeline>)> = changes
            .iter()
            .filter_map(|change| change.before.as_ref())
            .filter_map(|before| {
                let timeline = self.agents.get(before.slot as usize)?.clone()?;
                (timeline.agent_id == before.roster.agent.agent_id).then_some((before, timeline))
            })
            .collect();
        let afters: Vec<(&Slotted, Arc<AgentTimeline>)> =
            afters.into_iter().zip(built).map(|(slotted, timeline)| (slotted, Arc::new(timeline))).collect();
        next.apply_steps(grid, &befores, &afters);
        next.apply_members(grid, &befores, &afters);
        for (before, _) in &befores {
            next.agents.set(before.slot as usize, None);
        }
        for (after, timeline) in afters {
            next.agents.set(after.slot as usize, Some(timeline));
        }
        next
    }

    /// These timelines moved to the horizon around `now`: buckets before its start are dropped,
    /// and those after the old end are added from every agent's shifts over just that stretch.
    /// Built from scratch instead when the horizon moved backwards or by more than its length.
    pub fn rolled_to(
        &self,
        roster: &Roster,
        facts: &PolicyFacts,
        now: Instant,
        parallelism: Parallelism,
    ) -> StaffedTimelines {
        let (Some(old), new) = (self.grid, Grid::around(now)) else {
            return StaffedTimelines::build(roster, facts, now, parallelism);
        };
        if new == old {
            return self.clone();
        }
        let dropped = ((new.start_us - old.start_us) / BUCKET_US) as usize;
        if new.start_us < old.start_us || new.n_buckets != old.n_buckets || dropped >= old.n_buckets {
            return StaffedTimelines::build(roster, facts, now, parallelism);
        }
        let tail = interval_us(old.end_us(), new.end_us());
        let slotted: Vec<&Slotted> = roster.slotted_agents().collect();
        let tails: Vec<AgentTimeline> =
            parallelism.map_in_order(&slotted, |slotted| AgentTimeline::build(roster, facts, &slotted.roster, tail));

        let mut next = StaffedTimelines {
            grid: Some(new),
            agents: self.agents.clone(),
            indexes: self
                .indexes
                .iter()
                .map(|index| StaffingIndex {
                    grid_start_us: new.start_us,
                    buckets: index.buckets[dropped..]
                        .iter()
                        .cloned()
                        .chain(StaffingIndex::empty(new).buckets.into_iter().skip(new.n_buckets - dropped))
                        .collect(),
                })
                .collect(),
            members: self.members[dropped..].iter().cloned().chain(vec![Arc::default(); dropped]).collect(),
        };
        let tails: Vec<(&Slotted, Arc<AgentTimeline>)> =
            slotted.iter().copied().zip(tails.into_iter().map(Arc::new)).collect();
        next.apply_steps(new, &[], &tails);
        next.apply_members(new, &[], &tails);
        for (slotted, tail) in tails {
            let Some(Some(held)) = self.agents.get(slotted.slot as usize) else { continue };
            let pieces = rolled_pieces(&held.pieces, new.start_us, old.end_us(), &tail.pieces);
            next.agents
                .set(slotted.slot as usize, Some(Arc::new(AgentTimeline { agent_id: held.agent_id.clone(), pieces })));
        }
        next
    }

    /// Takes the `befores`' duty out of every step function and puts the `afters`' in; then lets
    /// severities that count the same share the buckets that changed.
    fn apply_steps(
        &mut self,
        grid: Grid,
        befores: &[(&Slotted, Arc<AgentTimeline>)],
        afters: &[(&Slotted, Arc<AgentTimeline>)],
    ) {
        let mut pending = PendingSteps::new(grid);
        let (mut before_duty, mut after_duty) = (duty_table(befores), duty_table(afters));
        for (class_idx, _) in EligibilityClass::ALL.iter().enumerate() {
            let mut changed: Vec<usize> = Vec::new();
            for severity in Severity::ALL {
                // Duty that stays as it was (most of an agent's, in a one-agent write) would be
                // taken out and put back: only the difference goes in.
                let position = index_position(class_idx, severity);
                let (leaving, arriving) = without_common(
                    std::mem::take(&mut before_duty[position]),
                    std::mem::take(&mut after_duty[position]),
                );
                for (intervals, sign) in [(leaving, -1), (arriving, 1)] {
                    for interval in intervals {
                        pending.add(grid, interval, sign);
                    }
                }
                changed.extend(self.indexes[index_position(class_idx, severity)].apply(&mut pending));
            }
            changed.sort_unstable();
            changed.dedup();
            self.share_equal_buckets(class_idx, &changed);
        }
    }

    /// Lets each severity of a class share a changed bucket with the first severity before it
    /// that counts the same there, as most do.
    fn share_equal_buckets(&mut self, class_idx: usize, changed: &[usize]) {
        for bucket_idx in changed.iter().copied() {
            for later in 1..Severity::ALL.len() {
                let later_position = class_idx * Severity::ALL.len() + later;
                let shared = (0..later).find_map(|earlier| {
                    let earlier_bucket = &self.indexes[class_idx * Severity::ALL.len() + earlier].buckets[bucket_idx];
                    (**earlier_bucket == *self.indexes[later_position].buckets[bucket_idx])
                        .then(|| earlier_bucket.clone())
                });
                if let Some(shared) = shared {
                    self.indexes[later_position].buckets[bucket_idx] = shared;
                }
            }
        }
    }

    /// Takes the `befores` out of the lists of who is on shift and puts the `afters` in, copying
    /// the chunks they touch.
    fn apply_members(
        &mut self,
        grid: Grid,
        befores: &[(&Slotted, Arc<AgentTimeline>)],
        afters: &[(&Slotted, Arc<AgentTimeline>)],
    ) {
        let n_chunks = self.agents.len().div_ceil(CHUNK_SLOTS);
        for chunks in self.members.iter_mut().filter(|chunks| chunks.len() < n_chunks) {
            Arc::make_mut(chunks).resize_with(n_chunks, Arc::default);
        }
        // (bucket, chunk) -> members leaving (as the chunk holds them) and members arriving.
        let mut touched: std::collections::BTreeMap<(usize, usize), (Vec<Member>, Vec<Member>)> = Default::default();
        let mut arrivals: std::collections::HashMap<u32, Vec<(usize, u8)>> =
            afters.iter().map(|(slotted, timeline)| (slotted.slot, timeline.bucket_classes(grid))).collect();
        for (slotted, timeline) in befores {
            let departures = timeline.bucket_classes(grid);
            // A slot written again (a one-agent write's only agent) is in most of its buckets
            // with the same classes as before: only the buckets where it differs are touched.
            let (leaving, arriving) = match arrivals.remove(&slotted.slot) {
                Some(arriving) => without_common(departures, arriving),
                None => (departures, Vec::new()),
            };
            let chunk_idx = slotted.slot as usize / CHUNK_SLOTS;
            for (bucket_idx, classes) in leaving {
                touched.entry((bucket_idx, chunk_idx)).or_default().0.push(Member { slot: slotted.slot, classes });
            }
            for (bucket_idx, classes) in arriving {
                touched.entry((bucket_idx, chunk_idx)).or_default().1.push(Member { slot: slotted.slot, classes });
            }
        }
        for (slot, arriving) in arrivals {
            let chunk_idx = slot as usize / CHUNK_SLOTS;
            for (bucket_idx, classes) in arriving {
                touched.entry((bucket_idx, chunk_idx)).or_default().1.push(Member { slot, classes });
            }
        }
        for ((bucket_idx, chunk_idx), (mut leaving, mut arriving)) in touched {
            leaving.sort_unstable_by_key(|member| member.slot);
            arriving.sort_unstable_by_key(|member| member.slot);
            // An agent written again as it was there (most buckets of a one-agent write) puts
            // back what it takes out: the chunk keeps its copy, and is not even read. The
            // leaving members are as the chunk holds them, since the chunk was built from the
            // same timelines.
            if leaving == arriving {
                continue;
            }
            let chunk = &mut Arc::make_mut(&mut self.members[bucket_idx])[chunk_idx];
            // Both lists are in slot order: one merge, no sort of the whole chunk.
            let mut staying = chunk
                .iter()
                .filter(|member| leaving.binary_search_by_key(&member.slot, |leaves| leaves.slot).is_err())
                .peekable();
            let mut arriving = arriving.into_iter().peekable();
            let mut members: Vec<Member> = Vec::with_capacity(chunk.len() + arriving.len());
            loop {
                let next = match (staying.peek(), arriving.peek()) {
                    (Some(stays), Some(arrives)) if stays.slot < arrives.slot => staying.next().copied(),
                    (Some(_), Some(_)) | (None, Some(_)) => arriving.next(),
                    (Some(_), None) => staying.next().copied(),
                    (None, None) => break,
                };
                members.extend(next);
            }
            *chunk = Arc::new(members);
        }
    }

    /// Whether one of the agent's shift pieces that `counts` contains `at`: the agent is on
    /// duty then. `None` when the horizon does not hold `at` or the agent is not in the
    /// timelines at `slot`; the caller then expands the agent's shifts itself.
    pub fn on_duty_at(
        &self,
        (slot, agent_id): (usize, &str),
        at: Instant,
        counts: impl Fn(&ShiftPiece) -> bool,
    ) -> Option<bool> {
        // Pieces are clipped to the horizon, so any instant inside it is answered.
        if !self.horizon().is_some_and(|horizon| horizon.contains(at)) {
            return None;
        }
        let timeline = self.agents.get(slot)?.as_ref().filter(|timeline| timeline.agent_id.as_str() == agent_id)?;
        let at_us = at.as_microsecond();
        Some(timeline.pieces.iter().any(|piece| piece.contains_us(at_us) && counts(&piece.for_class(0))))
    }

    /// Whether `range` lies inside the precomputed horizon.
    pub fn covers(&self, range: Interval) -> bool {
        self.horizon().is_some_and(|horizon| horizon.start() <= range.start() && range.end() <= horizon.end())
    }

    pub fn horizon(&self) -> Option<Interval> {
        self.grid.map(Grid::horizon)
    }

    pub fn index(&self, class: EligibilityClass, severity: Severity) -> &StaffingIndex {
        &self.indexes[index_position(class.index(), severity)]
    }

    /// The agents (slots, in agent ID order) with a piece eligible for the class containing `at`.
    pub fn agents_at(&self, class: EligibilityClass, at: Instant) -> Vec<usize> {
        let Some(grid) = self.grid.filter(|grid| grid.horizon().contains(at)) else { return Vec::new() };
        let (at_us, bit) = (at.as_microsecond(), class_bit(class.index()));
        let mut found: Vec<(&AgentId, usize)> = self.members[grid.bucket_of(at_us)]
            .iter()
            .flat_map(|chunk| chunk.iter())
            .filter(|member| member.classes & bit != 0)
            .filter_map(|member| {
                let timeline = self.agents.get(member.slot as usize)?.as_ref()?;
                let on = timeline.pieces.iter().any(|piece| piece.eligible & bit != 0 && piece.contains_us(at_us));
                on.then_some((&timeline.agent_id, member.slot as usize))
            })
            .collect();
        found.sort_unstable();
        found.into_iter().map(|(_, slot)| slot).collect()
    }

    pub fn agent_id(&self, slot: usize) -> &str {
        self.agents.get(slot).and_then(Option::as_ref).map_or("", |timeline| timeline.agent_id.as_str())
    }

    /// The agent's pieces within the horizon, judged for the class, for following a stretch on.
    pub fn agent_pieces(&self, class: EligibilityClass, slot: usize) -> Vec<ShiftPiece> {
        self.agents
            .get(slot)
            .and_then(Option::as_ref)
            .map_or_else(Vec::new, |timeline| timeline.class_pieces(class.index()))
    }
}

/// The agents' eligible duty for every class and severity (at `index_position`), each in one
/// sorted list. Where an agent's pieces count for a class and severity just as for one before
/// it (for most agents, every severity of a class, and often every class), that one's duty is
/// taken instead of being worked out again: the duty depends only on which pieces count.
fn duty_table(contributions: &[(&Slotted, Arc<AgentTimeline>)]) -> Vec<Vec<Interval>> {
    let mut table = vec![Vec::new(); EligibilityClass::ALL.len() * Severity::ALL.len()];
    for (slotted, timeline) in contributions {
        let roster = &slotted.roster;
        // Which pieces count, with the duty they make, for each distinct choice met so far.
        let mut worked_out: Vec<(Vec<bool>, Vec<Interval>)> = Vec::new();
        for (class_idx, _) in EligibilityClass::ALL.iter().enumerate() {
            let pieces = timeline.class_pieces(class_idx);
            for severity in Severity::ALL {
                let counted: Vec<bool> =
                    pieces.iter().map(|piece| piece.eligible && piece_covers(roster, piece, severity)).collect();
                let duty = match worked_out.iter().find(|(known, _)| *known == counted) {
                    Some((_, duty)) => duty.clone(),
                    None => {
                        let duty = eligible_duty(roster, &pieces, severity);
                        worked_out.push((counted, duty.clone()));
                        duty
                    }
                };
                table[index_position(class_idx, severity)].extend(duty);
            }
        }
    }
    for duty in &mut table {
        duty.sort_unstable();
    }
    table
}

/// The two sorted lists without the items they have in common, counted with multiplicity:
/// what goes from `before` to `after`.
fn without_common<T: Ord>(before: Vec<T>, after: Vec<T>) -> (Vec<T>, Vec<T>) {
    let (mut only_before, mut only_after) = (Vec::new(), Vec::new());
    let (mut before, mut after) = (before.into_iter().peekable(), after.into_iter().peekable());
    loop {
        match (before.peek(), after.peek()) {
            (Some(left), Some(right)) => match left.cmp(right) {
                std::cmp::Ordering::Equal => {
                    before.next();
                    after.next();
                }
                std::cmp::Ordering::Less => only_before.extend(before.next()),
                std::cmp::Ordering::Greater => only_after.extend(after.next()),
            },
            (Some(_), None) => only_before.extend(before.next()),
            (None, Some(_)) => only_after.extend(after.next()),
            (None, None) => return (only_before, only_after),
        }
    }
}

#[cfg(test)]
mod incremental_tests;
#[cfg(test)]
mod tests;

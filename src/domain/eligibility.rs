//! Who may handle which tickets, and when an agent is on shift and eligible: shared by ticket
//! decisions and coverage reports.

use super::country::Country;
use super::interval::{merge, subtract, Interval};
use super::policy::{PlanKind, PolicyFacts, Severity, SeveritySet, TransferBasis};
use super::roster::{AgentRoster, Roster};
use super::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessReason {
    NotEeaTagged,
    EeaStaff,
    Adequacy,
    Contractual,
    ConsentOnFile,
    OutsideEeaOnEeaOnly,
    UsWithoutConsent,
    CountryNotPermitted,
}

impl AccessReason {
    pub fn allows(self) -> bool {
        matches!(
            self,
            AccessReason::NotEeaTagged
                | AccessReason::EeaStaff
                | AccessReason::Adequacy
                | AccessReason::Contractual
                | AccessReason::ConsentOnFile
        )
    }
}

impl EligibilityClass {
    pub const ALL: [EligibilityClass; 3] =
        [EligibilityClass::EeaOnly, EligibilityClass::StandardEeaTagged, EligibilityClass::StandardUntagged];

    pub fn of(plan: PlanKind, eea_tagged: bool) -> EligibilityClass {
        match (plan, eea_tagged) {
            (PlanKind::EeaOnly, _) => EligibilityClass::EeaOnly,
            (PlanKind::Standard, true) => EligibilityClass::StandardEeaTagged,
            (PlanKind::Standard, false) => EligibilityClass::StandardUntagged,
        }
    }

    /// The context of any ticket of the class that no consent names.
    pub fn context<'a>(self, roster: &'a Roster, facts: &'a PolicyFacts) -> EligibilityContext<'a> {
        let (plan, eea_tagged) = match self {
            EligibilityClass::EeaOnly => (PlanKind::EeaOnly, true),
            EligibilityClass::StandardEeaTagged => (PlanKind::Standard, true),
            EligibilityClass::StandardUntagged => (PlanKind::Standard, false),
        };
        EligibilityContext { roster, facts, plan, eea_tagged, ticket: None }
    }

    /// The class's position in [`EligibilityClass::ALL`].
    pub fn index(self) -> usize {
        match self {
            EligibilityClass::EeaOnly => 0,
            EligibilityClass::StandardEeaTagged => 1,
            EligibilityClass::StandardUntagged => 2,
        }
    }
}

/// What eligibility is judged against: the roster (for its consents) and the policy facts, and
/// the rules a set of tickets is held to: the plan whose rules apply, whether the tickets are
/// EEA-tagged, and, for one ticket, the (org, ticket) whose consents count.
#[derive(Clone, Copy, Debug)]
pub struct EligibilityContext<'a> {
    pub roster: &'a Roster,
    pub facts: &'a PolicyFacts,
    pub plan: PlanKind,
    pub eea_tagged: bool,
    pub ticket: Option<(&'a str, &'a str)>,
}

/// The three ways a set of tickets limits who is eligible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EligibilityClass {
    EeaOnly,
    StandardEeaTagged,
    StandardUntagged,
}

/// A stretch of one shift occurrence within which the agent's eligibility does not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShiftPiece {
    pub interval: Interval,
    pub shift_idx: usize,
    /// The shift's own severity limit (empty = the agent's).
    pub severities: SeveritySet,
    /// Where the agent works from during the piece (a trip's country wins).
    pub country: Country,
    pub eligible: bool,
}

/// May staff working from `country` handle the tickets at `at`?
pub fn access_reason(context: &EligibilityContext, agent_id: &str, country: Country, at: Instant) -> AccessReason {
    let facts = context.facts;
    if context.plan == PlanKind::EeaOnly {
        return if facts.is_eea_at(country, at) { AccessReason::EeaStaff } else { AccessReason::OutsideEeaOnEeaOnly };
    }
    if !context.eea_tagged {
        return AccessReason::NotEeaTagged;
    }
    match facts.basis_at(country, at).map(|basis| basis.basis) {
        Some(TransferBasis::Eea) => AccessReason::EeaStaff,
        Some(TransferBasis::AdequacyFull | TransferBasis::AdequacyPartial) => AccessReason::Adequacy,
        Some(TransferBasis::Contractual) => AccessReason::Contractual,
        Some(TransferBasis::ConsentOnly) => {
            let consented = context
                .ticket
                .and_then(|(org_id, ticket_id)| context.roster.consent(org_id, ticket_id, agent_id))
                .is_some_and(|consent| consent.holds_at(at));
            if consented {
                AccessReason::ConsentOnFile
            } else {
                AccessReason::UsWithoutConsent
            }
        }
        None => AccessReason::CountryNotPermitted,
    }
}

/// Where an agent works from at each instant of a range: a shift carrying its own country (a
/// trip) says where the agent is for as long as it runs, whatever other shift overlaps it;
/// otherwise the agent's effective-dated location.
struct Whereabouts<'a> {
    roster: &'a AgentRoster,
    trips: Vec<(Interval, Country)>,
}

impl Whereabouts<'_> {
    fn country_at(&self, at: Instant) -> Country {
        self.trips
            .iter()
            .find(|(trip, _)| trip.contains(at))
            .map_or_else(|| self.roster.agent.country_at(at), |(_, country)| *country)
    }
}

/// Where the agent works from at one instant, by the same rule as [`shift_pieces`]: the first
/// running trip shift (in shift ID order), else the effective-dated location.
pub fn location_at(roster: &AgentRoster, at: Instant) -> Country {
    let mut trips = roster.shifts.iter().filter_map(|shift| shift.country.map(|country| (shift, country))).peekable();
    // At the end of time no shift can run: the agent is where it lives.
    let probe = Interval::following(at, jiff::SignedDuration::from_secs(1));
    let (Some(probe), Some(_)) = (probe, trips.peek()) else {
        return roster.agent.country_at(at);
    };
    trips
        .find(|(shift, _)| {
            shift
                .occurrences_within(probe)
                .is_ok_and(|occurrences| occurrences.iter().any(|occurrence| occurrence.contains(at)))
        })
        .map_or_else(|| roster.agent.country_at(at), |(_, country)| country)
}

/// Every shift occurrence of the agent overlapping `range`, clipped to it and cut where the
/// agent's eligibility may change (relocations, trips, the ticket's consent expiry, policy basis
/// boundaries). Time off is not applied here.
pub fn shift_pieces(context: &EligibilityContext, roster: &AgentRoster, range: Interval) -> Vec<ShiftPiece> {
    // A shift whose expansion exceeds its budget contributes nothing rather than a guess.
    let occurrences: Vec<Vec<Interval>> =
        roster.shifts.iter().map(|shift| shift.occurrences_within(range).unwrap_or_default()).collect();
    let trips: Vec<(Interval, Country)> = roster
        .shifts
        .iter()
        .zip(&occurrences)
        .filter_map(|(shift, occurrences)| shift.country.map(|country| (occurrences, country)))
        .flat_map(|(occurrences, country)| occurrences.iter().map(move |occurrence| (*occurrence, country)))
        .collect();
    let consent_expiry = context
        .ticket
        .and_then(|(org_id, ticket_id)| context.roster.consent(org_id, ticket_id, roster.agent.agent_id.as_str()))
        .map(|consent| consent.expires_at);
    let mut breakpoints: Vec<Instant> = roster
        .agent
        .location_changes
        .iter()
        .map(|change| change.effective_at)
        .chain(consent_expiry)
        .chain(trips.iter().flat_map(|(trip, _)| [trip.start(), trip.end()]))
        .chain(context.facts.basis_change_instants().iter().copied())
        .filter(|instant| range.start() < *instant && *instant < range.end())
        .collect();
    breakpoints.sort_unstable();
    breakpoints.dedup();
    let whereabouts = Whereabouts { roster, trips };

    let mut pieces = Vec::new();
    for (shift_idx, (shift, occurrences)) in roster.shifts.iter().zip(&occurrences).enumerate() {
        for occurrence in occurrences {
            let first_inside = breakpoints.partition_point(|instant| *instant <= occurrence.start());
            let end_inside = breakpoints.partition_point(|instant| *instant < occurrence.end());
            let mut piece_start = occurrence.start();
            for piece_end in breakpoints[first_inside..end_inside].iter().copied().chain([occurrence.end()]) {
                let interval =
                    Interval::new(piece_start, piece_end).expect("the cuts lie strictly inside the occurrence");
                let country = whereabouts.country_at(interval.start());
                let eligible =
                    access_reason(context, roster.agent.agent_id.as_str(), country, interval.start()).allows();
                pieces.push(ShiftPiece { interval, shift_idx, severities: shift.severities, country, eligible });
                piece_start = piece_end;
            }
        }
    }
    pieces
}

/// Whether a piece puts the agent on duty for `severity` (the agent's and the shift's limits).
pub fn piece_covers(roster: &AgentRoster, piece: &ShiftPiece, severity: Severity) -> bool {
    roster.agent.severities.allows(severity) && piece.severities.allows(severity)
}

/// The parts of `range` in which the agent is on shift for `severity`, not on time off, and
/// eligible. Sorted and merged.
pub fn eligible_on_shift(
    context: &EligibilityContext,
    roster: &AgentRoster,
    severity: Severity,
    range: Interval,
) -> Vec<Interval> {
    if !roster.agent.severities.allows(severity) {
        return Vec::new();
    }
    eligible_duty(roster, &shift_pieces(context, roster, range), severity)
}

/// The agent's eligible duty for `severity` among its `pieces`, time off removed; sorted and
/// merged.
pub fn eligible_duty(roster: &AgentRoster, pieces: &[ShiftPiece], severity: Severity) -> Vec<Interval> {
    let eligible = merge(
        pieces
            .iter()
            .filter(|piece| piece.eligible && piece_covers(roster, piece, severity))
            .map(|piece| piece.interval)
            .collect(),
    );
    if roster.time_off_merged.is_empty() {
        return eligible;
    }
    subtract(&eligible, &roster.time_off_merged)
}

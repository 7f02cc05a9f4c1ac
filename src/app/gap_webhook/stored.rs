//! The gap webhook's stored forms: an outbox row's payload (the event with its requirement) and
//! the saved state (each requirement's gaps as last told), as JSON with names, not enum numbers,
//! so a later release reads what an earlier one wrote.

use serde::{Deserialize, Serialize};

use super::WebhookEvent;
use crate::app::gap_watch::EarlierGaps;
use crate::app::{AppError, GapEvent, GapEventKind, WindowCause};
use crate::domain::coverage::{Gap, GapCause};
use crate::domain::gap_watch::GapRequirement;
use crate::domain::interval::Interval;
use crate::domain::policy::{PlanKind, Severity};
use crate::domain::time::Instant;
use crate::storage::StoredWebhookState;

/// An outbox row's payload: the event with its requirement, by name and number.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredEvent {
    requirement_index: usize,
    plan: String,
    eea_tagged: bool,
    severity: u8,
    min_staff: u32,
    kind: String,
    cause: String,
    gap: StoredGap,
    roster_version: i64,
    at: i64,
}

/// A gap as the webhook's tables keep it; `started` only in the state.
#[derive(Serialize, Deserialize)]
struct StoredGap {
    starts_at: i64,
    ends_at: i64,
    eligible_on_shift: u32,
    cause: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    started: Option<bool>,
}

const PLAN_NAMES: [(PlanKind, &str); 2] = [(PlanKind::Standard, "standard"), (PlanKind::EeaOnly, "eea-only")];
const KIND_NAMES: [(GapEventKind, &str); 5] = [
    (GapEventKind::Current, "current"),
    (GapEventKind::Opened, "opened"),
    (GapEventKind::Closed, "closed"),
    (GapEventKind::Started, "started"),
    (GapEventKind::Ended, "ended"),
];
const CAUSE_NAMES: [(WindowCause, &str); 3] = [
    (WindowCause::CurrentState, "current-state"),
    (WindowCause::TimePassed, "time-passed"),
    (WindowCause::RosterChanged, "roster-changed"),
];
const GAP_CAUSE_NAMES: [(GapCause, &str); 4] = [
    (GapCause::BelowMinimum, "below-minimum"),
    (GapCause::StaffOnTimeOff, "staff-on-time-off"),
    (GapCause::OnlyIneligibleStaff, "only-ineligible-staff"),
    (GapCause::NoOneScheduled, "no-one-scheduled"),
];

fn name_of<T: PartialEq + Copy>(names: &[(T, &'static str)], value: T) -> String {
    names.iter().find(|(known, _)| *known == value).map(|(_, name)| *name).expect("every value is named").to_owned()
}

fn named<T: Copy>(names: &[(T, &'static str)], name: &str) -> Result<T, AppError> {
    names.iter().find(|(_, known)| *known == name).map(|(value, _)| *value).ok_or_else(|| {
        AppError::internal(format!("the gap webhook's tables name {name:?}, which this release does not know"))
    })
}

fn stored_instant(micros: i64) -> Result<Instant, AppError> {
    Instant::from_microsecond(micros).map_err(|error| AppError::internal(format!("a stored instant: {error}")))
}

impl StoredGap {
    fn of(gap: &Gap, started: Option<bool>) -> StoredGap {
        StoredGap {
            starts_at: gap.interval.start().as_microsecond(),
            ends_at: gap.interval.end().as_microsecond(),
            eligible_on_shift: gap.eligible_on_shift,
            cause: name_of(&GAP_CAUSE_NAMES, gap.cause),
            started,
        }
    }

    fn gap(&self) -> Result<Gap, AppError> {
        let interval = Interval::new(stored_instant(self.starts_at)?, stored_instant(self.ends_at)?)
            .ok_or_else(|| AppError::internal(format!("a stored gap ends before it starts: {}", self.starts_at)))?;
        Ok(Gap { interval, eligible_on_shift: self.eligible_on_shift, cause: named(&GAP_CAUSE_NAMES, &self.cause)? })
    }
}

impl StoredEvent {
    pub(super) fn of(requirement: GapRequirement, event: &GapEvent) -> StoredEvent {
        StoredEvent {
            requirement_index: event.requirement_idx,
            plan: name_of(&PLAN_NAMES, requirement.plan),
            eea_tagged: requirement.eea_tagged,
            severity: requirement.severity.number(),
            min_staff: requirement.min_staff,
            kind: name_of(&KIND_NAMES, event.kind),
            cause: name_of(&CAUSE_NAMES, event.cause),
            gap: StoredGap::of(&event.gap, None),
            roster_version: event.roster_version,
            at: event.at.as_microsecond(),
        }
    }

    pub(super) fn to_json(&self) -> Result<String, AppError> {
        serde_json::to_string(self)
            .map_err(|error| AppError::internal(format!("a gap event does not serialise: {error}")))
    }

    /// The event an outbox row holds, as the receiver gets it.
    pub(super) fn read(event_id: i64, payload: &str) -> Result<WebhookEvent, AppError> {
        let stored: StoredEvent = serde_json::from_str(payload)
            .map_err(|error| AppError::internal(format!("a stored gap event does not parse: {error}")))?;
        let severity = Severity::ALL
            .into_iter()
            .find(|severity| severity.number() == stored.severity)
            .ok_or_else(|| AppError::internal(format!("a stored gap event's severity {}", stored.severity)))?;
        Ok(WebhookEvent {
            event_id,
            requirement: GapRequirement {
                plan: named(&PLAN_NAMES, &stored.plan)?,
                eea_tagged: stored.eea_tagged,
                severity,
                min_staff: stored.min_staff,
            },
            event: GapEvent {
                requirement_idx: stored.requirement_index,
                kind: named(&KIND_NAMES, &stored.kind)?,
                cause: named(&CAUSE_NAMES, &stored.cause)?,
                gap: stored.gap.gap()?,
                roster_version: stored.roster_version,
                at: stored_instant(stored.at)?,
            },
        })
    }
}

/// A requirement's key in the saved state.
fn requirement_key(requirement: &GapRequirement) -> String {
    format!(
        "{}/eea_tagged={}/sev{}/min_staff={}",
        name_of(&PLAN_NAMES, requirement.plan),
        requirement.eea_tagged,
        requirement.severity.number(),
        requirement.min_staff
    )
}

/// The gaps reported for each requirement, as the state's JSON: an object by requirement key.
pub(super) fn stored_gaps<'a>(
    requirements: &[GapRequirement],
    reported: impl Iterator<Item = &'a [(Gap, bool)]>,
) -> Result<String, AppError> {
    let by_requirement: std::collections::BTreeMap<String, Vec<StoredGap>> = requirements
        .iter()
        .zip(reported)
        .map(|(requirement, gaps)| {
            (
                requirement_key(requirement),
                gaps.iter().map(|(gap, started)| StoredGap::of(gap, Some(*started))).collect(),
            )
        })
        .collect();
    serde_json::to_string(&by_requirement)
        .map_err(|error| AppError::internal(format!("the gap webhook's state does not serialise: {error}")))
}

/// What the last leader told the receiver about each requirement, from the saved state; `None`
/// for a requirement it did not watch (new in the configuration), or when the state cannot be
/// read (then each requirement starts over with its current gaps, and the error is logged).
pub(super) fn earlier_gaps(
    stored: Option<&StoredWebhookState>,
    requirements: &[GapRequirement],
) -> Vec<Option<EarlierGaps>> {
    let none = || requirements.iter().map(|_| None).collect();
    let Some(stored) = stored else { return none() };
    let parsed: Result<std::collections::BTreeMap<String, Vec<StoredGap>>, _> = serde_json::from_str(&stored.gaps);
    let Ok(mut by_requirement) = parsed else {
        tracing::error!(
            "the gap webhook's saved state cannot be read: each requirement starts over with its current gaps"
        );
        return none();
    };
    requirements
        .iter()
        .map(|requirement| {
            let gaps = by_requirement.remove(&requirement_key(requirement))?;
            let gaps: Result<Vec<(Gap, bool)>, AppError> =
                gaps.iter().map(|stored| Ok((stored.gap()?, stored.started.unwrap_or(false)))).collect();
            match gaps {
                Ok(gaps) => Some(EarlierGaps { gaps, roster_version: stored.roster_version }),
                Err(error) => {
                    tracing::error!(%error, "a requirement's saved gaps cannot be read: it starts over");
                    None
                }
            }
        })
        .collect()
}

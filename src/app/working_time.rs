//! Working-time warnings on writes: the breaches of the Working Time Directive a write
//! introduces, answered with the write, or the write refused when its source says so.

use jiff::SignedDuration;

use super::{machine_parallelism, App, AppError};
use crate::audit::Actor;
use crate::clock;
use crate::domain::interval::Interval;
use crate::domain::roster::Shift;
use crate::domain::working_time::{upsert_warnings, Warning, WorkingTimeRule};
use crate::storage::{Refusal, StorageError, UpsertCounts};

/// How far from now a write's warnings look: a year either way (a recurring shift without an
/// end is looked at over the coming year).
const WARNINGS_REACH: SignedDuration = SignedDuration::from_hours(366 * 24);

/// The period a write's warnings are computed over.
pub(super) fn warnings_bound() -> Interval {
    let now = clock::now();
    let start = now.checked_sub(WARNINGS_REACH).unwrap_or(now);
    let end = now.checked_add(WARNINGS_REACH).unwrap_or(now);
    Interval::new(start, end).expect("a year either side of now")
}

/// The period a sync's warnings are computed over: its window (its entries start there), within
/// a year either side of now.
pub(super) fn sync_bound(window: Interval) -> Interval {
    window.intersection(&warnings_bound()).unwrap_or(window)
}

/// The refusal of a write that introduces `warnings`, if it introduces any.
pub(super) fn refused_for_breaches(source: &str, warnings: &[Warning]) -> Option<StorageError> {
    if warnings.is_empty() {
        return None;
    }
    let violations =
        warnings.iter().map(|warning| (format!("agent {}", warning.agent_id.as_str()), describe(warning))).collect();
    Some(StorageError::Refused(Refusal {
        kind: "WORKING_TIME_BREACH",
        summary: format!(
            "source {source:?} refuses writes that breach working-time rules, and this one introduces {} breach(es); \
             nothing was written (a dry run lists them)",
            warnings.len()
        ),
        violations,
    }))
}

fn describe(warning: &Warning) -> String {
    let breach = &warning.breach;
    let (rule, measured) = match breach.rule {
        WorkingTimeRule::DailyRest => ("daily rest", "consecutive rest"),
        WorkingTimeRule::WeeklyRest => ("weekly rest", "consecutive rest"),
        WorkingTimeRule::AverageWeeklyWork => ("average weekly work", "average week"),
    };
    let shift_ids: Vec<&str> = breach.shift_ids.iter().map(|shift_id| shift_id.as_str()).collect();
    format!(
        "{rule} over [{}, {}): {measured} {:#}, limit {:#} (shifts {})",
        breach.window.start(),
        breach.window.end(),
        breach.measured,
        breach.limit,
        shift_ids.join(", ")
    )
}

impl App {
    /// Creates or replaces shifts, and answers the working-time breaches they introduce,
    /// measured against the roster in force when the write arrived.
    pub async fn upsert_shifts(
        &self,
        actor: &Actor,
        shifts: Vec<Shift>,
    ) -> Result<(Vec<Shift>, UpsertCounts, Vec<Warning>), AppError> {
        let before = self.snapshot();
        let (shifts, counts) = self.upsert_entries(actor, shifts).await?;
        let settings = self.working_time.clone();
        let (shifts, warnings) = tokio::task::spawn_blocking(move || {
            let rules = &before.policy.facts.working_time;
            let warnings =
                upsert_warnings(before.roster(), &shifts, warnings_bound(), (rules, &settings), machine_parallelism());
            (shifts, warnings)
        })
        .await
        .map_err(|error| AppError::internal(format!("working-time warnings failed: {error}")))?;
        Ok((shifts, counts, warnings))
    }
}

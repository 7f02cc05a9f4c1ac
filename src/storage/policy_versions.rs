//! The policy in force over time (migration `2026-12-02-000008_policy_versions`): what each
//! start-up ran with, recorded when it differs from the last recorded, with the moment it took
//! effect by the database's clock.

use diesel::prelude::*;

use super::connection::database_now;
use super::rows::{from_micros, to_micros};
use super::schema::policy_versions;
use super::{AnyConnection, StorageError};
use crate::domain::time::Instant;

/// One recorded policy: the policy facts' text and the plan settings' record
/// (`PlanSettings::to_record`), in force from `effective_at` until the next version's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVersion {
    pub policy_version: i64,
    pub effective_at: Instant,
    pub facts: String,
    pub plan_settings: String,
}

type PolicyRow = (i64, i64, String, String);

fn from_row((policy_version, effective_at, facts, plan_settings): PolicyRow) -> Result<PolicyVersion, StorageError> {
    Ok(PolicyVersion { policy_version, effective_at: from_micros(effective_at)?, facts, plan_settings })
}

fn columns() -> (
    policy_versions::policy_version,
    policy_versions::effective_at,
    policy_versions::facts,
    policy_versions::plan_settings,
) {
    (
        policy_versions::policy_version,
        policy_versions::effective_at,
        policy_versions::facts,
        policy_versions::plan_settings,
    )
}

/// The latest recorded version.
fn latest(connection: &mut AnyConnection) -> Result<Option<PolicyVersion>, StorageError> {
    policy_versions::table
        .select(columns())
        .order(policy_versions::policy_version.desc())
        .first::<PolicyRow>(connection)
        .optional()?
        .map(from_row)
        .transpose()
}

/// Records `facts` and `plan_settings` as the policy in force from now (the database's clock,
/// never before the previous version's), unless they are the latest recorded already; answers
/// the version in force. For a caller holding the writers' lock, in a transaction.
pub(super) fn record_policy(
    connection: &mut AnyConnection,
    facts: &str,
    plan_settings: &str,
) -> Result<PolicyVersion, StorageError> {
    if let Some(latest) = latest(connection)? {
        if latest.facts == facts && latest.plan_settings == plan_settings {
            return Ok(latest);
        }
    }
    let now = format!("SELECT {} AS now", database_now(connection));
    let now = diesel::sql_query(now).get_result::<DatabaseNow>(connection)?.now;
    let previous: Option<i64> =
        policy_versions::table.select(diesel::dsl::max(policy_versions::effective_at)).first(connection)?;
    let effective_at = previous.map_or(now, |previous| previous.max(now));
    diesel::insert_into(policy_versions::table)
        .values((
            policy_versions::effective_at.eq(effective_at),
            policy_versions::facts.eq(facts),
            policy_versions::plan_settings.eq(plan_settings),
        ))
        .execute(connection)?;
    latest(connection)?.ok_or_else(|| StorageError::Corrupt("the policy version just recorded is missing".into()))
}

#[derive(QueryableByName)]
struct DatabaseNow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    now: i64,
}

/// The version in force at `at`: the last one effective at or before it; `None` before the
/// first was recorded.
pub fn policy_known_at(connection: &mut AnyConnection, at: Instant) -> Result<Option<PolicyVersion>, StorageError> {
    policy_versions::table
        .select(columns())
        .filter(policy_versions::effective_at.le(to_micros(at)))
        .order(policy_versions::policy_version.desc())
        .first::<PolicyRow>(connection)
        .optional()?
        .map(from_row)
        .transpose()
}

/// When the first policy version recorded after `at` took effect; `None` when none has since.
pub fn next_policy_after(connection: &mut AnyConnection, at: Instant) -> Result<Option<Instant>, StorageError> {
    policy_versions::table
        .select(policy_versions::effective_at)
        .filter(policy_versions::effective_at.gt(to_micros(at)))
        .order(policy_versions::effective_at.asc())
        .first::<i64>(connection)
        .optional()?
        .map(from_micros)
        .transpose()
}

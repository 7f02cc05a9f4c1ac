//! Orgs and the consents given for their tickets.

use diesel::prelude::*;

use super::changes::note_orgs;

use super::batch::not_found_unless;
use super::kept::kept_update;
use super::rows::{ConsentRow, OrgRow};
use super::schema::{agents, consents, orgs};
use super::{AnyConnection, StorageError};
use crate::audit::{ticket_entity, Entity, EntityKind};
use crate::domain::roster::{Consent, Org};

/// Creates or replaces an org; `true` when it was created.
pub fn upsert_org(connection: &mut AnyConnection, org: &Org) -> Result<bool, StorageError> {
    let row = OrgRow::from_domain(org);
    note_orgs(connection, [org.org_id.as_str()])?;
    let n_updated = kept_update("orgs", &row, orgs::org_id.eq(&row.org_id)).execute(connection)?;
    if n_updated == 0 {
        diesel::insert_into(orgs::table).values(&row).execute(connection)?;
    }
    Ok(n_updated == 0)
}

/// Deletes an org and its consents; returns the tickets and agents of the consents that went
/// with it.
pub fn delete_org(connection: &mut AnyConnection, org_id: &str) -> Result<Vec<Entity>, StorageError> {
    let consented: Vec<(String, String)> = consents::table
        .select((consents::ticket_id, consents::agent_id))
        .filter(consents::org_id.eq(org_id))
        .load(connection)?;
    diesel::delete(consents::table.filter(consents::org_id.eq(org_id))).execute(connection)?;
    let n_deleted = diesel::delete(orgs::table.find(org_id)).execute(connection)?;
    not_found_unless(n_deleted, "org", org_id)?;
    note_orgs(connection, [org_id])?;
    Ok(consented
        .into_iter()
        .flat_map(|(ticket_id, agent_id)| [ticket_entity(org_id, &ticket_id), Entity::new(EntityKind::Agent, agent_id)])
        .collect())
}

/// `NotFound` for the `entity` named `id` when a lookup of it found nothing.
fn found<T>(row: Option<T>, entity: &'static str, id: &str) -> Result<T, StorageError> {
    row.ok_or_else(|| StorageError::NotFound { entity, id: id.to_owned() })
}

/// Records or replaces a consent. The org and the agent must exist.
pub fn upsert_consent(connection: &mut AnyConnection, consent: &Consent) -> Result<(), StorageError> {
    let org_id = consent.org_id.as_str();
    let org = orgs::table.find(org_id).select(orgs::org_id).get_result::<String>(connection).optional()?;
    found(org, "org", org_id)?;
    // Checked in the same transaction as the insert: a consent never outlives its agent.
    let agent_id = consent.agent_id.as_str();
    let agent = agents::table.find(agent_id).select(agents::agent_id).get_result::<String>(connection).optional()?;
    found(agent, "agent", agent_id)?;
    let row = ConsentRow::from_domain(consent);
    note_orgs(connection, [org_id])?;
    let key = consents::org_id
        .eq(&row.org_id)
        .and(consents::ticket_id.eq(&row.ticket_id))
        .and(consents::agent_id.eq(&row.agent_id));
    let n_updated = kept_update("consents", consents::expires_at.eq(row.expires_at), key).execute(connection)?;
    if n_updated == 0 {
        diesel::insert_into(consents::table).values(&row).execute(connection)?;
    }
    Ok(())
}

pub fn delete_consent(
    connection: &mut AnyConnection,
    org_id: &str,
    ticket_id: &str,
    agent_id: &str,
) -> Result<(), StorageError> {
    let n_deleted = diesel::delete(consents::table.find((org_id, ticket_id, agent_id))).execute(connection)?;
    not_found_unless(n_deleted, "consent", &format!("{org_id}/{ticket_id}/{agent_id}"))?;
    note_orgs(connection, [org_id])
}

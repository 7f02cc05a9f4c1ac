//! `eeacoverage.v1.PolicyService`: orgs, consents and the policy in force.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::convert::{
    audit_event_to_pb, audit_kind_from_pb, consent_from_pb, consent_to_pb, instant_field, org_from_pb, org_to_pb,
    policy_to_pb,
};
use super::layers::actor_of;
use super::pagination::{next_page_token, page_request};
use super::status::{invalid, invalid_field, required_id, to_status};
use crate::app::App;
use crate::audit::{AuditQuery, Entity};
use crate::clock;
use crate::domain::validation::FieldViolation;
use crate::pb;
use crate::pb::policy_service_server::PolicyService;

pub struct PolicyApi {
    pub app: Arc<App>,
}

fn within(prefix: &str, violations: Vec<FieldViolation>) -> Status {
    invalid(violations.into_iter().map(|violation| violation.within(prefix)).collect())
}

#[tonic::async_trait]
impl PolicyService for PolicyApi {
    async fn upsert_org(&self, request: Request<pb::UpsertOrgRequest>) -> Result<Response<pb::Org>, Status> {
        let actor = actor_of(&request);
        let pb::UpsertOrgRequest { org } = request.into_inner();
        let org = org.ok_or_else(|| invalid_field("org", "is required"))?;
        let org = org_from_pb(org, self.app.policy()).map_err(|violations| within("org", violations))?;
        let org = self.app.upsert_org(&actor, org).await.map_err(to_status)?;
        tracing::info!(org.id = %org.org_id, "org upserted");
        Ok(Response::new(org_to_pb(&org, self.app.policy(), clock::now())))
    }

    async fn get_org(&self, request: Request<pb::GetOrgRequest>) -> Result<Response<pb::Org>, Status> {
        let pb::GetOrgRequest { org_id } = request.into_inner();
        required_id("org_id", &org_id)?;
        let org = self.app.get_org(&org_id).map_err(to_status)?;
        Ok(Response::new(org_to_pb(&org, self.app.policy(), clock::now())))
    }

    async fn list_orgs(&self, request: Request<pb::ListOrgsRequest>) -> Result<Response<pb::ListOrgsResponse>, Status> {
        let pb::ListOrgsRequest { page_size, page_token } = request.into_inner();
        let page = page_request(page_size, &page_token)?;
        let orgs = self.app.list_orgs(&page);
        let now = clock::now();
        Ok(Response::new(pb::ListOrgsResponse {
            orgs: orgs.items.iter().map(|org| org_to_pb(org, self.app.policy(), now)).collect(),
            next_page_token: next_page_token(orgs.next_after),
        }))
    }

    async fn delete_org(&self, request: Request<pb::DeleteOrgRequest>) -> Result<Response<()>, Status> {
        let actor = actor_of(&request);
        let pb::DeleteOrgRequest { org_id } = request.into_inner();
        required_id("org_id", &org_id)?;
        self.app.delete_org(&actor, org_id.clone()).await.map_err(to_status)?;
        tracing::info!(org.id = %org_id, "org deleted");
        Ok(Response::new(()))
    }

    async fn grant_consent(&self, request: Request<pb::GrantConsentRequest>) -> Result<Response<pb::Consent>, Status> {
        let actor = actor_of(&request);
        let pb::GrantConsentRequest { consent } = request.into_inner();
        let consent = consent.ok_or_else(|| invalid_field("consent", "is required"))?;
        let consent = consent_from_pb(consent).map_err(|violations| within("consent", violations))?;
        let consent = self.app.grant_consent(&actor, consent).await.map_err(to_status)?;
        tracing::info!(org.id = %consent.org_id, ticket.id = %consent.ticket_id, agent.id = %consent.agent_id, "consent granted");
        Ok(Response::new(consent_to_pb(&consent)))
    }

    async fn revoke_consent(&self, request: Request<pb::RevokeConsentRequest>) -> Result<Response<()>, Status> {
        let actor = actor_of(&request);
        let pb::RevokeConsentRequest { org_id, ticket_id, agent_id } = request.into_inner();
        required_id("org_id", &org_id)?;
        required_id("ticket_id", &ticket_id)?;
        required_id("agent_id", &agent_id)?;
        self.app
            .revoke_consent(&actor, org_id.clone(), ticket_id.clone(), agent_id.clone())
            .await
            .map_err(to_status)?;
        tracing::info!(org.id = %org_id, ticket.id = %ticket_id, agent.id = %agent_id, "consent revoked");
        Ok(Response::new(()))
    }

    async fn list_consents(
        &self,
        request: Request<pb::ListConsentsRequest>,
    ) -> Result<Response<pb::ListConsentsResponse>, Status> {
        let pb::ListConsentsRequest { org_id, ticket_id, page_size, page_token } = request.into_inner();
        required_id("org_id", &org_id)?;
        let page = page_request(page_size, &page_token)?;
        let ticket_id = (!ticket_id.is_empty()).then_some(ticket_id.as_str());
        let consents = self.app.list_consents(&org_id, ticket_id, &page).map_err(to_status)?;
        Ok(Response::new(pb::ListConsentsResponse {
            consents: consents.items.iter().map(consent_to_pb).collect(),
            next_page_token: next_page_token(consents.next_after),
        }))
    }

    async fn get_policy(&self, request: Request<pb::GetPolicyRequest>) -> Result<Response<pb::Policy>, Status> {
        let pb::GetPolicyRequest { at } = request.into_inner();
        let mut violations = Vec::new();
        let at = instant_field("at", at, &mut violations);
        if !violations.is_empty() {
            return Err(invalid(violations));
        }
        Ok(Response::new(policy_to_pb(self.app.policy(), at.unwrap_or_else(clock::now))))
    }

    async fn list_audit_events(
        &self,
        request: Request<pb::ListAuditEventsRequest>,
    ) -> Result<Response<pb::ListAuditEventsResponse>, Status> {
        let query = audit_query(request.into_inner())?;
        let events = self.app.audit_events(query).await.map_err(to_status)?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            events: events.items.into_iter().map(audit_event_to_pb).collect(),
            next_page_token: next_page_token(events.next_after),
        }))
    }
}

const DEFAULT_AUDIT_PAGE_SIZE: usize = 50;
const MAX_AUDIT_PAGE_SIZE: usize = 200;

fn audit_query(request: pb::ListAuditEventsRequest) -> Result<AuditQuery, Status> {
    let pb::ListAuditEventsRequest {
        page_size,
        page_token,
        caller,
        rpc,
        since,
        until,
        entity_kind,
        entity_id,
        after_sequence: after_sequence_filter,
    } = request;
    let page = page_request(page_size, &page_token)?;
    let limit = if page_size == 0 { DEFAULT_AUDIT_PAGE_SIZE } else { page.size.min(MAX_AUDIT_PAGE_SIZE) };
    let after_sequence = match page.after {
        Some(after) => {
            Some(after.parse::<i64>().map_err(|_| invalid_field("page_token", "is not a token this service issued"))?)
        }
        None => None,
    };
    let mut violations = Vec::new();
    if after_sequence_filter < 0 {
        violations.push(FieldViolation::new("after_sequence", "must not be negative"));
    }
    // A page token and `after_sequence` both move the start: the later one holds.
    let after_sequence = match (after_sequence, after_sequence_filter) {
        (token, 0) => token,
        (Some(token), filter) => Some(token.max(filter)),
        (None, filter) => Some(filter),
    };
    let since = instant_field("since", since, &mut violations);
    let until = instant_field("until", until, &mut violations);
    let kind = match pb::AuditEntityKind::try_from(entity_kind) {
        Ok(kind) => audit_kind_from_pb(kind),
        Err(_) => {
            violations.push(FieldViolation::new("entity_kind", format!("{entity_kind} is not an AuditEntityKind")));
            None
        }
    };
    let entity = match (kind, entity_id.is_empty()) {
        (Some(kind), false) => Some(Entity::new(kind, entity_id)),
        (None, true) => None,
        (Some(_), true) => {
            violations.push(FieldViolation::new("entity_id", "is required when entity_kind is set"));
            None
        }
        (None, false) => {
            if entity_kind == 0 {
                violations.push(FieldViolation::new("entity_kind", "is required when entity_id is set"));
            }
            None
        }
    };
    if let (Some(since), Some(until)) = (since, until) {
        if until <= since {
            violations.push(FieldViolation::new("until", "must be after since"));
        }
    }
    if !violations.is_empty() {
        return Err(invalid(violations));
    }
    let text_filter = |value: String| (!value.is_empty()).then_some(value);
    Ok(AuditQuery {
        after_sequence,
        caller: text_filter(caller),
        rpc: text_filter(rpc.trim_start_matches('/').to_owned()),
        since,
        until,
        entity,
        limit,
    })
}

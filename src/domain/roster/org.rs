//! Orgs and the consents their customers give for single tickets.

use crate::domain::ids::{AgentId, OrgId, TicketId};
use crate::domain::policy::{PlanKind, PolicyFacts};
use crate::domain::time::Instant;
use crate::domain::validation::{FieldViolation, Violations};

#[derive(Clone, Debug, PartialEq)]
pub struct Org {
    pub org_id: OrgId,
    pub cloud_region: String,
    pub plan: PlanKind,
}

impl Org {
    pub fn new(
        org_id: String,
        cloud_region: String,
        plan: Option<PlanKind>,
        facts: &PolicyFacts,
    ) -> Result<Org, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let org_id = OrgId::check(&mut violations, "org_id", org_id);
        if facts.region(&cloud_region).is_none() {
            let known: Vec<&str> = facts.regions.iter().map(|region| region.region.as_str()).collect();
            violations
                .add("cloud_region", format!("unknown cloud region {cloud_region:?}; known: {}", known.join(", ")));
        }
        if plan.is_none() {
            violations.add("plan", "must be PLAN_STANDARD or PLAN_EEA_ONLY");
        }
        violations.finish(|| Org {
            org_id: org_id.expect("checked above"),
            cloud_region,
            plan: plan.expect("checked above"),
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Consent {
    pub org_id: OrgId,
    pub ticket_id: TicketId,
    pub agent_id: AgentId,
    /// The consent holds before this instant.
    pub expires_at: Instant,
}

impl Consent {
    pub fn new(
        org_id: String,
        ticket_id: String,
        agent_id: String,
        expires_at: Option<Instant>,
    ) -> Result<Consent, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let org_id = OrgId::check(&mut violations, "org_id", org_id);
        let ticket_id = TicketId::check(&mut violations, "ticket_id", ticket_id);
        let agent_id = AgentId::check(&mut violations, "agent_id", agent_id);
        if expires_at.is_none() {
            violations.add("expires_at", "is required");
        }
        violations.finish(|| Consent {
            org_id: org_id.expect("checked above"),
            ticket_id: ticket_id.expect("checked above"),
            agent_id: agent_id.expect("checked above"),
            expires_at: expires_at.expect("checked above"),
        })
    }

    pub fn holds_at(&self, at: Instant) -> bool {
        at < self.expires_at
    }
}

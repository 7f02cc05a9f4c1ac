//! The audit trail's vocabulary: who made a write, and what the write touched.
//!
//! Every committed write appends one event in its own transaction, so an event exists exactly
//! when its write does. The caller is named (`token:<name>` or `certificate:<subject>`), never by
//! its secret; entities are named by ID, never by a display name.

use crate::domain::time::Instant;

/// Who is making a call, as the transport established it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// `token:<token name>` or `certificate:<subject>`.
    pub caller: String,
    /// The gRPC method, `eeacoverage.v1.RosterService/UpsertShifts`.
    pub rpc: String,
    /// The caller's `x-request-id`, or one the server made up.
    pub request_id: String,
}

/// What kind of stored entity an event touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    Org,
    Agent,
    Shift,
    TimeOff,
    /// A ticket, named by `<org id> <ticket id>` (see `ticket_entity`): ticket IDs are unique only
    /// within an org.
    Ticket,
    /// A WFM source whose window a sync replaced.
    Source,
}

impl EntityKind {
    pub const ALL: [EntityKind; 6] = [
        EntityKind::Org,
        EntityKind::Agent,
        EntityKind::Shift,
        EntityKind::TimeOff,
        EntityKind::Ticket,
        EntityKind::Source,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EntityKind::Org => "org",
            EntityKind::Agent => "agent",
            EntityKind::Shift => "shift",
            EntityKind::TimeOff => "time_off",
            EntityKind::Ticket => "ticket",
            EntityKind::Source => "source",
        }
    }

    pub fn named(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// The entity of a ticket: `<org id> <ticket id>`. IDs never hold whitespace, so the space
/// separates the two unambiguously (a `/` would not: IDs may contain one).
pub fn ticket_entity(org_id: &str, ticket_id: &str) -> Entity {
    Entity::new(EntityKind::Ticket, format!("{org_id} {ticket_id}"))
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entity {
    pub kind: EntityKind,
    pub id: String,
}

impl Entity {
    pub fn new(kind: EntityKind, id: impl Into<String>) -> Entity {
        Entity { kind, id: id.into() }
    }
}

/// What one write did: the entities it touched and a one-line summary (counts, never names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub affected: Vec<Entity>,
    pub summary: String,
}

impl AuditRecord {
    pub fn new(summary: impl Into<String>, affected: Vec<Entity>) -> AuditRecord {
        AuditRecord { affected, summary: summary.into() }
    }
}

/// One recorded write, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// Increases with every event, in commit order.
    pub sequence: i64,
    pub recorded_at: Instant,
    pub caller: String,
    pub rpc: String,
    pub request_id: String,
    pub summary: String,
    /// Up to `MAX_LISTED_ENTITIES` of the entities touched, in (kind, ID) order.
    pub affected: Vec<Entity>,
    /// How many entities the write touched in all.
    pub n_affected: u64,
}

/// The most affected entities listed with one event; `n_affected` gives the full count.
pub const MAX_LISTED_ENTITIES: usize = 100;

/// Which events to read: all filters must hold.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Events after this sequence number (the page token).
    pub after_sequence: Option<i64>,
    pub caller: Option<String>,
    pub rpc: Option<String>,
    /// Recorded at or after.
    pub since: Option<Instant>,
    /// Recorded before.
    pub until: Option<Instant>,
    /// Events that touched this entity.
    pub entity: Option<Entity>,
    /// At most this many events.
    pub limit: usize,
}

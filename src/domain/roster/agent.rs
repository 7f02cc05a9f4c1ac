//! Agents: who they are, where they work from and which severities they handle.

use super::{check_country, check_severities, MAX_LIST_ENTRIES};
use crate::domain::country::Country;
use crate::domain::ids::AgentId;
use crate::domain::policy::SeveritySet;
use crate::domain::time::{Instant, Zone};
use crate::domain::validation::{check_id, FieldViolation, Violations};

/// The longest display name accepted, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocationChange {
    pub effective_at: Instant,
    pub country: Country,
}

/// `Debug` leaves the display name out: personal information never reaches a log line.
#[derive(Clone, PartialEq)]
pub struct Agent {
    pub agent_id: AgentId,
    /// Personal information: never logged.
    pub display_name: String,
    pub country: Country,
    pub zone: Zone,
    pub severities: SeveritySet,
    /// Sorted by `effective_at`, one per instant.
    pub location_changes: Vec<LocationChange>,
    /// The WFM system that owns the agent, when one does.
    pub source: Option<String>,
}

/// An agent as a caller sent it, before any check.
pub struct AgentDraft {
    pub agent_id: String,
    pub display_name: String,
    pub country: String,
    pub time_zone: String,
    pub severities: Vec<i32>,
    pub location_changes: Vec<(Option<Instant>, String)>,
    pub source: Option<String>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("agent_id", &self.agent_id)
            .field("display_name", &"<personal information>")
            .field("country", &self.country)
            .field("zone", &self.zone.name())
            .field("severities", &self.severities)
            .field("location_changes", &self.location_changes)
            .field("source", &self.source)
            .finish()
    }
}

impl Agent {
    pub fn new(draft: AgentDraft) -> Result<Agent, Vec<FieldViolation>> {
        let AgentDraft { agent_id, display_name, country, time_zone, severities, location_changes, source } = draft;
        let mut violations = Violations::default();
        let agent_id = AgentId::check(&mut violations, "agent_id", agent_id);
        if display_name.chars().count() > MAX_DISPLAY_NAME_CHARS {
            violations.add("display_name", format!("is longer than {MAX_DISPLAY_NAME_CHARS} characters"));
        }
        let country = check_country(&mut violations, "country", &country);
        let zone = violations.check("time_zone", Zone::named(&time_zone));
        let severities = check_severities(&mut violations, "severities", &severities);
        if location_changes.len() > MAX_LIST_ENTRIES {
            violations.add("location_changes", format!("has more than {MAX_LIST_ENTRIES} entries"));
        }
        let mut changes = Vec::with_capacity(location_changes.len());
        for (change_idx, (effective_at, code)) in location_changes.into_iter().enumerate() {
            let field = |name: &str| format!("location_changes[{change_idx}].{name}");
            if effective_at.is_none() {
                violations.add(field("effective_at"), "is required");
            }
            let country = check_country(&mut violations, &field("country"), &code);
            if let (Some(effective_at), Some(country)) = (effective_at, country) {
                if changes.iter().any(|change: &LocationChange| change.effective_at == effective_at) {
                    violations.add(field("effective_at"), "two location changes take effect at the same instant");
                }
                changes.push(LocationChange { effective_at, country });
            }
        }
        changes.sort_by_key(|change| change.effective_at);
        if let Some(source) = &source {
            check_id(&mut violations, "source", source);
        }
        violations.finish(|| Agent {
            agent_id: agent_id.expect("checked above"),
            display_name,
            country: country.expect("checked above"),
            zone: zone.expect("checked above"),
            severities,
            location_changes: changes,
            source,
        })
    }

    /// Where the agent works from at an instant (ignoring any shift's own country).
    pub fn country_at(&self, at: Instant) -> Country {
        self.location_changes
            .iter()
            .take_while(|change| change.effective_at <= at)
            .last()
            .map_or(self.country, |change| change.country)
    }
}

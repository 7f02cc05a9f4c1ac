//! Code generated from `proto/eeacoverage/v1`. Always written qualified (`pb::Shift`) elsewhere,
//! so a reader sees at a glance which layer a type belongs to.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

tonic::include_proto!("eeacoverage.v1");

/// The encoded file descriptor set of the `eeacoverage.v1` package, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/eeacoverage_descriptor.bin"));

/// Personal information never reaches a log line, even through `{:?}`.
impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Agent { agent_id, display_name: _, country, time_zone, severities, location_changes } = self;
        f.debug_struct("Agent")
            .field("agent_id", agent_id)
            .field("display_name", &"<personal information>")
            .field("country", country)
            .field("time_zone", time_zone)
            .field("severities", severities)
            .field("location_changes", location_changes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_output_of_a_wire_agent_leaves_its_display_name_out() {
        let wire =
            super::Agent { agent_id: "a1".into(), display_name: "Siobhán Ní Bhriain".into(), ..Default::default() };
        assert!(!format!("{wire:?}").contains("Siobhán"));
        assert!(format!("{wire:?}").contains("a1"));
    }
}

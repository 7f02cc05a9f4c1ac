//! Code generated from `proto/eeacoverage/v1`. Always written qualified (`pb::Shift`) elsewhere,
//! so a reader sees at a glance which layer a type belongs to.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

tonic::include_proto!("eeacoverage.v1");

/// The encoded file descriptor set of the `eeacoverage.v1` package, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/eeacoverage_descriptor.bin"));

/// The proto3 JSON mapping of `message`, a message of this package called `name` (such as
/// `"Agent"`), every field present (defaults included): the one mapping that the gap webhook's
/// bodies and the command line's `--format json` share.
pub fn to_json<M: prost::Message>(message: &M, name: &str) -> Vec<u8> {
    static POOL: std::sync::OnceLock<prost_reflect::DescriptorPool> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        prost_reflect::DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("the contract's own descriptors decode")
    });
    let descriptor = pool
        .get_message_by_name(&format!("eeacoverage.v1.{name}"))
        .unwrap_or_else(|| panic!("the contract describes {name}"));
    let dynamic = prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .expect("a message of the contract decodes against its own descriptor");
    let mut serializer = serde_json::Serializer::new(Vec::new());
    dynamic
        .serialize_with_options(&mut serializer, &prost_reflect::SerializeOptions::new().skip_default_fields(false))
        .expect("JSON serialises into memory");
    serializer.into_inner()
}

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

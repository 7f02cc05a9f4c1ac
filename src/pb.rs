//! Code generated from `proto/eeacoverage/v1`. Always written qualified (`pb::Shift`) elsewhere,
//! so a reader sees at a glance which layer a type belongs to.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

tonic::include_proto!("eeacoverage.v1");

/// The encoded file descriptor set of the `eeacoverage.v1` package, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/eeacoverage_descriptor.bin"));

/// The package of the contract.
pub const PACKAGE: &str = "eeacoverage.v1";

/// The contract's descriptors, decoded once.
pub fn descriptor_pool() -> &'static prost_reflect::DescriptorPool {
    static POOL: std::sync::OnceLock<prost_reflect::DescriptorPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        prost_reflect::DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("the contract's own descriptors decode")
    })
}

/// A message serialised in the one JSON mapping this crate writes (the gap webhook's bodies, the
/// command line's `--format json`, the JSON API's answers): proto3 JSON, every field present,
/// defaults included.
pub struct JsonMessage<'a>(pub &'a prost_reflect::DynamicMessage);

impl serde::Serialize for JsonMessage<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_with_options(serializer, &prost_reflect::SerializeOptions::new().skip_default_fields(false))
    }
}

/// The proto3 JSON mapping of `message`, a message of this package called `name` (such as
/// `"Agent"`), as `JsonMessage` writes it.
pub fn to_json<M: prost::Message>(message: &M, name: &str) -> Vec<u8> {
    let descriptor = descriptor_pool()
        .get_message_by_name(&format!("{PACKAGE}.{name}"))
        .unwrap_or_else(|| panic!("the contract describes {name}"));
    let dynamic = prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .expect("a message of the contract decodes against its own descriptor");
    serde_json::to_vec(&JsonMessage(&dynamic)).expect("JSON serialises into memory")
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

//! Code generated from `proto/eeacoverage/v1`. Always written qualified (`pb::Shift`) elsewhere,
//! so a reader sees at a glance which layer a type belongs to.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

tonic::include_proto!("eeacoverage.v1");

/// The encoded file descriptor set of the `eeacoverage.v1` package, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/eeacoverage_descriptor.bin"));

//! eea-coverage: proves a support organisation keeps its EEA data-residency promises.
//!
//! Layers (see ARCHITECTURE.md): `transport` (gRPC) -> `app` (use cases) -> `domain` (pure);
//! `storage` -> `domain`; `startup` wires them together.

pub mod app;
pub mod audit;
pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod domain;
pub mod import;
pub mod loadgen;
pub mod pb;
pub mod report;
pub mod startup;
pub mod storage;
pub mod transport;

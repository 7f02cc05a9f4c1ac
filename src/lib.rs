//! eea-coverage: proves a support organisation keeps its EEA data-residency promises.
//!
//! Layers (see ARCHITECTURE.md): `transport` (gRPC) -> `app` (use cases) -> `domain` (pure);
//! `storage` -> `domain`; `startup` wires them together. On the client side, `cli` holds the
//! commands that talk to a server; `formats` reads and writes files for either side; `testing`
//! supports the tests, the benchmarks and the load generator.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod formats;
pub mod pb;
pub mod startup;
pub mod storage;
pub mod testing;
pub mod transport;

#[cfg(test)]
mod layers_tests;
#[cfg(test)]
mod source_scan;

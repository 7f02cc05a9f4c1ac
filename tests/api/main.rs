//! One integration-test binary: gRPC against a real server, on SQLite and on PostgreSQL.

mod helpers;

mod hostile;

mod audit;

mod coverage;
mod crash;
mod pg_restart;
mod policy;
mod replicas;
mod restart;
mod roster;
mod service;
mod sync;
mod tickets;
mod tls;
mod validation;

//! One integration-test binary: gRPC against a real server, on SQLite and on PostgreSQL.

mod helpers;
mod raw_h2;

mod hostile;

mod audit;
mod browser;
mod calendar_import;
mod webdriver;

mod compression;
mod console;
mod coverage;
mod crash;
mod deadlines;
mod everyday_commands;
mod explain;
mod gap_watch;
mod gap_webhook;
mod json_api;
mod known_at;
mod pg_restart;
mod pg_tls;
mod policy;
mod private_cluster;
mod replicas;
mod restart;
mod retention;
mod roster;
mod service;
mod sockets;
mod sync;
mod sync_endings;
mod tickets;
mod tls;
mod validation;
mod what_if;
mod windows;
mod working_time;

//! The server's accepted connections: Nagle's algorithm is off on every one, so a small answer
//! never waits about 40 ms for the peer's delayed ACK.

use crate::helpers::{create_database, spawn_app_on, Backend};
use crate::raw_h2::RawCall;

/// The socket of this process that joins `local` to `peer`, and whether it has TCP_NODELAY.
#[cfg(target_os = "linux")]
fn nodelay_of_socket(local: std::net::SocketAddr, peer: std::net::SocketAddr) -> Option<bool> {
    use std::os::fd::BorrowedFd;
    for entry in std::fs::read_dir("/proc/self/fd").expect("the process's descriptors") {
        let entry = entry.expect("a descriptor");
        let is_socket =
            std::fs::read_link(entry.path()).is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        let Some(fd) = entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()) else { continue };
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is one of this process's open sockets, and it stays open while
        // borrowed here: the server's connection to `peer` is alive until the test drops it.
        #[allow(unsafe_code, reason = "the server's socket options are read through its descriptor")]
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let addresses =
            (socket.local_addr().ok().and_then(|a| a.as_socket()), socket.peer_addr().ok().and_then(|a| a.as_socket()));
        if addresses == (Some(local), Some(peer)) {
            return Some(socket.tcp_nodelay().expect("reading TCP_NODELAY"));
        }
    }
    None
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_connection_has_tcp_nodelay() {
    let database = create_database(Backend::Sqlite).expect("SQLite is always there");
    let app = spawn_app_on(&database, "").await;
    // A health check answered on the connection: by then the server has accepted it.
    let mut call = RawCall::open(app.address, "/grpc.health.v1.Health/Check", &[]).await;
    call.send_message(&tonic_health::pb::HealthCheckRequest { service: String::new() }).await;
    call.end_stream().await;
    call.answered().await;
    let nodelay = nodelay_of_socket(app.address, call.local_address).expect("the server's end of the connection");
    assert!(nodelay, "the accepted connection lacks TCP_NODELAY");
    app.stop().await;
}

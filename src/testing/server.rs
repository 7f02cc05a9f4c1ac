//! A server of this crate on its own tokio task, for a test or a benchmark to call.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::auth::token_hash;
use crate::config::{RawAuth, RawHttp, RawSettings, RawToken, Settings};
use crate::startup::Server;

/// A running server. It is bound before `start` returns, so a client connects at once and no
/// caller waits or sleeps for it. Dropping it asks the server to stop.
pub struct SpawnedServer {
    /// Where the gRPC listener is bound.
    pub address: SocketAddr,
    /// Where the metrics listener is bound, when the settings ask for one.
    pub metrics_address: Option<SocketAddr>,
    /// Where the JSON API is bound, when the settings ask for it.
    pub http_address: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<()>>,
}

/// Settings for a server on `127.0.0.1:0` (its JSON API on another free port) over
/// `database_url`, with one admin token.
pub fn settings_with_admin_token(database_url: &str, token_name: &str, token: &str) -> Settings {
    RawSettings {
        listen: Some("127.0.0.1:0".into()),
        http: RawHttp { listen: Some("127.0.0.1:0".into()) },
        database_url: Some(database_url.to_owned()),
        auth: RawAuth {
            tokens: vec![RawToken { name: token_name.into(), role: "admin".into(), sha256: token_hash(token) }],
            ..RawAuth::default()
        },
        ..RawSettings::default()
    }
    .validate()
    .expect("settings with an admin token are valid")
}

impl SpawnedServer {
    /// Builds a server from `settings` and serves on a task of its own; panics when it cannot
    /// start, or later when it fails while serving.
    pub async fn start(settings: &Settings) -> SpawnedServer {
        let server = Server::build(settings).await.expect("the server starts");
        let address = server.local_addr();
        let metrics_address = server.metrics_addr();
        let http_address = server.http_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            server
                .run_until(async {
                    let _ = stopped.await;
                })
                .await
                .expect("the server runs");
        });
        SpawnedServer { address, metrics_address, http_address, stop: Some(stop), serving: Some(serving) }
    }

    /// A new connection to the server, without a token.
    pub async fn connect(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.address))
            .expect("a valid URI")
            .connect()
            .await
            .expect("connecting to the server")
    }

    /// Asks the server to stop (it reports NOT_SERVING, sends GOAWAY and drains), without
    /// waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and waits until it has released the database.
    pub async fn stop(mut self) {
        self.begin_stop();
        if let Some(serving) = self.serving.take() {
            serving.await.expect("the server task ends cleanly");
        }
    }
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        self.begin_stop();
    }
}

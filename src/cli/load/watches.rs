//! Watch streams held open while the phases run (`--watch-streams`): what the hot path costs a
//! server that also follows many ticket systems' windows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tonic::transport::Endpoint;

use crate::cli::connection::{with_token, AuthChannel};
use crate::pb;
use crate::testing::rosters::LOAD_TEST_ORGS;

/// Streams per HTTP/2 connection: below the server's limit of concurrent streams on one.
const STREAMS_PER_CONNECTION: usize = 100;

/// Open watch streams, each read by a task of its own that counts what arrives.
pub struct OpenWatches {
    readers: Vec<tokio::task::JoinHandle<()>>,
    updates: Arc<AtomicU64>,
    heartbeats: Arc<AtomicU64>,
}

impl OpenWatches {
    /// Opens `n_streams` watches, each of one subscription (the orgs, severities and
    /// categories in turn), on connections of their own, and waits for each one's current state.
    pub async fn open(endpoint: &Endpoint, token: Option<&str>, n_streams: usize) -> Result<OpenWatches, String> {
        let (updates, heartbeats) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let mut readers = Vec::with_capacity(n_streams);
        let mut channel: Option<AuthChannel> = None;
        for stream_idx in 0..n_streams {
            if stream_idx % STREAMS_PER_CONNECTION == 0 {
                let connected = endpoint.connect().await.map_err(|error| format!("cannot connect: {error}"))?;
                channel = Some(with_token(connected, token));
            }
            let (org_id, _, _) = LOAD_TEST_ORGS[stream_idx % LOAD_TEST_ORGS.len()];
            let subscription = pb::WindowSubscription {
                org_id: org_id.into(),
                severity: 1 + (stream_idx / LOAD_TEST_ORGS.len() % 4) as i32,
                category: if stream_idx % 10 == 9 { pb::TicketCategory::ThirdParty as i32 } else { 0 },
                ticket_id: format!("load-ticket-{stream_idx}"),
            };
            let request = pb::WatchWindowsRequest { subscriptions: vec![subscription], heartbeat_interval: None };
            let mut client =
                pb::ticket_service_client::TicketServiceClient::new(channel.clone().expect("connected above"));
            let mut stream = client
                .watch_windows(request)
                .await
                .map_err(|status| format!("watch {stream_idx}: {}", status.message()))?
                .into_inner();
            stream
                .message()
                .await
                .map_err(|status| format!("watch {stream_idx}: {}", status.message()))?
                .ok_or_else(|| format!("watch {stream_idx} ended before its current state"))?;
            let (updates, heartbeats) = (updates.clone(), heartbeats.clone());
            readers.push(tokio::spawn(async move {
                while let Ok(Some(message)) = stream.message().await {
                    match message.event {
                        Some(pb::watch_windows_response::Event::Update(_)) => updates.fetch_add(1, Ordering::Relaxed),
                        _ => heartbeats.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }));
        }
        Ok(OpenWatches { readers, updates, heartbeats })
    }

    /// Closes every stream and says how many are still open, and what they received.
    pub fn close(self) -> String {
        let still_open = self.readers.iter().filter(|reader| !reader.is_finished()).count();
        for reader in &self.readers {
            reader.abort();
        }
        format!(
            "watch streams: {} opened, {still_open} still open at the end, {} updates and {} heartbeats received after the first states",
            self.readers.len(),
            self.updates.load(Ordering::Relaxed),
            self.heartbeats.load(Ordering::Relaxed)
        )
    }
}

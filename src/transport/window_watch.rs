//! `TicketService.WatchWindows`: the request checked, then a task per stream that sends each
//! subscription's current state, every change the app's watch reports, and heartbeats, until the
//! client goes away or the server stops.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::convert::{category_field, severity_field, timestamp, window_update_to_pb};
use super::status::{invalid, invalid_field, to_status};
use crate::app::{App, WindowSubscription, WindowUpdate, WindowWatch};
use crate::clock;
use crate::domain::validation::{check_id, Violations};
use crate::pb;

/// The most subscriptions one watch may hold.
pub const MAX_WINDOW_SUBSCRIPTIONS: usize = 100;
/// The heartbeat interval when the request names none, and the shortest and longest allowed.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
const HEARTBEAT_RANGE: std::ops::RangeInclusive<Duration> = Duration::from_secs(1)..=Duration::from_secs(3_600);
/// Messages a stream holds for a client that reads slowly before its task waits.
const STREAM_BUFFER: usize = 16;

pub type WindowStream = ReceiverStream<Result<pb::WatchWindowsResponse, Status>>;

/// The open watch streams: a permit each, up to the configured limit, and the signal that the
/// server is stopping, on which every stream ends with UNAVAILABLE.
#[derive(Clone)]
pub struct WatchStreams {
    permits: Arc<Semaphore>,
    stopping: tokio::sync::watch::Receiver<bool>,
}

impl WatchStreams {
    pub fn new(max_streams: usize, stopping: tokio::sync::watch::Receiver<bool>) -> WatchStreams {
        WatchStreams { permits: Arc::new(Semaphore::new(max_streams.max(1))), stopping }
    }

    /// Checks the request, starts the app's watch and the task that feeds the stream.
    pub fn start(&self, app: &App, request: pb::WatchWindowsRequest) -> Result<WindowStream, Status> {
        let pb::WatchWindowsRequest { subscriptions, heartbeat_interval } = request;
        let (subscriptions, heartbeat) = watch_request(subscriptions, heartbeat_interval)?;
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted("the server is at its limit of open watch streams; retry with backoff")
        })?;
        let (watch, first) = app.watch_windows(subscriptions, clock::wall_clock()).map_err(to_status)?;
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(follow(watch, first, heartbeat, sender, self.stopping.clone(), permit));
        Ok(ReceiverStream::new(receiver))
    }
}

fn watch_request(
    subscriptions: Vec<pb::WindowSubscription>,
    heartbeat_interval: Option<prost_types::Duration>,
) -> Result<(Vec<WindowSubscription>, Duration), Status> {
    if subscriptions.is_empty() || subscriptions.len() > MAX_WINDOW_SUBSCRIPTIONS {
        return Err(invalid_field(
            "subscriptions",
            &format!("{} subscriptions; 1 to {MAX_WINDOW_SUBSCRIPTIONS} per watch", subscriptions.len()),
        ));
    }
    let mut violations = Violations::default();
    let mut checked = Vec::with_capacity(subscriptions.len());
    for (subscription_idx, subscription) in subscriptions.into_iter().enumerate() {
        let pb::WindowSubscription { org_id, severity, category, ticket_id } = subscription;
        let field = |name: &str| format!("subscriptions[{subscription_idx}].{name}");
        check_id(&mut violations, &field("org_id"), &org_id);
        if !ticket_id.is_empty() {
            check_id(&mut violations, &field("ticket_id"), &ticket_id);
        }
        let severity = severity_field(&mut violations, &field("severity"), severity);
        let category = category_field(&mut violations, &field("category"), category);
        if let (Some(severity), Some(category)) = (severity, category) {
            checked.push(WindowSubscription { org_id, ticket_id, severity, category });
        }
    }
    let heartbeat = match heartbeat_interval {
        None => Some(DEFAULT_HEARTBEAT),
        Some(prost_types::Duration { seconds, nanos }) => {
            let interval = u64::try_from(seconds)
                .ok()
                .zip(u32::try_from(nanos).ok().filter(|nanos| *nanos < 1_000_000_000))
                .map(|(seconds, nanos)| Duration::new(seconds, nanos))
                .filter(|interval| HEARTBEAT_RANGE.contains(interval));
            if interval.is_none() {
                violations.add("heartbeat_interval", "must be from 1 second to 1 hour");
            }
            interval
        }
    };
    violations.finish(|| (checked, heartbeat.expect("checked above"))).map_err(invalid)
}

/// Feeds one stream: the current states, then each change as the watch reports it, a heartbeat
/// after `heartbeat` without a message; ends when the client goes away (the permit is given
/// back) or the server stops (UNAVAILABLE).
async fn follow(
    mut watch: WindowWatch,
    first: Vec<WindowUpdate>,
    heartbeat: Duration,
    sender: mpsc::Sender<Result<pb::WatchWindowsResponse, Status>>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let mut pending = first;
    loop {
        for update in pending.drain(..) {
            let event = pb::watch_windows_response::Event::Update(window_update_to_pb(update));
            if sender.send(Ok(pb::WatchWindowsResponse { event: Some(event) })).await.is_err() {
                return;
            }
        }
        tokio::select! {
            updates = watch.next_updates() => match updates {
                Ok(updates) => pending = updates,
                Err(error) => {
                    let _ = sender.send(Err(to_status(error))).await;
                    return;
                }
            },
            () = tokio::time::sleep(heartbeat) => {
                let beat = pb::WatchHeartbeat { roster_version: watch.roster_version(), at: Some(timestamp(clock::now())) };
                let event = pb::watch_windows_response::Event::Heartbeat(beat);
                if sender.send(Ok(pb::WatchWindowsResponse { event: Some(event) })).await.is_err() {
                    return;
                }
            }
            () = sender.closed() => return,
            () = stopped(&mut stopping) => {
                let _ = sender.send(Err(Status::unavailable("the server is stopping; watch again through another replica"))).await;
                return;
            }
        }
    }
}

/// Returns once the server is stopping (or has gone).
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across the stream's next await.
    let _ = stopping.wait_for(|stop| *stop).await.map(|stop| *stop);
}

//! The watch streams (`TicketService.WatchWindows`, `CoverageService.WatchGaps`): the request
//! checked, then a task per stream that sends the current state, every change the app's watch
//! reports, and heartbeats, until the client goes away or the server stops.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use jiff::SignedDuration;

use super::convert::{
    category_field, enum_field, gap_event_to_pb, plan_from_pb, severity_field, timestamp, window_update_to_pb,
};
use super::status::{invalid, invalid_field, to_status};
use crate::app::{App, AppError, GapEvent, GapWatch, WindowSubscription, WindowUpdate, WindowWatch};
use crate::clock;
use crate::domain::gap_watch::GapRequirement;
use crate::domain::validation::{check_id, Violations};
use crate::pb;

/// The most subscriptions one window watch may hold.
pub const MAX_WINDOW_SUBSCRIPTIONS: usize = 100;
/// The most requirements one gap watch may hold (each look at one runs a short coverage report).
pub const MAX_GAP_REQUIREMENTS: usize = 20;
/// A gap watch's look-ahead when the request names none, and the shortest and longest allowed.
const DEFAULT_LOOK_AHEAD: Duration = Duration::from_secs(72 * 3600);
const LOOK_AHEAD_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(3600)..=Duration::from_secs(14 * 24 * 3600);
/// The largest `min_staff` a gap watch accepts, as a report does.
const MAX_MIN_STAFF: i32 = super::coverage_service::MAX_MIN_STAFF;
/// The heartbeat interval when the request names none, and the shortest and longest allowed.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
const HEARTBEAT_RANGE: std::ops::RangeInclusive<Duration> = Duration::from_secs(1)..=Duration::from_secs(3_600);
/// Messages a stream holds for a client that reads slowly before its task waits.
const STREAM_BUFFER: usize = 16;

pub type WindowStream = ReceiverStream<Result<pb::WatchWindowsResponse, Status>>;
pub type GapStream = ReceiverStream<Result<pb::WatchGapsResponse, Status>>;

/// What a stream's task follows: an app watch that reports events as they happen.
trait Followed: Send + 'static {
    type Event: Send;
    fn next_events(&mut self) -> impl std::future::Future<Output = Result<Vec<Self::Event>, AppError>> + Send;
    fn roster_version(&self) -> i64;
}

impl Followed for WindowWatch {
    type Event = WindowUpdate;
    fn next_events(&mut self) -> impl std::future::Future<Output = Result<Vec<WindowUpdate>, AppError>> + Send {
        self.next_updates()
    }
    fn roster_version(&self) -> i64 {
        WindowWatch::roster_version(self)
    }
}

impl Followed for GapWatch {
    type Event = GapEvent;
    fn next_events(&mut self) -> impl std::future::Future<Output = Result<Vec<GapEvent>, AppError>> + Send {
        GapWatch::next_events(self)
    }
    fn roster_version(&self) -> i64 {
        GapWatch::roster_version(self)
    }
}

/// How a stream's messages are made: from an event, and from a heartbeat.
struct Messages<E, R> {
    event: fn(E) -> R,
    heartbeat: fn(pb::WatchHeartbeat) -> R,
}

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

    /// A place for one more stream, or RESOURCE_EXHAUSTED.
    fn permit(&self) -> Result<OwnedSemaphorePermit, Status> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted("the server is at its limit of open watch streams; retry with backoff")
        })
    }

    /// Checks a `WatchWindows` request, starts the app's watch and the task that feeds the
    /// stream.
    pub fn start_windows(&self, app: &App, request: pb::WatchWindowsRequest) -> Result<WindowStream, Status> {
        let pb::WatchWindowsRequest { subscriptions, heartbeat_interval } = request;
        let (subscriptions, heartbeat) = watch_request(subscriptions, heartbeat_interval)?;
        let permit = self.permit()?;
        let (watch, first) = app.watch_windows(subscriptions, clock::wall_clock()).map_err(to_status)?;
        let messages = Messages {
            event: |update| pb::WatchWindowsResponse {
                event: Some(pb::watch_windows_response::Event::Update(window_update_to_pb(update))),
            },
            heartbeat: |beat| pb::WatchWindowsResponse {
                event: Some(pb::watch_windows_response::Event::Heartbeat(beat)),
            },
        };
        Ok(self.spawn_feed(watch, first, false, heartbeat, messages, permit))
    }

    /// Checks a `WatchGaps` request, starts the app's watch and the task that feeds the stream.
    pub async fn start_gaps(&self, app: &App, request: pb::WatchGapsRequest) -> Result<GapStream, Status> {
        let pb::WatchGapsRequest { requirements, look_ahead, heartbeat_interval } = request;
        let (requirements, look_ahead, heartbeat) = gaps_request(requirements, look_ahead, heartbeat_interval)?;
        let permit = self.permit()?;
        let (watch, first) = app.watch_gaps(requirements, look_ahead, clock::wall_clock()).await.map_err(to_status)?;
        let messages = Messages {
            event: |event| pb::WatchGapsResponse {
                event: Some(pb::watch_gaps_response::Event::Gap(gap_event_to_pb(event))),
            },
            heartbeat: |beat| pb::WatchGapsResponse { event: Some(pb::watch_gaps_response::Event::Heartbeat(beat)) },
        };
        Ok(self.spawn_feed(watch, first, true, heartbeat, messages, permit))
    }

    fn spawn_feed<W: Followed, R: Send + 'static>(
        &self,
        watch: W,
        first: Vec<W::Event>,
        beat_after_first: bool,
        heartbeat: Duration,
        messages: Messages<W::Event, R>,
        permit: OwnedSemaphorePermit,
    ) -> ReceiverStream<Result<R, Status>> {
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        let feed = Feed { sender, messages, heartbeat, stopping: self.stopping.clone(), _permit: permit };
        tokio::spawn(feed.follow(watch, first, beat_after_first));
        ReceiverStream::new(receiver)
    }
}

/// The heartbeat interval a request names, checked.
fn heartbeat_field(violations: &mut Violations, heartbeat_interval: Option<prost_types::Duration>) -> Option<Duration> {
    duration_field(
        violations,
        "heartbeat_interval",
        heartbeat_interval,
        DEFAULT_HEARTBEAT,
        HEARTBEAT_RANGE,
        "from 1 second to 1 hour",
    )
}

/// A wire duration within `range`, or `default` when unset.
fn duration_field(
    violations: &mut Violations,
    field: &str,
    value: Option<prost_types::Duration>,
    default: Duration,
    range: std::ops::RangeInclusive<Duration>,
    range_text: &str,
) -> Option<Duration> {
    let Some(prost_types::Duration { seconds, nanos }) = value else { return Some(default) };
    let checked = u64::try_from(seconds)
        .ok()
        .zip(u32::try_from(nanos).ok().filter(|nanos| *nanos < 1_000_000_000))
        .map(|(seconds, nanos)| Duration::new(seconds, nanos))
        .filter(|duration| range.contains(duration));
    if checked.is_none() {
        violations.add(field, format!("must be {range_text}"));
    }
    checked
}

fn gaps_request(
    requirements: Vec<pb::GapRequirement>,
    look_ahead: Option<prost_types::Duration>,
    heartbeat_interval: Option<prost_types::Duration>,
) -> Result<(Vec<GapRequirement>, SignedDuration, Duration), Status> {
    if requirements.is_empty() || requirements.len() > MAX_GAP_REQUIREMENTS {
        return Err(invalid_field(
            "requirements",
            &format!("{} requirements; 1 to {MAX_GAP_REQUIREMENTS} per watch", requirements.len()),
        ));
    }
    let mut violations = Violations::default();
    let mut checked = Vec::with_capacity(requirements.len());
    for (requirement_idx, requirement) in requirements.into_iter().enumerate() {
        let pb::GapRequirement { plan, eea_tagged, severity, min_staff } = requirement;
        let field = |name: &str| format!("requirements[{requirement_idx}].{name}");
        let plan = enum_field(&mut violations, &field("plan"), plan, plan_from_pb, "PLAN_STANDARD or PLAN_EEA_ONLY");
        let severity = severity_field(&mut violations, &field("severity"), severity);
        if !(0..=MAX_MIN_STAFF).contains(&min_staff) {
            violations.add(field("min_staff"), format!("must be from 0 to {MAX_MIN_STAFF}"));
        }
        if let (Some(plan), Some(severity)) = (plan, severity) {
            let min_staff = u32::try_from(min_staff.max(1)).unwrap_or(1);
            checked.push(GapRequirement { plan, eea_tagged, severity, min_staff });
        }
    }
    let look_ahead = duration_field(
        &mut violations,
        "look_ahead",
        look_ahead,
        DEFAULT_LOOK_AHEAD,
        LOOK_AHEAD_RANGE,
        "from 1 hour to 14 days",
    );
    let heartbeat = heartbeat_field(&mut violations, heartbeat_interval);
    violations
        .finish(|| {
            let look_ahead = look_ahead.expect("checked above");
            let look_ahead = SignedDuration::try_from(look_ahead).expect("at most 14 days");
            (checked, look_ahead, heartbeat.expect("checked above"))
        })
        .map_err(invalid)
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
    let heartbeat = heartbeat_field(&mut violations, heartbeat_interval);
    violations.finish(|| (checked, heartbeat.expect("checked above"))).map_err(invalid)
}

/// What feeds one stream: where its messages go, how they are made, how often it beats, the
/// server's stopping signal, and its place among the open streams (given back when it ends).
struct Feed<E, R> {
    sender: mpsc::Sender<Result<R, Status>>,
    messages: Messages<E, R>,
    heartbeat: Duration,
    stopping: tokio::sync::watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

impl<E: Send, R: Send> Feed<E, R> {
    /// Sends the current state (and a heartbeat after it when asked), then each event as the
    /// watch reports it, a heartbeat after `heartbeat` without a message; ends when the client
    /// goes away or the server stops (UNAVAILABLE).
    async fn follow<W: Followed<Event = E>>(mut self, mut watch: W, first: Vec<E>, beat_after_first: bool) {
        let mut pending = first;
        let mut beat_now = beat_after_first;
        loop {
            for event in pending.drain(..) {
                if self.sender.send(Ok((self.messages.event)(event))).await.is_err() {
                    return;
                }
            }
            if std::mem::take(&mut beat_now) && !self.beat(watch.roster_version()).await {
                return;
            }
            tokio::select! {
                events = watch.next_events() => match events {
                    Ok(events) => pending = events,
                    Err(error) => {
                        let _ = self.sender.send(Err(to_status(error))).await;
                        return;
                    }
                },
                () = tokio::time::sleep(self.heartbeat) => beat_now = true,
                () = self.sender.closed() => return,
                () = stopped(&mut self.stopping) => {
                    let status = Status::unavailable("the server is stopping; watch again through another replica");
                    let _ = self.sender.send(Err(status)).await;
                    return;
                }
            }
        }
    }

    /// Sends a heartbeat; false when the client has gone.
    async fn beat(&self, roster_version: i64) -> bool {
        let beat = pb::WatchHeartbeat { roster_version, at: Some(timestamp(clock::now())) };
        self.sender.send(Ok((self.messages.heartbeat)(beat))).await.is_ok()
    }
}

/// Returns once the server is stopping (or has gone).
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across the stream's next await.
    let _ = stopping.wait_for(|stop| *stop).await.map(|stop| *stop);
}

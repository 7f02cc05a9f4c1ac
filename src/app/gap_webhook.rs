//! The gap webhook: a gap watch of configured requirements whose events are posted to a
//! receiver, by exactly one replica at a time.
//!
//! The replicas sharing a database contend for a lease in it (judged by the database's clock).
//! The one that holds it runs the watch, carrying on from what the last leader told the
//! receiver (the state in the database), and appends each event to an outbox in the same
//! transaction that checks its lease and saves the new state, so a replica that has lost the
//! lease writes nothing. A delivery task posts the outbox oldest first, retries with back-off,
//! and posts only while the lease has a whole request timeout to run, so two replicas never post
//! at once. An event posted whose removal from the outbox did not happen (the replica died
//! between the two) is posted again with the same event ID: receivers drop an ID they have seen.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant as Monotonic;

use stored::{earlier_gaps, stored_gaps, StoredEvent};

use super::{App, AppError, GapEvent};
use crate::clock::WallClock;
use crate::domain::coverage::Gap;
use crate::domain::gap_watch::GapRequirement;
use crate::domain::time::Instant;
use crate::storage::{self, StoredWebhookState};

mod stored;

/// The lease's name in the database.
const LEASE_NAME: &str = "gap_webhook";
/// Events per POST.
const MAX_EVENTS_PER_DELIVERY: usize = 100;
/// Events kept waiting while the receiver is away; older ones are dropped, counted and logged.
const MAX_WAITING_EVENTS: usize = 10_000;
/// The first retry's wait, and the longest.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(300);
/// How often the delivery task looks at the outbox when nothing wakes it (events written by an
/// earlier leader, say).
const OUTBOX_LOOK: Duration = Duration::from_secs(5);

/// What the webhook watches and how its lease runs.
#[derive(Clone, Debug)]
pub struct GapWebhookPlan {
    pub requirements: Vec<GapRequirement>,
    pub look_ahead: jiff::SignedDuration,
    /// How long a lease lasts unrenewed; renewed six times as often.
    pub lease: Duration,
    /// The longest one delivery may take: posts start only while the lease has this and a
    /// second to run.
    pub delivery_timeout: Duration,
}

/// One event as the receiver gets it.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookEvent {
    pub event_id: i64,
    pub requirement: GapRequirement,
    pub event: GapEvent,
}

/// Why a delivery failed, and when the receiver asked to be tried again, if it did.
#[derive(Debug)]
pub struct DeliveryFailure {
    pub reason: String,
    pub retry_after: Option<Duration>,
}

/// Where events go: the HTTP receiver in service, a recording one in tests.
pub trait GapReceiver: Send + Sync + 'static {
    /// Delivers `events` (oldest first, at most `MAX_EVENTS_PER_DELIVERY`); `Ok` once the
    /// receiver has taken them all.
    fn deliver(&self, events: &[WebhookEvent]) -> impl Future<Output = Result<(), DeliveryFailure>> + Send;
}

/// The lease as this replica knows it: held in `term` until `valid_until` by its own monotonic
/// clock (counted from before the database extended it, so never later than the database's
/// expiry).
struct HeldLease {
    term: i64,
    valid_until: std::sync::Mutex<Monotonic>,
}

impl HeldLease {
    fn extend(&self, asked_at: Monotonic, lease: Duration) {
        *self.valid_until.lock().expect("the lease lock is never poisoned") = asked_at + lease;
    }

    /// How long the lease has to run.
    fn remaining(&self) -> Duration {
        self.valid_until.lock().expect("the lease lock is never poisoned").saturating_duration_since(Monotonic::now())
    }
}

/// What stops a leader: the database, or a watch that cannot go on.
#[derive(Debug, thiserror::Error)]
enum WebhookError {
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    App(#[from] AppError),
}

/// Why a replica stopped leading.
enum LeadEnd {
    Stopped,
    LostLease,
}

/// A name for this process in the lease table: unique per start (64 bits from the standard
/// library's randomly seeded hasher, beside the host and the process ID, which containers often
/// share).
fn holder_name() -> String {
    let seed = std::collections::hash_map::RandomState::new();
    let tag = std::hash::BuildHasher::hash_one(&seed, std::time::SystemTime::UNIX_EPOCH.elapsed().ok());
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    format!("{host}:{}:{tag:016x}", std::process::id())
}

impl App {
    /// Runs the gap webhook until `stop` says true: contends for the lease, leads while it holds
    /// it, and gives it up on the way out so another replica takes over at once.
    pub async fn run_gap_webhook<R: GapReceiver>(
        self: Arc<Self>,
        plan: GapWebhookPlan,
        receiver: Arc<R>,
        clock: WallClock,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let holder = holder_name();
        let renew_every = plan.lease / 6;
        metrics::gauge!("eea_coverage_gap_webhook_leader").set(0.0);
        while !*stop.borrow() {
            let asked_at = Monotonic::now();
            let (name, me, ttl) = (LEASE_NAME, holder.clone(), micros(plan.lease));
            match self.store.read(move |connection| storage::claim_lease(connection, name, &me, ttl)).await {
                Ok(Some(term)) => {
                    let lease = Arc::new(HeldLease { term, valid_until: std::sync::Mutex::new(asked_at + plan.lease) });
                    tracing::info!(webhook.term = term, "leading the gap webhook");
                    metrics::gauge!("eea_coverage_gap_webhook_leader").set(1.0);
                    let ended =
                        self.lead_gap_webhook(&plan, &holder, lease, receiver.clone(), clock.clone(), &mut stop).await;
                    metrics::gauge!("eea_coverage_gap_webhook_leader").set(0.0);
                    match ended {
                        Ok(LeadEnd::Stopped) => break,
                        Ok(LeadEnd::LostLease) => tracing::warn!(webhook.term = term, "lost the gap webhook's lease"),
                        Err(error) => tracing::error!(webhook.term = term, %error, "the gap webhook stopped leading"),
                    }
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "cannot claim the gap webhook's lease"),
            }
            tokio::select! {
                _ = tokio::time::sleep(renew_every) => {}
                _ = stop.changed() => {}
            }
        }
        let me = holder.clone();
        if let Err(error) = self.store.read(move |connection| storage::release_lease(connection, LEASE_NAME, &me)).await
        {
            tracing::warn!(%error, "cannot release the gap webhook's lease");
        }
    }

    /// Leads while the lease holds: watches, writes events to the outbox, and has them
    /// delivered.
    async fn lead_gap_webhook<R: GapReceiver>(
        &self,
        plan: &GapWebhookPlan,
        holder: &str,
        lease: Arc<HeldLease>,
        receiver: Arc<R>,
        clock: WallClock,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<LeadEnd, WebhookError> {
        let stored = self.store.read(storage::load_webhook_state).await?;
        let earlier = earlier_gaps(stored.as_ref(), &plan.requirements);
        let (mut watch, events) =
            self.resume_gap_watch(plan.requirements.clone(), earlier, plan.look_ahead, clock.clone()).await?;
        let outbox_written = Arc::new(Notify::new());
        if !self
            .append_to_outbox(plan, holder, &lease, &events, watch.reported_gaps(), watch.roster_version(), clock())
            .await?
        {
            return Ok(LeadEnd::LostLease);
        }
        outbox_written.notify_one();
        let (stop_delivery, delivery_stopping) = tokio::sync::watch::channel(false);
        let mut delivery = Task(tokio::spawn(deliver_outbox(
            self.store.clone(),
            receiver,
            lease.clone(),
            outbox_written.clone(),
            plan.delivery_timeout,
            delivery_stopping,
        )));
        let mut renewal =
            Task(tokio::spawn(keep_lease(self.store.clone(), holder.to_owned(), lease.clone(), plan.lease)));
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => {
                    // Let a post under way finish, so the next leader's cannot overlap it.
                    let _ = stop_delivery.send(true);
                    let _ = tokio::time::timeout(plan.delivery_timeout + Duration::from_secs(1), &mut delivery.0).await;
                    return Ok(LeadEnd::Stopped);
                }
                _ = &mut renewal.0 => return Ok(LeadEnd::LostLease),
                events = watch.next_events() => {
                    let events = events?;
                    let written = self
                        .append_to_outbox(plan, holder, &lease, &events, watch.reported_gaps(), watch.roster_version(), clock())
                        .await?;
                    if !written {
                        return Ok(LeadEnd::LostLease);
                    }
                    outbox_written.notify_one();
                }
            }
        }
    }

    /// In one transaction: renews the lease (false, and nothing written, when it is lost),
    /// appends `events` to the outbox and saves the gaps now reported.
    #[allow(clippy::too_many_arguments)]
    async fn append_to_outbox<'a>(
        &self,
        plan: &GapWebhookPlan,
        holder: &str,
        lease: &HeldLease,
        events: &[GapEvent],
        reported: impl Iterator<Item = &'a [(Gap, bool)]>,
        roster_version: i64,
        now: Instant,
    ) -> Result<bool, WebhookError> {
        let payloads = events
            .iter()
            .map(|event| StoredEvent::of(plan.requirements[event.requirement_idx], event).to_json())
            .collect::<Result<Vec<String>, AppError>>()?;
        let state = StoredWebhookState {
            roster_version,
            looked_at: now.as_microsecond(),
            gaps: stored_gaps(&plan.requirements, reported)?,
        };
        let asked_at = Monotonic::now();
        let (me, term, ttl) = (holder.to_owned(), lease.term, micros(plan.lease));
        let created_at = now.as_microsecond();
        let outcome = self
            .store
            .read_in_transaction(move |connection| {
                if !storage::renew_lease(connection, LEASE_NAME, &me, term, ttl)? {
                    return Ok(None);
                }
                storage::append_webhook_events(connection, &payloads, &state, created_at, MAX_WAITING_EVENTS).map(Some)
            })
            .await?;
        match outcome {
            None => Ok(false),
            Some(dropped) => {
                lease.extend(asked_at, plan.lease);
                if dropped > 0 {
                    metrics::counter!("eea_coverage_gap_webhook_dropped_total").increment(dropped as u64);
                    tracing::error!(
                        webhook.dropped = dropped,
                        "the gap webhook's receiver is behind by more than {MAX_WAITING_EVENTS} events: the oldest were dropped"
                    );
                }
                Ok(true)
            }
        }
    }
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// A leader's task (delivery, renewal), aborted when the leader stops leading, however it stops.
struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Renews the lease six times per `length` until it is lost (another holds it, or the database
/// could not be reached while it ran out); then ends.
async fn keep_lease(store: storage::Store, holder: String, lease: Arc<HeldLease>, length: Duration) {
    let mut renewal = tokio::time::interval(length / 6);
    renewal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        renewal.tick().await;
        let asked_at = Monotonic::now();
        let (me, term, ttl) = (holder.clone(), lease.term, micros(length));
        match store.read(move |connection| storage::renew_lease(connection, LEASE_NAME, &me, term, ttl)).await {
            Ok(true) => lease.extend(asked_at, length),
            Ok(false) => return,
            Err(error) => {
                tracing::warn!(%error, "cannot renew the gap webhook's lease");
                if lease.remaining().is_zero() {
                    return;
                }
            }
        }
    }
}

/// Posts the outbox oldest first, a batch at a time, each retried with back-off until the
/// receiver takes it. Runs until the leader aborts it.
async fn deliver_outbox<R: GapReceiver>(
    store: storage::Store,
    receiver: Arc<R>,
    lease: Arc<HeldLease>,
    written: Arc<Notify>,
    delivery_timeout: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut jitter = Jitter::new();
    loop {
        let waiting =
            match store.read(|connection| storage::waiting_webhook_events(connection, MAX_EVENTS_PER_DELIVERY)).await {
                Ok(waiting) => waiting,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the gap webhook's outbox");
                    if !pause(&mut stopping, FIRST_RETRY).await {
                        return;
                    }
                    continue;
                }
            };
        metrics::gauge!("eea_coverage_gap_webhook_waiting").set(waiting.len() as f64);
        if waiting.is_empty() {
            tokio::select! {
                _ = tokio::time::timeout(OUTBOX_LOOK, written.notified()) => continue,
                _ = stopping.wait_for(|stop| *stop) => return,
            }
        }
        let mut unreadable = Vec::new();
        let mut batch = Vec::with_capacity(waiting.len());
        for (event_id, payload) in waiting {
            match StoredEvent::read(event_id, &payload) {
                Ok(event) => batch.push(event),
                Err(error) => {
                    tracing::error!(webhook.event_id = event_id, %error, "a gap webhook event cannot be read; it is dropped");
                    unreadable.push(event_id);
                }
            }
        }
        let mut retry_in = FIRST_RETRY;
        let delivered = loop {
            if batch.is_empty() {
                break true;
            }
            if *stopping.borrow() {
                return;
            }
            // Post only with a whole timeout and a margin left on the lease, so that a post never
            // outlives the lease and overlaps the next leader's.
            let needed = delivery_timeout + Duration::from_secs(1);
            let remaining = lease.remaining();
            if remaining < needed {
                if !pause(&mut stopping, Duration::from_millis(200).min(needed - remaining)).await {
                    return;
                }
                continue;
            }
            let posted = tokio::time::timeout(delivery_timeout, receiver.deliver(&batch)).await;
            let failure = match posted {
                Ok(Ok(())) => break true,
                Ok(Err(failure)) => failure,
                Err(_) => {
                    DeliveryFailure { reason: format!("no answer within {delivery_timeout:?}"), retry_after: None }
                }
            };
            metrics::counter!("eea_coverage_gap_webhook_failed_posts_total").increment(1);
            // A receiver's Retry-After is honoured between the first retry's wait and the longest.
            let wait = failure.retry_after.unwrap_or_else(|| jitter.spread(retry_in)).clamp(FIRST_RETRY, LONGEST_RETRY);
            tracing::warn!(
                webhook.first_event_id = batch[0].event_id,
                webhook.events = batch.len(),
                webhook.retry_in_ms = wait.as_millis() as u64,
                reason = %failure.reason,
                "the gap webhook's receiver did not take the events; retrying"
            );
            if !pause(&mut stopping, wait).await {
                return;
            }
            retry_in = (retry_in * 2).min(LONGEST_RETRY);
        };
        if delivered {
            metrics::counter!("eea_coverage_gap_webhook_delivered_total").increment(batch.len() as u64);
        }
        let done: Vec<i64> = batch.iter().map(|event| event.event_id).chain(unreadable).collect();
        if let Err(error) = store.read(move |connection| storage::remove_webhook_events(connection, &done)).await {
            // They stay in the outbox and go again, with the same IDs.
            tracing::warn!(%error, "cannot remove delivered gap webhook events");
            if !pause(&mut stopping, FIRST_RETRY).await {
                return;
            }
        }
    }
}

/// Waits `duration`; false when the leader asked the delivery to stop meanwhile.
async fn pause(stopping: &mut tokio::sync::watch::Receiver<bool>, duration: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => true,
        _ = stopping.wait_for(|stop| *stop) => false,
    }
}

/// Spreads retries over ±20% so that replicas of many deployments do not retry in step.
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        let seed = std::collections::hash_map::RandomState::new();
        Jitter(std::hash::BuildHasher::hash_one(&seed, std::process::id()) | 1)
    }

    fn spread(&mut self, wait: Duration) -> Duration {
        // xorshift64
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let factor = 0.8 + 0.4 * (self.0 % 1_000) as f64 / 1_000.0;
        wait.mul_f64(factor)
    }
}

#[cfg(test)]
mod tests;

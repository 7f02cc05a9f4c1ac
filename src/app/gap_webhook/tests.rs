//! The gap webhook against recording receivers: retried until taken, each event once, in order,
//! and carried on by the next leader from where the last one stopped.

use std::sync::Mutex;

use super::*;
use crate::app::watch::tests::{actor, app_with_roster, controlled_clock};
use crate::app::{GapEventKind, WindowCause};
use crate::domain::coverage::GapCause;
use crate::domain::fixtures::one_off;
use crate::domain::interval::Interval;
use crate::domain::policy::{PlanKind, Severity};

fn plan() -> GapWebhookPlan {
    GapWebhookPlan {
        requirements: vec![GapRequirement {
            plan: PlanKind::EeaOnly,
            eea_tagged: true,
            severity: Severity::Sev1,
            min_staff: 1,
        }],
        look_ahead: jiff::SignedDuration::from_hours(6),
        lease: Duration::from_secs(3),
        delivery_timeout: Duration::from_millis(500),
    }
}

/// Records what it is given, under a replica's name, each post taking `slowness`; refuses the
/// first `refusals` posts.
struct Recorder {
    replica: &'static str,
    refusals: Mutex<usize>,
    slowness: Duration,
    posts_begun: std::sync::atomic::AtomicUsize,
    posts: Posts,
}

impl Recorder {
    fn new(replica: &'static str, refusals: usize, posts: &Posts) -> Recorder {
        Recorder {
            replica,
            refusals: Mutex::new(refusals),
            slowness: Duration::ZERO,
            posts_begun: Default::default(),
            posts: posts.clone(),
        }
    }
}

impl GapReceiver for Recorder {
    async fn deliver(&self, events: &[WebhookEvent]) -> Result<(), DeliveryFailure> {
        self.posts_begun.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(self.slowness).await;
        {
            let mut refusals = self.refusals.lock().unwrap();
            if *refusals > 0 {
                *refusals -= 1;
                return Err(DeliveryFailure { reason: "503".into(), retry_after: Some(Duration::ZERO) });
            }
        }
        self.posts.lock().unwrap().push((self.replica, events.to_vec()));
        Ok(())
    }
}

type Posts = Arc<Mutex<Vec<(&'static str, Vec<WebhookEvent>)>>>;

fn described(posts: &Posts) -> Vec<(&'static str, i64, GapEventKind, String)> {
    posts
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(replica, events)| {
            events.iter().map(move |event| {
                let gap = format!("{}/{}", event.event.gap.interval.start(), event.event.gap.interval.end());
                (*replica, event.event_id, event.event.kind, gap)
            })
        })
        .collect()
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_post_is_retried_with_the_same_events_and_later_events_follow_in_order() {
    let directory = tempfile::tempdir().unwrap();
    let app = app_with_roster(&directory).await;
    let posts = Posts::default();
    let receiver = Arc::new(Recorder::new("a", 2, &posts));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running =
        tokio::spawn(app.clone().run_gap_webhook(plan(), receiver, controlled_clock("2026-12-07T10:00:00Z"), stopped));
    until("the current gap", || !posts.lock().unwrap().is_empty()).await;
    assert_eq!(
        described(&posts),
        [("a", 1, GapEventKind::Current, "2026-12-07T12:00:00Z/2026-12-07T14:00:00Z".to_owned())]
    );
    assert_eq!(posts.lock().unwrap().len(), 1, "delivered in one post after two refusals");

    app.upsert_entries(&actor(), vec![one_off("lunch-cover", "ie-1", "2026-12-07T12:00:00Z", "2026-12-07T13:00:00Z")])
        .await
        .unwrap();
    until("the write's events", || described(&posts).len() == 3).await;
    assert_eq!(
        described(&posts)[1..],
        [
            ("a", 2, GapEventKind::Closed, "2026-12-07T12:00:00Z/2026-12-07T14:00:00Z".to_owned()),
            ("a", 3, GapEventKind::Opened, "2026-12-07T13:00:00Z/2026-12-07T14:00:00Z".to_owned()),
        ]
    );
    stop.send(true).unwrap();
    running.await.unwrap();
    let waiting = app.store.read(|connection| storage::waiting_webhook_events(connection, 10)).await.unwrap();
    assert!(waiting.is_empty(), "delivered events leave the outbox");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_delivers_and_the_next_leader_carries_on_without_repeating_an_event() {
    let directory = tempfile::tempdir().unwrap();
    let first = app_with_roster(&directory).await;
    let second = {
        let url = crate::storage::DatabaseUrl::parse(directory.path().join("watch.db").to_str().unwrap()).unwrap();
        let store = crate::storage::Store::open(&url).unwrap();
        Arc::new(App::start(store, first.policy().clone()).await.unwrap())
    };
    let posts = Posts::default();
    let clock = controlled_clock("2026-12-07T10:00:00Z");
    let mut stops = Vec::new();
    let mut running = Vec::new();
    for (replica, app) in [("first", first.clone()), ("second", second.clone())] {
        let receiver = Arc::new(Recorder::new(replica, 0, &posts));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        running.push(tokio::spawn(app.run_gap_webhook(plan(), receiver, clock.clone(), stopped)));
        stops.push(stop);
    }
    until("the current gap", || !posts.lock().unwrap().is_empty()).await;
    // Both contend for a whole lease period: still one delivery.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let delivered = described(&posts);
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let leader = delivered[0].0;
    let (leader_idx, other_idx) = if leader == "first" { (0, 1) } else { (1, 0) };
    let other_app = if leader == "first" { second.clone() } else { first.clone() };

    stops[leader_idx].send(true).unwrap();
    running.remove(leader_idx).await.unwrap();
    // The other takes the released lease, finds the gaps as the leader left them, and posts
    // nothing new until something happens.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(described(&posts).len(), 1);
    other_app
        .upsert_entries(&actor(), vec![one_off("lunch-cover", "ie-1", "2026-12-07T12:00:00Z", "2026-12-07T13:00:00Z")])
        .await
        .unwrap();
    until("the write's events", || described(&posts).len() == 3).await;
    let delivered = described(&posts);
    let other = delivered[1].0;
    assert_ne!(other, leader);
    assert_eq!(
        delivered[1..],
        [
            (other, 2, GapEventKind::Closed, "2026-12-07T12:00:00Z/2026-12-07T14:00:00Z".to_owned()),
            (other, 3, GapEventKind::Opened, "2026-12-07T13:00:00Z/2026-12-07T14:00:00Z".to_owned()),
        ]
    );
    stops[other_idx].send(true).unwrap();
    running.pop().unwrap().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_leader_finishes_the_post_under_way_before_it_gives_the_lease_up() {
    let directory = tempfile::tempdir().unwrap();
    let app = app_with_roster(&directory).await;
    let posts = Posts::default();
    let receiver = Arc::new(Recorder { slowness: Duration::from_millis(400), ..Recorder::new("a", 0, &posts) });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clock = controlled_clock("2026-12-07T10:00:00Z");
    let running = tokio::spawn(app.clone().run_gap_webhook(plan(), receiver.clone(), clock, stopped));
    until("a post to begin", || receiver.posts_begun.load(std::sync::atomic::Ordering::SeqCst) > 0).await;
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(described(&posts).len(), 1, "the post under way was finished");
    let waiting = app.store.read(|connection| storage::waiting_webhook_events(connection, 10)).await.unwrap();
    assert!(waiting.is_empty());
    let claimed = app.store.read(|connection| storage::claim_lease(connection, LEASE_NAME, "next", 1_000_000)).await;
    assert_eq!(claimed.unwrap(), Some(2), "the lease was given up");
}

#[test]
fn stored_events_read_back_as_they_were_written() {
    let gap = Gap {
        interval: Interval::new(
            crate::domain::fixtures::instant("2026-12-07T12:00:00Z"),
            crate::domain::fixtures::instant("2026-12-07T14:00:00Z"),
        )
        .unwrap(),
        eligible_on_shift: 1,
        cause: GapCause::StaffOnTimeOff,
    };
    let requirement =
        GapRequirement { plan: PlanKind::Standard, eea_tagged: true, severity: Severity::Sev3, min_staff: 2 };
    let event = GapEvent {
        requirement_idx: 4,
        kind: GapEventKind::Started,
        cause: WindowCause::TimePassed,
        gap,
        roster_version: 17,
        at: crate::domain::fixtures::instant("2026-12-07T12:00:00.25Z"),
    };
    let payload = StoredEvent::of(requirement, &event).to_json().unwrap();
    assert_eq!(StoredEvent::read(9, &payload).unwrap(), WebhookEvent { event_id: 9, requirement, event });
    assert!(StoredEvent::read(9, &payload.replace("staff-on-time-off", "sunspots")).is_err());
    let state = stored_gaps(&[requirement], [[(gap, true)].as_slice()].into_iter()).unwrap();
    let stored = StoredWebhookState { roster_version: 17, looked_at: 0, gaps: state };
    let earlier = earlier_gaps(Some(&stored), &[requirement, plan().requirements[0]]);
    assert_eq!(
        earlier[0].as_ref().map(|earlier| (earlier.gaps.clone(), earlier.roster_version)),
        Some((vec![(gap, true)], 17))
    );
    assert!(earlier[1].is_none(), "a requirement the state does not know starts over");
}

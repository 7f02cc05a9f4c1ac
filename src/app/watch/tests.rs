//! A watch under a controlled clock (tokio's paused time, read as wall time): each change is
//! reported at the boundary that caused it, and a write in force is reported at once.

use std::sync::Arc;

use super::*;
use crate::audit::Actor;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::fixtures::{agent, consent, instant, one_off, org, policy};
use crate::domain::policy::PlanKind;
use crate::domain::watch::WindowChange::*;
use crate::storage::{DatabaseUrl, Store};

pub(in crate::app) fn actor() -> Actor {
    Actor { caller: "token:test".into(), rpc: "test".into(), request_id: "r-1".into() }
}

/// An app on a fresh SQLite file holding an EEA-only org and an Irish agent with two shifts on
/// Monday 7 December 2026 (07:00-12:00 and 14:00-20:00 UTC).
pub(in crate::app) async fn app_with_roster(directory: &tempfile::TempDir) -> Arc<App> {
    let url = DatabaseUrl::parse(directory.path().join("watch.db").to_str().unwrap()).unwrap();
    let store = Store::open(&url).unwrap();
    let app = Arc::new(App::start(store, policy(HolidayCalendar::None)).await.unwrap());
    app.upsert_org(&actor(), org("acme", "eu-west-1", PlanKind::EeaOnly)).await.unwrap();
    app.upsert_agents(&actor(), vec![agent("ie-1", "IE", &[])]).await.unwrap();
    app.upsert_entries(
        &actor(),
        vec![
            one_off("morning", "ie-1", "2026-12-07T07:00:00Z", "2026-12-07T12:00:00Z"),
            one_off("evening", "ie-1", "2026-12-07T14:00:00Z", "2026-12-07T20:00:00Z"),
        ],
    )
    .await
    .unwrap();
    app
}

/// Wall time that starts at `start` and moves with tokio's (paused) clock.
pub(in crate::app) fn controlled_clock(start: &str) -> WallClock {
    let (wall_start, tokio_start) = (instant(start), tokio::time::Instant::now());
    Arc::new(move || {
        let elapsed = tokio::time::Instant::now() - tokio_start;
        wall_start + jiff::SignedDuration::try_from(elapsed).unwrap()
    })
}

fn subscription(severity: Severity) -> WindowSubscription {
    WindowSubscription {
        org_id: "acme".into(),
        ticket_id: String::new(),
        severity,
        category: TicketCategory::ProductSupport,
    }
}

#[tokio::test]
async fn each_change_is_reported_at_the_boundary_that_caused_it() {
    let directory = tempfile::tempdir().unwrap();
    let app = app_with_roster(&directory).await;
    tokio::time::pause();
    let clock = controlled_clock("2026-12-07T06:00:00Z");
    let (mut watch, first) =
        app.watch_windows(vec![subscription(Severity::Sev3), subscription(Severity::Sev1)], clock).unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|update| update.cause == WindowCause::CurrentState && update.changes.is_empty()));
    assert!(!first[0].decision.as_ref().unwrap().handle_now);

    let expected = [
        (0, "2026-12-07T07:00:00Z", vec![StaffingStarted]),
        (1, "2026-12-07T07:00:00Z", vec![StaffingStarted]),
        (0, "2026-12-07T08:00:00Z", vec![WindowOpened]),
        (0, "2026-12-07T12:00:00Z", vec![StaffingStopped]),
        (1, "2026-12-07T12:00:00Z", vec![StaffingStopped]),
        (0, "2026-12-07T14:00:00Z", vec![StaffingStarted]),
        (1, "2026-12-07T14:00:00Z", vec![StaffingStarted]),
        (0, "2026-12-07T17:00:00Z", vec![WindowClosed]),
        (0, "2026-12-07T20:00:00Z", vec![StaffingStopped]),
        (1, "2026-12-07T20:00:00Z", vec![StaffingStopped]),
    ];
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        for update in watch.next_updates().await.unwrap() {
            assert_eq!(update.cause, WindowCause::TimePassed);
            let decision = update.decision.as_ref().unwrap();
            assert_eq!(decision.handle_now, decision.in_service_hours && decision.staffed_now);
            seen.push(update);
        }
    }
    for (update, (subscription_idx, boundary, changes)) in seen.iter().zip(expected) {
        assert_eq!((update.subscription_idx, &update.changes), (subscription_idx, &changes), "at {boundary}");
        let late = update.at - instant(boundary);
        assert!(
            late >= jiff::SignedDuration::ZERO && late < jiff::SignedDuration::from_secs(1),
            "reported {late:?} after {boundary}"
        );
    }
}

#[tokio::test]
async fn a_write_in_force_is_reported_with_its_roster_version_and_a_deleted_org_goes_and_comes_back() {
    let directory = tempfile::tempdir().unwrap();
    let app = app_with_roster(&directory).await;
    let (mut watch, first) =
        app.watch_windows(vec![subscription(Severity::Sev1)], controlled_clock("2026-12-07T13:00:00Z")).unwrap();
    let version_before = first[0].roster_version;
    assert_eq!(first[0].decision.as_ref().unwrap().eligible_on_shift, 0);

    app.upsert_entries(&actor(), vec![one_off("cover", "ie-1", "2026-12-07T12:30:00Z", "2026-12-07T13:30:00Z")])
        .await
        .unwrap();
    let updates = watch.next_updates().await.unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].cause, WindowCause::RosterChanged);
    assert_eq!(updates[0].changes, vec![StaffingStarted]);
    assert!(updates[0].roster_version > version_before);
    assert_eq!(updates[0].roster_version, watch.roster_version());

    app.delete_org(&actor(), "acme".into()).await.unwrap();
    let updates = watch.next_updates().await.unwrap();
    assert_eq!((updates[0].changes.clone(), updates[0].decision.is_none()), (vec![OrgRemoved], true));
    app.upsert_org(&actor(), org("acme", "eu-west-1", PlanKind::EeaOnly)).await.unwrap();
    let updates = watch.next_updates().await.unwrap();
    assert_eq!(updates[0].changes, vec![OrgRestored]);
    assert!(updates[0].decision.as_ref().unwrap().staffed_now);
}

/// A consent for the watched ticket widens who is eligible: such a subscription is answered
/// agent by agent, off the async runtime, and the grant is reported like any write.
#[tokio::test]
async fn a_consent_granted_for_the_watched_ticket_starts_its_staffing() {
    let directory = tempfile::tempdir().unwrap();
    let app = app_with_roster(&directory).await;
    app.upsert_org(&actor(), org("std", "eu-central-1", PlanKind::Standard)).await.unwrap();
    app.upsert_agents(&actor(), vec![agent("us-1", "US", &[])]).await.unwrap();
    app.upsert_entries(&actor(), vec![one_off("us-day", "us-1", "2026-12-07T12:00:00Z", "2026-12-07T13:30:00Z")])
        .await
        .unwrap();
    let watched = WindowSubscription { org_id: "std".into(), ticket_id: "T-9".into(), ..subscription(Severity::Sev1) };
    let (mut watch, first) = app.watch_windows(vec![watched], controlled_clock("2026-12-07T13:00:00Z")).unwrap();
    assert_eq!(first[0].decision.as_ref().unwrap().eligible_on_shift, 0, "a US agent without consent");

    app.grant_consent(&actor(), consent("std", "T-9", "us-1", "2026-12-31T00:00:00Z")).await.unwrap();
    let updates = watch.next_updates().await.unwrap();
    assert_eq!((updates[0].cause, updates[0].changes.clone()), (WindowCause::RosterChanged, vec![StaffingStarted]));
    assert_eq!(updates[0].decision.as_ref().unwrap().eligible_on_shift, 1);
}

#[tokio::test]
async fn a_watch_of_an_org_that_does_not_exist_names_the_subscription() {
    let directory = tempfile::tempdir().unwrap();
    let app = app_with_roster(&directory).await;
    let mut unknown = subscription(Severity::Sev2);
    unknown.org_id = "nobody".into();
    let started =
        app.watch_windows(vec![subscription(Severity::Sev1), unknown], controlled_clock("2026-12-07T13:00:00Z"));
    match started {
        Err(AppError::NotFound { entity, field, .. }) => {
            assert_eq!((entity, field.as_str()), ("org", "subscriptions[1].org_id"))
        }
        Err(other) => panic!("unexpected {other:?}"),
        Ok(_) => panic!("a watch of an unknown org started"),
    }
}

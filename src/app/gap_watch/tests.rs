//! A gap watch under a controlled clock (tokio's paused time, read as wall time): gaps come
//! within the look-ahead, start and end at their instants, and a write closes one at once.

use super::*;
use crate::app::watch::tests::{actor, app_with_roster, controlled_clock};
use crate::domain::coverage::GapCause;
use crate::domain::fixtures::{instant, one_off};
use crate::domain::policy::{PlanKind, Severity};

fn sev1() -> GapRequirement {
    GapRequirement { plan: PlanKind::EeaOnly, eea_tagged: true, severity: Severity::Sev1, min_staff: 1 }
}

fn interval_text(gap: &Gap) -> String {
    format!("{}/{}", gap.interval.start(), gap.interval.end())
}

#[tokio::test]
async fn gaps_come_into_view_start_and_end_at_their_instants() {
    let directory = tempfile::tempdir().unwrap();
    // The agent is on shift 07:00-12:00 and 14:00-20:00 UTC on Monday 7 December 2026.
    let app = app_with_roster(&directory).await;
    tokio::time::pause();
    let (mut watch, current) = app
        .watch_gaps(vec![sev1()], SignedDuration::from_hours(6), controlled_clock("2026-12-07T06:00:00Z"))
        .await
        .unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].kind, GapEventKind::Current);
    assert_eq!(interval_text(&current[0].gap), "2026-12-06T00:00:00Z/2026-12-07T07:00:00Z");
    assert_eq!(current[0].gap.cause, GapCause::NoOneScheduled);

    let expected = [
        ("2026-12-07T06:00:00.000001Z", GapEventKind::Opened, "2026-12-07T12:00:00Z/2026-12-07T14:00:00Z"),
        ("2026-12-07T07:00:00Z", GapEventKind::Ended, "2026-12-06T00:00:00Z/2026-12-07T07:00:00Z"),
        ("2026-12-07T12:00:00Z", GapEventKind::Started, "2026-12-07T12:00:00Z/2026-12-07T14:00:00Z"),
        ("2026-12-07T14:00:00Z", GapEventKind::Ended, "2026-12-07T12:00:00Z/2026-12-07T14:00:00Z"),
        ("2026-12-07T14:00:00.000001Z", GapEventKind::Opened, "2026-12-07T20:00:00Z/2026-12-09T00:00:00Z"),
        // The window gaps are worked out over reaches a day further: the gap it cut is reported
        // again, whole as far as the window now reaches.
        ("2026-12-07T18:00:00Z", GapEventKind::Closed, "2026-12-07T20:00:00Z/2026-12-09T00:00:00Z"),
        ("2026-12-07T18:00:00Z", GapEventKind::Opened, "2026-12-07T20:00:00Z/2026-12-10T00:00:00Z"),
        ("2026-12-07T20:00:00Z", GapEventKind::Started, "2026-12-07T20:00:00Z/2026-12-10T00:00:00Z"),
    ];
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        seen.extend(watch.next_events().await.unwrap());
    }
    for (event, (boundary, kind, gap)) in seen.iter().zip(expected) {
        assert_eq!((event.kind, interval_text(&event.gap).as_str(), event.cause), (kind, gap, WindowCause::TimePassed));
        let late = event.at - instant(boundary);
        assert!(
            late >= SignedDuration::ZERO && late < SignedDuration::from_secs(1),
            "{kind:?} {late:?} after {boundary}"
        );
    }
}

#[tokio::test]
async fn a_write_that_covers_a_gap_closes_it_and_opens_what_is_left() {
    let directory = tempfile::tempdir().unwrap();
    let app = app_with_roster(&directory).await;
    let (mut watch, current) = app
        .watch_gaps(vec![sev1()], SignedDuration::from_hours(6), controlled_clock("2026-12-07T10:00:00Z"))
        .await
        .unwrap();
    let gaps: Vec<String> = current.iter().map(|event| interval_text(&event.gap)).collect();
    assert_eq!(gaps, ["2026-12-07T12:00:00Z/2026-12-07T14:00:00Z"]);
    let version_before = current[0].roster_version;

    app.upsert_entries(&actor(), vec![one_off("lunch-cover", "ie-1", "2026-12-07T12:00:00Z", "2026-12-07T13:00:00Z")])
        .await
        .unwrap();
    let events = watch.next_events().await.unwrap();
    let described: Vec<(GapEventKind, String)> =
        events.iter().map(|event| (event.kind, interval_text(&event.gap))).collect();
    assert_eq!(
        described,
        [
            (GapEventKind::Closed, "2026-12-07T12:00:00Z/2026-12-07T14:00:00Z".to_owned()),
            (GapEventKind::Opened, "2026-12-07T13:00:00Z/2026-12-07T14:00:00Z".to_owned()),
        ]
    );
    assert!(events
        .iter()
        .all(|event| event.cause == WindowCause::RosterChanged && event.roster_version > version_before));
}

//! A real PostgreSQL restart under load: a private cluster (initdb, pg_ctl) that the test may stop
//! and start without disturbing the shared server. While it is down, ticket decisions keep
//! answering from the snapshot and writes fail with UNAVAILABLE; once it is back, the same
//! service process writes again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eea_coverage::pb;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::helpers::{one_off, spawn_app_on, TestDatabase};
use crate::private_cluster::PrivateCluster;

async fn database_serving(channel: tonic::transport::Channel) -> bool {
    let mut health = HealthClient::new(channel);
    let status = health.check(HealthCheckRequest { service: "eeacoverage.v1.Database".into() }).await;
    status.is_ok_and(|response| response.into_inner().status == tonic_health::ServingStatus::Serving as i32)
}

async fn wait_for(what: &str, limit: Duration, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition().await {
        assert!(Instant::now() < deadline, "{what} did not happen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_restart_under_load_keeps_reads_and_fails_writes_as_unavailable() {
    let Some(cluster) = PrivateCluster::start("the PostgreSQL restart test") else { return };
    let database = TestDatabase::external(cluster.url("postgres"));
    let app = spawn_app_on(&database, "").await;
    crate::helpers::seed_acme_with_ie_1(&app, true).await;
    let mut roster = app.roster.clone();

    // Load: readers asking DecideTicket back to back, and a writer adding a shift every 20 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let read_failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let n_reads = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (mut tickets, stop, failures, n_reads) =
            (app.tickets.clone(), stop.clone(), read_failures.clone(), n_reads.clone());
        readers.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let asked = tickets
                    .decide_ticket(pb::DecideTicketRequest {
                        org_id: "acme".into(),
                        severity: 1,
                        at: Some(crate::helpers::timestamp("2026-12-07T10:00:00Z")),
                        ..Default::default()
                    })
                    .await;
                match asked {
                    Ok(answer) if answer.get_ref().eligible_on_shift == 1 => {}
                    other => failures.lock().unwrap().push(format!("{other:?}")),
                }
                n_reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let write_outcomes = Arc::new(Mutex::new(Vec::<(String, Result<(), Code>, Duration)>::new()));
    let writer = {
        let (mut roster, stop, outcomes) = (app.roster.clone(), stop.clone(), write_outcomes.clone());
        tokio::spawn(async move {
            let mut idx = 0;
            while !stop.load(Ordering::SeqCst) {
                idx += 1;
                let shift_id = format!("load-{idx}");
                let started = Instant::now();
                let written = roster
                    .upsert_shifts(pb::UpsertShiftsRequest {
                        shifts: vec![one_off(&shift_id, "ie-1", "2026-12-08T08:00:00Z", "2026-12-08T09:00:00Z")],
                    })
                    .await
                    .map(|_| ())
                    .map_err(|status| status.code());
                outcomes.lock().unwrap().push((shift_id, written, started.elapsed()));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    let down_at = Instant::now();
    cluster.pg_ctl_stop();
    let channel = app.channel.clone();
    wait_for("health reporting the lost database", Duration::from_secs(15), async || {
        !database_serving(channel.clone()).await
    })
    .await;
    let n_writes_before_stop = write_outcomes.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let n_writes_while_down = write_outcomes.lock().unwrap().len() - n_writes_before_stop;
    cluster.pg_ctl_start();
    wait_for("health reporting the database back", Duration::from_secs(30), async || {
        database_serving(channel.clone()).await
    })
    .await;
    let recovered_after = down_at.elapsed();
    let n_writes_at_recovery = write_outcomes.lock().unwrap().len();
    wait_for("a write succeeding after the restart", Duration::from_secs(15), async || {
        write_outcomes.lock().unwrap()[n_writes_at_recovery..].iter().any(|(_, outcome, _)| outcome.is_ok())
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for reader in readers {
        reader.await.unwrap();
    }
    writer.await.unwrap();

    let failures = read_failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "{} reads failed, first: {:?}", failures.len(), failures.first());
    let outcomes = write_outcomes.lock().unwrap().clone();
    let unexpected: Vec<_> =
        outcomes.iter().filter(|(_, outcome, _)| !matches!(outcome, Ok(()) | Err(Code::Unavailable))).collect();
    assert!(unexpected.is_empty(), "writes failed otherwise than UNAVAILABLE: {unexpected:?}");
    let mut unavailable_ms: Vec<u128> =
        outcomes.iter().filter(|(_, outcome, _)| outcome.is_err()).map(|(_, _, took)| took.as_millis()).collect();
    unavailable_ms.sort_unstable();
    let n_unavailable = unavailable_ms.len();
    assert!(n_unavailable > 0 && n_writes_while_down > 0, "no write was tried while the database was down");

    // Every write that was acknowledged is stored, and the service was never restarted.
    let stored = roster
        .list_shifts(pb::ListShiftsRequest { agent_id: "ie-1".into(), page_size: 1_000, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .shifts;
    let stored_ids: std::collections::HashSet<&str> = stored.iter().map(|shift| shift.shift_id.as_str()).collect();
    for (shift_id, _, _) in outcomes.iter().filter(|(_, outcome, _)| outcome.is_ok()) {
        assert!(stored_ids.contains(shift_id.as_str()), "acknowledged write {shift_id} is missing");
    }
    eprintln!(
        "restart under load: {} reads, all answered; {} writes, {n_unavailable} UNAVAILABLE (in {unavailable_ms:?} ms); health back {:.1} s after the stop began",
        n_reads.load(Ordering::Relaxed),
        outcomes.len(),
        recovered_after.as_secs_f64()
    );
}

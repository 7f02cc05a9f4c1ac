//! Several replicas on one PostgreSQL database: writes through one are seen by the others within
//! a second, and a replica that loses the database keeps answering reads and says so in its
//! health. PostgreSQL only: SQLite is the single-node default.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eea_coverage::pb;
use tokio::net::{TcpListener, TcpStream};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::helpers::{
    agent, create_database, one_off, org, spawn_app_on, sync_batch, sync_header, time_off, timestamp, Backend,
    TestDatabase,
};

async fn decide(
    tickets: &mut pb::ticket_service_client::TicketServiceClient<crate::helpers::AuthChannel>,
) -> Result<pb::DecideTicketResponse, tonic::Status> {
    tickets
        .decide_ticket(pb::DecideTicketRequest {
            org_id: "acme".into(),
            severity: pb::Severity::Severity1 as i32,
            category: 0,
            ticket_id: "T-1".into(),
            at: Some(timestamp("2026-12-07T10:00:00Z")),
            as_known_at: None,
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_replica_is_seen_by_the_other_within_a_second() {
    let Some(database) = create_database(Backend::Postgres) else { return };
    let first = spawn_app_on(&database, "").await;
    let second = spawn_app_on(&database, "").await;
    crate::helpers::seed_acme_with_ie_1(&first, false).await;
    let mut roster = first.roster.clone();
    let mut other_tickets = second.tickets.clone();
    // Wait until the org has reached the second replica, then time one write.
    let deadline = Instant::now() + Duration::from_secs(5);
    while decide(&mut other_tickets).await.is_err() {
        assert!(Instant::now() < deadline, "the org never reached the second replica");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let written = Instant::now();
    roster
        .upsert_shifts(pb::UpsertShiftsRequest {
            shifts: vec![one_off("day", "ie-1", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z")],
        })
        .await
        .unwrap();
    loop {
        if decide(&mut other_tickets).await.unwrap().eligible_on_shift == 1 {
            break;
        }
        assert!(written.elapsed() < Duration::from_secs(1), "the second replica did not see the write within a second");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("write seen by the other replica after {:?}", written.elapsed());
}

/// A TCP proxy in front of PostgreSQL that the test can cut: a database outage without stopping
/// the shared server.
struct CuttableProxy {
    port: u16,
    cut: Arc<AtomicBool>,
}

impl CuttableProxy {
    async fn start(target: String) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let cut_flag = cut.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if cut_flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused in effect
                }
                let target = target.clone();
                let cut_flag = cut_flag.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else { return };
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    let watch_cut = async {
                        while !cut_flag.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! { _ = copy => {}, _ = watch_cut => {} }
                });
            }
        });
        CuttableProxy { port, cut }
    }
}

fn through_proxy(database: &TestDatabase, port: u16) -> String {
    // postgres://user@host:port/db -> postgres://user@127.0.0.1:PORT/db
    let url = database.url();
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials_and_host, path) = rest.split_once('/').unwrap();
    let credentials =
        credentials_and_host.rsplit_once('@').map(|(credentials, _)| format!("{credentials}@")).unwrap_or_default();
    format!("{scheme}://{credentials}127.0.0.1:{port}/{path}")
}

fn postgres_address(database: &TestDatabase) -> String {
    let rest = database.url().split_once("://").unwrap().1;
    let host = rest.split('/').next().unwrap();
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

async fn database_health(channel: tonic::transport::Channel) -> i32 {
    let mut health = HealthClient::new(channel);
    health.check(HealthCheckRequest { service: "eeacoverage.v1.Database".into() }).await.unwrap().into_inner().status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_loses_the_database_keeps_answering_and_says_so() {
    let Some(database) = create_database(Backend::Postgres) else { return };
    let proxy = CuttableProxy::start(postgres_address(&database)).await;
    let proxied = crate::helpers::TestDatabase::external(through_proxy(&database, proxy.port));
    let app = spawn_app_on(&proxied, "").await;
    crate::helpers::seed_acme_with_ie_1(&app, true).await;
    let (mut roster, mut tickets) = (app.roster.clone(), app.tickets.clone());
    let serving = tonic_health::ServingStatus::Serving as i32;
    assert_eq!(database_health(app.channel.clone()).await, serving);

    proxy.cut.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(10);
    while database_health(app.channel.clone()).await == serving {
        assert!(Instant::now() < deadline, "health never reported the lost database");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(decide(&mut tickets).await.unwrap().eligible_on_shift, 1, "reads go on from the last snapshot");
    let write = roster
        .upsert_shifts(pb::UpsertShiftsRequest {
            shifts: vec![one_off("late", "ie-1", "2026-12-07T16:00:00Z", "2026-12-07T20:00:00Z")],
        })
        .await;
    assert_eq!(write.unwrap_err().code(), tonic::Code::Unavailable, "writes fail while the database is away");

    proxy.cut.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while database_health(app.channel.clone()).await != serving {
        assert!(Instant::now() < deadline, "the replica never caught up with the returning database");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut retried = false;
    for _ in 0..50 {
        let shifts = vec![one_off("late", "ie-1", "2026-12-07T16:00:00Z", "2026-12-07T20:00:00Z")];
        if roster.upsert_shifts(pb::UpsertShiftsRequest { shifts }).await.is_ok() {
            retried = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(retried, "writes work again once the database is back");
}

/// Readers never see half a sync: while a writer swaps the roster between 10 and 20 agents on
/// shift, every concurrent DecideTicket sees exactly one of the two.
async fn snapshot_swaps_never_expose_a_half_built_state(backend: Backend) {
    let Some(spawned) = crate::helpers::spawn_app(backend).await else { return };
    let (mut policy, mut roster) = (spawned.app.policy.clone(), spawned.app.roster.clone());
    policy.upsert_org(pb::UpsertOrgRequest { org: Some(org("acme", "eu-west-1", pb::Plan::EeaOnly)) }).await.unwrap();
    let agents = (0..20).map(|agent_idx| agent(&format!("a{agent_idx:02}"), "IE", "Europe/Dublin")).collect();
    roster.upsert_agents(pb::UpsertAgentsRequest { agents, source: "wfm".into() }).await.unwrap();
    let generation = |n_agents: usize| {
        let shifts = (0..n_agents)
            .map(|agent_idx| {
                one_off(
                    &format!("s{agent_idx:02}"),
                    &format!("a{agent_idx:02}"),
                    "2026-12-07T08:00:00Z",
                    "2026-12-07T16:00:00Z",
                )
            })
            .collect();
        vec![sync_header("wfm", "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z", false), sync_batch(shifts, vec![])]
    };
    roster.sync_shifts(tokio_stream::iter(generation(10))).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (mut tickets, stop) = (spawned.app.tickets.clone(), stop.clone());
            tokio::spawn(async move {
                let mut seen = std::collections::BTreeSet::new();
                while !stop.load(Ordering::SeqCst) {
                    seen.insert(decide(&mut tickets).await.unwrap().eligible_on_shift);
                }
                seen
            })
        })
        .collect();
    for round in 0..12 {
        roster.sync_shifts(tokio_stream::iter(generation(if round % 2 == 0 { 20 } else { 10 }))).await.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let mut seen = std::collections::BTreeSet::new();
    for reader in readers {
        seen.extend(reader.await.unwrap());
    }
    assert!(seen.iter().all(|count| *count == 10 || *count == 20), "a reader saw a half-applied sync: {seen:?}");
    assert!(seen.contains(&10) && seen.contains(&20), "readers saw both states: {seen:?}");
}

crate::on_both_backends!(snapshot_swaps_never_expose_a_half_built_state);

/// Every answer the replicas are compared on: who is on shift, and the decision, for each plan
/// and severity at instants across the week written to.
async fn answers(app: &crate::helpers::TestApp) -> Vec<String> {
    let mut coverage = app.coverage();
    let mut tickets = app.tickets.clone();
    let mut answers = Vec::new();
    for hour in (0..7 * 24).step_by(5) {
        let at = timestamp("2026-12-07T00:00:00Z");
        let at = prost_types::Timestamp { seconds: at.seconds + hour * 3_600 + 17, nanos: 0 };
        for (plan, eea_tagged) in [(pb::Plan::EeaOnly, true), (pb::Plan::Standard, true), (pb::Plan::Standard, false)] {
            let request = pb::ListOnShiftRequest {
                plan: plan as i32,
                eea_tagged,
                severity: pb::Severity::Severity2 as i32,
                at: Some(at),
                as_known_at: None,
            };
            let found = coverage.list_on_shift(request).await.unwrap().into_inner();
            answers.push(format!("{hour} {plan:?} {eea_tagged}: {:?}", found.agents));
        }
        for (org_id, ticket_id) in [("acme", "T-1"), ("globex", "T-2"), ("globex", "T-consented")] {
            let decided = tickets
                .decide_ticket(pb::DecideTicketRequest {
                    org_id: org_id.into(),
                    severity: pb::Severity::Severity1 as i32,
                    category: 0,
                    ticket_id: ticket_id.into(),
                    at: Some(at),
                    as_known_at: None,
                })
                .await
                .unwrap()
                .into_inner();
            answers.push(format!("{hour} {org_id} {ticket_id}: {decided:?}"));
        }
    }
    answers
}

/// Waits until `app` answers as `expected`; fails after five seconds.
async fn until_answers(app: &crate::helpers::TestApp, expected: &[String], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = answers(app).await;
        if now == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {:?}",
            now.iter().zip(expected).find(|(now, expected)| now != expected)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_kept_up_to_date_by_the_change_log_answer_as_a_fresh_one() {
    let Some(database) = create_database(Backend::Postgres) else { return };
    let first = spawn_app_on(&database, "").await;
    let second = spawn_app_on(&database, "").await;
    // Writes of every kind, through both replicas in turn.
    first.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    second.put_org(org("globex", "us-east-1", pb::Plan::Standard)).await;
    let mut mover = agent("mover", "FR", "Europe/Paris");
    mover.location_changes =
        vec![pb::LocationChange { effective_at: Some(timestamp("2026-12-09T12:00:00Z")), country: "US".into() }];
    first.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin"), agent("us-1", "US", "America/New_York"), mover]).await;
    second.put_agents(vec![agent("gone", "DE", "Europe/Berlin")]).await;
    first
        .put_shifts(vec![
            one_off("a", "ie-1", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z"),
            one_off("b", "us-1", "2026-12-07T14:00:00Z", "2026-12-07T22:00:00Z"),
            one_off("c", "mover", "2026-12-09T08:00:00Z", "2026-12-09T18:00:00Z"),
            one_off("d", "gone", "2026-12-08T08:00:00Z", "2026-12-08T16:00:00Z"),
        ])
        .await;
    // A shift moves to another agent, one goes, time off comes, an agent goes with its shift.
    second.put_shifts(vec![one_off("b", "ie-1", "2026-12-10T06:00:00Z", "2026-12-10T12:00:00Z")]).await;
    first.roster.clone().delete_shift(pb::DeleteShiftRequest { shift_id: "a".into() }).await.unwrap();
    second.put_time_off(vec![time_off("off", "mover", "2026-12-09T15:00:00Z", "2026-12-09T16:00:00Z")]).await;
    first.roster.clone().delete_agent(pb::DeleteAgentRequest { agent_id: "gone".into() }).await.unwrap();
    second
        .policy
        .clone()
        .grant_consent(pb::GrantConsentRequest {
            consent: Some(pb::Consent {
                org_id: "globex".into(),
                ticket_id: "T-consented".into(),
                agent_id: "us-1".into(),
                expires_at: Some(timestamp("2026-12-31T00:00:00Z")),
            }),
        })
        .await
        .unwrap();
    first.put_shifts(vec![one_off("e", "us-1", "2026-12-11T08:00:00Z", "2026-12-11T16:00:00Z")]).await;

    // A replica started now builds everything from scratch; the two kept up to date agree.
    let fresh = spawn_app_on(&database, "").await;
    let expected = answers(&fresh).await;
    assert!(expected.iter().any(|answer| answer.contains("\"mover\"")), "the roster reached the fresh replica");
    until_answers(&first, &expected, "the first replica").await;
    until_answers(&second, &expected, "the second replica").await;

    // A write the change log does not hold (an earlier release's): the replicas notice the
    // missing version and rebuild from scratch.
    let url = database.url().to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::{Connection, RunQueryDsl};
        let mut connection = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query("DELETE FROM shifts WHERE shift_id = 'e'").execute(&mut connection).unwrap();
        diesel::sql_query("UPDATE roster_version SET version = version + 1").execute(&mut connection).unwrap();
    })
    .await
    .unwrap();
    let restarted = spawn_app_on(&database, "").await;
    let expected_after = answers(&restarted).await;
    assert_ne!(expected_after, expected, "the shift deleted behind the service's back mattered");
    until_answers(&first, &expected_after, "the first replica, after an unlogged write").await;
    until_answers(&second, &expected_after, "the second replica, after an unlogged write").await;
}

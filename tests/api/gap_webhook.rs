//! The gap webhook from outside: two replicas on one database and a local HTTP receiver that
//! refuses its first post. Every post is signed; every event arrives once (no ID twice, no gap
//! opened twice or closed unopened), through whichever replica leads, also after the leader stops;
//! and the gaps the events add up to are those GetCoverageReport gives.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

use eea_coverage::pb;

use crate::helpers::{agent, create_database, one_off, org, spawn_app_on, Backend, TestApp};
use crate::tls::Pki;

/// One post as the receiver got it.
#[derive(Clone, Debug)]
struct Post {
    webhook_id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

/// A local receiver: answers 503 with `Retry-After: 1` to its first post, 204 to the rest, and
/// keeps every post. Over TLS with `tls`.
async fn start_receiver(tls: Option<tokio_rustls::TlsAcceptor>) -> (String, Arc<Mutex<Vec<Post>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = match tls {
        Some(_) => format!("https://localhost:{port}/hooks/gaps"),
        None => format!("http://127.0.0.1:{port}/hooks/gaps"),
    };
    let posts = Arc::new(Mutex::new(Vec::new()));
    let refused_one = Arc::new(Mutex::new(false));
    let kept = posts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (posts, refused_one, tls) = (kept.clone(), refused_one.clone(), tls.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let (posts, refused_one) = (posts.clone(), refused_one.clone());
                    async move {
                        let header = |name: &str| {
                            request
                                .headers()
                                .get(name)
                                .map(|value| value.to_str().unwrap().to_owned())
                                .unwrap_or_default()
                        };
                        let (webhook_id, timestamp, signature) =
                            (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
                        assert_eq!(request.method(), hyper::Method::POST);
                        assert_eq!(request.uri().path(), "/hooks/gaps");
                        assert_eq!(header("content-type"), "application/json");
                        let body = request.into_body().collect().await.unwrap().to_bytes().to_vec();
                        let mut refused = refused_one.lock().unwrap();
                        let answer = if *refused {
                            posts.lock().unwrap().push(Post { webhook_id, timestamp, signature, body });
                            hyper::Response::builder().status(204).body(Full::new(Bytes::new())).unwrap()
                        } else {
                            *refused = true;
                            hyper::Response::builder()
                                .status(503)
                                .header("retry-after", "1")
                                .body(Full::new(Bytes::from_static(b"busy")))
                                .unwrap()
                        };
                        Ok::<_, std::convert::Infallible>(answer)
                    }
                });
                let http = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(stream).await else { return };
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            });
        }
    });
    (url, posts)
}

fn settings(url: &str, secret_file: &std::path::Path) -> String {
    format!(
        "[gap_webhook]\nurl = \"{url}\"\nsecret_file = \"{}\"\ntimeout_secs = 2\nlease_secs = 6\n\
         [[gap_webhook.requirements]]\nplan = \"eea-only\"\nseverity = 1\n",
        secret_file.display()
    )
}

/// A whole-second instant `offset_secs` from now, as RFC 3339 text.
fn from_now(offset_secs: i64) -> String {
    let now = eea_coverage::clock::now().as_second();
    jiff::Timestamp::from_second(now + offset_secs).unwrap().to_string()
}

/// The events of every post so far, in the order they arrived, each as JSON; checks each post's
/// signature on the way.
fn events(posts: &Mutex<Vec<Post>>, key: &[u8]) -> Vec<Value> {
    let posts = posts.lock().unwrap().clone();
    let mut events = Vec::new();
    for post in posts {
        let expected = eea_coverage::transport::webhook_signature(key, &post.webhook_id, &post.timestamp, &post.body);
        assert_eq!(post.signature, expected, "post {} is signed with the configured secret", post.webhook_id);
        let delivery: Value = serde_json::from_slice(&post.body).unwrap();
        events.extend(delivery["events"].as_array().expect("an events array").iter().cloned());
    }
    events
}

/// The gaps `events` add up to, each as (start, end), checking that each event is new and fits
/// what came before: no ID twice, IDs growing, no gap opened twice or closed before it was open.
fn gaps_told(events: &[Value]) -> BTreeSet<(String, String)> {
    let mut gaps = BTreeSet::new();
    let mut last_id = 0i64;
    for event in events {
        let id: i64 = event["eventId"].as_str().expect("an int64 as a string").parse().unwrap();
        assert!(id > last_id, "event {id} after {last_id}: {events:#?}");
        last_id = id;
        assert_eq!(event["requirement"]["plan"], "PLAN_EEA_ONLY");
        assert_eq!(event["requirement"]["severity"], "SEVERITY_1");
        let gap = &event["event"]["gap"];
        let key = (gap["startsAt"].as_str().unwrap().to_owned(), gap["endsAt"].as_str().unwrap().to_owned());
        match event["event"]["kind"].as_str().unwrap() {
            "GAP_EVENT_KIND_CURRENT" | "GAP_EVENT_KIND_OPENED" => {
                assert!(gaps.insert(key.clone()), "{key:?} opened twice: {events:#?}");
            }
            "GAP_EVENT_KIND_CLOSED" | "GAP_EVENT_KIND_ENDED" => {
                assert!(gaps.remove(&key), "{key:?} closed but never opened: {events:#?}");
            }
            "GAP_EVENT_KIND_STARTED" => assert!(gaps.contains(&key), "{key:?} started but never opened"),
            other => panic!("an event of kind {other}"),
        }
    }
    gaps
}

/// The gaps GetCoverageReport gives for EEA-only Sev1 over the whole-day window a gap watch of 72
/// hours works over, those overlapping the next 72 hours.
async fn gaps_reported(app: &TestApp) -> BTreeSet<(String, String)> {
    const DAY: i64 = 86_400;
    let now = eea_coverage::clock::now().as_second();
    let floor_day = |second: i64| second.div_euclid(DAY) * DAY;
    let (window_start, window_end) = (floor_day(now - DAY), floor_day(now + 72 * 3600 + DAY) + DAY);
    let report = app
        .coverage()
        .get_coverage_report(pb::GetCoverageReportRequest {
            plan: pb::Plan::EeaOnly as i32,
            eea_tagged: false,
            window_start: Some(prost_types::Timestamp { seconds: window_start, nanos: 0 }),
            window_end: Some(prost_types::Timestamp { seconds: window_end, nanos: 0 }),
            min_staff: 1,
            as_known_at: None,
        })
        .await
        .unwrap()
        .into_inner();
    let text = |timestamp: &Option<prost_types::Timestamp>| {
        let timestamp = timestamp.as_ref().unwrap();
        jiff::Timestamp::new(timestamp.seconds, timestamp.nanos).unwrap().to_string()
    };
    let sev1 =
        report.requirements.iter().find(|requirement| requirement.severity() == pb::Severity::Severity1).unwrap();
    sev1.gaps
        .iter()
        .filter(|gap| {
            let (start, end) = (gap.starts_at.unwrap().seconds, gap.ends_at.unwrap().seconds);
            start < now + 72 * 3600 && end > now
        })
        .map(|gap| (text(&gap.starts_at), text(&gap.ends_at)))
        .collect()
}

/// Waits until the events told add up to what the report gives, with none arriving for a
/// second after; answers the events.
async fn settled(posts: &Mutex<Vec<Post>>, key: &[u8], app: &TestApp, what: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let told = events(posts, key);
        if gaps_told(&told) == gaps_reported(app).await {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let after = events(posts, key);
            if after.len() == told.len() {
                return told;
            }
            continue;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: the events never added up to the report: {told:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn two_replicas_post_each_gap_event_once_and_hand_over_when_the_leader_stops(backend: Backend) {
    let Some(database) = create_database(backend) else { return };
    let (url, posts) = start_receiver(None).await;
    let key = b"a test secret of thirty-two bytes".to_vec();
    let directory = tempfile::tempdir().unwrap();
    let secret_file = directory.path().join("webhook.secret");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
    std::fs::write(&secret_file, format!("whsec_{encoded}\n")).unwrap();
    let toml = settings(&url, &secret_file);
    let first = spawn_app_on(&database, &toml).await;
    let second = spawn_app_on(&database, &toml).await;

    // An empty roster: one gap over the whole window, refused once, then delivered.
    let told = settled(&posts, &key, &first, "an empty roster").await;
    assert_eq!(told.len(), 1, "{told:#?}");
    assert_eq!(told[0]["event"]["kind"], "GAP_EVENT_KIND_CURRENT");
    assert_eq!(told[0]["event"]["cause"], "WINDOW_UPDATE_CAUSE_CURRENT_STATE");
    assert_eq!(told[0]["event"]["gap"]["cause"], "GAP_CAUSE_NO_ONE_SCHEDULED");

    // Writes through both replicas while both contend.
    first.put_org(org("acme", "eu-west-1", pb::Plan::EeaOnly)).await;
    first.put_agents(vec![agent("ie-1", "IE", "Europe/Dublin")]).await;
    first.put_shifts(vec![one_off("one", "ie-1", &from_now(2 * 3600), &from_now(4 * 3600))]).await;
    second.put_shifts(vec![one_off("two", "ie-1", &from_now(10 * 3600), &from_now(12 * 3600))]).await;
    let before = settled(&posts, &key, &second, "writes through both replicas").await.len();
    assert!(before > 1);

    // The first replica stops; the second carries on (taking the lease if the first held it).
    first.stop().await;
    second.put_shifts(vec![one_off("three", "ie-1", &from_now(20 * 3600), &from_now(22 * 3600))]).await;
    let after_first = settled(&posts, &key, &second, "after the first replica stopped").await.len();
    assert_eq!(after_first - before, 3, "the gap the shift splits is closed and its two halves opened");

    // A third replica starts and the second stops: the third carries on.
    let third = spawn_app_on(&database, &toml).await;
    second.stop().await;
    third.put_shifts(vec![one_off("four", "ie-1", &from_now(30 * 3600), &from_now(32 * 3600))]).await;
    let after_second = settled(&posts, &key, &third, "after the second replica stopped").await.len();
    assert_eq!(after_second - after_first, 3);
    let webhook_ids: BTreeSet<String> = posts.lock().unwrap().iter().map(|post| post.webhook_id.clone()).collect();
    assert_eq!(webhook_ids.len(), posts.lock().unwrap().len(), "each post has its own webhook-id");
}

/// A TLS acceptor for `localhost` with a certificate from a fresh CA; answers the acceptor and
/// the CA's PEM.
fn tls_receiver_identity() -> (tokio_rustls::TlsAcceptor, String) {
    use rustls_pki_types::pem::PemObject;
    let (ca, ca_key) = Pki::ca("webhook receiver CA");
    let issuer = rcgen::Issuer::new(Pki::ca_params("webhook receiver CA"), ca_key);
    let leaf = Pki::leaf(&issuer, "receiver", &["localhost"], false);
    let chain = vec![rustls_pki_types::CertificateDer::from_pem_slice(leaf.cert.as_bytes()).unwrap()];
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca.pem())
}

async fn an_https_receiver_is_reached_through_the_configured_ca_and_not_without_it(backend: Backend) {
    let Some(database) = create_database(backend) else { return };
    let (acceptor, ca_pem) = tls_receiver_identity();
    let (url, posts) = start_receiver(Some(acceptor)).await;
    let directory = tempfile::tempdir().unwrap();
    let (_, other_ca) = tls_receiver_identity();
    for (name, pem) in [("ca.pem", &ca_pem), ("other-ca.pem", &other_ca)] {
        std::fs::write(directory.path().join(name), pem).unwrap();
    }
    let toml = |ca_file: &str| {
        format!(
            "[gap_webhook]\nurl = \"{url}\"\nca_file = \"{}\"\ntimeout_secs = 2\nlease_secs = 6\n\
             [[gap_webhook.requirements]]\nplan = \"eea-only\"\nseverity = 1\n",
            directory.path().join(ca_file).display()
        )
    };
    // A CA that did not sign the receiver's certificate: nothing reaches it.
    let untrusting = spawn_app_on(&database, &toml("other-ca.pem")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(posts.lock().unwrap().is_empty(), "a receiver whose certificate is not trusted got a post");
    untrusting.stop().await;
    // The receiver's own CA: the events kept in the outbox arrive (after the receiver's one
    // refusal), unsigned since no secret is configured.
    let trusting = spawn_app_on(&database, &toml("ca.pem")).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while posts.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no post reached the https receiver");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let post = posts.lock().unwrap()[0].clone();
    assert!(post.signature.is_empty(), "no secret, no signature");
    let delivery: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(delivery["events"][0]["event"]["kind"], "GAP_EVENT_KIND_CURRENT");
    assert_eq!(delivery["events"][0]["eventId"], "1");
    trusting.stop().await;
}

crate::on_both_backends!(
    two_replicas_post_each_gap_event_once_and_hand_over_when_the_leader_stops,
    an_https_receiver_is_reached_through_the_configured_ca_and_not_without_it,
);

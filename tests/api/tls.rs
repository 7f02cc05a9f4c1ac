//! TLS and mutual TLS: the server speaks only TLS when configured; a client certificate from the
//! configured CA names its caller by subject and gets the role of its common name; the clients
//! in the binary connect over TLS.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use eea_coverage::pb;
use eea_coverage::startup::Server;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tonic::Code;

use crate::helpers::{agent, create_database, test_settings, with_token, Backend, TestDatabase, TEST_TOKEN};

/// A throw-away PKI: a CA, a server certificate for 127.0.0.1 and localhost, and client
/// certificates, written as PEM files. Its CA and leaf makers also serve the PostgreSQL TLS test.
pub(crate) struct Pki {
    directory: tempfile::TempDir,
    ca_cert: String,
}

pub(crate) struct Pem {
    pub(crate) cert: String,
    pub(crate) key: String,
}

impl Pki {
    fn new() -> Pki {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let (ca_cert, ca_key) = Pki::ca("eea-coverage test CA");
        let pki = Pki { directory, ca_cert: ca_cert.pem() };
        let issuer = rcgen::Issuer::new(Pki::ca_params("eea-coverage test CA"), ca_key);
        let server = Pki::leaf(&issuer, "eea-coverage", &["127.0.0.1", "localhost"], false);
        pki.write("ca.pem", &pki.ca_cert);
        pki.write("server.pem", &server.cert);
        pki.write("server.key", &server.key);
        for common_name in ["wfm-sync", "stranger"] {
            let client = Pki::leaf(&issuer, common_name, &[], true);
            pki.write(&format!("{common_name}.pem"), &client.cert);
            pki.write(&format!("{common_name}.key"), &client.key);
        }
        // A client certificate from a CA the server does not trust.
        let (_, rogue_key) = Pki::ca("rogue CA");
        let rogue_issuer = rcgen::Issuer::new(Pki::ca_params("rogue CA"), rogue_key);
        let rogue = Pki::leaf(&rogue_issuer, "wfm-sync", &[], true);
        pki.write("rogue.pem", &rogue.cert);
        pki.write("rogue.key", &rogue.key);
        pki
    }

    pub(crate) fn ca_params(common_name: &str) -> rcgen::CertificateParams {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        params
    }

    pub(crate) fn ca(common_name: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().expect("a CA key");
        let cert = Pki::ca_params(common_name).self_signed(&key).expect("a self-signed CA");
        (cert, key)
    }

    pub(crate) fn leaf(
        issuer: &rcgen::Issuer<'_, rcgen::KeyPair>,
        common_name: &str,
        names: &[&str],
        client: bool,
    ) -> Pem {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = rcgen::CertificateParams::new(names).expect("leaf parameters");
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        params.distinguished_name.push(rcgen::DnType::OrganizationName, "Acme Support");
        params.extended_key_usages = vec![if client {
            rcgen::ExtendedKeyUsagePurpose::ClientAuth
        } else {
            rcgen::ExtendedKeyUsagePurpose::ServerAuth
        }];
        let key = rcgen::KeyPair::generate().expect("a leaf key");
        let cert = params.signed_by(&key, issuer).expect("a signed leaf");
        Pem { cert: cert.pem(), key: key.serialize_pem() }
    }

    fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.path(name), contents).expect("writing a PEM file");
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).expect("reading a PEM file")
    }

    fn server_toml(&self, require_client_certificate: bool) -> String {
        let quoted = |name: &str| format!("{:?}", self.path(name).display().to_string());
        format!(
            "[tls]\ncert_file = {}\nkey_file = {}\nclient_ca_file = {}\nrequire_client_certificate = {require_client_certificate}\n\n[[auth.certificates]]\ncommon_name = \"wfm-sync\"\nrole = \"roster-writer\"\n",
            quoted("server.pem"),
            quoted("server.key"),
            quoted("ca.pem"),
        )
    }

    /// Client TLS settings: trusting the CA, with the named client certificate if any.
    fn client(&self, certificate: Option<&str>) -> ClientTlsConfig {
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&self.ca_cert));
        if let Some(name) = certificate {
            tls =
                tls.identity(Identity::from_pem(self.read(&format!("{name}.pem")), self.read(&format!("{name}.key"))));
        }
        tls
    }
}

/// A TLS server over a fresh SQLite database; dropping the sender stops it.
struct TlsServer {
    address: SocketAddr,
    /// The JSON API's listener, with the same TLS.
    http_address: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    _database: TestDatabase,
}

async fn spawn_tls_server(pki: &Pki, require_client_certificate: bool) -> TlsServer {
    let database = create_database(Backend::Sqlite).expect("SQLite is always available");
    let settings = test_settings(&database, &pki.server_toml(require_client_certificate));
    let server = Server::build(&settings).await.expect("the TLS server starts");
    let address = server.local_addr();
    let http_address = server.http_addr().expect("test servers serve the JSON API");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = server
            .run_until(async {
                let _ = stopped.await;
            })
            .await;
    });
    TlsServer { address, http_address, _stop: stop, _database: database }
}

async fn tls_channel(address: SocketAddr, tls: ClientTlsConfig) -> Result<tonic::transport::Channel, String> {
    let endpoint = Endpoint::from_shared(format!("https://{address}")).unwrap().tls_config(tls).unwrap();
    endpoint.connect().await.map_err(|error| eea_coverage::cli::connection::error_chain(&error))
}

fn agents_request(agent_id: &str) -> pb::UpsertAgentsRequest {
    pb::UpsertAgentsRequest { agents: vec![agent(agent_id, "IE", "Europe/Dublin")], source: String::new() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_tokens_and_certificates_and_names_certificate_callers() {
    let pki = Pki::new();
    let server = spawn_tls_server(&pki, false).await;

    // Plaintext gets nowhere.
    let plaintext = Endpoint::from_shared(format!("http://{}", server.address)).unwrap().connect().await;
    if let Ok(channel) = plaintext {
        let refused = pb::roster_service_client::RosterServiceClient::new(with_token(channel, Some(TEST_TOKEN)))
            .upsert_agents(agents_request("a-0"))
            .await
            .unwrap_err();
        // The TLS listener answers the plaintext preface with an alert: a transport failure.
        assert!(matches!(refused.code(), Code::Unavailable | Code::Internal | Code::Unknown), "{refused:?}");
    }
    // A client that does not trust the server's CA stops at the handshake.
    let untrusting = tls_channel(server.address, ClientTlsConfig::new().with_native_roots()).await;
    assert!(untrusting.is_err(), "a certificate from an unknown CA was accepted");

    // A token over TLS, without a client certificate.
    let channel = tls_channel(server.address, pki.client(None)).await.expect("a TLS connection");
    let mut admin_roster =
        pb::roster_service_client::RosterServiceClient::new(with_token(channel.clone(), Some(TEST_TOKEN)));
    admin_roster.upsert_agents(agents_request("a-1")).await.expect("an admin token works over TLS");
    let anonymous = pb::roster_service_client::RosterServiceClient::new(with_token(channel, None))
        .upsert_agents(agents_request("a-2"))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    // A configured client certificate is a caller of its own, with its role and no token.
    let channel = tls_channel(server.address, pki.client(Some("wfm-sync"))).await.expect("an mTLS connection");
    let certified = with_token(channel, None);
    pb::roster_service_client::RosterServiceClient::new(certified.clone())
        .upsert_agents(agents_request("a-3"))
        .await
        .expect("the roster writer's certificate may write the roster");
    let denied = pb::ticket_service_client::TicketServiceClient::new(certified)
        .decide_ticket(pb::DecideTicketRequest { org_id: "acme".into(), severity: 1, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // A certificate from the trusted CA whose name is not configured: no access without a token.
    let channel = tls_channel(server.address, pki.client(Some("stranger"))).await.expect("an mTLS connection");
    let stranger = pb::roster_service_client::RosterServiceClient::new(with_token(channel, None))
        .upsert_agents(agents_request("a-4"))
        .await
        .unwrap_err();
    assert_eq!(stranger.code(), Code::Unauthenticated);

    // A certificate from another CA is refused by the TLS layer itself. Under TLS 1.3 the client
    // may learn it only from its first call, whose failure then depends on timing (the server's
    // alert or the closed connection); either way nothing gets through, which the audit trail
    // below confirms.
    let rogue = match tls_channel(server.address, pki.client(Some("rogue"))).await {
        Err(_) => Ok(()),
        Ok(channel) => match pb::roster_service_client::RosterServiceClient::new(with_token(channel, None))
            .upsert_agents(agents_request("a-5"))
            .await
        {
            Ok(_) => Err("the write went through".to_owned()),
            Err(status) if status.code() == Code::Unauthenticated => Err(format!("served, then refused: {status:?}")),
            Err(_) => Ok(()),
        },
    };
    assert_eq!(rogue, Ok(()), "a certificate from an untrusted CA got past the handshake");

    // The audit trail names the certificate's subject for its write.
    let channel = tls_channel(server.address, pki.client(None)).await.unwrap();
    let events = pb::policy_service_client::PolicyServiceClient::new(with_token(channel, Some(TEST_TOKEN)))
        .list_audit_events(pb::ListAuditEventsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .events;
    let callers: Vec<&str> = events.iter().map(|event| event.caller.as_str()).collect();
    assert_eq!(callers.len(), 2, "{callers:?}");
    assert_eq!(callers[0], "token:test-admin");
    assert!(callers[1].starts_with("certificate:") && callers[1].contains("CN=wfm-sync"), "{callers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_client_certificate_is_checked_at_the_handshake() {
    let pki = Pki::new();
    let server = spawn_tls_server(&pki, true).await;
    let without = match tls_channel(server.address, pki.client(None)).await {
        Err(_) => true,
        Ok(channel) => pb::roster_service_client::RosterServiceClient::new(with_token(channel, Some(TEST_TOKEN)))
            .upsert_agents(agents_request("a-1"))
            .await
            .is_err_and(|status| status.code() != Code::Ok),
    };
    assert!(without, "a connection without a client certificate was served");
    let channel = tls_channel(server.address, pki.client(Some("wfm-sync"))).await.expect("an mTLS connection");
    pb::roster_service_client::RosterServiceClient::new(with_token(channel, None))
        .upsert_agents(agents_request("a-2"))
        .await
        .expect("the client certificate is enough");
}

fn run_binary(arguments: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_eea-coverage"))
        .args(arguments)
        .env_remove("EEA_COVERAGE_TOKEN")
        .output()
        .expect("running eea-coverage")
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

/// `eea-coverage report` and `import` speak TLS, with a CA file and with a client certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_commands_speak_tls() {
    let pki = Pki::new();
    let server = spawn_tls_server(&pki, false).await;
    let https = format!("https://{}", server.address);
    let (ca, cert, key) =
        (path_text(&pki.path("ca.pem")), path_text(&pki.path("wfm-sync.pem")), path_text(&pki.path("wfm-sync.key")));
    let report = [
        "report",
        "--server",
        &https,
        "--plan",
        "eea-only",
        "--from",
        "2026-12-07",
        "--to",
        "2026-12-08",
        "--format",
        "csv",
    ];

    let mut with_ca = report.to_vec();
    with_ca.extend(["--tls-ca", &ca, "--token", TEST_TOKEN]);
    let output = run_binary(&with_ca);
    assert!(output.status.success(), "report over TLS failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(!output.stdout.is_empty());

    let mut unverified = report.to_vec();
    unverified.extend(["--token", TEST_TOKEN]);
    let output = run_binary(&unverified);
    assert!(!output.status.success(), "a server certificate from an unknown CA was trusted");
    let stderr = String::from_utf8_lossy(&output.stderr).to_lowercase();
    assert!(stderr.contains("certificate"), "the failure names the certificate: {stderr}");

    let mut plaintext_flags = report.to_vec();
    let http = format!("http://{}", server.address);
    plaintext_flags[2] = &http;
    plaintext_flags.extend(["--tls-ca", &ca]);
    let output = run_binary(&plaintext_flags);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("https://"));

    // An import as the certificate's caller: the roster writer may sync shifts.
    let csv = pki.path("shifts.csv");
    std::fs::write(
        &csv,
        "kind,id,agent_id,starts_at,ends_at,time_zone,start_local,end_time,rrule,exdates,severities,country\n\
         shift,w-1,a-1,2026-12-08T08:00:00Z,2026-12-08T16:00:00Z,,,,,,,\n",
    )
    .unwrap();
    let channel = tls_channel(server.address, pki.client(None)).await.unwrap();
    pb::roster_service_client::RosterServiceClient::new(with_token(channel, Some(TEST_TOKEN)))
        .upsert_agents(agents_request("a-1"))
        .await
        .unwrap();
    let output = run_binary(&[
        "import",
        "--server",
        &https,
        "--source",
        "wfm",
        "--from",
        "2026-12-07",
        "--to",
        "2026-12-14",
        "--tls-ca",
        &ca,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        &path_text(&csv),
    ]);
    assert!(output.status.success(), "import over mTLS failed: {}", String::from_utf8_lossy(&output.stderr));
    let channel = tls_channel(server.address, pki.client(None)).await.unwrap();
    let events = pb::policy_service_client::PolicyServiceClient::new(with_token(channel, Some(TEST_TOKEN)))
        .list_audit_events(pb::ListAuditEventsRequest {
            rpc: "eeacoverage.v1.RosterService/SyncShifts".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(events.len(), 1, "the import's sync is recorded once");
    assert!(events[0].caller.contains("CN=wfm-sync"), "{:?}", events[0].caller);
}

/// The HTTP status of a JSON `UpsertAgents` over HTTPS to `server`, trusting `pki`'s CA, with the
/// named client certificate and `token` when given; `Err` when no TLS session was set up.
async fn upsert_over_https(
    pki: &Pki,
    server: &TlsServer,
    certificate: Option<&str>,
    token: Option<&str>,
) -> Result<u16, String> {
    use http_body_util::Full;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from_pem_slice(pki.ca_cert.as_bytes()).unwrap()).unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
    let config = match certificate {
        None => config.with_no_client_auth(),
        Some(name) => {
            let chain = rustls_pki_types::CertificateDer::pem_slice_iter(pki.read(&format!("{name}.pem")).as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key =
                rustls_pki_types::PrivateKeyDer::from_pem_slice(pki.read(&format!("{name}.key")).as_bytes()).unwrap();
            config.with_client_auth_cert(chain, key).unwrap()
        }
    };
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_only().enable_http1().build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Full<bytes::Bytes>>(connector);
    let body = r#"{"agents": [{"agentId": "h-1", "displayName": "H", "country": "IE", "timeZone": "Europe/Dublin"}]}"#;
    let mut request = http::Request::post(format!("https://{}/v1/RosterService/UpsertAgents", server.http_address))
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = client
        .request(request.body(Full::new(bytes::Bytes::from(body))).unwrap())
        .await
        .map_err(|error| eea_coverage::cli::connection::error_chain(&error))?;
    Ok(response.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_api_is_served_with_the_same_tls_and_client_certificates() {
    let pki = Pki::new();
    let server = spawn_tls_server(&pki, false).await;
    assert_eq!(upsert_over_https(&pki, &server, None, Some(TEST_TOKEN)).await, Ok(200), "a token over HTTPS");
    assert_eq!(upsert_over_https(&pki, &server, None, None).await, Ok(401), "neither token nor certificate");
    assert_eq!(
        upsert_over_https(&pki, &server, Some("wfm-sync"), None).await,
        Ok(200),
        "a roster writer's certificate"
    );
    assert_eq!(upsert_over_https(&pki, &server, Some("stranger"), None).await, Ok(401), "an unconfigured name");

    // Plain HTTP gets no answer from the TLS listener.
    let plain = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>()
        .request(
            http::Request::post(format!("http://{}/v1/openapi.json", server.http_address))
                .body(Default::default())
                .unwrap(),
        )
        .await;
    assert!(plain.is_err(), "a plaintext request was answered");

    let required = spawn_tls_server(&pki, true).await;
    assert!(upsert_over_https(&pki, &required, None, Some(TEST_TOKEN)).await.is_err(), "no certificate, no session");
    assert_eq!(upsert_over_https(&pki, &required, Some("wfm-sync"), None).await, Ok(200));
}

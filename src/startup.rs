//! The one place that wires everything: configuration, policy, storage, use cases, transport.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::app::{App, AppError, GapWebhookPlan};
use crate::auth::{token_hash, Role, TokenEntry, TokenTable};
use crate::config::{AuthSettings, Limits, Settings, TlsSettings};
use crate::domain::policy::{Policy, PolicyFacts, PolicyFactsError, DEFAULT_POLICY_FACTS};
use crate::domain::time::tz_database_version;
use crate::storage::{DatabaseUrl, StorageError, Store};
use crate::transport::{self, HttpGapReceiver, HttpTls, TransportError, WebhookSetupError};

mod expire;
pub use expire::{expire, expiry_cutoff, expiry_preview, ExpiryReport, ExpiryRequest};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("setting policy_file: cannot read {path}: {error}")]
    PolicyFile { path: String, error: std::io::Error },
    #[error(transparent)]
    PolicyFacts(#[from] PolicyFactsError),
    #[error("database {url}: {error}")]
    Storage { url: String, error: StorageError },
    #[error("loading the roster: {0}")]
    Load(AppError),
    #[error("setting auth.token_file: {path}: {error}")]
    TokenFile { path: String, error: std::io::Error },
    #[error("setting {setting}: {path}: {error}")]
    TlsFile { setting: &'static str, path: String, error: std::io::Error },
    #[error("setting tls: {0}")]
    Tls(String),
    #[error("setting {setting}: cannot listen on {address}: {error}")]
    Bind { setting: &'static str, address: SocketAddr, error: std::io::Error },
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Webhook(#[from] WebhookSetupError),
    #[error("expire: {0}")]
    Expiry(String),
}

/// Reads the policy facts (shipped, or the configured file) and applies the plan settings;
/// answers the policy with the facts' text it was parsed from.
pub fn load_policy(settings: &Settings) -> Result<(Policy, String), StartupError> {
    let facts_text = match &settings.policy_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|error| StartupError::PolicyFile { path: path.display().to_string(), error })?,
        None => DEFAULT_POLICY_FACTS.to_owned(),
    };
    Ok((Policy::new(PolicyFacts::parse(&facts_text)?, settings.plans), facts_text))
}

/// Opens the database. PostgreSQL that cannot be reached is retried with backoff (it may be
/// starting too), each attempt logged; any other failure, and any SQLite failure, is final.
async fn open_store(url: &DatabaseUrl) -> Result<Store, StartupError> {
    let mut backoff = std::time::Duration::from_secs(1);
    loop {
        let attempt_url = url.clone();
        let opened = tokio::task::spawn_blocking(move || Store::open(&attempt_url))
            .await
            .expect("the database opening task does not panic");
        match opened {
            Ok(store) => return Ok(store),
            Err(StorageError::Unavailable(message)) if matches!(url, DatabaseUrl::Postgres(_)) => {
                tracing::error!(
                    database.url = %url.redacted(),
                    error = %message,
                    retry_in_secs = backoff.as_secs(),
                    "cannot connect to the database at start-up; retrying"
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
            }
            Err(error) => return Err(StartupError::Storage { url: url.redacted(), error }),
        }
    }
}

const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The TLS configuration of the gRPC listener and of the JSON API's, from the same files, read and
/// checked now: a bad certificate or key stops the start with the setting named, not the first
/// handshake.
fn server_tls(tls: &TlsSettings) -> Result<(tonic::transport::ServerTlsConfig, HttpTls), StartupError> {
    let read = |setting: &'static str, path: &std::path::Path| {
        std::fs::read(path).map_err(|error| StartupError::TlsFile { setting, path: path.display().to_string(), error })
    };
    let certificate = read("tls.cert_file", &tls.cert_file)?;
    let key = read("tls.key_file", &tls.key_file)?;
    // A client that connects and never completes the handshake is dropped after this long.
    let client_ca = tls.client_ca_file.as_deref().map(|path| read("tls.client_ca_file", path)).transpose()?;
    let http_tls = HttpTls::new(&certificate, &key, client_ca.as_deref(), tls.require_client_certificate)
        .map_err(|error| StartupError::Tls(error.to_string()))?;
    let mut config = tonic::transport::ServerTlsConfig::new()
        .identity(tonic::transport::Identity::from_pem(certificate, key))
        .timeout(TLS_HANDSHAKE_TIMEOUT);
    if let Some(client_ca) = client_ca {
        config = config
            .client_ca_root(tonic::transport::Certificate::from_pem(client_ca))
            .client_auth_optional(!tls.require_client_certificate);
    }
    // Checked here: tonic reports an unusable identity only when the server is built.
    tonic::transport::Server::builder().tls_config(config.clone()).map_err(|error| {
        StartupError::Tls(format!(
            "{error} (tls.cert_file {}, tls.key_file {})",
            tls.cert_file.display(),
            tls.key_file.display()
        ))
    })?;
    Ok((config, http_tls))
}

/// The configured tokens; with none configured, one admin token, read from the token file or
/// generated into it (readable by the owner only) on the first start.
fn accepted_tokens(auth: &AuthSettings) -> Result<Vec<TokenEntry>, StartupError> {
    if !auth.tokens.is_empty() {
        return Ok(auth.tokens.clone());
    }
    if !auth.certificates.is_empty() {
        // Callers are configured by certificate only: no token, not even a generated one, opens
        // a door beside them.
        tracing::info!("no tokens are configured: callers authenticate by client certificate only");
        return Ok(Vec::new());
    }
    let path = &auth.token_file;
    let token_error = |error: std::io::Error| StartupError::TokenFile { path: path.display().to_string(), error };
    let token = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => text.trim().to_owned(),
        _ => {
            let mut random = [0u8; 32];
            std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").map_err(token_error)?, &mut random)
                .map_err(token_error)?;
            let token: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
            if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(token_error)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            std::io::Write::write_all(&mut options.open(path).map_err(token_error)?, format!("{token}\n").as_bytes())
                .map_err(token_error)?;
            token
        }
    };
    tracing::warn!(
        token.file = %path.display(),
        "no tokens are configured: an admin token is in the token file; configure [[auth.tokens]] for real callers"
    );
    Ok(vec![TokenEntry { name: "generated-admin".into(), role: Role::Admin, sha256: token_hash(&token) }])
}

/// A server bound to its address, with its data loaded, not yet serving.
pub struct Server {
    access: transport::Access,
    listener: TcpListener,
    http_listener: Option<TcpListener>,
    metrics_listener: Option<TcpListener>,
    app: Arc<App>,
    limits: Limits,
    gap_webhook: Option<(GapWebhookPlan, Arc<HttpGapReceiver>)>,
}

impl Server {
    /// Opens the database (applying migrations), loads the snapshot and binds the listener.
    pub async fn build(settings: &Settings) -> Result<Server, StartupError> {
        // Tokens first: a generated admin token is in its file before the server says it is ready.
        let tokens = TokenTable::new(&accepted_tokens(&settings.auth)?).with_certificates(&settings.auth.certificates);
        let (tls, http_tls) = settings.tls.as_ref().map(server_tls).transpose()?.unzip();
        let access = transport::Access { tokens, reflection: settings.auth.reflection, tls, http_tls };
        let gap_webhook = match &settings.gap_webhook {
            Some(webhook) => Some((
                GapWebhookPlan {
                    requirements: webhook.requirements.clone(),
                    look_ahead: webhook.look_ahead,
                    lease: webhook.lease,
                    delivery_timeout: webhook.timeout,
                },
                Arc::new(HttpGapReceiver::new(webhook)?),
            )),
            None => None,
        };
        let (policy, facts_text) = load_policy(settings)?;
        let policy = Arc::new(policy);
        let store = open_store(&settings.database_url).await?;
        // The policy this start-up runs with is recorded, with when it took effect, whenever it
        // differs from the last recorded: answers about a past moment use the one in force then.
        let recorded_policy = store
            .record_policy(facts_text, policy.settings.to_record())
            .await
            .map_err(|error| StartupError::Storage { url: settings.database_url.redacted(), error })?;
        let app = App::start(store, policy.clone()).await.map_err(StartupError::Load)?;
        let app = Arc::new(app.with_working_time(settings.working_time.clone()));
        let listener = TcpListener::bind(settings.listen).await.map_err(|error| StartupError::Bind {
            setting: "listen",
            address: settings.listen,
            error,
        })?;
        let http_listener = match settings.http_listen {
            Some(address) => match TcpListener::bind(address).await {
                Ok(listener) => Some(listener),
                // The default address taken (a second replica on this host, or another program):
                // the server still starts, without HTTP, and says how to have it.
                Err(error) if settings.http_listen_is_default => {
                    tracing::warn!(
                        http.address = %address,
                        error = %error,
                        "http.listen is unset and its default address is taken: serving no HTTP (no JSON API, no console); set http.listen to a free address, or to \"\" to say none is wanted"
                    );
                    None
                }
                Err(error) => return Err(StartupError::Bind { setting: "http.listen", address, error }),
            },
            None => None,
        };
        let snapshot = app.snapshot();
        tracing::info!(
            listen.address = %listener.local_addr().map_or(settings.listen, |address| address),
            listen.tls = settings.tls.is_some(),
            listen.client_certificates = settings.tls.as_ref().is_some_and(|tls| tls.client_ca_file.is_some()),
            database.backend = settings.database_url.backend_name(),
            database.url = %settings.database_url.redacted(),
            tzdb.version = tz_database_version(),
            policy.version = %policy.facts.version,
            policy.recorded_version = recorded_policy.policy_version,
            roster.agents = snapshot.n_agents(),
            roster.shifts = snapshot.n_shifts(),
            "eea-coverage ready"
        );
        if let Some(http_listener) = &http_listener {
            tracing::info!(
                http.address = %http_listener.local_addr().map_or(settings.listen, |address| address),
                http.tls = settings.tls.is_some(),
                http.openapi = "/v1/openapi.json",
                http.console = "/",
                "serving the JSON API over HTTP; the console is at {}://{}/ (eea-coverage console prints a sign-in link)",
                if settings.tls.is_some() { "https" } else { "http" },
                http_listener.local_addr().map_or(settings.listen, |address| address),
            );
        }
        let metrics_listener = match settings.metrics_listen {
            Some(address) => {
                let metrics_listener = TcpListener::bind(address).await.map_err(|error| StartupError::Bind {
                    setting: "metrics.listen",
                    address,
                    error,
                })?;
                tracing::info!(metrics.address = %metrics_listener.local_addr().map_or(address, |bound| bound), "serving Prometheus metrics");
                Some(metrics_listener)
            }
            None => None,
        };
        if let (Some(webhook), Some((_, receiver))) = (&settings.gap_webhook, &gap_webhook) {
            tracing::info!(
                webhook.host = receiver.host(),
                webhook.requirements = webhook.requirements.len(),
                webhook.signed = webhook.secret_file.is_some(),
                "posting gap events to a webhook"
            );
        }
        Ok(Server { access, listener, http_listener, metrics_listener, app, limits: settings.limits, gap_webhook })
    }

    /// Where metrics are served, when they are.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    /// Where the JSON API is served, when it is.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_listener.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()> + Send) -> Result<(), StartupError> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let webhook = self.gap_webhook.map(|(plan, receiver)| {
            tokio::spawn(self.app.clone().run_gap_webhook(plan, receiver, crate::clock::wall_clock(), stopped.clone()))
        });
        let keeper = tokio::spawn(self.app.clone().keep_current(stopped));
        let served = transport::serve(
            self.listener,
            self.http_listener,
            self.metrics_listener,
            self.app,
            self.limits,
            self.access,
            shutdown,
        )
        .await;
        let _ = stop.send(true);
        let _ = keeper.await;
        if let Some(webhook) = webhook {
            let _ = webhook.await;
        }
        served?;
        tracing::info!("eea-coverage stopped");
        Ok(())
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutdown requested; draining in-flight calls");
}

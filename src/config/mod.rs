//! Typed settings, layered: built-in defaults, then the TOML file (`--config`), then environment
//! variables (`EEA_COVERAGE_*`), then command-line flags. Checked once at start-up; every error
//! names the setting. Nothing here is secret today, and nothing is printed but the redacted URL.

mod raw;
#[cfg(test)]
mod tests;
mod validate;

pub use validate::url_host;

pub use raw::{
    RawAuth, RawCertificate, RawGapRequirement, RawGapWebhook, RawHttp, RawLimits, RawLog, RawMetrics, RawPlans,
    RawSettings, RawTls, RawToken, ENVIRONMENT_VARIABLES,
};

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::auth::{CertificateEntry, TokenEntry};
use crate::domain::gap_watch::GapRequirement;
use crate::domain::policy::PlanSettings;
use crate::domain::working_time::WorkingTimeSettings;
use crate::storage::DatabaseUrl;

/// The SQLite file used when no database is configured, relative to the working directory.
pub const DEFAULT_DATABASE_PATH: &str = "data/eea-coverage.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// The JSON API's address when none is configured: on, so that the README's run command answers
/// a browser or `curl` too.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8080";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// Validated settings for `serve`.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    /// A replacement for the shipped policy facts, when set.
    pub policy_file: Option<PathBuf>,
    pub plans: PlanSettings,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub limits: Limits,
    /// Where Prometheus metrics are served; `None` serves none.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the JSON API (every unary method over HTTP) is served, with the gRPC listener's TLS;
    /// `None` serves none.
    pub http_listen: Option<SocketAddr>,
    /// `http_listen` is the built-in default (nothing set it): then a taken port is logged and the
    /// server runs without HTTP, so that a second replica on one host, or a release upgraded
    /// without the setting, still starts. A port set explicitly that is taken stops the start.
    pub http_listen_is_default: bool,
    pub auth: AuthSettings,
    /// TLS for the gRPC listener; `None` serves plaintext (for a loopback or a mesh that
    /// terminates TLS).
    pub tls: Option<TlsSettings>,
    /// Where gap events are posted; `None` posts none.
    pub gap_webhook: Option<GapWebhookSettings>,
    /// Per source: pager shifts as standby, breaching writes refused.
    pub working_time: WorkingTimeSettings,
    /// How many days of the roster's history and the audit trail `eea-coverage expire` keeps;
    /// `None` keeps everything.
    pub retention_keep_days: Option<u32>,
}

/// The gap webhook: its receiver, how it is reached, and what it watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GapWebhookSettings {
    /// An `http://` or `https://` URL with a host.
    pub url: String,
    pub secret_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub requirements: Vec<GapRequirement>,
    pub look_ahead: jiff::SignedDuration,
    pub timeout: std::time::Duration,
    pub lease: std::time::Duration,
}

/// The server's certificate and key, and, for mutual TLS, the CA client certificates must chain to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_ca_file: Option<PathBuf>,
    /// With a client CA: refuse connections without a client certificate at the handshake.
    /// Without it, such callers may still use a bearer token.
    pub require_client_certificate: bool,
}

/// Who may call: the accepted tokens (hashes only), and where a generated admin token goes when
/// none are configured.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub tokens: Vec<TokenEntry>,
    /// Client certificates (mutual TLS) by common name.
    pub certificates: Vec<CertificateEntry>,
    pub token_file: PathBuf,
    /// Whether server reflection is offered (it is open to all callers, like health).
    pub reflection: bool,
}

/// Where a server with no configured tokens keeps the admin token it generates.
pub const DEFAULT_TOKEN_FILE: &str = "data/admin.token";

/// What one server takes on at once, and how long it gives a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Calls in flight beyond this are refused at once with RESOURCE_EXHAUSTED.
    pub max_concurrent_calls: usize,
    /// The largest message a client may send.
    pub max_message_bytes: usize,
    /// A call still running after this is cancelled.
    pub call_timeout: std::time::Duration,
    /// After SIGTERM, how long in-flight calls may take to finish.
    pub shutdown_grace: std::time::Duration,
    /// Watch streams (`WatchWindows`, `WatchGaps`) open at once; they are not calls in flight, since a
    /// stream's call is done once its answer has started.
    pub max_watch_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_concurrent_calls: 1_024,
            max_message_bytes: 16 * 1024 * 1024,
            call_timeout: std::time::Duration::from_secs(60),
            shutdown_grace: std::time::Duration::from_secs(20),
            max_watch_streams: 10_000,
        }
    }
}

/// A setting that cannot be used, named as in the file (`plans.standard_hours`).
#[derive(Debug, thiserror::Error)]
#[error("setting {setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

fn config_error(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError { setting: setting.to_owned(), problem: problem.into() }
}

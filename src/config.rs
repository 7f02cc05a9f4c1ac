//! Typed settings, layered: built-in defaults, then the TOML file (`--config`), then environment
//! variables (`EEA_COVERAGE_*`), then command-line flags. Checked once at start-up; every error
//! names the setting. Nothing here is secret today, and nothing is printed but the redacted URL.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::auth::{CertificateEntry, Role, TokenEntry};
use crate::domain::calendar::HolidayCalendar;
use crate::domain::policy::{PlanSettings, StandardHours};
use crate::storage::DatabaseUrl;

/// The SQLite file used when no database is configured, relative to the working directory.
pub const DEFAULT_DATABASE_PATH: &str = "data/eea-coverage.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";

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
    pub auth: AuthSettings,
    /// TLS for the gRPC listener; `None` serves plaintext (for a loopback or a mesh that
    /// terminates TLS).
    pub tls: Option<TlsSettings>,
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_concurrent_calls: 1_024,
            max_message_bytes: 16 * 1024 * 1024,
            call_timeout: std::time::Duration::from_secs(60),
            shutdown_grace: std::time::Duration::from_secs(20),
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

/// The raw layers, all optional; later layers override earlier ones field by field.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub policy_file: Option<String>,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub plans: RawPlans,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub metrics: RawMetrics,
    #[serde(default)]
    pub auth: RawAuth,
    #[serde(default)]
    pub tls: RawTls,
}

#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub client_ca_file: Option<String>,
    pub require_client_certificate: Option<bool>,
}

#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    #[serde(default)]
    pub tokens: Vec<RawToken>,
    #[serde(default)]
    pub certificates: Vec<RawCertificate>,
    pub token_file: Option<String>,
    pub reflection: Option<bool>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawToken {
    pub name: String,
    pub role: String,
    /// The SHA-256 of the token, hex; the token itself is never stored.
    pub sha256: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawCertificate {
    /// The common name (CN) of the client certificate's subject.
    pub common_name: String,
    pub role: String,
}

#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub listen: Option<String>,
}

#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_concurrent_calls: Option<usize>,
    pub max_message_bytes: Option<usize>,
    pub call_timeout_secs: Option<u64>,
    pub shutdown_grace_secs: Option<u64>,
}

#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: Option<String>,
    pub filter: Option<String>,
}

#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlans {
    pub eea_only_holidays: Option<String>,
    pub standard_hours: Option<String>,
    pub standard_holidays: Option<String>,
}

/// Environment variables and the settings they override.
pub const ENVIRONMENT_VARIABLES: [(&str, &str); 13] = [
    ("EEA_COVERAGE_LISTEN", "listen"),
    ("EEA_COVERAGE_DATABASE_URL", "database_url"),
    ("EEA_COVERAGE_POLICY_FILE", "policy_file"),
    ("EEA_COVERAGE_LOG_FORMAT", "log.format"),
    ("EEA_COVERAGE_LOG_FILTER", "log.filter"),
    ("EEA_COVERAGE_EEA_ONLY_HOLIDAYS", "plans.eea_only_holidays"),
    ("EEA_COVERAGE_STANDARD_HOURS", "plans.standard_hours"),
    ("EEA_COVERAGE_STANDARD_HOLIDAYS", "plans.standard_holidays"),
    ("EEA_COVERAGE_METRICS_LISTEN", "metrics.listen"),
    ("EEA_COVERAGE_TOKEN_FILE", "auth.token_file"),
    ("EEA_COVERAGE_TLS_CERT_FILE", "tls.cert_file"),
    ("EEA_COVERAGE_TLS_KEY_FILE", "tls.key_file"),
    ("EEA_COVERAGE_TLS_CLIENT_CA_FILE", "tls.client_ca_file"),
];

impl RawSettings {
    pub fn from_file(path: &Path) -> Result<RawSettings, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| config_error("--config", format!("cannot read {}: {error}", path.display())))?;
        toml::from_str(&text).map_err(|error| config_error("--config", format!("{}: {error}", path.display())))
    }

    /// Reads the `EEA_COVERAGE_*` variables through `lookup` (the process environment in
    /// production, a map in tests).
    pub fn from_environment(lookup: impl Fn(&str) -> Option<String>) -> RawSettings {
        RawSettings {
            listen: lookup("EEA_COVERAGE_LISTEN"),
            database_url: lookup("EEA_COVERAGE_DATABASE_URL"),
            policy_file: lookup("EEA_COVERAGE_POLICY_FILE"),
            log: RawLog { format: lookup("EEA_COVERAGE_LOG_FORMAT"), filter: lookup("EEA_COVERAGE_LOG_FILTER") },
            plans: RawPlans {
                eea_only_holidays: lookup("EEA_COVERAGE_EEA_ONLY_HOLIDAYS"),
                standard_hours: lookup("EEA_COVERAGE_STANDARD_HOURS"),
                standard_holidays: lookup("EEA_COVERAGE_STANDARD_HOLIDAYS"),
            },
            // Limits are set in the file only.
            limits: RawLimits::default(),
            metrics: RawMetrics { listen: lookup("EEA_COVERAGE_METRICS_LISTEN") },
            auth: RawAuth {
                tokens: Vec::new(),
                certificates: Vec::new(),
                token_file: lookup("EEA_COVERAGE_TOKEN_FILE"),
                reflection: None,
            },
            // An empty variable leaves the file's TLS setting alone: it must not turn TLS off.
            tls: RawTls {
                cert_file: lookup("EEA_COVERAGE_TLS_CERT_FILE").filter(|value| !value.is_empty()),
                key_file: lookup("EEA_COVERAGE_TLS_KEY_FILE").filter(|value| !value.is_empty()),
                client_ca_file: lookup("EEA_COVERAGE_TLS_CLIENT_CA_FILE").filter(|value| !value.is_empty()),
                require_client_certificate: None,
            },
        }
    }

    /// `self` with every field that `over` sets replaced.
    pub fn overridden_by(self, over: RawSettings) -> RawSettings {
        RawSettings {
            listen: over.listen.or(self.listen),
            database_url: over.database_url.or(self.database_url),
            policy_file: over.policy_file.or(self.policy_file),
            log: RawLog { format: over.log.format.or(self.log.format), filter: over.log.filter.or(self.log.filter) },
            plans: RawPlans {
                eea_only_holidays: over.plans.eea_only_holidays.or(self.plans.eea_only_holidays),
                standard_hours: over.plans.standard_hours.or(self.plans.standard_hours),
                standard_holidays: over.plans.standard_holidays.or(self.plans.standard_holidays),
            },
            limits: RawLimits {
                max_concurrent_calls: over.limits.max_concurrent_calls.or(self.limits.max_concurrent_calls),
                max_message_bytes: over.limits.max_message_bytes.or(self.limits.max_message_bytes),
                call_timeout_secs: over.limits.call_timeout_secs.or(self.limits.call_timeout_secs),
                shutdown_grace_secs: over.limits.shutdown_grace_secs.or(self.limits.shutdown_grace_secs),
            },
            metrics: RawMetrics { listen: over.metrics.listen.or(self.metrics.listen) },
            auth: RawAuth {
                tokens: if over.auth.tokens.is_empty() { self.auth.tokens } else { over.auth.tokens },
                certificates: if over.auth.certificates.is_empty() {
                    self.auth.certificates
                } else {
                    over.auth.certificates
                },
                token_file: over.auth.token_file.or(self.auth.token_file),
                reflection: over.auth.reflection.or(self.auth.reflection),
            },
            tls: RawTls {
                cert_file: over.tls.cert_file.or(self.tls.cert_file),
                key_file: over.tls.key_file.or(self.tls.key_file),
                client_ca_file: over.tls.client_ca_file.or(self.tls.client_ca_file),
                require_client_certificate: over.tls.require_client_certificate.or(self.tls.require_client_certificate),
            },
        }
    }

    /// Applies defaults and checks every setting.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let listen_text = self.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text.parse().map_err(|_| {
            config_error("listen", format!("{listen_text:?} is not an address such as 127.0.0.1:50051"))
        })?;
        let database_url = DatabaseUrl::parse(self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_PATH))
            .map_err(|error| config_error("database_url", error.to_string()))?;
        let policy_file = self.policy_file.filter(|path| !path.is_empty()).map(PathBuf::from);
        let log_format = match self.log.format.as_deref().unwrap_or("human") {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            other => return Err(config_error("log.format", format!("{other:?} is neither \"human\" nor \"json\""))),
        };
        let calendar = |setting: &str, value: Option<String>| {
            HolidayCalendar::named(value.as_deref().unwrap_or("none"))
                .map_err(|error| config_error(setting, error.to_string()))
        };
        let standard_hours = match self.plans.standard_hours.as_deref().unwrap_or("24x7") {
            "24x7" => StandardHours::AroundTheClock,
            "business_sev2_to_4" => StandardHours::BusinessForSev2To4,
            "business" => StandardHours::BusinessForAll,
            other => {
                return Err(config_error(
                    "plans.standard_hours",
                    format!("{other:?} is not one of \"24x7\", \"business_sev2_to_4\", \"business\""),
                ))
            }
        };
        let (tls, auth) = (self.tls.validate()?, self.auth.validate()?);
        if !auth.certificates.is_empty() && tls.as_ref().is_none_or(|tls| tls.client_ca_file.is_none()) {
            return Err(config_error(
                "auth.certificates",
                "need tls.client_ca_file: without it no client presents a certificate",
            ));
        }
        Ok(Settings {
            listen,
            database_url,
            policy_file,
            plans: PlanSettings {
                eea_only_holidays: calendar("plans.eea_only_holidays", self.plans.eea_only_holidays)?,
                standard_hours,
                standard_holidays: calendar("plans.standard_holidays", self.plans.standard_holidays)?,
            },
            log_format,
            log_filter: match self.log.filter {
                Some(filter) => {
                    tracing_subscriber::EnvFilter::try_new(&filter)
                        .map_err(|error| config_error("log.filter", format!("{filter:?}: {error}")))?;
                    filter
                }
                None => "info".to_owned(),
            },
            limits: self.limits.validate()?,
            metrics_listen: match self.metrics.listen.filter(|text| !text.is_empty()) {
                None => None,
                Some(text) => Some(text.parse().map_err(|_| {
                    config_error("metrics.listen", format!("{text:?} is not an address such as 127.0.0.1:9464"))
                })?),
            },
            tls,
            auth,
        })
    }
}

fn role_setting(setting: &str, name: &str) -> Result<Role, ConfigError> {
    Role::named(name)
        .ok_or_else(|| config_error(setting, format!("{name:?} is not roster-writer, ticket-reader, manager or admin")))
}

impl RawAuth {
    fn validate(self) -> Result<AuthSettings, ConfigError> {
        let mut tokens = Vec::with_capacity(self.tokens.len());
        for (token_idx, token) in self.tokens.into_iter().enumerate() {
            let setting = |field: &str| format!("auth.tokens[{token_idx}].{field}");
            let role = role_setting(&setting("role"), &token.role)?;
            if token.sha256.len() != 64 || !token.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(config_error(&setting("sha256"), "is not the 64 hex digits of a SHA-256 hash"));
            }
            if token.name.is_empty() {
                return Err(config_error(&setting("name"), "is required: it names the caller in logs"));
            }
            tokens.push(TokenEntry { name: token.name, role, sha256: token.sha256.to_ascii_lowercase() });
        }
        let mut certificates = Vec::with_capacity(self.certificates.len());
        for (certificate_idx, certificate) in self.certificates.into_iter().enumerate() {
            let setting = |field: &str| format!("auth.certificates[{certificate_idx}].{field}");
            let role = role_setting(&setting("role"), &certificate.role)?;
            if certificate.common_name.is_empty() {
                return Err(config_error(&setting("common_name"), "is required"));
            }
            if certificates.iter().any(|known: &CertificateEntry| known.common_name == certificate.common_name) {
                return Err(config_error(
                    &setting("common_name"),
                    format!("{:?} is listed twice", certificate.common_name),
                ));
            }
            certificates.push(CertificateEntry { common_name: certificate.common_name, role });
        }
        Ok(AuthSettings {
            tokens,
            certificates,
            token_file: PathBuf::from(
                self.token_file.filter(|path| !path.is_empty()).unwrap_or_else(|| DEFAULT_TOKEN_FILE.to_owned()),
            ),
            reflection: self.reflection.unwrap_or(true),
        })
    }
}

impl RawTls {
    fn validate(self) -> Result<Option<TlsSettings>, ConfigError> {
        let path = |value: Option<String>| value.filter(|text| !text.is_empty()).map(PathBuf::from);
        let (cert_file, key_file, client_ca_file) =
            (path(self.cert_file), path(self.key_file), path(self.client_ca_file));
        let require_client_certificate = self.require_client_certificate.unwrap_or(false);
        match (cert_file, key_file) {
            (Some(cert_file), Some(key_file)) => {
                if require_client_certificate && client_ca_file.is_none() {
                    return Err(config_error(
                        "tls.require_client_certificate",
                        "needs tls.client_ca_file: the CA client certificates are checked against",
                    ));
                }
                Ok(Some(TlsSettings { cert_file, key_file, client_ca_file, require_client_certificate }))
            }
            (None, None) => match (client_ca_file, require_client_certificate) {
                (None, false) => Ok(None),
                (Some(_), _) => Err(config_error("tls.client_ca_file", "needs tls.cert_file and tls.key_file")),
                (None, true) => {
                    Err(config_error("tls.require_client_certificate", "needs tls.cert_file and tls.key_file"))
                }
            },
            (Some(_), None) => Err(config_error("tls.key_file", "is required with tls.cert_file")),
            (None, Some(_)) => Err(config_error("tls.cert_file", "is required with tls.key_file")),
        }
    }
}

impl RawLimits {
    fn validate(self) -> Result<Limits, ConfigError> {
        let defaults = Limits::default();
        let positive = |setting: &str, value: Option<u64>, default: u64| match value {
            Some(0) => Err(config_error(setting, "must be at least 1")),
            Some(value) => Ok(value),
            None => Ok(default),
        };
        Ok(Limits {
            max_concurrent_calls: positive(
                "limits.max_concurrent_calls",
                self.max_concurrent_calls.map(|value| value as u64),
                defaults.max_concurrent_calls as u64,
            )? as usize,
            max_message_bytes: positive(
                "limits.max_message_bytes",
                self.max_message_bytes.map(|value| value as u64),
                defaults.max_message_bytes as u64,
            )? as usize,
            call_timeout: std::time::Duration::from_secs(positive(
                "limits.call_timeout_secs",
                self.call_timeout_secs,
                defaults.call_timeout.as_secs(),
            )?),
            shutdown_grace: std::time::Duration::from_secs(positive(
                "limits.shutdown_grace_secs",
                self.shutdown_grace_secs,
                defaults.shutdown_grace.as_secs(),
            )?),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn later_layers_override_earlier_ones_field_by_field() {
        let file: RawSettings =
            toml::from_str("listen = \"127.0.0.1:6000\"\n[plans]\neea_only_holidays = \"target2\"\n").unwrap();
        let environment = HashMap::from([("EEA_COVERAGE_LISTEN", "127.0.0.1:7000")]);
        let env = RawSettings::from_environment(|name| environment.get(name).map(|value| (*value).to_owned()));
        let settings = file.overridden_by(env).validate().unwrap();
        assert_eq!(settings.listen.port(), 7000);
        assert_eq!(settings.plans.eea_only_holidays, HolidayCalendar::Target2);
        assert_eq!(settings.database_url, DatabaseUrl::Sqlite(PathBuf::from(DEFAULT_DATABASE_PATH)));
    }

    #[test]
    fn every_documented_environment_variable_is_read() {
        for (variable, setting) in ENVIRONMENT_VARIABLES {
            let raw = RawSettings::from_environment(|name| (name == variable).then(|| "x".to_owned()));
            let set = [
                &raw.listen,
                &raw.database_url,
                &raw.policy_file,
                &raw.log.format,
                &raw.log.filter,
                &raw.plans.eea_only_holidays,
                &raw.plans.standard_hours,
                &raw.plans.standard_holidays,
                &raw.metrics.listen,
                &raw.auth.token_file,
                &raw.tls.cert_file,
                &raw.tls.key_file,
                &raw.tls.client_ca_file,
            ];
            assert_eq!(set.iter().filter(|value| value.is_some()).count(), 1, "{variable} sets {setting}");
        }
    }

    #[test]
    fn a_bad_setting_is_named() {
        let raw: RawSettings = toml::from_str("[plans]\nstandard_hours = \"weekdays\"\n").unwrap();
        assert_eq!(raw.validate().unwrap_err().setting, "plans.standard_hours");
        let raw = RawSettings { listen: Some("localhost".into()), ..RawSettings::default() };
        assert_eq!(raw.validate().unwrap_err().setting, "listen");
        assert!(toml::from_str::<RawSettings>("colour = \"blue\"\n").is_err());
        let raw: RawSettings = toml::from_str("[limits]\nmax_concurrent_calls = 0\n").unwrap();
        assert_eq!(raw.validate().unwrap_err().setting, "limits.max_concurrent_calls");
        let raw: RawSettings = toml::from_str("[tls]\ncert_file = \"server.pem\"\n").unwrap();
        assert_eq!(raw.validate().unwrap_err().setting, "tls.key_file");
        let raw: RawSettings = toml::from_str("[tls]\nclient_ca_file = \"ca.pem\"\n").unwrap();
        assert_eq!(raw.validate().unwrap_err().setting, "tls.client_ca_file");
        let raw: RawSettings =
            toml::from_str("[tls]\ncert_file = \"s.pem\"\nkey_file = \"s.key\"\nrequire_client_certificate = true\n")
                .unwrap();
        assert_eq!(raw.validate().unwrap_err().setting, "tls.require_client_certificate");
        let raw: RawSettings =
            toml::from_str("[[auth.certificates]]\ncommon_name = \"wfm\"\nrole = \"boss\"\n").unwrap();
        assert_eq!(raw.validate().unwrap_err().setting, "auth.certificates[0].role");
        let raw: RawSettings = toml::from_str(
            "[tls]\ncert_file = \"s.pem\"\nkey_file = \"s.key\"\nclient_ca_file = \"ca.pem\"\n\
             [[auth.certificates]]\ncommon_name = \"wfm\"\nrole = \"admin\"\n\
             [[auth.certificates]]\ncommon_name = \"wfm\"\nrole = \"manager\"\n",
        )
        .unwrap();
        assert_eq!(raw.validate().unwrap_err().setting, "auth.certificates[1].common_name");
        let raw: RawSettings = toml::from_str("[limits]\ncall_timeout_secs = 5\n").unwrap();
        assert_eq!(raw.validate().unwrap().limits.call_timeout, std::time::Duration::from_secs(5));
    }
}

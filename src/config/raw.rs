//! The raw layers as they are read (file, environment, flags), before anything is checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    config_error, ConfigError, LogFormat, Settings, DEFAULT_DATABASE_PATH, DEFAULT_HTTP_LISTEN, DEFAULT_LISTEN,
};
use crate::domain::calendar::HolidayCalendar;
use crate::domain::policy::{PlanSettings, StandardHours};
use crate::domain::working_time::WorkingTimeSettings;
use crate::storage::DatabaseUrl;

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
    pub http: RawHttp,
    #[serde(default)]
    pub auth: RawAuth,
    #[serde(default)]
    pub tls: RawTls,
    /// Set in the file only.
    pub gap_webhook: Option<RawGapWebhook>,
    /// `[sources.NAME]`: how one WFM source's shifts count as working time. File only.
    #[serde(default)]
    pub sources: BTreeMap<String, RawSource>,
    /// `[retention]`: how long the roster's history and the audit trail are kept. File only.
    #[serde(default)]
    pub retention: RawRetention,
}

/// `[retention]`: what `eea-coverage expire` keeps.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    /// Days of history and audit trail kept before now; unset keeps everything.
    pub keep_days: Option<u32>,
}

/// `[sources.NAME]`, for the source a sync or an entry names.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// `work` (the default: on-call time with a short response time is working time) or
    /// `standby` (the source's pager shifts count as neither work nor rest).
    pub pager_shifts: Option<String>,
    /// `warn` (the default: a write answers with the breaches it introduces) or `refuse` (such a
    /// write fails and changes nothing).
    pub working_time_breaches: Option<String>,
}

/// `[gap_webhook]`: where the managers' forward watch posts its gap events, for which
/// requirements.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGapWebhook {
    /// `http://` or `https://`.
    pub url: Option<String>,
    /// A file holding the signing secret as Standard Webhooks write it (`whsec_` and base64).
    pub secret_file: Option<String>,
    /// PEM CA certificates to trust for an `https://` receiver instead of the system's roots.
    pub ca_file: Option<String>,
    /// How far ahead gaps are watched, in hours (1 to 336; 72 by default).
    pub look_ahead_hours: Option<u64>,
    /// How long one POST may take before it is retried.
    pub timeout_secs: Option<u64>,
    /// How long a replica leads the delivery without renewing its lease.
    pub lease_secs: Option<u64>,
    #[serde(default)]
    pub requirements: Vec<RawGapRequirement>,
}

/// One `[[gap_webhook.requirements]]` entry.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawGapRequirement {
    /// `eea-only` or `standard`.
    pub plan: String,
    /// Matters for `standard` only.
    #[serde(default)]
    pub eea_tagged: bool,
    /// 1 to 4.
    pub severity: u8,
    #[serde(default)]
    pub min_staff: Option<u32>,
}

/// `[tls]`: serve TLS when a certificate and key are named; mutual TLS with a client CA.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// PEM certificate chain, leaf first.
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    /// PEM CA certificates that client certificates must chain to.
    pub client_ca_file: Option<String>,
    /// With a client CA: refuse a connection without a certificate at the handshake (by
    /// default one without may still present a token).
    pub require_client_certificate: Option<bool>,
}

/// `[auth]`: who may call, and with which role.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    #[serde(default)]
    pub tokens: Vec<RawToken>,
    #[serde(default)]
    pub certificates: Vec<RawCertificate>,
    /// Where a server with no tokens configured writes the admin token it generates.
    pub token_file: Option<String>,
    /// Whether gRPC reflection is served (it needs no token, like the health check).
    pub reflection: Option<bool>,
}

/// One `[[auth.tokens]]` entry.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawToken {
    pub name: String,
    pub role: String,
    /// The SHA-256 of the token, hex; the token itself is never stored.
    pub sha256: String,
}

/// One `[[auth.certificates]]` entry: a client certificate's subject and its role.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawCertificate {
    /// The common name (CN) of the client certificate's subject.
    pub common_name: String,
    pub role: String,
}

/// `[metrics]`: where Prometheus metrics are served, if anywhere.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub listen: Option<String>,
}

/// `[http]`: where the JSON API is served, if anywhere.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// An address; empty serves no HTTP. Unset, `DEFAULT_HTTP_LISTEN`.
    pub listen: Option<String>,
}

/// `[limits]`: what one server takes on at once, and how long it gives a call.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Calls in progress at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_concurrent_calls: Option<usize>,
    pub max_message_bytes: Option<usize>,
    /// A call still running after this long is cancelled.
    pub call_timeout_secs: Option<u64>,
    /// How long calls in progress may finish after SIGTERM.
    pub shutdown_grace_secs: Option<u64>,
    /// Watch streams open at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_watch_streams: Option<usize>,
}

/// `[log]`: how the server logs.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// `human` or `json`.
    pub format: Option<String>,
    /// A tracing filter, e.g. `info,eea_coverage=debug`.
    pub filter: Option<String>,
}

/// `[plans]`: the settings of the two plans that are a deployment's choice.
#[derive(Default, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlans {
    /// `none` or `target2`: closing days for the EEA-only plan's Sev2-4 business hours.
    pub eea_only_holidays: Option<String>,
    /// `24x7`, `business_sev2_to_4` or `business`.
    pub standard_hours: Option<String>,
    /// `none` or `target2`: used when the standard plan has business hours.
    pub standard_holidays: Option<String>,
}

/// Environment variables and the settings they override.
pub const ENVIRONMENT_VARIABLES: [(&str, &str); 14] = [
    ("EEA_COVERAGE_LISTEN", "listen"),
    ("EEA_COVERAGE_DATABASE_URL", "database_url"),
    ("EEA_COVERAGE_POLICY_FILE", "policy_file"),
    ("EEA_COVERAGE_LOG_FORMAT", "log.format"),
    ("EEA_COVERAGE_LOG_FILTER", "log.filter"),
    ("EEA_COVERAGE_EEA_ONLY_HOLIDAYS", "plans.eea_only_holidays"),
    ("EEA_COVERAGE_STANDARD_HOURS", "plans.standard_hours"),
    ("EEA_COVERAGE_STANDARD_HOLIDAYS", "plans.standard_holidays"),
    ("EEA_COVERAGE_METRICS_LISTEN", "metrics.listen"),
    ("EEA_COVERAGE_HTTP_LISTEN", "http.listen"),
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
            // An empty variable turns the HTTP listener off, as an empty value in the file does.
            http: RawHttp { listen: lookup("EEA_COVERAGE_HTTP_LISTEN") },
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
            gap_webhook: None,
            sources: BTreeMap::new(),
            retention: RawRetention::default(),
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
                max_watch_streams: over.limits.max_watch_streams.or(self.limits.max_watch_streams),
            },
            metrics: RawMetrics { listen: over.metrics.listen.or(self.metrics.listen) },
            http: RawHttp { listen: over.http.listen.or(self.http.listen) },
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
            gap_webhook: over.gap_webhook.or(self.gap_webhook),
            sources: if over.sources.is_empty() { self.sources } else { over.sources },
            retention: RawRetention { keep_days: over.retention.keep_days.or(self.retention.keep_days) },
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
        let hours_name = self.plans.standard_hours.as_deref().unwrap_or(StandardHours::AroundTheClock.name());
        let Some(standard_hours) = StandardHours::named(hours_name) else {
            let known: Vec<String> = StandardHours::ALL.iter().map(|hours| format!("{:?}", hours.name())).collect();
            return Err(config_error(
                "plans.standard_hours",
                format!("{hours_name:?} is not one of {}", known.join(", ")),
            ));
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
            http_listen_is_default: self.http.listen.is_none(),
            http_listen: match self.http.listen.unwrap_or_else(|| DEFAULT_HTTP_LISTEN.to_owned()) {
                text if text.is_empty() => None,
                text => Some(text.parse().map_err(|_| {
                    config_error("http.listen", format!("{text:?} is not an address such as 127.0.0.1:8080"))
                })?),
            },
            tls,
            auth,
            gap_webhook: self.gap_webhook.map(RawGapWebhook::validate).transpose()?,
            working_time: working_time_settings(self.sources)?,
            retention_keep_days: match self.retention.keep_days {
                Some(0) => return Err(config_error("retention.keep_days", "0 would expire everything: at least 1")),
                days => days,
            },
        })
    }
}

/// The sources' working-time settings, each value checked and named when wrong.
fn working_time_settings(sources: BTreeMap<String, RawSource>) -> Result<WorkingTimeSettings, ConfigError> {
    let mut settings = WorkingTimeSettings::default();
    for (name, source) in sources {
        match source.pager_shifts.as_deref().unwrap_or("work") {
            "work" => {}
            "standby" => {
                settings.standby_pager_sources.insert(name.clone());
            }
            other => {
                return Err(config_error(
                    &format!("sources.{name}.pager_shifts"),
                    format!("{other:?} is neither \"work\" nor \"standby\""),
                ))
            }
        }
        match source.working_time_breaches.as_deref().unwrap_or("warn") {
            "warn" => {}
            "refuse" => {
                settings.refusing_sources.insert(name);
            }
            other => {
                return Err(config_error(
                    &format!("sources.{name}.working_time_breaches"),
                    format!("{other:?} is neither \"warn\" nor \"refuse\""),
                ))
            }
        }
    }
    Ok(settings)
}

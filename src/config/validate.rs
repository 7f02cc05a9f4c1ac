//! Checks of the raw sections that turn them into typed settings, naming the setting at fault.

use std::path::PathBuf;

use super::raw::{RawAuth, RawGapWebhook, RawLimits, RawTls};
use super::{config_error, AuthSettings, ConfigError, GapWebhookSettings, Limits, TlsSettings, DEFAULT_TOKEN_FILE};
use crate::auth::{CertificateEntry, Role, TokenEntry};
use crate::domain::gap_watch::GapRequirement;
use crate::domain::policy::{PlanKind, Severity};

/// The most requirements a gap webhook watches, as one `WatchGaps` call.
pub const MAX_WEBHOOK_REQUIREMENTS: usize = 20;
/// The largest `min_staff` a requirement may ask, as a report does.
const MAX_WEBHOOK_MIN_STAFF: u32 = 10_000;

fn role_setting(setting: &str, name: &str) -> Result<Role, ConfigError> {
    Role::named(name)
        .ok_or_else(|| config_error(setting, format!("{name:?} is not roster-writer, ticket-reader, manager or admin")))
}

impl RawAuth {
    pub(super) fn validate(self) -> Result<AuthSettings, ConfigError> {
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
    pub(super) fn validate(self) -> Result<Option<TlsSettings>, ConfigError> {
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
    pub(super) fn validate(self) -> Result<Limits, ConfigError> {
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
            max_watch_streams: positive(
                "limits.max_watch_streams",
                self.max_watch_streams.map(|value| value as u64),
                defaults.max_watch_streams as u64,
            )? as usize,
        })
    }
}

/// The host (and port) of an `http://` or `https://` URL, without the user information before it
/// or the path, query and fragment after it: what may be logged of a receiver's URL.
pub fn url_host(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit('@').next()
}

impl RawGapWebhook {
    pub(super) fn validate(self) -> Result<GapWebhookSettings, ConfigError> {
        let url_text =
            self.url.filter(|url| !url.is_empty()).ok_or_else(|| config_error("gap_webhook.url", "is required"))?;
        // The URL is not repeated in an error: its user information or query may hold a secret.
        let scheme = ["http", "https"].into_iter().find(|scheme| url_text.starts_with(&format!("{scheme}://")));
        let (Some(scheme), Some(_)) = (scheme, url_host(&url_text).filter(|host| !host.is_empty())) else {
            return Err(config_error("gap_webhook.url", "is not an http:// or https:// URL with a host"));
        };
        if url_text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(config_error("gap_webhook.url", "holds white space"));
        }
        let path = |value: Option<String>| value.filter(|text| !text.is_empty()).map(PathBuf::from);
        let ca_file = path(self.ca_file);
        if ca_file.is_some() && scheme != "https" {
            return Err(config_error("gap_webhook.ca_file", "is for an https:// receiver only"));
        }
        if self.requirements.is_empty() || self.requirements.len() > MAX_WEBHOOK_REQUIREMENTS {
            return Err(config_error(
                "gap_webhook.requirements",
                format!("needs 1 to {MAX_WEBHOOK_REQUIREMENTS} entries, not {}", self.requirements.len()),
            ));
        }
        let mut requirements = Vec::with_capacity(self.requirements.len());
        for (requirement_idx, raw) in self.requirements.into_iter().enumerate() {
            let setting = |field: &str| format!("gap_webhook.requirements[{requirement_idx}].{field}");
            let plan = match raw.plan.as_str() {
                "eea-only" => PlanKind::EeaOnly,
                "standard" => PlanKind::Standard,
                other => {
                    return Err(config_error(
                        &setting("plan"),
                        format!("{other:?} is neither \"eea-only\" nor \"standard\""),
                    ))
                }
            };
            let severity = Severity::ALL
                .into_iter()
                .find(|severity| severity.number() == raw.severity)
                .ok_or_else(|| config_error(&setting("severity"), format!("{} is not 1 to 4", raw.severity)))?;
            let min_staff = raw.min_staff.unwrap_or(1);
            if !(1..=MAX_WEBHOOK_MIN_STAFF).contains(&min_staff) {
                return Err(config_error(
                    &setting("min_staff"),
                    format!("{min_staff} is not 1 to {MAX_WEBHOOK_MIN_STAFF}"),
                ));
            }
            // The EEA tag matters for the standard plan only: two EEA-only requirements that differ
            // in it alone are one.
            let eea_tagged = raw.eea_tagged && plan == PlanKind::Standard;
            let requirement = GapRequirement { plan, eea_tagged, severity, min_staff };
            if requirements.contains(&requirement) {
                return Err(config_error(
                    &format!("gap_webhook.requirements[{requirement_idx}]"),
                    "repeats an earlier requirement",
                ));
            }
            requirements.push(requirement);
        }
        let look_ahead_hours = self.look_ahead_hours.unwrap_or(72);
        if !(1..=336).contains(&look_ahead_hours) {
            return Err(config_error("gap_webhook.look_ahead_hours", format!("{look_ahead_hours} is not 1 to 336")));
        }
        let timeout_secs = self.timeout_secs.unwrap_or(10);
        if !(1..=300).contains(&timeout_secs) {
            return Err(config_error("gap_webhook.timeout_secs", format!("{timeout_secs} is not 1 to 300")));
        }
        // A leader posts only while its lease has a whole timeout and a margin to run, and renews
        // it six times a lease: a shorter lease would leave it no time to post.
        let lease_secs = self.lease_secs.unwrap_or(30);
        if lease_secs < 2 * timeout_secs + 2 || lease_secs > 3_600 {
            return Err(config_error(
                "gap_webhook.lease_secs",
                format!(
                    "{lease_secs} is not between twice gap_webhook.timeout_secs plus 2 ({}) and 3600",
                    2 * timeout_secs + 2
                ),
            ));
        }
        Ok(GapWebhookSettings {
            url: url_text,
            secret_file: path(self.secret_file),
            ca_file,
            requirements,
            look_ahead: jiff::SignedDuration::from_hours(look_ahead_hours as i64),
            timeout: std::time::Duration::from_secs(timeout_secs),
            lease: std::time::Duration::from_secs(lease_secs),
        })
    }
}

//! Checks of the raw sections that turn them into typed settings, naming the setting at fault.

use std::path::PathBuf;

use super::raw::{RawAuth, RawLimits, RawTls};
use super::{config_error, AuthSettings, ConfigError, Limits, TlsSettings, DEFAULT_TOKEN_FILE};
use crate::auth::{CertificateEntry, Role, TokenEntry};

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

//! The gap webhook's receiver over HTTP: each delivery a POST of the contract's
//! `GapWebhookDelivery` in the proto3 JSON mapping, over HTTP/1.1 or HTTPS (rustls, the system's
//! roots or a configured CA), signed as Standard Webhooks sign (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`) when a secret is configured.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use super::convert::{gap_event_to_pb, plan_to_pb, severity_to_pb};
use crate::app::{DeliveryFailure, GapReceiver, WebhookEvent};
use crate::clock;
use crate::config::GapWebhookSettings;
use crate::pb;

/// What a receiver's answer body may hold before it is cut off (it is read only to reuse the
/// connection).
const ANSWER_BODY_LIMIT: usize = 64 * 1024;
/// The prefix of a Standard Webhooks secret.
const SECRET_PREFIX: &str = "whsec_";

/// A setting of the webhook that cannot be used, named.
#[derive(Debug, thiserror::Error)]
#[error("setting {setting}: {problem}")]
pub struct WebhookSetupError {
    pub setting: &'static str,
    pub problem: String,
}

fn setup_error(setting: &'static str, problem: impl Into<String>) -> WebhookSetupError {
    WebhookSetupError { setting, problem: problem.into() }
}

pub struct HttpGapReceiver {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: http::Uri,
    signing_key: Option<Vec<u8>>,
}

/// The signing key in a Standard Webhooks secret file: `whsec_` and the key in base64.
fn read_signing_key(path: &Path) -> Result<Vec<u8>, WebhookSetupError> {
    let setting = "gap_webhook.secret_file";
    let text = std::fs::read_to_string(path)
        .map_err(|error| setup_error(setting, format!("cannot read {}: {error}", path.display())))?;
    let encoded = text.trim().strip_prefix(SECRET_PREFIX).ok_or_else(|| {
        setup_error(setting, format!("{} does not hold a secret starting {SECRET_PREFIX}", path.display()))
    })?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|error| setup_error(setting, format!("{}: the secret is not base64: {error}", path.display())))?;
    if key.len() < 24 {
        return Err(setup_error(
            setting,
            format!("{}: the secret is {} bytes; at least 24 are needed", path.display(), key.len()),
        ));
    }
    Ok(key)
}

/// The connector: for an `https://` receiver, TLS trusting `ca_file` or else the system's roots;
/// for an `http://` one, no roots are needed (a host without a CA bundle may post over HTTP).
fn tls_connector(
    https: bool,
    ca_file: Option<&Path>,
) -> Result<hyper_rustls::HttpsConnector<HttpConnector>, WebhookSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match ca_file {
        None if !https => builder.with_tls_config(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|error| setup_error("gap_webhook.url", error.to_string()))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        ),
        Some(path) => {
            let setting = "gap_webhook.ca_file";
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
                .map_err(|error| setup_error(setting, format!("{}: {error}", path.display())))?;
            let mut roots = rustls::RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(certificates);
            if added == 0 {
                return Err(setup_error(setting, format!("{} holds no usable certificate", path.display())));
            }
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|error| setup_error(setting, error.to_string()))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            builder.with_tls_config(config)
        }
        None => builder
            .with_provider_and_native_roots(provider)
            .map_err(|error| setup_error("gap_webhook.url", format!("no system CA certificates: {error}")))?,
    };
    Ok(builder.https_or_http().enable_http1().build())
}

impl HttpGapReceiver {
    /// The receiver the settings name, its secret and CA read now, so that a bad file stops the
    /// start with the setting named.
    pub fn new(settings: &GapWebhookSettings) -> Result<HttpGapReceiver, WebhookSetupError> {
        let url = settings
            .url
            .parse::<http::Uri>()
            // The URL itself is not repeated: its user information or query may hold a secret.
            .map_err(|error| setup_error("gap_webhook.url", format!("is not a URL: {error}")))?;
        let signing_key = settings.secret_file.as_deref().map(read_signing_key).transpose()?;
        let connector = tls_connector(url.scheme_str() == Some("https"), settings.ca_file.as_deref())?;
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(60)).build(connector);
        Ok(HttpGapReceiver { client, url, signing_key })
    }

    /// The receiver's host and port, as the URL was parsed: what may be logged of it (its user
    /// information, path and query may hold a secret).
    pub fn host(&self) -> String {
        match (self.url.host(), self.url.port_u16()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => String::new(),
        }
    }

    /// The POST body: `events` as a `GapWebhookDelivery` in the proto3 JSON mapping, every field
    /// present.
    pub fn body(&self, events: &[WebhookEvent]) -> Vec<u8> {
        let delivery = pb::GapWebhookDelivery { events: events.iter().map(event_to_pb).collect() };
        pb::to_json(&delivery, "GapWebhookDelivery")
    }

    fn request(&self, events: &[WebhookEvent]) -> http::Request<Full<Bytes>> {
        let body = self.body(events);
        let first = events.first().map_or(0, |event| event.event_id);
        let last = events.last().map_or(0, |event| event.event_id);
        let webhook_id = format!("gap-events-{first}-{last}");
        let timestamp = clock::now().as_second().to_string();
        let mut request = http::Request::post(self.url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, concat!("eea-coverage/", env!("CARGO_PKG_VERSION")))
            .header("webhook-id", &webhook_id)
            .header("webhook-timestamp", &timestamp);
        if let Some(key) = &self.signing_key {
            request = request.header("webhook-signature", signature(key, &webhook_id, &timestamp, &body));
        }
        request.body(Full::new(Bytes::from(body))).expect("a request of valid parts")
    }
}

/// `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, as Standard Webhooks sign.
pub fn signature(key: &[u8], webhook_id: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

fn event_to_pb(event: &WebhookEvent) -> pb::GapWebhookEvent {
    let requirement = event.requirement;
    pb::GapWebhookEvent {
        event_id: event.event_id,
        requirement: Some(pb::GapRequirement {
            plan: plan_to_pb(requirement.plan).into(),
            eea_tagged: requirement.eea_tagged,
            severity: severity_to_pb(requirement.severity).into(),
            min_staff: i32::try_from(requirement.min_staff).unwrap_or(i32::MAX),
        }),
        event: Some(gap_event_to_pb(event.event.clone())),
    }
}

/// An error with its causes, `a: b: c` (hyper's own message says only "client error").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A `Retry-After` of whole seconds (the form receivers send with 429 and 503).
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

impl GapReceiver for HttpGapReceiver {
    async fn deliver(&self, events: &[WebhookEvent]) -> Result<(), DeliveryFailure> {
        let response = self
            .client
            .request(self.request(events))
            .await
            .map_err(|error| DeliveryFailure { reason: error_chain(&error), retry_after: None })?;
        let status = response.status();
        let wait = match status {
            http::StatusCode::TOO_MANY_REQUESTS | http::StatusCode::SERVICE_UNAVAILABLE => {
                retry_after(response.headers())
            }
            _ => None,
        };
        // Read (a bounded part of) the answer, so the connection can be used again.
        let _ = Limited::new(response.into_body(), ANSWER_BODY_LIMIT).collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryFailure { reason: format!("the receiver answered {status}"), retry_after: wait })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_the_one_standard_webhooks_specifies() {
        // The worked example of the Standard Webhooks specification's reference libraries.
        let key = base64::engine::general_purpose::STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signed = signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", br#"{"test": 2432232314}"#);
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn only_the_receivers_host_and_port_are_told_for_the_log() {
        let settings = GapWebhookSettings {
            url: "http://user:s3cret@10.1.2.3:9000/gaps?token=s3cret".into(),
            secret_file: None,
            ca_file: None,
            requirements: Vec::new(),
            look_ahead: jiff::SignedDuration::from_hours(72),
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(30),
        };
        assert_eq!(HttpGapReceiver::new(&settings).unwrap().host(), "10.1.2.3:9000");
    }

    #[test]
    fn a_retry_after_in_seconds_is_read_and_a_date_is_not() {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(http::header::RETRY_AFTER, "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}

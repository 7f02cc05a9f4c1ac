//! How the commands reach a running server: the endpoint (with TLS for `https://`), the bearer
//! token on every call, and errors that keep their causes.

use std::path::PathBuf;

use crate::auth::client_token;
use crate::config::DEFAULT_TOKEN_FILE;

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct BearerToken(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for BearerToken {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel whose calls carry a token.
pub type AuthChannel = tonic::service::interceptor::InterceptedService<tonic::transport::Channel, BearerToken>;

pub fn with_token(channel: tonic::transport::Channel, token: Option<&str>) -> AuthChannel {
    let value = token.and_then(|token| format!("Bearer {token}").parse().ok());
    tonic::service::interceptor::InterceptedService::new(channel, BearerToken(value))
}

/// How a client command reaches the server: its token, and TLS for `https://` addresses.
#[derive(clap::Args, Clone)]
pub struct CallerArgs {
    /// The bearer token [env: EEA_COVERAGE_TOKEN; default: the file a local server wrote].
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// Where a server on this machine wrote its generated admin token.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_TOKEN_FILE)]
    token_file: PathBuf,
    /// For an https:// server: the CA (PEM) its certificate chains to [default: the system's roots].
    #[arg(long, value_name = "FILE", env = "EEA_COVERAGE_TLS_CA")]
    tls_ca: Option<PathBuf>,
    /// For mutual TLS: this client's certificate (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", env = "EEA_COVERAGE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// For mutual TLS: this client's private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "FILE", env = "EEA_COVERAGE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The name the server's certificate must carry [default: the host of --server].
    #[arg(long, value_name = "NAME")]
    tls_domain: Option<String>,
}

impl CallerArgs {
    pub fn token(&self) -> Option<String> {
        client_token(self.token.as_deref(), std::env::var("EEA_COVERAGE_TOKEN").ok(), &self.token_file)
    }

    /// The endpoint for `server`, with TLS when the address is `https://`.
    pub fn endpoint(&self, server: &str) -> Result<tonic::transport::Endpoint, String> {
        let endpoint =
            tonic::transport::Endpoint::from_shared(server.to_owned()).map_err(|error| format!("--server: {error}"))?;
        let wants_tls = self.tls_ca.is_some() || self.tls_cert.is_some() || self.tls_domain.is_some();
        if !server.starts_with("https://") {
            return if wants_tls {
                Err(format!("--server {server}: TLS options need an https:// address"))
            } else {
                Ok(endpoint)
            };
        }
        let read = |flag: &str, path: &PathBuf| {
            std::fs::read(path).map_err(|error| format!("{flag} {}: {error}", path.display()))
        };
        let mut tls = tonic::transport::ClientTlsConfig::new();
        tls = match &self.tls_ca {
            Some(path) => tls.ca_certificate(tonic::transport::Certificate::from_pem(read("--tls-ca", path)?)),
            None => tls.with_native_roots(),
        };
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            let identity = tonic::transport::Identity::from_pem(read("--tls-cert", cert)?, read("--tls-key", key)?);
            tls = tls.identity(identity);
        }
        if let Some(domain) = &self.tls_domain {
            tls = tls.domain_name(domain.clone());
        }
        endpoint.tls_config(tls).map_err(|error| format!("TLS settings: {error}"))
    }
}

/// Connects to `server` and attaches the token.
pub async fn connect(server: &str, caller: &CallerArgs) -> Result<AuthChannel, String> {
    let channel = caller
        .endpoint(server)?
        .connect()
        .await
        .map_err(|error| format!("cannot reach {server}: {}", error_chain(&error)))?;
    Ok(with_token(channel, caller.token().as_deref()))
}

/// Every item of a listing, page after page: `page` asks for the page a token names and answers
/// its items and the next token (empty after the last page).
pub async fn every_page<T, Fut>(mut page: impl FnMut(String) -> Fut) -> Result<Vec<T>, tonic::Status>
where
    Fut: std::future::Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut items = Vec::new();
    let mut page_token = String::new();
    loop {
        let (mut more, next_page_token) = page(page_token).await?;
        items.append(&mut more);
        if next_page_token.is_empty() {
            return Ok(items);
        }
        page_token = next_page_token;
    }
}

/// An error with its sources: a TLS failure's reason is two levels down.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

//! TLS for the JSON API's listener, from the same certificate, key and client CA as the gRPC
//! listener's, with the same rules: a client certificate is verified against the client CA, and
//! required at the handshake only when `tls.require_client_certificate` says so.

use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why the listener's TLS cannot be set up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpTlsError(String);

/// The TLS acceptor of the JSON API's listener.
#[derive(Clone)]
pub struct HttpTls(tokio_rustls::TlsAcceptor);

impl HttpTls {
    /// TLS with the server's PEM `certificate` chain and `key`; with `client_ca`, client
    /// certificates chaining to it are verified (and demanded when `require_client_certificate`).
    pub fn new(
        certificate: &[u8],
        key: &[u8],
        client_ca: Option<&[u8]>,
        require_client_certificate: bool,
    ) -> Result<HttpTls, HttpTlsError> {
        let chain = CertificateDer::pem_slice_iter(certificate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| HttpTlsError(format!("tls.cert_file: {error}")))?;
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|error| HttpTlsError(format!("tls.key_file: {error}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|error| HttpTlsError(error.to_string()))?;
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(client_ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for ca in CertificateDer::pem_slice_iter(client_ca) {
                    let ca = ca.map_err(|error| HttpTlsError(format!("tls.client_ca_file: {error}")))?;
                    roots.add(ca).map_err(|error| HttpTlsError(format!("tls.client_ca_file: {error}")))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = if require_client_certificate { verifier } else { verifier.allow_unauthenticated() };
                let verifier =
                    verifier.build().map_err(|error| HttpTlsError(format!("tls.client_ca_file: {error}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|error| HttpTlsError(format!("tls.cert_file and tls.key_file: {error}")))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(HttpTls(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
    }

    pub(super) fn acceptor(&self) -> &tokio_rustls::TlsAcceptor {
        &self.0
    }
}

//! The JSON API: every unary method of `eeacoverage.v1` over HTTP/1.1 and HTTP/2 at
//! `POST /v1/<Service>/<Method>`, its OpenAPI document at `GET /v1/openapi.json`, and the
//! managers' web console at `GET /` (see `console`).
//!
//! A JSON call is not a second implementation of the service. Its body is read against the
//! method's descriptor (the proto3 JSON mapping of prost-reflect), encoded, framed as a gRPC
//! message and handed, in process, to the very service stack the gRPC listener serves: the same
//! metrics, load shedding, authentication, roles, request IDs, audit and handlers. The gRPC
//! answer is then turned back into JSON, or its status into a `google.rpc.Status` body; a
//! `GetCoverageReport` whose `Accept` asks for CSV, SVG or the `report` command's JSON gets the
//! answer rendered as that command renders it (`report_download`).

mod console;
mod json_call;
mod openapi;
mod report_download;
mod tls;

pub use openapi::openapi_document;
pub use tls::{HttpTls, HttpTlsError};

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::config::Limits;
use json_call::{JsonApi, ResponseBody};

/// A client that connects and never completes the TLS handshake is dropped after this long, as
/// on the gRPC listener.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A client that takes longer than this to send a request's headers is disconnected.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The verified client certificate of an HTTPS connection (the leaf), for the authentication
/// layer: the JSON API's counterpart of tonic's `TlsConnectInfo`.
#[derive(Clone, Debug)]
pub struct VerifiedPeerCertificate(pub rustls_pki_types::CertificateDer<'static>);

/// Serves the JSON API on `listener` (over TLS when `tls` is set) by calling `grpc`, the gRPC
/// service stack, until `stopping` turns true; then gives open connections `limits.shutdown_grace`
/// to finish their calls.
pub async fn serve_http<S>(
    listener: TcpListener,
    tls: Option<HttpTls>,
    grpc: S,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) where
    S: json_call::GrpcStack,
{
    let api = Arc::new(JsonApi::new(grpc, limits));
    // Each connection holds a sender; once every one has finished, `all_closed` yields `None`.
    let (connection_open, mut all_closed) = tokio::sync::mpsc::channel::<Infallible>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut stopping) => break,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(error) => {
                // Out of file descriptors, typically: wait a little rather than spin.
                tracing::warn!(%error, "accepting an HTTP connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Small answers must not wait for the peer's delayed ACK (as on the gRPC listener).
        let _ = tcp.set_nodelay(true);
        let (api, tls, stopping, open) = (api.clone(), tls.clone(), stopping.clone(), connection_open.clone());
        tokio::spawn(async move {
            serve_connection(tcp, tls, api, stopping).await;
            drop(open);
        });
    }
    drop(connection_open);
    if tokio::time::timeout(limits.shutdown_grace, all_closed.recv()).await.is_err() {
        tracing::warn!(
            shutdown_grace_secs = limits.shutdown_grace.as_secs(),
            "HTTP calls did not finish within the shutdown grace; stopping anyway"
        );
    }
}

async fn serve_connection<S>(
    tcp: TcpStream,
    tls: Option<HttpTls>,
    api: Arc<JsonApi<S>>,
    stopping: watch::Receiver<bool>,
) where
    S: json_call::GrpcStack,
{
    match tls {
        None => drive(tcp, api, None, stopping).await,
        Some(tls) => {
            let Ok(Ok(stream)) = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.acceptor().accept(tcp)).await else {
                return;
            };
            let peer = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certificates| certificates.first())
                .map(|leaf| VerifiedPeerCertificate(leaf.clone().into_owned()));
            drive(stream, api, peer, stopping).await;
        }
    }
}

/// Serves HTTP/1.1 or HTTP/2 (as the client speaks) on one connection.
async fn drive<I, S>(
    io: I,
    api: Arc<JsonApi<S>>,
    peer: Option<VerifiedPeerCertificate>,
    mut stopping: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: json_call::GrpcStack,
{
    let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
        let (api, peer) = (api.clone(), peer.clone());
        async move { Ok::<http::Response<ResponseBody>, Infallible>(api.answer(request, peer).await) }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = stopped(&mut stopping) => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// Completes once `stopping` turns true (or its sender is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

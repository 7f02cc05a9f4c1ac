//! The gRPC transport: services, conversions, status mapping. Only this module knows tonic.

mod convert;
mod coverage_service;
mod explain;
mod gap_webhook;
mod http;
mod known_at;
mod layers;
mod metrics;
mod pagination;
mod policy_service;
mod roster_service;
mod status;
mod stream_end;
mod sync_file;
mod ticket_service;
mod watches;

pub use gap_webhook::{signature as webhook_signature, HttpGapReceiver, WebhookSetupError};
pub use http::{HttpTls, HttpTlsError};

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

use crate::app::App;
use crate::config::Limits;
use crate::pb;
use crate::pb::coverage_service_server::CoverageServiceServer;
use crate::pb::policy_service_server::PolicyServiceServer;
use crate::pb::roster_service_server::RosterServiceServer;
use crate::pb::ticket_service_server::TicketServiceServer;
use coverage_service::CoverageApi;
use policy_service::PolicyApi;
use roster_service::RosterApi;
use ticket_service::TicketApi;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("gRPC server failed: {0}")]
    Server(#[from] tonic::transport::Error),
}

/// A generated service with `$method` (`accept_compressed`, `send_compressed`) called for gzip,
/// zstd and deflate. Accepted, a compressed request is held to `max_decoding_message_size` as it
/// inflates; sent, an answer is compressed with the first of them the caller's
/// `grpc-accept-encoding` lists, and left uncompressed for a caller that lists none.
macro_rules! for_each_encoding {
    ($service:expr, $method:ident) => {
        $service
            .$method(CompressionEncoding::Gzip)
            .$method(CompressionEncoding::Zstd)
            .$method(CompressionEncoding::Deflate)
    };
}

/// Serves every service on `listener`, and the JSON API on `http_listener`, until `shutdown`
/// completes, then drains in-flight calls.
pub async fn serve(
    listener: TcpListener,
    http_listener: Option<TcpListener>,
    metrics_listener: Option<TcpListener>,
    app: Arc<App>,
    limits: Limits,
    access: Access,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), TransportError> {
    let metrics_server = metrics_listener.map(|listener| tokio::spawn(metrics::serve_metrics(listener, app.clone())));
    let metrics_upkeep = tokio::spawn(metrics::keep_up());
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<PolicyServiceServer<PolicyApi>>().await;
    health_reporter.set_serving::<RosterServiceServer<RosterApi>>().await;
    health_reporter.set_serving::<TicketServiceServer<TicketApi>>().await;
    health_reporter.set_serving::<CoverageServiceServer<CoverageApi>>().await;
    health_reporter.set_service_status(DATABASE_HEALTH, ServingStatus::Serving).await;
    let health_watch = tokio::spawn(report_database_health(app.clone(), health_reporter.clone()));

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    // On shutdown every service reports NOT_SERVING first, so balancers stop sending calls;
    // in-flight calls then get `shutdown_grace` to finish.
    let (draining, drain_started) = tokio::sync::oneshot::channel::<()>();
    let shutdown_reporter = health_reporter.clone();
    // Watch streams end as shutdown begins: they would otherwise hold the drain for its grace.
    let (stopping, stopping_watched) = tokio::sync::watch::channel(false);
    let stopping_http = stopping_watched.clone();
    let shutdown = async move {
        shutdown.await;
        stopping.send_replace(true);
        shutdown_reporter.set_service_status("", ServingStatus::NotServing).await;
        for name in SERVICE_NAMES {
            shutdown_reporter.set_service_status(name, ServingStatus::NotServing).await;
        }
        let _ = draining.send(());
    };
    let max_bytes = limits.max_message_bytes;
    let policy = PolicyServiceServer::new(PolicyApi { app: app.clone() }).max_decoding_message_size(max_bytes);
    let roster = RosterServiceServer::new(RosterApi { app: app.clone() }).max_decoding_message_size(max_bytes);
    let watches = watches::WatchStreams::new(limits.max_watch_streams, stopping_watched);
    let tickets = TicketServiceServer::new(TicketApi { app: app.clone(), watches: watches.clone() })
        .max_decoding_message_size(max_bytes);
    let coverage = CoverageServiceServer::new(CoverageApi { app, watches }).max_decoding_message_size(max_bytes);
    let routes = Routes::new(for_each_encoding!(health_service, accept_compressed));
    let routes = if access.reflection {
        routes
            .add_service(for_each_encoding!(reflection_v1, accept_compressed))
            .add_service(for_each_encoding!(reflection_v1alpha, accept_compressed))
    } else {
        routes
    };
    let routes = routes
        .add_service(for_each_encoding!(for_each_encoding!(policy, accept_compressed), send_compressed))
        .add_service(for_each_encoding!(for_each_encoding!(roster, accept_compressed), send_compressed))
        // The hot path's answers are a few hundred bytes: compressing them would cost more than
        // it saves, so they go uncompressed whatever the caller accepts (gRPC allows it).
        .add_service(for_each_encoding!(tickets, accept_compressed))
        .add_service(for_each_encoding!(for_each_encoding!(coverage, accept_compressed), send_compressed))
        .prepare();
    // One set of layers for both listeners: a JSON call counts against the same limit of calls
    // in flight, and its request ID comes from the same sequence, as a gRPC call.
    let (shed_load, auth) =
        (layers::ShedLoadLayer::new(limits.max_concurrent_calls), layers::AuthLayer::new(access.tokens));
    let http_server = http_listener.map(|http_listener| {
        use tower::Layer;
        let grpc_stack = metrics::CallMetricsLayer
            .layer(shed_load.layer(auth.layer(stream_end::WatchRequestStreamEndLayer.layer(routes.clone()))));
        tokio::spawn(http::serve_http(http_listener, access.http_tls, grpc_stack, limits, stopping_http))
    });
    let mut builder = Server::builder();
    if let Some(tls) = access.tls {
        builder = builder.tls_config(tls)?;
    }
    let server = builder
        .timeout(limits.call_timeout)
        .layer(metrics::CallMetricsLayer)
        .layer(shed_load)
        .layer(auth)
        .layer(stream_end::WatchRequestStreamEndLayer)
        .add_routes(routes)
        // Nagle's algorithm against the peer's delayed ACK stalls small answers by about 40 ms;
        // tonic sets TCP_NODELAY only on listeners it binds itself.
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), shutdown);
    tokio::pin!(server);
    let grace_over = async {
        if drain_started.await.is_ok() {
            tokio::time::sleep(limits.shutdown_grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = &mut server => served?,
        () = grace_over => tracing::warn!(
            shutdown_grace_secs = limits.shutdown_grace.as_secs(),
            "in-flight calls did not finish within the shutdown grace; stopping anyway"
        ),
    }
    if let Some(http_server) = http_server {
        // It stopped taking calls as shutdown began, and drains within its own grace.
        let _ = http_server.await;
    }
    health_watch.abort();
    metrics_upkeep.abort();
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    Ok(())
}

/// Who may call: the accepted tokens, and whether reflection is offered.
pub struct Access {
    pub tokens: crate::auth::TokenTable,
    pub reflection: bool,
    /// TLS for the listener (with client certificates when it has a client CA); `None` serves
    /// plaintext.
    pub tls: Option<tonic::transport::ServerTlsConfig>,
    /// The same TLS for the JSON API's listener.
    pub http_tls: Option<HttpTls>,
}

/// The health name that says whether the database answers. While it does not, the writing
/// services report NOT_SERVING too; ticket decisions, coverage and the overall status stay
/// SERVING, answered from the last snapshot.
pub const DATABASE_HEALTH: &str = "eeacoverage.v1.Database";

/// The health names of this package's services.
const SERVICE_NAMES: [&str; 5] = [
    "eeacoverage.v1.PolicyService",
    "eeacoverage.v1.RosterService",
    "eeacoverage.v1.TicketService",
    "eeacoverage.v1.CoverageService",
    DATABASE_HEALTH,
];

async fn report_database_health(app: Arc<App>, reporter: HealthReporter) {
    let mut reported = true;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let reachable = app.database_reachable();
        if reachable == reported {
            continue;
        }
        reported = reachable;
        let status = if reachable { ServingStatus::Serving } else { ServingStatus::NotServing };
        reporter.set_service_status(DATABASE_HEALTH, status).await;
        for name in [
            <RosterServiceServer<RosterApi> as tonic::server::NamedService>::NAME,
            <PolicyServiceServer<PolicyApi> as tonic::server::NamedService>::NAME,
        ] {
            reporter.set_service_status(name, status).await;
        }
    }
}

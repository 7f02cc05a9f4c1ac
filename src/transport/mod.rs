//! The gRPC transport: services, conversions, status mapping. Only this module knows tonic.

mod convert;
mod limits;
mod coverage_service;
mod pagination;
mod policy_service;
mod roster_service;
mod status;
mod ticket_service;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

use crate::app::App;
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

/// Serves every service on `listener` until `shutdown` completes, then drains in-flight calls.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), TransportError> {
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

    Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(PolicyServiceServer::new(PolicyApi { app: app.clone() }))
        .add_service(RosterServiceServer::new(RosterApi { app: app.clone() }))
        .add_service(TicketServiceServer::new(TicketApi { app: app.clone() }))
        .add_service(CoverageServiceServer::new(CoverageApi { app }))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    health_watch.abort();
    Ok(())
}

/// The health name that says whether the database answers. While it does not, the writing
/// services report NOT_SERVING too; ticket decisions, coverage and the overall status stay
/// SERVING, answered from the last snapshot.
pub const DATABASE_HEALTH: &str = "eeacoverage.v1.Database";

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

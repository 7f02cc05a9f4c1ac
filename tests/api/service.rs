//! Health and reflection, as generic gRPC tools see them.

use tokio_stream::StreamExt;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

use crate::helpers::{spawn_app, Backend};

async fn health_reports_serving_for_every_service(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut health = HealthClient::new(spawned.app.channel.clone());
    for service in [
        "",
        "eeacoverage.v1.PolicyService",
        "eeacoverage.v1.RosterService",
        "eeacoverage.v1.TicketService",
        "eeacoverage.v1.CoverageService",
    ] {
        let response = health.check(HealthCheckRequest { service: service.into() }).await.unwrap().into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{service:?}");
    }
}

async fn reflection_lists_the_services(backend: Backend) {
    let Some(spawned) = spawn_app(backend).await else { return };
    let mut reflection = ServerReflectionClient::new(spawned.app.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection.server_reflection_info(tokio_stream::once(request)).await.unwrap().into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|service| service.name).collect();
    for expected in [
        "eeacoverage.v1.PolicyService",
        "eeacoverage.v1.RosterService",
        "eeacoverage.v1.TicketService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|name| name == expected), "{expected} missing from {names:?}");
    }
    // The file that declares a service resolves with its imports, so clients can build requests.
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol("eeacoverage.v1.TicketService".into())),
    };
    let mut responses = reflection.server_reflection_info(tokio_stream::once(request)).await.unwrap().into_inner();
    let response = responses.next().await.unwrap().unwrap();
    assert!(matches!(response.message_response, Some(MessageResponse::FileDescriptorResponse(_))), "{response:?}");
}

crate::on_both_backends!(health_reports_serving_for_every_service, reflection_lists_the_services);

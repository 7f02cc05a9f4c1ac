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

crate::on_both_backends!(
    health_reports_serving_for_every_service,
    reflection_lists_the_services,
    calls_beyond_the_limit_are_shed,
    metrics_count_calls_by_method_and_status,
    every_call_needs_a_token_of_the_right_role,
    every_rpc_answers_each_role_as_the_matrix_says
);

/// The role matrix of the issue, stated independently of the server's code: who may call what.
fn role_may_call(role: &str, service: &str, method: &str) -> bool {
    let reads = method.starts_with("Get") || method.starts_with("List");
    match role {
        "admin" => true,
        _ if service == "eeacoverage.v1.PolicyService" && method == "GetPolicy" => true,
        "roster-writer" => service == "eeacoverage.v1.RosterService",
        "ticket-reader" => service == "eeacoverage.v1.TicketService",
        "manager" => {
            service == "eeacoverage.v1.CoverageService"
                || (service == "eeacoverage.v1.RosterService" && reads)
                || (service == "eeacoverage.v1.TicketService" && method == "ExplainTicket")
        }
        _ => false,
    }
}

/// Every method of every service in the contract, read from the descriptor the server is built
/// from, called with no token, a forged one, and each role's: UNAUTHENTICATED, UNAUTHENTICATED,
/// then PERMISSION_DENIED exactly where the matrix says so. (The calls carry empty messages:
/// the allowed ones fail validation or find nothing, which is not an access refusal.)
async fn every_rpc_answers_each_role_as_the_matrix_says(backend: Backend) {
    use prost::Message;
    use tonic::Code;
    let Some(spawned) = spawn_app(backend).await else { return };
    let descriptors = prost_types::FileDescriptorSet::decode(eea_coverage::pb::FILE_DESCRIPTOR_SET).unwrap();
    let mut methods = Vec::new();
    for file in descriptors.file.iter().filter(|file| file.package() == "eeacoverage.v1") {
        for service in &file.service {
            for method in &service.method {
                methods.push((format!("eeacoverage.v1.{}", service.name()), method.name().to_owned()));
            }
        }
    }
    assert_eq!(methods.len(), 30, "the contract's methods: {methods:?}");
    let mut roles: Vec<(&str, &str)> = crate::helpers::ROLE_TOKENS.to_vec();
    roles.push(("admin", crate::helpers::TEST_TOKEN));
    let call = |token: Option<&'static str>, path: String| {
        let channel = crate::helpers::with_token(spawned.app.channel.clone(), token);
        async move {
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.expect("the channel is ready");
            let path = http::uri::PathAndQuery::try_from(path).expect("a method path");
            let codec = tonic_prost::ProstCodec::<(), ()>::default();
            grpc.unary(tonic::Request::new(()), path, codec).await.map(|_| ()).map_err(|status| status.code())
        }
    };
    let mut n_checked = 0;
    for (service, method) in &methods {
        let path = format!("/{service}/{method}");
        assert_eq!(call(None, path.clone()).await, Err(Code::Unauthenticated), "{path} without a token");
        assert_eq!(call(Some("forged"), path.clone()).await, Err(Code::Unauthenticated), "{path} forged");
        for (role, token) in &roles {
            let outcome = call(Some(token), path.clone()).await;
            let refused = matches!(outcome, Err(Code::PermissionDenied | Code::Unauthenticated));
            assert_eq!(!refused, role_may_call(role, service, method), "{path} as {role}: {outcome:?}");
            n_checked += 1;
        }
    }
    assert_eq!(n_checked, methods.len() * roles.len());
}

/// No token: UNAUTHENTICATED; the wrong role: PERMISSION_DENIED; health stays open.
async fn every_call_needs_a_token_of_the_right_role(backend: Backend) {
    use eea_coverage::pb;
    use tonic::Code;
    let Some(spawned) = spawn_app(backend).await else { return };
    let as_role = |token: Option<&str>| crate::helpers::with_token(spawned.app.channel.clone(), token);
    let token_of = |role: &str| crate::helpers::ROLE_TOKENS.iter().find(|(name, _)| *name == role).unwrap().1;
    let question = || pb::DecideTicketRequest {
        org_id: "nobody".into(),
        severity: 1,
        category: 0,
        ticket_id: String::new(),
        at: None,
        as_known_at: None,
    };
    let report = || pb::GetCoverageReportRequest {
        plan: pb::Plan::EeaOnly as i32,
        eea_tagged: true,
        window_start: Some(crate::helpers::timestamp("2026-12-07T00:00:00Z")),
        window_end: Some(crate::helpers::timestamp("2026-12-08T00:00:00Z")),
        min_staff: 1,
        as_known_at: None,
    };
    let agents = || pb::UpsertAgentsRequest {
        agents: vec![crate::helpers::agent("a1", "IE", "Europe/Dublin")],
        source: String::new(),
    };

    let anonymous =
        pb::ticket_service_client::TicketServiceClient::new(as_role(None)).decide_ticket(question()).await.unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let guessed = pb::ticket_service_client::TicketServiceClient::new(as_role(Some("guess")))
        .decide_ticket(question())
        .await
        .unwrap_err();
    assert_eq!(guessed.code(), Code::Unauthenticated);

    let desk = as_role(Some(token_of("ticket-reader")));
    let answered =
        pb::ticket_service_client::TicketServiceClient::new(desk.clone()).decide_ticket(question()).await.unwrap_err();
    assert_eq!(answered.code(), Code::NotFound, "a ticket reader reaches DecideTicket");
    let denied = pb::roster_service_client::RosterServiceClient::new(desk).upsert_agents(agents()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let writer = as_role(Some(token_of("roster-writer")));
    pb::roster_service_client::RosterServiceClient::new(writer.clone()).upsert_agents(agents()).await.unwrap();
    let denied = pb::coverage_service_client::CoverageServiceClient::new(writer)
        .get_coverage_report(report())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let manager = as_role(Some(token_of("manager")));
    pb::coverage_service_client::CoverageServiceClient::new(manager.clone())
        .get_coverage_report(report())
        .await
        .unwrap();
    pb::roster_service_client::RosterServiceClient::new(manager.clone())
        .list_agents(pb::ListAgentsRequest::default())
        .await
        .unwrap();
    let denied =
        pb::roster_service_client::RosterServiceClient::new(manager.clone()).upsert_agents(agents()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = pb::policy_service_client::PolicyServiceClient::new(manager)
        .upsert_org(pb::UpsertOrgRequest { org: Some(crate::helpers::org("o", "eu-west-1", pb::Plan::EeaOnly)) })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let mut health = HealthClient::new(spawned.app.channel.clone());
    health.check(HealthCheckRequest { service: String::new() }).await.expect("health is open without a token");
}

/// The Prometheus endpoint counts calls by method and status, and reports the snapshot and the
/// tz database version.
async fn metrics_count_calls_by_method_and_status(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(spawned) = crate::helpers::spawn_app_with(backend, "[metrics]\nlisten = \"127.0.0.1:0\"\n").await else {
        return;
    };
    let mut policy = spawned.app.policy.clone();
    policy.get_policy(eea_coverage::pb::GetPolicyRequest { at: None }).await.unwrap();
    let missing = policy.get_org(eea_coverage::pb::GetOrgRequest { org_id: "nobody".into() }).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let address = spawned.app.metrics_address.expect("metrics are served");
    let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
    connection.write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n").await.unwrap();
    let mut page = String::new();
    connection.read_to_string(&mut page).await.unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    for expected in [
        r#"eea_coverage_calls_total{method="eeacoverage.v1.PolicyService/GetPolicy",code="Ok"}"#,
        r#"eea_coverage_calls_total{method="eeacoverage.v1.PolicyService/GetOrg",code="NotFound"}"#,
        "eea_coverage_call_duration_seconds",
        "eea_coverage_snapshot_age_seconds",
        "eea_coverage_snapshot_agents",
        r#"eea_coverage_tz_database_info{version="2026f"}"#,
    ] {
        assert!(page.contains(expected), "{expected} missing from the metrics page:\n{page}");
    }
}

/// Beyond the limit of calls in flight, a call is refused at once with RESOURCE_EXHAUSTED, and
/// served again as soon as a slot frees.
async fn calls_beyond_the_limit_are_shed(backend: Backend) {
    let Some(spawned) = crate::helpers::spawn_app_with(backend, "[limits]\nmax_concurrent_calls = 1\n").await else {
        return;
    };
    let mut roster = spawned.app.roster.clone();
    let mut policy = spawned.app.policy.clone();
    // A sync whose stream stays open holds the only slot. Nothing else is in flight while it
    // opens, so it gets the slot; it is still open a moment later.
    let (sender, receiver) = tokio::sync::mpsc::channel::<eea_coverage::pb::SyncShiftsRequest>(4);
    let open_sync =
        tokio::spawn(async move { roster.sync_shifts(tokio_stream::wrappers::ReceiverStream::new(receiver)).await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!open_sync.is_finished(), "the open sync holds its slot: {:?}", open_sync.is_finished());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let shed = loop {
        match policy.get_policy(eea_coverage::pb::GetPolicyRequest { at: None }).await {
            Err(status) if status.code() == tonic::Code::ResourceExhausted => break status,
            _ => {
                assert!(std::time::Instant::now() < deadline, "no call was shed while the slot was held");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    };
    assert!(shed.message().contains("limit"), "{}", shed.message());
    drop(sender);
    let _ = open_sync.await;
    policy
        .get_policy(eea_coverage::pb::GetPolicyRequest { at: None })
        .await
        .expect("served again once the slot is free");
}

//! One JSON call: routing, the body read as proto3 JSON, the in-process gRPC call, and its answer
//! or status as JSON.

use std::convert::Infallible;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{HeaderValue, ALLOW, AUTHORIZATION, CONTENT_TYPE, VARY};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use prost_reflect::{DynamicMessage, MethodDescriptor};
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;

use super::report_download::{self, Representation};
use super::VerifiedPeerCertificate;
use crate::config::Limits;
use crate::pb;
use crate::transport::layers::REQUEST_ID_HEADER;

/// The body of every answer of the JSON API.
pub type ResponseBody = Full<Bytes>;

/// The path of the OpenAPI document.
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

/// The prefix of every method's path: `/v1/<Service>/<Method>`.
const METHOD_PATH_PREFIX: &str = "/v1/";

/// What the JSON API calls: the gRPC listener's service stack.
pub trait GrpcStack:
    tower::Service<
        http::Request<tonic::body::Body>,
        Response = http::Response<tonic::body::Body>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> GrpcStack for S where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

pub struct JsonApi<S> {
    grpc: S,
    max_body_bytes: usize,
    call_timeout: Duration,
}

/// A refusal before the call reaches the gRPC stack, or its status after.
#[derive(Debug)]
struct Refusal {
    http_status: StatusCode,
    body: serde_json::Value,
}

impl Refusal {
    fn new(code: Code, message: impl Into<String>) -> Refusal {
        Refusal { http_status: http_status_of(code), body: status_json(code, &message.into(), Vec::new()) }
    }

    fn with_http_status(mut self, http_status: StatusCode) -> Refusal {
        self.http_status = http_status;
        self
    }
}

impl<S: GrpcStack> JsonApi<S> {
    pub fn new(grpc: S, limits: Limits) -> JsonApi<S> {
        JsonApi { grpc, max_body_bytes: limits.max_message_bytes, call_timeout: limits.call_timeout }
    }

    /// The answer to one HTTP request.
    pub async fn answer(
        &self,
        request: http::Request<hyper::body::Incoming>,
        peer: Option<VerifiedPeerCertificate>,
    ) -> http::Response<ResponseBody> {
        let path = request.uri().path();
        if super::console::is_console_path(path) {
            return super::console::answer(request.method(), path, request.headers());
        }
        if path == OPENAPI_PATH {
            return if request.method() == Method::GET || request.method() == Method::HEAD {
                json_response(StatusCode::OK, super::openapi_document().clone(), None)
            } else {
                let refused = Refusal::new(Code::Unimplemented, format!("{OPENAPI_PATH} answers GET only"))
                    .with_http_status(StatusCode::METHOD_NOT_ALLOWED);
                with_allow(refusal_response(refused, None), "GET, HEAD")
            };
        }
        let method = match unary_method(path) {
            Ok(method) => method,
            Err(refused) => return refusal_response(refused, None),
        };
        if request.method() != Method::POST {
            let refused =
                Refusal::new(Code::Unimplemented, format!("{path} answers POST only, with the request as JSON"))
                    .with_http_status(StatusCode::METHOD_NOT_ALLOWED);
            return with_allow(refusal_response(refused, None), "POST");
        }
        let Some(representation) = report_download::negotiate(&method, request.headers()) else {
            let refused = Refusal::new(
                Code::InvalidArgument,
                format!(
                    "{} answers {}; the Accept header names none of them",
                    method.full_name(),
                    report_download::offered_media_types()
                ),
            )
            .with_http_status(StatusCode::NOT_ACCEPTABLE);
            return with_vary_accept(refusal_response(refused, None));
        };
        let response = match self.call(request, &method, peer).await {
            Ok((message, request_id)) => answer_response(&method, representation, &message, request_id),
            Err((refused, request_id)) => refusal_response(refused, request_id),
        };
        if report_download::negotiates(&method) {
            with_vary_accept(response)
        } else {
            response
        }
    }

    async fn call(
        &self,
        request: http::Request<hyper::body::Incoming>,
        method: &MethodDescriptor,
        peer: Option<VerifiedPeerCertificate>,
    ) -> Result<(Bytes, Option<HeaderValue>), (Refusal, Option<HeaderValue>)> {
        let (parts, body) = request.into_parts();
        if let Some(content_type) = parts.headers.get(CONTENT_TYPE) {
            let essence = content_type.to_str().unwrap_or("").split(';').next().unwrap_or("").trim();
            if !essence.eq_ignore_ascii_case("application/json") {
                let refused = Refusal::new(Code::InvalidArgument, "send the request as content-type application/json")
                    .with_http_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
                return Err((refused, None));
            }
        }
        // The body's arrival counts against the call's time too: a client that trickles it in
        // holds nothing for longer than a call may take.
        let read = tokio::time::timeout(self.call_timeout, Limited::new(body, self.max_body_bytes).collect()).await;
        let Ok(read) = read else {
            let refused = Refusal::new(
                Code::DeadlineExceeded,
                format!(
                    "the request body took longer than limits.call_timeout ({} s) to arrive",
                    self.call_timeout.as_secs()
                ),
            )
            .with_http_status(StatusCode::REQUEST_TIMEOUT);
            return Err((refused, None));
        };
        let body = match read {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                let refused = Refusal::new(
                    Code::ResourceExhausted,
                    format!("the request body is larger than limits.max_message_bytes ({} bytes)", self.max_body_bytes),
                )
                .with_http_status(StatusCode::PAYLOAD_TOO_LARGE);
                return Err((refused, None));
            }
            Err(error) => {
                return Err((Refusal::new(Code::InvalidArgument, format!("reading the request body: {error}")), None))
            }
        };
        let message = request_message(method, &body).map_err(|refused| (refused, None))?;

        let mut framed = BytesMut::with_capacity(GRPC_FRAME_HEADER_BYTES + message.len());
        framed.put_u8(0);
        framed.put_u32(u32::try_from(message.len()).expect("a message within limits.max_message_bytes"));
        framed.put_slice(&message);
        let mut grpc_request = http::Request::builder()
            .method(Method::POST)
            .uri(format!("/{}/{}", method.parent_service().full_name(), method.name()))
            .header(CONTENT_TYPE, "application/grpc")
            .header("te", "trailers")
            .body(tonic::body::Body::new(Full::new(framed.freeze())))
            .expect("a gRPC request of a known method builds");
        for name in [AUTHORIZATION.as_str(), REQUEST_ID_HEADER] {
            if let Some(value) = parts.headers.get(name) {
                grpc_request.headers_mut().insert(name, value.clone());
            }
        }
        if let Some(peer) = peer {
            grpc_request.extensions_mut().insert(peer);
        }

        let mut grpc = self.grpc.clone();
        let called = async move {
            std::future::poll_fn(|context| grpc.poll_ready(context)).await?;
            let response = grpc.call(grpc_request).await?;
            let (parts, body) = response.into_parts();
            Ok::<_, Infallible>((parts, body.collect().await))
        };
        let (grpc_parts, collected) = match tokio::time::timeout(self.call_timeout, called).await {
            Ok(Ok(answered)) => answered,
            Ok(Err(never)) => match never {},
            Err(_) => {
                let refused = Refusal::new(
                    Code::DeadlineExceeded,
                    format!("the call took longer than limits.call_timeout ({} s)", self.call_timeout.as_secs()),
                );
                return Err((refused, None));
            }
        };
        let request_id = grpc_parts.headers.get(REQUEST_ID_HEADER).cloned();
        let collected = match collected {
            Ok(collected) => collected,
            Err(status) => return Err((status_refusal(&status), request_id)),
        };
        // A status comes in the headers when there is no answer ("trailers only"), else in the
        // trailers.
        let trailers = collected.trailers().cloned();
        let status = tonic::Status::from_header_map(&grpc_parts.headers)
            .or_else(|| trailers.as_ref().and_then(tonic::Status::from_header_map));
        match status {
            Some(status) if status.code() == Code::Ok => {}
            Some(status) => return Err((status_refusal(&status), request_id)),
            None => {
                tracing::error!(rpc = method.full_name(), "an in-process gRPC answer carried no status");
                return Err((Refusal::new(Code::Internal, "internal error"), request_id));
            }
        }
        match unframed(collected.to_bytes()) {
            Some(message) => Ok((message, request_id)),
            None => {
                tracing::error!(rpc = method.full_name(), "an in-process gRPC answer was not one uncompressed message");
                Err((Refusal::new(Code::Internal, "internal error"), request_id))
            }
        }
    }
}

/// The answer to a call the gRPC stack answered with `message`, written as `representation`.
fn answer_response(
    method: &MethodDescriptor,
    representation: Representation,
    message: &[u8],
    request_id: Option<HeaderValue>,
) -> http::Response<ResponseBody> {
    let response = match representation {
        Representation::ProtoJson => {
            answer_json(method, message).map(|answer| json_response(StatusCode::OK, answer, None))
        }
        Representation::Report(format) => <pb::CoverageReport as prost::Message>::decode(message)
            .ok()
            .map(|report| report_download::download_response(&report, format)),
    };
    let Some(mut response) = response else {
        tracing::error!(rpc = method.full_name(), "an in-process gRPC answer did not decode");
        return refusal_response(Refusal::new(Code::Internal, "internal error"), request_id);
    };
    if let Some(request_id) = request_id {
        response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
    }
    response
}

/// The length of a gRPC message's frame header: a compression flag and a 4-byte length.
const GRPC_FRAME_HEADER_BYTES: usize = 5;

/// The unary method a path names, or why there is none.
fn unary_method(path: &str) -> Result<MethodDescriptor, Refusal> {
    let not_found = || {
        Refusal::new(
            Code::NotFound,
            format!("no method at {path}: the JSON API's paths are /v1/<Service>/<Method>, listed in {OPENAPI_PATH}"),
        )
    };
    let (service_name, method_name) =
        path.strip_prefix(METHOD_PATH_PREFIX).and_then(|rest| rest.split_once('/')).ok_or_else(not_found)?;
    let method = pb::descriptor_pool()
        .get_service_by_name(&format!("{}.{service_name}", pb::PACKAGE))
        .and_then(|service| service.methods().find(|method| method.name() == method_name))
        .ok_or_else(not_found)?;
    if method.is_client_streaming() || method.is_server_streaming() {
        return Err(Refusal::new(
            Code::Unimplemented,
            format!("{} is a streaming method: it is served over gRPC only", method.full_name()),
        ));
    }
    Ok(method)
}

/// The request message a JSON body stands for, encoded; an empty body is the empty message.
fn request_message(method: &MethodDescriptor, body: &[u8]) -> Result<Vec<u8>, Refusal> {
    let input = method.input();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let message = DynamicMessage::deserialize(input.clone(), &mut deserializer)
        .and_then(|message| deserializer.end().map(|()| message))
        .map_err(|error| {
            Refusal::new(
                Code::InvalidArgument,
                format!("the body is not a {} in the proto3 JSON mapping: {error}", input.full_name()),
            )
        })?;
    Ok(prost::Message::encode_to_vec(&message))
}

/// The one uncompressed message of a gRPC answer's body.
fn unframed(mut framed: Bytes) -> Option<Bytes> {
    let header = framed.get(..GRPC_FRAME_HEADER_BYTES)?;
    let length = u32::from_be_bytes(header[1..].try_into().ok()?);
    if header[0] != 0 || usize::try_from(length).ok()? != framed.len() - GRPC_FRAME_HEADER_BYTES {
        return None;
    }
    Some(framed.split_off(GRPC_FRAME_HEADER_BYTES))
}

/// The answer of `method` as JSON, from its encoded message.
fn answer_json(method: &MethodDescriptor, message: &[u8]) -> Option<serde_json::Value> {
    let answer = DynamicMessage::decode(method.output(), message).ok()?;
    serde_json::to_value(pb::JsonMessage(&answer)).ok()
}

/// The HTTP status of a gRPC status code: the mapping of google.rpc.Code's documentation.
pub fn http_status_of(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // 499, "client closed request", as google.rpc.Code documents it.
        Code::Cancelled => StatusCode::from_u16(499).expect("499 is a status code"),
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn status_refusal(status: &tonic::Status) -> Refusal {
    Refusal {
        http_status: http_status_of(status.code()),
        body: status_json(status.code(), status.message(), details_json(status)),
    }
}

/// A `google.rpc.Status` in its JSON mapping.
fn status_json(code: Code, message: &str, details: Vec<serde_json::Value>) -> serde_json::Value {
    json!({ "code": code as i32, "message": message, "details": details })
}

/// The details this service sends, each as a `google.protobuf.Any` in its JSON mapping.
fn details_json(status: &tonic::Status) -> Vec<serde_json::Value> {
    const TYPE_PREFIX: &str = "type.googleapis.com/google.rpc.";
    let details = status.get_error_details();
    let mut listed = Vec::new();
    if let Some(bad_request) = details.bad_request() {
        let violations: Vec<_> = bad_request
            .field_violations
            .iter()
            .map(|violation| json!({ "field": violation.field, "description": violation.description }))
            .collect();
        listed.push(json!({ "@type": format!("{TYPE_PREFIX}BadRequest"), "fieldViolations": violations }));
    }
    if let Some(precondition) = details.precondition_failure() {
        let violations: Vec<_> = precondition
            .violations
            .iter()
            .map(|violation| {
                json!({ "type": violation.r#type, "subject": violation.subject, "description": violation.description })
            })
            .collect();
        listed.push(json!({ "@type": format!("{TYPE_PREFIX}PreconditionFailure"), "violations": violations }));
    }
    if let Some(resource) = details.resource_info() {
        listed.push(json!({
            "@type": format!("{TYPE_PREFIX}ResourceInfo"),
            "resourceType": resource.resource_type,
            "resourceName": resource.resource_name,
            "owner": resource.owner,
            "description": resource.description,
        }));
    }
    if let Some(error_info) = details.error_info() {
        listed.push(json!({
            "@type": format!("{TYPE_PREFIX}ErrorInfo"),
            "reason": error_info.reason,
            "domain": error_info.domain,
            "metadata": error_info.metadata,
        }));
    }
    listed
}

fn json_response(
    http_status: StatusCode,
    body: serde_json::Value,
    request_id: Option<HeaderValue>,
) -> http::Response<ResponseBody> {
    let bytes = serde_json::to_vec(&body).expect("JSON values serialise");
    let mut response = http::Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = http_status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(request_id) = request_id {
        response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
    }
    response
}

fn refusal_response(refused: Refusal, request_id: Option<HeaderValue>) -> http::Response<ResponseBody> {
    json_response(refused.http_status, refused.body, request_id)
}

/// Marks an answer of a method that reads `Accept` as depending on it, for caches.
fn with_vary_accept(mut response: http::Response<ResponseBody>) -> http::Response<ResponseBody> {
    response.headers_mut().insert(VARY, HeaderValue::from_static("accept"));
    response
}

fn with_allow(mut response: http::Response<ResponseBody>, allowed: &'static str) -> http::Response<ResponseBody> {
    response.headers_mut().insert(ALLOW, HeaderValue::from_static(allowed));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_names_a_unary_method_of_the_package_or_is_refused_with_why() {
        let method = unary_method("/v1/TicketService/DecideTicket").expect("DecideTicket is unary");
        assert_eq!(method.full_name(), "eeacoverage.v1.TicketService.DecideTicket");
        for (path, code) in [
            ("/v1/TicketService/Decide", Code::NotFound),
            ("/v1/NoService/DecideTicket", Code::NotFound),
            ("/eeacoverage.v1.TicketService/DecideTicket", Code::NotFound),
            ("/v1/TicketService", Code::NotFound),
            ("/v1/RosterService/SyncShifts", Code::Unimplemented),
            ("/v1/TicketService/WatchWindows", Code::Unimplemented),
        ] {
            let refused = unary_method(path).err().unwrap_or_else(|| panic!("{path} is refused"));
            assert_eq!(refused.body["code"], code as i32, "{path}");
        }
    }

    #[test]
    fn a_body_is_read_in_the_proto3_json_mapping_and_a_wrong_one_is_named() {
        let method = unary_method("/v1/TicketService/DecideTicket").unwrap();
        let encoded = request_message(
            &method,
            br#"{"orgId": "acme", "severity": "SEVERITY_3", "at": "2026-12-07T10:00:00Z", "ticket_id": "T-1"}"#,
        )
        .expect("a valid body");
        let decoded: pb::DecideTicketRequest = prost::Message::decode(encoded.as_slice()).unwrap();
        assert_eq!((decoded.org_id.as_str(), decoded.ticket_id.as_str()), ("acme", "T-1"));
        assert_eq!(decoded.severity, pb::Severity::Severity3 as i32);
        assert_eq!(decoded.at.map(|at| at.seconds), Some(1_796_637_600));
        assert_eq!(request_message(&method, b" \n").unwrap(), Vec::<u8>::new());
        for body in [&b"{"[..], br#"{"orgId": 7}"#, br#"{"colour": "blue"}"#, br#"{} {}"#, br#"{"at": "yesterday"}"#] {
            let refused = request_message(&method, body).expect_err("refused");
            assert_eq!(refused.http_status, StatusCode::BAD_REQUEST);
            let message = refused.body["message"].as_str().unwrap().to_owned();
            assert!(message.contains("eeacoverage.v1.DecideTicketRequest"), "{message}");
        }
    }

    #[test]
    fn every_grpc_code_has_the_documented_http_status() {
        let expected = [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::OutOfRange, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::Aborted, 409),
            (Code::ResourceExhausted, 429),
            (Code::Cancelled, 499),
            (Code::Unknown, 500),
            (Code::Internal, 500),
            (Code::DataLoss, 500),
            (Code::Unimplemented, 501),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
        ];
        for (code, http_status) in expected {
            assert_eq!(http_status_of(code).as_u16(), http_status, "{code:?}");
        }
    }
}

//! The JSON API's `DecideTicket` under load: the same questions as the gRPC phase, posted as
//! proto3 JSON over HTTP/1.1 with keep-alive, so its rate can be set against the gRPC rate.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;

use super::calls::decide_request;
use crate::pb;

/// A client of one server's JSON API: its address, the token, and a pool of connections.
#[derive(Clone)]
pub struct JsonClient {
    client: Client<HttpConnector, Full<Bytes>>,
    decide_uri: http::Uri,
    authorization: Option<http::HeaderValue>,
}

impl JsonClient {
    /// A client of the JSON API at `base` (`http://HOST:PORT`).
    pub fn new(base: &str, token: Option<&str>) -> Result<JsonClient, String> {
        if !base.starts_with("http://") {
            return Err(format!("--http {base:?}: give the JSON API's address as http://HOST:PORT"));
        }
        let decide_uri = format!("{}/v1/TicketService/DecideTicket", base.trim_end_matches('/'))
            .parse()
            .map_err(|error| format!("--http {base:?}: {error}"))?;
        let authorization = token
            .map(|token| http::HeaderValue::from_str(&format!("Bearer {token}")))
            .transpose()
            .map_err(|_| "the token cannot travel in an HTTP header".to_owned())?;
        let mut connector = HttpConnector::new();
        // As the gRPC client does: small requests must not wait for the peer's delayed ACK.
        connector.set_nodelay(true);
        let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Ok(JsonClient { client, decide_uri, authorization })
    }
}

/// One `DecideTicket` in JSON, the question `decide_call` asks for the same `call_idx`.
pub async fn json_decide_call(client: JsonClient, call_idx: u64, now: i64) -> Result<(), tonic::Code> {
    let body = pb::to_json(&decide_request(call_idx, now), "DecideTicketRequest");
    let mut request = http::Request::post(client.decide_uri.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| tonic::Code::Internal)?;
    if let Some(authorization) = &client.authorization {
        request.headers_mut().insert(http::header::AUTHORIZATION, authorization.clone());
    }
    let response = client.client.request(request).await.map_err(|_| tonic::Code::Unavailable)?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|_| tonic::Code::Unavailable)?.to_bytes();
    if status == http::StatusCode::OK {
        return Ok(());
    }
    // A refusal is counted by the code of its google.rpc.Status body.
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|status| status["code"].as_i64())
        .and_then(|code| i32::try_from(code).ok())
        .map_or(tonic::Code::Unknown, tonic::Code::from_i32);
    Err(code)
}

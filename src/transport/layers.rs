//! Tower layers in front of every service: authentication (client certificates, bearer tokens
//! and roles, with request IDs) and load shedding (a bounded number of calls in flight,
//! RESOURCE_EXHAUSTED for the rest; a handler that panics answers INTERNAL).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Semaphore;
use tonic::Status;
use tower::{Layer, Service};

/// What both layers here share as services: they answer what the wrapped service `inner` answers,
/// box their future, and are ready when `inner` is.
macro_rules! wrapping_service_items {
    ($body:ty) => {
        type Response = http::Response<$body>;
        type Error = S::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

        fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.inner.poll_ready(context)
        }
    };
}

/// Admits at most `max_in_flight` calls at once across all connections.
#[derive(Clone)]
pub struct ShedLoadLayer {
    permits: Arc<Semaphore>,
}

impl ShedLoadLayer {
    pub fn new(max_in_flight: usize) -> ShedLoadLayer {
        ShedLoadLayer { permits: Arc::new(Semaphore::new(max_in_flight.max(1))) }
    }
}

impl<S> Layer<S> for ShedLoadLayer {
    type Service = ShedLoad<S>;

    fn layer(&self, inner: S) -> ShedLoad<S> {
        ShedLoad { inner, permits: self.permits.clone() }
    }
}

#[derive(Clone)]
pub struct ShedLoad<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S, Request, ResponseBody> Service<Request> for ShedLoad<S>
where
    S: Service<Request, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
    ResponseBody: Default + Send + 'static,
{
    wrapping_service_items!(ResponseBody);

    fn call(&mut self, request: Request) -> Self::Future {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let call = CatchPanic(Box::pin(self.inner.call(request)));
                Box::pin(async move {
                    let response = call.await;
                    drop(permit);
                    response
                })
            }
            Err(_) => {
                let shed =
                    Status::resource_exhausted("the server is at its limit of calls in flight; retry with backoff");
                Box::pin(async move { Ok(shed.into_http()) })
            }
        }
    }
}

/// Turns a panic in a call's handler into INTERNAL for that call alone, logged, instead of a
/// reset connection that takes every other call on it down too.
struct CatchPanic<F>(Pin<Box<F>>);

impl<F, ResponseBody, Error> Future for CatchPanic<F>
where
    F: Future<Output = Result<http::Response<ResponseBody>, Error>>,
    ResponseBody: Default,
{
    type Output = Result<http::Response<ResponseBody>, Error>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(context))) {
            Ok(poll) => poll,
            Err(_) => {
                tracing::error!("a call's handler panicked; answered INTERNAL");
                Poll::Ready(Ok(Status::internal("internal error").into_http()))
            }
        }
    }
}

/// What the authentication layer learnt about a call, for the handlers: who is calling, the
/// method, and the request ID (the caller's `x-request-id`, or a new one).
#[derive(Clone, Debug)]
pub struct CallContext {
    /// `token:<name>` or `certificate:<subject>`; empty for the open services.
    pub caller: Arc<str>,
    pub rpc: String,
    pub request_id: String,
}

/// The actor an audited write is made by.
pub fn actor_of<T>(request: &tonic::Request<T>) -> crate::audit::Actor {
    match request.extensions().get::<CallContext>() {
        Some(context) => crate::audit::Actor {
            caller: context.caller.to_string(),
            rpc: context.rpc.clone(),
            request_id: context.request_id.clone(),
        },
        // Every service sits behind the authentication layer; this is only for a handler
        // driven without it.
        None => crate::audit::Actor { caller: "unknown".into(), rpc: String::new(), request_id: String::new() },
    }
}

/// The header a caller may set to correlate its calls with the audit trail; echoed back.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request ID accepted from a caller; a longer or odd one is replaced.
const MAX_REQUEST_ID_BYTES: usize = 64;

/// Makes request IDs unique across replicas: a random prefix per process, then a counter.
struct RequestIds {
    prefix: String,
    next: std::sync::atomic::AtomicU64,
}

impl RequestIds {
    fn new() -> RequestIds {
        let mut random = [0u8; 6];
        let seeded = std::fs::File::open("/dev/urandom")
            .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut random))
            .is_ok();
        if !seeded {
            // Unique enough without /dev/urandom: the process and the start time.
            let nanos = crate::clock::now().as_nanosecond();
            let mixed = u64::from(std::process::id()) << 32 ^ nanos as u64;
            random.copy_from_slice(&mixed.to_le_bytes()[..6]);
        }
        RequestIds {
            prefix: random.iter().map(|byte| format!("{byte:02x}")).collect(),
            next: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// The caller's ID when it is a sensible one, else a new one.
    fn for_request(&self, sent: Option<&http::HeaderValue>) -> String {
        let sent = sent.and_then(|value| value.to_str().ok()).filter(|value| {
            !value.is_empty()
                && value.len() <= MAX_REQUEST_ID_BYTES
                && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(&byte))
        });
        match sent {
            Some(value) => value.to_owned(),
            None => {
                let number = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                format!("{}-{number:010}", self.prefix)
            }
        }
    }
}

/// The token of an `authorization` header of the Bearer scheme, whose name is
/// case-insensitive (RFC 7235): `Bearer t`, `bearer t` and `BEARER t` alike.
fn bearer_token(value: &str) -> Option<&str> {
    const SCHEME: &str = "bearer";
    let (scheme, rest) = (value.get(..SCHEME.len())?, &value[SCHEME.len()..]);
    if !scheme.eq_ignore_ascii_case(SCHEME) || !rest.starts_with(' ') {
        return None;
    }
    Some(rest.trim()).filter(|token| !token.is_empty())
}

/// Refuses calls that present neither a configured client certificate nor a known bearer token
/// (UNAUTHENTICATED), or whose caller's role may not make them (PERMISSION_DENIED). Health and
/// reflection are open. Every call that reaches this layer (all but those shed for load) gets a
/// request ID, echoed in the `x-request-id` response header; admitted calls carry a `CallContext`.
#[derive(Clone)]
pub struct AuthLayer {
    tokens: Arc<crate::auth::TokenTable>,
    request_ids: Arc<RequestIds>,
    open_caller: Arc<str>,
}

impl AuthLayer {
    pub fn new(tokens: crate::auth::TokenTable) -> AuthLayer {
        AuthLayer { tokens: Arc::new(tokens), request_ids: Arc::new(RequestIds::new()), open_caller: Arc::from("") }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate {
            inner,
            tokens: self.tokens.clone(),
            request_ids: self.request_ids.clone(),
            open_caller: self.open_caller.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Authenticate<S> {
    inner: S,
    tokens: Arc<crate::auth::TokenTable>,
    request_ids: Arc<RequestIds>,
    /// The caller of the open services (health, reflection): nobody in particular.
    open_caller: Arc<str>,
}

/// The verified client certificate of the call's TLS connection, if it presented one.
fn peer_certificate<B>(request: &http::Request<B>) -> Option<crate::auth::PresentedCertificate> {
    use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
    // A JSON call carries its connection's certificate itself (see `http`); a gRPC call's is
    // tonic's connection info.
    let leaf = match request.extensions().get::<super::http::VerifiedPeerCertificate>() {
        Some(verified) => verified.0.clone(),
        None => request.extensions().get::<TlsConnectInfo<TcpConnectInfo>>()?.peer_certs()?.first()?.clone(),
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
    let subject = parsed.subject();
    let common_name = subject.iter_common_name().next().and_then(|name| name.as_str().ok()).map(str::to_owned);
    Some(crate::auth::PresentedCertificate { subject: subject.to_string(), common_name })
}

fn with_request_id<B>(mut response: http::Response<B>, request_id: &str) -> http::Response<B> {
    if let Ok(value) = http::HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

impl<S, RequestBody, ResponseBody> Service<http::Request<RequestBody>> for Authenticate<S>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
    ResponseBody: Default + Send + 'static,
{
    wrapping_service_items!(ResponseBody);

    fn call(&mut self, mut request: http::Request<RequestBody>) -> Self::Future {
        // The method as the audit trail names it; the access rules read it with or without
        // the path's leading slash.
        let rpc = request.uri().path().trim_start_matches('/').to_owned();
        let path = rpc.as_str();
        let request_id = self.request_ids.for_request(request.headers().get(REQUEST_ID_HEADER));
        let admitted = if crate::auth::is_open(path) {
            Ok(self.open_caller.clone())
        } else {
            let token = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(bearer_token);
            let certificate = if self.tokens.accepts_certificates() { peer_certificate(&request) } else { None };
            self.tokens.authorise_call(certificate.as_ref(), token, path)
        };
        match admitted {
            Ok(caller) => {
                request.extensions_mut().insert(CallContext { caller, rpc, request_id: request_id.clone() });
                let call = self.inner.call(request);
                Box::pin(async move { call.await.map(|response| with_request_id(response, &request_id)) })
            }
            Err(crate::auth::Refusal::Unauthenticated) => {
                let refused = Status::unauthenticated("send a known token as `authorization: Bearer <token>`");
                Box::pin(async move { Ok(with_request_id(refused.into_http(), &request_id)) })
            }
            Err(crate::auth::Refusal::PermissionDenied { caller, role }) => {
                tracing::info!(caller.name = %caller, caller.role = role.name(), rpc = %path, request.id = %request_id, "call refused for its role");
                let refused = Status::permission_denied(format!("role {} may not call /{path}", role.name()));
                Box::pin(async move { Ok(with_request_id(refused.into_http(), &request_id)) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_request_id_is_the_prefix_and_a_number_of_at_least_ten_digits() {
        let ids = RequestIds::new();
        assert_eq!(ids.prefix.len(), 12);
        assert_eq!(ids.for_request(None), format!("{}-0000000001", ids.prefix));
        assert_eq!(ids.for_request(None), format!("{}-0000000002", ids.prefix));
        for number in [9_999_999_999, 12_345_678_901, u64::MAX] {
            ids.next.store(number, std::sync::atomic::Ordering::Relaxed);
            assert_eq!(ids.for_request(None), format!("{}-{number:010}", ids.prefix));
        }
        let sent = http::HeaderValue::from_static("wfm-run-7");
        assert_eq!(ids.for_request(Some(&sent)), "wfm-run-7");
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        let cases = [
            ("Bearer t0k", Some("t0k")),
            ("bearer t0k", Some("t0k")),
            ("BEARER t0k", Some("t0k")),
            ("bEaReR   t0k ", Some("t0k")),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearert0k", None),
            ("Basic dXNlcjpwYXNz", None),
            ("", None),
            ("Béarer t0k", None),
        ];
        for (header, token) in cases {
            assert_eq!(bearer_token(header), token, "{header:?}");
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_internal() {
        let handler = async {
            if std::hint::black_box(true) {
                panic!("handler bug");
            }
            Ok::<http::Response<String>, ()>(http::Response::new(String::new()))
        };
        let response = CatchPanic(Box::pin(handler)).await.expect("an answer, not an error");
        let code = response.headers().get("grpc-status").expect("a gRPC status");
        assert_eq!(code, "13", "INTERNAL");
    }
}

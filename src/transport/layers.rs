//! Tower layers in front of every service: authentication (bearer tokens and roles) and load
//! shedding (a bounded number of calls in flight, RESOURCE_EXHAUSTED for the rest).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Semaphore;
use tonic::Status;
use tower::{Layer, Service};

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
    type Response = http::Response<ResponseBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let call = self.inner.call(request);
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

/// Refuses calls without a known bearer token (UNAUTHENTICATED), or whose token's role may not
/// make them (PERMISSION_DENIED). Health and reflection are open.
#[derive(Clone)]
pub struct AuthLayer {
    tokens: Arc<crate::auth::TokenTable>,
}

impl AuthLayer {
    pub fn new(tokens: crate::auth::TokenTable) -> AuthLayer {
        AuthLayer { tokens: Arc::new(tokens) }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate { inner, tokens: self.tokens.clone() }
    }
}

#[derive(Clone)]
pub struct Authenticate<S> {
    inner: S,
    tokens: Arc<crate::auth::TokenTable>,
}

impl<S, RequestBody, ResponseBody> Service<http::Request<RequestBody>> for Authenticate<S>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
    ResponseBody: Default + Send + 'static,
{
    type Response = http::Response<ResponseBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let path = request.uri().path().to_owned();
        if crate::auth::is_open(&path) {
            return Box::pin(self.inner.call(request));
        }
        let token = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim);
        match self.tokens.authorise(token, &path) {
            Ok(_caller) => Box::pin(self.inner.call(request)),
            Err(crate::auth::Refusal::Unauthenticated) => {
                let refused = Status::unauthenticated("send a known token as `authorization: Bearer <token>`");
                Box::pin(async move { Ok(refused.into_http()) })
            }
            Err(crate::auth::Refusal::PermissionDenied { caller, role }) => {
                tracing::info!(caller.name = %caller, caller.role = role.name(), rpc = %path, "call refused for its role");
                let refused = Status::permission_denied(format!("role {} may not call {path}", role.name()));
                Box::pin(async move { Ok(refused.into_http()) })
            }
        }
    }
}

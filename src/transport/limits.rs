//! Load shedding: a bounded number of calls in flight, and an immediate RESOURCE_EXHAUSTED for
//! the rest instead of a queue that grows without bound.

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

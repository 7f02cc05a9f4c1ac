//! Prometheus metrics: calls, latency and status per method, snapshot age and size, and the tz
//! database version, served as text on their own address (`metrics.listen`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant as WallClock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tower::{Layer, Service};

use crate::app::App;
use crate::domain::time::tz_database_version;

/// The process-wide recorder; installed once, whatever number of servers a process runs.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (a host process); then ours just renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Records every call: count by method and gRPC status, and latency by method.
#[derive(Clone, Default)]
pub struct CallMetricsLayer;

impl<S> Layer<S> for CallMetricsLayer {
    type Service = CallMetrics<S>;

    fn layer(&self, inner: S) -> CallMetrics<S> {
        handle();
        CallMetrics { inner }
    }
}

#[derive(Clone)]
pub struct CallMetrics<S> {
    inner: S,
}

impl<S, RequestBody, ResponseBody> Service<http::Request<RequestBody>> for CallMetrics<S>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let method = request.uri().path().trim_start_matches('/').to_owned();
        let started = WallClock::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await;
            // A failed call carries its status in the headers; a successful one in trailers.
            let code = match &response {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<i32>().ok())
                    .map_or_else(|| "Ok".to_owned(), |code| format!("{:?}", tonic::Code::from(code))),
                Err(_) => "TransportError".to_owned(),
            };
            metrics::counter!("eea_coverage_calls_total", "method" => method.clone(), "code" => code).increment(1);
            metrics::histogram!("eea_coverage_call_duration_seconds", "method" => method)
                .record(started.elapsed().as_secs_f64());
            response
        })
    }
}

/// Serves `GET /metrics` (any path, in fact) on `listener` until the process ends.
pub async fn serve_metrics(listener: TcpListener, app: Arc<App>) {
    loop {
        let Ok((mut connection, _)) = listener.accept().await else { continue };
        // As on the gRPC listener: a small answer must not wait for the peer's delayed ACK.
        let _ = connection.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let _ = connection.read(&mut request).await;
            let snapshot = app.snapshot();
            metrics::gauge!("eea_coverage_snapshot_age_seconds").set(app.snapshot_age().as_secs_f64());
            metrics::gauge!("eea_coverage_snapshot_agents").set(snapshot.n_agents() as f64);
            metrics::gauge!("eea_coverage_snapshot_shifts").set(snapshot.n_shifts() as f64);
            metrics::gauge!("eea_coverage_database_reachable").set(if app.database_reachable() { 1.0 } else { 0.0 });
            metrics::gauge!("eea_coverage_tz_database_info", "version" => tz_database_version()).set(1.0);
            let body = handle().render();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = connection.write_all(response.as_bytes()).await;
            let _ = connection.shutdown().await;
        });
    }
}

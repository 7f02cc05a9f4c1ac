//! Prometheus metrics: calls, latency and status per method, snapshot age and size, and the tz
//! database version, served as text on their own address (`metrics.listen`).

use std::collections::HashMap;
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

/// How often the recorder folds the latency samples recorded since into its summaries. Until
/// then each call's sample is held: without this, a server nobody scrapes grows by every call it
/// answers (about 7 MB a second at 40,000 calls a second).
const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// Folds recorded samples into the summaries every `UPKEEP_INTERVAL`, until the server stops.
pub async fn keep_up() {
    let mut ticks = tokio::time::interval(UPKEEP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        handle().run_upkeep();
    }
}

/// Records every call: count by method and gRPC status, and latency by method.
#[derive(Clone, Default)]
pub struct CallMetricsLayer;

impl<S> Layer<S> for CallMetricsLayer {
    type Service = CallMetrics<S>;

    fn layer(&self, inner: S) -> CallMetrics<S> {
        handle();
        CallMetrics { inner, methods: known_methods() }
    }
}

#[derive(Clone)]
pub struct CallMetrics<S> {
    inner: S,
    methods: &'static HashMap<String, MethodMetrics>,
}

/// The highest gRPC status code; a `grpc-status` above it counts as `Unknown`, as tonic reads it.
const MAX_CODE: usize = 16;

/// One method's metric handles, each registered on its first use (so the metrics page lists
/// only what happened) and then reused: the hot path pays no label formatting or registry
/// look-up per call.
pub struct MethodMetrics {
    /// The method's label: the path without its leading slash.
    label: String,
    calls_by_code: [OnceLock<metrics::Counter>; MAX_CODE + 1],
    transport_errors: OnceLock<metrics::Counter>,
    latency: OnceLock<metrics::Histogram>,
}

impl MethodMetrics {
    fn new(path: &str) -> MethodMetrics {
        MethodMetrics {
            label: path.trim_start_matches('/').to_owned(),
            calls_by_code: std::array::from_fn(|_| OnceLock::new()),
            transport_errors: OnceLock::new(),
            latency: OnceLock::new(),
        }
    }

    fn record(&self, outcome: CallOutcome, elapsed_secs: f64) {
        let calls = match outcome {
            CallOutcome::Status(code) => &self.calls_by_code[code],
            CallOutcome::TransportError => &self.transport_errors,
        };
        calls.get_or_init(|| calls_counter(self.label.clone(), outcome.label())).increment(1);
        self.latency.get_or_init(|| latency_histogram(self.label.clone())).record(elapsed_secs);
    }
}

/// How a call ended, as its metrics count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallOutcome {
    /// A gRPC status code, 0 (`Ok`) to 16.
    Status(usize),
    TransportError,
}

impl CallOutcome {
    fn of<B, E>(response: &Result<http::Response<B>, E>) -> CallOutcome {
        match response {
            // A failed call carries its status in the headers; a successful one in trailers.
            Ok(response) => match response.headers().get("grpc-status") {
                None => CallOutcome::Status(0),
                Some(value) => {
                    let code = value.to_str().ok().and_then(|text| text.parse::<usize>().ok());
                    CallOutcome::Status(code.filter(|&code| code <= MAX_CODE).unwrap_or(tonic::Code::Unknown as usize))
                }
            },
            Err(_) => CallOutcome::TransportError,
        }
    }

    fn label(self) -> String {
        match self {
            CallOutcome::Status(code) => format!("{:?}", tonic::Code::from(code as i32)),
            CallOutcome::TransportError => "TransportError".to_owned(),
        }
    }
}

fn calls_counter(method: String, code: String) -> metrics::Counter {
    metrics::counter!("eea_coverage_calls_total", "method" => method, "code" => code)
}

fn latency_histogram(method: String) -> metrics::Histogram {
    metrics::histogram!("eea_coverage_call_duration_seconds", "method" => method)
}

/// Every method the server serves (this package's, health and both reflection versions), by
/// path. Read from the descriptor sets, so a new RPC is counted without a change here.
fn known_methods() -> &'static HashMap<String, MethodMetrics> {
    static METHODS: OnceLock<HashMap<String, MethodMetrics>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let descriptor_sets = [
            crate::pb::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ];
        let mut methods = HashMap::new();
        for encoded in descriptor_sets {
            let Ok(set) = <prost_types::FileDescriptorSet as prost::Message>::decode(encoded) else { continue };
            for file in &set.file {
                for service in &file.service {
                    for method in &service.method {
                        let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                        methods.insert(path.clone(), MethodMetrics::new(&path));
                    }
                }
            }
        }
        methods
    })
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
        let known = self.methods.get(request.uri().path());
        // A path the server does not serve (answered UNIMPLEMENTED) is counted under its own
        // name, as every call is.
        let unknown_path = known.is_none().then(|| request.uri().path().to_owned());
        let started = WallClock::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await;
            let (outcome, elapsed_secs) = (CallOutcome::of(&response), started.elapsed().as_secs_f64());
            match (known, unknown_path) {
                (Some(method), _) => method.record(outcome, elapsed_secs),
                (None, Some(path)) => MethodMetrics::new(&path).record(outcome, elapsed_secs),
                (None, None) => {}
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_method_is_known_by_its_path() {
        let methods = known_methods();
        for path in [
            "/eeacoverage.v1.TicketService/DecideTicket",
            "/eeacoverage.v1.RosterService/SyncShifts",
            "/grpc.health.v1.Health/Check",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            let method = methods.get(path).unwrap_or_else(|| panic!("{path} is not known"));
            assert_eq!(method.label, path[1..]);
        }
        assert!(!methods.contains_key("/eeacoverage.v1.TicketService/NoSuchCall"));
    }

    #[test]
    fn a_call_is_counted_under_its_status_code() {
        let with_status = |status: Option<&str>| {
            let mut response = http::Response::new(());
            if let Some(status) = status {
                response.headers_mut().insert("grpc-status", http::HeaderValue::from_str(status).unwrap());
            }
            CallOutcome::of::<(), ()>(&Ok(response))
        };
        assert_eq!(with_status(None), CallOutcome::Status(0));
        assert_eq!(with_status(Some("5")), CallOutcome::Status(5));
        assert_eq!(with_status(Some("16")), CallOutcome::Status(16));
        assert_eq!(with_status(Some("17")), CallOutcome::Status(2), "beyond the codes: Unknown");
        assert_eq!(with_status(Some("x")), CallOutcome::Status(2));
        assert_eq!(CallOutcome::of::<(), ()>(&Err(())), CallOutcome::TransportError);
        assert_eq!(CallOutcome::Status(5).label(), "NotFound");
        assert_eq!(CallOutcome::Status(0).label(), "Ok");
    }
}

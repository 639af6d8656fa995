//! `/metrics`: the process-wide Prometheus recorder and the per-request
//! counters and histograms every service gets from [`instrument`].

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::health::Readiness;

/// Requests answered, by `service`, `route` (the route's pattern, not the
/// path, so that the label set stays bounded) and `status`.
pub const REQUESTS: &str = "keyless_http_requests_total";
/// Time from request to response head, in seconds, by the same labels.
pub const DURATION: &str = "keyless_http_request_duration_seconds";

/// Histogram buckets for request latencies (seconds): sub-millisecond
/// reads up to multi-second batched appends.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed as the `metrics` facade's
/// global recorder on first use. Every service of the process (one, or
/// all of them under `keyless server --dev`) shares it; the `service`
/// label tells them apart. If another recorder was installed first, this
/// handle renders only what is recorded through it, i.e. nothing: the
/// metrics then go to that recorder.
pub fn prometheus_handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            // Histograms with these suffixes get buckets; the rest are
            // summaries.
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Suffix("_batch_size".into()),
                    &[
                        1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
                    ],
                )
            })
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        handle
    })
}

/// The current values in the Prometheus text format (version 0.0.4).
pub fn render_metrics() -> String {
    let handle = prometheus_handle();
    // Folds histogram samples recorded since the last call into the
    // buckets; cheap, and keeps memory bounded between scrapes.
    handle.run_upkeep();
    handle.render()
}

/// `app` with request metrics recorded under `service`, and with
/// `/metrics`, `/healthz` and `/readyz` answered in front of it (these
/// shadow the app's own routes of the same paths and are not counted).
pub fn instrument(app: Router, service: &'static str, ready: Readiness) -> Router {
    // Installing here, before the first request, so that what the service
    // records from its first request on is kept.
    prometheus_handle();
    let app = app.route_layer(axum::middleware::from_fn(
        move |req: Request, next: Next| track(service, req, next),
    ));
    Router::new()
        .route(
            "/metrics",
            get(|| async {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    render_metrics(),
                )
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(move || ready.clone().check()))
        .fallback_service(app)
}

async fn track(service: &'static str, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // route_layer runs after routing, so every request here has a pattern.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let response = next.run(req).await.into_response();
    let status = response.status().as_str().to_owned();
    let labels = [
        ("service", service.to_owned()),
        ("route", route),
        ("status", status),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}

//! Shared by the tests: a small instrumented service on loopback, and a
//! Prometheus text-format reader.

#![allow(dead_code)]

use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::Router;
use keyless_serve::{Readiness, TlsFiles};

/// A service with a parameterized route, so that the route label must be
/// the pattern and not the path.
pub fn app() -> Router {
    Router::new()
        .route("/api/v1/entries/{id}", get(|| async { "entry" }))
        .route(
            "/api/v1/fail",
            post(|| async { (axum::http::StatusCode::BAD_REQUEST, "no") }),
        )
}

/// Serve `app()` as `service` on a random loopback port.
pub async fn start(
    service: &'static str,
    ready: Readiness,
    tls: Option<TlsFiles>,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = keyless_serve::instrument(app(), service, ready);
    // Load now, so that a bad certificate fails the test and not a task.
    if let Some(tls) = &tls {
        tls.load()?;
    }
    tokio::spawn(async move {
        let _ = keyless_serve::serve(listener, app, tls.as_ref(), std::future::pending()).await;
    });
    Ok(addr)
}

/// The sum of the samples `name` whose labels include all of `labels`
/// (0 when there is none), the scrape read as Prometheus reads it.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> anyhow::Result<f64> {
    Ok(keyless_serve::scrape::sum(
        &keyless_serve::scrape::parse(text)?,
        name,
        labels,
    ))
}

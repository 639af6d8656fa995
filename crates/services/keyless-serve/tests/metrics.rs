//! /metrics, /healthz and /readyz over real HTTP, the scrape parsed as
//! Prometheus parses it.

mod support;

use keyless_serve::Readiness;
use support::{sample, start};

#[tokio::test]
async fn requests_are_counted_by_route_and_status() -> anyhow::Result<()> {
    let addr = start("test-svc", Readiness::always(), None).await?;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let count = |text: &str, status: &str| {
        sample(
            text,
            "keyless_http_requests_total",
            &[
                ("service", "test-svc"),
                ("route", "/api/v1/entries/{id}"),
                ("status", status),
            ],
        )
    };
    let before = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let before_ok = count(&before, "200")?;
    for i in 0..3 {
        let r = http
            .get(format!("{base}/api/v1/entries/{i}"))
            .send()
            .await?;
        assert_eq!(r.status(), 200);
    }
    let r = http.post(format!("{base}/api/v1/fail")).send().await?;
    assert_eq!(r.status(), 400);

    let resp = http.get(format!("{base}/metrics")).send().await?;
    assert_eq!(resp.status(), 200);
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let after = resp.text().await?;
    assert_eq!(count(&after, "200")? - before_ok, 3.0, "{after}");
    let failed = sample(
        &after,
        "keyless_http_requests_total",
        &[
            ("service", "test-svc"),
            ("route", "/api/v1/fail"),
            ("status", "400"),
        ],
    )?;
    assert!(failed >= 1.0, "{after}");
    // One label set per route pattern, never per path.
    assert!(!after.contains("/api/v1/entries/1"), "{after}");
    // The latency histogram has buckets and counted the three requests.
    let observed = sample(
        &after,
        "keyless_http_request_duration_seconds_count",
        &[
            ("service", "test-svc"),
            ("route", "/api/v1/entries/{id}"),
            ("status", "200"),
        ],
    )?;
    assert!(observed >= 3.0, "{after}");
    assert!(
        after.contains("keyless_http_request_duration_seconds_bucket"),
        "{after}"
    );
    // /metrics itself is not counted.
    assert!(!after.contains("route=\"/metrics\""), "{after}");
    Ok(())
}

#[tokio::test]
async fn healthz_and_readyz() -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let ok = start("ready-svc", Readiness::always(), None).await?;
    let r = http.get(format!("http://{ok}/healthz")).send().await?;
    assert_eq!(r.status(), 200);
    let r = http.get(format!("http://{ok}/readyz")).send().await?;
    assert_eq!(r.status(), 200);

    let down = start(
        "unready-svc",
        Readiness::new(|| Err("storage unreachable".into())),
        None,
    )
    .await?;
    let r = http.get(format!("http://{down}/healthz")).send().await?;
    assert_eq!(r.status(), 200, "alive even when not ready");
    let r = http.get(format!("http://{down}/readyz")).send().await?;
    assert_eq!(r.status(), 503);
    assert!(r.text().await?.contains("storage unreachable"));
    Ok(())
}

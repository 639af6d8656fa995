//! Outbound OIDC fetches are bounded: concurrent requests naming one
//! issuer cause one discovery fetch, a failure is remembered for
//! `TokenPolicy::negative_ttl`, and every fetch is time-limited and
//! size-capped. The issuer here is a fake on 127.0.0.1 that counts the
//! discovery requests it gets.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use keyless_ca::{CaConfig, CaState, IssuersSource};
use keyless_crypto::{KeyAlgorithm, SigningKey};
use serde_json::{json, Value};
use support::*;

/// How the fake issuer answers discovery.
#[derive(Clone, Copy)]
enum Mode {
    /// After `delay`, HTTP 500.
    Fail { delay: Duration },
    /// A 2 MiB discovery document.
    Huge,
}

/// Serve the fake issuer; returns its URL and the request counter. Every
/// path answers as discovery, so `<url>/any/path` is an issuer too.
async fn fake_issuer(mode: Mode) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            match mode {
                Mode::Fail { delay } => {
                    tokio::time::sleep(delay).await;
                    (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "down".to_string(),
                    )
                }
                Mode::Huge => (
                    axum::http::StatusCode::OK,
                    format!("{{\"pad\": \"{}\"}}", "A".repeat(2 << 20)),
                ),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

/// A CA (over HTTP) whose only issuer is `issuer`.
async fn ca_for(issuer: &str, negative_ttl: Duration, http_timeout: Duration) -> String {
    ca_for_all(&[issuer.to_string()], |p| {
        p.negative_ttl = negative_ttl;
        p.http_timeout = http_timeout;
    })
    .await
}

/// A CA (over HTTP) for these issuers, with its token policy adjusted.
async fn ca_for_all(
    issuers: &[String],
    adjust: impl FnOnce(&mut keyless_ca::TokenPolicy),
) -> String {
    let map: serde_json::Map<String, Value> = issuers
        .iter()
        .map(|i| {
            (
                i.clone(),
                json!({"IssuerURL": i, "ClientID": "sigstore", "Type": "email"}),
            )
        })
        .collect();
    let issuers = serde_json::from_value(json!({ "OIDCIssuers": map })).unwrap();
    let mut config = CaConfig::new(
        temp_dir("oidc-fetch").join("ca"),
        IssuersSource::Inline(issuers),
    );
    adjust(&mut config.token_policy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let ca = CaState::new(&config, &url).unwrap();
    tokio::spawn(async move { axum::serve(listener, keyless_ca::router(ca)).await });
    url
}

/// A token naming `issuer`; its signature is never reached.
fn token(issuer: &str) -> String {
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let t = now();
    format!(
        "{}.{}.AAAA",
        enc(json!({"alg": "ES256", "kid": "k1"})),
        enc(
            json!({"iss": issuer, "aud": "sigstore", "sub": "a@b.test", "email": "a@b.test", "email_verified": true, "iat": t, "exp": t + 600})
        )
    )
}

/// Ask for a certificate; the status and the error message.
async fn request(ca: &str, issuer: &str) -> (u16, String) {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{ca}/api/v2/signingCert"))
        .json(&v2_body(&token(issuer), &key, "a@b.test"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    (
        status,
        body["message"].as_str().unwrap_or_default().to_string(),
    )
}

async fn concurrent(ca: &str, issuer: &str, n: usize) -> Vec<(u16, String)> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (ca, issuer) = (ca.to_string(), issuer.to_string());
            tokio::spawn(async move { request(&ca, &issuer).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_for_a_failing_issuer_fetch_once() {
    let (issuer, hits) = fake_issuer(Mode::Fail {
        delay: Duration::from_millis(300),
    })
    .await;
    let ca = ca_for(&issuer, Duration::from_secs(60), Duration::from_secs(5)).await;
    for (status, message) in concurrent(&ca, &issuer, 16).await {
        assert_eq!(status, 503, "{message}");
        assert!(
            message.contains("OIDC discovery or JWKS fetch") && message.contains("HTTP 500"),
            "{message}"
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "16 concurrent requests, one fetch"
    );
    // Within the negative-cache window: the same answer, no new fetch.
    for _ in 0..5 {
        let (status, message) = request(&ca, &issuer).await;
        assert_eq!(status, 503);
        assert!(message.contains("HTTP 500"), "{message}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "failure remembered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_issuer_is_cut_off_and_retried_only_after_the_window() {
    let (issuer, hits) = fake_issuer(Mode::Fail {
        delay: Duration::from_secs(30),
    })
    .await;
    let negative_ttl = Duration::from_millis(1500);
    let ca = ca_for(&issuer, negative_ttl, Duration::from_millis(300)).await;
    let start = Instant::now();
    for (status, message) in concurrent(&ca, &issuer, 8).await {
        assert_eq!(status, 503, "{message}");
    }
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "time-limited: {:?}",
        start.elapsed()
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "8 concurrent requests, one fetch"
    );
    let (status, _) = request(&ca, &issuer).await;
    assert_eq!(status, 503);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "within the window: no fetch"
    );
    // After the window the issuer is tried again (once).
    tokio::time::sleep(negative_ttl + Duration::from_millis(200)).await;
    for (status, _) in concurrent(&ca, &issuer, 4).await {
        assert_eq!(status, 503);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "one new fetch after the window"
    );
}

#[tokio::test]
async fn oversized_discovery_documents_are_refused() {
    let (issuer, hits) = fake_issuer(Mode::Huge).await;
    let ca = ca_for(&issuer, Duration::from_secs(60), Duration::from_secs(5)).await;
    let (status, message) = request(&ca, &issuer).await;
    assert_eq!(status, 503, "{message}");
    assert!(message.contains("larger than 1048576 bytes"), "{message}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// Coalescing is per issuer; over all issuers (meta-issuers match many
/// URLs) at most `max_fetches_in_flight` fetches run at once, and the
/// requests past it are refused at once rather than queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_over_all_issuers_are_capped() {
    let (base, hits) = fake_issuer(Mode::Fail {
        delay: Duration::from_millis(1500),
    })
    .await;
    let issuers: Vec<String> = (0..6).map(|i| format!("{base}/issuer{i}")).collect();
    let ca = ca_for_all(&issuers, |p| {
        p.max_fetches_in_flight = 2;
        p.negative_ttl = Duration::from_secs(60);
    })
    .await;
    let tasks: Vec<_> = issuers
        .iter()
        .map(|i| {
            let (ca, issuer) = (ca.clone(), i.clone());
            tokio::spawn(async move { request(&ca, &issuer).await })
        })
        .collect();
    let mut refused_at_once = 0;
    for t in tasks {
        let (status, message) = t.await.unwrap();
        assert_eq!(status, 503, "{message}");
        if message.contains("already in flight") {
            refused_at_once += 1;
        } else {
            assert!(message.contains("HTTP 500"), "{message}");
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 2, "two fetches, the cap");
    assert_eq!(refused_at_once, 4);
    // Those refusals were not remembered as the issuers' failures: once
    // the fetches are done, an issuer that was refused is fetched.
    let fetched_before = hits.load(Ordering::SeqCst);
    let mut fetched_now = 0;
    for i in &issuers {
        let (status, message) = request(&ca, i).await;
        assert_eq!(status, 503, "{message}");
        assert!(message.contains("HTTP 500"), "{message}");
        fetched_now = hits.load(Ordering::SeqCst) - fetched_before;
    }
    assert_eq!(
        fetched_now, 4,
        "the four refused issuers fetched once each; the two failed ones remembered"
    );
}

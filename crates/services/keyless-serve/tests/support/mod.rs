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

/// One sample line of the Prometheus text format (version 0.0.4).
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// Parse a scrape: `# HELP`/`# TYPE` comments, then lines of
/// `name{label="value",...} value [timestamp]`, label values escaped with
/// `\\`, `\"` and `\n`. Anything else is an error, so that output Prometheus
/// would reject fails the test. (`prometheus-parse` cannot read a `}` inside
/// a label value, which route patterns such as `/entries/{id}` contain.)
pub fn parse(text: &str) -> anyhow::Result<Vec<Sample>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            if words.next() == Some("TYPE") {
                let kind = words.nth(1).unwrap_or_default();
                anyhow::ensure!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "bad TYPE line {line:?}"
                );
            }
            continue;
        }
        let name_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(line.len());
        let name = &line[..name_end];
        anyhow::ensure!(!name.is_empty(), "no metric name in {line:?}");
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(mut r) = rest.strip_prefix('{') {
            loop {
                if let Some(after) = r.strip_prefix('}') {
                    r = after;
                    break;
                }
                let eq = r
                    .find('=')
                    .ok_or_else(|| anyhow::anyhow!("bad labels in {line:?}"))?;
                let key = r[..eq].trim_start_matches(',').to_owned();
                let mut chars = r[eq + 1..].char_indices();
                anyhow::ensure!(
                    matches!(chars.next(), Some((_, '"'))),
                    "unquoted label in {line:?}"
                );
                let mut value = String::new();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, e @ ('\\' | '"'))) => value.push(e),
                            _ => anyhow::bail!("bad escape in {line:?}"),
                        },
                        '"' => {
                            end = Some(eq + 1 + i + 1);
                            break;
                        }
                        c => value.push(c),
                    }
                }
                let end = end.ok_or_else(|| anyhow::anyhow!("unterminated label in {line:?}"))?;
                labels.push((key, value));
                r = &r[end..];
            }
            rest = r;
        }
        let value = rest
            .split_whitespace()
            .next()
            .ok_or_else(|| anyhow::anyhow!("no value in {line:?}"))?;
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse()?,
        };
        out.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    Ok(out)
}

/// The sum of the samples `name` whose labels include all of `labels`
/// (0 when there is none).
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> anyhow::Result<f64> {
    Ok(parse(text)?
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
        })
        .map(|s| s.value)
        .sum())
}

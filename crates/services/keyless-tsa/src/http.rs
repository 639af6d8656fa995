//! RFC 3161 over HTTP (RFC 3161 §3.4 as Sigstore's timestamp-authority
//! serves it):
//!
//! - `POST /api/v1/timestamp`, body a DER TimeStampReq
//!   (`application/timestamp-query`) or the JSON form (`application/json`),
//!   answered with `application/timestamp-reply`;
//! - `GET /api/v1/timestamp/certchain`: the PEM chain, leaf first.
//!
//! Bad requests get a TimeStampResp rejection with HTTP 400 (415 for an
//! unsupported content type), internal failures a systemFailure one with
//! 500: a client always receives something it can parse.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use keyless_tsp::issue::{FailureInfo, RequestError, TimestampRequest, MAX_REQUEST_LEN};

use crate::json;
use crate::tsa::{Reply, Tsa};

pub const TIMESTAMP_PATH: &str = "/api/v1/timestamp";
pub const CERTCHAIN_PATH: &str = "/api/v1/timestamp/certchain";

const QUERY_TYPE: &str = "application/timestamp-query";
const REPLY_TYPE: &str = "application/timestamp-reply";
const JSON_TYPE: &str = "application/json";
const PEM_CHAIN_TYPE: &str = "application/pem-certificate-chain";

/// Longest Content-Type header examined (GHSA-4qg8: bounded parsing).
const MAX_CONTENT_TYPE_LEN: usize = 128;

/// The TSA's routes.
pub fn router(tsa: Arc<Tsa>) -> Router {
    Router::new()
        .route(TIMESTAMP_PATH, post(timestamp))
        .route(CERTCHAIN_PATH, get(certchain))
        .with_state(tsa)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Der,
    Json,
}

/// The media type, without parameters, lower-cased; `None` if missing,
/// oversized or not one we take.
fn form(headers: &HeaderMap) -> Option<Form> {
    let value = headers.get(header::CONTENT_TYPE)?.as_bytes();
    if value.len() > MAX_CONTENT_TYPE_LEN {
        return None;
    }
    let value = std::str::from_utf8(value).ok()?;
    let media = value.split(';').next()?.trim();
    if media.eq_ignore_ascii_case(QUERY_TYPE) {
        Some(Form::Der)
    } else if media.eq_ignore_ascii_case(JSON_TYPE) {
        Some(Form::Json)
    } else {
        None
    }
}

async fn timestamp(State(tsa): State<Arc<Tsa>>, headers: HeaderMap, body: Body) -> Response {
    let Some(form) = form(&headers) else {
        let e =
            RequestError::Transport(format!("Content-Type must be {QUERY_TYPE} or {JSON_TYPE}"));
        return reply(tsa_reject(&tsa, e), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    };
    // Read at most one byte past the limit: enough to know it is too large.
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_REQUEST_LEN + 1).await {
        Ok(b) if b.len() <= MAX_REQUEST_LEN => b,
        _ => {
            let e = RequestError::TooLarge {
                found: MAX_REQUEST_LEN + 1,
                limit: MAX_REQUEST_LEN,
            };
            return reply(tsa_reject(&tsa, e), StatusCode::PAYLOAD_TOO_LARGE);
        }
    };
    let parsed = match form {
        Form::Der => TimestampRequest::from_der(&bytes),
        Form::Json => json::parse(&bytes),
    };
    let answer = tsa.respond(parsed);
    let status = match answer.failure {
        None => StatusCode::OK,
        Some(FailureInfo::SystemFailure | FailureInfo::TimeNotAvailable) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        Some(_) => StatusCode::BAD_REQUEST,
    };
    tracing::debug!(status = status.as_u16(), "timestamp request");
    reply(answer, status)
}

fn tsa_reject(tsa: &Tsa, e: RequestError) -> Reply {
    tsa.respond(Err(e))
}

fn reply(answer: Reply, status: StatusCode) -> Response {
    if answer.der.is_empty() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(REPLY_TYPE))],
        answer.der,
    )
        .into_response()
}

async fn certchain(State(tsa): State<Arc<Tsa>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PEM_CHAIN_TYPE),
        )],
        tsa.chain_pem().to_string(),
    )
        .into_response()
}

//! What the two halves of the CT log's HTTP API share: the state they
//! serve ([`CtHttp`]) and how a [`CtError`] is answered. It lives apart
//! from both so that the write endpoints ([`crate::ct_http`], which also
//! builds the router) and the static-ct-api reads ([`crate::ct_tiles`])
//! each depend on it and never on each other.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::ct_durable::DurableCtLog;
use crate::error::CtError;

/// What the CT endpoints serve.
#[derive(Debug, Clone)]
pub struct CtHttp {
    pub log: Arc<DurableCtLog>,
    /// Largest `add-[pre-]chain` body accepted.
    pub max_body_bytes: usize,
}

/// The HTTP answer to a failed CT request: 503 when the log is
/// overloaded, 500 for the log's own failures, 413 for a body over the
/// cap and 400 for anything the client sent wrong.
pub(crate) fn ct_error(e: CtError) -> Response {
    let status = match e {
        CtError::Log(keyless_log::LogError::Overloaded(_)) => StatusCode::SERVICE_UNAVAILABLE,
        CtError::Sign(_) | CtError::Unavailable(_) | CtError::Log(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        CtError::BadRequest("request too large") => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        Json(json!({"error": crate::error::error_chain(&e)})),
    )
        .into_response()
}

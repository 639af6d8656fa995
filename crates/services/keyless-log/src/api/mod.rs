//! The HTTP surface: C2SP tlog-tiles reads, Rekor v2 and Rekor v1
//! personalities, over one axum router.
//!
//! Every error a client can cause is a 4xx with a JSON body
//! `{"code": N, "message": "..."}` and leaves the log untouched: requests
//! are parsed and their signatures verified before they reach the
//! sequencer.

mod tiles;
mod v1;
mod v2;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::catch_panic::CatchPanicLayer;

use crate::entries::EntryError;
use crate::error::LogError;
use crate::merkle::TreeError;
use crate::state::Log;

/// A request that failed, with the status and message the client gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.status.as_u16(), "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

impl From<EntryError> for ApiError {
    fn from(e: EntryError) -> Self {
        Self::bad_request(e.to_string())
    }
}

impl From<LogError> for ApiError {
    fn from(e: LogError) -> Self {
        match &e {
            LogError::Overloaded(_) | LogError::SequencerStopped => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            LogError::EntryTooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
            }
            LogError::Tree(TreeError::IndexOutOfRange { .. }) => Self::not_found(e.to_string()),
            // Reading a tile the tree keeps in storage failed: the log's fault.
            LogError::Tree(t) if !matches!(t, TreeError::Tile { .. }) => {
                Self::bad_request(e.to_string())
            }
            _ => {
                tracing::error!(error = %e, "request failed inside the log");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error in the log; see its logs",
                )
            }
        }
    }
}

/// The request body, refusing encodings we do not decode: a compressed
/// body would otherwise be parsed as garbage or, worse, inflate past the
/// size cap.
pub(crate) fn body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ApiError> {
    if let Some(enc) = headers.get(header::CONTENT_ENCODING) {
        let enc = enc.to_str().unwrap_or("?").trim();
        if !enc.eq_ignore_ascii_case("identity") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Encoding {enc:?} is not supported; send the body uncompressed"),
            ));
        }
    }
    body.map_err(|r| ApiError::new(r.status(), r.body_text()))
}

/// The log's router. Mount it at the root of the log's base URL.
pub fn router(log: Log) -> Router {
    let max_body = log.config.max_body;
    Router::new()
        .route("/checkpoint", get(tiles::checkpoint))
        .route("/tile/{*path}", get(tiles::tile))
        .route("/api/v2/checkpoint", get(tiles::checkpoint))
        .route("/api/v2/tile/{*path}", get(tiles::tile))
        .route("/api/v2/log/entries", post(v2::create))
        .route("/api/v1/log", get(v1::log_info))
        .route("/api/v1/log/publicKey", get(v1::public_key))
        .route("/api/v1/log/proof", get(v1::consistency))
        .route("/api/v1/log/entries", post(v1::create).get(v1::by_index))
        .route("/api/v1/log/entries/{uuid}", get(v1::by_uuid))
        .route("/api/v1/index/retrieve", post(v1::search))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this endpoint",
            )
        })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::Extension(std::sync::Arc::new(
            crate::search::SearchIndex::default(),
        )))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }))
        .with_state(log)
}

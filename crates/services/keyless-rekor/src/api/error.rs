//! What a client gets when a request fails ([`ApiError`]), and the body
//! check every POST handler shares; apart from the router so that the
//! handlers do not import the module that routes to them.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::entries::EntryError;
use keyless_log::{LogError, TreeError};

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
    /// The client is told the whole chain: the causes are its input's.
    fn from(e: EntryError) -> Self {
        Self::bad_request(error_chain(&e))
    }
}

/// `error: cause: cause`, each once (no `Display` here repeats its
/// source).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
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
                tracing::error!(error = %error_chain(&e), "request failed inside the log");
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
pub(super) fn body(
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

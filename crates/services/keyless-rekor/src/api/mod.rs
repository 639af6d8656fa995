//! The HTTP surface: C2SP tlog-tiles reads, Rekor v2 and Rekor v1
//! personalities, over one axum router.
//!
//! Every error a client can cause is a 4xx with a JSON body
//! `{"code": N, "message": "..."}` and leaves the log untouched: requests
//! are parsed and their signatures verified before they reach the
//! sequencer.

mod error;
mod tiles;
mod v1;
mod v2;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use keyless_log::Log;

pub use self::error::{error_chain, ApiError};
use crate::config::Limits;
use crate::search::SearchIndex;

/// The log's router with the default [`Limits`]. Mount it at the root of
/// the log's base URL.
pub fn router(log: Log) -> Router {
    router_with(log, Limits::default())
}

/// The log's router with these limits.
pub fn router_with(log: Log, limits: Limits) -> Router {
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
        .route("/api/v1/log/entries/retrieve", post(v1::retrieve))
        .route("/api/v1/index/retrieve", post(v1::search))
        // The log explorer page at `/` and its assets (keyless-explorer).
        .merge(keyless_explorer::routes())
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this endpoint",
            )
        })
        .layer(DefaultBodyLimit::max(limits.max_body))
        .layer(axum::Extension(std::sync::Arc::new(SearchIndex::new(
            limits.max_search_results,
        ))))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }))
        .with_state(log)
}

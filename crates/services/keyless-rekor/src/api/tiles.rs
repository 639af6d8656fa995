//! C2SP tlog-tiles reads: `/checkpoint`, `/tile/<L>/<N>[.p/<W>]`,
//! `/tile/entries/<N>[.p/<W>]`. Full tiles never change, so they are
//! cacheable forever; the checkpoint and partial tiles are not.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use keyless_log::Log;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

pub(super) async fn checkpoint(State(log): State<Log>) -> Response {
    let cp = log.published();
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        cp.note.clone(),
    )
        .into_response()
}

pub(super) async fn tile(
    State(log): State<Log>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let id = keyless_tlog::TileId::parse(&format!("tile/{path}"))
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    let data = tokio::task::spawn_blocking(move || log.tile(&id))
        .await
        .map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "tile read failed",
            )
        })??
        .ok_or_else(|| ApiError::not_found("the tree has no such tile"))?;
    let cache = if id.is_full() { IMMUTABLE } else { NO_CACHE };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        data,
    )
        .into_response())
}

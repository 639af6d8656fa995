//! Reading the CA's durable CT log over HTTP, as the C2SP tlog-tiles
//! read path under `/ct`: `/ct/checkpoint` (the signed note of the
//! latest committed checkpoint) and `/ct/tile/<L>/<N>[.p/<W>]`,
//! `/ct/tile/entries/<N>[.p/<W>]`. Entries are RFC 6962
//! `MerkleTreeLeaf`s in tlog-tiles entry bundles (not yet the
//! static-ct-api `TileLeaf` data tiles). Full tiles never change, so they
//! are cacheable forever; the checkpoint and partial tiles are not.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::CaState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

pub(crate) async fn checkpoint(State(state): State<Arc<CaState>>) -> Response {
    let cp = state.ct.log().published();
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        cp.note.clone(),
    )
        .into_response()
}

pub(crate) async fn tile(State(state): State<Arc<CaState>>, Path(path): Path<String>) -> Response {
    let Ok(id) = keyless_tlog::TileId::parse(&format!("tile/{path}")) else {
        return (StatusCode::NOT_FOUND, "not a tile path").into_response();
    };
    let log = state.ct.log().clone();
    let read = tokio::task::spawn_blocking(move || log.tile(&id).map(|t| (id, t))).await;
    match read {
        Ok(Ok((id, Some(data)))) => {
            let cache = if id.is_full() { IMMUTABLE } else { NO_CACHE };
            (
                [
                    (header::CONTENT_TYPE, "application/octet-stream"),
                    (header::CACHE_CONTROL, cache),
                ],
                data,
            )
                .into_response()
        }
        Ok(Ok((_, None))) => (StatusCode::NOT_FOUND, "the tree has no such tile").into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %crate::error_chain(&e), "CT tile read failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "tile read failed").into_response()
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "tile read failed").into_response(),
    }
}

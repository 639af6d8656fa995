//! Reading the CT log over HTTP, as the C2SP static-ct-api monitoring
//! path under `/ct`: `/ct/checkpoint` (the core's signed note plus the
//! RFC 6962 note signature), `/ct/tile/<L>/<N>[.p/<W>]` (hash tiles),
//! `/ct/tile/data/<N>[.p/<W>]` (data tiles: `TileLeaf`s back to back,
//! made from the core's entry bundles by dropping their length framing)
//! and `/ct/issuer/<fingerprint>`. For readers of the earlier tlog-tiles
//! layout (the explorer page, monitors), `/ct/tile/entries/<N>[.p/<W>]`
//! still serves entry bundles of the RFC 6962 `MerkleTreeLeaf`s (each
//! entry hashes to its leaf with the plain RFC 6962 leaf hash), made
//! from the same stored `TileLeaf`s. Full tiles and issuers never change,
//! so they are cacheable forever; the checkpoint and partial tiles are
//! not.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use keyless_tlog::{TileId, TileKind};

use crate::ct_issuers::parse_fingerprint;
use crate::ct_leaf::TileLeaf;
use crate::ct_serving::{ct_error, CtHttp};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

pub(crate) async fn checkpoint(State(state): State<Arc<CtHttp>>) -> Response {
    match state.log.sth() {
        Ok(sth) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, NO_CACHE),
            ],
            sth.note,
        )
            .into_response(),
        Err(e) => ct_error(e),
    }
}

/// How an entry tile is served.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// static-ct-api `tile/data/...`: `TileLeaf`s back to back.
    Data,
    /// tlog-tiles `tile/entries/...`: u16-framed `MerkleTreeLeaf`s.
    Entries,
}

/// A tile path: hash tiles as both layouts have them, `data/...` and
/// `entries/...` for the entries.
fn tile_id(path: &str) -> Option<(TileId, Layout)> {
    let (tlog_path, layout) = match path.strip_prefix("data/") {
        Some(rest) => (format!("tile/entries/{rest}"), Layout::Data),
        None => (format!("tile/{path}"), Layout::Entries),
    };
    TileId::parse(&tlog_path).ok().map(|id| (id, layout))
}

/// The stored entry bundle (u16-framed `TileLeaf`s) in `layout`.
fn entry_tile(bundle: &[u8], layout: Layout) -> Option<Vec<u8>> {
    let entries = keyless_tlog::tiles::decode_entry_bundle(bundle).ok()?;
    match layout {
        Layout::Data => Some(entries.concat()),
        Layout::Entries => {
            let leaves = entries
                .iter()
                .map(|e| match TileLeaf::parse_one(e) {
                    Ok((leaf, [])) => Some(leaf.merkle_tree_leaf()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            keyless_tlog::tiles::encode_entry_bundle(leaves.iter().map(Vec::as_slice)).ok()
        }
    }
}

pub(crate) async fn tile(State(state): State<Arc<CtHttp>>, Path(path): Path<String>) -> Response {
    let Some((id, layout)) = tile_id(&path) else {
        return (StatusCode::NOT_FOUND, "not a tile path").into_response();
    };
    let log = state.log.log().clone();
    let read = tokio::task::spawn_blocking(move || log.tile(&id).map(|t| (id, t))).await;
    let (id, data) = match read {
        Ok(Ok((id, Some(data)))) => (id, data),
        Ok(Ok((_, None))) => {
            return (StatusCode::NOT_FOUND, "the tree has no such tile").into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %crate::error_chain(&e), "CT tile read failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "tile read failed").into_response();
        }
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "tile read failed").into_response(),
    };
    let data = if id.kind == TileKind::Entries {
        match entry_tile(&data, layout) {
            Some(d) => d,
            None => {
                tracing::error!(tile = %id.path(), "CT entry bundle does not decode");
                return (StatusCode::INTERNAL_SERVER_ERROR, "tile read failed").into_response();
            }
        }
    } else {
        data
    };
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

pub(crate) async fn issuer(
    State(state): State<Arc<CtHttp>>,
    Path(fingerprint): Path<String>,
) -> Response {
    let Some(fp) = parse_fingerprint(&fingerprint) else {
        return (StatusCode::NOT_FOUND, "not a lowercase hex SHA-256").into_response();
    };
    let log = state.log.clone();
    match tokio::task::spawn_blocking(move || log.issuer(&fp)).await {
        Ok(Some(der)) => (
            [
                (header::CONTENT_TYPE, "application/pkix-cert"),
                (header::CACHE_CONTROL, IMMUTABLE),
            ],
            der,
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "no such issuer").into_response(),
    }
}

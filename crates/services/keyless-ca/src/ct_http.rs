//! The CT log's HTTP API under `/ct`: the RFC 6962 write endpoints
//! (`add-pre-chain`, `add-chain`, `get-roots`, `get-sth`) and the C2SP
//! static-ct-api read path ([`crate::ct_tiles`]). The CA merges this
//! router into its own; `keyless server ct` serves it alone.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use crate::ct::SignedCertificateTimestamp;
use crate::ct_front::MAX_CHAIN_LEN;
use crate::ct_serving::ct_error;
pub use crate::ct_serving::CtHttp;
use crate::error::CtError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The CT log's routes, `/ct/...`.
pub fn ct_router(state: CtHttp) -> Router {
    Router::new()
        .route("/ct/v1/add-pre-chain", post(add_pre_chain))
        .route("/ct/v1/add-chain", post(add_chain))
        .route("/ct/v1/get-sth", get(get_sth))
        .route("/ct/v1/get-roots", get(get_roots))
        .route("/ct/checkpoint", get(crate::ct_tiles::checkpoint))
        .route("/ct/tile/{*path}", get(crate::ct_tiles::tile))
        .route("/ct/issuer/{fingerprint}", get(crate::ct_tiles::issuer))
        .with_state(Arc::new(state))
}

#[derive(Deserialize)]
struct AddChain {
    chain: Vec<String>,
}

/// The chain of an `add-[pre-]chain` request, within the body and chain
/// length caps.
async fn read_chain(state: &CtHttp, body: Body) -> Result<Vec<Vec<u8>>, CtError> {
    let body = axum::body::to_bytes(body, state.max_body_bytes)
        .await
        .map_err(|_| CtError::BadRequest("request too large"))?;
    let req = serde_json::from_slice::<AddChain>(&body)
        .map_err(|_| CtError::BadRequest("body is not {\"chain\": [base64 DER…]}"))?;
    if req.chain.len() > MAX_CHAIN_LEN {
        return Err(CtError::BadRequest("chain has more than 8 certificates"));
    }
    req.chain
        .iter()
        .map(|c| B64.decode(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| CtError::BadRequest("chain entry is not base64"))
}

fn sct_response(sct: Result<SignedCertificateTimestamp, CtError>) -> Response {
    match sct.and_then(|sct| Ok((sct.digitally_signed()?, sct))) {
        Ok((ds, sct)) => Json(json!({
            "sct_version": 0,
            "id": B64.encode(sct.log_id),
            "timestamp": sct.timestamp,
            "extensions": B64.encode(&sct.extensions),
            "signature": B64.encode(ds),
        }))
        .into_response(),
        Err(e) => ct_error(e),
    }
}

/// RFC 6962 §4.2.
async fn add_pre_chain(State(state): State<Arc<CtHttp>>, body: Body) -> Response {
    match read_chain(&state, body).await {
        Ok(chain) => sct_response(state.log.add_pre_chain(&chain).await),
        Err(e) => ct_error(e),
    }
}

/// RFC 6962 §4.1: an x509 entry, the chain checked against the roots.
async fn add_chain(State(state): State<Arc<CtHttp>>, body: Body) -> Response {
    match read_chain(&state, body).await {
        Ok(chain) => sct_response(state.log.add_chain(&chain).await),
        Err(e) => ct_error(e),
    }
}

/// RFC 6962 §4.3.
async fn get_sth(State(state): State<Arc<CtHttp>>) -> Response {
    match state.log.signed_tree_head() {
        Ok((size, ts, root, sig)) => Json(json!({
            "tree_size": size,
            "timestamp": ts,
            "sha256_root_hash": B64.encode(root),
            "tree_head_signature": B64.encode(sig),
        }))
        .into_response(),
        Err(e) => ct_error(e),
    }
}

/// RFC 6962 §4.7.
async fn get_roots(State(state): State<Arc<CtHttp>>) -> Response {
    let certs: Vec<String> = state
        .log
        .roots()
        .iter()
        .map(|c| B64.encode(c.der()))
        .collect();
    Json(json!({ "certificates": certs })).into_response()
}

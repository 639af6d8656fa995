//! Rekor v1 personality for older clients: create, fetch by index or
//! UUID, search by artifact hash, tree info, consistency proofs and the
//! public key. Entries carry an integrated time and a signed entry
//! timestamp (SET): the log's signature over the canonical JSON
//! `{"body","integratedTime","logID","logIndex"}`. Search lives in
//! [`search`].

mod search;

pub(super) use search::search;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyless_types::b64;
use serde_json::{json, Value};

use super::error::{body, ApiError};
use crate::entries::v1::parse_request;
use keyless_log::{Log, Published, Submission};

/// Rekor's entry UUID: the hex leaf hash.
pub(super) fn uuid(body: &[u8]) -> String {
    hex::encode(keyless_tlog::leaf_hash(body))
}

/// The Rekor v1 log ID: SHA-256 of the log key's DER SubjectPublicKeyInfo,
/// whatever the key type, as Rekor computes it and cosign and sigstore-go
/// recompute it from the trusted key when they check a SET. (For an ECDSA
/// key it equals [`Log::log_id`]; for Ed25519 the C2SP key ID differs.)
pub(super) fn v1_log_id(log: &Log) -> [u8; 32] {
    keyless_crypto::sha256(log.public_key().spki_der())
}

/// The v1 `LogEntry` map `{uuid: entry}` for a committed entry, with an
/// inclusion proof against `cp`.
pub fn log_entry(log: &Log, index: u64, body: &[u8], cp: &Published) -> Result<Value, ApiError> {
    let meta = log.meta(index)?;
    let log_id = hex::encode(v1_log_id(log));
    let body_b64 = b64::encode(body);
    let payload = format!(
        "{{\"body\":\"{body_b64}\",\"integratedTime\":{},\"logID\":\"{log_id}\",\"logIndex\":{index}}}",
        meta.sequenced_at
    );
    let set = log.sign(payload.as_bytes())?;
    let hashes: Vec<String> = log
        .inclusion_proof(index, cp.size)?
        .iter()
        .map(hex::encode)
        .collect();
    Ok(json!({ uuid(body): {
        "body": body_b64,
        "integratedTime": meta.sequenced_at,
        "logID": log_id,
        "logIndex": index,
        "verification": {
            "signedEntryTimestamp": b64::encode(&set),
            "inclusionProof": {
                "checkpoint": cp.note,
                "hashes": hashes,
                "logIndex": index,
                "rootHash": hex::encode(cp.root),
                "treeSize": cp.size,
            },
        },
    }}))
}

pub(super) async fn create(
    State(log): State<Log>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let raw = body(&headers, raw)?;
    let entry = parse_request(&raw)?;
    let seq = log
        .submit(Submission {
            body: entry.body.clone(),
            lookup_key: entry.artifact_sha256,
        })
        .await?;
    if seq.duplicate {
        // As Rekor: 409 with the existing entry's location.
        let id = uuid(&entry.body);
        let mut resp = ApiError::new(
            StatusCode::CONFLICT,
            format!("an equivalent entry already exists in the transparency log with UUID {id}"),
        )
        .into_response();
        if let Ok(v) = format!("/api/v1/log/entries/{id}").parse() {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return Ok(resp);
    }
    let value = log_entry(&log, seq.index, &entry.body, &seq.checkpoint)?;
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

fn query(
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(m)| m)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

fn non_negative(q: &HashMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    q.get(name)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("{name} must be a non-negative integer, got {v:?}"))
            })
        })
        .transpose()
}

async fn entry_response(log: Log, index: u64) -> Result<Response, ApiError> {
    let cp = log.published();
    if index >= cp.size {
        return Err(ApiError::not_found(format!(
            "no entry {index} in a log of {} entries",
            cp.size
        )));
    }
    let value = tokio::task::spawn_blocking(move || {
        let body = log.entry(index)?;
        log_entry(&log, index, &body, &cp)
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "entry read failed"))??;
    Ok(Json(value).into_response())
}

pub(super) async fn by_index(
    State(log): State<Log>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let index = non_negative(&q, "logIndex")?
        .ok_or_else(|| ApiError::bad_request("logIndex is required"))?;
    entry_response(log, index).await
}

pub(super) async fn by_uuid(
    State(log): State<Log>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // Accept the 64-hex UUID or Rekor's 80-hex entry ID (tree ID prefix).
    if !id.is_ascii() {
        return Err(ApiError::bad_request("entry UUID is not hex"));
    }
    let hex_part = match id.len() {
        64 => id.as_str(),
        80 => &id[16..],
        _ => {
            return Err(ApiError::bad_request(
                "an entry UUID is 64 (or 80) hex characters",
            ))
        }
    };
    let leaf: [u8; 32] = hex::decode(hex_part)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::bad_request("entry UUID is not hex"))?;
    // Off the async workers: the entry index may be a database query.
    let finder = log.clone();
    let index = tokio::task::spawn_blocking(move || finder.find_leaf(&leaf))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "entry lookup failed"))??
        .ok_or_else(|| ApiError::not_found(format!("no entry with UUID {hex_part}")))?;
    entry_response(log, index).await
}

pub(super) async fn log_info(State(log): State<Log>) -> Response {
    let cp = log.published();
    let tree_id = u64::from_be_bytes(v1_log_id(&log)[..8].try_into().unwrap_or([0; 8])) >> 1;
    Json(json!({
        "rootHash": hex::encode(cp.root),
        "signedTreeHead": cp.note,
        "treeSize": cp.size,
        "treeID": tree_id.to_string(),
    }))
    .into_response()
}

pub(super) async fn consistency(
    State(log): State<Log>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let cp = log.published();
    let first = non_negative(&q, "firstSize")?.unwrap_or(1);
    let last = non_negative(&q, "lastSize")?.unwrap_or(cp.size);
    if first == 0 || first > last || last > cp.size {
        return Err(ApiError::bad_request(format!(
            "need 1 <= firstSize ({first}) <= lastSize ({last}) <= tree size ({})",
            cp.size
        )));
    }
    let hashes: Vec<String> = log
        .consistency_proof(first, last)?
        .iter()
        .map(hex::encode)
        .collect();
    Ok(Json(json!({ "rootHash": hex::encode(log.root(last)?), "hashes": hashes })).into_response())
}

pub(super) async fn public_key(State(log): State<Log>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        log.public_key().to_pem(),
    )
        .into_response()
}

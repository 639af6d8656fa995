//! Rekor v1 personality for older clients: create, fetch by index or
//! UUID, search by artifact hash, tree info, consistency proofs and the
//! public key. Entries carry an integrated time and a signed entry
//! timestamp (SET): the log's signature over the canonical JSON
//! `{"body","integratedTime","logID","logIndex"}`. Search lives in
//! [`search`], batch reads in [`retrieve`], and the entry every read
//! answers in [`entry`].

mod entry;
mod retrieve;
mod search;

pub(super) use retrieve::retrieve;
pub(super) use search::search;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use self::entry::{blocking, entry_at, find, log_entry, parse_uuid, uuid, v1_log_id};
use super::error::{body, ApiError};
use crate::entries::v1::parse_request;
use keyless_log::{Log, Submission};

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

/// Entry `index` against the current checkpoint, or 404.
async fn entry_response(log: Log, index: u64) -> Result<Response, ApiError> {
    let cp = log.published();
    let size = cp.size;
    blocking("entry read", move || entry_at(&log, index, &cp))
        .await?
        .map(|value| Json(value).into_response())
        .ok_or_else(|| ApiError::not_found(format!("no entry {index} in a log of {size} entries")))
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
    let leaf = parse_uuid(&id)?;
    let finder = log.clone();
    let index = blocking("entry lookup", move || find(&finder, &leaf))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no entry with UUID {}", hex::encode(leaf))))?;
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

//! Rekor v2: `POST /api/v2/log/entries`, answered with the
//! `TransparencyLogEntry` of a v0.3 bundle once a signed checkpoint covers
//! the entry.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use keyless_types::wire;

use super::error::{body, ApiError};
use crate::entries::v2::parse_request;
use keyless_log::{Log, Published, Submission};

pub(super) async fn create(
    State(log): State<Log>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let raw = body(&headers, raw)?;
    let entry = parse_request(&raw)?;
    let kind = entry.kind;
    let seq = log
        .submit(Submission {
            body: entry.body.clone(),
            lookup_key: entry.artifact_sha256,
        })
        .await?;
    let tle = transparency_log_entry(&log, seq.index, entry.body, kind, "0.0.2", &seq.checkpoint)?;
    let status = if seq.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, json_response(&tle)?).into_response())
}

/// `tle` as a JSON response, written into a buffer sized for it up front:
/// axum's `Json` starts at 128 bytes and regrows several times for a
/// 2–3 KB entry, which showed in profiles of the append path.
fn json_response(tle: &wire::TransparencyLogEntry) -> Result<Response, ApiError> {
    let proof = tle.inclusion_proof.as_ref();
    let estimate = 512
        + tle.canonicalized_body.len() * 4 / 3
        + proof.map_or(0, |p| {
            p.hashes.len() * 48 + p.checkpoint.as_ref().map_or(0, |c| c.envelope.len() * 2)
        });
    let mut buf = Vec::with_capacity(estimate);
    serde_json::to_writer(&mut buf, tle).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "response encoding failed",
        )
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], buf).into_response())
}

/// The bundle's `tlogEntries[]` element for an entry, with an inclusion
/// proof against `cp`.
pub fn transparency_log_entry(
    log: &Log,
    index: u64,
    body: Vec<u8>,
    kind: &str,
    version: &str,
    cp: &Published,
) -> Result<wire::TransparencyLogEntry, ApiError> {
    let hashes = log.inclusion_proof(index, cp.size)?;
    let index = i64::try_from(index).map_err(|_| ApiError::bad_request("index too large"))?;
    let size = i64::try_from(cp.size).map_err(|_| ApiError::bad_request("tree too large"))?;
    Ok(wire::TransparencyLogEntry {
        log_index: index,
        log_id: wire::LogId {
            key_id: log.log_id().to_vec(),
        },
        kind_version: wire::KindVersion {
            kind: kind.to_string(),
            version: version.to_string(),
        },
        integrated_time: None,
        inclusion_promise: None,
        inclusion_proof: Some(wire::InclusionProof {
            log_index: index,
            root_hash: cp.root.to_vec(),
            tree_size: size,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
            checkpoint: Some(wire::Checkpoint {
                envelope: cp.note.clone(),
            }),
        }),
        canonicalized_body: body,
        canonicalized_body_b64: None,
    })
}

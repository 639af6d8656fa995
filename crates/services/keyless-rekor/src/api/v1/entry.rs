//! One Rekor v1 `LogEntry` as every v1 read answers it (by index, by
//! UUID, and in batches from `entries/retrieve`), and the entry UUID
//! parsing and lookup they share, so that a batch answers each entry
//! exactly as the single reads do.

use axum::http::StatusCode;
use keyless_types::b64;
use serde_json::{json, Value};

use crate::api::error::ApiError;
use keyless_log::{Log, Published};

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
pub(super) fn log_entry(
    log: &Log,
    index: u64,
    body: &[u8],
    cp: &Published,
) -> Result<Value, ApiError> {
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

/// Entry `index` as a `LogEntry` against `cp`, or `None` when `cp` does
/// not cover it. Blocking (storage reads): call it off the async workers.
pub(super) fn entry_at(log: &Log, index: u64, cp: &Published) -> Result<Option<Value>, ApiError> {
    if index >= cp.size {
        return Ok(None);
    }
    let body = log.entry(index)?;
    log_entry(log, index, &body, cp).map(Some)
}

/// The leaf hash an entry UUID names: the 64-hex UUID, or Rekor's 80-hex
/// entry ID (a 16-hex tree ID, then the UUID). The tree ID is not
/// checked against this log's: this log has one tree, and Rekor clients
/// pass on whichever form they were given.
pub(super) fn parse_uuid(id: &str) -> Result<[u8; 32], ApiError> {
    // The length first: only a UUID-sized string is quoted back.
    if id.len() != 64 && id.len() != 80 {
        return Err(ApiError::bad_request(format!(
            "an entry UUID is 64 (or 80) hex characters, got {}",
            id.len()
        )));
    }
    let not_hex = || ApiError::bad_request(format!("entry UUID {id:?} is not hex"));
    if !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_hex());
    }
    // The last 64 (after an 80-hex ID's tree ID); all ASCII, so any cut is a
    // character boundary.
    hex::decode(&id[id.len() - 64..])
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(not_hex)
}

/// The index of the entry whose leaf hash is `leaf`, if the log has one.
/// Blocking (the entry index may be a database query).
pub(super) fn find(log: &Log, leaf: &[u8; 32]) -> Result<Option<u64>, ApiError> {
    Ok(log.find_leaf(leaf)?)
}

/// `f` on a blocking thread; a panic there is a 500, not a dropped
/// connection.
pub(super) async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{what} failed")))?
}

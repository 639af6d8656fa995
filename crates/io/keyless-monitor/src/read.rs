//! Reading single entries and checkpoints from a log, with proofs checked:
//! the Rekor v1 API (`/api/v1/log/entries?logIndex=`,
//! `/api/v1/log/entries/{uuid}`, `/api/v1/index/retrieve`) where the log
//! has it, else the tlog-tiles reads (`/checkpoint`, `/tile/...`).
//! An entry is "verified" only when its inclusion proof leads to the root
//! of a checkpoint whose signature the log's key verifies.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyless_tlog::tiles::TILE_WIDTH;
use keyless_tlog::{leaf_hash, verify_inclusion, Checkpoint, Hash, NoteVerifier, TileId, TileKind};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::entry::{EntryError, EntryInfo};
use crate::fetch::{FetchError, Fetcher, MAX_API_RESPONSE, MAX_BUNDLE, MAX_CHECKPOINT};
use crate::tiles::{verify_checkpoint, TileReader, TilesError};

/// Most entries a search prints (each is one more request).
pub const MAX_SEARCH_RESULTS: usize = 100;
/// Most hashes an inclusion proof can have (a tree of 2^64 leaves).
const MAX_PROOF_HASHES: usize = 64;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("the log's answer is malformed: {0}")]
    Malformed(String),
    #[error("the log's checkpoint")]
    Checkpoint(#[source] TilesError),
    #[error("reading the log's tiles")]
    Tiles(#[source] TilesError),
    #[error("the entry body")]
    Entry(#[source] EntryError),
    #[error("the inclusion proof does not verify: {0}")]
    Proof(String),
    #[error("no entry {index}: the log has {size} entries")]
    NoSuchIndex { index: u64, size: u64 },
    #[error("the log has no Rekor v1 API ({0}): this lookup needs it")]
    NoV1Api(&'static str),
}

/// An entry with its verified inclusion.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedEntry {
    pub uuid: String,
    pub log_index: u64,
    /// Unix seconds; tiles-only logs do not serve it.
    pub integrated_time: Option<i64>,
    #[serde(flatten)]
    pub info: EntryInfo,
    pub checkpoint_size: u64,
    pub checkpoint_root: String,
    /// Both the inclusion proof and the checkpoint signature verified.
    pub proof_verified: bool,
}

fn malformed(what: &str) -> ReadError {
    ReadError::Malformed(what.to_string())
}

fn hash32(hex_str: &str, what: &str) -> Result<Hash, ReadError> {
    hex::decode(hex_str)
        .ok()
        .and_then(|b| <Hash>::try_from(b).ok())
        .ok_or_else(|| malformed(what))
}

/// The log's current checkpoint, signature verified.
pub async fn checkpoint(
    fetch: &Fetcher,
    verifier: &NoteVerifier,
) -> Result<(Checkpoint, String), ReadError> {
    let text = match fetch.get_opt("checkpoint", MAX_CHECKPOINT).await? {
        Some(t) => String::from_utf8(t).map_err(|_| malformed("checkpoint is not UTF-8"))?,
        None => {
            let info = fetch.get("api/v1/log", MAX_API_RESPONSE).await?;
            let v: Value = serde_json::from_slice(&info).map_err(|_| malformed("/api/v1/log"))?;
            v["signedTreeHead"]
                .as_str()
                .ok_or_else(|| malformed("/api/v1/log has no signedTreeHead"))?
                .to_string()
        }
    };
    let cp = verify_checkpoint(&text, verifier, "current").map_err(ReadError::Checkpoint)?;
    Ok((cp, text))
}

/// Check one v1 API entry object (`{uuid: {...}}`).
fn verify_v1(value: &Value, verifier: &NoteVerifier) -> Result<VerifiedEntry, ReadError> {
    let (uuid, e) = value
        .as_object()
        .and_then(|m| m.iter().next())
        .ok_or_else(|| malformed("no entry in the response"))?;
    let body = STANDARD
        .decode(e["body"].as_str().ok_or_else(|| malformed("no body"))?)
        .map_err(|_| malformed("body is not base64"))?;
    let leaf = leaf_hash(&body);
    let leaf_hex = hex::encode(leaf);
    if !uuid.ends_with(&leaf_hex) {
        return Err(malformed("the entry's UUID is not its leaf hash"));
    }
    let index = e["logIndex"]
        .as_u64()
        .ok_or_else(|| malformed("no logIndex"))?;
    let p = &e["verification"]["inclusionProof"];
    let note = p["checkpoint"]
        .as_str()
        .ok_or_else(|| malformed("no checkpoint"))?;
    let cp = verify_checkpoint(note, verifier, "entry's").map_err(ReadError::Checkpoint)?;
    let hashes = p["hashes"]
        .as_array()
        .ok_or_else(|| malformed("no proof hashes"))?;
    if hashes.len() > MAX_PROOF_HASHES {
        return Err(malformed("too many proof hashes"));
    }
    let proof = hashes
        .iter()
        .map(|h| hash32(h.as_str().unwrap_or_default(), "proof hash"))
        .collect::<Result<Vec<_>, _>>()?;
    if p["logIndex"].as_u64() != Some(index) || p["treeSize"].as_u64() != Some(cp.size) {
        return Err(ReadError::Proof(
            "the proof's index or tree size differs from the entry's checkpoint".into(),
        ));
    }
    verify_inclusion(index, cp.size, &leaf, &proof, &cp.root_hash)
        .map_err(|e| ReadError::Proof(e.to_string()))?;
    Ok(VerifiedEntry {
        uuid: leaf_hex,
        log_index: index,
        integrated_time: e["integratedTime"].as_i64(),
        info: EntryInfo::parse(&body).map_err(ReadError::Entry)?,
        checkpoint_size: cp.size,
        checkpoint_root: hex::encode(cp.root_hash),
        proof_verified: true,
    })
}

async fn v1_get(
    fetch: &Fetcher,
    path: &str,
    verifier: &NoteVerifier,
) -> Result<Option<VerifiedEntry>, ReadError> {
    let Some(bytes) = fetch.get_opt(path, MAX_API_RESPONSE).await? else {
        return Ok(None);
    };
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| malformed("entry is not JSON"))?;
    verify_v1(&v, verifier).map(Some)
}

/// Entry `index`: from the v1 API, else from tiles.
pub async fn by_index(
    fetch: &Fetcher,
    index: u64,
    verifier: &NoteVerifier,
) -> Result<VerifiedEntry, ReadError> {
    if let Some(e) = v1_get(
        fetch,
        &format!("api/v1/log/entries?logIndex={index}"),
        verifier,
    )
    .await?
    {
        if e.log_index != index {
            return Err(malformed("the log answered with another entry"));
        }
        return Ok(e);
    }
    from_tiles(fetch, index, verifier).await
}

/// Entry by UUID (leaf hash, hex): v1 API only.
pub async fn by_uuid(
    fetch: &Fetcher,
    uuid: &str,
    verifier: &NoteVerifier,
) -> Result<VerifiedEntry, ReadError> {
    if !uuid.bytes().all(|b| b.is_ascii_hexdigit()) || !(uuid.len() == 64 || uuid.len() == 80) {
        return Err(malformed("a UUID is 64 (or 80) hex characters"));
    }
    let e = v1_get(fetch, &format!("api/v1/log/entries/{uuid}"), verifier)
        .await?
        .ok_or(ReadError::NoV1Api("GET /api/v1/log/entries/{uuid}"))?;
    if !uuid.ends_with(&e.uuid) {
        return Err(malformed("the log answered with another entry"));
    }
    Ok(e)
}

/// UUIDs matching a search (`{"hash": ...}`, `{"email": ...}`, `{"publicKey": ...}`).
pub async fn search(fetch: &Fetcher, query: &Value) -> Result<Vec<String>, ReadError> {
    let bytes = fetch
        .post_json("api/v1/index/retrieve", query, MAX_API_RESPONSE)
        .await
        .map_err(|e| match e {
            FetchError::Status { status: 404, .. } => {
                ReadError::NoV1Api("POST /api/v1/index/retrieve")
            }
            e => e.into(),
        })?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| malformed("search answer"))?;
    let list = v
        .as_array()
        .ok_or_else(|| malformed("search answer is not a list"))?;
    Ok(list
        .iter()
        .filter_map(Value::as_str)
        .take(MAX_SEARCH_RESULTS)
        .map(str::to_string)
        .collect())
}

/// The `(lo, hi)` ranges whose hashes form the RFC 6962 inclusion proof of
/// leaf `index` in `[0, size)`, leaf side first.
pub(crate) fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = 1u64 << (63 - (hi - lo - 1).leading_zeros());
        if index < lo + k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
        }
    }
    out.reverse();
    out
}

/// Entry `index` from the entry bundle, its inclusion proof computed from
/// the hash tiles and checked against the signed checkpoint.
async fn from_tiles(
    fetch: &Fetcher,
    index: u64,
    verifier: &NoteVerifier,
) -> Result<VerifiedEntry, ReadError> {
    let (cp, _) = checkpoint(fetch, verifier).await?;
    if index >= cp.size {
        return Err(ReadError::NoSuchIndex {
            index,
            size: cp.size,
        });
    }
    let bundle = index / TILE_WIDTH;
    let width = (cp.size - bundle * TILE_WIDTH).min(TILE_WIDTH);
    let id = TileId {
        kind: TileKind::Entries,
        index: bundle,
        width: width as u16,
    };
    let bytes = fetch.get(&id.path(), MAX_BUNDLE).await?;
    let entries = keyless_tlog::tiles::decode_entry_bundle(&bytes)
        .map_err(|e| malformed(&format!("entry bundle: {e}")))?;
    if entries.len() as u64 != width {
        return Err(malformed("entry bundle has the wrong number of entries"));
    }
    let body = entries
        .get((index % TILE_WIDTH) as usize)
        .ok_or_else(|| malformed("entry bundle too short"))?;
    let leaf = leaf_hash(body);
    let mut tiles = TileReader::new(fetch);
    let mut proof = Vec::new();
    for (lo, hi) in inclusion_ranges(index, cp.size) {
        proof.push(
            tiles
                .range_hash(lo, hi, cp.size)
                .await
                .map_err(ReadError::Tiles)?,
        );
    }
    verify_inclusion(index, cp.size, &leaf, &proof, &cp.root_hash)
        .map_err(|e| ReadError::Proof(e.to_string()))?;
    Ok(VerifiedEntry {
        uuid: hex::encode(leaf),
        log_index: index,
        integrated_time: None,
        info: EntryInfo::parse(body).map_err(ReadError::Entry)?,
        checkpoint_size: cp.size,
        checkpoint_root: hex::encode(cp.root_hash),
        proof_verified: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_tlog::{inclusion_proof, root_from_leaves};

    #[test]
    fn inclusion_ranges_match_reference() {
        let leaves: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 1..=40u64 {
            for i in 0..n {
                let want = inclusion_proof(&leaves[..n as usize], i).unwrap();
                let got: Vec<Hash> = inclusion_ranges(i, n)
                    .into_iter()
                    .map(|(lo, hi)| root_from_leaves(&leaves[lo as usize..hi as usize]))
                    .collect();
                assert_eq!(got, want, "i={i} n={n}");
            }
        }
    }
}

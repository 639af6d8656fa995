//! Following a log that has no tiles, only the Rekor v1 API: the signed
//! tree head from `/api/v1/log`, consistency proofs from
//! `/api/v1/log/proof?firstSize=&lastSize=`, and the entries from
//! `POST /api/v1/log/entries/retrieve` ([`crate::v1_batch`]), or one by
//! one from `/api/v1/log/entries?logIndex=` where the log has no batch
//! read. Every answer is a capped read
//! ([`MAX_API_RESPONSE`]) and proofs have at most 64 hashes. The entries
//! are not trusted one by one: the monitor folds their leaf hashes into
//! its frontier and compares the result with the signed checkpoint, as it
//! does with tiles.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyless_tlog::{leaf_hash, Hash};
use serde::Deserialize;
use serde_json::Value;

use crate::fetch::{FetchError, Fetcher, MAX_API_RESPONSE};
use crate::frontier::Frontier;
use crate::matcher::Matcher;
use crate::read::{inclusion_ranges, ReadError};
use crate::scan::Scanned;
use crate::v1_batch::{retrieve, BatchRead, Retrieved, MAX_BATCH};

/// Most hashes a proof can have (a tree of 2^64 leaves).
const MAX_PROOF_HASHES: usize = 64;

fn malformed(what: impl Into<String>) -> ReadError {
    ReadError::Malformed(what.into())
}

fn hashes(list: &[Value], what: &str) -> Result<Vec<Hash>, ReadError> {
    if list.len() > MAX_PROOF_HASHES {
        return Err(malformed(format!("{what}: too many hashes")));
    }
    list.iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| hex::decode(s).ok())
                .and_then(|b| <Hash>::try_from(b).ok())
                .ok_or_else(|| malformed(format!("{what}: a hash is not 32 bytes of hex")))
        })
        .collect()
}

/// The signed tree head note from `/api/v1/log`, or `None` when the log
/// has no v1 API either.
pub async fn checkpoint_text(fetch: &Fetcher) -> Result<Option<String>, ReadError> {
    let Some(bytes) = fetch.get_opt("api/v1/log", MAX_API_RESPONSE).await? else {
        return Ok(None);
    };
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct LogInfo {
        signed_tree_head: String,
    }
    let info: LogInfo = serde_json::from_slice(&bytes)
        .map_err(|_| malformed("/api/v1/log has no signedTreeHead"))?;
    Ok(Some(info.signed_tree_head))
}

/// The RFC 6962 consistency proof from `first` to `last` entries.
pub async fn consistency_proof(
    fetch: &Fetcher,
    first: u64,
    last: u64,
) -> Result<Vec<Hash>, ReadError> {
    if first == 0 || first >= last {
        return Ok(Vec::new());
    }
    let path = format!("api/v1/log/proof?firstSize={first}&lastSize={last}");
    let bytes = fetch.get(&path, MAX_API_RESPONSE).await?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|_| malformed("consistency proof is not JSON"))?;
    let list = v["hashes"]
        .as_array()
        .ok_or_else(|| malformed("consistency proof has no hashes"))?;
    hashes(list, "consistency proof")
}

/// One entry: its body, and its inclusion proof (hashes, tree size).
struct V1Entry {
    body: Vec<u8>,
    proof: Vec<Hash>,
    tree_size: u64,
}

async fn entry(fetch: &Fetcher, index: u64) -> Result<V1Entry, ReadError> {
    let path = format!("api/v1/log/entries?logIndex={index}");
    let bytes = match fetch.get(&path, MAX_API_RESPONSE).await {
        Err(FetchError::Status { status: 404, .. }) => {
            return Err(ReadError::NoV1Api("GET /api/v1/log/entries?logIndex="))
        }
        r => r?,
    };
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| malformed("entry is not JSON"))?;
    let (_, e) = v
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.iter().next())
        .ok_or_else(|| malformed(format!("entry {index}: not one entry")))?;
    if e["logIndex"].as_u64() != Some(index) {
        return Err(malformed(format!(
            "asked for entry {index}, the log answered with another"
        )));
    }
    let body = e["body"]
        .as_str()
        .and_then(|b| STANDARD.decode(b).ok())
        .ok_or_else(|| malformed(format!("entry {index}: no base64 body")))?;
    let p = &e["verification"]["inclusionProof"];
    let proof = match p["hashes"].as_array() {
        Some(list) => hashes(list, "inclusion proof")?,
        None => Vec::new(),
    };
    Ok(V1Entry {
        body,
        proof,
        tree_size: p["treeSize"].as_u64().unwrap_or(0),
    })
}

/// The frontier of `[0, from)`: the left siblings on entry `from - 1`'s
/// inclusion path are exactly the perfect subtrees of `[0, from - 1)`.
/// Not trusted: the pass folds the entries read onto it and compares
/// with the signed root, so a wrong seed is an alarm, never a gap.
pub async fn seed(fetch: &Fetcher, from: u64) -> Result<Option<Frontier>, ReadError> {
    if from == 0 {
        return Ok(Some(Frontier::empty()));
    }
    let i = from - 1;
    let e = entry(fetch, i).await?;
    if e.tree_size <= i {
        return Err(malformed(format!(
            "entry {i}'s inclusion proof is for a tree of {} entries",
            e.tree_size
        )));
    }
    let ranges = inclusion_ranges(i, e.tree_size);
    if ranges.len() != e.proof.len() {
        return Err(malformed(format!(
            "entry {i}'s inclusion proof has {} hashes, not {}",
            e.proof.len(),
            ranges.len()
        )));
    }
    let mut lefts: Vec<Hash> = ranges
        .iter()
        .zip(&e.proof)
        .filter(|((_, hi), _)| *hi <= i)
        .map(|(_, h)| *h)
        .collect();
    lefts.reverse();
    let Some(mut f) = Frontier::from_roots(i, &lefts) else {
        return Ok(None);
    };
    f.push(leaf_hash(&e.body));
    Ok(Some(f))
}

/// Read entries `[start, end)` and match them: [`MAX_BATCH`] per request
/// where the log answers the batch read (`batch` remembers whether it
/// does), else one by one.
pub async fn scan_range(
    fetch: &Fetcher,
    start: u64,
    end: u64,
    matcher: &Matcher,
    batch: &mut BatchRead,
) -> Result<Scanned, ReadError> {
    let mut out = Scanned::default();
    let mut index = start;
    while index < end {
        let mut bodies = Vec::new();
        if *batch != BatchRead::Unsupported {
            match retrieve(fetch, index, (end - index).min(MAX_BATCH)).await? {
                Retrieved::Bodies(b) => {
                    *batch = BatchRead::Supported;
                    bodies = b;
                }
                Retrieved::Unsupported => *batch = BatchRead::Unsupported,
                Retrieved::TooLarge => {}
            }
        }
        if bodies.is_empty() {
            bodies.push(entry(fetch, index).await?.body);
        }
        for body in bodies {
            out.push_entry(index, &body, matcher);
            index += 1;
        }
    }
    Ok(out)
}

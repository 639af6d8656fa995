//! `POST /api/v1/index/retrieve`: Rekor's `SearchIndex` query,
//! `{"hash": "sha256:<hex>", "publicKey": {"format": "x509", "content":
//! "<base64 PEM>"}, "email": "<address>", "operator": "and" | "or"}`,
//! answered with the UUIDs of matching entries in log order.
//!
//! A hash finds entries through the artifact digest in their metadata
//! (for DSSE entries made here: the first attested subject) and through
//! every hash their bodies name (see [`crate::search`]). A public key
//! finds entries signed with that key or certificate, whatever PEM
//! spelling either side used. An e-mail address finds entries whose
//! signing certificate names it as a SAN, compared case-insensitively as
//! Rekor does; the same field also takes a URI SAN (a CI workflow
//! identity, `https://github.com/…@refs/…`), which Rekor's `email` does
//! not. Search by key URL (the log would fetch arbitrary URLs) and for key
//! formats other than x509 is refused with a 400 saying so.
//!
//! A query names at most one hash, one key and one identity (a list in
//! any field is a 400), and its answer is capped at
//! [`Limits::max_search_results`] UUIDs (default
//! [`DEFAULT_MAX_SEARCH_RESULTS`]). A query whose answer
//! would be longer is refused with 422 and a message naming the limit,
//! rather than answered with a truncated list: a client looking for every
//! entry of its key or artifact (a monitor, a verifier) must not take part
//! of the answer for all of it. The log stops confirming matches once it
//! is past the cap, so a key found in many entries costs a bounded amount
//! of reading. Under `"and"` one criterion may match more than the cap if
//! the other does not: the few entries of the narrow one are checked
//! against the broad one, so hash + key finds a popular artifact's entry
//! by one signer.
//!
//! [`Limits::max_search_results`]: crate::Limits::max_search_results
//! [`DEFAULT_MAX_SEARCH_RESULTS`]: crate::DEFAULT_MAX_SEARCH_RESULTS

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use keyless_types::b64;
use serde::Deserialize;

use keyless_tlog::Hash;

use crate::api::error::{body, ApiError};
use crate::search::{keep_matching, IndexKey, SearchIndex, MAX_IDENTITY};
use keyless_log::Log;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Query {
    #[serde(default)]
    hash: Option<String>,
    #[serde(default)]
    public_key: Option<QueryKey>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    operator: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryKey {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// One search criterion, parsed.
enum Criterion {
    /// `alg:hex`; for SHA-256 also the digest, for the metadata index.
    Hash(IndexKey, Option<[u8; 32]>),
    /// A key or certificate, or an identity (e-mail or URI SAN).
    Signer(IndexKey),
}

/// Rekor's `util.PrefixSHA` plus its pattern: `[alg:]hex`, where a bare
/// value's algorithm follows from its length.
fn hash_criterion(hash: &str) -> Result<Criterion, ApiError> {
    let hash = hash.trim().to_ascii_lowercase();
    let (alg, hex_value) = match hash.split_once(':') {
        Some((alg, v)) => (alg.to_string(), v.to_string()),
        None => {
            let alg = match hash.len() {
                40 => "sha1",
                64 => "sha256",
                96 => "sha384",
                128 => "sha512",
                _ => "?",
            };
            (alg.to_string(), hash.clone())
        }
    };
    let want = match alg.as_str() {
        "sha1" => 40,
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => 0,
    };
    let digest = hex::decode(&hex_value).ok().filter(|d| d.len() * 2 == want);
    let Some(digest) = digest else {
        return Err(ApiError::bad_request(format!(
            "hash must be [sha1:|sha256:|sha384:|sha512:]<hex digest of that length>, got {hash:?}"
        )));
    };
    Ok(Criterion::Hash(
        IndexKey::Hash(format!("{alg}:{hex_value}")),
        digest.try_into().ok(),
    ))
}

fn key_criterion(q: &QueryKey) -> Result<Criterion, ApiError> {
    if q.url.as_deref().is_some_and(|u| !u.is_empty()) {
        return Err(ApiError::bad_request(
            "publicKey.url is not supported: send the key itself in publicKey.content",
        ));
    }
    match q.format.as_deref() {
        Some("x509") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
            "publicKey.format {other:?} is not supported; only \"x509\" keys and certificates are"
        )))
        }
        None => {
            return Err(ApiError::bad_request(
                "publicKey.format is required (\"x509\")",
            ))
        }
    }
    let pem = q
        .content
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("publicKey.content is required"))
        .and_then(|c| {
            b64::decode(c).map_err(|_| ApiError::bad_request("publicKey.content is not base64"))
        })?;
    IndexKey::signer_pem(&pem)
        .map(Criterion::Signer)
        .ok_or_else(|| {
            ApiError::bad_request("publicKey.content is not a PEM public key or certificate")
        })
}

/// The answer to a query matching more than `limit` entries.
fn too_many(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "search matched more than {limit} entries, the most this log returns in one answer; \
             narrow it (\"hash\" with \"publicKey\" or \"email\", and \"operator\": \"and\")"
        ),
    )
}

impl Criterion {
    fn key(&self) -> (&IndexKey, Option<&[u8; 32]>) {
        match self {
            Criterion::Hash(key, digest) => (key, digest.as_ref()),
            Criterion::Signer(key) => (key, None),
        }
    }
}

/// Entries matching one criterion: index → leaf hash (the UUID); `None`
/// when more than `limit` do.
fn matches(
    log: &Log,
    index: &SearchIndex,
    size: u64,
    c: &Criterion,
    limit: usize,
) -> Result<Option<BTreeMap<u64, Hash>>, ApiError> {
    let (key, digest) = c.key();
    let found = index.find(log, size, key, digest, limit)?;
    Ok((found.len() <= limit).then_some(found))
}

/// The answer to a query: its criteria, combined by `and` or `or`.
fn answer(
    log: &Log,
    index: &SearchIndex,
    criteria: &[Criterion],
    and: bool,
) -> Result<BTreeMap<u64, Hash>, ApiError> {
    let size = log.published().size;
    let limit = index.max_results();
    let mut found = Vec::new();
    for c in criteria {
        found.push(matches(log, index, size, c, limit)?);
    }
    if !and {
        let mut all = BTreeMap::new();
        for m in found {
            all.extend(m.ok_or_else(|| too_many(limit))?);
            if all.len() > limit {
                return Err(too_many(limit));
            }
        }
        return Ok(all);
    }
    // "and": intersect what could be listed; check the narrow sets'
    // entries against each criterion that matched too many.
    let Some(mut result) = found.iter().flatten().next().cloned() else {
        return Err(too_many(limit));
    };
    for (c, m) in criteria.iter().zip(&found) {
        match m {
            Some(m) => result.retain(|i, _| m.contains_key(i)),
            None => {
                let (key, digest) = c.key();
                result = keep_matching(log, size, result, key, digest)?;
            }
        }
    }
    Ok(result)
}

pub(in crate::api) async fn search(
    State(log): State<Log>,
    Extension(index): Extension<Arc<SearchIndex>>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let raw = body(&headers, raw)?;
    let q: Query = serde_json::from_slice(&raw)
        .map_err(|e| ApiError::bad_request(format!("malformed search query: {e}")))?;
    let and = match q.operator.as_deref() {
        None | Some("or") => false,
        Some("and") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "operator must be \"and\" or \"or\", got {other:?}"
            )))
        }
    };
    let mut criteria = Vec::new();
    if let Some(h) = &q.hash {
        criteria.push(hash_criterion(h)?);
    }
    if let Some(k) = &q.public_key {
        criteria.push(key_criterion(k)?);
    }
    if let Some(e) = &q.email {
        criteria.push(Criterion::Signer(IndexKey::identity(e).ok_or_else(|| {
            ApiError::bad_request(format!(
                "email must be an e-mail address (or a certificate's URI identity) of at most {MAX_IDENTITY} bytes"
            ))
        })?));
    }
    if criteria.is_empty() {
        return Err(ApiError::bad_request(
            "search by \"hash\" (sha256:<hex>), \"publicKey\" ({\"format\": \"x509\", \"content\": <base64 PEM>}) or \"email\"",
        ));
    }
    let found = tokio::task::spawn_blocking(move || -> Result<Vec<String>, ApiError> {
        Ok(answer(&log, &index, &criteria, and)?
            .values()
            .map(hex::encode)
            .collect())
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "search failed"))??;
    Ok(Json(found).into_response())
}

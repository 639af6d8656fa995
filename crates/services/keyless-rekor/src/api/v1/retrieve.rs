//! `POST /api/v1/log/entries/retrieve`: Rekor v1's `SearchLogQuery`,
//! `{"entryUUIDs": [...], "logIndexes": [...], "entries": [...]}`,
//! answered with an array of `LogEntry` maps, each exactly what
//! `GET /api/v1/log/entries?logIndex=` answers for that entry (body,
//! integrated time, SET, inclusion proof), all proved against one
//! checkpoint.
//!
//! As in Rekor: at most [`MAX_QUERIES`] queries in all three lists
//! together (more is a 422), the answers listed UUIDs first, then
//! proposed entries, then indices, each list in the order asked; an
//! index, UUID or entry the log does not have (or not yet under its
//! published checkpoint) is left out of the answer, not an error, and a
//! repeated query is answered again. A UUID is 64 hex characters, or
//! Rekor's 80-hex entry ID with the tree ID in front (as for
//! `GET /api/v1/log/entries/{uuid}`). `entries` finds an entry by the
//! proposed entry that made it: each is parsed and verified as
//! `POST /api/v1/log/entries` does and looked up by its canonical body's
//! leaf hash. Unlike Rekor, an unknown field is a 400 (a misspelt list
//! would otherwise be an empty answer), and an empty list is a 422 as
//! Rekor's schema (`minItems: 1`) makes it. The request body is capped
//! like every POST ([`crate::Limits::max_body`]); the endpoint reads and
//! never writes.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::entry::{blocking, entry_at, find, parse_uuid};
use crate::api::error::{body, error_chain, ApiError};
use crate::entries::v1::parse_request;
use keyless_log::Log;

/// Most queries (UUIDs, indices and entries together) in one request:
/// Rekor's `maxSearchQueries`.
pub const MAX_QUERIES: usize = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    #[serde(default, rename = "entryUUIDs")]
    entry_uuids: Option<Vec<String>>,
    #[serde(default, rename = "logIndexes")]
    log_indexes: Option<Vec<i64>>,
    #[serde(default)]
    entries: Option<Vec<Value>>,
}

/// One query, checked: what to look up.
enum Wanted {
    Leaf([u8; 32]),
    Index(u64),
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// A list given, but empty: Rekor's schema refuses it.
fn non_empty<T>(list: Option<Vec<T>>, name: &str) -> Result<Vec<T>, ApiError> {
    match list {
        Some(l) if l.is_empty() => Err(unprocessable(format!(
            "{name} is empty; leave it out or name at least one"
        ))),
        l => Ok(l.unwrap_or_default()),
    }
}

/// The queries of a request, in answer order, every one checked before
/// anything is read.
fn parse(raw: &[u8]) -> Result<Vec<Wanted>, ApiError> {
    let malformed = |e: serde_json::Error| {
        ApiError::bad_request(format!(
            "malformed entries query (want {{\"entryUUIDs\": [hex], \"logIndexes\": [integer], \"entries\": [proposed entry]}}): {e}"
        ))
    };
    // An object: serde would also take the fields as a JSON array.
    let q: serde_json::Map<String, Value> = serde_json::from_slice(raw).map_err(malformed)?;
    let q: Query = serde_json::from_value(Value::Object(q)).map_err(malformed)?;
    let uuids = non_empty(q.entry_uuids, "entryUUIDs")?;
    let indexes = non_empty(q.log_indexes, "logIndexes")?;
    let entries = non_empty(q.entries, "entries")?;
    let total = uuids.len() + indexes.len() + entries.len();
    if total > MAX_QUERIES {
        return Err(unprocessable(format!(
            "at most {MAX_QUERIES} queries (entryUUIDs, logIndexes and entries together) per request, got {total}"
        )));
    }
    let mut wanted = Vec::with_capacity(total);
    for id in &uuids {
        wanted.push(Wanted::Leaf(parse_uuid(id)?));
    }
    for (i, e) in entries.iter().enumerate() {
        let raw = serde_json::to_vec(e)
            .map_err(|_| ApiError::bad_request(format!("entries[{i}] is not JSON")))?;
        let entry = parse_request(&raw)
            .map_err(|e| ApiError::bad_request(format!("entries[{i}]: {}", error_chain(&e))))?;
        wanted.push(Wanted::Leaf(keyless_tlog::leaf_hash(&entry.body)));
    }
    for index in indexes {
        let index = u64::try_from(index)
            .map_err(|_| unprocessable(format!("logIndexes must be non-negative, got {index}")))?;
        wanted.push(Wanted::Index(index));
    }
    Ok(wanted)
}

pub(in crate::api) async fn retrieve(
    State(log): State<Log>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let raw = body(&headers, raw)?;
    // Parsing `entries` verifies signatures: off the async workers too.
    let found = blocking("entries query", move || {
        let wanted = parse(&raw)?;
        // One checkpoint for the whole answer.
        let cp = log.published();
        let mut found = Vec::with_capacity(wanted.len());
        for w in wanted {
            let index = match w {
                Wanted::Index(i) => Some(i),
                Wanted::Leaf(leaf) => find(&log, &leaf)?,
            };
            if let Some(value) = index.map(|i| entry_at(&log, i, &cp)).transpose()?.flatten() {
                found.push(value);
            }
        }
        Ok(found)
    })
    .await?;
    Ok(Json(found).into_response())
}

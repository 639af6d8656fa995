//! Reading a Rekor v1 log's entries [`MAX_BATCH`] at a time with
//! `POST /api/v1/log/entries/retrieve` (`{"logIndexes": [...]}`), where
//! the log answers it, instead of one `GET ?logIndex=` per entry. A log
//! that does not (see [`retrieve`]) is asked one entry at a time for the
//! rest of the pass. What a batch answers is checked as strictly as a
//! single entry: exactly the indices asked for, each once, each with a
//! base64 body; and the bodies' leaf hashes are still folded into the
//! frontier and compared with the signed checkpoint.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use crate::fetch::{FetchError, Fetcher};
use crate::read::ReadError;

/// Most entries asked for in one request: Rekor refuses a search query of
/// more than 10 (`maxSearchQueries`, 422).
pub const MAX_BATCH: u64 = 10;

/// Largest answer read for one batch: [`MAX_BATCH`] entries with their
/// proofs. A batch whose answer is larger is read one entry at a time
/// (each capped at [`crate::fetch::MAX_API_RESPONSE`]).
pub const MAX_BATCH_RESPONSE: usize = 16 * 1024 * 1024;

/// Whether the log answers the batch read, as learnt during a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchRead {
    /// Not asked yet.
    Unknown,
    /// It answered a batch.
    Supported,
    /// It said it has no such endpoint: one entry per request.
    Unsupported,
}

/// What one batch request gave.
pub(crate) enum Retrieved {
    /// The bodies of entries `first..first + n`, in order.
    Bodies(Vec<Vec<u8>>),
    /// The log has no batch read.
    Unsupported,
    /// The answer was over [`MAX_BATCH_RESPONSE`]: read these one by one.
    TooLarge,
}

fn malformed(what: impl Into<String>) -> ReadError {
    ReadError::Malformed(what.into())
}

/// The bodies of entries `first..first + n` (`n` at most [`MAX_BATCH`]).
pub(crate) async fn retrieve(fetch: &Fetcher, first: u64, n: u64) -> Result<Retrieved, ReadError> {
    let n = n.min(MAX_BATCH);
    let indexes: Vec<u64> = (first..first + n).collect();
    let body = serde_json::json!({ "logIndexes": indexes });
    let bytes = match fetch
        .post_json("api/v1/log/entries/retrieve", &body, MAX_BATCH_RESPONSE)
        .await
    {
        Ok(b) => b,
        // No such endpoint (404; 405 where the path is taken by the
        // GET of an entry by UUID, as in keyless's own log before it
        // had the batch read; 501), or a
        // query it will not take (400, 422: fewer per query): the
        // entries are then read one by one, checked the same way.
        Err(FetchError::Status {
            status: 400 | 404 | 405 | 422 | 501,
            ..
        }) => return Ok(Retrieved::Unsupported),
        Err(FetchError::TooLarge { .. }) => return Ok(Retrieved::TooLarge),
        Err(e) => return Err(e.into()),
    };
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|_| malformed("entries/retrieve: not JSON"))?;
    let list = v
        .as_array()
        .ok_or_else(|| malformed("entries/retrieve: not a list of entries"))?;
    if list.len() as u64 != n {
        return Err(malformed(format!(
            "entries/retrieve: asked for {n} entries from {first}, the log answered {}",
            list.len()
        )));
    }
    let mut bodies: Vec<Option<Vec<u8>>> = vec![None; indexes.len()];
    for item in list {
        let (_, e) = item
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.iter().next())
            .ok_or_else(|| malformed("entries/retrieve: an item is not one entry"))?;
        let index = e["logIndex"]
            .as_u64()
            .filter(|i| (first..first + n).contains(i))
            .ok_or_else(|| {
                malformed(format!(
                    "entries/retrieve: an entry that is not one of {first}..{}",
                    first + n
                ))
            })?;
        let slot = &mut bodies[(index - first) as usize];
        if slot.is_some() {
            return Err(malformed(format!(
                "entries/retrieve: entry {index} answered twice"
            )));
        }
        let body = e["body"]
            .as_str()
            .and_then(|b| STANDARD.decode(b).ok())
            .ok_or_else(|| malformed(format!("entry {index}: no base64 body")))?;
        *slot = Some(body);
    }
    // n answers, each a distinct index of the n asked: all are present.
    Ok(Retrieved::Bodies(bodies.into_iter().flatten().collect()))
}

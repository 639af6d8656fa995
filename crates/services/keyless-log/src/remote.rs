//! A client for any C2SP tlog-tiles log: fetch and verify checkpoints,
//! compute Merkle hashes from tiles, and check that a log's current tree
//! extends a checkpoint remembered earlier (`keyless log verify
//! --from-checkpoint`). Only the tiles are fetched, never a server-made
//! proof, so this works against other tiled logs too. The client trusts
//! `keyless --ca-bundle FILE`'s private CA roots (`keyless_ca_bundle::trust`)
//! and gives up on a log that stalls.

use std::collections::HashMap;
use std::time::Duration;

use keyless_ca_bundle::BodyError;
use keyless_tlog::note::MAX_NOTE_SIZE;
use keyless_tlog::tile_proof::{consistency_proof_from_tiles, HashTiles};
use keyless_tlog::tiles::MAX_BUNDLE_ENTRY;
use keyless_tlog::{
    verify_consistency, Checkpoint, Hash, NoteVerifier, SignedNote, TileId, TileKind,
};
use thiserror::Error;

/// Longest a connection to the log may take to open: an address that drops
/// packets fails the check instead of hanging `keyless log verify`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one request may take, body included: a log that stops answering
/// mid-body must not hang the check forever, and 60 s still reads the
/// largest answer (an entry bundle of 256 entries of at most 64 KiB) over
/// a slow link.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a remote log could not be read or did not check out.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The HTTP client could not be built (the `--ca-bundle` roots).
    #[error(transparent)]
    CaBundle(#[from] keyless_ca_bundle::ClientError),
    #[error("fetching {url}")]
    Fetch {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("fetching {url}: HTTP {status}")]
    FetchStatus { url: String, status: u16 },
    #[error("fetching {url}: the answer is over {max} bytes")]
    TooLarge { url: String, max: usize },
    #[error("{what} checkpoint: {reason}")]
    Checkpoint { what: &'static str, reason: String },
    /// The checkpoint is not a signed note this log's verifier accepts.
    #[error("{what} checkpoint")]
    CheckpointNote {
        what: &'static str,
        #[source]
        source: keyless_tlog::NoteError,
    },
    /// The note's body is not a checkpoint.
    #[error("{what} checkpoint")]
    CheckpointBody {
        what: &'static str,
        #[source]
        source: keyless_tlog::CheckpointError,
    },
    #[error("the log's origin changed from {old:?} to {new:?}")]
    OriginChanged { old: String, new: String },
    #[error("the log shrank from {old} to {new} entries: it rewrote its history")]
    Shrunk { old: u64, new: u64 },
    #[error("tile {path} is malformed: {reason}")]
    Tile { path: String, reason: String },
    #[error("the current tree ({new} entries) is not an extension of the remembered one ({old} entries)")]
    Inconsistent {
        old: u64,
        new: u64,
        #[source]
        source: keyless_tlog::ProofError,
    },
}

/// Reads tiles from a log's base URL, caching them per call.
pub struct TileClient {
    base: String,
    http: reqwest::Client,
    cache: HashMap<TileId, Vec<u8>>,
}

impl TileClient {
    /// A client for the log at `base_url`, trusting the system's roots and
    /// the `--ca-bundle` ones, with [`CONNECT_TIMEOUT`] and
    /// [`REQUEST_TIMEOUT`]. Fails if the bundle cannot be used.
    pub fn new(base_url: &str) -> Result<Self, RemoteError> {
        let http = keyless_ca_bundle::client(CONNECT_TIMEOUT, REQUEST_TIMEOUT)?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_string(),
            http,
            cache: HashMap::new(),
        })
    }

    /// GET `path` and read at most `max` bytes of the answer: the log is
    /// untrusted input.
    async fn get(&self, path: &str, max: usize) -> Result<Vec<u8>, RemoteError> {
        let url = format!("{}/{path}", self.base);
        let fail = |source| RemoteError::Fetch {
            url: url.clone(),
            source,
        };
        let resp = self.http.get(&url).send().await.map_err(fail)?;
        if !resp.status().is_success() {
            return Err(RemoteError::FetchStatus {
                url,
                status: resp.status().as_u16(),
            });
        }
        keyless_ca_bundle::read_capped(resp, max as u64)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge { .. } => RemoteError::TooLarge {
                    url: url.clone(),
                    max,
                },
                BodyError::Http(source) => fail(source),
            })
    }

    /// The log's current checkpoint text.
    pub async fn checkpoint_text(&self) -> Result<String, RemoteError> {
        let b = self.get("checkpoint", MAX_NOTE_SIZE).await?;
        String::from_utf8(b).map_err(|_| RemoteError::Checkpoint {
            what: "current",
            reason: "not UTF-8".into(),
        })
    }

    /// A tile (or entry bundle), fetched once.
    pub async fn tile(&mut self, id: TileId) -> Result<&[u8], RemoteError> {
        if !self.cache.contains_key(&id) {
            // A hash tile is `width` hashes; an entry bundle at most
            // `width` entries of at most MAX_BUNDLE_ENTRY bytes, each
            // after its two-byte length.
            let max = match id.kind {
                TileKind::Hashes { .. } => usize::from(id.width) * 32,
                TileKind::Entries => usize::from(id.width) * (2 + MAX_BUNDLE_ENTRY),
            };
            let data = self.get(&id.path(), max).await?;
            let ok = match id.kind {
                TileKind::Hashes { .. } => data.len() == usize::from(id.width) * 32,
                TileKind::Entries => true,
            };
            if !ok {
                return Err(RemoteError::Tile {
                    path: id.path(),
                    reason: format!("{} bytes", data.len()),
                });
            }
            self.cache.insert(id, data);
        }
        Ok(self.cache.get(&id).map(Vec::as_slice).unwrap_or_default())
    }

    /// RFC 6962 consistency proof from `first` to `size`, computed from tiles.
    pub async fn consistency_proof(
        &mut self,
        first: u64,
        size: u64,
    ) -> Result<Vec<Hash>, RemoteError> {
        consistency_proof_from_tiles(self, first, size).await
    }
}

impl HashTiles for TileClient {
    type Error = RemoteError;

    async fn hash_tile(&mut self, id: TileId) -> Result<&[u8], RemoteError> {
        self.tile(id).await
    }

    fn malformed(&self, path: String, reason: &str) -> RemoteError {
        RemoteError::Tile {
            path,
            reason: reason.into(),
        }
    }
}

/// Parse and verify a checkpoint note.
pub fn verify_checkpoint(
    text: &str,
    verifier: &NoteVerifier,
    what: &'static str,
) -> Result<Checkpoint, RemoteError> {
    let err = |source| RemoteError::CheckpointNote { what, source };
    let note = SignedNote::parse(text).map_err(err)?;
    note.verify(verifier).map_err(err)?;
    Checkpoint::parse(note.body()).map_err(|source| RemoteError::CheckpointBody { what, source })
}

/// Check that the log at `url` still contains the tree of a checkpoint
/// remembered earlier, and return its (verified) current checkpoint.
pub async fn verify_consistency_remote(
    url: &str,
    old_checkpoint_text: &str,
    verifier: &NoteVerifier,
) -> Result<Checkpoint, RemoteError> {
    let old = verify_checkpoint(old_checkpoint_text, verifier, "remembered")?;
    let mut client = TileClient::new(url)?;
    let new = verify_checkpoint(&client.checkpoint_text().await?, verifier, "current")?;
    if new.origin != old.origin {
        return Err(RemoteError::OriginChanged {
            old: old.origin,
            new: new.origin,
        });
    }
    if new.size < old.size {
        return Err(RemoteError::Shrunk {
            old: old.size,
            new: new.size,
        });
    }
    let proof = client.consistency_proof(old.size, new.size).await?;
    verify_consistency(old.size, new.size, &old.root_hash, &new.root_hash, &proof).map_err(
        |source| RemoteError::Inconsistent {
            old: old.size,
            new: new.size,
            source,
        },
    )?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers one request with `body`, announcing no
    /// length (the answer ends when the connection closes), so only the
    /// check while reading can stop it.
    async fn serve_once(body: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).await;
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                .await;
            let _ = conn.write_all(&body).await;
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn an_answer_over_the_cap_is_refused_while_reading() {
        let url = serve_once(vec![b'x'; MAX_NOTE_SIZE + 1]).await;
        let err = TileClient::new(&url)
            .unwrap()
            .checkpoint_text()
            .await
            .unwrap_err();
        assert!(
            matches!(err, RemoteError::TooLarge { max, .. } if max == MAX_NOTE_SIZE),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_hash_tile_longer_than_its_width_is_refused() {
        let url = serve_once(vec![0u8; 3 * 32 + 1]).await;
        let id = TileId {
            kind: TileKind::Hashes { level: 0 },
            index: 0,
            width: 3,
        };
        let err = TileClient::new(&url).unwrap().tile(id).await.unwrap_err();
        assert!(
            matches!(err, RemoteError::TooLarge { max: 96, .. }),
            "{err:?}"
        );
    }
}

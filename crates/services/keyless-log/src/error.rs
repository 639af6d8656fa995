//! Errors of the log library. Request-level errors (what a client sent
//! wrong) live in [`crate::api::ApiError`]; these are the log's own.

use std::sync::Arc;

use thiserror::Error;

/// Why the log could not start, store or sign.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LogError {
    /// The configuration cannot work (e.g. an origin a checkpoint cannot carry).
    #[error("invalid log configuration: {0}")]
    Config(String),
    /// Reading or writing durable state failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The data directory could not be created.
    #[error("creating the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The log key file could not be loaded or generated.
    #[error("log key")]
    KeyFile(#[source] keyless_keys::KeyError),
    /// The PKCS#11 token key could not be opened.
    #[error("log key on the PKCS#11 token")]
    Pkcs11(#[source] keyless_keys::Pkcs11Error),
    /// The log key failed to sign (a token that went away, say).
    #[error("log key: signing failed")]
    Signing(#[source] keyless_crypto::CryptoError),
    /// The log key is of a type that cannot sign checkpoints.
    #[error("log key: {algorithm:?} keys cannot sign checkpoints (Ed25519 or ECDSA only)")]
    UnsupportedKey {
        algorithm: keyless_crypto::KeyAlgorithm,
    },
    /// The origin cannot name a note signer.
    #[error("invalid log configuration: origin {origin:?}")]
    Origin {
        origin: String,
        #[source]
        source: keyless_tlog::NoteError,
    },
    /// A signed note could not be assembled.
    #[error("signing a checkpoint")]
    Note(#[source] keyless_tlog::NoteError),
    /// Durable state disagrees with itself; the log refuses to go on
    /// rather than publish a history that differs from one it signed.
    #[error("log state is inconsistent: {0}")]
    Corrupt(String),
    /// The stored checkpoint does not check out.
    #[error("log state is inconsistent: the stored checkpoint {problem}")]
    StoredCheckpoint {
        problem: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored tile or entry bundle does not decode.
    #[error("log state is inconsistent: {what} does not decode")]
    CorruptTile {
        what: String,
        #[source]
        source: keyless_tlog::TileError,
    },
    /// A proof or root was asked of the tree that it cannot answer.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The sequencer stopped (the log is shutting down or failed).
    #[error("the log's sequencer is not running")]
    SequencerStopped,
    /// Too many entries are waiting to be sequenced.
    #[error("the log is overloaded: {0} entries are waiting")]
    Overloaded(usize),
    /// An entry is larger than an entry bundle can frame.
    #[error("entry is {size} bytes, more than the {max}-byte limit")]
    EntryTooLarge { size: usize, max: usize },
    /// The log's [`crate::LeafHasher`] cannot hash this entry.
    #[error("entry is not one this log can hash into a leaf")]
    UnhashableEntry,
    /// The duplicate search of a batch failed (the entry index is in a
    /// database that did not answer); the batch's entries were not added.
    #[error("entry index lookup failed")]
    IndexLookup(#[source] Arc<LogError>),
    /// A thread of the log (sequencer, committer) could not be started.
    #[error("cannot start the {what} thread")]
    Thread {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Why a storage operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("{op} {path}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A stored tile or entry bundle does not decode.
    #[error("stored tile {path} is malformed")]
    Tile {
        path: String,
        #[source]
        source: keyless_tlog::TileError,
    },
    /// Stored bytes do not have the shape they must have.
    #[error("{what} is malformed: {problem}")]
    Malformed { what: String, problem: String },
    /// The data directory is locked by another open log (another process,
    /// or another `Log` in this one); two writers would corrupt it.
    #[error("data directory {dir} is in use by another keyless log (lock file {lock}); stop that log first")]
    Locked { dir: String, lock: String },
    /// A database backend (PostgreSQL) failed; `op` says what the log was doing.
    #[error("database: {op}")]
    Database {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StorageError {
    pub(crate) fn io(op: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.display().to_string(),
            source,
        }
    }
}

/// A proof or root was asked for a size or index the tree cannot answer.
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum TreeError {
    #[error("tree size {asked} is larger than the log ({size} entries)")]
    SizeTooLarge { asked: u64, size: u64 },
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error(
        "consistency proof from size {first} to {second}: sizes must satisfy 1 <= first <= second"
    )]
    BadConsistencyRange { first: u64, second: u64 },
    /// A complete tile the tree no longer keeps in memory could not be read.
    #[error("reading level-0 tile {tile} of the tree: {source}")]
    Tile {
        tile: u64,
        #[source]
        source: Arc<StorageError>,
    },
}

//! Errors. Each variant names the check of the TUF client workflow
//! (specification §5) that failed, with the expected and the found value.

use std::path::PathBuf;

/// Anything that can go wrong in a TUF update, a target download or a
/// repository operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be downloaded (including the endless-data limit).
    #[error("could not fetch {what} from {url}: {source}")]
    Fetch {
        what: String,
        url: String,
        #[source]
        source: FetchError,
    },
    /// A metadata file was downloaded (or read from the cache) but failed a check.
    #[error("{role} metadata rejected: {source}")]
    Metadata {
        role: String,
        #[source]
        source: MetadataError,
    },
    /// A target could not be found or did not match its trusted metadata.
    #[error("target {name:?}: {source}")]
    Target {
        name: String,
        #[source]
        source: TargetError,
    },
    /// Reading or writing local files failed.
    #[error("{path}: {source}")]
    Storage {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The caller asked for something that cannot work (bad URL, missing state).
    #[error("{0}")]
    Config(String),
    /// A repository (writer) operation failed.
    #[error("repository: {0}")]
    Repository(#[from] RepositoryError),
}

impl Error {
    /// The metadata check that failed, if this is a metadata error.
    pub fn metadata_error(&self) -> Option<&MetadataError> {
        match self {
            Error::Metadata { source, .. } => Some(source),
            _ => None,
        }
    }

    /// True when the failure is the network or the mirror being unreachable,
    /// not a verification failure: the only case where falling back to
    /// cached metadata is reasonable.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Error::Fetch {
                source: FetchError::Transport(_) | FetchError::HttpStatus(_),
                ..
            }
        )
    }

    pub(crate) fn metadata(role: &str, source: MetadataError) -> Self {
        Error::Metadata {
            role: role.to_string(),
            source,
        }
    }

    pub(crate) fn storage(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Storage {
            path: path.into(),
            source,
        }
    }
}

/// Why a download failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// HTTP 404 / no such file: for `N.root.json` this ends the rotation loop.
    #[error("not found")]
    NotFound,
    /// The server sent more than the most we accept (endless data attack, spec §5.2).
    #[error("more than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// A non-success HTTP status other than 404.
    #[error("HTTP status {0}")]
    HttpStatus(u16),
    /// The connection failed.
    #[error("transport: {0}")]
    Transport(String),
    /// The URL could not be formed.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
}

/// The check that a metadata file failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// Not JSON, or not the shape the specification gives (§4).
    #[error("malformed: {0}")]
    Malformed(String),
    /// `signed._type` is not the role we asked for.
    #[error("_type is {found:?}, expected {expected:?}")]
    WrongType { expected: String, found: String },
    /// `spec_version` has a major version other than 1.
    #[error("unsupported spec_version {0:?}")]
    UnsupportedSpecVersion(String),
    /// Fewer than a threshold of distinct keys signed (§5.3.5, §5.4.2, §5.5.3, §5.6.3).
    #[error("{0}")]
    Threshold(ThresholdError),
    /// A new root not signed by a threshold of the trusted root's root keys (§5.3.5).
    #[error("new root not signed by the trusted root: {0}")]
    RotationNotSignedByTrustedRoot(ThresholdError),
    /// A new root not signed by a threshold of its own root keys (§5.3.5).
    #[error("new root not signed by its own root keys: {0}")]
    RotationNotSignedByNewRoot(ThresholdError),
    /// Expired at the reference time (§5.3.10, §5.4.4, §5.5.6, §5.6.4: freeze attack).
    #[error("expired at {expires}, reference time {reference_time}")]
    Expired {
        expires: String,
        reference_time: String,
    },
    /// The version is lower than the trusted one (§5.4.3.1 rollback attack).
    #[error("version {new} is lower than the trusted version {trusted} (rollback)")]
    VersionRollback { trusted: u64, new: u64 },
    /// The version is not the one required (root N+1 §5.3.5, or the
    /// version listed by timestamp/snapshot §5.5.4, §5.6.4).
    #[error("version {found}, expected {expected}")]
    VersionMismatch { expected: u64, found: u64 },
    /// The timestamp lists a snapshot version lower than the trusted one (§5.4.3.2).
    #[error("snapshot version {new} in timestamp is lower than the trusted {trusted} (rollback)")]
    SnapshotMetaRollback { trusted: u64, new: u64 },
    /// The snapshot lists a targets role with a lower version than the trusted snapshot (§5.5.5).
    #[error("{file} version {new} in snapshot is lower than the trusted {trusted} (rollback)")]
    TargetsMetaRollback {
        file: String,
        trusted: u64,
        new: u64,
    },
    /// The snapshot dropped a targets role the trusted snapshot listed (§5.5.5).
    #[error("{file} is listed in the trusted snapshot but missing from the new one")]
    TargetsMetaRemoved { file: String },
    /// The timestamp or snapshot does not list the file we need.
    #[error("{file} is not listed in {listed_in}")]
    MetaMissing { file: String, listed_in: String },
    /// The file length differs from the trusted metadata (§5.5.2, §5.6.2).
    #[error("length {found}, expected {expected}")]
    LengthMismatch { expected: u64, found: u64 },
    /// A hash differs from the trusted metadata (§5.5.2, §5.6.2: mix-and-match).
    #[error("{algorithm} hash {found}, expected {expected}")]
    HashMismatch {
        algorithm: String,
        expected: String,
        found: String,
    },
    /// A hash algorithm we cannot check.
    #[error("unsupported hash algorithm {0:?}")]
    UnsupportedHash(String),
    /// A delegated role's metadata that no delegator lists.
    #[error("no delegation for role {0:?}")]
    UnknownRole(String),
}

/// Not enough distinct keys signed. `valid_keyids` lists the key IDs whose
/// signatures verified (one per distinct key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{role} needs signatures from {threshold} distinct keys, {valid} verified (key IDs {valid_keyids:?}, {signatures} signatures present)")]
pub struct ThresholdError {
    pub role: String,
    pub threshold: u64,
    pub valid: usize,
    pub valid_keyids: Vec<String>,
    pub signatures: usize,
}

/// Why a target could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// No role on the delegation path lists the target (§5.7.7).
    #[error("not listed by any trusted targets role")]
    NotFound,
    /// The downloaded file has the wrong length (§5.7.3).
    #[error("length {found}, expected {expected}")]
    LengthMismatch { expected: u64, found: u64 },
    /// The downloaded file has the wrong hash (§5.7.3).
    #[error("{algorithm} hash {found}, expected {expected}")]
    HashMismatch {
        algorithm: String,
        expected: String,
        found: String,
    },
    /// The target metadata lists a hash we cannot check, or none.
    #[error("unsupported or missing hash algorithm {0:?}")]
    UnsupportedHash(String),
    /// The target name cannot be stored or fetched safely.
    #[error("invalid target path: {0}")]
    InvalidPath(String),
}

/// A repository-writer failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepositoryError {
    #[error("key: {0}")]
    Key(#[from] keyless_crypto::CryptoError),
    #[error("no such role {0:?}")]
    UnknownRole(String),
    #[error("no signing key for {role}: {detail}")]
    MissingKey { role: String, detail: String },
    #[error("invalid state: {0}")]
    State(String),
}

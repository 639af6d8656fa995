//! The checks a metadata file can fail, apart from the top-level errors so
//! that the modules which run the checks (`metadata.rs`, `keys.rs`) do not
//! import the module whose `RepositoryError` names their key errors.

/// The check that a metadata file failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// Not the shape the specification gives (§4).
    #[error("malformed: {0}")]
    Malformed(String),
    /// Not JSON, or JSON of another shape (the parser's error is the source).
    #[error("malformed JSON")]
    Json(#[source] std::sync::Arc<serde_json::Error>),
    /// `signed` has no canonical JSON form.
    #[error("no canonical form")]
    Canonical(#[source] crate::cjson::CanonicalJsonError),
    /// `signed._type` is not the role we asked for.
    #[error("_type is {found:?}, expected {expected:?}")]
    WrongType { expected: String, found: String },
    /// `spec_version` has a major version other than 1.
    #[error("unsupported spec_version {0:?}")]
    UnsupportedSpecVersion(String),
    /// Fewer than a threshold of distinct keys signed (§5.3.5, §5.4.2, §5.5.3, §5.6.3).
    #[error("signature threshold not met: {0}")]
    Threshold(ThresholdError),
    /// Two entries of `signatures` carry the same key ID (§4.2: key IDs
    /// MUST be unique there). Refused outright, not merely counted once.
    #[error("duplicate signature key ID {keyid} (key IDs in signatures must be unique)")]
    DuplicateSignatureKeyid { keyid: String },
    /// A new root not signed by a threshold of the trusted root's root keys (§5.3.5).
    #[error("new root not signed by the trusted root: {0}")]
    RotationNotSignedByTrustedRoot(ThresholdError),
    /// A new root not signed by a threshold of its own root keys (§5.3.5).
    #[error("new root not signed by its own root keys: {0}")]
    RotationNotSignedByNewRoot(ThresholdError),
    /// Expired at the reference time (§5.3.10, §5.4.4, §5.5.6, §5.6.4: freeze attack).
    #[error("expired at {expires}, reference time {reference_time} (freeze attack protection)")]
    Expired {
        expires: String,
        reference_time: String,
    },
    /// The version is lower than the trusted one (§5.4.3.1 rollback attack).
    #[error("version rollback from {trusted} to {new}")]
    VersionRollback { trusted: u64, new: u64 },
    /// The version is not the one required (root N+1 §5.3.5, or the
    /// version listed by timestamp/snapshot §5.5.4, §5.6.4).
    #[error("version {found} where version {expected} is required")]
    VersionMismatch { expected: u64, found: u64 },
    /// The timestamp lists a snapshot version lower than the trusted one (§5.4.3.2).
    #[error("snapshot.json version rollback from {trusted} to {new} in the timestamp")]
    SnapshotMetaRollback { trusted: u64, new: u64 },
    /// The snapshot lists a targets role with a lower version than the trusted snapshot (§5.5.5).
    #[error("{file} version rollback from {trusted} to {new} in the snapshot")]
    TargetsMetaRollback {
        file: String,
        trusted: u64,
        new: u64,
    },
    /// The snapshot dropped a targets role the trusted snapshot listed (§5.5.5).
    #[error("{file} is listed in the trusted snapshot but missing from the new one (rollback)")]
    TargetsMetaRemoved { file: String },
    /// The timestamp or snapshot does not list the file we need.
    #[error("{file} is not listed in {listed_in}")]
    MetaMissing { file: String, listed_in: String },
    /// The file length differs from the trusted metadata (§5.5.2, §5.6.2).
    #[error("length {found}, expected {expected} (mix-and-match protection)")]
    LengthMismatch { expected: u64, found: u64 },
    /// A hash differs from the trusted metadata (§5.5.2, §5.6.2: mix-and-match).
    #[error("{algorithm} hash {found}, expected {expected} (mix-and-match protection)")]
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

impl MetadataError {
    /// A short stable name of the check (see [`crate::Error::check`]).
    pub fn check(&self) -> &'static str {
        match self {
            MetadataError::Malformed(_) | MetadataError::Json(_) | MetadataError::Canonical(_) => {
                "malformed"
            }
            MetadataError::WrongType { .. } => "wrong-type",
            MetadataError::UnsupportedSpecVersion(_) => "spec-version",
            MetadataError::Threshold(_) => "threshold",
            MetadataError::DuplicateSignatureKeyid { .. } => "duplicate-signature-keyid",
            MetadataError::RotationNotSignedByTrustedRoot(_) => "rotation-trusted-root-threshold",
            MetadataError::RotationNotSignedByNewRoot(_) => "rotation-new-root-threshold",
            MetadataError::Expired { .. } => "expired",
            MetadataError::VersionRollback { .. }
            | MetadataError::SnapshotMetaRollback { .. }
            | MetadataError::TargetsMetaRollback { .. }
            | MetadataError::TargetsMetaRemoved { .. } => "rollback",
            MetadataError::VersionMismatch { .. } => "version",
            MetadataError::MetaMissing { .. } => "meta-missing",
            MetadataError::LengthMismatch { .. } => "length",
            MetadataError::HashMismatch { .. } => "hash",
            MetadataError::UnsupportedHash(_) => "unsupported-hash",
            MetadataError::UnknownRole(_) => "unknown-role",
        }
    }
}

/// Not enough distinct keys signed. `valid_keyids` lists the key IDs whose
/// signatures verified (one per distinct key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{valid} of {threshold} required signatures from distinct keys verified (verified key IDs {valid_keyids:?}, {signatures} signatures present)")]
pub struct ThresholdError {
    pub role: String,
    pub threshold: u64,
    pub valid: usize,
    pub valid_keyids: Vec<String>,
    pub signatures: usize,
}

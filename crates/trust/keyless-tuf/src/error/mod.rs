//! Errors. Each variant names the check of the TUF client workflow
//! (specification §5) that failed, with the expected and the found value.

use std::path::PathBuf;

mod metadata;

pub use metadata::{MetadataError, ThresholdError};

/// Anything that can go wrong in a TUF update, a target download or a
/// repository operation.
///
/// Every message starts with `TUF:` and names the file and the check that
/// failed. The cause is a [`std::error::Error::source`], never repeated in
/// the `Display` of the outer error: printed as a chain (`{:#}` of
/// `anyhow`, or [`Error::report`]) each cause shows once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be downloaded: the mirror's HTTP status, the
    /// endless-data limit, or an unreachable mirror (see [`Error::is_unreachable`]).
    #[error("TUF: {what}: could not fetch {url}")]
    Fetch {
        what: String,
        url: String,
        #[source]
        source: FetchError,
    },
    /// A metadata file was downloaded (or read from the cache) but failed a check.
    #[error("TUF: {}.json{} rejected", .role, version_suffix(.version))]
    Metadata {
        role: String,
        /// The version of the refused file, when it is known (a root rotation
        /// names the version it expected).
        version: Option<u64>,
        #[source]
        source: MetadataError,
    },
    /// A target could not be found or did not match its trusted metadata.
    #[error("TUF: target {name:?} rejected")]
    Target {
        name: String,
        #[source]
        source: TargetError,
    },
    /// Reading or writing local files failed.
    #[error("TUF: cache file {}", .path.display())]
    Storage {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The mirror could not be reached and the cached metadata cannot be
    /// used offline either (expired, missing or failing a check): the cause
    /// says why the cache was refused.
    #[error("TUF: the mirror {mirror} could not be reached ({reason}) and the cached metadata cannot be used offline")]
    Offline {
        mirror: String,
        reason: String,
        #[source]
        source: Box<Error>,
    },
    /// The caller asked for something that cannot work (bad URL, missing state).
    #[error("TUF: {0}")]
    Config(String),
    /// A repository (writer) operation failed.
    #[error("TUF repository")]
    Repository(#[from] RepositoryError),
}

/// ` vN` after a file name when the version is known.
fn version_suffix(v: &Option<u64>) -> String {
    v.map(|v| format!(" v{v}")).unwrap_or_default()
}

impl Error {
    /// The metadata check that failed, if this is a metadata error.
    pub fn metadata_error(&self) -> Option<&MetadataError> {
        match self {
            Error::Metadata { source, .. } => Some(source),
            Error::Offline { source, .. } => source.metadata_error(),
            _ => None,
        }
    }

    /// True only when the mirror could not be reached at all (cannot
    /// connect, DNS failure, timeout): the one case where falling back to
    /// unexpired cached metadata is reasonable. An HTTP error status is an
    /// answer from the mirror, so a failed update, never "offline": a
    /// hostile mirror answering 503 must not freeze the client on its cache.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Error::Fetch {
                source: FetchError::Transport(_),
                ..
            }
        )
    }

    /// The error and each of its causes, joined with `": "`: what `{:#}`
    /// of `anyhow` prints, for callers that print without `anyhow`.
    pub fn report(&self) -> String {
        let mut out = self.to_string();
        let mut cur = std::error::Error::source(self);
        while let Some(e) = cur {
            out.push_str(": ");
            out.push_str(&e.to_string());
            cur = e.source();
        }
        out
    }

    /// A short stable name of the check that failed (e.g. `"rollback"`,
    /// `"threshold"`, `"http-status"`, `"expired"`), for callers that act on
    /// the kind of refusal or count them, without matching every variant.
    pub fn check(&self) -> &'static str {
        match self {
            Error::Fetch { source, .. } => match source {
                FetchError::NotFound => "not-found",
                FetchError::TooLarge { .. } => "too-large",
                FetchError::HttpStatus(_) => "http-status",
                FetchError::Transport(_) => "unreachable",
                FetchError::Io(_) => "transfer",
                FetchError::InvalidUrl(_) => "invalid-url",
            },
            Error::Metadata { source, .. } => source.check(),
            Error::Target { source, .. } => match source {
                TargetError::NotFound => "target-not-found",
                TargetError::LengthMismatch { .. } => "length",
                TargetError::HashMismatch { .. } => "hash",
                TargetError::UnsupportedHash(_) => "unsupported-hash",
                TargetError::InvalidPath(_) => "invalid-path",
            },
            Error::Storage { .. } => "storage",
            Error::Offline { source, .. } => source.check(),
            Error::Config(_) => "config",
            Error::Repository(_) => "repository",
        }
    }

    pub(crate) fn metadata(role: &str, source: MetadataError) -> Self {
        Error::Metadata {
            role: role.to_string(),
            version: None,
            source,
        }
    }

    /// A metadata error about a file of known version.
    pub(crate) fn metadata_at(role: &str, version: u64, source: MetadataError) -> Self {
        Error::Metadata {
            role: role.to_string(),
            version: Some(version),
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

/// A transport or I/O error, shared so that [`FetchError`] stays `Clone`.
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// Why a download failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// HTTP 404 / no such file: for `N.root.json` this ends the rotation loop.
    #[error("not found on the mirror")]
    NotFound,
    /// The server sent more than the most we accept (endless data attack, spec §5.2).
    #[error("more than the limit of {limit} bytes (endless data)")]
    TooLarge { limit: u64 },
    /// A non-success HTTP status other than 404: the mirror answered, so
    /// this is a failed update, not an unreachable mirror.
    #[error("the mirror answered HTTP status {0}")]
    HttpStatus(u16),
    /// The mirror could not be reached: cannot connect, DNS failure,
    /// timeout. The only fetch error that counts as "offline".
    #[error("mirror unreachable")]
    Transport(#[source] Cause),
    /// The transfer failed after the mirror answered, or a local read
    /// failed: a failed update, not "offline".
    #[error("transfer failed")]
    Io(#[source] Cause),
    /// The URL could not be formed.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
}

impl FetchError {
    /// [`FetchError::Transport`] from any error (or message).
    pub fn transport(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Transport(Cause::from(e.into()))
    }

    /// [`FetchError::Io`] from any error (or message).
    pub fn io(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Io(Cause::from(e.into()))
    }
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
    #[error("signing key")]
    Key(#[from] keyless_crypto::CryptoError),
    #[error("no such role {0:?}")]
    UnknownRole(String),
    #[error("no signing key for {role}: {detail}")]
    MissingKey { role: String, detail: String },
    #[error("invalid state: {0}")]
    State(String),
    /// A repository key is not usable as a TUF key, or signing failed.
    #[error("TUF key")]
    TufKey(#[from] crate::keys::KeyError),
    /// Metadata or saved state could not be encoded or decoded.
    #[error("repository JSON")]
    Json(#[from] serde_json::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error's segments as `{:#}` of anyhow prints them.
    fn segments(e: &Error) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut cur = std::error::Error::source(e);
        while let Some(c) = cur {
            out.push(c.to_string());
            cur = c.source();
        }
        out
    }

    /// Every variant with a cause prints that cause once in its chain: the
    /// outer `Display` does not repeat its source.
    #[test]
    fn no_variant_repeats_its_source() {
        let errors = vec![
            Error::Fetch {
                what: "timestamp".into(),
                url: "https://m/timestamp.json".into(),
                source: FetchError::HttpStatus(503),
            },
            Error::metadata_at(
                "root",
                3,
                MetadataError::Threshold(ThresholdError {
                    role: "root".into(),
                    threshold: 2,
                    valid: 1,
                    valid_keyids: vec!["ab".into()],
                    signatures: 1,
                }),
            ),
            Error::Target {
                name: "a".into(),
                source: TargetError::NotFound,
            },
            Error::storage(
                "/c/timestamp.json",
                std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"),
            ),
            Error::Offline {
                mirror: "https://m".into(),
                reason: "mirror unreachable".into(),
                source: Box::new(Error::metadata(
                    "timestamp",
                    MetadataError::VersionRollback { trusted: 5, new: 3 },
                )),
            },
            Error::Repository(RepositoryError::State("x".into())),
        ];
        for e in &errors {
            let segs = segments(e);
            assert!(segs.len() >= 2, "{segs:?}");
            for (i, s) in segs.iter().enumerate() {
                for later in &segs[i + 1..] {
                    assert!(!s.contains(later.as_str()), "{s:?} repeats {later:?}");
                }
            }
            assert_eq!(segs.join(": "), e.report());
        }
        assert_eq!(
            errors[1].report(),
            "TUF: root.json v3 rejected: signature threshold not met: 1 of 2 required signatures from distinct keys verified (verified key IDs [\"ab\"], 1 signatures present)"
        );
        assert_eq!(
            errors[4].report(),
            "TUF: the mirror https://m could not be reached (mirror unreachable) and the cached metadata cannot be used offline: TUF: timestamp.json rejected: version rollback from 5 to 3"
        );
        assert_eq!(errors[4].check(), "rollback");
    }
}

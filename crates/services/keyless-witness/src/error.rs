//! Why a checkpoint was not cosigned, and the HTTP status the
//! tlog-witness spec gives each case.

use thiserror::Error;

/// A refused request or a witness that cannot work.
#[derive(Debug, Error)]
pub enum WitnessError {
    /// The request body is not a well-formed add-checkpoint body (400).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The old size is larger than the checkpoint size (400).
    #[error("old size {old} is larger than the checkpoint size {size}")]
    OldSizeTooLarge { old: u64, size: u64 },
    /// No log with this origin is configured (404).
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// No signature verifies with the origin's keys (403).
    #[error("no signature from a trusted key of {0:?} verifies")]
    BadSignature(String),
    /// The old size is not the size of the stored checkpoint (409,
    /// `text/x.tlog.size` body with the stored size).
    #[error("old size {old} does not match the latest cosigned size {stored}")]
    SizeConflict { old: u64, stored: u64 },
    /// Same size as the stored checkpoint with another root hash: the log
    /// shows two different trees (409).
    #[error("the log shows two trees of size {size} with different roots")]
    Fork { size: u64 },
    /// The consistency proof does not verify (422).
    #[error("consistency proof does not verify: {0}")]
    BadProof(#[from] keyless_tlog::ProofError),
    /// The stored state could not be read or written (500).
    #[error("witness state: {0}")]
    Storage(String),
    /// Signing failed (500).
    #[error("cosigning: {0}")]
    Cosign(#[from] crate::cosign::CosignError),
    /// Bad configuration (start-up only).
    #[error("configuration: {0}")]
    Config(String),
}

impl WitnessError {
    /// The HTTP status code the spec prescribes.
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) | Self::OldSizeTooLarge { .. } => 400,
            Self::BadSignature(_) => 403,
            Self::UnknownOrigin(_) => 404,
            Self::SizeConflict { .. } | Self::Fork { .. } => 409,
            Self::BadProof(_) => 422,
            Self::Storage(_) | Self::Cosign(_) | Self::Config(_) => 500,
        }
    }
}

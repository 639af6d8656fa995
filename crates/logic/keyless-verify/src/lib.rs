//! Sigstore bundle verification: trust material + policy + artifact →
//! verified, or an error that names the failed check.
//!
//! ```text
//! Bundle::from_json        step 0: structure (keyless-types)
//! signature::*             step 4: signature over the artifact / DSSE + subjects
//! tlog::verify_entry       step 1: log entries, bound to the bundle; SET; proof + checkpoint
//! timestamp::*             step 2: RFC 3161 timestamps → verified times
//! certificate::*           step 3: chain at every verified time, SCT, identity
//! policy::Policy           who must have signed
//! witness_policy, witnessed optional: N witnesses cosigned a checkpoint consistent with the bundle's
//! ```

mod artifact;
mod binding;
mod certificate;
pub mod error;
pub mod policy;
mod signature;
mod signer;
mod time;
mod timestamp;
mod tlog;
mod trust;
mod verifier;
pub mod witness_policy;
pub mod witnessed;

pub use artifact::Artifact;
pub use certificate::VerifiedCertificate;
pub use error::{ErrorKind, VerificationError};
pub use policy::{Identity, Matcher, Policy};
pub use time::{TimeSource, VerifiedTime};
pub use timestamp::VerifiedTimestamp;
pub use tlog::VerifiedEntry;
pub use trust::{TrustMaterial, TrustedAuthority, TrustedLog, PUBLIC_GOOD_TRUSTED_ROOT};
pub use verifier::{VerificationResult, Verifier, VerifierOptions};
pub use witness_policy::WitnessPolicy;
pub use witnessed::{WitnessError, WitnessedEntry};

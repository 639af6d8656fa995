//! RFC 3161 time-stamp tokens: parse and verify against trusted TSA chains.
//!
//! Rekor v2 entries carry no integrated time, so a Sigstore bundle proves
//! *when* it was signed with an RFC 3161 token over the signature bytes. This
//! crate answers one question: "did the TSA whose chain the trusted root lists
//! assert this genTime for these bytes?" It does no I/O and holds no policy
//! beyond RFC 3161 / RFC 5652; the trusted-root `validFor` window and the
//! signing-certificate lifetime are checked by the verifier, which has them.
//!
//! The [`issue`] module is the other half, for our own TSA: requests,
//! signed tokens and rejections.
//!
//! All ASN.1 goes through RustCrypto's `x509-tsp`, `cms`, `x509-cert` and
//! `der`; all cryptography through `keyless-crypto`; path validation through
//! `keyless-x509`.

mod error;
pub mod issue;
mod token;
mod verify;

pub use error::{
    AlgorithmRole, MalformedError, SignatureError, TspError, UntrustedError, ValidityBound,
};
pub use token::{TimestampToken, MAX_EMBEDDED_CERTS, MAX_TOKEN_LEN};

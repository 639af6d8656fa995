//! Keys, signatures and hashes for keyless.
//!
//! Everything cryptographic in the workspace goes through this crate so that
//! there is exactly one C crypto library (aws-lc-rs) and one place that maps
//! Sigstore's algorithm registry onto it. Formats (X.509, CMS, notes) live in
//! other crates and hand this crate plain bytes.

mod algorithm;
mod error;
mod hash;
mod key;
pub mod pem;
mod signer;
mod signing;

pub use algorithm::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm};
pub use error::CryptoError;
pub use hash::{sha256, sha256_concat, sha256_hex, Hasher};
pub use key::PublicKey;
pub use signer::Signer;
pub use signing::SigningKey;

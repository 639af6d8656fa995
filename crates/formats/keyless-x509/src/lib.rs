//! Fulcio certificate profile, RFC 5280 chain validation at a given time, and
//! embedded SCTs.
//!
//! Pure data, no I/O: callers hand in DER/PEM bytes, trusted material and a
//! verification time (Unix seconds). All ASN.1 goes through `der`/`x509-cert`,
//! and so do the TLS-encoded SCT lists (`x509-cert`'s `sct` feature).

mod cert;
mod chain;
mod error;
mod fulcio;
pub mod oid;
mod precert;
pub mod profile;
mod rfc6962;
mod sct;

pub use cert::Certificate;
pub use chain::{verify_chain, verify_chain_trusted, Purpose, TrustedChain, MAX_PATH_LEN};
pub use error::{
    ChainError, IdentityError, PemError, ProfileError, SctError, SctFailure, X509Error,
};
pub use fulcio::{fulcio_identity, FulcioIdentity};
pub use rfc6962::{
    ecdsa_sha256_sct, encode_digitally_signed, encode_sct_list, precert_signed_data,
    sct_signature_algorithm,
};
pub use sct::{embedded_scts, parse_sct_list, precert_tbs, verify_embedded_scts, CtLogKey, Sct};
/// `x509-cert`'s RFC 6962 types, which SCTs are read into and encoded from.
pub use x509_cert::ext::pkix::sct as sct_types;

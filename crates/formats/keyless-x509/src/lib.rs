//! Fulcio certificate profile, RFC 5280 chain validation at a given time, and
//! embedded SCTs.
//!
//! Pure data, no I/O: callers hand in DER/PEM bytes, trusted material and a
//! verification time (Unix seconds). All ASN.1 goes through `der`/`x509-cert`;
//! the only hand-written parser is the TLS-encoded SCT list, which no
//! maintained crate we depend on covers.

mod cert;
mod chain;
mod error;
mod fulcio;
pub mod oid;
mod sct;

pub use cert::Certificate;
pub use chain::{verify_chain, Purpose, MAX_PATH_LEN};
pub use error::{ChainError, IdentityError, SctError, SctFailure, X509Error};
pub use fulcio::{fulcio_identity, FulcioIdentity};
pub use sct::{embedded_scts, parse_sct_list, precert_tbs, verify_embedded_scts, CtLogKey, Sct};

//! The issuing side of RFC 3161, for our TSA: parse a TimeStampReq, sign a
//! TSTInfo into a TimeStampResp, or refuse with a PKIStatus rejection.
//!
//! Kept beside the verifier so that both read and write the same
//! structures; the verifier in this crate is the first check of every token
//! the builder makes.

mod builder;
mod error;
mod ess;
mod request;

pub use builder::{parse_rejection, rejection, TokenBuilder};
pub use error::{FailureInfo, IssueError, RequestError};
pub use ess::{EssCertIdV2, IssuerSerial, SigningCertificateV2, ID_AA_SIGNING_CERTIFICATE_V2};
pub use request::{TimestampRequest, MAX_NONCE_LEN, MAX_REQUEST_LEN};

//! The services a signer talks to, as traits (their HTTP implementations
//! are in [`crate::http`]). Their own module, re-exported from the crate
//! root, because both signers and the root name them.

use keyless_crypto::SigningKey;
use keyless_types::dsse::Envelope;
use keyless_types::wire;

use crate::error::SignError;

/// The certificate authority (Fulcio's job).
pub trait CertificateAuthority {
    /// Exchange an identity token and proof of possession of `key` for a
    /// certificate chain, leaf first, DER.
    fn signing_certificate(
        &self,
        token: &str,
        challenge: &str,
        key: &SigningKey,
    ) -> impl std::future::Future<Output = Result<Vec<Vec<u8>>, SignError>> + Send;
}

/// What is submitted to a transparency log.
///
/// `certificate` is the entry's verifier as DER: the signing certificate,
/// or, for a long-lived key (cosign's `--key`, [`KeySigner`]), the key's
/// SubjectPublicKeyInfo. The log clients tell the two apart by parsing (a
/// certificate never parses as an SPKI) and name them as Rekor expects.
#[derive(Debug, Clone)]
pub enum LogRequest<'a> {
    /// A signature over an artifact digest (hashedrekord).
    Message {
        digest: &'a [u8],
        signature: &'a [u8],
        certificate: &'a [u8],
        key_details: &'a str,
    },
    /// A DSSE envelope (dsse).
    Dsse {
        envelope: &'a Envelope,
        certificate: &'a [u8],
        key_details: &'a str,
    },
}

/// The transparency log (Rekor's job).
pub trait TransparencyLog {
    /// Submit an entry; returns it as a bundle carries it (with inclusion
    /// proof and checkpoint, and for Rekor v1 a signed entry timestamp).
    fn submit(
        &self,
        request: &LogRequest<'_>,
    ) -> impl std::future::Future<Output = Result<wire::TransparencyLogEntry, SignError>> + Send;

    /// Whether signing records an entry at all. `false` only when the user
    /// turned the log off (`--tlog-upload=false`): the bundle then has no
    /// log entry and verifies only where the verifier allows that.
    fn records(&self) -> bool {
        true
    }
}

/// An RFC 3161 timestamp authority.
pub trait TimestampAuthority {
    /// A DER TimeStampResp over `signature`.
    fn timestamp(
        &self,
        signature: &[u8],
    ) -> impl std::future::Future<Output = Result<Vec<u8>, SignError>> + Send;
}

/// A log that is not used (signing with a timestamp only is not a flow we
/// offer, but the type lets the signer be built without a TSA).
pub struct NoTimestamps;

impl TimestampAuthority for NoTimestamps {
    async fn timestamp(&self, _signature: &[u8]) -> Result<Vec<u8>, SignError> {
        Err(SignError::Config(
            "no timestamp authority configured".into(),
        ))
    }
}

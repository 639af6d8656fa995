//! The v1 SignedCertificateTimestamp a CT log returns for a
//! precertificate entry, and its TLS encodings (keyless-x509's). Its own
//! module so that the in-memory log ([`crate::ct`]) and the chain checks
//! and signing both logs share ([`crate::ct_front`]) can name it without
//! importing each other.

use keyless_x509::{sct_types, SctError};

use crate::error::CtError;

/// A v1 SignedCertificateTimestamp for a precertificate entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCertificateTimestamp {
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    pub extensions: Vec<u8>,
    /// DER ECDSA signature (hash 4 = SHA-256, signature 3 = ECDSA).
    pub signature: Vec<u8>,
}

fn sct_err(e: SctError) -> CtError {
    CtError::Sct(e)
}

impl SignedCertificateTimestamp {
    /// This SCT as `x509-cert`'s type, which keyless-x509 encodes.
    fn to_x509(&self) -> sct_types::SignedCertificateTimestamp {
        keyless_x509::ecdsa_sha256_sct(
            self.log_id,
            self.timestamp,
            &self.extensions,
            &self.signature,
        )
    }

    /// The `digitally-signed` struct: hash, signature algorithm, u16 length, signature.
    pub fn digitally_signed(&self) -> Result<Vec<u8>, CtError> {
        keyless_x509::encode_digitally_signed(&self.to_x509().signature).map_err(sct_err)
    }

    /// A TLS SignedCertificateTimestampList (RFC 6962 §3.3) of these SCTs.
    pub fn list_to_tls(scts: &[SignedCertificateTimestamp]) -> Result<Vec<u8>, CtError> {
        keyless_x509::encode_sct_list(scts.iter().map(Self::to_x509).collect()).map_err(sct_err)
    }
}

//! The key material that signed: a certificate's key or a managed key. Log
//! entries record it in several encodings (PEM, DER, SPKI); this is where
//! they are compared.

use keyless_crypto::PublicKey;
use keyless_x509::Certificate;

/// Who signed the bundle's content.
#[derive(Debug, Clone)]
pub(crate) enum Signer {
    Certificate {
        cert: Box<Certificate>,
        key: PublicKey,
    },
    Key(PublicKey),
}

impl Signer {
    pub fn key(&self) -> &PublicKey {
        match self {
            Self::Certificate { key, .. } | Self::Key(key) => key,
        }
    }

    /// Does a PEM block (certificate or public key) name this signer?
    pub fn matches_pem(&self, pem: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(pem) else {
            return false;
        };
        match self {
            // The same certificate means the same DER (which parsed when
            // the signer was built): compare the bytes, no second parse,
            // and no base64 decoding when the text is the DER's encoding.
            Self::Certificate { cert, .. } => {
                keyless_crypto::pem::matches(text, "CERTIFICATE", cert.der())
            }
            Self::Key(key) => PublicKey::from_pem(text).is_ok_and(|k| &k == key),
        }
    }

    /// Does a DER certificate name this signer?
    pub fn matches_certificate_der(&self, der: &[u8]) -> bool {
        matches!(self, Self::Certificate { cert, .. } if cert.der() == der)
    }

    /// Does a DER SubjectPublicKeyInfo name this signer's key?
    pub fn matches_spki_der(&self, der: &[u8]) -> bool {
        matches!(self, Self::Key(key) if PublicKey::from_spki_der(der).is_ok_and(|k| &k == key))
    }

    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Certificate { cert, .. } => format!("certificate {}", cert.describe()),
            Self::Key(key) => format!(
                "public key sha256:{}",
                keyless_crypto::sha256_hex(key.spki_der())
            ),
        }
    }
}

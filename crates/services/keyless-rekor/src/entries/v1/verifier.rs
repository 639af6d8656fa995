//! Verifiers as Rekor v1 takes them: PEM text of a public key, a
//! certificate or a certificate chain (Rekor's `pki/x509.NewPublicKey`),
//! and the canonical PEM Rekor stores and indexes in their place
//! (`CanonicalValue`: the DER re-encoded as Go's `encoding/pem` writes
//! it), so that the same signer always gives byte-equal bodies.

use keyless_crypto::{KeyAlgorithm, PublicKey, SignatureAlgorithm};
use keyless_x509::Certificate;

use crate::entries::EntryError;

/// Rekor reads at most this many certificates from a chain.
const MAX_CHAIN: usize = 10;

/// A parsed verifier: the key that checks signatures and the canonical
/// PEM that goes into the body.
#[derive(Debug, Clone)]
pub(crate) struct RekorKey {
    pub key: PublicKey,
    pub canonical_pem: String,
}

impl RekorKey {
    /// Parse PEM bytes: one `PUBLIC KEY`, one `CERTIFICATE`, or up to ten
    /// `CERTIFICATE`s (leaf first; the leaf's key signs).
    pub fn from_pem(pem: &[u8]) -> Result<Self, EntryError> {
        let text = std::str::from_utf8(pem)
            .map_err(|_| EntryError::Verifier("public key is not PEM text".into()))?;
        let blocks = pem_blocks(text)?;
        match blocks.as_slice() {
            [(label, der)] if label == "PUBLIC KEY" => {
                let key = PublicKey::from_spki_der(der).map_err(EntryError::key("public key"))?;
                Ok(Self::from_key(key))
            }
            [(label, _), ..] if label == "PUBLIC KEY" => Err(EntryError::Verifier(
                "a PUBLIC KEY block must stand alone".into(),
            )),
            _ => {
                let certs = blocks
                    .iter()
                    .map(|(label, der)| {
                        if label != "CERTIFICATE" {
                            return Err(EntryError::Verifier(format!(
                                "cannot handle PEM type {label:?}; expected PUBLIC KEY or CERTIFICATE"
                            )));
                        }
                        Certificate::from_der(der)
                            .map_err(EntryError::Certificate)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Self::from_certificates(&certs)
            }
        }
    }

    /// A bare public key (SPKI).
    pub fn from_key(key: PublicKey) -> Self {
        let canonical_pem = pem_encode("PUBLIC KEY", key.spki_der());
        Self { key, canonical_pem }
    }

    /// A certificate chain, leaf first.
    pub fn from_certificates(certs: &[Certificate]) -> Result<Self, EntryError> {
        let leaf = certs
            .first()
            .ok_or_else(|| EntryError::Verifier("no certificate".into()))?;
        let key = leaf.public_key().map_err(EntryError::Certificate)?;
        let canonical_pem = certs
            .iter()
            .map(|c| pem_encode("CERTIFICATE", c.der()))
            .collect();
        Ok(Self { key, canonical_pem })
    }

    /// Verify a signature over `message` the way Rekor's dsse and intoto
    /// types do: `signature.LoadVerifier(key, crypto.SHA256)` means ECDSA
    /// with SHA-256 whatever the curve, RSA PKCS#1 v1.5 with SHA-256, and
    /// pure Ed25519.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), EntryError> {
        let alg = match self.key.algorithm() {
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521 => {
                SignatureAlgorithm::EcdsaSha256
            }
            KeyAlgorithm::Rsa => SignatureAlgorithm::RsaPkcs1Sha256,
            KeyAlgorithm::Ed25519 => SignatureAlgorithm::Ed25519,
            other => {
                return Err(EntryError::Verifier(format!(
                    "unsupported key type {other:?}"
                )))
            }
        };
        self.key
            .verify(alg, message, signature)
            .map_err(EntryError::signature(""))
    }
}

/// PEM as Go's `pem.EncodeToMemory` writes it: 64-column lines, LF, a
/// final newline (the workspace's one encoder, `keyless_crypto::pem`).
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    keyless_crypto::pem::encode(label, der)
}

/// Split PEM text into its blocks, each decoded by keyless-crypto's
/// tolerant PEM reader. Text around the blocks (Go's decoder skips it
/// before the first block) is only allowed to be whitespace.
fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, EntryError> {
    const BEGIN: &str = "-----BEGIN ";
    let mut rest = text.trim();
    let mut out = Vec::new();
    while !rest.is_empty() {
        if !rest.starts_with(BEGIN) {
            return Err(EntryError::Verifier(
                "public key is not PEM (no BEGIN line where one was expected)".into(),
            ));
        }
        if out.len() == MAX_CHAIN {
            return Err(EntryError::Verifier(format!(
                "more than {MAX_CHAIN} PEM blocks"
            )));
        }
        let label_end = rest[BEGIN.len()..]
            .find("-----")
            .map(|i| BEGIN.len() + i)
            .ok_or_else(|| EntryError::Verifier("PEM BEGIN line is not closed".into()))?;
        let end_line = format!("-----END {}-----", &rest[BEGIN.len()..label_end]);
        let block_end = rest
            .find(&end_line)
            .map(|i| i + end_line.len())
            .ok_or_else(|| EntryError::Verifier(format!("PEM has no {end_line:?} line")))?;
        let block = keyless_crypto::pem::decode(&rest[..block_end]).map_err(EntryError::key(""))?;
        out.push(block);
        rest = rest[block_end..].trim_start();
    }
    if out.is_empty() {
        return Err(EntryError::Verifier("empty public key".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_crypto::SigningKey;

    #[test]
    fn key_pem_is_canonicalized_like_go() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pem = key.public_key().to_pem();
        // A single long line, no final newline, surrounding blanks: the
        // same key, the same canonical PEM.
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .concat();
        let sloppy = format!("\n  -----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----");
        let a = RekorKey::from_pem(pem.as_bytes()).unwrap();
        let b = RekorKey::from_pem(sloppy.as_bytes()).unwrap();
        assert_eq!(a.canonical_pem, b.canonical_pem);
        assert!(a.canonical_pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(a.canonical_pem.lines().all(|l| l.len() <= 64));
        assert_eq!(a.key, *key.public_key());
    }

    #[test]
    fn rejects_what_rekor_rejects() {
        for bad in [
            &b""[..],
            b"not pem",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n",
            b"\xff\xfe",
        ] {
            assert!(RekorKey::from_pem(bad).is_err(), "{bad:?}");
        }
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let two = format!("{0}{0}", key.public_key().to_pem());
        assert!(RekorKey::from_pem(two.as_bytes()).is_err());
    }

    #[test]
    fn verifies_over_the_message() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let rk = RekorKey::from_key(key.public_key().clone());
        let sig = key.sign(b"msg").unwrap();
        rk.verify(b"msg", &sig).unwrap();
        assert!(matches!(
            rk.verify(b"other", &sig),
            Err(EntryError::Signature { .. })
        ));
    }
}

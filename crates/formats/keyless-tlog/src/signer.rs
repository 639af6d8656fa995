//! The signing side of C2SP signed notes, for logs that publish
//! checkpoints.
//!
//! The key hint and key ID are taken from [`NoteVerifier::new`] for the
//! same name and public key, so a note this signer produces is, by
//! construction, one that the matching verifier attributes to it; there is
//! no second implementation of the key-ID rules to drift out of step.

use keyless_crypto::{KeyAlgorithm, SigningKey};

use crate::hash::Hash;
use crate::note::{NoteError, NoteSignature, NoteVerifier, SignedNote};

/// Signs note bodies as `name` with a log key.
#[derive(Debug)]
pub struct NoteSigner {
    key: SigningKey,
    verifier: NoteVerifier,
}

impl NoteSigner {
    /// A signer for `name` (for a Rekor v2 log, its origin). Ed25519 and
    /// ECDSA keys are accepted; the key hint follows the key type's rule
    /// (see [`crate::note`]).
    pub fn new(name: &str, key: SigningKey) -> Result<Self, NoteError> {
        match key.public_key().algorithm() {
            KeyAlgorithm::Ed25519
            | KeyAlgorithm::EcdsaP256
            | KeyAlgorithm::EcdsaP384
            | KeyAlgorithm::EcdsaP521 => {}
            algorithm => {
                return Err(NoteError::UnsupportedKey {
                    algorithm,
                    reason: "only Ed25519 and ECDSA keys sign notes here",
                })
            }
        }
        let verifier = NoteVerifier::new(name, key.public_key().clone())?;
        Ok(Self { key, verifier })
    }

    /// The signer name written on signature lines.
    pub fn name(&self) -> &str {
        self.verifier.name()
    }

    /// The 32-byte key ID; for a Sigstore log, its log ID.
    pub fn key_id(&self) -> Hash {
        self.verifier.key_id()
    }

    /// The verifier that checks this signer's notes.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The signing key (for the log's other signatures, e.g. Rekor v1 SETs).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// One signature line over `body`.
    pub fn sign_line(&self, body: &str) -> Result<NoteSignature, NoteError> {
        let signature = self
            .key
            .sign(body.as_bytes())
            .map_err(|_| NoteError::UnsupportedKey {
                algorithm: self.key.public_key().algorithm(),
                reason: "the key failed to sign",
            })?;
        Ok(NoteSignature {
            name: self.verifier.name().to_string(),
            key_hint: self.verifier.key_hint(),
            signature,
        })
    }

    /// A signed note over `body` carrying this signer's line alone.
    pub fn sign(&self, body: &str) -> Result<SignedNote, NoteError> {
        let line = self.sign_line(body)?;
        SignedNote::new(body.to_string(), vec![line])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Checkpoint;

    #[test]
    fn signed_notes_verify_with_matching_verifier_only() {
        for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            let signer =
                NoteSigner::new("log.example:8080", SigningKey::generate(alg).unwrap()).unwrap();
            let cp = Checkpoint {
                origin: "log.example:8080".into(),
                size: 3,
                root_hash: [7; 32],
                extensions: vec![],
            };
            let note = signer.sign(&cp.to_body()).unwrap();
            let parsed = SignedNote::parse(&note.to_text()).unwrap();
            parsed.verify(signer.verifier()).unwrap();
            assert_eq!(Checkpoint::parse(parsed.body()).unwrap(), cp);

            // A verifier for another key finds no line it can attribute.
            let other =
                NoteSigner::new("log.example:8080", SigningKey::generate(alg).unwrap()).unwrap();
            assert!(parsed.verify(other.verifier()).is_err());
            // A tampered body does not verify.
            let tampered = SignedNote::new(
                cp.to_body().replace("\n3\n", "\n4\n"),
                parsed.signatures().to_vec(),
            )
            .unwrap();
            assert!(tampered.verify(signer.verifier()).is_err());
        }
    }

    #[test]
    fn ed25519_key_id_is_c2sp() {
        let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let raw = &key.public_key().spki_der()[12..];
        let mut pre = b"origin\n\x01".to_vec();
        pre.extend_from_slice(raw);
        let signer = NoteSigner::new("origin", key).unwrap();
        assert_eq!(signer.key_id(), keyless_crypto::sha256(&pre));
    }
}

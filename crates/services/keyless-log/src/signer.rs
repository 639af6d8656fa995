//! The log's signer: checkpoints (C2SP signed notes) and whatever else a
//! personality signs with the log key (Rekor v1 SETs), through
//! `keyless-crypto`'s [`Signer`] trait, so that a key in a file and a key
//! on a PKCS#11 token (`keyless-keys`) serve the log alike.
//!
//! The key hint and log ID come from [`NoteVerifier::new`] for the same
//! origin and public key, so a note signed here is, by construction, one
//! the matching verifier attributes to the log.

use std::sync::Arc;

use keyless_crypto::{KeyAlgorithm, Signer};
use keyless_tlog::{Hash, NoteSignature, NoteVerifier, SignedNote};

use crate::error::LogError;

/// Signs as the log; see the module docs.
pub struct LogSigner {
    signer: Arc<dyn Signer>,
    verifier: NoteVerifier,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("name", &self.verifier.name())
            .finish_non_exhaustive()
    }
}

impl LogSigner {
    /// A signer for checkpoints of `origin`. Ed25519 and ECDSA keys only:
    /// the key types whose note key hints are defined (see
    /// `keyless_tlog::note`).
    pub fn new(origin: &str, signer: Arc<dyn Signer>) -> Result<Self, LogError> {
        let algorithm = signer.public_key().algorithm();
        match algorithm {
            KeyAlgorithm::Ed25519
            | KeyAlgorithm::EcdsaP256
            | KeyAlgorithm::EcdsaP384
            | KeyAlgorithm::EcdsaP521 => {}
            _ => return Err(LogError::UnsupportedKey { algorithm }),
        }
        let verifier =
            NoteVerifier::new(origin, signer.public_key().clone()).map_err(|source| {
                LogError::Origin {
                    origin: origin.to_string(),
                    source,
                }
            })?;
        Ok(Self { signer, verifier })
    }

    /// The verifier for the log's checkpoints.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The note key ID: the log ID trusted roots list for the log.
    pub fn key_id(&self) -> Hash {
        self.verifier.key_id()
    }

    /// Sign `message` with the log key (the key's default scheme).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, LogError> {
        self.signer.sign(message).map_err(LogError::Signing)
    }

    /// The signed note text of `body`, carrying the log's line alone.
    pub fn sign_note(&self, body: &str) -> Result<String, LogError> {
        let line = NoteSignature {
            name: self.verifier.name().to_string(),
            key_hint: self.verifier.key_hint(),
            signature: self.sign(body.as_bytes())?,
        };
        Ok(SignedNote::new(body.to_string(), vec![line])
            .map_err(LogError::Note)?
            .to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_crypto::SigningKey;
    use keyless_tlog::Checkpoint;

    /// Notes signed through the trait verify with the log's verifier, and
    /// with a keyless-tlog verifier built independently from the origin
    /// and public key; another origin's verifier refuses them.
    #[test]
    fn notes_signed_through_the_trait_verify() {
        for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            let key = SigningKey::generate(alg).unwrap();
            let public = key.public_key().clone();
            let signer = LogSigner::new("log.example:8080", Arc::new(key)).unwrap();
            let body = Checkpoint {
                origin: "log.example:8080".into(),
                size: 3,
                root_hash: [7; 32],
                extensions: vec![],
            }
            .to_body();
            let note = SignedNote::parse(&signer.sign_note(&body).unwrap()).unwrap();
            note.verify(signer.verifier()).unwrap();
            note.verify(&NoteVerifier::new("log.example:8080", public.clone()).unwrap())
                .unwrap();
            if alg == KeyAlgorithm::Ed25519 {
                assert!(note
                    .verify(&NoteVerifier::new("other.example", public).unwrap())
                    .is_err());
            }
        }
    }
}

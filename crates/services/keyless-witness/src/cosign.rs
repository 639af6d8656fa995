//! Ed25519 `cosignature/v1` (<https://c2sp.org/tlog-cosignature>).
//!
//! The signed message is `cosignature/v1\ntime <t>\n` followed by the
//! checkpoint body; the signature line carries `u64 big-endian t ||
//! 64-byte Ed25519 signature`, and its key ID is `SHA-256(name || "\n" ||
//! 0x04 || public key)[:4]`. The 0x04 type byte (0x01 for ordinary note
//! signatures) keeps a cosignature from being read as the log's own
//! signature over the same body, and the other way round. The message,
//! the key ID and the check are keyless-tlog's (`cosignature`), which
//! verifiers use too; this module adds the signing side.

use std::path::Path;

use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_tlog::cosignature::{key_hint, CosignatureError, CosignatureVerifier};
use keyless_tlog::NoteSignature;
use thiserror::Error;

use crate::vkey::{ed25519_raw, Vkey, VkeyError, TYPE_COSIGNATURE_V1};

/// The file in the data directory that holds the witness key (0600).
pub const KEY_FILE: &str = "witness.key";

/// Why a cosignature could not be made or does not verify.
#[derive(Debug, Error)]
pub enum CosignError {
    #[error("cosigner name {0:?} is empty or has white space or '+'")]
    Name(String),
    #[error("the witness key must be Ed25519")]
    KeyType,
    #[error("key: {0}")]
    Key(#[from] VkeyError),
    #[error("witness key file: {0}")]
    KeyFile(#[from] keyless_keys::KeyError),
    #[error("signing failed")]
    Sign,
    #[error("the signature line is not from this cosigner (name or key ID differ)")]
    NotThisCosigner,
    #[error("the cosignature is not 8 + 64 bytes")]
    Length,
    #[error("the cosignature does not verify")]
    BadSignature,
    #[error("witness vkey")]
    Vkey(#[source] CosignatureError),
}

/// The message a cosignature/v1 signs.
pub use keyless_tlog::cosignature::signed_message;

fn key_id(name: &str, raw: &[u8; 32]) -> [u8; 4] {
    key_hint(name, raw)
}

fn check_name(name: &str) -> Result<(), CosignError> {
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
        return Err(CosignError::Name(name.to_string()));
    }
    Ok(())
}

/// A witness identity: its name and Ed25519 key.
#[derive(Debug)]
pub struct Cosigner {
    name: String,
    key: SigningKey,
    raw: [u8; 32],
    key_id: [u8; 4],
}

impl Cosigner {
    /// A cosigner named `name` signing with the Ed25519 `key`.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, CosignError> {
        check_name(name)?;
        if key.public_key().algorithm() != KeyAlgorithm::Ed25519 {
            return Err(CosignError::KeyType);
        }
        let raw = ed25519_raw(key.public_key())?;
        Ok(Self {
            name: name.to_string(),
            key_id: key_id(name, &raw),
            key,
            raw,
        })
    }

    /// The cosigner whose key is `KEY_FILE` in `data_dir`, generated there
    /// (0600, via keyless-keys) on first start.
    pub fn load_or_generate(name: &str, data_dir: &Path) -> Result<Self, CosignError> {
        let (key, _) = keyless_keys::file::load_or_generate(
            &data_dir.join(KEY_FILE),
            KeyAlgorithm::Ed25519,
            None,
        )?;
        Self::new(name, key)
    }

    /// The cosigner name written on signature lines.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The vkey (type 0x04) that verifies this witness's cosignatures.
    pub fn vkey(&self) -> String {
        Vkey {
            name: self.name.clone(),
            key_id: self.key_id,
            key_type: TYPE_COSIGNATURE_V1,
            key: self.raw.to_vec(),
        }
        .to_text()
    }

    /// The cosignature/v1 line over `checkpoint_body` at `timestamp`
    /// (POSIX seconds).
    pub fn sign(
        &self,
        checkpoint_body: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, CosignError> {
        if timestamp > i64::MAX as u64 {
            return Err(CosignError::Sign);
        }
        let sig = self
            .key
            .sign(signed_message(timestamp, checkpoint_body).as_bytes())
            .map_err(|_| CosignError::Sign)?;
        let mut signature = Vec::with_capacity(8 + sig.len());
        signature.extend_from_slice(&timestamp.to_be_bytes());
        signature.extend_from_slice(&sig);
        Ok(NoteSignature {
            name: self.name.clone(),
            key_hint: self.key_id,
            signature,
        })
    }
}

/// Check that `line` is a cosignature/v1 by the witness with vkey
/// `witness_vkey` over `checkpoint_body`; returns its timestamp.
pub fn verify_cosignature(
    witness_vkey: &str,
    checkpoint_body: &str,
    line: &NoteSignature,
) -> Result<u64, CosignError> {
    let verifier = CosignatureVerifier::from_vkey(witness_vkey).map_err(CosignError::Vkey)?;
    verifier.verify(checkpoint_body, line).map_err(|e| match e {
        CosignatureError::NotThisWitness => CosignError::NotThisCosigner,
        CosignatureError::Length(_) => CosignError::Length,
        CosignatureError::BadSignature => CosignError::BadSignature,
        other => CosignError::Vkey(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn sign_then_verify_and_tampering_fails() {
        let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let c = Cosigner::new("witness.example/w1", key).unwrap();
        let line = c.sign(BODY, 1_679_315_147).unwrap();
        assert_eq!(line.signature.len(), 72);
        assert_eq!(
            verify_cosignature(&c.vkey(), BODY, &line).unwrap(),
            1_679_315_147
        );

        let other = BODY.replace('5', "6");
        assert!(matches!(
            verify_cosignature(&c.vkey(), &other, &line),
            Err(CosignError::BadSignature)
        ));
        let mut later = line.clone();
        later.signature[7] ^= 1;
        assert!(matches!(
            verify_cosignature(&c.vkey(), BODY, &later),
            Err(CosignError::BadSignature)
        ));
        let stranger = Cosigner::new(
            "witness.example/w1",
            SigningKey::generate(KeyAlgorithm::Ed25519).unwrap(),
        )
        .unwrap();
        assert!(verify_cosignature(&stranger.vkey(), BODY, &line).is_err());
    }

    #[test]
    fn ecdsa_key_is_refused() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        assert!(matches!(Cosigner::new("w", key), Err(CosignError::KeyType)));
    }
}

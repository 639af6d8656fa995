//! C2SP verifier keys ("vkeys", <https://c2sp.org/signed-note>):
//! `<name>+<hex key ID>+<base64(type byte || public key)>`.
//!
//! Logs are configured with their vkey (type 0x01, Ed25519 note keys); the
//! witness publishes its own as type 0x04 (Ed25519 cosignature/v1).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::PublicKey;
use keyless_tlog::NoteVerifier;
use thiserror::Error;

/// Signature type of Ed25519 note signatures (signed-note).
pub const TYPE_ED25519: u8 = 0x01;
/// Signature type of Ed25519 cosignature/v1 (tlog-cosignature).
pub const TYPE_COSIGNATURE_V1: u8 = 0x04;

/// Longest vkey accepted; real ones are well under 200 bytes.
const MAX_VKEY_LEN: usize = 1024;

/// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a vkey could not be read.
#[derive(Debug, Error)]
pub enum VkeyError {
    #[error("vkey is not <name>+<hex key ID>+<base64 key>")]
    Format,
    #[error("vkey is longer than {MAX_VKEY_LEN} bytes")]
    TooLong,
    #[error("vkey key ID is not 8 hex digits")]
    KeyId,
    #[error("vkey key is not base64")]
    Base64,
    #[error("vkey has signature type {0:#04x}; only {1:#04x} is accepted here")]
    Type(u8, u8),
    #[error("vkey key is not a 32-byte Ed25519 key")]
    Key,
    #[error("vkey key ID {found} does not match its name and key (expected {expected})")]
    KeyIdMismatch { found: String, expected: String },
    #[error("vkey name: {0}")]
    Name(#[from] keyless_tlog::NoteError),
}

/// A parsed vkey: the signer name, the 4-byte key ID and the key material
/// after the type byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vkey {
    pub name: String,
    pub key_id: [u8; 4],
    pub key_type: u8,
    pub key: Vec<u8>,
}

impl Vkey {
    /// Split and decode a vkey; the key ID is not checked here (it depends
    /// on the type), see [`log_verifier`].
    pub fn parse(text: &str) -> Result<Self, VkeyError> {
        if text.len() > MAX_VKEY_LEN {
            return Err(VkeyError::TooLong);
        }
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(VkeyError::Format);
        };
        if name.is_empty() || id.len() != 8 {
            return Err(if name.is_empty() {
                VkeyError::Format
            } else {
                VkeyError::KeyId
            });
        }
        let id = hex::decode(id).map_err(|_| VkeyError::KeyId)?;
        let mut key_id = [0u8; 4];
        key_id.copy_from_slice(&id);
        let raw = B64.decode(key).map_err(|_| VkeyError::Base64)?;
        let (&key_type, key) = raw.split_first().ok_or(VkeyError::Key)?;
        Ok(Self {
            name: name.to_string(),
            key_id,
            key_type,
            key: key.to_vec(),
        })
    }

    /// The vkey text.
    pub fn to_text(&self) -> String {
        let mut material = Vec::with_capacity(1 + self.key.len());
        material.push(self.key_type);
        material.extend_from_slice(&self.key);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            B64.encode(material)
        )
    }
}

/// The Ed25519 public key whose raw 32 bytes are `raw`.
pub fn ed25519_public_key(raw: &[u8]) -> Result<PublicKey, VkeyError> {
    if raw.len() != 32 {
        return Err(VkeyError::Key);
    }
    let mut spki = ED25519_SPKI_PREFIX.to_vec();
    spki.extend_from_slice(raw);
    PublicKey::from_spki_der(&spki).map_err(|_| VkeyError::Key)
}

/// The raw 32 bytes of an Ed25519 public key.
pub fn ed25519_raw(key: &PublicKey) -> Result<[u8; 32], VkeyError> {
    let raw = key
        .spki_der()
        .strip_prefix(&ED25519_SPKI_PREFIX[..])
        .ok_or(VkeyError::Key)?;
    raw.try_into().map_err(|_| VkeyError::Key)
}

/// The note verifier for a log's Ed25519 vkey (type 0x01), refusing a vkey
/// whose key ID is not the one its name and key give: a typo'd or
/// tampered vkey fails at start-up, not as silent 403s later.
pub fn log_verifier(text: &str) -> Result<NoteVerifier, VkeyError> {
    let vkey = Vkey::parse(text)?;
    if vkey.key_type != TYPE_ED25519 {
        return Err(VkeyError::Type(vkey.key_type, TYPE_ED25519));
    }
    let verifier = NoteVerifier::new(&vkey.name, ed25519_public_key(&vkey.key)?)?;
    if verifier.key_hint() != vkey.key_id {
        return Err(VkeyError::KeyIdMismatch {
            found: hex::encode(vkey.key_id),
            expected: hex::encode(verifier.key_hint()),
        });
    }
    Ok(verifier)
}

/// The vkey (type 0x01) of a log's Ed25519 note verifier, as a witness
/// operator would paste it into the configuration.
pub fn note_vkey(verifier: &NoteVerifier) -> Result<String, VkeyError> {
    let raw = ed25519_raw(verifier.key())?;
    Ok(Vkey {
        name: verifier.name().to_string(),
        key_id: verifier.key_hint(),
        key_type: TYPE_ED25519,
        key: raw.to_vec(),
    }
    .to_text())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_crypto::{KeyAlgorithm, SigningKey};

    #[test]
    fn log_vkey_round_trips_and_wrong_id_is_refused() {
        let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let v = NoteVerifier::new("example.com/log", key.public_key().clone()).unwrap();
        let text = note_vkey(&v).unwrap();
        assert!(text.starts_with("example.com/log+"));
        let back = log_verifier(&text).unwrap();
        assert_eq!(back.key_id(), v.key_id());

        let mut parsed = Vkey::parse(&text).unwrap();
        parsed.key_id[0] ^= 1;
        assert!(matches!(
            log_verifier(&parsed.to_text()),
            Err(VkeyError::KeyIdMismatch { .. })
        ));
        parsed.key_type = 0x04;
        assert!(matches!(
            log_verifier(&parsed.to_text()),
            Err(VkeyError::Type(4, 1))
        ));
        assert!(matches!(Vkey::parse("name+zz"), Err(VkeyError::Format)));
    }
}

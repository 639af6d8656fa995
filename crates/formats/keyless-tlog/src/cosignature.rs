//! Checking witness cosignatures: C2SP tlog-cosignature `cosignature/v1`
//! (<https://c2sp.org/tlog-cosignature>), with the witness identified by
//! its C2SP vkey (<https://c2sp.org/signed-note#verifier-keys>).
//!
//! A cosignature is one more signature line on a checkpoint note. Its
//! signed message is `cosignature/v1\ntime <t>\n` followed by the
//! checkpoint body; the line carries `u64 big-endian t || 64-byte Ed25519
//! signature`, and its key hint is `SHA-256(name || "\n" || 0x04 || public
//! key)[:4]`. The 0x04 type byte keeps a cosignature from being read as an
//! ordinary note signature (type 0x01) over the same body, and the other
//! way round.
//!
//! This module only verifies; the witness service signs. Whether enough
//! witnesses cosigned is a policy question for the caller.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::{PublicKey, SignatureAlgorithm};
use thiserror::Error;

use crate::note::NoteSignature;

/// vkey signature type of Ed25519 cosignature/v1.
pub const TYPE_COSIGNATURE_V1: u8 = 0x04;

/// Longest vkey read; real ones are well under 200 bytes.
const MAX_VKEY_LEN: usize = 1024;

/// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a witness vkey could not be used or a cosignature does not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CosignatureError {
    /// Not `<name>+<8 hex digits>+<base64>`, or too long.
    #[error("witness vkey is not <name>+<hex key ID>+<base64 key>: {0}")]
    VkeyFormat(&'static str),
    /// A vkey of another signature type (e.g. a log's 0x01 key).
    #[error("witness vkey has signature type {found:#04x}; a cosignature/v1 key is type 0x04")]
    VkeyType { found: u8 },
    /// The key ID written in the vkey is not the one its name and key give.
    #[error("witness vkey key ID {found} does not match its name and key (expected {expected})")]
    VkeyKeyId { found: String, expected: String },
    /// The line is not from this witness (other name or key hint).
    #[error("the signature line is not from this witness (name or key hint differ)")]
    NotThisWitness,
    /// The line's signature is not 8 + 64 bytes.
    #[error("the cosignature is {0} bytes, not 8 + 64")]
    Length(usize),
    /// The Ed25519 signature does not verify over the message.
    #[error("the cosignature does not verify")]
    BadSignature,
}

/// The message a cosignature/v1 at `timestamp` signs.
pub fn signed_message(timestamp: u64, checkpoint_body: &str) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_body}")
}

/// The 4-byte key hint of a cosignature/v1 key.
pub fn key_hint(name: &str, raw_key: &[u8; 32]) -> [u8; 4] {
    let mut buf = Vec::with_capacity(name.len() + 34);
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.push(TYPE_COSIGNATURE_V1);
    buf.extend_from_slice(raw_key);
    let hash = keyless_crypto::sha256(&buf);
    let mut hint = [0u8; 4];
    hint.copy_from_slice(&hash[..4]);
    hint
}

/// A witness's cosignature/v1 key, read from its vkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_hint: [u8; 4],
    raw: [u8; 32],
    key: PublicKey,
}

impl CosignatureVerifier {
    /// Read a type-0x04 vkey, refusing one whose key ID is not the one its
    /// name and key give (a mistyped vkey fails here, not as "no
    /// cosignature" later).
    pub fn from_vkey(vkey: &str) -> Result<Self, CosignatureError> {
        let fmt = CosignatureError::VkeyFormat;
        if vkey.len() > MAX_VKEY_LEN {
            return Err(fmt("too long"));
        }
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(fmt("fewer than three '+'-separated parts"));
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(fmt("the name is empty or has white space"));
        }
        if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fmt("the key ID is not 8 hex digits"));
        }
        let material = B64.decode(key).map_err(|_| fmt("the key is not base64"))?;
        let (&key_type, raw) = material.split_first().ok_or(fmt("the key is empty"))?;
        if key_type != TYPE_COSIGNATURE_V1 {
            return Err(CosignatureError::VkeyType { found: key_type });
        }
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| fmt("the key is not a 32-byte Ed25519 key"))?;
        let hint = key_hint(name, &raw);
        let expected = crate::hex::hex(&hint);
        if !id.eq_ignore_ascii_case(&expected) {
            return Err(CosignatureError::VkeyKeyId {
                found: id.to_string(),
                expected,
            });
        }
        let mut spki = ED25519_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(&raw);
        let key = PublicKey::from_spki_der(&spki)
            .map_err(|_| fmt("the key is not a valid Ed25519 key"))?;
        Ok(Self {
            name: name.to_string(),
            key_hint: hint,
            raw,
            key,
        })
    }

    /// The witness name cosignature lines carry.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key hint cosignature lines carry.
    pub fn key_hint(&self) -> [u8; 4] {
        self.key_hint
    }

    /// The raw 32-byte Ed25519 key (two vkeys with the same raw key are
    /// the same witness, whatever their names).
    pub fn raw_key(&self) -> &[u8; 32] {
        &self.raw
    }

    /// Whether `line` names this witness (name and key hint).
    pub fn attributes(&self, line: &NoteSignature) -> bool {
        line.name == self.name && line.key_hint == self.key_hint
    }

    /// Check that `line` is this witness's cosignature/v1 over
    /// `checkpoint_body`; returns the time it states (POSIX seconds).
    pub fn verify(
        &self,
        checkpoint_body: &str,
        line: &NoteSignature,
    ) -> Result<u64, CosignatureError> {
        if !self.attributes(line) {
            return Err(CosignatureError::NotThisWitness);
        }
        if line.signature.len() != 8 + 64 {
            return Err(CosignatureError::Length(line.signature.len()));
        }
        let (ts, sig) = line.signature.split_at(8);
        let mut ts_bytes = [0u8; 8];
        ts_bytes.copy_from_slice(ts);
        let timestamp = u64::from_be_bytes(ts_bytes);
        self.key
            .verify(
                SignatureAlgorithm::Ed25519,
                signed_message(timestamp, checkpoint_body).as_bytes(),
                sig,
            )
            .map_err(|_| CosignatureError::BadSignature)?;
        Ok(timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_crypto::{KeyAlgorithm, SigningKey};

    const BODY: &str = "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    fn witness(name: &str) -> (SigningKey, String, [u8; 32]) {
        let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let raw: [u8; 32] = key
            .public_key()
            .spki_der()
            .strip_prefix(&ED25519_SPKI_PREFIX[..])
            .unwrap()
            .try_into()
            .unwrap();
        let mut material = vec![TYPE_COSIGNATURE_V1];
        material.extend_from_slice(&raw);
        let vkey = format!(
            "{name}+{}+{}",
            crate::hex::hex(&key_hint(name, &raw)),
            B64.encode(material)
        );
        (key, vkey, raw)
    }

    fn cosign(key: &SigningKey, name: &str, raw: &[u8; 32], t: u64, body: &str) -> NoteSignature {
        let sig = key.sign(signed_message(t, body).as_bytes()).unwrap();
        let mut signature = t.to_be_bytes().to_vec();
        signature.extend_from_slice(&sig);
        NoteSignature {
            name: name.into(),
            key_hint: key_hint(name, raw),
            signature,
        }
    }

    #[test]
    fn verifies_and_refuses_tampering() {
        let (key, vkey, raw) = witness("w.example/1");
        let v = CosignatureVerifier::from_vkey(&vkey).unwrap();
        let line = cosign(&key, "w.example/1", &raw, 1_700_000_000, BODY);
        assert_eq!(v.verify(BODY, &line), Ok(1_700_000_000));
        assert_eq!(
            v.verify(&BODY.replace('5', "6"), &line),
            Err(CosignatureError::BadSignature)
        );
        let mut later = line.clone();
        later.signature[7] ^= 1;
        assert_eq!(v.verify(BODY, &later), Err(CosignatureError::BadSignature));
        let mut renamed = line.clone();
        renamed.name = "w.example/2".into();
        assert_eq!(
            v.verify(BODY, &renamed),
            Err(CosignatureError::NotThisWitness)
        );
        let (_, other, _) = witness("w.example/1");
        let other = CosignatureVerifier::from_vkey(&other).unwrap();
        assert!(other.verify(BODY, &line).is_err());
    }

    #[test]
    fn bad_vkeys_are_refused() {
        let (_, vkey, _) = witness("w.example/1");
        let mut parts: Vec<String> = vkey.splitn(3, '+').map(String::from).collect();
        let wrong_id = format!("{}+00000000+{}", parts[0], parts[2]);
        assert!(matches!(
            CosignatureVerifier::from_vkey(&wrong_id),
            Err(CosignatureError::VkeyKeyId { .. })
        ));
        let mut material = B64.decode(&parts[2]).unwrap();
        material[0] = 0x01;
        parts[2] = B64.encode(material);
        assert_eq!(
            CosignatureVerifier::from_vkey(&parts.join("+")),
            Err(CosignatureError::VkeyType { found: 1 })
        );
        assert!(CosignatureVerifier::from_vkey("name+zz").is_err());
        assert!(CosignatureVerifier::from_vkey(&"x".repeat(2000)).is_err());
    }
}

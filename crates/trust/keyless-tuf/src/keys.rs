//! TUF keys and threshold signature checks (specification §4.2 "KEY",
//! §5.3.5 / §5.4.2 / §5.5.3 / §5.6.3 "verify with a threshold of keys").
//!
//! Supported key types and schemes:
//!
//! | keytype                         | scheme                  | keyval.public             |
//! |---------------------------------|-------------------------|---------------------------|
//! | `ed25519`                       | `ed25519`               | 32-byte key, hex          |
//! | `ecdsa`, `ecdsa-sha2-nistp256`  | `ecdsa-sha2-nistp256`   | PEM SubjectPublicKeyInfo  |
//! | `ecdsa`, `ecdsa-sha2-nistp384`  | `ecdsa-sha2-nistp384`   | PEM SubjectPublicKeyInfo  |
//! | `rsa`                           | `rsassa-pss-sha256`     | PEM SubjectPublicKeyInfo  |
//! | `rsa`                           | `rsa-pkcs1v15-sha256`   | PEM SubjectPublicKeyInfo  |
//!
//! A key we cannot parse does not abort verification: its signatures simply
//! do not count, as in python-tuf.

use std::collections::{BTreeMap, BTreeSet};

use keyless_crypto::{KeyAlgorithm, PublicKey, SignatureAlgorithm, SigningKey};
use serde_json::json;

use crate::cjson;
use crate::error::{MetadataError, ThresholdError};
use crate::metadata::{Envelope, Key, KeyVal};

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a TUF key cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("unsupported keytype/scheme {keytype}/{scheme}")]
    Unsupported { keytype: String, scheme: String },
    #[error("malformed key: {0}")]
    Malformed(String),
    #[error("malformed key: not hex")]
    Hex(#[source] hex::FromHexError),
    #[error("malformed key")]
    Key(#[source] keyless_crypto::CryptoError),
    /// The metadata to sign has no canonical form.
    #[error("cannot sign metadata")]
    Canonical(#[source] Box<MetadataError>),
    #[error("signing failed")]
    Sign(#[source] keyless_crypto::CryptoError),
}

/// A TUF key ready to verify: the parsed key and the scheme to use.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    pub key: PublicKey,
    pub algorithm: SignatureAlgorithm,
}

impl VerifyingKey {
    /// Parse a TUF key document.
    pub fn from_tuf(key: &Key) -> Result<Self, KeyError> {
        let unsupported = || KeyError::Unsupported {
            keytype: key.keytype.clone(),
            scheme: key.scheme.clone(),
        };
        let malformed = KeyError::Malformed;
        let public = key.keyval.public.as_str();
        let (pk, algorithm, family) = match (key.keytype.as_str(), key.scheme.as_str()) {
            ("ed25519", "ed25519") => {
                let raw = hex::decode(public).map_err(KeyError::Hex)?;
                if raw.len() != 32 {
                    return Err(malformed(format!("ed25519 key has {} bytes", raw.len())));
                }
                let mut der = ED25519_SPKI_PREFIX.to_vec();
                der.extend_from_slice(&raw);
                let pk = PublicKey::from_spki_der(&der).map_err(KeyError::Key)?;
                (pk, SignatureAlgorithm::Ed25519, "ed25519")
            }
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => (
                PublicKey::from_pem(public).map_err(KeyError::Key)?,
                SignatureAlgorithm::EcdsaSha256,
                "p256",
            ),
            ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => (
                PublicKey::from_pem(public).map_err(KeyError::Key)?,
                SignatureAlgorithm::EcdsaSha384,
                "p384",
            ),
            ("rsa", "rsassa-pss-sha256") => (
                PublicKey::from_pem(public).map_err(KeyError::Key)?,
                SignatureAlgorithm::RsaPssSha256,
                "rsa",
            ),
            ("rsa", "rsa-pkcs1v15-sha256") => (
                PublicKey::from_pem(public).map_err(KeyError::Key)?,
                SignatureAlgorithm::RsaPkcs1Sha256,
                "rsa",
            ),
            _ => return Err(unsupported()),
        };
        // The key material must be of the family the scheme names.
        let ok = matches!(
            (family, pk.algorithm()),
            ("ed25519", KeyAlgorithm::Ed25519)
                | ("p256", KeyAlgorithm::EcdsaP256)
                | ("p384", KeyAlgorithm::EcdsaP384)
                | ("rsa", KeyAlgorithm::Rsa)
        );
        if !ok {
            return Err(malformed(format!(
                "{:?} key material for scheme {}",
                pk.algorithm(),
                key.scheme
            )));
        }
        Ok(Self { key: pk, algorithm })
    }

    /// Verify a hex signature over `message`.
    pub fn verify(&self, message: &[u8], sig_hex: &str) -> bool {
        let Ok(sig) = hex::decode(sig_hex) else {
            return false;
        };
        self.key.verify(self.algorithm, message, &sig).is_ok()
    }
}

/// The TUF key document for a signing key we hold (ed25519 or ECDSA).
pub fn tuf_key_for(signer: &SigningKey) -> Result<Key, KeyError> {
    let pk = signer.public_key();
    let (keytype, scheme, public) = match pk.algorithm() {
        KeyAlgorithm::Ed25519 => {
            let der = pk.spki_der();
            let raw = der
                .strip_prefix(&ED25519_SPKI_PREFIX[..])
                .ok_or_else(|| KeyError::Malformed("unexpected ed25519 SPKI".into()))?;
            ("ed25519", "ed25519", hex::encode(raw))
        }
        KeyAlgorithm::EcdsaP256 => ("ecdsa", "ecdsa-sha2-nistp256", pk.to_pem()),
        KeyAlgorithm::EcdsaP384 => ("ecdsa", "ecdsa-sha2-nistp384", pk.to_pem()),
        other => {
            return Err(KeyError::Unsupported {
                keytype: format!("{other:?}"),
                scheme: String::new(),
            })
        }
    };
    Ok(Key {
        keytype: keytype.into(),
        scheme: scheme.into(),
        keyval: KeyVal {
            public,
            extra: BTreeMap::new(),
        },
        extra: BTreeMap::new(),
    })
}

/// The key ID python-tuf and go-tuf compute: hex SHA-256 of the canonical
/// JSON of `{"keytype", "scheme", "keyval"}`. Clients use key IDs as given
/// in metadata; this is for writing metadata.
pub fn key_id(key: &Key) -> String {
    let v = json!({
        "keytype": key.keytype,
        "scheme": key.scheme,
        "keyval": {"public": key.keyval.public},
    });
    // A JSON object of strings always has a canonical form.
    let bytes = cjson::to_canonical(&v).unwrap_or_default();
    keyless_crypto::sha256_hex(&bytes)
}

/// Check that `envelope` carries valid signatures from at least `threshold`
/// distinct keys among `keyids` (looked up in `keys`).
///
/// An envelope whose `signatures` name one key ID twice is refused
/// outright ([`MetadataError::DuplicateSignatureKeyid`]): §4.2 says key IDs
/// there MUST be unique, and such a file is malformed whatever it would
/// count to. Distinct means distinct key material: two key IDs that name
/// the same public key count once (key ID collision). Key IDs are used as
/// given (§4.2: clients MUST NOT recompute them).
pub fn verify_threshold(
    role: &str,
    envelope: &Envelope,
    keyids: &[String],
    threshold: u64,
    keys: &BTreeMap<String, Key>,
) -> Result<(), MetadataError> {
    let mut signature_keyids = BTreeSet::new();
    for s in &envelope.signatures {
        if !signature_keyids.insert(s.keyid.as_str()) {
            return Err(MetadataError::DuplicateSignatureKeyid {
                keyid: s.keyid.clone(),
            });
        }
    }
    let message = envelope.canonical_signed()?;
    let mut counted_material: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut valid_keyids = Vec::new();
    let mut seen_keyids = BTreeSet::new();
    for keyid in keyids {
        if !seen_keyids.insert(keyid.as_str()) {
            continue;
        }
        let Some(key) = keys.get(keyid) else { continue };
        let Ok(vk) = VerifyingKey::from_tuf(key) else {
            continue;
        };
        let verified = envelope
            .signatures
            .iter()
            .filter(|s| &s.keyid == keyid)
            .any(|s| vk.verify(&message, &s.sig));
        if verified && counted_material.insert(vk.key.spki_der().to_vec()) {
            valid_keyids.push(keyid.clone());
        }
    }
    if (valid_keyids.len() as u64) >= threshold {
        Ok(())
    } else {
        Err(MetadataError::Threshold(ThresholdError {
            role: role.to_string(),
            threshold,
            valid: valid_keyids.len(),
            valid_keyids,
            signatures: envelope.signatures.len(),
        }))
    }
}

/// Sign the canonical form of `envelope.signed` with `signer`, appending
/// the signature under the key's computed key ID.
pub fn sign_envelope(envelope: &mut Envelope, signer: &SigningKey) -> Result<String, KeyError> {
    let key = tuf_key_for(signer)?;
    let keyid = key_id(&key);
    let message = envelope
        .canonical_signed()
        .map_err(|e| KeyError::Canonical(Box::new(e)))?;
    let sig = signer.sign(&message).map_err(KeyError::Sign)?;
    envelope.signatures.push(crate::metadata::Signature {
        keyid: keyid.clone(),
        sig: hex::encode(sig),
    });
    Ok(keyid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::Root;

    #[test]
    fn production_root_is_self_signed() {
        let env = Envelope::from_slice(include_bytes!("../../../../assets/public-good/root.json"))
            .unwrap();
        let root: Root = env.parse_signed().unwrap();
        let r = root.role("root").unwrap();
        verify_threshold("root", &env, &r.keyids, r.threshold, &root.keys).unwrap();
        // The timestamp key did not sign root.
        let t = root.role("timestamp").unwrap();
        assert!(matches!(
            verify_threshold("root", &env, &t.keyids, 1, &root.keys),
            Err(MetadataError::Threshold(_))
        ));
    }

    #[test]
    fn ed25519_roundtrip_and_keyid() {
        let k = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let tk = tuf_key_for(&k).unwrap();
        assert_eq!(tk.keyval.public.len(), 64);
        let vk = VerifyingKey::from_tuf(&tk).unwrap();
        let sig = k.sign(b"m").unwrap();
        assert!(vk.verify(b"m", &hex::encode(&sig)));
        assert!(!vk.verify(b"n", &hex::encode(&sig)));
        assert!(!vk.verify(b"m", "zz"));
        assert_eq!(key_id(&tk).len(), 64);
    }

    #[test]
    fn scheme_must_match_material() {
        let k = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let mut tk = tuf_key_for(&k).unwrap();
        tk.scheme = "ecdsa-sha2-nistp384".into();
        assert!(VerifyingKey::from_tuf(&tk).is_err());
        tk.scheme = "bogus".into();
        assert!(matches!(
            VerifyingKey::from_tuf(&tk),
            Err(KeyError::Unsupported { .. })
        ));
    }
}

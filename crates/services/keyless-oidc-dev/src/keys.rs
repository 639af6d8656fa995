//! The issuer's token signing key (ES256), kept in the data dir with 0600
//! permissions, and its JWKS. The key file is the key store's
//! (`keyless_keys::file`): created 0600 from the first byte, and refused on
//! load when group or others can read it.
//!
//! Tokens are signed through `keyless_crypto::Signer`, the services' one
//! signing interface (so the key could as well be a PKCS#11 token key):
//! the JWS signing input is built here and the signer's DER ECDSA
//! signature is turned into the fixed `r || s` JWS uses (RFC 7518 §3.4).
//! jsonwebtoken is kept for the JWKS (derived once from the key) and for
//! verifying tokens.

use std::path::Path;

use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey};
use keyless_crypto::{KeyAlgorithm, Signer, SigningKey};

pub use crate::error::SignError;
use crate::error::{io_err, OidcDevError};

pub const SIGNING_KEY_FILE: &str = "oidc-signing.key.pem";

/// The signing key and what is derived from it.
pub struct TokenKey {
    signer: Box<dyn Signer>,
    pub kid: String,
    pub jwks: JwkSet,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey(kid={})", self.kid)
    }
}

impl TokenKey {
    /// Load the key from `dir`, creating it (0600) on first use. A key
    /// file readable by group or others is refused.
    pub fn load_or_create(dir: &Path) -> Result<Self, OidcDevError> {
        std::fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
        let path = dir.join(SIGNING_KEY_FILE);
        let (key, _) = keyless_keys::file::load_or_generate(&path, KeyAlgorithm::EcdsaP256, None)?;
        Self::from_signing_key(key)
    }

    fn from_signing_key(key: SigningKey) -> Result<Self, OidcDevError> {
        if key.public_key().algorithm() != KeyAlgorithm::EcdsaP256 {
            return Err(OidcDevError::KeyAlgorithm);
        }
        let encoding = EncodingKey::from_ec_der(key.to_pkcs8_der());
        let kid = keyless_crypto::sha256_hex(key.public_key().spki_der())[..16].to_string();
        let mut jwk =
            Jwk::from_encoding_key(&encoding, Algorithm::ES256).map_err(OidcDevError::Jwk)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self {
            signer: Box::new(key),
            kid,
            jwks: JwkSet { keys: vec![jwk] },
        })
    }

    /// Sign `claims` as a compact JWS (ES256) under `header`, whose `alg`
    /// must be ES256.
    pub(crate) fn sign_jwt<T: serde::Serialize>(
        &self,
        header: &jsonwebtoken::Header,
        claims: &T,
    ) -> Result<String, OidcDevError> {
        if header.alg != Algorithm::ES256 {
            return Err(OidcDevError::Sign(SignError::Alg(header.alg)));
        }
        let json = |e| OidcDevError::Sign(SignError::Json(e));
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut jws = b64.encode(serde_json::to_vec(header).map_err(json)?);
        jws.push('.');
        jws.push_str(&b64.encode(serde_json::to_vec(claims).map_err(json)?));
        let der = self
            .signer
            .sign(jws.as_bytes())
            .map_err(|e| OidcDevError::Sign(SignError::Signer(e)))?;
        let raw = ecdsa_der_to_fixed(&der, 32).map_err(OidcDevError::Sign)?;
        jws.push('.');
        jws.push_str(&b64.encode(raw));
        Ok(jws)
    }
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279).
#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: der::asn1::UintRef<'a>,
    s: der::asn1::UintRef<'a>,
}

/// A DER ECDSA signature as JWS wants it: `r || s`, each left-padded to
/// the curve's `field_len` bytes.
fn ecdsa_der_to_fixed(der_sig: &[u8], field_len: usize) -> Result<Vec<u8>, SignError> {
    use der::Decode;
    let v = EcdsaSigValue::from_der(der_sig).map_err(SignError::NotDer)?;
    let mut out = vec![0u8; 2 * field_len];
    for (i, n) in [v.r.as_bytes(), v.s.as_bytes()].into_iter().enumerate() {
        if n.len() > field_len {
            return Err(SignError::IntegerTooLong {
                len: n.len(),
                field_len,
            });
        }
        out[(i + 1) * field_len - n.len()..(i + 1) * field_len].copy_from_slice(n);
    }
    Ok(out)
}

/// Write a file readable by its owner only (0600 from creation), refusing
/// to replace an existing file.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<(), OidcDevError> {
    Ok(keyless_keys::file::write_secret(
        path,
        contents,
        keyless_keys::file::Existing::Refuse,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let mut r = [0u8; 8];
        aws_lc_rs::rand::fill(&mut r).unwrap();
        let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
        std::env::temp_dir().join(format!(
            "keyless-oidc-dev-keys-{tag}-{}-{hex}",
            std::process::id()
        ))
    }

    /// The key is created 0600 and the same key (kid) loads back; a key
    /// file readable by others is refused, naming the file and its mode.
    /// A token signed through the Signer verifies with jsonwebtoken under
    /// the published JWKS, and a tampered one does not.
    #[test]
    fn tokens_signed_through_the_signer_verify_under_the_jwks() {
        let key =
            TokenKey::from_signing_key(SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
                .unwrap();
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.set_audience(&["sigstore"]);
        validation.set_required_spec_claims(&["aud"]);
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&key.jwks.keys[0]).unwrap();
        // Many tokens: some signature integers are shorter than 32 bytes.
        for i in 0..64 {
            let claims = serde_json::json!({"aud": "sigstore", "sub": format!("user{i}")});
            let token = key.sign_jwt(&header, &claims).unwrap();
            let got =
                jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
            assert_eq!(got.claims["sub"], format!("user{i}"));
            assert_eq!(got.header.kid.as_deref(), Some(key.kid.as_str()));
            // The same signature over other claims does not verify.
            let parts: Vec<&str> = token.split('.').collect();
            let other = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(br#"{"aud":"sigstore","sub":"mallory"}"#);
            let forged = format!("{}.{other}.{}", parts[0], parts[2]);
            assert!(
                jsonwebtoken::decode::<serde_json::Value>(&forged, &decoding, &validation).is_err()
            );
        }
        assert!(key
            .sign_jwt(
                &jsonwebtoken::Header::new(Algorithm::RS256),
                &serde_json::json!({})
            )
            .is_err());
    }

    #[test]
    fn der_signatures_become_fixed_width() {
        // SEQUENCE { INTEGER 1, INTEGER 0x00 0x80 } -> 31 zeros, 1, 31 zeros, 0x80
        let der_sig = [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80];
        let raw = ecdsa_der_to_fixed(&der_sig, 32).unwrap();
        assert_eq!(raw.len(), 64);
        assert_eq!((raw[31], raw[63]), (1, 0x80));
        assert!(raw[..31].iter().chain(&raw[32..63]).all(|b| *b == 0));
        assert!(ecdsa_der_to_fixed(&der_sig, 0).is_err());
        assert!(ecdsa_der_to_fixed(b"junk", 32).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn key_file_created_0600_and_refused_when_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("perms");
        let first = TokenKey::load_or_create(&dir).unwrap();
        let path = dir.join(SIGNING_KEY_FILE);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(TokenKey::load_or_create(&dir).unwrap().kid, first.kid);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o604)).unwrap();
        let e = TokenKey::load_or_create(&dir).unwrap_err().to_string();
        assert!(
            e.contains(&path.display().to_string())
                && e.contains("permissions 604")
                && e.contains("chmod 600"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! The issuer's token signing key (ES256), kept in the data dir with 0600
//! permissions, and its JWKS. The key file is the key store's
//! (`keyless_keys::file`): created 0600 from the first byte, and refused on
//! load when group or others can read it.

use std::path::Path;

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey};
use keyless_crypto::{KeyAlgorithm, SigningKey};

use crate::OidcDevError;

pub const SIGNING_KEY_FILE: &str = "oidc-signing.key.pem";

/// The signing key and what is derived from it.
pub struct TokenKey {
    pub(crate) encoding: EncodingKey,
    pub kid: String,
    pub jwks: JwkSet,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey(kid={})", self.kid)
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> OidcDevError + '_ {
    move |e| OidcDevError::Io(format!("{}: {e}", path.display()))
}

impl TokenKey {
    /// Load the key from `dir`, creating it (0600) on first use. A key
    /// file readable by group or others is refused.
    pub fn load_or_create(dir: &Path) -> Result<Self, OidcDevError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(SIGNING_KEY_FILE);
        let (key, _) = keyless_keys::file::load_or_generate(&path, KeyAlgorithm::EcdsaP256, None)
            .map_err(|e| OidcDevError::Key(e.to_string()))?;
        Self::from_signing_key(&key)
    }

    fn from_signing_key(key: &SigningKey) -> Result<Self, OidcDevError> {
        if key.public_key().algorithm() != KeyAlgorithm::EcdsaP256 {
            return Err(OidcDevError::Key("the dev issuer signs with ECDSA P-256 (ES256) only".into()));
        }
        let encoding = EncodingKey::from_ec_der(key.to_pkcs8_der());
        let kid = keyless_crypto::sha256_hex(key.public_key().spki_der())[..16].to_string();
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).map_err(|e| OidcDevError::Key(e.to_string()))?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self { encoding, kid, jwks: JwkSet { keys: vec![jwk] } })
    }
}

/// Write a file readable by its owner only (0600 from creation), refusing
/// to replace an existing file.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<(), OidcDevError> {
    keyless_keys::file::write_secret(path, contents, keyless_keys::file::Existing::Refuse)
        .map_err(|e| OidcDevError::Io(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let mut r = [0u8; 8];
        aws_lc_rs::rand::fill(&mut r).unwrap();
        let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
        std::env::temp_dir().join(format!("keyless-oidc-dev-keys-{tag}-{}-{hex}", std::process::id()))
    }

    /// The key is created 0600 and the same key (kid) loads back; a key
    /// file readable by others is refused, naming the file and its mode.
    #[cfg(unix)]
    #[test]
    fn key_file_created_0600_and_refused_when_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("perms");
        let first = TokenKey::load_or_create(&dir).unwrap();
        let path = dir.join(SIGNING_KEY_FILE);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(TokenKey::load_or_create(&dir).unwrap().kid, first.kid);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o604)).unwrap();
        let e = TokenKey::load_or_create(&dir).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()) && e.contains("permissions 604") && e.contains("chmod 600"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

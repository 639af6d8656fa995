//! The issuer's token signing key (ES256), kept in the data dir with 0600
//! permissions, and its JWKS.

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
    /// Load the key from `dir`, creating it (0600) on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self, OidcDevError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(SIGNING_KEY_FILE);
        let key = if path.exists() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).map_err(io(&path))?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(OidcDevError::Key(format!("{} has permissions {:o}; chmod 600 it", path.display(), mode & 0o777)));
                }
            }
            let pem = std::fs::read_to_string(&path).map_err(io(&path))?;
            SigningKey::from_pkcs8_pem(&pem).map_err(|e| OidcDevError::Key(e.to_string()))?
        } else {
            let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| OidcDevError::Key(e.to_string()))?;
            write_secret(&path, key.to_pkcs8_pem().as_bytes())?;
            key
        };
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

/// Write a file readable by its owner only.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<(), OidcDevError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(contents).map_err(io(path))
}

//! The log's signing key: generated into the data directory on first
//! start, readable by the owner only, and never written anywhere else
//! (not to logs, not to errors); or a key pair on a PKCS#11 token
//! ([`open_pkcs11`]). The file is the key store's
//! (`keyless_keys::file`): created 0600 from the first byte and moved into
//! place whole; refused on load when group or others can read it.

use std::path::Path;

use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_keys::{Pkcs11Config, Pkcs11Key};

use crate::config::LogKeyType;
use crate::error::LogError;

/// File name of the PKCS#8 PEM log key inside the data directory.
pub const KEY_FILE: &str = "log.key";

fn algorithm(key_type: LogKeyType) -> KeyAlgorithm {
    match key_type {
        LogKeyType::Ed25519 => KeyAlgorithm::Ed25519,
        LogKeyType::EcdsaP256 => KeyAlgorithm::EcdsaP256,
    }
}

/// Load the key in `dir`, or generate one of `key_type` with mode 0600.
pub fn load_or_generate(dir: &Path, key_type: LogKeyType) -> Result<SigningKey, LogError> {
    let alg = algorithm(key_type);
    // Errors name the file (and its mode), never the key's contents.
    let (key, _) = keyless_keys::file::load_or_generate(&dir.join(KEY_FILE), alg, None)
        .map_err(LogError::KeyFile)?;
    Ok(key)
}

/// Open the key pair `config` names on a PKCS#11 token (generating one
/// of `key_type` there if the configuration allows it). The key never
/// leaves the token; the log signs through it.
pub fn open_pkcs11(config: &Pkcs11Config, key_type: LogKeyType) -> Result<Pkcs11Key, LogError> {
    Pkcs11Key::open(config, algorithm(key_type)).map_err(LogError::Pkcs11)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generated_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = load_or_generate(dir.path(), LogKeyType::Ed25519).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let k2 = load_or_generate(dir.path(), LogKeyType::EcdsaP256).unwrap();
        assert_eq!(k1.public_key(), k2.public_key());
        fs::set_permissions(dir.path().join(KEY_FILE), fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_generate(dir.path(), LogKeyType::Ed25519).unwrap_err();
        // The whole chain, as the CLI prints it: the cause is a source.
        let mut e = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            e = format!("{e}: {s}");
            source = s.source();
        }
        assert!(e.contains(KEY_FILE) && e.contains("permissions 644"), "{e}");
    }
}

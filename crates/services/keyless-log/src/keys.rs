//! The log's signing key: generated into the data directory on first
//! start, readable by the owner only, and never written anywhere else
//! (not to logs, not to errors).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use keyless_crypto::{KeyAlgorithm, SigningKey};

use crate::config::LogKeyType;
use crate::error::LogError;

/// File name of the PKCS#8 PEM log key inside the data directory.
pub const KEY_FILE: &str = "log.key";

/// Load the key in `dir`, or generate one of `key_type` with mode 0600.
pub fn load_or_generate(dir: &Path, key_type: LogKeyType) -> Result<SigningKey, LogError> {
    let path = dir.join(KEY_FILE);
    match fs::read_to_string(&path) {
        Ok(pem) => {
            let mode = fs::metadata(&path)
                .map_err(|e| LogError::Key(format!("{}: {e}", path.display())))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(LogError::Key(format!(
                    "{} is readable by group or others (mode {:o}); run chmod 600 on it",
                    path.display(),
                    mode & 0o777
                )));
            }
            // The parse error says nothing about the key's contents.
            SigningKey::from_pkcs8_pem(&pem)
                .map_err(|e| LogError::Key(format!("{}: {e}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let alg = match key_type {
                LogKeyType::Ed25519 => KeyAlgorithm::Ed25519,
                LogKeyType::EcdsaP256 => KeyAlgorithm::EcdsaP256,
            };
            let key = SigningKey::generate(alg).map_err(|e| LogError::Key(e.to_string()))?;
            let tmp = dir.join(format!("{KEY_FILE}.tmp"));
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(|e| LogError::Key(format!("{}: {e}", tmp.display())))?;
            f.write_all(key.to_pkcs8_pem().as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| LogError::Key(format!("{}: {e}", tmp.display())))?;
            fs::rename(&tmp, &path)
                .map_err(|e| LogError::Key(format!("{}: {e}", path.display())))?;
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| LogError::Key(format!("{}: {e}", dir.display())))?;
            tracing::info!(path = %path.display(), algorithm = ?alg, "generated a new log key");
            Ok(key)
        }
        Err(e) => Err(LogError::Key(format!("{}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(load_or_generate(dir.path(), LogKeyType::Ed25519).is_err());
    }
}

//! The data directory: key files written 0600 (directory 0700), every file
//! replaced atomically (write to a temporary name, then rename), so that a
//! crash never leaves a half-written key or certificate behind.
//!
//! Key files go through the key store (`keyless_keys::file`): created 0600
//! from the first byte, and refused on load when group or others can read
//! them. Certificates (public) are written here, 0644.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use keyless_crypto::SigningKey;
use keyless_keys::file::{self as key_file, Existing};

use crate::error::TsaError;

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> TsaError {
    let path = path.to_path_buf();
    move |source| TsaError::Io {
        action,
        path,
        source,
    }
}

/// Create the directory (and parents) if missing; new directories are 0700.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), TsaError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_err("creating", dir))
}

/// Whether a file exists (a permission error counts as existing, so that we
/// never regenerate over material we merely cannot read).
pub(crate) fn exists(path: &Path) -> bool {
    !matches!(fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

pub(crate) fn read(path: &Path) -> Result<String, TsaError> {
    fs::read_to_string(path).map_err(io_err("reading", path))
}

/// Load the private key in `path` (PKCS#8 PEM), refusing a key file that
/// group or others can read.
pub(crate) fn read_key(path: &Path) -> Result<SigningKey, TsaError> {
    Ok(key_file::load(path, None)?)
}

/// Write `contents` to `path` with mode 0600 (secret) or 0644 (public).
/// An existing file is replaced: the TSA rewrites its whole chain when a
/// first start was interrupted before the chain was complete.
pub(crate) fn write(path: &Path, contents: &str, secret: bool) -> Result<(), TsaError> {
    if secret {
        return Ok(key_file::write_secret(
            path,
            contents.as_bytes(),
            Existing::Replace,
        )?);
    }
    let tmp: PathBuf = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o644);
    }
    // A leftover temporary file may have other permissions: start afresh.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io_err("removing", &tmp)(e))
        }
        _ => {}
    }
    let mut file = options.open(&tmp).map_err(io_err("creating", &tmp))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err("writing", &tmp))?;
    fs::rename(&tmp, path).map_err(io_err("renaming into", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let mut r = [0u8; 8];
        aws_lc_rs::rand::fill(&mut r).unwrap();
        let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
        std::env::temp_dir().join(format!(
            "keyless-tsa-store-{tag}-{}-{hex}",
            std::process::id()
        ))
    }

    /// Rewriting a key (an interrupted first start redone) replaces it
    /// whole, still 0600, and leaves no temporary file.
    #[cfg(unix)]
    #[test]
    fn secrets_are_replaced_whole() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("replace");
        ensure_dir(&dir).unwrap();
        let path = dir.join("root.key");
        write(&path, "one", true).unwrap();
        write(&path, "two", true).unwrap();
        assert_eq!(read(&path).unwrap(), "two");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        let _ = fs::remove_dir_all(&dir);
    }
}

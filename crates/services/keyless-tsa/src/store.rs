//! The data directory: key files written 0600 (directory 0700), every file
//! replaced atomically (write to a temporary name, then rename), so that a
//! crash never leaves a half-written key or certificate behind.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// Write `contents` to `path` with mode 0600 (secret) or 0644 (public).
pub(crate) fn write(path: &Path, contents: &str, secret: bool) -> Result<(), TsaError> {
    let tmp: PathBuf = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
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

//! The local metadata store (specification §5.1–§5.6: "persist … to the
//! trusted metadata directory").
//!
//! Verify-then-persist: the updater writes a file here only after it passed
//! every check, and writes it atomically (temporary file + rename), so a
//! crash never leaves a half-written file. A file read from here is checked
//! again before use; one that fails is treated as absent, so a corrupt or
//! poisoned cache never blocks a later good update.

use std::io::Write;
use std::path::{Path, PathBuf};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::Error;

/// Characters python's `urllib.parse.quote(name, safe="")` leaves alone.
const ROLE_NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Characters python's `quote(path)` (safe="/") leaves alone, for target URLs.
const TARGET_PATH: &AsciiSet = &ROLE_NAME.remove(b'/');

/// A role name made safe for a file name or a URL path segment (every
/// character but `A–Z a–z 0–9 - . _ ~` percent-encoded), as python-tuf does.
pub fn encode_role_name(role: &str) -> String {
    let enc = utf8_percent_encode(role, ROLE_NAME).to_string();
    // "." and ".." would be path traversal; they are not valid role names.
    match enc.as_str() {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => enc,
    }
}

/// A target path made safe for a URL, keeping `/`.
pub fn encode_target_path(path: &str) -> String {
    utf8_percent_encode(path, TARGET_PATH).to_string()
}

/// A target path flattened to one safe file name (every `/` encoded).
pub fn target_file_name(path: &str) -> String {
    encode_role_name(path)
}

/// The trusted metadata directory.
#[derive(Debug, Clone)]
pub struct MetadataStore {
    dir: PathBuf,
}

impl MetadataStore {
    /// Use (and create) `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, Error> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| Error::storage(&dir, e))?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a role's trusted metadata lives: `ROLE.json` (unversioned).
    pub fn path(&self, role: &str) -> PathBuf {
        self.dir.join(format!("{}.json", encode_role_name(role)))
    }

    /// The stored bytes for `role`, or `None` if absent or unreadable.
    pub fn read(&self, role: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(role)).ok()
    }

    /// Store verified bytes for `role`, atomically.
    pub fn write(&self, role: &str, bytes: &[u8]) -> Result<(), Error> {
        write_atomic(&self.path(role), bytes)
    }

    /// Forget a role (e.g. timestamp after its keys rotated, §5.3.11).
    pub fn remove(&self, role: &str) -> Result<(), Error> {
        let p = self.path(role);
        match std::fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::storage(p, e)),
        }
    }
}

/// Write `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::storage(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::storage(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_quoted_like_python() {
        assert_eq!(encode_role_name("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_role_name("role-1_x.y~"), "role-1_x.y~");
        assert_eq!(encode_role_name(".."), "%2E%2E");
        assert_eq!(encode_target_path("dir/a b.txt"), "dir/a%20b.txt");
    }

    #[test]
    fn write_then_read() {
        let d = tempfile::tempdir().unwrap();
        let s = MetadataStore::new(d.path().join("m")).unwrap();
        assert!(s.read("timestamp").is_none());
        s.write("timestamp", b"x").unwrap();
        assert_eq!(s.read("timestamp").unwrap(), b"x");
        s.remove("timestamp").unwrap();
        s.remove("timestamp").unwrap();
        assert!(s.read("timestamp").is_none());
    }
}

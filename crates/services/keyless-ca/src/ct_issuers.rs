//! The issuer certificates of the CT log's entries, served at
//! `/ct/issuer/<fingerprint>` (C2SP static-ct-api): one file per issuer,
//! `<ct-log dir>/issuer/<lowercase hex SHA-256 of the DER>`, written
//! (fsync'd, then renamed into place) before the first entry that names
//! it is submitted, so every fingerprint a committed `TileLeaf` holds is
//! served after a crash too. They stay files beside the log key with the
//! PostgreSQL driver as well (a CA's issuers are a handful of fixed
//! certificates).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::CtError;

/// Directory of the issuer files inside the CT log's directory.
pub const ISSUER_DIR: &str = "issuer";

/// Largest issuer certificate stored (a CA certificate is ~1 KiB).
pub const MAX_ISSUER_SIZE: usize = 16 * 1024;

pub(crate) struct IssuerStore {
    dir: PathBuf,
    /// Fingerprints already durable in `dir`.
    known: Mutex<HashSet<[u8; 32]>>,
    /// Held while an issuer file is written: concurrent first submissions
    /// naming the same new issuer write it once.
    writing: Mutex<()>,
}

fn io_err(what: &str, e: std::io::Error) -> CtError {
    CtError::Unavailable(format!("issuer store: {what}: {e}"))
}

/// `hex` if it is a lowercase hex SHA-256 fingerprint.
pub(crate) fn parse_fingerprint(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex, &mut out).ok()?;
    Some(out)
}

impl IssuerStore {
    /// Open (or create) the store under `log_dir`, learning what a
    /// previous run wrote. Blocking.
    pub fn open(log_dir: &Path) -> Result<Self, std::io::Error> {
        let dir = log_dir.join(ISSUER_DIR);
        std::fs::create_dir_all(&dir)?;
        let mut known = HashSet::new();
        for e in std::fs::read_dir(&dir)? {
            if let Some(fp) = e?.file_name().to_str().and_then(parse_fingerprint) {
                known.insert(fp);
            }
        }
        Ok(Self {
            dir,
            known: Mutex::new(known),
            writing: Mutex::new(()),
        })
    }

    fn is_known(&self, fp: &[u8; 32]) -> bool {
        self.known.lock().map(|k| k.contains(fp)).unwrap_or(false)
    }

    /// Make every one of `issuers` (DER, already verified as part of a
    /// chain to a root, with their SHA-256 `fingerprints`) durable. Only
    /// issuers not seen before touch the disk; blocking then (a new
    /// issuer is rare).
    pub fn ensure(&self, issuers: &[Vec<u8>], fingerprints: &[[u8; 32]]) -> Result<(), CtError> {
        for (der, fp) in issuers.iter().zip(fingerprints) {
            let fp = *fp;
            if self.is_known(&fp) {
                continue;
            }
            if der.len() > MAX_ISSUER_SIZE {
                return Err(CtError::BadRequest("issuer certificate too large"));
            }
            let _writing = self
                .writing
                .lock()
                .map_err(|_| CtError::Unavailable("issuer store poisoned".into()))?;
            if self.is_known(&fp) {
                continue;
            }
            let name = hex::encode(fp);
            let tmp = self.dir.join(format!(".{name}.tmp"));
            let mut f = std::fs::File::create(&tmp).map_err(|e| io_err("create", e))?;
            f.write_all(der).map_err(|e| io_err("write", e))?;
            f.sync_all().map_err(|e| io_err("fsync", e))?;
            std::fs::rename(&tmp, self.dir.join(&name)).map_err(|e| io_err("rename", e))?;
            std::fs::File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_err("fsync directory", e))?;
            if let Ok(mut k) = self.known.lock() {
                k.insert(fp);
            }
        }
        Ok(())
    }

    /// The issuer with this fingerprint, if the log has one. Blocking.
    pub fn get(&self, fp: &[u8; 32]) -> Option<Vec<u8>> {
        if !self.is_known(fp) {
            return None;
        }
        std::fs::read(self.dir.join(hex::encode(fp))).ok()
    }
}

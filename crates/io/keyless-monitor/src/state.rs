//! The monitor's state file: the last checkpoint proven consistent and the
//! first entry not yet reported. Written atomically (temp file, fsync,
//! rename, fsync of the directory) so a crash leaves the old or the new
//! state, never a torn one.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A state file is a checkpoint, a number and at most 64 hashes.
const MAX_STATE: u64 = 64 * 1024;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("{op} {path}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is over {MAX_STATE} bytes: not a monitor state file")]
    TooLarge { path: PathBuf },
    #[error("{path} is not a monitor state file")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct State {
    /// The log's base URL, so a state file is not reused for another log.
    pub log: String,
    /// The last signed checkpoint this monitor verified (note text).
    pub checkpoint: String,
    /// Entries below this index have been read (and matches reported).
    pub next_index: u64,
    /// The compact range of entries `[0, next_index)`: the roots of its
    /// perfect subtrees, largest first, hex. Extending it with the leaves
    /// read and comparing with the checkpoint's root proves the tiles
    /// served are the ones the checkpoint commits to.
    pub frontier: Vec<String>,
}

impl State {
    /// `Ok(None)` when the file does not exist yet (first run).
    pub fn load(path: &Path) -> Result<Option<Self>, StateError> {
        let io = |op, source| StateError::Io {
            op,
            path: path.to_path_buf(),
            source,
        };
        let f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("opening", e)),
        };
        let mut buf = Vec::new();
        use std::io::Read;
        f.take(MAX_STATE + 1)
            .read_to_end(&mut buf)
            .map_err(|e| io("reading", e))?;
        if buf.len() as u64 > MAX_STATE {
            return Err(StateError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        serde_json::from_slice(&buf)
            .map(Some)
            .map_err(|source| StateError::Json {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Replace the state file atomically.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let io = |op, source| StateError::Io {
            op,
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".into());
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let json = serde_json::to_vec_pretty(self).map_err(|source| StateError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let mut f = std::fs::File::create(&tmp).map_err(|e| io("creating", e))?;
        f.write_all(&json).map_err(|e| io("writing", e))?;
        f.sync_all().map_err(|e| io("syncing", e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| io("renaming into", e))?;
        // The rename itself is durable only once the directory is synced.
        if let Ok(d) = std::fs::File::open(&dir) {
            d.sync_all()
                .map_err(|e| io("syncing the directory of", e))?;
        }
        Ok(())
    }
}

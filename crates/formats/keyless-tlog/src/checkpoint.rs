//! C2SP tlog checkpoints (<https://c2sp.org/tlog-checkpoint>).
//!
//! A checkpoint is the body of a signed note: the log's origin, the tree
//! size and the root hash, one per line, then optional extension lines
//! (Rekor v1 adds `Timestamp: <ns>`). Parsing is strict, because a lenient
//! parser lets a checkpoint mean different things to different clients.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use thiserror::Error;

use crate::hash::Hash;
use crate::note::MAX_NOTE_SIZE;

/// Why a checkpoint body could not be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The body is larger than a note may be.
    #[error("checkpoint is {size} bytes, more than the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    /// Every checkpoint line, the last included, ends with '\n'.
    #[error("checkpoint does not end with a newline")]
    NotNewlineTerminated,
    /// The first line (the origin) is empty, or the body starts with what
    /// is evidently the size and root hash.
    #[error("checkpoint has no origin line")]
    MissingOrigin,
    /// The second line is absent, or is evidently the root hash.
    #[error("checkpoint has no tree size line")]
    MissingSize,
    /// The size line is not a canonical decimal `u64`.
    #[error(
        "checkpoint tree size {found:?} is not a decimal number without sign or leading zeros"
    )]
    InvalidSize { found: String },
    /// The third line is absent.
    #[error("checkpoint has no root hash line")]
    MissingRootHash,
    /// The root hash line is not standard base64.
    #[error("checkpoint root hash {found:?} is not base64: {reason}")]
    InvalidRootHash { found: String, reason: String },
    /// The root hash decodes to the wrong number of bytes.
    #[error("checkpoint root hash has {found} bytes, expected {expected}")]
    RootHashLength { expected: usize, found: usize },
    /// An empty line where an extension line should be.
    #[error("checkpoint line {line} is empty")]
    EmptyLine { line: usize },
}

/// A parsed checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Identifies the log; for Rekor v2 the host of its base URL, for
    /// Rekor v1 `<host> - <tree ID>`.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 root hash of the tree.
    pub root_hash: Hash,
    /// Extension lines after the root hash, without their newlines.
    pub extensions: Vec<String>,
}

/// A canonical decimal: digits only, no leading zero unless it is "0".
fn parse_size(line: &str) -> Option<u64> {
    if line.is_empty()
        || !line.bytes().all(|b| b.is_ascii_digit())
        || (line.len() > 1 && line.starts_with('0'))
    {
        return None;
    }
    line.parse().ok()
}

fn looks_like_hash(line: &str) -> bool {
    B64.decode(line).is_ok_and(|b| b.len() == 32)
}

impl Checkpoint {
    /// Parse a checkpoint body, as returned by
    /// [`crate::SignedNote::body`].
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        if body.len() > MAX_NOTE_SIZE {
            return Err(CheckpointError::TooLarge {
                size: body.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        let body = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::NotNewlineTerminated)?;
        let lines: Vec<&str> = body.split('\n').collect();

        let origin = lines[0];
        // A body that starts with a size and then a hash lost its origin;
        // say so rather than complain that the hash is not a size.
        if origin.is_empty()
            || (parse_size(origin).is_some() && lines.get(1).is_some_and(|l| looks_like_hash(l)))
        {
            return Err(CheckpointError::MissingOrigin);
        }

        let size_line = lines
            .get(1)
            .copied()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::MissingSize)?;
        if looks_like_hash(size_line) {
            return Err(CheckpointError::MissingSize);
        }
        let size = parse_size(size_line).ok_or_else(|| CheckpointError::InvalidSize {
            found: size_line.to_string(),
        })?;

        let hash_line = lines
            .get(2)
            .copied()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::MissingRootHash)?;
        let bytes = B64
            .decode(hash_line)
            .map_err(|e| CheckpointError::InvalidRootHash {
                found: hash_line.to_string(),
                reason: e.to_string(),
            })?;
        let root_hash: Hash =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| CheckpointError::RootHashLength {
                    expected: 32,
                    found: bytes.len(),
                })?;

        let mut extensions = Vec::with_capacity(lines.len().saturating_sub(3));
        for (i, line) in lines.iter().enumerate().skip(3) {
            if line.is_empty() {
                return Err(CheckpointError::EmptyLine { line: i + 1 });
            }
            extensions.push((*line).to_string());
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root_hash,
            extensions,
        })
    }

    /// The body text, every line newline-terminated; what the log signs.
    pub fn to_body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root_hash)
        );
        for ext in &self.extensions {
            out.push_str(ext);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "rs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=";

    #[test]
    fn roundtrip() {
        let body = format!("rekor.sigstore.dev - 123\n42\n{HASH}\nTimestamp: 1\n");
        let cp = Checkpoint::parse(&body).unwrap();
        assert_eq!(cp.origin, "rekor.sigstore.dev - 123");
        assert_eq!(cp.size, 42);
        assert_eq!(cp.extensions, vec!["Timestamp: 1".to_string()]);
        assert_eq!(cp.to_body(), body);
        assert_eq!(
            Checkpoint::parse(&format!("o\n0\n{HASH}\n")).unwrap().size,
            0
        );
    }

    #[test]
    fn errors() {
        use CheckpointError as E;
        let cases = [
            (format!("o\n1\n{HASH}"), E::NotNewlineTerminated),
            (format!("1\n{HASH}\n"), E::MissingOrigin),
            (format!("\n1\n{HASH}\n"), E::MissingOrigin),
            (format!("o\n{HASH}\n"), E::MissingSize),
            ("o\n".to_string(), E::MissingSize),
            ("o\n1\n".to_string(), E::MissingRootHash),
            (
                format!("o\n+1\n{HASH}\n"),
                E::InvalidSize { found: "+1".into() },
            ),
            (
                format!("o\n01\n{HASH}\n"),
                E::InvalidSize { found: "01".into() },
            ),
            (
                format!("o\n-1\n{HASH}\n"),
                E::InvalidSize { found: "-1".into() },
            ),
            (
                format!("o\n18446744073709551616\n{HASH}\n"),
                E::InvalidSize {
                    found: "18446744073709551616".into(),
                },
            ),
            (
                "o\n1\nAAAA\n".to_string(),
                E::RootHashLength {
                    expected: 32,
                    found: 3,
                },
            ),
            (format!("o\n1\n{HASH}\n\nx\n"), E::EmptyLine { line: 4 }),
        ];
        for (body, want) in cases {
            assert_eq!(Checkpoint::parse(&body), Err(want), "{body:?}");
        }
        assert!(matches!(
            Checkpoint::parse("o\n1\n!!\n"),
            Err(E::InvalidRootHash { .. })
        ));
    }
}

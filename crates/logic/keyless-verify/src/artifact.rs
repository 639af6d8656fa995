//! The artifact being verified: a file, hashed as a stream so that it is
//! never held in memory whole, or just a digest (`sha256:<hex>`).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use keyless_crypto::{HashAlgorithm, Hasher};

use crate::error::ArtifactError;

/// Largest artifact read whole, for the rare scheme that cannot work from a
/// digest (Ed25519 over a message).
const MAX_WHOLE_ARTIFACT: u64 = 256 * 1024 * 1024;

/// An artifact to verify.
#[derive(Debug, Clone)]
pub enum Artifact {
    /// A file on disk; digests are computed on demand, streaming.
    File(PathBuf),
    /// Only the digest is known.
    Digest {
        algorithm: HashAlgorithm,
        digest: Vec<u8>,
    },
    /// Bytes in memory.
    Bytes(Vec<u8>),
}

impl Artifact {
    /// Parse the conformance protocol's argument: `sha256:<64 hex>` that is
    /// not an existing path is a digest; anything else is a path.
    pub fn from_arg(arg: &str) -> Self {
        if let Some(hex_digest) = arg.strip_prefix("sha256:") {
            if hex_digest.len() == 64 && !Path::new(arg).exists() {
                if let Ok(digest) = hex::decode(hex_digest) {
                    return Self::Digest {
                        algorithm: HashAlgorithm::Sha256,
                        digest,
                    };
                }
            }
        }
        Self::File(PathBuf::from(arg))
    }

    /// The artifact's digest under `algorithm`.
    pub fn digest(&self, algorithm: HashAlgorithm) -> Result<Vec<u8>, ArtifactError> {
        match self {
            Self::Bytes(b) => Ok(algorithm.digest(b)),
            Self::Digest { algorithm: have, digest } if *have == algorithm => Ok(digest.clone()),
            Self::Digest { algorithm: have, .. } => Err(ArtifactError::Unsupported(format!(
                "the artifact was given as a {have:?} digest, but {algorithm:?} is needed; pass the file instead"
            ))),
            Self::File(path) => {
                let file = File::open(path).map_err(|e| ArtifactError::Io(format!("{}: {e}", path.display())))?;
                let mut reader = BufReader::with_capacity(1 << 16, file);
                let mut hasher = Hasher::new(algorithm);
                std::io::copy(&mut reader, &mut hasher).map_err(|e| ArtifactError::Io(format!("{}: {e}", path.display())))?;
                Ok(hasher.finish())
            }
        }
    }

    /// The whole artifact, for signature schemes that need the message.
    pub fn bytes(&self) -> Result<Vec<u8>, ArtifactError> {
        match self {
            Self::Bytes(b) => Ok(b.clone()),
            Self::Digest { .. } => Err(ArtifactError::Unsupported(
                "this signature scheme (Ed25519) needs the artifact itself, not its digest".into(),
            )),
            Self::File(path) => {
                let file = File::open(path)
                    .map_err(|e| ArtifactError::Io(format!("{}: {e}", path.display())))?;
                let mut out = Vec::new();
                file.take(MAX_WHOLE_ARTIFACT + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| ArtifactError::Io(format!("{}: {e}", path.display())))?;
                if out.len() as u64 > MAX_WHOLE_ARTIFACT {
                    return Err(ArtifactError::Unsupported(
                        "artifact too large to verify an Ed25519 signature over".into(),
                    ));
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_argument_rules() {
        let hex64 = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
        assert!(matches!(
            Artifact::from_arg(&format!("sha256:{hex64}")),
            Artifact::Digest { .. }
        ));
        assert!(matches!(
            Artifact::from_arg("sha256:abc"),
            Artifact::File(_)
        ));
        assert!(matches!(Artifact::from_arg("a.txt"), Artifact::File(_)));
    }

    #[test]
    fn file_is_hashed_streaming() {
        let dir = std::env::temp_dir().join(format!("keyless-artifact-{}", std::process::id()));
        std::fs::write(&dir, b"abc").unwrap();
        let a = Artifact::File(dir.clone());
        assert_eq!(
            hex::encode(a.digest(HashAlgorithm::Sha256).unwrap()),
            keyless_crypto::sha256_hex(b"abc")
        );
        std::fs::remove_file(dir).unwrap();
    }
}

//! The artifact being verified: a file, hashed as a stream so that it is
//! never held in memory whole, or just a digest (`sha256:<hex>`,
//! `sha384:<hex>`, `sha512:<hex>`).

use std::fs::File;
use std::io::Read;
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
    /// Parse the command-line argument: `<alg>:<hex>` (`sha256`, `sha384`
    /// or `sha512`, with a digest of that hash's length) that is not an
    /// existing path is a digest; anything else is a path. The other hashes
    /// are needed for bundles that do not use SHA-256: npm's provenance
    /// names its subjects by SHA-512 only.
    pub fn from_arg(arg: &str) -> Self {
        if let Some((name, hex_digest)) = arg.split_once(':') {
            if let Some(algorithm) = HashAlgorithm::from_name(name) {
                if hex_digest.len() == 2 * algorithm.output_len() && !Path::new(arg).exists() {
                    if let Ok(digest) = hex::decode(hex_digest) {
                        return Self::Digest { algorithm, digest };
                    }
                }
            }
        }
        Self::File(PathBuf::from(arg))
    }

    /// The artifact's digest under `algorithm`.
    pub fn digest(&self, algorithm: HashAlgorithm) -> Result<Vec<u8>, ArtifactError> {
        let mut all = self.digests(&[algorithm])?;
        all.pop()
            .ok_or_else(|| ArtifactError::Unsupported("no digest computed".into()))
    }

    /// The artifact's digests under each of `algorithms`, in that order; a
    /// file is read once whatever their number.
    pub fn digests(&self, algorithms: &[HashAlgorithm]) -> Result<Vec<Vec<u8>>, ArtifactError> {
        match self {
            Self::Bytes(b) => Ok(algorithms.iter().map(|a| a.digest(b)).collect()),
            Self::Digest { algorithm: have, digest } => algorithms
                .iter()
                .map(|want| {
                    if want == have {
                        Ok(digest.clone())
                    } else {
                        Err(ArtifactError::Unsupported(format!(
                            "the artifact was given as a {} digest, but {} is needed; pass the file, or its {}:<hex> digest",
                            have.name(),
                            want.name(),
                            want.name()
                        )))
                    }
                })
                .collect(),
            Self::File(path) => {
                let io = |source: std::io::Error| ArtifactError::Io {
                    path: path.clone(),
                    source,
                };
                let mut file = File::open(path).map_err(io)?;
                let mut hashers: Vec<Hasher> = algorithms.iter().map(|a| Hasher::new(*a)).collect();
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = match file.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(io(e)),
                    };
                    for h in &mut hashers {
                        h.update(&buf[..n]);
                    }
                }
                Ok(hashers.into_iter().map(Hasher::finish).collect())
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
                let io = |source: std::io::Error| ArtifactError::Io {
                    path: path.clone(),
                    source,
                };
                let file = File::open(path).map_err(io)?;
                let mut out = Vec::new();
                file.take(MAX_WHOLE_ARTIFACT + 1)
                    .read_to_end(&mut out)
                    .map_err(io)?;
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
        let hex96 = "ab".repeat(48);
        let hex128 = "cd".repeat(64);
        assert!(matches!(
            Artifact::from_arg(&format!("sha384:{hex96}")),
            Artifact::Digest {
                algorithm: HashAlgorithm::Sha384,
                ..
            }
        ));
        assert!(matches!(
            Artifact::from_arg(&format!("sha512:{hex128}")),
            Artifact::Digest {
                algorithm: HashAlgorithm::Sha512,
                ..
            }
        ));
        // A length that is not the named hash's is a path, not a digest.
        assert!(matches!(
            Artifact::from_arg(&format!("sha512:{hex64}")),
            Artifact::File(_)
        ));
        assert!(matches!(
            Artifact::from_arg(&format!("md5:{hex64}")),
            Artifact::File(_)
        ));
    }

    /// Several digests from one read of a file equal the one-shot digests,
    /// and a digest argument yields only its own hash.
    #[test]
    fn several_digests_in_one_pass() {
        let path =
            std::env::temp_dir().join(format!("keyless-artifact-multi-{}", std::process::id()));
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let algs = [
            HashAlgorithm::Sha512,
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
        ];
        let got = Artifact::File(path.clone()).digests(&algs).unwrap();
        std::fs::remove_file(path).unwrap();
        for (alg, d) in algs.iter().zip(&got) {
            assert_eq!(d, &alg.digest(&data));
        }
        let given = Artifact::Digest {
            algorithm: HashAlgorithm::Sha512,
            digest: got[0].clone(),
        };
        assert_eq!(given.digest(HashAlgorithm::Sha512).unwrap(), got[0]);
        let err = given.digest(HashAlgorithm::Sha256).unwrap_err().to_string();
        assert!(
            err.contains("given as a sha512 digest, but sha256 is needed"),
            "{err}"
        );
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

use aws_lc_rs::digest;

use crate::{CryptoError, HashAlgorithm};

impl HashAlgorithm {
    /// aws-lc's digest value for `digest`, or `DigestLength` when its
    /// length is not this algorithm's output length.
    pub(crate) fn import(self, digest: &[u8]) -> Result<digest::Digest, CryptoError> {
        digest::Digest::import_less_safe(digest, self.aws()).map_err(|_| {
            CryptoError::DigestLength {
                algorithm: self,
                expected: self.output_len(),
                found: digest.len(),
            }
        })
    }
}

/// Incremental hashing, so that artifacts are hashed as a stream and never
/// held in memory whole.
pub struct Hasher {
    ctx: digest::Context,
}

impl Hasher {
    pub fn new(algorithm: HashAlgorithm) -> Self {
        Self {
            ctx: digest::Context::new(algorithm.aws()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    pub fn finish(self) -> Vec<u8> {
        self.ctx.finish().as_ref().to_vec()
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

/// SHA-256 of the concatenation of `parts`, without building it: a log
/// entry's leaf hash is over a one-byte prefix and a body of kilobytes.
pub fn sha256_concat(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    sha256(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_equals_one_shot() {
        let data = b"the quick brown fox jumps over the lazy dog";
        let mut h = Hasher::new(HashAlgorithm::Sha384);
        for chunk in data.chunks(7) {
            h.update(chunk);
        }
        assert_eq!(h.finish(), HashAlgorithm::Sha384.digest(data));
    }

    #[test]
    fn concat_equals_one_shot() {
        assert_eq!(sha256_concat(&[b"ab", b"", b"cd"]), sha256(b"abcd"));
        assert_eq!(sha256_concat(&[]), sha256(b""));
    }

    #[test]
    fn names_round_trip() {
        for alg in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            assert_eq!(HashAlgorithm::from_name(alg.name()), Some(alg));
            assert_eq!(HashAlgorithm::from_proto_name(alg.proto_name()), Some(alg));
        }
        assert_eq!(HashAlgorithm::from_name("SHA256"), None);
        assert_eq!(HashAlgorithm::from_name("sha1"), None);
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

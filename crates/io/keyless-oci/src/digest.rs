//! Content digests (`sha256:<hex>`), the identity of everything in a registry.
//!
//! Only SHA-256 is accepted: it is the only algorithm cosign, Docker and every
//! registry we talk to use for manifests and blobs, and refusing the rest means
//! a digest that exists can always be recomputed and checked locally.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a digest we can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// There is no `algorithm:` prefix.
    #[error("digest {0:?} has no algorithm prefix (expected \"sha256:<64 hex digits>\")")]
    MissingAlgorithm(String),
    /// The algorithm is syntactically fine but not one we can recompute.
    #[error("digest {value:?} uses algorithm {algorithm:?}; only sha256 is supported")]
    UnsupportedAlgorithm { value: String, algorithm: String },
    /// The encoded part is not 64 lowercase hex digits.
    #[error("digest {0:?} is not \"sha256:\" followed by 64 lowercase hex digits")]
    BadHex(String),
}

/// A SHA-256 content digest, always in canonical lowercase form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Digest of `data`, computed here.
    pub fn of(data: &[u8]) -> Self {
        Self {
            hex: keyless_crypto::sha256_hex(data),
        }
    }

    /// Parse `sha256:<64 lowercase hex>`.
    pub fn parse(value: &str) -> Result<Self, DigestError> {
        let Some((algorithm, hex)) = value.split_once(':') else {
            return Err(DigestError::MissingAlgorithm(value.to_owned()));
        };
        if algorithm != "sha256" {
            return Err(DigestError::UnsupportedAlgorithm {
                value: value.to_owned(),
                algorithm: algorithm.to_owned(),
            });
        }
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(DigestError::BadHex(value.to_owned()));
        }
        Ok(Self {
            hex: hex.to_owned(),
        })
    }

    /// The algorithm name, always `sha256`.
    pub fn algorithm(&self) -> &'static str {
        "sha256"
    }

    /// The 64 hex digits, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Does `data` hash to this digest?
    pub fn matches(&self, data: &[u8]) -> bool {
        keyless_crypto::sha256_hex(data) == self.hex
    }

    /// The tag cosign and the OCI referrers tag schema derive from a digest:
    /// `sha256-<hex>` (a `:` is not allowed in tags).
    pub fn tag_form(&self) -> String {
        format!("sha256-{}", self.hex)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest(sha256:{})", self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_checks() {
        let d = Digest::of(b"hello");
        assert_eq!(
            d.to_string(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        assert!(d.matches(b"hello"));
        assert!(!d.matches(b"hello!"));
        assert_eq!(d.tag_form(), format!("sha256-{}", d.hex()));
    }

    #[test]
    fn rejects_bad_digests() {
        assert!(matches!(
            Digest::parse("abc"),
            Err(DigestError::MissingAlgorithm(_))
        ));
        assert!(matches!(
            Digest::parse("sha512:00"),
            Err(DigestError::UnsupportedAlgorithm { .. })
        ));
        assert!(matches!(
            Digest::parse("sha256:ABC"),
            Err(DigestError::BadHex(_))
        ));
        let upper = format!("sha256:{}", "A".repeat(64));
        assert!(matches!(Digest::parse(&upper), Err(DigestError::BadHex(_))));
    }
}

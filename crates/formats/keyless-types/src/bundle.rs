//! The validated Sigstore bundle (protobuf-specs `Bundle`, v0.1–v0.3).
//!
//! Step 0 of the client specification's verification: the structure is
//! checked here, before any cryptography, so that every later step can rely
//! on exactly one content, exactly one kind of verification material,
//! decoded bytes and in-range integers.

use crate::dsse::Envelope;
use crate::error::BundleError;
use crate::limits::{MAX_BUNDLE_BYTES, MAX_CHAIN_LEN, MAX_TIMESTAMPS, MAX_TLOG_ENTRIES};
use crate::wire;

/// Media type of a v0.3 bundle in its current spelling, which we write.
pub const MEDIA_TYPE_V0_3: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// The bundle format versions we understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BundleVersion {
    V0_1,
    V0_2,
    V0_3,
}

impl BundleVersion {
    /// Accepts both spellings: `bundle+json;version=0.N` and `bundle.v0.N+json`.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        let version = media_type
            .strip_prefix("application/vnd.dev.sigstore.bundle+json;version=")
            .or_else(|| {
                media_type
                    .strip_prefix("application/vnd.dev.sigstore.bundle.v")
                    .and_then(|rest| rest.strip_suffix("+json"))
            })?;
        match version {
            "0.1" => Some(Self::V0_1),
            "0.2" => Some(Self::V0_2),
            "0.3" => Some(Self::V0_3),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_1 => "v0.1",
            Self::V0_2 => "v0.2",
            Self::V0_3 => "v0.3",
        }
    }
}

/// What the signature is to be checked with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationMaterial {
    /// A long-lived key known out of band; the hint names it.
    PublicKey { hint: String },
    /// A leaf certificate (v0.3), DER.
    Certificate(Vec<u8>),
    /// A chain, leaf first (v0.1/v0.2), DER; never empty.
    Chain(Vec<Vec<u8>>),
}

impl VerificationMaterial {
    /// The leaf certificate's DER, if the material is certificate based.
    pub fn leaf_der(&self) -> Option<&[u8]> {
        match self {
            Self::PublicKey { .. } => None,
            Self::Certificate(der) => Some(der),
            Self::Chain(chain) => chain.first().map(Vec::as_slice),
        }
    }

    /// Certificates after the leaf (intermediates a chain carries).
    pub fn chain_rest(&self) -> &[Vec<u8>] {
        match self {
            Self::Chain(chain) if !chain.is_empty() => &chain[1..],
            _ => &[],
        }
    }
}

/// A signature over a message (the artifact), with the digest hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    /// `(algorithm enum name, digest)`; an unauthenticated hint that must
    /// still agree with the artifact.
    pub digest: Option<(String, Vec<u8>)>,
    pub signature: Vec<u8>,
}

/// What was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    MessageSignature(MessageSignature),
    /// A DSSE envelope with exactly one signature.
    Dsse(Envelope),
}

impl Content {
    /// The raw signature bytes: what RFC 3161 timestamps are made over and
    /// what log entries must record.
    pub fn signature(&self) -> &[u8] {
        match self {
            Self::MessageSignature(m) => &m.signature,
            Self::Dsse(e) => e
                .signatures
                .first()
                .map(|s| s.sig.as_slice())
                .unwrap_or_default(),
        }
    }
}

/// An inclusion proof with a checkpoint, hashes checked to be 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub log_index: u64,
    pub tree_size: u64,
    pub root_hash: [u8; 32],
    pub hashes: Vec<[u8; 32]>,
    /// The signed note text; `None` when the bundle carries no checkpoint.
    pub checkpoint: Option<String>,
}

/// One transparency-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogEntry {
    pub log_index: u64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub version: String,
    /// Unix seconds; `None` when absent or zero (Rekor v2 has no integrated time).
    pub integrated_time: Option<i64>,
    pub signed_entry_timestamp: Option<Vec<u8>>,
    pub inclusion_proof: Option<InclusionProof>,
    pub canonicalized_body: Vec<u8>,
    /// The body's base64 text from the bundle when it is exactly the
    /// standard padded encoding of `canonicalized_body` (see
    /// [`crate::b64::bytes_with_text`]): the signed entry timestamp is
    /// over that text, and this spares re-encoding it. `None` otherwise.
    pub canonicalized_body_b64: Option<String>,
}

/// A structurally valid bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub version: BundleVersion,
    pub media_type: String,
    pub material: VerificationMaterial,
    pub content: Content,
    pub tlog_entries: Vec<TlogEntry>,
    /// DER RFC 3161 signed timestamps.
    pub timestamps: Vec<Vec<u8>>,
}

impl Bundle {
    /// Parse and validate a bundle from JSON bytes.
    pub fn from_json(json: &[u8]) -> Result<Self, BundleError> {
        if json.len() > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooLarge {
                size: json.len(),
                max: MAX_BUNDLE_BYTES,
            });
        }
        let wire: wire::Bundle =
            serde_json::from_slice(json).map_err(|e| BundleError::Json(std::sync::Arc::new(e)))?;
        Self::from_wire(wire)
    }

    /// Validate a parsed wire bundle.
    pub fn from_wire(w: wire::Bundle) -> Result<Self, BundleError> {
        let version = BundleVersion::from_media_type(&w.media_type)
            .ok_or_else(|| BundleError::UnknownMediaType(w.media_type.clone()))?;
        let mut vm = w
            .verification_material
            .ok_or(BundleError::MissingVerificationMaterial)?;

        let material = material(version, &mut vm)?;
        let content = content(w.message_signature, w.dsse_envelope)?;

        if vm.tlog_entries.len() > MAX_TLOG_ENTRIES {
            return Err(BundleError::TooMany {
                what: "tlog entries",
                found: vm.tlog_entries.len(),
                max: MAX_TLOG_ENTRIES,
            });
        }
        let mut tlog_entries: Vec<TlogEntry> = Vec::with_capacity(vm.tlog_entries.len());
        for (i, e) in vm.tlog_entries.into_iter().enumerate() {
            let entry = tlog_entry(i, e)?;
            match version {
                BundleVersion::V0_1 if entry.signed_entry_timestamp.is_none() => {
                    return Err(BundleError::MissingForVersion {
                        version: "v0.1",
                        what: "an inclusion promise",
                        entry: i,
                    })
                }
                BundleVersion::V0_2 | BundleVersion::V0_3 if entry.inclusion_proof.is_none() => {
                    return Err(BundleError::MissingForVersion {
                        version: version.as_str(),
                        what: "an inclusion proof",
                        entry: i,
                    })
                }
                _ => {}
            }
            // A scan, not a set: there are at most MAX_TLOG_ENTRIES.
            let twice = tlog_entries
                .iter()
                .any(|e| e.log_index == entry.log_index && e.log_id == entry.log_id);
            if twice {
                return Err(BundleError::DuplicateTlogEntry {
                    log_id: hex::encode(&entry.log_id),
                    index: entry.log_index as i64,
                });
            }
            tlog_entries.push(entry);
        }

        let timestamps: Vec<Vec<u8>> = vm
            .timestamp_verification_data
            .map(|t| {
                t.rfc3161_timestamps
                    .into_iter()
                    .map(|t| t.signed_timestamp)
                    .collect()
            })
            .unwrap_or_default();
        if timestamps.len() > MAX_TIMESTAMPS {
            return Err(BundleError::TooMany {
                what: "RFC 3161 timestamps",
                found: timestamps.len(),
                max: MAX_TIMESTAMPS,
            });
        }

        Ok(Self {
            version,
            media_type: w.media_type,
            material,
            content,
            tlog_entries,
            timestamps,
        })
    }
}

/// The signer's material, moved out of `vm` (a certificate is kilobytes).
fn material(
    version: BundleVersion,
    vm: &mut wire::VerificationMaterial,
) -> Result<VerificationMaterial, BundleError> {
    let count = [
        vm.public_key.is_some(),
        vm.x509_certificate_chain.is_some(),
        vm.certificate.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if count != 1 {
        return Err(BundleError::VerificationMaterialCount(count));
    }
    if let Some(pk) = vm.public_key.take() {
        return Ok(VerificationMaterial::PublicKey { hint: pk.hint });
    }
    if let Some(cert) = vm.certificate.take() {
        return Ok(VerificationMaterial::Certificate(cert.raw_bytes));
    }
    let chain = vm.x509_certificate_chain.take().map(|c| c.certificates);
    let chain: Vec<Vec<u8>> = chain.into_iter().flatten().map(|c| c.raw_bytes).collect();
    if version >= BundleVersion::V0_3 {
        return Err(BundleError::ChainNotAllowed {
            version: version.as_str(),
        });
    }
    if chain.is_empty() || chain.iter().any(Vec::is_empty) {
        return Err(BundleError::EmptyCertificateChain);
    }
    if chain.len() > MAX_CHAIN_LEN {
        return Err(BundleError::ChainTooLong(chain.len()));
    }
    Ok(VerificationMaterial::Chain(chain))
}

fn content(
    ms: Option<wire::MessageSignature>,
    dsse: Option<Envelope>,
) -> Result<Content, BundleError> {
    match (ms, dsse) {
        (Some(ms), None) => {
            let digest = match ms.message_digest {
                Some(d) => {
                    if !matches!(d.algorithm.as_str(), "SHA2_256" | "SHA2_384" | "SHA2_512") {
                        return Err(BundleError::UnknownDigestAlgorithm(d.algorithm));
                    }
                    Some((d.algorithm, d.digest))
                }
                None => None,
            };
            Ok(Content::MessageSignature(MessageSignature {
                digest,
                signature: ms.signature,
            }))
        }
        (None, Some(env)) => {
            if env.signatures.len() != 1 {
                return Err(BundleError::DsseSignatureCount(env.signatures.len()));
            }
            Ok(Content::Dsse(env))
        }
        (a, b) => Err(BundleError::ContentCount(
            a.is_some() as usize + b.is_some() as usize,
        )),
    }
}

fn tlog_entry(i: usize, e: wire::TransparencyLogEntry) -> Result<TlogEntry, BundleError> {
    let non_negative = |field: &'static str, value: i64| {
        u64::try_from(value).map_err(|_| BundleError::NegativeInteger {
            entry: i,
            field,
            value,
        })
    };
    let bad = |problem: String| BundleError::BadTlogEntry { entry: i, problem };
    let log_index = non_negative("logIndex", e.log_index)?;
    let integrated_time = match e.integrated_time {
        Some(t) if t < 0 => {
            return Err(BundleError::NegativeInteger {
                entry: i,
                field: "integratedTime",
                value: t,
            })
        }
        Some(0) | None => None,
        Some(t) => Some(t),
    };
    let inclusion_proof = match e.inclusion_proof {
        None => None,
        Some(p) => {
            let hash32 = |h: Vec<u8>, what: &str| -> Result<[u8; 32], BundleError> {
                <[u8; 32]>::try_from(h.as_slice())
                    .map_err(|_| bad(format!("{what} has {} bytes, expected 32", h.len())))
            };
            if p.hashes.len() > 64 {
                return Err(bad(format!(
                    "inclusion proof has {} hashes, at most 64 are possible",
                    p.hashes.len()
                )));
            }
            Some(InclusionProof {
                log_index: non_negative("inclusionProof.logIndex", p.log_index)?,
                tree_size: non_negative("inclusionProof.treeSize", p.tree_size)?,
                root_hash: hash32(p.root_hash, "inclusion proof root hash")?,
                hashes: p
                    .hashes
                    .into_iter()
                    .map(|h| hash32(h, "inclusion proof hash"))
                    .collect::<Result<_, _>>()?,
                checkpoint: p.checkpoint.map(|c| c.envelope).filter(|c| !c.is_empty()),
            })
        }
    };
    if e.canonicalized_body.is_empty() {
        return Err(bad("canonicalizedBody is empty".into()));
    }
    Ok(TlogEntry {
        log_index,
        log_id: e.log_id.key_id,
        kind: e.kind_version.kind,
        version: e.kind_version.version,
        integrated_time,
        signed_entry_timestamp: e
            .inclusion_promise
            .map(|p| p.signed_entry_timestamp)
            .filter(|s| !s.is_empty()),
        inclusion_proof,
        canonicalized_body: e.canonicalized_body,
        canonicalized_body_b64: e.canonicalized_body_b64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_spellings() {
        use BundleVersion::*;
        for (mt, v) in [
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.1",
                Some(V0_1),
            ),
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.2",
                Some(V0_2),
            ),
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.3",
                Some(V0_3),
            ),
            ("application/vnd.dev.sigstore.bundle.v0.3+json", Some(V0_3)),
            (
                "application/vnd.dev.sigstore.bundle+json;version=99.9",
                None,
            ),
            ("application/json", None),
        ] {
            assert_eq!(BundleVersion::from_media_type(mt), v, "{mt}");
        }
    }

    /// The same (log, index) twice is refused; the same index in another
    /// log is not a duplicate. The material is moved out, not copied.
    #[test]
    fn duplicate_tlog_entries() {
        let entry = |log: &str| {
            format!(
                r#"{{"logIndex":"7","logId":{{"keyId":"{log}"}},"kindVersion":{{"kind":"hashedrekord","version":"0.0.1"}},"integratedTime":"1","inclusionPromise":{{"signedEntryTimestamp":"AA=="}},"canonicalizedBody":"e30="}}"#
            )
        };
        let bundle = |entries: &[String]| {
            format!(
                r#"{{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1","verificationMaterial":{{"certificate":{{"rawBytes":"AQID"}},"tlogEntries":[{}]}},"messageSignature":{{"signature":"AA=="}}}}"#,
                entries.join(",")
            )
        };
        let one = Bundle::from_json(bundle(&[entry("AQ==")]).as_bytes()).unwrap();
        assert!(
            matches!(one.material, VerificationMaterial::Certificate(ref c) if c == &[1, 2, 3])
        );
        let two_logs = bundle(&[entry("AQ=="), entry("Ag==")]);
        assert_eq!(
            Bundle::from_json(two_logs.as_bytes())
                .unwrap()
                .tlog_entries
                .len(),
            2
        );
        let twice = bundle(&[entry("AQ=="), entry("Ag=="), entry("AQ==")]);
        assert!(matches!(
            Bundle::from_json(twice.as_bytes()),
            Err(BundleError::DuplicateTlogEntry { index: 7, .. })
        ));
    }

    #[test]
    fn rejects_two_contents_and_no_material() {
        let j = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"messageSignature":{"signature":"AA=="},"dsseEnvelope":{"payload":"","payloadType":"t","signatures":[]}}"#;
        assert!(matches!(
            Bundle::from_json(j),
            Err(BundleError::ContentCount(2))
        ));
        let j = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"messageSignature":{"signature":"AA=="}}"#;
        assert!(matches!(
            Bundle::from_json(j),
            Err(BundleError::VerificationMaterialCount(0))
        ));
    }
}

//! The JSON shapes exactly as protobuf-specs define them. Optional fields
//! are `Option`s and nothing is checked beyond JSON types; the validated
//! shapes in [`crate::bundle`] and [`crate::trusted_root`] are built from these.

use serde::{Deserialize, Serialize};

use crate::b64;

// ---------------------------------------------------------------- bundle

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: Option<VerificationMaterial>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<X509CertificateChain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<X509Certificate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlog_entries: Vec<TransparencyLogEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyIdentifier {
    #[serde(default)]
    pub hint: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Certificate {
    #[serde(with = "b64::bytes")]
    pub raw_bytes: Vec<u8>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509CertificateChain {
    #[serde(default)]
    pub certificates: Vec<X509Certificate>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimestampVerificationData {
    #[serde(default)]
    pub rfc3161_timestamps: Vec<Rfc3161SignedTimestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rfc3161SignedTimestamp {
    #[serde(with = "b64::bytes")]
    pub signed_timestamp: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "TransparencyLogEntryIn")]
pub struct TransparencyLogEntry {
    #[serde(with = "b64::int64")]
    pub log_index: i64,
    pub log_id: LogId,
    pub kind_version: KindVersion,
    #[serde(default, with = "opt_int64", skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    #[serde(with = "b64::bytes")]
    pub canonicalized_body: Vec<u8>,
    /// `canonicalized_body`'s base64 text as read, when it is exactly what
    /// encoding the body writes ([`b64::bytes_with_text`]), so the signed
    /// entry timestamp's payload need not re-encode it. `None` when built
    /// in code or spelled otherwise; never serialized (the body is).
    #[serde(skip_serializing)]
    pub canonicalized_body_b64: Option<String>,
}

/// What [`TransparencyLogEntry`] is read from: the same fields, with the
/// body's text kept alongside its bytes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransparencyLogEntryIn {
    #[serde(with = "b64::int64")]
    log_index: i64,
    log_id: LogId,
    kind_version: KindVersion,
    #[serde(default, with = "opt_int64")]
    integrated_time: Option<i64>,
    #[serde(default)]
    inclusion_promise: Option<InclusionPromise>,
    #[serde(default)]
    inclusion_proof: Option<InclusionProof>,
    #[serde(deserialize_with = "b64::bytes_with_text::deserialize")]
    canonicalized_body: (Vec<u8>, Option<String>),
}

impl From<TransparencyLogEntryIn> for TransparencyLogEntry {
    fn from(e: TransparencyLogEntryIn) -> Self {
        let (canonicalized_body, canonicalized_body_b64) = e.canonicalized_body;
        Self {
            log_index: e.log_index,
            log_id: e.log_id,
            kind_version: e.kind_version,
            integrated_time: e.integrated_time,
            inclusion_promise: e.inclusion_promise,
            inclusion_proof: e.inclusion_proof,
            canonicalized_body,
            canonicalized_body_b64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    #[serde(with = "b64::bytes")]
    pub key_id: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindVersion {
    pub kind: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    #[serde(with = "b64::bytes")]
    pub signed_entry_timestamp: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    #[serde(with = "b64::int64")]
    pub log_index: i64,
    #[serde(with = "b64::bytes")]
    pub root_hash: Vec<u8>,
    #[serde(with = "b64::int64")]
    pub tree_size: i64,
    #[serde(default, with = "b64::bytes_vec")]
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<Checkpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    pub envelope: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<HashOutput>,
    #[serde(with = "b64::bytes")]
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HashOutput {
    pub algorithm: String,
    #[serde(with = "b64::bytes")]
    pub digest: Vec<u8>,
}

pub use crate::dsse::Envelope;

mod opt_int64 {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => crate::b64::int64::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        crate::b64::int64::deserialize(d).map(Some)
    }
}

// ---------------------------------------------------------- trusted root

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRoot {
    pub media_type: String,
    #[serde(default)]
    pub tlogs: Vec<TransparencyLogInstance>,
    #[serde(default)]
    pub certificate_authorities: Vec<CertificateAuthority>,
    #[serde(default)]
    pub ctlogs: Vec<TransparencyLogInstance>,
    #[serde(default)]
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogInstance {
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub hash_algorithm: String,
    pub public_key: PublicKey,
    pub log_id: LogId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_key_id: Option<LogId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    #[serde(with = "b64::bytes")]
    pub raw_bytes: Vec<u8>,
    #[serde(default)]
    pub key_details: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthority {
    #[serde(default)]
    pub subject: DistinguishedName,
    #[serde(default)]
    pub uri: String,
    pub cert_chain: X509CertificateChain,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DistinguishedName {
    #[serde(default)]
    pub organization: String,
    #[serde(default)]
    pub common_name: String,
}

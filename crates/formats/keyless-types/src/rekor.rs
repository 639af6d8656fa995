//! Rekor entry bodies: the `canonicalizedBody` of a bundle's log entry, and
//! what a log stores. Supported kinds: hashedrekord 0.0.1 and 0.0.2, dsse
//! 0.0.1 and 0.0.2, intoto 0.0.2. Anything else is an error, never skipped.

use serde::{Deserialize, Serialize};

use crate::b64;

mod one_pass;
mod parse;

/// The kind and API version of an entry, read before the rest of the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub api_version: String,
    pub kind: String,
}

/// A parsed entry body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryBody {
    HashedRekordV001(HashedRekordV001),
    HashedRekordV002(HashedRekordV002),
    DsseV001(DsseV001),
    DsseV002(DsseV002),
    IntotoV002(IntotoV002),
}

impl EntryBody {
    /// `(kind, apiVersion)` of this body.
    pub fn kind_version(&self) -> (&'static str, &'static str) {
        match self {
            Self::HashedRekordV001(_) => ("hashedrekord", "0.0.1"),
            Self::HashedRekordV002(_) => ("hashedrekord", "0.0.2"),
            Self::DsseV001(_) => ("dsse", "0.0.1"),
            Self::DsseV002(_) => ("dsse", "0.0.2"),
            Self::IntotoV002(_) => ("intoto", "0.0.2"),
        }
    }
}

// ------------------------------------------------------ hashedrekord 0.0.1

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashedRekordV001 {
    pub data: HrData,
    pub signature: HrSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HrData {
    pub hash: HexHash,
}

/// A hash as Rekor v1 writes it: lower-case algorithm name and hex value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HexHash {
    pub algorithm: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HrSignature {
    #[serde(with = "b64::bytes")]
    pub content: Vec<u8>,
    #[serde(rename = "publicKey")]
    pub public_key: HrPublicKey,
}

/// PEM bytes (a certificate or a public key), base64-encoded once more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HrPublicKey {
    #[serde(with = "b64::bytes")]
    pub content: Vec<u8>,
}

// ------------------------------------------------------ hashedrekord 0.0.2

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekordV002Spec {
    hashed_rekord_v002: HashedRekordV002,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashedRekordV002 {
    pub data: ProtoHash,
    pub signature: V2Signature,
}

/// A hash as protobuf-specs writes it: enum name and base64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtoHash {
    pub algorithm: String,
    #[serde(with = "b64::bytes")]
    pub digest: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V2Signature {
    #[serde(with = "b64::bytes")]
    pub content: Vec<u8>,
    pub verifier: V2Verifier,
}

/// Who signed, in a Rekor v2 entry: a certificate or a public key, plus the
/// key details enum name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Verifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<RawBytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate: Option<RawBytes>,
    #[serde(default)]
    pub key_details: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    #[serde(with = "b64::bytes")]
    pub raw_bytes: Vec<u8>,
}

// --------------------------------------------------------------- dsse 0.0.1

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DsseV001 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_hash: Option<HexHash>,
    pub payload_hash: HexHash,
    pub signatures: Vec<DsseV001Signature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsseV001Signature {
    #[serde(with = "b64::bytes")]
    pub signature: Vec<u8>,
    /// PEM of a certificate or key, base64-encoded.
    #[serde(with = "b64::bytes")]
    pub verifier: Vec<u8>,
}

// --------------------------------------------------------------- dsse 0.0.2

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DsseV002Spec {
    dsse_v002: DsseV002,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DsseV002 {
    pub payload_hash: ProtoHash,
    pub signatures: Vec<V2Signature>,
}

// ------------------------------------------------------------- intoto 0.0.2

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntotoV002 {
    pub content: IntotoContent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntotoContent {
    pub envelope: IntotoEnvelope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<HexHash>,
    pub payload_hash: HexHash,
}

/// Rekor's intoto 0.0.2 stores the envelope with payload and signatures
/// base64-encoded a second time; these fields hold the decoded-once
/// strings' bytes, which are themselves base64. Current Rekor no longer
/// stores the payload (only its hash), so an empty payload is omitted
/// when serializing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntotoEnvelope {
    #[serde(default, with = "b64::bytes", skip_serializing_if = "Vec::is_empty")]
    pub payload: Vec<u8>,
    pub payload_type: String,
    pub signatures: Vec<IntotoSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntotoSignature {
    /// The envelope signature's optional key ID, kept as Rekor keeps it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    #[serde(with = "b64::bytes")]
    pub public_key: Vec<u8>,
    #[serde(with = "b64::bytes")]
    pub sig: Vec<u8>,
}

impl IntotoSignature {
    /// The signature bytes. Rekor has stored these both base64-encoded
    /// twice and once; a DER signature is never valid base64 text, so a
    /// second layer is removed only when there is one.
    pub fn signature_bytes(&self) -> Vec<u8> {
        strip_second_base64(&self.sig)
    }
}

impl IntotoEnvelope {
    /// The payload bytes, with the second base64 layer removed if present.
    pub fn payload_bytes(&self) -> Vec<u8> {
        strip_second_base64(&self.payload)
    }
}

fn strip_second_base64(bytes: &[u8]) -> Vec<u8> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| b64::decode(s.trim()).ok())
        .unwrap_or_else(|| bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intoto_keyid_round_trips_and_empty_payload_is_omitted() {
        let body = br#"{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":{"payloadType":"t","signatures":[{"keyid":"k1","publicKey":"UEVN","sig":"VTBsSA=="}]},"payloadHash":{"algorithm":"sha256","value":"00"}}}}"#;
        let EntryBody::IntotoV002(i) = EntryBody::parse(body).unwrap() else {
            panic!("not intoto")
        };
        assert_eq!(i.content.envelope.signatures[0].keyid, "k1");
        assert_eq!(i.content.envelope.signatures[0].signature_bytes(), b"SIG");
        let out = serde_json::to_value(&i).unwrap();
        assert!(out["content"]["envelope"].get("payload").is_none());
        assert_eq!(out["content"]["envelope"]["signatures"][0]["keyid"], "k1");
    }
}

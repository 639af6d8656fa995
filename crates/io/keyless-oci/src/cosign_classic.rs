//! Reading cosign's classic signature layers as Sigstore bundles.
//!
//! A `.sig` / `.att` layer carries everything a v0.1 Sigstore bundle does,
//! spread over annotations: the signature, the signer's certificate, the
//! Rekor v1 "bundle" (signed entry timestamp + the entry it signs) and an
//! RFC 3161 timestamp. Rather than a second verifier for the same facts,
//! [`StoredSignature::to_bundle`] rebuilds the bundle in memory, so the one
//! bundle verifier checks the SET with the trusted log key and binds the
//! logged body to this layer's signature, certificate and payload digest.
//! Nothing here is trusted: it only moves bytes into the bundle's shape.
//!
//! Formats: cosign's `specs/SIGNATURE_SPEC.md` (annotations, simple signing
//! payload) and the Go types `bundle.RekorBundle` / `bundle.RFC3161Timestamp`
//! (field names `SignedEntryTimestamp`, `Payload{body, integratedTime,
//! logIndex, logID}`, `SignedRFC3161Timestamp`: Go's encoder writes the
//! field name, its decoder matches names case-insensitively).

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::cosign::{
    StoredSignature, BUNDLE_ANNOTATION, DSSE_ENVELOPE_MEDIA_TYPE, RFC3161_TIMESTAMP_ANNOTATION,
    SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};

/// Media type of the v0.1 bundles rebuilt here: the version whose log
/// entries may carry a signed entry timestamp without an inclusion proof,
/// which is all a cosign v2 layer has.
pub const BUNDLE_V01_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";

/// Largest Rekor entry body accepted from an annotation (Rekor itself caps
/// entries well below this).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// cosign's `dev.sigstore.cosign/bundle` annotation (Go `bundle.RekorBundle`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorBundle {
    /// Base64 signature of the log over the canonical JSON of `Payload`.
    #[serde(rename = "SignedEntryTimestamp")]
    pub signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    pub payload: RekorPayload,
}

/// What the signed entry timestamp signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorPayload {
    /// The entry body, base64 (canonical JSON of the Rekor type).
    pub body: String,
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    #[serde(rename = "logIndex")]
    pub log_index: i64,
    /// Hex SHA-256 of the log's public key (DER).
    #[serde(rename = "logID")]
    pub log_id: String,
}

/// cosign's `dev.sigstore.cosign/rfc3161timestamp` annotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rfc3161Timestamp {
    /// Base64 DER of the RFC 3161 timestamp response token. Written with
    /// cosign's spelling; the other capitalization (which Go's
    /// case-insensitive decoder also accepts) is read too.
    #[serde(rename = "SignedRFC3161Timestamp", alias = "SignedRFC3161TimeStamp")]
    pub signed_rfc3161_timestamp: String,
}

/// A layer that cannot be turned into a bundle: its annotations are not in
/// cosign's format. Reported as a malformed bundle would be.
#[derive(Debug, thiserror::Error)]
#[error("signature layer {layer}: {problem}")]
pub struct ClassicError {
    /// The layer's digest.
    pub layer: String,
    pub problem: String,
}

/// A layer rebuilt as a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicBundle {
    /// v0.1 bundle JSON, ready for the bundle parser and verifier.
    pub bundle_json: Vec<u8>,
    /// Whether the layer carried a Rekor bundle annotation (without one the
    /// bundle has no log entry and verifies only when the caller accepts
    /// that, like cosign's `--insecure-ignore-tlog`).
    pub has_tlog_entry: bool,
    /// Whether the layer is an attestation (a DSSE envelope).
    pub is_attestation: bool,
}

fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| format!("invalid base64: {e}"))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// DER of the first certificate in a PEM text (the leaf: cosign writes
/// only the leaf in the certificate annotation).
fn first_certificate_der(pem: &str) -> Result<Vec<u8>, String> {
    const END: &str = "-----END CERTIFICATE-----";
    let end = pem
        .find(END)
        .ok_or_else(|| "no PEM certificate in the certificate annotation".to_owned())?;
    let block = &pem[..end + END.len()];
    let (label, der) = pem_rfc7468::decode_vec(block.trim_start().as_bytes())
        .map_err(|e| format!("certificate annotation is not PEM: {e}"))?;
    if label != "CERTIFICATE" {
        return Err(format!("certificate annotation holds a {label}"));
    }
    Ok(der)
}

/// The log entry a Rekor bundle annotation describes, in the bundle's
/// `tlogEntries` shape. The kind and version come from the body itself, so
/// the verifier's kind check compares the body with itself and the real
/// binding happens where it always does: body against signature, key and
/// digest.
fn tlog_entry(annotation: &str) -> Result<Value, String> {
    let rb: RekorBundle = serde_json::from_str(annotation)
        .map_err(|e| format!("{BUNDLE_ANNOTATION} is not a Rekor bundle: {e}"))?;
    let body = b64_decode(&rb.payload.body).map_err(|e| format!("Rekor entry body: {e}"))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("Rekor entry body is over {MAX_BODY_BYTES} bytes"));
    }
    let parsed: Value =
        serde_json::from_slice(&body).map_err(|e| format!("Rekor entry body is not JSON: {e}"))?;
    let (Some(kind), Some(version)) = (parsed["kind"].as_str(), parsed["apiVersion"].as_str())
    else {
        return Err("Rekor entry body names no kind and apiVersion".to_owned());
    };
    let log_id = hex_decode(&rb.payload.log_id)
        .ok_or_else(|| format!("Rekor bundle logID {:?} is not hex", rb.payload.log_id))?;
    let set =
        b64_decode(&rb.signed_entry_timestamp).map_err(|e| format!("SignedEntryTimestamp: {e}"))?;
    if rb.payload.log_index < 0 || rb.payload.integrated_time < 0 {
        return Err("Rekor bundle has a negative logIndex or integratedTime".to_owned());
    }
    Ok(json!({
        "logIndex": rb.payload.log_index.to_string(),
        "logId": {"keyId": b64(&log_id)},
        "kindVersion": {"kind": kind, "version": version},
        "integratedTime": rb.payload.integrated_time.to_string(),
        "inclusionPromise": {"signedEntryTimestamp": b64(&set)},
        "canonicalizedBody": b64(&body),
    }))
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.is_empty() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl StoredSignature {
    /// The Rekor bundle annotation, parsed (for printing, as
    /// `cosign download signature` does).
    pub fn parsed_rekor_bundle(&self) -> Option<Result<RekorBundle, serde_json::Error>> {
        self.rekor_bundle().map(serde_json::from_str)
    }

    /// The RFC 3161 timestamp annotation, parsed.
    pub fn parsed_rfc3161_timestamp(&self) -> Option<Result<Rfc3161Timestamp, serde_json::Error>> {
        self.rfc3161_timestamp().map(serde_json::from_str)
    }

    /// Rebuild this layer as a v0.1 Sigstore bundle (see the module
    /// documentation). For a signature layer the artifact to verify it
    /// against is [`Self::payload`]; for an attestation, the image digest
    /// (the envelope's statement names it).
    pub fn to_bundle(&self) -> Result<ClassicBundle, ClassicError> {
        let err = |problem: String| ClassicError {
            layer: self.descriptor.digest.to_string(),
            problem,
        };
        let is_attestation = match self.media_type() {
            SIMPLE_SIGNING_MEDIA_TYPE => false,
            DSSE_ENVELOPE_MEDIA_TYPE => true,
            other => {
                return Err(err(format!(
                    "media type {other:?} is neither {SIMPLE_SIGNING_MEDIA_TYPE} nor {DSSE_ENVELOPE_MEDIA_TYPE}"
                )))
            }
        };
        let material = match self.certificate_pem() {
            Some(pem) => {
                let der = first_certificate_der(pem).map_err(err)?;
                json!({"x509CertificateChain": {"certificates": [{"rawBytes": b64(&der)}]}})
            }
            None => json!({"publicKey": {"hint": ""}}),
        };
        let mut vm = material;
        let mut has_tlog_entry = false;
        if let Some(annotation) = self.rekor_bundle().filter(|s| !s.is_empty()) {
            vm["tlogEntries"] = json!([tlog_entry(annotation).map_err(err)?]);
            has_tlog_entry = true;
        } else {
            vm["tlogEntries"] = json!([]);
        }
        if let Some(ts) = self.rfc3161_timestamp().filter(|s| !s.is_empty()) {
            let parsed: Rfc3161Timestamp = serde_json::from_str(ts)
                .map_err(|e| err(format!("{RFC3161_TIMESTAMP_ANNOTATION}: {e}")))?;
            let der = b64_decode(&parsed.signed_rfc3161_timestamp)
                .map_err(|e| err(format!("{RFC3161_TIMESTAMP_ANNOTATION}: {e}")))?;
            vm["timestampVerificationData"] =
                json!({"rfc3161Timestamps": [{"signedTimestamp": b64(&der)}]});
        }
        let mut bundle = json!({
            "mediaType": BUNDLE_V01_MEDIA_TYPE,
            "verificationMaterial": vm,
        });
        if is_attestation {
            let envelope: Value = serde_json::from_slice(&self.payload)
                .map_err(|e| err(format!("attestation layer is not a DSSE envelope: {e}")))?;
            bundle["dsseEnvelope"] = envelope;
        } else {
            let signature = self
                .base64_signature()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| err(format!("no {SIGNATURE_ANNOTATION} annotation")))?;
            let signature =
                b64_decode(signature).map_err(|e| err(format!("{SIGNATURE_ANNOTATION}: {e}")))?;
            let digest = keyless_crypto::sha256(&self.payload);
            bundle["messageSignature"] = json!({
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64(&digest)},
                "signature": b64(&signature),
            });
        }
        let bundle_json = serde_json::to_vec(&bundle)
            .map_err(|e| err(format!("serializing the rebuilt bundle: {e}")))?;
        Ok(ClassicBundle {
            bundle_json,
            has_tlog_entry,
            is_attestation,
        })
    }
}

#[cfg(test)]
mod tests;

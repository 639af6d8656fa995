//! HTTP clients for Fulcio's v2 API, Rekor's v1 and v2 APIs and RFC 3161
//! timestamp authorities. Tokens go only in request bodies or the
//! Authorization header and never into errors.

use std::time::Duration;

use base64::Engine;
use keyless_crypto::SigningKey;
use keyless_types::wire;
use serde::Deserialize;
use serde_json::json;

use crate::{CertificateAuthority, LogRequest, SignError, TimestampAuthority, TransparencyLog};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("keyless/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Read an error body: servers answer `{"code","message"}` (Fulcio,
/// Rekor) or plain text. Capped, so a hostile server cannot flood us.
async fn error_text(resp: reqwest::Response) -> String {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let body: String = body.chars().take(500).collect();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or(body);
    format!("{status}: {message}")
}

/// A Fulcio-compatible CA (v2 API).
#[derive(Debug, Clone)]
pub struct FulcioClient {
    pub url: String,
}

impl CertificateAuthority for FulcioClient {
    async fn signing_certificate(&self, token: &str, challenge: &str, key: &SigningKey) -> Result<Vec<Vec<u8>>, SignError> {
        let fail = |problem: String| SignError::Ca { url: self.url.clone(), problem };
        // Proof of possession: the key signs the identity claim.
        let pop = key.sign(challenge.as_bytes())?;
        let body = json!({
            "credentials": { "oidcIdentityToken": token },
            "publicKeyRequest": {
                "publicKey": { "algorithm": "ECDSA", "content": key.public_key().to_pem() },
                "proofOfPossession": B64.encode(pop),
            }
        });
        let url = format!("{}/api/v2/signingCert", self.url.trim_end_matches('/'));
        let resp = client().post(url).json(&body).send().await.map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(error_text(resp).await));
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Resp {
            signed_certificate_embedded_sct: Option<Chain>,
            signed_certificate_detached_sct: Option<Chain>,
        }
        #[derive(Deserialize)]
        struct Chain {
            chain: Certs,
        }
        #[derive(Deserialize)]
        struct Certs {
            certificates: Vec<String>,
        }
        let r: Resp = resp.json().await.map_err(|e| fail(format!("unexpected response: {e}")))?;
        let chain = r
            .signed_certificate_embedded_sct
            .or(r.signed_certificate_detached_sct)
            .ok_or_else(|| fail("response has no certificate chain".into()))?;
        chain
            .chain
            .certificates
            .iter()
            .map(|pem| {
                let (label, der) = keyless_crypto::pem::decode(pem).map_err(|e| fail(format!("certificate PEM: {e}")))?;
                if label != "CERTIFICATE" {
                    return Err(fail(format!("chain holds a {label:?} block")));
                }
                Ok(der)
            })
            .collect()
    }
}

/// A Rekor v2 log (`POST /api/v2/log/entries`).
#[derive(Debug, Clone)]
pub struct RekorV2Client {
    pub url: String,
}

impl TransparencyLog for RekorV2Client {
    async fn submit(&self, request: &LogRequest<'_>) -> Result<wire::TransparencyLogEntry, SignError> {
        let fail = |problem: String| SignError::Log { url: self.url.clone(), problem };
        let body = match request {
            LogRequest::Message { digest, signature, certificate, key_details } => json!({
                "hashedRekordRequestV002": {
                    "digest": B64.encode(digest),
                    "signature": {
                        "content": B64.encode(signature),
                        "verifier": { "x509Certificate": { "rawBytes": B64.encode(certificate) }, "keyDetails": key_details },
                    }
                }
            }),
            // Rekor v2 logs a DSSE envelope as a hashedrekord over the hash
            // of its PAE, with the envelope's signature (rekor-v2 spec
            // §6.1.4); that is what verifiers rebuild and compare.
            LogRequest::Dsse { envelope, certificate, key_details } => json!({
                "hashedRekordRequestV002": {
                    "digest": B64.encode(keyless_crypto::sha256(&keyless_types::pae(&envelope.payload_type, &envelope.payload))),
                    "signature": {
                        "content": B64.encode(envelope.signatures.first().map(|s| s.sig.as_slice()).unwrap_or_default()),
                        "verifier": { "x509Certificate": { "rawBytes": B64.encode(certificate) }, "keyDetails": key_details },
                    }
                }
            }),
        };
        let url = format!("{}/api/v2/log/entries", self.url.trim_end_matches('/'));
        let resp = client().post(url).json(&body).send().await.map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(error_text(resp).await));
        }
        resp.json().await.map_err(|e| fail(format!("unexpected response: {e}")))
    }
}

/// A Rekor v1 log (`POST /api/v1/log/entries`), for instances that have
/// not moved to v2.
#[derive(Debug, Clone)]
pub struct RekorV1Client {
    pub url: String,
}

impl TransparencyLog for RekorV1Client {
    async fn submit(&self, request: &LogRequest<'_>) -> Result<wire::TransparencyLogEntry, SignError> {
        let fail = |problem: String| SignError::Log { url: self.url.clone(), problem };
        let pem_b64 = |der: &[u8]| {
            let pem = pem_cert(der);
            B64.encode(pem.as_bytes())
        };
        let body = match request {
            LogRequest::Message { digest, signature, certificate, .. } => json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": { "hash": { "algorithm": "sha256", "value": hex::encode(digest) } },
                    "signature": { "content": B64.encode(signature), "publicKey": { "content": pem_b64(certificate) } }
                }
            }),
            LogRequest::Dsse { envelope, certificate, .. } => json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": { "proposedContent": {
                    "envelope": serde_json::to_string(envelope).map_err(|e| fail(e.to_string()))?,
                    "verifiers": [pem_b64(certificate)],
                } }
            }),
        };
        let url = format!("{}/api/v1/log/entries", self.url.trim_end_matches('/'));
        let resp = client().post(url).json(&body).send().await.map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(error_text(resp).await));
        }
        let map: std::collections::BTreeMap<String, V1Entry> =
            resp.json().await.map_err(|e| fail(format!("unexpected response: {e}")))?;
        let (_, e) = map.into_iter().next().ok_or_else(|| fail("empty response".into()))?;
        e.into_wire().map_err(fail)
    }
}

fn pem_cert(der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Entry {
    body: String,
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    log_index: i64,
    verification: V1Verification,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Verification {
    signed_entry_timestamp: String,
    inclusion_proof: Option<V1Proof>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Proof {
    checkpoint: String,
    hashes: Vec<String>,
    log_index: i64,
    root_hash: String,
    tree_size: i64,
}

impl V1Entry {
    /// Rekor v1 answers in its own shape (hex hashes, a UUID map); bundles
    /// carry the protobuf-specs shape.
    fn into_wire(self) -> Result<wire::TransparencyLogEntry, String> {
        let body = B64.decode(&self.body).map_err(|e| format!("body: {e}"))?;
        let header: keyless_types::rekor::Header = serde_json::from_slice(&body).map_err(|e| format!("body: {e}"))?;
        let proof = self
            .verification
            .inclusion_proof
            .map(|p| -> Result<wire::InclusionProof, String> {
                Ok(wire::InclusionProof {
                    log_index: p.log_index,
                    root_hash: hex::decode(&p.root_hash).map_err(|e| format!("rootHash: {e}"))?,
                    tree_size: p.tree_size,
                    hashes: p.hashes.iter().map(hex::decode).collect::<Result<_, _>>().map_err(|e| format!("hashes: {e}"))?,
                    checkpoint: Some(wire::Checkpoint { envelope: p.checkpoint }),
                })
            })
            .transpose()?;
        Ok(wire::TransparencyLogEntry {
            log_index: self.log_index,
            log_id: wire::LogId { key_id: hex::decode(&self.log_id).map_err(|e| format!("logID: {e}"))? },
            kind_version: wire::KindVersion { kind: header.kind, version: header.api_version },
            integrated_time: Some(self.integrated_time),
            inclusion_promise: Some(wire::InclusionPromise {
                signed_entry_timestamp: B64.decode(&self.verification.signed_entry_timestamp).map_err(|e| format!("SET: {e}"))?,
            }),
            inclusion_proof: proof,
            canonicalized_body: body,
        })
    }
}

/// An RFC 3161 TSA at `url` (the full timestamp endpoint).
#[derive(Debug, Clone)]
pub struct TsaClient {
    pub url: String,
}

impl TimestampAuthority for TsaClient {
    async fn timestamp(&self, signature: &[u8]) -> Result<Vec<u8>, SignError> {
        let fail = |problem: String| SignError::Timestamp { url: self.url.clone(), problem };
        let nonce = keyless_crypto::sha256(signature);
        let req = keyless_tsp::issue::TimestampRequest::for_data(keyless_crypto::HashAlgorithm::Sha256, signature)
            .with_nonce(&nonce[..8])
            .map_err(|e| fail(e.to_string()))?
            .with_cert_req(true)
            .to_der()
            .map_err(|e| fail(e.to_string()))?;
        let resp = client()
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .body(req)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(error_text(resp).await));
        }
        let der = resp.bytes().await.map_err(|e| fail(e.to_string()))?.to_vec();
        // Refuse a reply that is not a granted token over our signature.
        let token = keyless_tsp::TimestampToken::from_der(&der).map_err(|e| fail(format!("bad reply: {e}")))?;
        let imprint = token.tst_info().message_imprint.hashed_message.as_bytes();
        if imprint != keyless_crypto::sha256(signature) {
            return Err(fail("the timestamp covers different data".into()));
        }
        Ok(der)
    }
}

/// Either Rekor API, chosen at run time from the signing config.
#[derive(Debug, Clone)]
pub enum AnyRekor {
    V1(RekorV1Client),
    V2(RekorV2Client),
}

impl AnyRekor {
    /// The client for `url` speaking API major version `version`.
    pub fn new(url: &str, version: u32) -> Self {
        if version == 1 {
            Self::V1(RekorV1Client { url: url.to_string() })
        } else {
            Self::V2(RekorV2Client { url: url.to_string() })
        }
    }
}

impl TransparencyLog for AnyRekor {
    async fn submit(&self, request: &LogRequest<'_>) -> Result<wire::TransparencyLogEntry, SignError> {
        match self {
            Self::V1(c) => c.submit(request).await,
            Self::V2(c) => c.submit(request).await,
        }
    }
}

/// PEM for a DER certificate (64-column lines).
pub fn certificate_pem(der: &[u8]) -> String {
    pem_cert(der)
}

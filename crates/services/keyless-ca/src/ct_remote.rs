//! A remote RFC 6962 CT log the CA submits its precertificates to, given
//! by URL and public key (`keyless server ca --ct-log-url URL
//! --ct-log-public-key FILE`), so that the CAs of a replica set (same
//! keys, several processes) share one CT log.
//!
//! The CA posts RFC 6962 §4.1 `add-pre-chain` JSON and trusts nothing in
//! the answer: it is read up to [`MAX_RESPONSE`] bytes, the SCT must name
//! the configured log (log ID = SHA-256 of the key's DER SPKI) and its
//! signature must verify with that key over the precertificate entry the
//! CA has just built, before it is embedded. Anything else (log
//! unreachable, an HTTP error, a malformed or unverifiable SCT) fails the
//! issuance: no SCT, no certificate.
//!
//! Only ECDSA-SHA256 SCTs are embedded (the SCT type the CA encodes is
//! that one; RFC 6962 logs use ECDSA P-256 or RSA).

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::{PublicKey, SignatureAlgorithm};
use keyless_x509::sct_types::DigitallySigned;
use keyless_x509::{precert_signed_data, precert_tbs, sct_signature_algorithm, Certificate};
use serde::Deserialize;
use serde_json::json;
use tls_codec::DeserializeBytes;

use crate::error::CtError;
use crate::sct::SignedCertificateTimestamp;

/// An `add-pre-chain` answer is a few hundred bytes of JSON.
pub const MAX_RESPONSE: usize = 64 * 1024;
/// How long one submission may take, connection included.
pub const SUBMIT_TIMEOUT: Duration = Duration::from_secs(15);

/// The RFC 6962 §4.1 answer.
#[derive(Deserialize)]
struct AddChainResponse {
    sct_version: u8,
    id: String,
    timestamp: u64,
    #[serde(default)]
    extensions: String,
    signature: String,
}

/// A remote CT log, by URL and key.
#[derive(Debug, Clone)]
pub struct RemoteCtLog {
    /// The full `…/ct/v1/add-pre-chain` URL (a base URL gets the path added).
    url: String,
    key: PublicKey,
    log_id: [u8; 32],
    http: reqwest::Client,
}

impl RemoteCtLog {
    /// A log at `url` (its base URL or its `add-pre-chain` URL) whose SCTs
    /// `key` verifies. Only ECDSA keys are accepted (see the module doc).
    pub fn new(url: &str, key: PublicKey) -> Result<Self, CtError> {
        let url = url.trim_end_matches('/');
        let url = if url.ends_with("/add-pre-chain") {
            url.to_string()
        } else if url.ends_with("/ct/v1") {
            format!("{url}/add-pre-chain")
        } else {
            format!("{url}/ct/v1/add-pre-chain")
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(CtError::Remote(format!(
                "{url}: the CT log URL must be http:// or https://"
            )));
        }
        if !matches!(
            key.algorithm(),
            keyless_crypto::KeyAlgorithm::EcdsaP256
                | keyless_crypto::KeyAlgorithm::EcdsaP384
                | keyless_crypto::KeyAlgorithm::EcdsaP521
        ) {
            return Err(CtError::Remote(format!(
                "{url}: the CT log key must be an ECDSA key (SCTs are embedded as ECDSA-SHA256)"
            )));
        }
        // The CT log may be served over TLS by a private CA: `--ca-bundle`'s
        // roots are trusted on top of the system's; a bundle that does not
        // parse is an error, never a client with fewer roots.
        let builder = reqwest::Client::builder().timeout(SUBMIT_TIMEOUT);
        let http = keyless_ca_bundle::trust(builder)
            .and_then(reqwest::ClientBuilder::build)
            .map_err(|e| {
                CtError::Unavailable(format!(
                    "HTTP client (the CA bundle from --ca-bundle could not be used): {e}"
                ))
            })?;
        let log_id = keyless_crypto::sha256(key.spki_der());
        Ok(Self {
            url,
            key,
            log_id,
            http,
        })
    }

    /// Read the key from a PEM file.
    pub fn from_pem_file(url: &str, key_file: &std::path::Path) -> Result<Self, CtError> {
        let pem = std::fs::read_to_string(key_file).map_err(|e| {
            CtError::Remote(format!(
                "reading --ct-log-public-key {}: {e}",
                key_file.display()
            ))
        })?;
        let key = PublicKey::from_pem(&pem).map_err(|e| {
            CtError::Remote(format!(
                "--ct-log-public-key {} is not a PEM public key: {e}",
                key_file.display()
            ))
        })?;
        Self::new(url, key)
    }

    /// The `add-pre-chain` URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// SHA-256 of the log's SPKI (RFC 6962 §3.2 LogID).
    pub fn log_id(&self) -> [u8; 32] {
        self.log_id
    }

    fn unusable(&self, reason: impl std::fmt::Display) -> CtError {
        CtError::Remote(format!("{}: {reason}", self.url))
    }

    /// Submit `chain` (precertificate first, then its issuer, up to a
    /// root) and return the SCT once it verifies.
    pub async fn add_pre_chain(
        &self,
        chain: &[Vec<u8>],
    ) -> Result<SignedCertificateTimestamp, CtError> {
        let (precert, issuer) = match chain {
            [] => return Err(CtError::EmptyChain),
            [_] => return Err(CtError::NoIssuer),
            [p, i, ..] => (p, i),
        };
        // What the SCT must sign, computed before anything is sent.
        let precert = Certificate::from_der(precert).map_err(CtError::Malformed)?;
        let issuer = Certificate::from_der(issuer).map_err(CtError::Malformed)?;
        let tbs = precert_tbs(&precert).map_err(CtError::Malformed)?;
        let issuer_key_hash =
            keyless_crypto::sha256(&issuer.spki_der().map_err(CtError::Malformed)?);

        let body = json!({"chain": chain.iter().map(|c| B64.encode(c)).collect::<Vec<_>>()});
        let resp = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| CtError::Unavailable(format!("{}: {e}", self.url)))?;
        let status = resp.status();
        let bytes = keyless_ca_bundle::read_capped(resp, MAX_RESPONSE as u64)
            .await
            .map_err(|e| match e {
                keyless_ca_bundle::BodyError::TooLarge { .. } => {
                    self.unusable(format!("answer over {MAX_RESPONSE} bytes"))
                }
                keyless_ca_bundle::BodyError::Http(e) => {
                    CtError::Unavailable(format!("{}: {e}", self.url))
                }
            })?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
            let text: String = text.chars().filter(|c| !c.is_control()).collect();
            return Err(CtError::Unavailable(format!(
                "{}: HTTP {}: {text}",
                self.url,
                status.as_u16()
            )));
        }
        let answer: AddChainResponse = serde_json::from_slice(&bytes)
            .map_err(|e| self.unusable(format!("not an add-pre-chain answer: {e}")))?;
        self.check(answer, &issuer_key_hash, &tbs)
    }

    /// Verify an answer against the entry the CA built.
    fn check(
        &self,
        answer: AddChainResponse,
        issuer_key_hash: &[u8; 32],
        tbs: &[u8],
    ) -> Result<SignedCertificateTimestamp, CtError> {
        if answer.sct_version != 0 {
            return Err(self.unusable(format!("SCT version {}", answer.sct_version)));
        }
        let id = B64
            .decode(&answer.id)
            .map_err(|_| self.unusable("SCT log ID is not base64"))?;
        if id != self.log_id {
            return Err(self.unusable(format!(
                "the SCT names log {}, not the configured key's {}",
                hex::encode(&id),
                hex::encode(self.log_id)
            )));
        }
        let extensions = B64
            .decode(&answer.extensions)
            .map_err(|_| self.unusable("SCT extensions are not base64"))?;
        let ds = B64
            .decode(&answer.signature)
            .map_err(|_| self.unusable("SCT signature is not base64"))?;
        let ds = DigitallySigned::tls_deserialize_exact_bytes(&ds)
            .map_err(|e| self.unusable(format!("SCT signature is malformed: {e:?}")))?;
        let alg = sct_signature_algorithm(&ds.algorithm);
        if alg != Some(SignatureAlgorithm::EcdsaSha256) {
            return Err(self.unusable("the SCT is not signed with ECDSA-SHA256"));
        }
        let signed = precert_signed_data(answer.timestamp, issuer_key_hash, tbs, &extensions)
            .map_err(CtError::Sct)?;
        let signature = ds.signature.as_slice().to_vec();
        self.key
            .verify(SignatureAlgorithm::EcdsaSha256, &signed, &signature)
            .map_err(|_| {
                self.unusable("the SCT's signature does not verify with the configured key")
            })?;
        Ok(SignedCertificateTimestamp {
            log_id: self.log_id,
            timestamp: answer.timestamp,
            extensions,
            signature,
        })
    }
}

/// The CA's trusted_root.json when it submits to `remote`: its own chain,
/// and the remote log's key (and URL) as the one CT log, so that clients
/// verify the SCTs it embeds. The remote key's validity start is not
/// known here: it is given as the Unix epoch.
pub fn trusted_root_json(
    material: &crate::pki::CaMaterial,
    ca_url: &str,
    remote: &RemoteCtLog,
) -> Result<String, serde_json::Error> {
    let mut root = crate::trust::trusted_root(material, ca_url, ca_url);
    let base = remote
        .url
        .trim_end_matches("/add-pre-chain")
        .trim_end_matches("/v1")
        .trim_end_matches("/ct")
        .to_string();
    for log in &mut root.ctlogs {
        log.base_url = base.clone();
        log.public_key.raw_bytes = remote.key.spki_der().to_vec();
        log.public_key.key_details = match remote.key.algorithm() {
            keyless_crypto::KeyAlgorithm::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
            keyless_crypto::KeyAlgorithm::EcdsaP521 => "PKIX_ECDSA_P521_SHA_512",
            _ => "PKIX_ECDSA_P256_SHA_256",
        }
        .into();
        if let Some(v) = log.public_key.valid_for.as_mut() {
            v.start = Some(keyless_types::time::format_rfc3339(0));
        }
        log.log_id.key_id = remote.log_id.to_vec();
    }
    serde_json::to_string_pretty(&root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_crypto::{KeyAlgorithm, SigningKey};

    fn answer(key: &SigningKey, timestamp: u64, signed_ts: u64) -> AddChainResponse {
        let signed = precert_signed_data(signed_ts, &[7; 32], b"tbs", &[]).unwrap();
        let sig = key.sign(&signed).unwrap();
        let ds = keyless_x509::ecdsa_sha256_sct([0; 32], 0, &[], &sig);
        let ds = keyless_x509::encode_digitally_signed(&ds.signature).unwrap();
        AddChainResponse {
            sct_version: 0,
            id: B64.encode(keyless_crypto::sha256(key.public_key().spki_der())),
            timestamp,
            extensions: String::new(),
            signature: B64.encode(ds),
        }
    }

    #[test]
    fn only_an_sct_the_configured_key_signed_over_this_entry_is_kept() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let log = RemoteCtLog::new("http://127.0.0.1:1", key.public_key().clone()).unwrap();
        assert_eq!(log.url(), "http://127.0.0.1:1/ct/v1/add-pre-chain");
        let sct = log.check(answer(&key, 5, 5), &[7; 32], b"tbs").unwrap();
        assert_eq!((sct.log_id, sct.timestamp), (log.log_id(), 5));
        // Signed over another timestamp, TBS or issuer: refused.
        for (a, ikh, tbs) in [
            (answer(&key, 6, 5), [7; 32], &b"tbs"[..]),
            (answer(&key, 5, 5), [8; 32], &b"tbs"[..]),
            (answer(&key, 5, 5), [7; 32], &b"tbz"[..]),
        ] {
            let e = log.check(a, &ikh, tbs).unwrap_err().to_string();
            assert!(e.contains("does not verify"), "{e}");
        }
        // Another log's SCT (its ID) is refused before its signature is read.
        let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let e = log
            .check(answer(&other, 5, 5), &[7; 32], b"tbs")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not the configured key's"), "{e}");
    }
}

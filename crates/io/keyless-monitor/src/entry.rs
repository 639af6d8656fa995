//! What one logged entry body says: its kind and version, who signed it
//! (a Fulcio certificate's identity or a bare public key) and the
//! artifact digest. Entries come from the log, so nothing here trusts
//! them: unknown shapes are reported as such, never guessed at.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyless_crypto::PublicKey;
use keyless_x509::Certificate;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EntryError {
    #[error("the entry body is not JSON")]
    Json(#[source] serde_json::Error),
    #[error("the entry body has no {0}")]
    Missing(&'static str),
    #[error("the entry's {what} is not valid base64")]
    Base64 { what: &'static str },
    #[error("the entry's certificate does not parse")]
    Certificate(#[source] keyless_x509::X509Error),
    #[error("the entry's public key does not parse")]
    Key(#[source] keyless_crypto::CryptoError),
}

/// The signer of an entry.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CertSigner {
    pub subject: String,
    pub issuer_dn: String,
    /// Emails/URIs/usernames from the SAN, in order.
    pub identities: Vec<String>,
    /// The Fulcio OIDC issuer extension, if present.
    pub oidc_issuer: Option<String>,
    /// SHA-256 of the certificate's SubjectPublicKeyInfo, hex.
    pub key_sha256: String,
}

/// A decoded entry body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryInfo {
    pub kind: String,
    pub api_version: String,
    /// The signing certificate, when the entry carries one.
    pub certificate: Option<CertSigner>,
    /// SHA-256 of the signer's SubjectPublicKeyInfo, hex (certificate or key).
    pub key_sha256: Option<String>,
    /// The artifact (or payload) digest as `sha256:<hex>`.
    pub digest: Option<String>,
}

/// Where each known kind keeps its verifier. `b64pem` values are base64 of
/// PEM text (Rekor v1 kinds), `b64der` values are base64 DER (v2 kinds,
/// protobuf JSON), `cert` says the DER is a certificate rather than a key.
const VERIFIERS: &[(&str, Enc)] = &[
    ("/spec/signature/publicKey/content", Enc::Pem),
    ("/spec/signatures/0/verifier", Enc::Pem),
    ("/spec/content/envelope/signatures/0/publicKey", Enc::Pem),
    ("/spec/publicKey", Enc::Pem),
    (
        "/spec/hashedRekordV002/signature/verifier/x509Certificate/rawBytes",
        Enc::CertDer,
    ),
    (
        "/spec/hashedRekordV002/signature/verifier/publicKey/rawBytes",
        Enc::KeyDer,
    ),
    (
        "/spec/dsseV002/signatures/0/verifier/x509Certificate/rawBytes",
        Enc::CertDer,
    ),
    (
        "/spec/dsseV002/signatures/0/verifier/publicKey/rawBytes",
        Enc::KeyDer,
    ),
];

/// Digests as hex (`true`) or base64 (`false`).
const DIGESTS: &[(&str, bool)] = &[
    ("/spec/data/hash/value", true),
    ("/spec/payloadHash/value", true),
    ("/spec/content/payloadHash/value", true),
    ("/spec/hashedRekordV002/data/digest", false),
    ("/spec/dsseV002/payloadHash/digest", false),
];

#[derive(Clone, Copy)]
enum Enc {
    Pem,
    CertDer,
    KeyDer,
}

impl EntryInfo {
    /// Decode an entry body (the leaf the log hashed).
    pub fn parse(body: &[u8]) -> Result<Self, EntryError> {
        Self::parse_with(body, true, true)
    }

    /// [`EntryInfo::parse`] without the certificate's subject and issuer
    /// names (left empty) and, unless `want_key`, without the hash of a
    /// certificate's key: a scan needs them only for the entries that
    /// match, and re-encoding and hashing the SPKI of every certificate is
    /// measurable at tens of thousands of entries a second.
    pub fn parse_for_matching(body: &[u8], want_key: bool) -> Result<Self, EntryError> {
        Self::parse_with(body, false, want_key)
    }

    fn parse_with(body: &[u8], detail: bool, want_key: bool) -> Result<Self, EntryError> {
        let v: Value = serde_json::from_slice(body).map_err(EntryError::Json)?;
        let text = |p: &str| v.pointer(p).and_then(Value::as_str);
        let kind = text("/kind")
            .ok_or(EntryError::Missing("kind"))?
            .to_string();
        let api_version = text("/apiVersion")
            .ok_or(EntryError::Missing("apiVersion"))?
            .to_string();
        let mut info = EntryInfo {
            kind,
            api_version,
            certificate: None,
            key_sha256: None,
            digest: None,
        };
        if let Some((s, enc)) = VERIFIERS.iter().find_map(|(p, e)| text(p).map(|s| (s, *e))) {
            let raw = STANDARD
                .decode(s)
                .map_err(|_| EntryError::Base64 { what: "verifier" })?;
            match enc {
                Enc::Pem => {
                    let pem = String::from_utf8(raw).map_err(|_| EntryError::Base64 {
                        what: "verifier PEM",
                    })?;
                    if pem.contains("CERTIFICATE") {
                        let c = Certificate::from_pem(&pem).map_err(EntryError::Certificate)?;
                        info.set_cert(&c, detail, want_key)?;
                    } else {
                        info.set_key(&PublicKey::from_pem(&pem).map_err(EntryError::Key)?);
                    }
                }
                Enc::CertDer => {
                    let c = Certificate::from_der(&raw).map_err(EntryError::Certificate)?;
                    info.set_cert(&c, detail, want_key)?;
                }
                Enc::KeyDer => {
                    info.set_key(&PublicKey::from_spki_der(&raw).map_err(EntryError::Key)?);
                }
            }
        }
        if let Some((s, is_hex)) = DIGESTS.iter().find_map(|(p, h)| text(p).map(|s| (s, *h))) {
            let hex_digest = if is_hex {
                s.to_ascii_lowercase()
            } else {
                hex::encode(
                    STANDARD
                        .decode(s)
                        .map_err(|_| EntryError::Base64 { what: "digest" })?,
                )
            };
            info.digest = Some(format!("sha256:{hex_digest}"));
        }
        Ok(info)
    }

    fn set_key(&mut self, key: &PublicKey) {
        self.key_sha256 = Some(hex::encode(keyless_crypto::sha256(key.spki_der())));
    }

    fn set_cert(
        &mut self,
        c: &Certificate,
        detail: bool,
        want_key: bool,
    ) -> Result<(), EntryError> {
        let key_sha256 = if want_key {
            let spki = c.spki_der().map_err(EntryError::Certificate)?;
            hex::encode(keyless_crypto::sha256(&spki))
        } else {
            String::new()
        };
        // A certificate without Fulcio extensions or with a malformed SAN
        // still has a subject and a key; it just names no identity.
        let id = keyless_x509::fulcio_identity(c).unwrap_or_default();
        self.key_sha256 = want_key.then(|| key_sha256.clone());
        self.certificate = Some(CertSigner {
            subject: if detail { c.subject() } else { String::new() },
            issuer_dn: if detail { c.issuer() } else { String::new() },
            identities: id.sans,
            oidc_issuer: id.issuer,
            key_sha256,
        });
        Ok(())
    }
}

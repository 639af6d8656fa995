//! What one logged entry body says: its kind and version, who signed it
//! (a Fulcio certificate's identity or a bare public key) and the
//! artifact digest. Entries come from the log, so nothing here trusts
//! them: unknown shapes are reported as such, never guessed at.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyless_crypto::PublicKey;
use keyless_x509::Certificate;
use std::borrow::Cow;

use serde::{Deserialize, Serialize};
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

/// The parts of an entry body a monitor reads, for every kind: Rekor v1
/// hashedrekord (`data.hash`, `signature.publicKey.content`), dsse
/// (`payloadHash`, `signatures[0].verifier`), intoto 0.0.1 (`publicKey`)
/// and 0.0.2 (`content.envelope.signatures[0].publicKey`,
/// `content.payloadHash`), and the v2 `hashedRekordV002`/`dsseV002`.
/// Strings are `Cow` so that a JSON escape (legal, if odd) still parses:
/// an entry must not hide from a monitor by spelling its key differently.
#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "apiVersion")]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    spec: Spec<'a>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Spec<'a> {
    #[serde(borrow, default)]
    data: Option<V1Data<'a>>,
    #[serde(borrow, default)]
    signature: Option<V1Signature<'a>>,
    #[serde(borrow, default)]
    payload_hash: Option<V1Hash<'a>>,
    #[serde(borrow, default)]
    signatures: Option<Vec<DsseSignature<'a>>>,
    #[serde(borrow, default)]
    content: Option<IntotoContent<'a>>,
    /// intoto 0.0.1 (a string there; other kinds may use the name otherwise).
    #[serde(default)]
    public_key: Option<serde_json::Value>,
    #[serde(borrow, default)]
    hashed_rekord_v002: Option<V2Entry<'a>>,
    #[serde(borrow, default)]
    dsse_v002: Option<V2Entry<'a>>,
}

#[derive(Deserialize)]
struct V1Data<'a> {
    #[serde(borrow)]
    hash: Option<V1Hash<'a>>,
}

#[derive(Deserialize)]
struct V1Hash<'a> {
    #[serde(borrow)]
    value: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Signature<'a> {
    #[serde(borrow)]
    public_key: Option<V1Content<'a>>,
}

#[derive(Deserialize)]
struct V1Content<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DsseSignature<'a> {
    /// dsse 0.0.1: base64 PEM; dsse 0.0.2: an object (read via V2Entry).
    #[serde(borrow)]
    verifier: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoContent<'a> {
    #[serde(borrow)]
    envelope: Option<IntotoEnvelope<'a>>,
    #[serde(borrow)]
    payload_hash: Option<V1Hash<'a>>,
}

#[derive(Deserialize)]
struct IntotoEnvelope<'a> {
    #[serde(borrow)]
    signatures: Option<Vec<IntotoSignature<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoSignature<'a> {
    #[serde(borrow)]
    public_key: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Entry<'a> {
    #[serde(borrow)]
    data: Option<V2Digest<'a>>,
    #[serde(borrow)]
    payload_hash: Option<V2Digest<'a>>,
    #[serde(borrow)]
    signature: Option<V2Signature<'a>>,
    #[serde(borrow)]
    signatures: Option<Vec<V2Signature<'a>>>,
}

#[derive(Deserialize)]
struct V2Digest<'a> {
    #[serde(borrow)]
    digest: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct V2Signature<'a> {
    #[serde(borrow)]
    verifier: Option<V2Verifier<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Verifier<'a> {
    #[serde(borrow)]
    x509_certificate: Option<V2Raw<'a>>,
    #[serde(borrow)]
    public_key: Option<V2Raw<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Raw<'a> {
    #[serde(borrow)]
    raw_bytes: Option<Cow<'a, str>>,
}

#[derive(Clone, Copy)]
enum Enc {
    Pem,
    CertDer,
    KeyDer,
}

fn v2_verifier<'s>(e: &'s Option<V2Entry<'_>>) -> Option<(&'s str, Enc)> {
    let e = e.as_ref()?;
    let sig = e
        .signature
        .as_ref()
        .or_else(|| e.signatures.as_ref().and_then(|s| s.first()))?;
    let v = sig.verifier.as_ref()?;
    if let Some(c) = v
        .x509_certificate
        .as_ref()
        .and_then(|r| r.raw_bytes.as_deref())
    {
        return Some((c, Enc::CertDer));
    }
    v.public_key
        .as_ref()
        .and_then(|r| r.raw_bytes.as_deref())
        .map(|k| (k, Enc::KeyDer))
}

fn pem(s: Option<&str>) -> Option<(&str, Enc)> {
    s.map(|s| (s, Enc::Pem))
}

fn v1_hex<'s>(h: &'s Option<V1Hash<'_>>) -> Option<&'s str> {
    h.as_ref().and_then(|h| h.value.as_deref())
}

fn v2_digest<'s>(e: &'s Option<V2Entry<'_>>) -> Option<&'s str> {
    let e = e.as_ref()?;
    e.data
        .as_ref()
        .or(e.payload_hash.as_ref())
        .and_then(|d| d.digest.as_deref())
}

impl Spec<'_> {
    /// The verifier, in the order the kinds were listed.
    fn verifier(&self) -> Option<(&str, Enc)> {
        pem(self
            .signature
            .as_ref()
            .and_then(|s| s.public_key.as_ref())
            .and_then(|k| k.content.as_deref()))
        .or_else(|| {
            pem(self
                .signatures
                .as_ref()
                .and_then(|s| s.first())
                .and_then(|s| s.verifier.as_deref()))
        })
        .or_else(|| {
            pem(self
                .content
                .as_ref()
                .and_then(|c| c.envelope.as_ref())
                .and_then(|e| e.signatures.as_ref())
                .and_then(|s| s.first())
                .and_then(|s| s.public_key.as_deref()))
        })
        .or_else(|| pem(self.public_key.as_ref().and_then(serde_json::Value::as_str)))
        .or_else(|| v2_verifier(&self.hashed_rekord_v002))
        .or_else(|| v2_verifier(&self.dsse_v002))
    }

    /// The digest and whether it is hex (v1) rather than base64 (v2).
    fn digest(&self) -> Option<(&str, bool)> {
        self.data
            .as_ref()
            .and_then(|d| d.hash.as_ref())
            .and_then(|h| h.value.as_deref())
            .or_else(|| v1_hex(&self.payload_hash))
            .or_else(|| self.content.as_ref().and_then(|c| v1_hex(&c.payload_hash)))
            .map(|s| (s, true))
            .or_else(|| v2_digest(&self.hashed_rekord_v002).map(|s| (s, false)))
            .or_else(|| v2_digest(&self.dsse_v002).map(|s| (s, false)))
    }
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
        let b: Body<'_> = serde_json::from_slice(body).map_err(EntryError::Json)?;
        let mut info = EntryInfo {
            kind: b.kind.ok_or(EntryError::Missing("kind"))?.into_owned(),
            api_version: b
                .api_version
                .ok_or(EntryError::Missing("apiVersion"))?
                .into_owned(),
            certificate: None,
            key_sha256: None,
            digest: None,
        };
        if let Some((s, enc)) = b.spec.verifier() {
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
        if let Some((s, is_hex)) = b.spec.digest() {
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

    /// What a certificate says, for an entry that is a certificate (a CT
    /// log's): its names, Fulcio identity and, if `want_key`, key hash.
    pub fn from_certificate(
        c: &Certificate,
        kind: &str,
        api_version: &str,
        want_key: bool,
    ) -> Result<Self, EntryError> {
        let mut info = EntryInfo {
            kind: kind.into(),
            api_version: api_version.into(),
            certificate: None,
            key_sha256: None,
            digest: None,
        };
        info.set_cert(c, true, want_key)?;
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

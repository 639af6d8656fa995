//! Decoding an entry body for display: kind, artifact digest, and the
//! signer's certificate read with the workspace's X.509 code (the Fulcio
//! OID table of `keyless-x509`), so the page never parses ASN.1 itself.
//!
//! This is display only. Nothing here is trusted by the page's verdict:
//! the page verifies the inclusion proof and the checkpoint signature
//! itself, over the raw body it fetched from the log.

use keyless_types::rekor::EntryBody;

use crate::statement::{self, StatementView};
use keyless_x509::{fulcio_identity, oid, Certificate};
use serde::Serialize;
use thiserror::Error;

/// The largest entry body the decoder reads: the log's default request
/// cap is far below this.
pub const MAX_BODY: usize = 1024 * 1024;
/// At most this many certificates are decoded from one body (DSSE entries
/// may carry several signatures).
pub const MAX_CERTIFICATES: usize = 8;

/// Why a body could not be decoded.
#[derive(Debug, Error)]
pub enum DecodeError {
    #[error("entry body is {0} bytes, over the {MAX_BODY}-byte limit")]
    TooLarge(usize),
    #[error("entry body is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("entry body is not a supported Rekor entry: {0}")]
    Body(#[from] keyless_types::BodyError),
}

/// What the page shows about an entry.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Decoded {
    pub kind: &'static str,
    pub api_version: &'static str,
    /// `sha256:<hex>` of the signed artifact (or DSSE payload).
    pub digest: Option<String>,
    pub payload_type: Option<String>,
    /// Public keys given without a certificate, as PEM or base64 DER.
    pub public_keys: Vec<String>,
    pub certificates: Vec<CertView>,
    /// The in-toto statement, when the body carries the DSSE payload.
    pub statement: Option<StatementView>,
    /// For DSSE kinds without a readable statement: why none is shown.
    pub statement_note: Option<String>,
}

/// One decoded certificate, or why it could not be.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CertView {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub oidc_issuer: Option<String>,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub has_sct: bool,
    /// Fulcio extensions present, in OID order, by their `oid-info.md` name.
    pub extensions: Vec<ExtView>,
    /// Set when the certificate's identity could not be read.
    pub error: Option<String>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ExtView {
    pub oid: String,
    pub name: &'static str,
    pub value: String,
}

/// A signer as the body stores it: certificate or key, PEM or DER.
enum Signer<'a> {
    Pem(&'a [u8]),
    Der(&'a [u8]),
    KeyDer(&'a [u8]),
}

/// Decode the base64 entry body `body_b64` (as the v1 API returns it).
pub fn decode_b64(body_b64: &str) -> Result<Decoded, DecodeError> {
    if body_b64.len() > MAX_BODY * 4 / 3 + 4 {
        return Err(DecodeError::TooLarge(body_b64.len() * 3 / 4));
    }
    decode(&keyless_types::b64::decode(body_b64.trim())?)
}

/// Decode a raw entry body.
pub fn decode(body: &[u8]) -> Result<Decoded, DecodeError> {
    if body.len() > MAX_BODY {
        return Err(DecodeError::TooLarge(body.len()));
    }
    let entry = EntryBody::parse(body)?;
    let (kind, api_version) = entry.kind_version();
    let sha = |alg: &str, value: String| format!("{}:{value}", alg.to_ascii_lowercase());
    let proto = |alg: &str, digest: &[u8]| {
        let alg = if alg.eq_ignore_ascii_case("SHA2_256") {
            "sha256"
        } else {
            alg
        };
        sha(alg, hex::encode(digest))
    };
    let mut signers = Vec::new();
    let mut payload_type = None;
    let mut stmt: Option<Result<StatementView, String>> = None;
    const HASH_ONLY: &str = "The log holds only the payload hash, not the in-toto statement: \
        the statement is in the attestation (bundle) itself.";
    let digest = match &entry {
        EntryBody::HashedRekordV001(e) => {
            signers.push(Signer::Pem(&e.signature.public_key.content));
            Some(sha(&e.data.hash.algorithm, e.data.hash.value.clone()))
        }
        EntryBody::HashedRekordV002(e) => {
            signers.push(v2_signer(&e.signature.verifier));
            Some(proto(&e.data.algorithm, &e.data.digest))
        }
        EntryBody::DsseV001(e) => {
            stmt = Some(Err(HASH_ONLY.into()));
            signers.extend(e.signatures.iter().map(|s| Signer::Pem(&s.verifier)));
            Some(sha(&e.payload_hash.algorithm, e.payload_hash.value.clone()))
        }
        EntryBody::DsseV002(e) => {
            stmt = Some(Err(HASH_ONLY.into()));
            signers.extend(e.signatures.iter().map(|s| v2_signer(&s.verifier)));
            Some(proto(&e.payload_hash.algorithm, &e.payload_hash.digest))
        }
        EntryBody::IntotoV002(e) => {
            payload_type = Some(e.content.envelope.payload_type.clone());
            let env = &e.content.envelope;
            stmt = Some(if env.payload.is_empty() {
                Err(HASH_ONLY.into())
            } else {
                statement::from_intoto_payload(&env.payload)
            });
            signers.extend(env.signatures.iter().map(|s| Signer::Pem(&s.public_key)));
            Some(sha(
                &e.content.payload_hash.algorithm,
                e.content.payload_hash.value.clone(),
            ))
        }
        _ => None,
    };
    let mut out = Decoded {
        kind,
        api_version,
        digest,
        payload_type,
        public_keys: Vec::new(),
        certificates: Vec::new(),
        statement: None,
        statement_note: None,
    };
    match stmt {
        Some(Ok(s)) => out.statement = Some(s),
        Some(Err(note)) => out.statement_note = Some(note),
        None => {}
    }
    for signer in signers.into_iter().take(MAX_CERTIFICATES) {
        let cert = match signer {
            Signer::Der(der) => Certificate::from_der(der),
            Signer::KeyDer(der) => {
                out.public_keys.push(keyless_types::b64::encode(der));
                continue;
            }
            Signer::Pem(pem) => {
                let text = String::from_utf8_lossy(pem);
                if !text.contains("CERTIFICATE") {
                    out.public_keys.push(text.into_owned());
                    continue;
                }
                Certificate::from_pem(&text)
            }
        };
        out.certificates.push(match cert {
            Ok(c) => cert_view(&c),
            Err(e) => CertView::failed(e.to_string()),
        });
    }
    Ok(out)
}

fn v2_signer(v: &keyless_types::rekor::V2Verifier) -> Signer<'_> {
    match (&v.x509_certificate, &v.public_key) {
        (Some(c), _) => Signer::Der(&c.raw_bytes),
        (None, Some(k)) => Signer::KeyDer(&k.raw_bytes),
        (None, None) => Signer::KeyDer(&[]),
    }
}

pub(crate) fn cert_view(cert: &Certificate) -> CertView {
    let mut view = CertView {
        subject: cert.subject(),
        issuer: cert.issuer(),
        not_before: cert.not_before(),
        not_after: cert.not_after(),
        has_sct: cert.extension(&oid::CT_SCT_LIST).is_some(),
        ..CertView::failed(String::new())
    };
    view.error = None;
    match fulcio_identity(cert) {
        Ok(id) => {
            view.sans = id.sans;
            view.oidc_issuer = id.issuer;
            view.extensions = oid::FULCIO
                .iter()
                .filter_map(|e| {
                    let key = e.oid.to_string();
                    id.extensions.get(&key).map(|v| ExtView {
                        oid: key,
                        name: e.label,
                        value: v.clone(),
                    })
                })
                .collect();
        }
        Err(e) => view.error = Some(e.to_string()),
    }
    view
}

impl CertView {
    fn failed(error: String) -> Self {
        Self {
            subject: String::new(),
            issuer: String::new(),
            sans: Vec::new(),
            oidc_issuer: None,
            not_before: 0,
            not_after: 0,
            has_sct: false,
            extensions: Vec::new(),
            error: Some(error),
        }
    }
}

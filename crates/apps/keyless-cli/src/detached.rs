//! Detached verification material, as cosign's `verify-blob --certificate
//! --signature` takes it: a PEM certificate (and chain), a base64
//! signature, optionally an RFC 3161 timestamp, and no bundle. They are put
//! into the shape of a Sigstore bundle so the one verifier checks them; the
//! bundle has no log entry, so it verifies only with --insecure-ignore-tlog.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::Engine;
use keyless_types::wire;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Largest certificate, chain, signature or timestamp file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The files cosign's detached flags name.
pub struct Detached<'a> {
    pub certificate: &'a Path,
    pub chain: Option<&'a PathBuf>,
    pub signature: &'a Path,
    pub timestamp: Option<&'a PathBuf>,
}

impl Detached<'_> {
    /// A bundle (JSON) of the detached material over a blob whose SHA-256
    /// is `digest`.
    pub fn bundle_json(&self, digest: [u8; 32]) -> Result<Vec<u8>> {
        let leaf = pem_certificates(&read(self.certificate, "certificate")?)
            .with_context(|| format!("certificate {}", self.certificate.display()))?;
        let Some(leaf) = leaf.into_iter().next() else {
            bail!("no certificate in {}", self.certificate.display());
        };
        let signature_text = String::from_utf8(read(self.signature, "signature")?)
            .context("the signature file is not base64 text")?;
        let signature = B64
            .decode(signature_text.trim())
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD.decode(signature_text.trim())
            })
            .with_context(|| format!("signature {} is not base64", self.signature.display()))?;
        let timestamps = match self.timestamp {
            Some(p) => vec![timestamp_der(&read(p, "timestamp")?)?],
            None => Vec::new(),
        };
        let (media_type, certificate, chain) = match self.chain {
            // A chain needs the v0.1 layout (v0.3 carries the leaf alone).
            Some(p) => {
                // The root is left out: roots come from the trusted root only,
                // and the verifier refuses a bundle that brings its own.
                let mut certs = vec![leaf];
                for der in pem_certificates(&read(p, "certificate chain")?)
                    .with_context(|| format!("certificate chain {}", p.display()))?
                {
                    let cert = keyless_x509::Certificate::from_der(&der)?;
                    if !cert.is_self_issued() {
                        certs.push(der);
                    }
                }
                (
                    "application/vnd.dev.sigstore.bundle+json;version=0.1",
                    None,
                    Some(wire::X509CertificateChain {
                        certificates: certs
                            .into_iter()
                            .map(|raw_bytes| wire::X509Certificate { raw_bytes })
                            .collect(),
                    }),
                )
            }
            None => (
                keyless_types::bundle::MEDIA_TYPE_V0_3,
                Some(wire::X509Certificate { raw_bytes: leaf }),
                None,
            ),
        };
        let bundle = wire::Bundle {
            media_type: media_type.into(),
            verification_material: Some(wire::VerificationMaterial {
                public_key: None,
                x509_certificate_chain: chain,
                certificate,
                tlog_entries: Vec::new(),
                timestamp_verification_data: (!timestamps.is_empty()).then(|| {
                    wire::TimestampVerificationData {
                        rfc3161_timestamps: timestamps
                            .into_iter()
                            .map(|signed_timestamp| wire::Rfc3161SignedTimestamp {
                                signed_timestamp,
                            })
                            .collect(),
                    }
                }),
            }),
            message_signature: Some(wire::MessageSignature {
                message_digest: Some(wire::HashOutput {
                    algorithm: "SHA2_256".into(),
                    digest: digest.to_vec(),
                }),
                signature,
            }),
            dsse_envelope: None,
        };
        Ok(serde_json::to_vec(&bundle)?)
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .with_context(|| format!("reading {what} {}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!("{what} {} is larger than 1 MiB", path.display());
    }
    Ok(bytes)
}

/// The first certificate of a PEM file, DER (`verify --certificate`).
pub fn certificate_der(path: &Path) -> Result<Vec<u8>> {
    pem_certificates(&read(path, "certificate")?)
        .with_context(|| format!("certificate {}", path.display()))?
        .into_iter()
        .next()
        .with_context(|| format!("no certificate in {}", path.display()))
}

/// DER certificates from PEM text (base64 of PEM, as cosign's
/// `--output-certificate` of old wrote it, is accepted too).
fn pem_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let text = String::from_utf8_lossy(bytes);
    let text = if text.contains("-----BEGIN") {
        text.into_owned()
    } else {
        String::from_utf8(
            B64.decode(text.trim())
                .context("neither PEM nor base64 PEM")?,
        )
        .context("base64 of something other than PEM")?
    };
    text.split_inclusive("-----END CERTIFICATE-----")
        .filter(|b| b.contains("-----BEGIN"))
        .map(|b| {
            keyless_x509::Certificate::from_pem(b)
                .map(|c| c.der().to_vec())
                .map_err(anyhow::Error::from)
        })
        .collect::<Result<Vec<_>>>()
}

/// An RFC 3161 timestamp file: DER, or cosign's JSON annotation form.
fn timestamp_der(bytes: &[u8]) -> Result<Vec<u8>> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let b64 = v
            .as_object()
            .and_then(|o| {
                o.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("SignedRFC3161Timestamp"))
            })
            .and_then(|(_, v)| v.as_str())
            .context("timestamp JSON without SignedRFC3161Timestamp")?;
        return B64.decode(b64).context("timestamp is not base64");
    }
    Ok(bytes.to_vec())
}

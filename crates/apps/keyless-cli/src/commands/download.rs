//! `keyless download signature|attestation IMAGE`: what is stored for an
//! image, as JSON lines the way `cosign download` prints them. Nothing is
//! verified here; use `keyless verify` for that.
//!
//! - signature: if the image has Sigstore bundle referrers, each bundle
//!   (cosign v3 prints those first and stops); otherwise one object per
//!   classic `.sig` layer with cosign's `SignedPayload` fields:
//!   `Base64Signature`, `Payload` (base64), `Cert`, `Chain`, `Bundle`,
//!   `RFC3161Timestamp`. Go prints a certificate as its whole parsed
//!   structure; here `Cert` and each `Chain` element carry only its `Raw`
//!   DER (base64), the field consumers of that output read.
//! - attestation: each `.att` layer's DSSE envelope, optionally only those
//!   whose statement has `--predicate-type`.

use anyhow::{Context, Result};
use keyless_oci::StoredSignature;
use serde_json::{json, Value};

use crate::registry::{parse, predicate_type, ReadLimitArgs, RegistryArgs};
use crate::signing::runtime;

#[derive(Debug, clap::Subcommand)]
pub enum Download {
    /// Print the signatures stored for an image, one JSON object per line.
    Signature(DownloadArgs),
    /// Print the attestations (DSSE envelopes) stored for an image, one per line.
    Attestation(DownloadAttestation),
}

#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    #[arg(value_name = "IMAGE")]
    pub image: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub limits: ReadLimitArgs,
}

#[derive(Debug, clap::Args)]
pub struct DownloadAttestation {
    #[command(flatten)]
    pub common: DownloadArgs,
    /// Only attestations whose statement has this predicate type (URL or
    /// cosign's short names such as slsaprovenance1, spdxjson).
    #[arg(long, value_name = "TYPE")]
    pub predicate_type: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    keyless_types::b64::encode(bytes)
}

/// Base64 DER of each PEM certificate in `pem`, in order.
fn certificates(pem: &str) -> Result<Vec<Value>> {
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(end) = rest.find(END) {
        let block = rest[..end + END.len()].trim_start();
        let cert = keyless_x509::Certificate::from_pem(block).context("certificate annotation")?;
        out.push(json!({ "Raw": b64(cert.der()) }));
        rest = &rest[end + END.len()..];
    }
    Ok(out)
}

/// cosign's `SignedPayload` JSON for one classic layer.
fn signed_payload(layer: &StoredSignature) -> Result<Value> {
    let cert = match layer.certificate_pem() {
        Some(pem) => certificates(pem)?.into_iter().next(),
        None => None,
    };
    let chain = match layer.chain_pem() {
        Some(pem) => Some(certificates(pem)?),
        None => None,
    };
    let bundle = match layer.parsed_rekor_bundle() {
        Some(b) => Some(b.context("dev.sigstore.cosign/bundle annotation")?),
        None => None,
    };
    let timestamp = match layer.parsed_rfc3161_timestamp() {
        Some(t) => Some(t.context("dev.sigstore.cosign/rfc3161timestamp annotation")?),
        None => None,
    };
    Ok(json!({
        "Base64Signature": layer.base64_signature().unwrap_or_default(),
        "Payload": b64(&layer.payload),
        "Cert": cert,
        "Chain": chain,
        "Bundle": bundle,
        "RFC3161Timestamp": timestamp,
    }))
}

impl Download {
    pub fn run(&self) -> Result<i32> {
        let args = match self {
            Self::Signature(a) => a,
            Self::Attestation(a) => &a.common,
        };
        let reference = parse(&args.image)?;
        let stored = runtime()?.block_on(async {
            let client = args.limits.client(&args.registry)?;
            anyhow::Ok(client.list_signatures(&reference).await?)
        })?;
        let mut lines = Vec::new();
        match self {
            Self::Signature(_) if !stored.bundles.is_empty() => {
                for b in &stored.bundles {
                    let v: Value = serde_json::from_slice(&b.bundle)
                        .with_context(|| format!("bundle in referrer {}", b.manifest.digest))?;
                    lines.push(v.to_string());
                }
            }
            Self::Signature(_) => {
                for layer in &stored.signatures {
                    lines.push(signed_payload(layer)?.to_string());
                }
            }
            Self::Attestation(a) => {
                let want = a.predicate_type.as_deref().map(predicate_type);
                for layer in &stored.attestations {
                    let envelope: Value =
                        serde_json::from_slice(&layer.payload).with_context(|| {
                            format!("attestation layer {}", layer.descriptor.digest)
                        })?;
                    if let Some(want) = &want {
                        if statement_type(&envelope).as_deref() != Some(want.as_str()) {
                            continue;
                        }
                    }
                    lines.push(envelope.to_string());
                }
            }
        }
        for line in lines {
            println!("{line}");
        }
        Ok(crate::exit::OK)
    }
}

/// The predicate type of the statement inside a DSSE envelope.
fn statement_type(envelope: &Value) -> Option<String> {
    let payload = keyless_types::b64::decode(envelope["payload"].as_str()?).ok()?;
    let statement: Value = serde_json::from_slice(&payload).ok()?;
    statement["predicateType"].as_str().map(str::to_owned)
}

//! `keyless sign IMAGE` and `keyless attest IMAGE`: sign a container image
//! keylessly and store the signature the way cosign does (tag
//! `sha256-<hex>.sig` / `.att` in the image's repository), plus the Sigstore
//! bundle as an OCI 1.1 referrer (tag-schema fallback where the registry
//! lacks the referrers API).

use anyhow::{Context, Result};
use base64::Engine;
use keyless_oci::{SignatureLayer, SimpleSigning};
use keyless_sign::Artifact;

use crate::registry::{parse, predicate_type, RegistryArgs};
use crate::signing::{runtime, SignArgs};

#[derive(Debug, clap::Args)]
pub struct Sign {
    /// The image to sign: REPO[:TAG] or REPO@sha256:… (tags are resolved to a digest).
    #[arg(value_name = "IMAGE")]
    pub image: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Also write the Sigstore bundle to this file.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub sign: SignArgs,
}

impl Sign {
    pub fn run(&self) -> Result<i32> {
        let reference = parse(&self.image)?;
        let (instance, endpoints) = self.sign.prepare()?;
        runtime()?.block_on(async {
            let client = self.registry.client()?;
            let digest = client.resolve_digest(&reference).await?;
            let pinned = reference.with_digest(digest.clone());
            let payload = SimpleSigning::new(reference.repository(), &digest).to_json();
            let signed = self
                .sign
                .sign(
                    &instance,
                    &endpoints,
                    &Artifact::Digest(keyless_crypto::sha256(&payload)),
                )
                .await?;
            let bundle = keyless_sign::bundle_json(&signed.bundle)?;
            let (leaf, chain) = pems(&signed.chain);
            let layer = SignatureLayer::signature(
                payload,
                &base64::engine::general_purpose::STANDARD.encode(&signed.signature),
            )
            .with_certificate(&leaf, &chain);
            store(
                &client,
                &pinned,
                Stored::Signature(layer),
                &bundle,
                self.bundle.as_deref(),
            )
            .await
        })?;
        Ok(crate::exit::OK)
    }
}

#[derive(Debug, clap::Args)]
pub struct Attest {
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The predicate (JSON) to attest to.
    #[arg(long, value_name = "FILE")]
    pub predicate: std::path::PathBuf,
    /// Predicate type: a URL, or slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, openvex, custom.
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    pub predicate_type: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// An in-toto v1 statement about one subject.
pub fn statement(
    name: &str,
    sha256_hex: &str,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": name, "digest": { "sha256": sha256_hex } }],
        "predicateType": predicate_type,
        "predicate": predicate,
    }))
    .unwrap_or_default()
}

pub fn read_predicate(path: &std::path::Path) -> Result<serde_json::Value> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading predicate {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("predicate {} is not JSON", path.display()))
}

impl Attest {
    pub fn run(&self) -> Result<i32> {
        let reference = parse(&self.image)?;
        let predicate = read_predicate(&self.predicate)?;
        let ptype = predicate_type(&self.predicate_type);
        let (instance, endpoints) = self.sign.prepare()?;
        runtime()?.block_on(async {
            let client = self.registry.client()?;
            let digest = client.resolve_digest(&reference).await?;
            let pinned = reference.with_digest(digest.clone());
            let hex_digest = digest.to_string().trim_start_matches("sha256:").to_string();
            let payload = statement(
                &reference.repository().to_string(),
                &hex_digest,
                &ptype,
                predicate,
            );
            let artifact = Artifact::Dsse {
                payload_type: keyless_types::intoto::PAYLOAD_TYPE.into(),
                payload,
            };
            let signed = self.sign.sign(&instance, &endpoints, &artifact).await?;
            let bundle = keyless_sign::bundle_json(&signed.bundle)?;
            let envelope = signed
                .bundle
                .dsse_envelope
                .as_ref()
                .context("no envelope")?;
            let (leaf, chain) = pems(&signed.chain);
            let layer = SignatureLayer::attestation(serde_json::to_vec(envelope)?, &ptype)
                .with_certificate(&leaf, &chain);
            store(
                &client,
                &pinned,
                Stored::Attestation(layer),
                &bundle,
                self.bundle.as_deref(),
            )
            .await
        })?;
        Ok(crate::exit::OK)
    }
}

/// `keyless attest-blob`: an in-toto attestation about a file, as a bundle.
#[derive(Debug, clap::Args)]
pub struct AttestBlob {
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
    #[arg(long, value_name = "FILE")]
    pub predicate: std::path::PathBuf,
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    pub predicate_type: String,
    #[arg(long, value_name = "FILE")]
    pub bundle: std::path::PathBuf,
    #[command(flatten)]
    pub sign: SignArgs,
}

impl AttestBlob {
    pub fn run(&self) -> Result<i32> {
        let digest = crate::hashing::sha256_file(&self.file)?;
        let predicate = read_predicate(&self.predicate)?;
        let name = self
            .file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("artifact");
        let payload = statement(
            name,
            &hex::encode(digest),
            &predicate_type(&self.predicate_type),
            predicate,
        );
        let (instance, endpoints) = self.sign.prepare()?;
        let artifact = Artifact::Dsse {
            payload_type: keyless_types::intoto::PAYLOAD_TYPE.into(),
            payload,
        };
        let signed = runtime()?.block_on(self.sign.sign(&instance, &endpoints, &artifact))?;
        std::fs::write(&self.bundle, keyless_sign::bundle_json(&signed.bundle)?)
            .with_context(|| format!("writing {}", self.bundle.display()))?;
        eprintln!("Wrote bundle to file {}", self.bundle.display());
        Ok(crate::exit::OK)
    }
}

enum Stored {
    Signature(SignatureLayer),
    Attestation(SignatureLayer),
}

/// Store a signed image's evidence: the cosign-layout layer under the
/// `.sig`/`.att` tag, the bundle as a referrer, and optionally a local copy.
async fn store(
    client: &keyless_oci::RegistryClient,
    pinned: &keyless_oci::Reference,
    layer: Stored,
    bundle: &str,
    bundle_out: Option<&std::path::Path>,
) -> Result<()> {
    let digest = pinned
        .digest()
        .context("the image reference is not pinned to a digest")?;
    match layer {
        Stored::Signature(layer) => {
            eprintln!(
                "Pushing signature to: {}",
                pinned
                    .repository()
                    .tag(&keyless_oci::cosign::signature_tag(digest))?
            );
            client.attach_signature(pinned, layer).await?;
        }
        Stored::Attestation(layer) => {
            eprintln!(
                "Pushing attestation to: {}",
                pinned
                    .repository()
                    .tag(&keyless_oci::cosign::attestation_tag(digest))?
            );
            client.attach_attestation(pinned, layer).await?;
        }
    }
    client.attach_bundle(pinned, bundle.as_bytes()).await?;
    if let Some(p) = bundle_out {
        std::fs::write(p, bundle).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

fn pems(chain: &[Vec<u8>]) -> (String, String) {
    let leaf = chain
        .first()
        .map(|d| keyless_sign::http::certificate_pem(d))
        .unwrap_or_default();
    let rest: String = chain
        .iter()
        .skip(1)
        .map(|d| keyless_sign::http::certificate_pem(d))
        .collect();
    (leaf, rest)
}

//! `keyless sign IMAGE` and `keyless attest IMAGE`: sign a container image
//! keylessly and store the signature the way cosign does (tag
//! `sha256-<hex>.sig` / `.att` in the image's repository), plus the Sigstore
//! bundle as an OCI 1.1 referrer (tag-schema fallback where the registry
//! lacks the referrers API).

use anyhow::{Context, Result};
use base64::Engine;
use keyless_oci::{SignatureLayer, SimpleSigning};
use keyless_sign::Artifact;

use crate::image_flags::{parse_annotations, ImageSignFlags};
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
    /// KEY=VALUE claims added to the signed payload's `optional` section
    /// (repeatable), as cosign's `-a`.
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    #[command(flatten)]
    pub flags: ImageSignFlags,
    #[command(flatten)]
    pub sign: SignArgs,
}

impl Sign {
    pub fn run(&self) -> Result<i32> {
        let reference = parse(&self.image)?;
        let layout = self.flags.layout()?;
        let claims = parse_annotations(&self.annotations)?;
        let (instance, endpoints) = self.sign.prepare()?;
        runtime()?.block_on(async {
            let client = self.registry.client()?;
            let digest = client.resolve_digest(&reference).await?;
            let mut targets = vec![digest];
            if self.flags.recursive {
                targets.extend(platform_manifests(&client, &reference, &targets[0]).await?);
            }
            for (i, digest) in targets.iter().enumerate() {
                let pinned = reference.with_digest(digest.clone());
                let mut doc = SimpleSigning::new(reference.repository(), digest);
                let mut subject_claims = serde_json::Map::new();
                for (k, v) in &claims {
                    doc = doc.with_claim(k, serde_json::Value::String(v.clone()));
                    subject_claims.insert(k.clone(), serde_json::Value::String(v.clone()));
                }
                let payload = doc.to_json();
                // The classic layer is a signature over the simple-signing
                // payload; the referrer, as cosign v3 writes it, a DSSE
                // envelope over a cosign/sign/v1 statement about the digest.
                let mut artifacts = Vec::new();
                if layout.classic() {
                    artifacts.push(Artifact::Digest(keyless_crypto::sha256(&payload)));
                }
                if layout.referrer() {
                    artifacts.push(Artifact::Dsse {
                        payload_type: keyless_types::intoto::PAYLOAD_TYPE.into(),
                        payload: keyless_oci::cosign::sign_v1_statement(digest, &subject_claims),
                    });
                }
                let mut signed = self
                    .sign
                    .sign_all(&instance, &endpoints, &artifacts)
                    .await?
                    .into_iter();
                let classic = layout.classic().then(|| signed.next()).flatten();
                let referrer = layout.referrer().then(|| signed.next()).flatten();
                let first = classic
                    .as_ref()
                    .or(referrer.as_ref())
                    .context("the signing flow returned no signature")?;
                if i == 0 {
                    self.flags
                        .write_outputs(first.chain.first().map(Vec::as_slice), &first.signature)?;
                }
                let layer = classic.as_ref().map(|c| {
                    let layer = SignatureLayer::signature(
                        payload.clone(),
                        &base64::engine::general_purpose::STANDARD.encode(&c.signature),
                    );
                    Stored::Signature(with_evidence(with_signer(layer, &c.chain), &c.bundle))
                });
                let referrer_json = referrer
                    .as_ref()
                    .map(|r| keyless_sign::bundle_json(&r.bundle))
                    .transpose()?;
                // --bundle gets what cosign v3 writes there: the referrer's
                // bundle, or the classic signature's in the legacy layout.
                let bundle = match &referrer_json {
                    Some(json) => json.clone(),
                    None => keyless_sign::bundle_json(&first.bundle)?,
                };
                store(
                    &client,
                    &pinned,
                    layer,
                    referrer_json.as_deref().map(|json| Referrer {
                        json,
                        predicate_type: keyless_oci::cosign::COSIGN_SIGN_PREDICATE_TYPE,
                    }),
                    if i == 0 { self.bundle.as_deref() } else { None },
                    &bundle,
                )
                .await?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(crate::exit::OK)
    }
}

/// The platform manifests of `digest` when it is an image index (for
/// `--recursive`); empty for a single-platform image.
async fn platform_manifests(
    client: &keyless_oci::RegistryClient,
    reference: &keyless_oci::Reference,
    digest: &keyless_oci::Digest,
) -> Result<Vec<keyless_oci::Digest>> {
    use keyless_oci::manifest::{DOCKER_MANIFEST_LIST, OCI_INDEX};
    let raw = client
        .fetch_manifest(reference.repository(), &digest.to_string())
        .await?
        .context("the image manifest disappeared while signing")?;
    if raw.media_type != OCI_INDEX && raw.media_type != DOCKER_MANIFEST_LIST {
        return Ok(Vec::new());
    }
    let index: keyless_oci::ImageIndex =
        serde_json::from_slice(&raw.bytes).context("the image index is not valid JSON")?;
    Ok(index.manifests.into_iter().map(|d| d.digest).collect())
}

/// The classic layer's evidence annotations from the bundle just made: the
/// Rekor v1 SET (only a v1 entry has one) and the RFC 3161 timestamp.
fn with_evidence(layer: SignatureLayer, bundle: &keyless_types::wire::Bundle) -> SignatureLayer {
    let material = bundle.verification_material.as_ref();
    let entry = material.and_then(|m| m.tlog_entries.first()).and_then(|e| {
        Some(keyless_oci::classic_write::RekorV1Entry {
            body: &e.canonicalized_body,
            integrated_time: e.integrated_time?,
            log_index: e.log_index,
            log_id: &e.log_id.key_id,
            signed_entry_timestamp: &e.inclusion_promise.as_ref()?.signed_entry_timestamp,
        })
    });
    let timestamp = material
        .and_then(|m| m.timestamp_verification_data.as_ref())
        .and_then(|t| t.rfc3161_timestamps.first())
        .map(|t| t.signed_timestamp.as_slice());
    layer.with_evidence(entry.as_ref(), timestamp)
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
    pub flags: ImageSignFlags,
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
        let layout = self.flags.layout()?;
        let (instance, endpoints) = self.sign.prepare()?;
        runtime()?.block_on(async {
            let client = self.registry.client()?;
            let digest = client.resolve_digest(&reference).await?;
            let mut targets = vec![digest];
            if self.flags.recursive {
                targets.extend(platform_manifests(&client, &reference, &targets[0]).await?);
            }
            for (i, digest) in targets.iter().enumerate() {
                let pinned = reference.with_digest(digest.clone());
                let hex_digest = digest.to_string().trim_start_matches("sha256:").to_string();
                let payload = statement(
                    &reference.repository().to_string(),
                    &hex_digest,
                    &ptype,
                    predicate.clone(),
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
                let layer = SignatureLayer::attestation(serde_json::to_vec(envelope)?, &ptype);
                let layer = with_signer(layer, &signed.chain);
                let layer = with_evidence(layer, &signed.bundle);
                if i == 0 {
                    self.flags.write_outputs(
                        signed.chain.first().map(Vec::as_slice),
                        &signed.signature,
                    )?;
                }
                store(
                    &client,
                    &pinned,
                    layout.classic().then_some(Stored::Attestation(layer)),
                    layout.referrer().then_some(Referrer {
                        json: bundle.as_str(),
                        predicate_type: ptype.as_str(),
                    }),
                    if i == 0 { self.bundle.as_deref() } else { None },
                    &bundle,
                )
                .await?;
            }
            Ok::<_, anyhow::Error>(())
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

/// A DSSE bundle to push as a referrer, with its statement's predicate
/// type (cosign v3's manifest annotations name it).
struct Referrer<'a> {
    json: &'a str,
    predicate_type: &'a str,
}

enum Stored {
    Signature(SignatureLayer),
    Attestation(SignatureLayer),
}

/// Store a signed image's evidence: the cosign-layout layer under the
/// `.sig`/`.att` tag, the bundle as a referrer (each when the layout says
/// so), and optionally a local copy of the bundle.
async fn store(
    client: &keyless_oci::RegistryClient,
    pinned: &keyless_oci::Reference,
    layer: Option<Stored>,
    referrer: Option<Referrer<'_>>,
    bundle_out: Option<&std::path::Path>,
    bundle: &str,
) -> Result<()> {
    let digest = pinned
        .digest()
        .context("the image reference is not pinned to a digest")?;
    match layer {
        None => {}
        Some(Stored::Signature(layer)) => {
            eprintln!(
                "Pushing signature to: {}",
                pinned
                    .repository()
                    .tag(&keyless_oci::cosign::signature_tag(digest))?
            );
            client.attach_signature(pinned, layer).await?;
        }
        Some(Stored::Attestation(layer)) => {
            eprintln!(
                "Pushing attestation to: {}",
                pinned
                    .repository()
                    .tag(&keyless_oci::cosign::attestation_tag(digest))?
            );
            client.attach_attestation(pinned, layer).await?;
        }
    }
    if let Some(referrer) = referrer {
        let json = referrer.json.as_bytes();
        client
            .attach_dsse_bundle(pinned, json, referrer.predicate_type)
            .await?;
        eprintln!("Pushing bundle referrer for: {pinned}");
    }
    if let Some(p) = bundle_out {
        std::fs::write(p, bundle).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

/// The certificate annotations, when a certificate signed: a layer signed
/// with `--key` carries none, as cosign writes it.
fn with_signer(layer: SignatureLayer, chain: &[Vec<u8>]) -> SignatureLayer {
    if chain.is_empty() {
        return layer;
    }
    let (leaf, rest) = pems(chain);
    layer.with_certificate(&leaf, &rest)
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

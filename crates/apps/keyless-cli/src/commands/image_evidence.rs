//! Everything stored for an image that could prove a signature or an
//! attestation, as bundles the one bundle verifier checks:
//!
//! - referrer bundles (keyless, cosign v3): a message signature over a
//!   `.sig` layer's payload; a DSSE statement of predicate type
//!   `https://sigstore.dev/cosign/sign/v1` (cosign v3's image signature);
//!   any other DSSE statement (an attestation);
//! - cosign's classic `.sig` / `.att` layers, rebuilt as v0.1 bundles by
//!   [`keyless_oci::StoredSignature::to_bundle`] so the SET and the logged
//!   body are checked against the layer's signature, certificate and
//!   payload digest exactly as for any bundle.
//!
//! A layer whose signature a referrer bundle already carries is the same
//! signature; it is checked once, through the bundle.

use std::collections::HashSet;

use keyless_oci::cosign::COSIGN_SIGN_PREDICATE_TYPE;
use keyless_oci::{Digest, ImageSignatures, StoredSignature};
use keyless_types::{b64, Bundle, Content};
use keyless_verify::Artifact;

/// What a verified piece of evidence must additionally show.
pub enum Expect {
    /// A cosign simple-signing payload naming the image digest; the bytes
    /// are the payload.
    SimpleSigning(Vec<u8>),
    /// An in-toto statement (its subject is checked by the verifier against
    /// the image digest).
    Statement,
}

/// One bundle to verify, with the artifact it is over.
pub struct Evidence {
    /// Where it came from, for messages (`referrer sha256:…`, `layer …`).
    pub origin: String,
    pub bundle: Bundle,
    pub artifact: Artifact,
    pub expect: Expect,
}

/// Evidence that could not even be read: `(exit code, message)`.
pub type Unreadable = (i32, String);

/// The bundle exit code (a malformed bundle), for layers whose annotations
/// are not in cosign's format.
fn malformed() -> i32 {
    crate::exit::for_kind(keyless_verify::ErrorKind::Bundle)
}

fn image_artifact(image: &Digest) -> Result<Artifact, Unreadable> {
    Ok(Artifact::Digest {
        algorithm: keyless_crypto::HashAlgorithm::Sha256,
        digest: hex::decode(image.hex()).map_err(|e| (crate::exit::FAILURE, e.to_string()))?,
    })
}

/// The predicate type of a DSSE bundle's statement, if it parses.
fn predicate_type(bundle: &Bundle) -> Option<String> {
    let Content::Dsse(env) = &bundle.content else {
        return None;
    };
    let v: serde_json::Value = serde_json::from_slice(&env.payload).ok()?;
    v["predicateType"].as_str().map(str::to_owned)
}

/// The base64 signature a classic layer carries (the annotation for
/// signatures, the envelope's first signature for attestations).
fn layer_signature(layer: &StoredSignature) -> Option<String> {
    if let Some(s) = layer.base64_signature().filter(|s| !s.is_empty()) {
        return Some(s.to_owned());
    }
    let v: serde_json::Value = serde_json::from_slice(&layer.payload).ok()?;
    v["signatures"][0]["sig"].as_str().map(str::to_owned)
}

/// Collect the evidence for image signatures (`attestations == false`) or
/// attestations.
pub fn collect(stored: &ImageSignatures, attestations: bool) -> (Vec<Evidence>, Vec<Unreadable>) {
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    let mut covered: HashSet<String> = HashSet::new();
    let image = match image_artifact(&stored.image) {
        Ok(a) => a,
        Err(e) => return (out, vec![e]),
    };
    for b in &stored.bundles {
        let origin = format!("referrer {}", b.manifest.digest);
        let bundle = match Bundle::from_json(&b.bundle) {
            Ok(bundle) => bundle,
            Err(e) => {
                unreadable.push((malformed(), format!("{origin}: unreadable bundle: {e}")));
                continue;
            }
        };
        let signature = b64::encode(bundle.content.signature());
        match &bundle.content {
            Content::MessageSignature(_) => {
                if attestations {
                    continue;
                }
                // The signed payload is the simple-signing document stored
                // in the .sig layer with the same signature.
                let Some(layer) = stored
                    .signatures
                    .iter()
                    .find(|s| s.base64_signature() == Some(signature.as_str()))
                else {
                    unreadable.push((
                        crate::exit::FAILURE,
                        format!("{origin}: a bundle whose signature is in no .sig layer"),
                    ));
                    continue;
                };
                covered.insert(signature);
                out.push(Evidence {
                    origin,
                    artifact: Artifact::Bytes(layer.payload.clone()),
                    expect: Expect::SimpleSigning(layer.payload.clone()),
                    bundle,
                });
            }
            Content::Dsse(_) => {
                let is_signature =
                    predicate_type(&bundle).as_deref() == Some(COSIGN_SIGN_PREDICATE_TYPE);
                if is_signature == attestations {
                    continue;
                }
                covered.insert(signature);
                out.push(Evidence {
                    origin,
                    artifact: image.clone(),
                    expect: Expect::Statement,
                    bundle,
                });
            }
            _ => unreadable.push((malformed(), format!("{origin}: unsupported bundle content"))),
        }
    }
    let layers = if attestations {
        &stored.attestations
    } else {
        &stored.signatures
    };
    for layer in layers {
        if layer_signature(layer).is_some_and(|s| covered.contains(&s)) {
            continue;
        }
        let origin = format!("layer {}", layer.descriptor.digest);
        let rebuilt = match layer.to_bundle() {
            Ok(r) => r,
            Err(e) => {
                unreadable.push((malformed(), e.to_string()));
                continue;
            }
        };
        let bundle = match Bundle::from_json(&rebuilt.bundle_json) {
            Ok(b) => b,
            Err(e) => {
                unreadable.push((malformed(), format!("{origin}: {e}")));
                continue;
            }
        };
        let (artifact, expect) = if rebuilt.is_attestation {
            (image.clone(), Expect::Statement)
        } else {
            (
                Artifact::Bytes(layer.payload.clone()),
                Expect::SimpleSigning(layer.payload.clone()),
            )
        };
        out.push(Evidence {
            origin,
            bundle,
            artifact,
            expect,
        });
    }
    (out, unreadable)
}

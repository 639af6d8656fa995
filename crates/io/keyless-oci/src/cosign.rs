//! cosign's signature storage layout.
//!
//! cosign keeps the signatures of image `repo@sha256:<hex>` in the same
//! repository under tag `sha256-<hex>.sig` (attestations: `.att`). That tag is
//! an OCI image manifest with a small OCI config blob; each layer is one
//! signature: the layer blob is the signed payload (a "simple signing" JSON
//! document for signatures, a DSSE envelope for attestations) and the layer's
//! annotations carry the signature, certificate, chain, Rekor bundle and
//! RFC 3161 timestamp. Writing the same layout lets `cosign verify` read our
//! signatures and us read cosign's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::client::limits::ReadBudget;
use crate::client::tags::UpdatePlan;
use crate::client::RegistryClient;
use crate::digest::Digest;
use crate::error::{ContentError, Error};
use crate::manifest::{
    Descriptor, ImageManifest, RawManifest, DOCKER_MANIFEST_V2, OCI_CONFIG, OCI_MANIFEST,
};
use crate::reference::{Reference, Repository};

/// Layer media type of a signature payload.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer media type of an attestation (a DSSE envelope).
pub const DSSE_ENVELOPE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Base64 signature over the layer's payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// PEM leaf certificate of the signer.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// PEM intermediate and root certificates.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// cosign's legacy Rekor bundle (JSON: SignedEntryTimestamp + Payload).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// cosign's RFC 3161 timestamp (JSON wrapping the base64 token).
pub const RFC3161_TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// In-toto predicate type of an attestation layer.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// The `critical.type` of a cosign simple signing payload.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// Tag suffix of signatures.
pub const SIGNATURE_TAG_SUFFIX: &str = "sig";
/// Tag suffix of attestations.
pub const ATTESTATION_TAG_SUFFIX: &str = "att";
/// Tag suffix of SBOMs attached with `cosign attach sbom`.
pub const SBOM_TAG_SUFFIX: &str = "sbom";
/// The in-toto predicate type cosign v3 signs an image with when it stores
/// a Sigstore bundle as a referrer: a DSSE statement of this type whose
/// subject is the image digest is an image *signature*, not an attestation.
pub const COSIGN_SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";

/// The in-toto statement cosign v3 signs (as a DSSE envelope) for image
/// `digest` when it stores the signature as a bundle referrer: subject the
/// image digest (no name) with the `-a k=v` claims as the subject's
/// annotations, predicate type [`COSIGN_SIGN_PREDICATE_TYPE`], empty
/// predicate. The verifier binds it to the image through the subject digest.
pub fn sign_v1_statement(
    digest: &Digest,
    annotations: &serde_json::Map<String, serde_json::Value>,
) -> Vec<u8> {
    let mut digests = serde_json::Map::new();
    digests.insert(digest.algorithm().to_owned(), digest.hex().into());
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{
            "digest": digests,
            "annotations": annotations,
        }],
        "predicateType": COSIGN_SIGN_PREDICATE_TYPE,
        "predicate": {},
    });
    // A `Value` of strings and maps always serializes.
    serde_json::to_vec(&statement).unwrap_or_default()
}

/// `sha256-<hex>.sig`: where cosign stores the signatures of `image`.
pub fn signature_tag(image: &Digest) -> String {
    format!("{}.{SIGNATURE_TAG_SUFFIX}", image.tag_form())
}

/// `sha256-<hex>.att`: where cosign stores the attestations of `image`.
pub fn attestation_tag(image: &Digest) -> String {
    format!("{}.{ATTESTATION_TAG_SUFFIX}", image.tag_form())
}

/// `sha256-<hex>.sbom`: where cosign stores the SBOMs attached to `image`.
pub fn sbom_tag(image: &Digest) -> String {
    format!("{}.{SBOM_TAG_SUFFIX}", image.tag_form())
}

/// The simple signing payload cosign signs for a container image: it binds
/// the signature to the repository and the manifest digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    /// Free-form claims (`cosign sign -a k=v`); `null` when there are none, as
    /// cosign writes it.
    pub optional: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The part of the payload a verifier must check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Critical {
    pub identity: Identity,
    pub image: Image,
    #[serde(rename = "type")]
    pub kind: String,
}

/// The repository the signature is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

/// The manifest the signature is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: Digest,
}

impl SimpleSigning {
    /// The payload for `digest` in `repository`. Like cosign, the identity is
    /// the repository name without tag or digest.
    pub fn new(repository: &Repository, digest: &Digest) -> Self {
        Self {
            critical: Critical {
                identity: Identity {
                    docker_reference: repository.to_string(),
                },
                image: Image {
                    docker_manifest_digest: digest.clone(),
                },
                kind: COSIGN_SIGNATURE_TYPE.to_owned(),
            },
            optional: None,
        }
    }

    /// Add an `optional` claim.
    pub fn with_claim(mut self, key: &str, value: serde_json::Value) -> Self {
        self.optional
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value);
        self
    }

    /// The bytes to sign and to store as the layer.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain structs of strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parse a payload read from a registry.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ContentError> {
        serde_json::from_slice(bytes).map_err(|source| ContentError::InvalidJson {
            what: "signature payload".to_owned(),
            expected: "cosign simple signing payload",
            source,
        })
    }
}

/// One signature or attestation to store: the payload blob, its media type
/// and its annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    media_type: String,
    payload: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

impl SignatureLayer {
    /// A signature over `payload` (usually [`SimpleSigning::to_json`]).
    pub fn signature(payload: Vec<u8>, base64_signature: &str) -> Self {
        let mut annotations = BTreeMap::new();
        annotations.insert(SIGNATURE_ANNOTATION.to_owned(), base64_signature.to_owned());
        Self {
            media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
            payload,
            annotations,
        }
    }

    /// An attestation: the DSSE envelope is the payload (it carries its own
    /// signature, so the signature annotation is empty, as cosign writes it).
    pub fn attestation(dsse_envelope: Vec<u8>, predicate_type: &str) -> Self {
        let mut annotations = BTreeMap::new();
        annotations.insert(SIGNATURE_ANNOTATION.to_owned(), String::new());
        annotations.insert(
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.to_owned(),
        );
        Self {
            media_type: DSSE_ENVELOPE_MEDIA_TYPE.to_owned(),
            payload: dsse_envelope,
            annotations,
        }
    }

    /// The signer's PEM certificate and PEM chain. cosign writes the chain
    /// annotation whenever it writes a certificate, empty if there is none.
    pub fn with_certificate(mut self, leaf_pem: &str, chain_pem: &str) -> Self {
        self.annotations
            .insert(CERTIFICATE_ANNOTATION.to_owned(), leaf_pem.to_owned());
        self.annotations
            .insert(CHAIN_ANNOTATION.to_owned(), chain_pem.to_owned());
        self
    }

    /// cosign's legacy Rekor bundle, as JSON text (stored verbatim).
    pub fn with_rekor_bundle(mut self, bundle_json: &str) -> Self {
        self.annotations
            .insert(BUNDLE_ANNOTATION.to_owned(), bundle_json.to_owned());
        self
    }

    /// cosign's RFC 3161 timestamp annotation, as JSON text (stored verbatim).
    pub fn with_rfc3161_timestamp(mut self, timestamp_json: &str) -> Self {
        self.annotations.insert(
            RFC3161_TIMESTAMP_ANNOTATION.to_owned(),
            timestamp_json.to_owned(),
        );
        self
    }

    /// Any other annotation.
    pub fn with_annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The layer descriptor as it appears in the manifest.
    pub fn descriptor(&self) -> Descriptor {
        let mut d = Descriptor::for_content(&self.media_type, &self.payload);
        d.annotations = self.annotations.clone();
        d
    }
}

/// A signature or attestation read from a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSignature {
    /// The layer descriptor (digest, media type, annotations).
    pub descriptor: Descriptor,
    /// The payload blob, checked against the descriptor's digest.
    pub payload: Vec<u8>,
}

impl StoredSignature {
    fn annotation(&self, key: &str) -> Option<&str> {
        self.descriptor.annotations.get(key).map(String::as_str)
    }
    pub fn media_type(&self) -> &str {
        &self.descriptor.media_type
    }
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.descriptor.annotations
    }
    /// The base64 signature (empty for attestations).
    pub fn base64_signature(&self) -> Option<&str> {
        self.annotation(SIGNATURE_ANNOTATION)
    }
    pub fn certificate_pem(&self) -> Option<&str> {
        self.annotation(CERTIFICATE_ANNOTATION)
            .filter(|s| !s.is_empty())
    }
    pub fn chain_pem(&self) -> Option<&str> {
        self.annotation(CHAIN_ANNOTATION).filter(|s| !s.is_empty())
    }
    pub fn rekor_bundle(&self) -> Option<&str> {
        self.annotation(BUNDLE_ANNOTATION)
    }
    pub fn rfc3161_timestamp(&self) -> Option<&str> {
        self.annotation(RFC3161_TIMESTAMP_ANNOTATION)
    }
    pub fn predicate_type(&self) -> Option<&str> {
        self.annotation(PREDICATE_TYPE_ANNOTATION)
    }
}

/// What attaching a signature did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The signed image's manifest digest.
    pub image: Digest,
    /// Where the signature lives (`repo:sha256-<hex>.sig`).
    pub tag: Reference,
    /// The manifest digest of that tag after the write.
    pub manifest: Option<Digest>,
    /// False when an identical layer was already there.
    pub added: bool,
}

/// The config blob cosign's signature images carry: an OCI image config with
/// one `rootfs.diff_ids` entry and one empty history entry per layer (cosign
/// builds it with go-containerregistry's `mutate.Append`).
fn signature_config(layers: &[Descriptor]) -> Vec<u8> {
    const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
    let diff_ids: Vec<String> = layers.iter().map(|l| l.digest.to_string()).collect();
    let history: Vec<serde_json::Value> = layers
        .iter()
        .map(|_| serde_json::json!({ "created": ZERO_TIME }))
        .collect();
    let config = serde_json::json!({
        "architecture": "",
        "created": ZERO_TIME,
        "history": history,
        "os": "",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "config": {},
    });
    serde_json::to_vec(&config).unwrap_or_default()
}

/// Same signature: same content, same type, same annotations. A re-sign with a
/// new certificate is a new signature and is kept.
fn same_layer(a: &Descriptor, b: &Descriptor) -> bool {
    a.digest == b.digest && a.media_type == b.media_type && a.annotations == b.annotations
}

pub(crate) fn parse_image_manifest(raw: &RawManifest, what: &str) -> Result<ImageManifest, Error> {
    if raw.media_type != OCI_MANIFEST && raw.media_type != DOCKER_MANIFEST_V2 {
        return Err(ContentError::UnexpectedMediaType {
            what: what.to_owned(),
            expected: vec![OCI_MANIFEST.to_owned(), DOCKER_MANIFEST_V2.to_owned()],
            found: raw.media_type.clone(),
        }
        .into());
    }
    serde_json::from_slice(&raw.bytes).map_err(|source| {
        ContentError::InvalidJson {
            what: what.to_owned(),
            expected: "OCI image manifest",
            source,
        }
        .into()
    })
}

impl RegistryClient {
    /// Add a signature to `image`'s `.sig` tag, keeping every signature
    /// already there (identical layers are not added twice). Safe against
    /// concurrent signers; see [`RegistryClient`].
    pub async fn attach_signature(
        &self,
        image: &Reference,
        layer: SignatureLayer,
    ) -> Result<Attached, Error> {
        let digest = self.resolve_digest(image).await?;
        self.append_layer(image.repository(), &digest, &signature_tag(&digest), layer)
            .await
    }

    /// Add an attestation to `image`'s `.att` tag, like
    /// [`Self::attach_signature`].
    pub async fn attach_attestation(
        &self,
        image: &Reference,
        layer: SignatureLayer,
    ) -> Result<Attached, Error> {
        let digest = self.resolve_digest(image).await?;
        self.append_layer(
            image.repository(),
            &digest,
            &attestation_tag(&digest),
            layer,
        )
        .await
    }

    async fn append_layer(
        &self,
        repo: &Repository,
        image: &Digest,
        tag: &str,
        layer: SignatureLayer,
    ) -> Result<Attached, Error> {
        // The payload goes up once; the merge below only writes manifests.
        self.push_blob(repo, &layer.payload).await?;
        let new = layer.descriptor();
        let what = format!("{repo}:{tag}");
        let outcome = self
            .update_tag(repo, tag, |current| {
                let mut layers = match current {
                    Some(raw) => parse_image_manifest(raw, &what)?.layers,
                    None => Vec::new(),
                };
                if layers.iter().any(|l| same_layer(l, &new)) {
                    return Ok(None);
                }
                layers.push(new.clone());
                let config = signature_config(&layers);
                let manifest =
                    ImageManifest::new(Descriptor::for_content(OCI_CONFIG, &config), layers);
                let bytes =
                    serde_json::to_vec(&manifest).map_err(|source| ContentError::InvalidJson {
                        what: what.clone(),
                        expected: "serializable manifest",
                        source,
                    })?;
                Ok(Some(UpdatePlan {
                    media_type: OCI_MANIFEST.to_owned(),
                    manifest: bytes,
                    blobs: vec![config],
                }))
            })
            .await?;
        Ok(Attached {
            image: image.clone(),
            tag: repo.tag(tag)?,
            manifest: outcome.manifest_digest,
            added: outcome.changed,
        })
    }

    /// The signatures stored under `image`'s `.sig` tag (empty if none),
    /// within the client's read limits (see [`crate::ClientOptions`]).
    pub async fn signatures(&self, image: &Reference) -> Result<Vec<StoredSignature>, Error> {
        let digest = self.resolve_digest(image).await?;
        let budget = self.read_budget(image.with_digest(digest.clone()).to_string());
        self.signatures_within(image.repository(), &digest, &budget)
            .await
    }

    /// The attestations stored under `image`'s `.att` tag (empty if none),
    /// within the client's read limits (see [`crate::ClientOptions`]).
    pub async fn attestations(&self, image: &Reference) -> Result<Vec<StoredSignature>, Error> {
        let digest = self.resolve_digest(image).await?;
        let budget = self.read_budget(image.with_digest(digest.clone()).to_string());
        self.attestations_within(image.repository(), &digest, &budget)
            .await
    }

    pub(crate) async fn signatures_within(
        &self,
        repo: &Repository,
        image: &Digest,
        budget: &ReadBudget,
    ) -> Result<Vec<StoredSignature>, Error> {
        self.read_layers(repo, &signature_tag(image), budget).await
    }

    pub(crate) async fn attestations_within(
        &self,
        repo: &Repository,
        image: &Digest,
        budget: &ReadBudget,
    ) -> Result<Vec<StoredSignature>, Error> {
        self.read_layers(repo, &attestation_tag(image), budget)
            .await
    }

    /// Read every layer of the manifest under `tag`. The layer count and
    /// each declared size are checked against the limits before any blob is
    /// fetched, and every read is charged to `budget`.
    async fn read_layers(
        &self,
        repo: &Repository,
        tag: &str,
        budget: &ReadBudget,
    ) -> Result<Vec<StoredSignature>, Error> {
        let Some(raw) = self.fetch_manifest_within(repo, tag, Some(budget)).await? else {
            return Ok(Vec::new());
        };
        let what = format!("{repo}:{tag}");
        let manifest = parse_image_manifest(&raw, &what)?;
        budget.check_signatures(manifest.layers.len(), &what)?;
        let mut out = Vec::with_capacity(manifest.layers.len());
        for descriptor in manifest.layers {
            if descriptor.size > self.max_blob_bytes() {
                return Err(ContentError::TooLarge {
                    what: format!("signature layer {} in {repo}:{tag}", descriptor.digest),
                    limit: self.max_blob_bytes(),
                }
                .into());
            }
            if descriptor.size > budget.remaining() {
                return Err(budget.over_bytes(&format!(
                    "signature layer {} in {repo}:{tag} ({} bytes)",
                    descriptor.digest, descriptor.size
                )));
            }
            let payload = self
                .fetch_blob_within(
                    repo,
                    &descriptor.digest,
                    descriptor.size.min(self.max_blob_bytes()),
                    Some(budget),
                )
                .await?;
            out.push(StoredSignature {
                descriptor,
                payload,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_shape_matches_cosign() {
        let repo = Reference::parse("127.0.0.1:5000/app:v1").unwrap();
        let d = Digest::of(b"manifest");
        let json = SimpleSigning::new(repo.repository(), &d).to_json();
        let expected = format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"127.0.0.1:5000/app\"}},\"image\":{{\"docker-manifest-digest\":\"{d}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}"
        );
        assert_eq!(String::from_utf8(json.clone()).unwrap(), expected);
        let parsed = SimpleSigning::from_json(&json).unwrap();
        assert_eq!(parsed.critical.image.docker_manifest_digest, d);
        let with = SimpleSigning::new(repo.repository(), &d).with_claim("k", "v".into());
        assert!(String::from_utf8(with.to_json())
            .unwrap()
            .ends_with("\"optional\":{\"k\":\"v\"}}"));
    }

    #[test]
    fn tags_and_layers() {
        let d = Digest::of(b"x");
        assert_eq!(signature_tag(&d), format!("sha256-{}.sig", d.hex()));
        assert_eq!(attestation_tag(&d), format!("sha256-{}.att", d.hex()));
        let l = SignatureLayer::signature(b"p".to_vec(), "c2ln")
            .with_certificate("LEAF", "CHAIN")
            .with_rekor_bundle("{}")
            .descriptor();
        assert_eq!(l.media_type, SIMPLE_SIGNING_MEDIA_TYPE);
        assert_eq!(l.annotations[SIGNATURE_ANNOTATION], "c2ln");
        assert_eq!(l.annotations[CHAIN_ANNOTATION], "CHAIN");
        let a = SignatureLayer::attestation(b"{}".to_vec(), "https://slsa.dev/provenance/v1")
            .descriptor();
        assert_eq!(a.media_type, DSSE_ENVELOPE_MEDIA_TYPE);
        assert_eq!(
            a.annotations[PREDICATE_TYPE_ANNOTATION],
            "https://slsa.dev/provenance/v1"
        );
    }

    #[test]
    fn config_lists_layers() {
        let l = SignatureLayer::signature(b"p".to_vec(), "s").descriptor();
        let c: serde_json::Value =
            serde_json::from_slice(&signature_config(std::slice::from_ref(&l))).unwrap();
        assert_eq!(c["rootfs"]["diff_ids"][0], l.digest.to_string());
        assert_eq!(c["history"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn sign_v1_statement_is_about_the_image_digest() {
        let d = Digest::of(b"manifest");
        let mut claims = serde_json::Map::new();
        claims.insert("k".into(), "v".into());
        let st: serde_json::Value =
            serde_json::from_slice(&sign_v1_statement(&d, &claims)).unwrap();
        assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(st["predicateType"], COSIGN_SIGN_PREDICATE_TYPE);
        assert_eq!(st["predicate"], serde_json::json!({}));
        assert_eq!(st["subject"][0]["digest"]["sha256"], d.hex());
        assert_eq!(st["subject"][0]["annotations"]["k"], "v");
        assert!(st["subject"][0].get("name").is_none());
    }
}

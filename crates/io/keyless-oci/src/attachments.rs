//! What is attached to an image, without downloading it: the manifests of
//! the `.sig`, `.att` and `.sbom` tags and of every OCI referrer, listed
//! layer by layer (digests only). This is what `cosign tree` shows.
//!
//! Only manifests are fetched, each within the client's per-image read
//! budget, with the same caps on layers per manifest and referrers per
//! image as verification.

use crate::client::limits::ReadBudget;
use crate::cosign::{attestation_tag, parse_image_manifest, sbom_tag, signature_tag};
use crate::digest::Digest;
use crate::error::Error;
use crate::manifest::Descriptor;
use crate::reference::{Reference, Repository};
use crate::RegistryClient;

/// One `sha256-<hex>.<suffix>` tag and the layers of its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedAttachment {
    /// `repo:sha256-<hex>.<suffix>`.
    pub tag: Reference,
    pub layers: Vec<Descriptor>,
}

/// One OCI referrer of the image and the layers of its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrerAttachment {
    /// The referrer's artifact type (empty when it declares none).
    pub artifact_type: String,
    /// `repo@sha256:…` of the referrer manifest.
    pub manifest: Reference,
    pub layers: Vec<Descriptor>,
}

/// Everything attached to one image digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachments {
    /// The image's manifest digest (tags resolved once).
    pub image: Digest,
    pub signatures: Option<TaggedAttachment>,
    pub attestations: Option<TaggedAttachment>,
    pub sboms: Option<TaggedAttachment>,
    pub referrers: Vec<ReferrerAttachment>,
}

impl Attachments {
    /// Whether nothing at all is attached.
    pub fn is_empty(&self) -> bool {
        self.signatures.is_none()
            && self.attestations.is_none()
            && self.sboms.is_none()
            && self.referrers.is_empty()
    }
}

impl RegistryClient {
    /// List what is attached to `image` (see the module documentation).
    pub async fn attachments(&self, image: &Reference) -> Result<Attachments, Error> {
        let digest = self.resolve_digest(image).await?;
        let repo = image.repository();
        let budget = self.read_budget(image.with_digest(digest.clone()).to_string());
        let signatures = self.tagged(repo, &signature_tag(&digest), &budget).await?;
        let attestations = self
            .tagged(repo, &attestation_tag(&digest), &budget)
            .await?;
        let sboms = self.tagged(repo, &sbom_tag(&digest), &budget).await?;
        let listed = self.referrers_within(repo, &digest, None, &budget).await?;
        let mut referrers = Vec::with_capacity(listed.manifests.len());
        for m in listed.manifests {
            let reference = repo.digest(m.digest.clone());
            let what = reference.to_string();
            let layers = match self
                .fetch_manifest_within(repo, &m.digest.to_string(), Some(&budget))
                .await?
            {
                Some(raw) => parse_image_manifest(&raw, &what)?.layers,
                None => Vec::new(),
            };
            budget.check_signatures(layers.len(), &what)?;
            referrers.push(ReferrerAttachment {
                artifact_type: m.artifact_type.unwrap_or_default(),
                manifest: reference,
                layers,
            });
        }
        Ok(Attachments {
            image: digest,
            signatures,
            attestations,
            sboms,
            referrers,
        })
    }

    /// The layers under `tag`, or `None` when the tag does not exist or
    /// its manifest has no layers (cosign shows neither).
    async fn tagged(
        &self,
        repo: &Repository,
        tag: &str,
        budget: &ReadBudget,
    ) -> Result<Option<TaggedAttachment>, Error> {
        let Some(raw) = self.fetch_manifest_within(repo, tag, Some(budget)).await? else {
            return Ok(None);
        };
        let what = format!("{repo}:{tag}");
        let layers = parse_image_manifest(&raw, &what)?.layers;
        budget.check_signatures(layers.len(), &what)?;
        if layers.is_empty() {
            return Ok(None);
        }
        Ok(Some(TaggedAttachment {
            tag: repo.tag(tag)?,
            layers,
        }))
    }
}

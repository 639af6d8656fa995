//! OCI 1.1 referrers: Sigstore bundles stored as artifacts whose `subject` is
//! the signed image, found with `GET /v2/<name>/referrers/<digest>`.
//!
//! Registries without that API (distribution 2.8 among them) are handled with
//! the spec's fallback, the referrers tag schema: an image index under tag
//! `sha256-<hex>` listing every manifest whose subject is that digest, kept
//! up to date by the clients that push referrers.

use std::collections::BTreeMap;

use reqwest::header;
use reqwest::StatusCode;

use crate::client::limits::{read_within, ReadBudget};
use crate::client::response::expect_status;
use crate::client::tags::UpdatePlan;
use crate::client::{Access, RegistryClient};
use crate::digest::Digest;
use crate::error::{ContentError, Error, Operation};
use crate::link::next_page;
use crate::manifest::{
    Descriptor, ImageIndex, ImageManifest, RawManifest, OCI_EMPTY_CONTENT, OCI_INDEX, OCI_MANIFEST,
};
use crate::reference::{Reference, Repository};

/// Artifact type (and layer media type) of a Sigstore bundle v0.3.
pub const SIGSTORE_BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Referrer manifest annotation saying what the bundle holds; cosign v3
/// writes `dsse-envelope` for its image signatures and attestations.
pub const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
/// Referrer manifest annotation with the bundle statement's predicate type:
/// cosign v3 selects image signatures among referrers by it.
pub const BUNDLE_PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

/// Most pages of a paginated referrers listing read before giving up.
const MAX_REFERRERS_PAGES: u32 = 64;
/// Most bytes read for one referrers listing, all pages together.
const MAX_REFERRERS_BYTES: u64 = 16 * 1024 * 1024;

/// Where a referrers listing came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferrersSource {
    /// The registry's referrers API.
    Api,
    /// The fallback `sha256-<hex>` tag index.
    TagSchema,
}

/// Manifests that refer to a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrers {
    pub source: ReferrersSource,
    pub manifests: Vec<Descriptor>,
}

/// A Sigstore bundle read from a referrer artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBundle {
    /// The artifact manifest that holds the bundle.
    pub manifest: Descriptor,
    /// The bundle JSON, checked against its layer digest.
    pub bundle: Vec<u8>,
}

/// What pushing a referrer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedReferrer {
    /// The artifact manifest's descriptor (as listed among referrers).
    pub descriptor: Descriptor,
    /// The signed image.
    pub subject: Descriptor,
    /// Whether the fallback tag index was updated (registry lacks the API).
    pub used_tag_schema: bool,
}

impl RegistryClient {
    /// Push `content` as an OCI 1.1 artifact referring to `image`: empty
    /// config, one layer, `artifactType`, `subject`. Updates the fallback tag
    /// index unless the registry confirms it indexed the subject itself.
    pub async fn attach_artifact(
        &self,
        image: &Reference,
        artifact_type: &str,
        content: &[u8],
        annotations: BTreeMap<String, String>,
    ) -> Result<PushedReferrer, Error> {
        let repo = image.repository();
        let subject = self.resolve(image).await?;
        let subject = Descriptor {
            media_type: subject.media_type,
            digest: subject.digest,
            size: subject.size,
            artifact_type: None,
            annotations: BTreeMap::new(),
            extra: BTreeMap::new(),
        };
        self.push_blob(repo, OCI_EMPTY_CONTENT).await?;
        self.push_blob(repo, content).await?;
        let mut manifest = ImageManifest::new(
            Descriptor::empty(),
            vec![Descriptor::for_content(artifact_type, content)],
        );
        manifest.artifact_type = Some(artifact_type.to_owned());
        manifest.subject = Some(subject.clone());
        manifest.annotations = annotations.clone();
        let bytes = serde_json::to_vec(&manifest).map_err(|source| ContentError::InvalidJson {
            what: format!("referrer of {image}"),
            expected: "serializable manifest",
            source,
        })?;
        let mut descriptor = Descriptor::for_content(OCI_MANIFEST, &bytes);
        descriptor.artifact_type = Some(artifact_type.to_owned());
        descriptor.annotations = annotations;
        let digest_ref = descriptor.digest.to_string();
        let pushed = self
            .put_manifest(repo, &digest_ref, OCI_MANIFEST, bytes, None)
            .await?;
        let used_tag_schema = pushed.oci_subject.as_ref() != Some(&subject.digest);
        if used_tag_schema {
            self.add_to_tag_index(repo, &subject.digest, &descriptor)
                .await?;
        }
        Ok(PushedReferrer {
            descriptor,
            subject,
            used_tag_schema,
        })
    }

    /// Push a Sigstore bundle (v0.3 JSON) as a referrer of `image`.
    pub async fn attach_bundle(
        &self,
        image: &Reference,
        bundle_json: &[u8],
    ) -> Result<PushedReferrer, Error> {
        self.attach_artifact(
            image,
            SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
            bundle_json,
            BTreeMap::new(),
        )
        .await
    }

    /// Push a Sigstore bundle holding a DSSE statement of `predicate_type`
    /// as a referrer of `image`, with the manifest annotations cosign v3
    /// writes (`dev.sigstore.bundle.content: dsse-envelope` and
    /// `dev.sigstore.bundle.predicateType`), so that cosign finds it.
    pub async fn attach_dsse_bundle(
        &self,
        image: &Reference,
        bundle_json: &[u8],
        predicate_type: &str,
    ) -> Result<PushedReferrer, Error> {
        let annotations = BTreeMap::from([
            (
                BUNDLE_CONTENT_ANNOTATION.to_owned(),
                "dsse-envelope".to_owned(),
            ),
            (
                BUNDLE_PREDICATE_TYPE_ANNOTATION.to_owned(),
                predicate_type.to_owned(),
            ),
        ]);
        self.attach_artifact(
            image,
            SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
            bundle_json,
            annotations,
        )
        .await
    }

    async fn add_to_tag_index(
        &self,
        repo: &Repository,
        subject: &Digest,
        entry: &Descriptor,
    ) -> Result<(), Error> {
        let tag = subject.tag_form();
        let what = format!("referrers tag index {repo}:{tag}");
        self.update_tag(repo, &tag, |current| {
            let mut index = match current {
                Some(raw) => parse_index(raw, &what)?,
                None => ImageIndex::new(),
            };
            if index.manifests.iter().any(|d| d.digest == entry.digest) {
                return Ok(None);
            }
            index.manifests.push(entry.clone());
            let bytes = serde_json::to_vec(&index).map_err(|source| ContentError::InvalidJson {
                what: what.clone(),
                expected: "serializable index",
                source,
            })?;
            Ok(Some(UpdatePlan {
                media_type: OCI_INDEX.to_owned(),
                manifest: bytes,
                blobs: Vec::new(),
            }))
        })
        .await?;
        Ok(())
    }

    /// Manifests referring to `subject` in `repo`, optionally only those of
    /// `artifact_type`: from the referrers API (following its `Link`
    /// pagination), or from the fallback tag when the registry does not have
    /// the API (it answers 404 there). The type filter is applied here too,
    /// since registries may ignore it.
    ///
    /// Within the client's read limits (see [`crate::ClientOptions`]): a
    /// listing of more than `max_referrers` manifests (before the type
    /// filter) is refused, as is one that does not fit in `max_fetch_bytes`.
    pub async fn referrers(
        &self,
        repo: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, Error> {
        let budget = self.read_budget(format!("{repo}@{subject}"));
        self.referrers_within(repo, subject, artifact_type, &budget)
            .await
    }

    pub(crate) async fn referrers_within(
        &self,
        repo: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
        read_budget: &ReadBudget,
    ) -> Result<Referrers, Error> {
        let mut url = self.url(repo, &format!("referrers/{subject}")).await?;
        if let Some(t) = artifact_type {
            let mut u = url::Url::parse(&url).map_err(|e| ContentError::Malformed {
                what: url.clone(),
                reason: e.to_string(),
            })?;
            u.query_pairs_mut().append_pair("artifactType", t);
            url = u.to_string();
        }
        let filter = |manifests: Vec<Descriptor>| -> Vec<Descriptor> {
            manifests
                .into_iter()
                .filter(|d| artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t)))
                .collect()
        };
        let what = || format!("referrers of {repo}@{subject}");
        let mut manifests = Vec::new();
        let mut listing_left = MAX_REFERRERS_BYTES;
        let mut pages = 0u32;
        let mut next = Some(url);
        // The listing may be paginated (`Link: <…>; rel="next"`); every page
        // is read, or referrers past the first page would silently go
        // missing. Pages and total bytes are bounded against endless chains.
        while let Some(page) = next.take() {
            let response = self
                .send(Operation::Referrers, repo, Access::Pull, &page, |c| {
                    c.get(&page).header(header::ACCEPT, OCI_INDEX)
                })
                .await?;
            let unsupported = matches!(
                response.status(),
                StatusCode::NOT_FOUND
                    | StatusCode::METHOD_NOT_ALLOWED
                    | StatusCode::NOT_IMPLEMENTED
            );
            if pages == 0 && unsupported {
                tracing::debug!(%repo, "no referrers API; reading the fallback tag");
                return Ok(Referrers {
                    source: ReferrersSource::TagSchema,
                    manifests: filter(
                        self.tag_schema_referrers(repo, subject, read_budget)
                            .await?,
                    ),
                });
            }
            pages += 1;
            let response =
                expect_status(response, Operation::Referrers, &page, &[StatusCode::OK]).await?;
            let current = url::Url::parse(&page).map_err(|e| ContentError::Malformed {
                what: page.clone(),
                reason: e.to_string(),
            })?;
            next = next_page(response.headers(), &current)?.map(String::from);
            if next.is_some() && pages >= MAX_REFERRERS_PAGES {
                return Err(ContentError::Malformed {
                    what: what(),
                    reason: format!("more than {MAX_REFERRERS_PAGES} pages"),
                }
                .into());
            }
            let body = read_within(
                response,
                Operation::Referrers,
                &page,
                listing_left,
                Some(read_budget),
            )
            .await?;
            listing_left -= body.len() as u64;
            let index: ImageIndex =
                serde_json::from_slice(&body).map_err(|source| ContentError::InvalidJson {
                    what: what(),
                    expected: "OCI image index",
                    source,
                })?;
            manifests.extend(index.manifests);
            // Checked per page, so a long listing stops at the first page
            // over the limit instead of being followed to its end.
            read_budget.check_referrers(manifests.len(), &what())?;
        }
        Ok(Referrers {
            source: ReferrersSource::Api,
            manifests: filter(manifests),
        })
    }

    /// The referrers listed in the fallback `sha256-<hex>` tag index (none if
    /// the tag does not exist).
    async fn tag_schema_referrers(
        &self,
        repo: &Repository,
        subject: &Digest,
        budget: &ReadBudget,
    ) -> Result<Vec<Descriptor>, Error> {
        let tag = subject.tag_form();
        let what = format!("referrers tag index {repo}:{tag}");
        let manifests = match self.fetch_manifest_within(repo, &tag, Some(budget)).await? {
            Some(raw) => parse_index(&raw, &what)?.manifests,
            None => Vec::new(),
        };
        budget.check_referrers(manifests.len(), &what)?;
        Ok(manifests)
    }

    /// The Sigstore bundles attached to `image` as referrers, within the
    /// client's read limits (see [`crate::ClientOptions`]).
    pub async fn bundles(&self, image: &Reference) -> Result<Vec<StoredBundle>, Error> {
        let digest = self.resolve_digest(image).await?;
        let budget = self.read_budget(image.with_digest(digest.clone()).to_string());
        self.bundles_within(image.repository(), &digest, &budget)
            .await
    }

    pub(crate) async fn bundles_within(
        &self,
        repo: &Repository,
        digest: &Digest,
        budget: &ReadBudget,
    ) -> Result<Vec<StoredBundle>, Error> {
        let listed = self
            .referrers_within(repo, digest, Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE), budget)
            .await?;
        let mut out = Vec::new();
        for manifest in listed.manifests {
            let what = format!("bundle artifact {repo}@{}", manifest.digest);
            let Some(raw) = self
                .fetch_manifest_within(repo, &manifest.digest.to_string(), Some(budget))
                .await?
            else {
                return Err(Error::NotFound {
                    operation: Operation::GetManifest,
                    url: what,
                });
            };
            let parsed: ImageManifest =
                serde_json::from_slice(&raw.bytes).map_err(|source| ContentError::InvalidJson {
                    what: what.clone(),
                    expected: "OCI image manifest",
                    source,
                })?;
            let Some(layer) = parsed.layers.first() else {
                return Err(ContentError::Malformed {
                    what,
                    reason: "the artifact has no layer".to_owned(),
                }
                .into());
            };
            if layer.size > budget.remaining() {
                return Err(budget.over_bytes(&format!(
                    "bundle layer {} of {what} ({} bytes)",
                    layer.digest, layer.size
                )));
            }
            let bundle = self
                .fetch_blob_within(
                    repo,
                    &layer.digest,
                    layer.size.min(self.max_blob_bytes()),
                    Some(budget),
                )
                .await?;
            out.push(StoredBundle { manifest, bundle });
        }
        Ok(out)
    }
}

fn parse_index(raw: &RawManifest, what: &str) -> Result<ImageIndex, Error> {
    if raw.media_type != OCI_INDEX {
        return Err(ContentError::UnexpectedMediaType {
            what: what.to_owned(),
            expected: vec![OCI_INDEX.to_owned()],
            found: raw.media_type.clone(),
        }
        .into());
    }
    serde_json::from_slice(&raw.bytes).map_err(|source| {
        ContentError::InvalidJson {
            what: what.to_owned(),
            expected: "OCI image index",
            source,
        }
        .into()
    })
}

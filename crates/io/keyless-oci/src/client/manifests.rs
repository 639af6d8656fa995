//! Manifests: HEAD, GET and PUT by tag or digest, and resolving a reference.
//! Every manifest read is size-capped and its digest computed from the bytes
//! and checked against any pinned or claimed digest.

use reqwest::header;
use reqwest::StatusCode;

use super::limits::{read_within, ReadBudget};
use super::response::{expect_status, header_str};
use super::{Access, PushedManifest, RegistryClient};
use crate::digest::Digest;
use crate::error::{ContentError, Error, Operation};
use crate::manifest::{Descriptor, RawManifest, MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST};
use crate::reference::{Reference, Repository};

impl RegistryClient {
    /// HEAD a manifest: its descriptor, or `None` if it does not exist. Falls
    /// back to GET when the registry omits `Docker-Content-Digest`.
    pub async fn head_manifest(
        &self,
        repo: &Repository,
        reference: &str,
    ) -> Result<Option<Descriptor>, Error> {
        let url = self.url(repo, &format!("manifests/{reference}")).await?;
        let response = self
            .send(Operation::HeadManifest, repo, Access::Pull, &url, |c| {
                c.head(&url)
                    .header(header::ACCEPT, MANIFEST_ACCEPT.join(", "))
            })
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if response.status() == StatusCode::OK {
            let h = response.headers();
            let digest = header_str(h, "docker-content-digest").map(Digest::parse);
            let media_type = header_str(h, header::CONTENT_TYPE.as_str());
            let size = header_str(h, header::CONTENT_LENGTH.as_str()).and_then(|s| s.parse().ok());
            if let (Some(Ok(digest)), Some(media_type), Some(size)) = (digest, media_type, size) {
                return Ok(Some(Descriptor {
                    media_type: media_type.to_owned(),
                    digest,
                    size,
                    artifact_type: None,
                    annotations: Default::default(),
                    extra: Default::default(),
                }));
            }
        }
        Ok(self
            .fetch_manifest(repo, reference)
            .await?
            .map(|m| m.descriptor()))
    }

    /// Resolve a reference (tag or digest) to its manifest descriptor.
    pub async fn resolve(&self, reference: &Reference) -> Result<Descriptor, Error> {
        let target = reference.manifest_reference();
        match self.head_manifest(reference.repository(), &target).await? {
            Some(d) => {
                if let Some(pinned) = reference.digest() {
                    if &d.digest != pinned {
                        return Err(ContentError::DigestMismatch {
                            what: format!("manifest {reference}"),
                            expected: pinned.clone(),
                            actual: d.digest,
                        }
                        .into());
                    }
                }
                Ok(d)
            }
            None => Err(Error::NotFound {
                operation: Operation::HeadManifest,
                url: reference.to_string(),
            }),
        }
    }

    /// The manifest digest a reference names: the pinned digest without a
    /// round trip, else the tag resolved by the registry.
    pub async fn resolve_digest(&self, reference: &Reference) -> Result<Digest, Error> {
        match reference.digest() {
            Some(d) => Ok(d.clone()),
            None => Ok(self.resolve(reference).await?.digest),
        }
    }

    /// GET a manifest (tag or digest). `None` if it does not exist. The digest
    /// is computed from the bytes; a pinned digest, and any
    /// `Docker-Content-Digest` the registry sends, must match it.
    pub async fn fetch_manifest(
        &self,
        repo: &Repository,
        reference: &str,
    ) -> Result<Option<RawManifest>, Error> {
        self.fetch_manifest_within(repo, reference, None).await
    }

    /// [`Self::fetch_manifest`], charging the bytes read to `budget` (and
    /// reading no more than it has left).
    pub(crate) async fn fetch_manifest_within(
        &self,
        repo: &Repository,
        reference: &str,
        budget: Option<&ReadBudget>,
    ) -> Result<Option<RawManifest>, Error> {
        let url = self.url(repo, &format!("manifests/{reference}")).await?;
        let response = self
            .send(Operation::GetManifest, repo, Access::Pull, &url, |c| {
                c.get(&url)
                    .header(header::ACCEPT, MANIFEST_ACCEPT.join(", "))
            })
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response =
            expect_status(response, Operation::GetManifest, &url, &[StatusCode::OK]).await?;
        let claimed = header_str(response.headers(), "docker-content-digest").map(str::to_owned);
        let content_type = header_str(response.headers(), header::CONTENT_TYPE.as_str())
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_owned());
        let bytes = read_within(
            response,
            Operation::GetManifest,
            &url,
            self.max_manifest_bytes,
            budget,
        )
        .await?;
        let actual = Digest::of(&bytes);
        let what = || format!("manifest {repo}@{reference}");
        if let Ok(pinned) = Digest::parse(reference) {
            if pinned != actual {
                return Err(ContentError::DigestMismatch {
                    what: what(),
                    expected: pinned,
                    actual,
                }
                .into());
            }
        }
        if let Some(claimed) = claimed {
            let claimed =
                Digest::parse(&claimed).map_err(|source| ContentError::InvalidDigest {
                    what: format!("Docker-Content-Digest of {}", what()),
                    source,
                })?;
            if claimed != actual {
                return Err(ContentError::DigestMismatch {
                    what: what(),
                    expected: claimed,
                    actual,
                }
                .into());
            }
        }
        let media_type = match content_type {
            Some(ct) if MANIFEST_ACCEPT.contains(&ct.as_str()) => ct,
            // Some registries answer application/json; the document says.
            _ => media_type_field(&bytes).unwrap_or_else(|| OCI_MANIFEST.to_owned()),
        };
        Ok(Some(RawManifest {
            media_type,
            digest: actual,
            bytes,
        }))
    }

    /// PUT a manifest under `reference` (tag or digest). With `if_match`, the
    /// write is conditional on the tag still pointing at that digest where
    /// the registry supports conditional requests (HTTP 412 otherwise).
    pub async fn put_manifest(
        &self,
        repo: &Repository,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
        if_match: Option<&Digest>,
    ) -> Result<PushedManifest, Error> {
        let url = self.url(repo, &format!("manifests/{reference}")).await?;
        let digest = Digest::of(&bytes);
        let if_match = if_match.map(|d| format!("\"{d}\""));
        let response = self
            .send(Operation::PutManifest, repo, Access::Push, &url, |c| {
                let mut r = c
                    .put(&url)
                    .header(header::CONTENT_TYPE, media_type)
                    .body(bytes.clone());
                if let Some(etag) = &if_match {
                    r = r.header(header::IF_MATCH, etag);
                }
                r
            })
            .await?;
        let response = expect_status(
            response,
            Operation::PutManifest,
            &url,
            &[StatusCode::CREATED, StatusCode::OK, StatusCode::ACCEPTED],
        )
        .await?;
        if let Some(claimed) = header_str(response.headers(), "docker-content-digest") {
            if let Ok(claimed) = Digest::parse(claimed) {
                if claimed != digest {
                    return Err(ContentError::DigestMismatch {
                        what: format!("manifest pushed to {repo}:{reference}"),
                        expected: digest,
                        actual: claimed,
                    }
                    .into());
                }
            }
        }
        let oci_subject =
            header_str(response.headers(), "oci-subject").and_then(|s| Digest::parse(s).ok());
        Ok(PushedManifest {
            digest,
            oci_subject,
        })
    }
}

fn media_type_field(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    probe
        .media_type
        .or_else(|| probe.manifests.map(|_| OCI_INDEX.to_owned()))
}

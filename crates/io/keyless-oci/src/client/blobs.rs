//! Blobs: existence checks, monolithic uploads (skipped when the registry
//! has the blob already) and downloads, size-capped and checked against the
//! digest they were asked for.

use reqwest::header;
use reqwest::StatusCode;
use url::Url;

use super::limits::{read_within, ReadBudget};
use super::response::{expect_status, header_str, status_error};
use super::{Access, RegistryClient};
use crate::digest::Digest;
use crate::error::{ContentError, Error, Operation};
use crate::reference::Repository;

impl RegistryClient {
    /// Does the repository hold this blob?
    pub async fn blob_exists(&self, repo: &Repository, digest: &Digest) -> Result<bool, Error> {
        let url = self.url(repo, &format!("blobs/{digest}")).await?;
        let response = self
            .send(Operation::HeadBlob, repo, Access::Pull, &url, |c| {
                c.head(&url)
            })
            .await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(status_error(response, Operation::HeadBlob, &url).await),
        }
    }

    /// Upload a blob (monolithic: POST for an upload session, then PUT with
    /// the digest). Skipped when the registry already has it. Returns its
    /// digest.
    pub async fn push_blob(&self, repo: &Repository, content: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::of(content);
        if self.blob_exists(repo, &digest).await? {
            return Ok(digest);
        }
        let start = self.url(repo, "blobs/uploads/").await?;
        let response = self
            .send(Operation::StartUpload, repo, Access::Push, &start, |c| {
                c.post(&start).header(header::CONTENT_LENGTH, "0")
            })
            .await?;
        let response = expect_status(
            response,
            Operation::StartUpload,
            &start,
            &[StatusCode::ACCEPTED],
        )
        .await?;
        let location =
            header_str(response.headers(), header::LOCATION.as_str()).ok_or_else(|| {
                ContentError::MissingHeader {
                    what: format!("{} {start}", Operation::StartUpload),
                    header: "Location",
                }
            })?;
        let base = Url::parse(&start).map_err(|e| ContentError::Malformed {
            what: start.clone(),
            reason: e.to_string(),
        })?;
        let mut upload = base.join(location).map_err(|e| ContentError::Malformed {
            what: format!("upload Location {location:?} from {start}"),
            reason: e.to_string(),
        })?;
        upload
            .query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let upload = upload.to_string();
        let body = content.to_vec();
        let response = self
            .send(Operation::FinishUpload, repo, Access::Push, &upload, |c| {
                c.put(&upload)
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .body(body.clone())
            })
            .await?;
        expect_status(
            response,
            Operation::FinishUpload,
            &upload,
            &[StatusCode::CREATED, StatusCode::NO_CONTENT, StatusCode::OK],
        )
        .await?;
        Ok(digest)
    }

    /// Download a blob, refusing more than `limit` bytes and content that does
    /// not hash to `digest`.
    pub async fn fetch_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>, Error> {
        self.fetch_blob_within(repo, digest, limit, None).await
    }

    /// [`Self::fetch_blob`], charging the bytes read to `budget` (and reading
    /// no more than it has left).
    pub(crate) async fn fetch_blob_within(
        &self,
        repo: &Repository,
        digest: &Digest,
        limit: u64,
        budget: Option<&ReadBudget>,
    ) -> Result<Vec<u8>, Error> {
        let url = self.url(repo, &format!("blobs/{digest}")).await?;
        let response = self
            .send(Operation::GetBlob, repo, Access::Pull, &url, |c| {
                c.get(&url)
            })
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound {
                operation: Operation::GetBlob,
                url,
            });
        }
        let response = expect_status(response, Operation::GetBlob, &url, &[StatusCode::OK]).await?;
        let bytes = read_within(response, Operation::GetBlob, &url, limit, budget).await?;
        let actual = Digest::of(&bytes);
        if &actual != digest {
            return Err(ContentError::DigestMismatch {
                what: format!("blob {repo}@{digest}"),
                expected: digest.clone(),
                actual,
            }
            .into());
        }
        Ok(bytes)
    }

    /// [`Self::fetch_blob`] with the client's default size limit.
    pub async fn fetch_blob_default(
        &self,
        repo: &Repository,
        digest: &Digest,
    ) -> Result<Vec<u8>, Error> {
        self.fetch_blob(repo, digest, self.max_blob_bytes).await
    }
}

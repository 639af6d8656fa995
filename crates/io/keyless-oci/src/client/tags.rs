//! Updating a tag by read-modify-write, so appending a signature or a
//! referrer never drops what a concurrent writer stored (see
//! [`RegistryClient`]'s notes on concurrency).

use std::time::Duration;

use super::RegistryClient;
use crate::digest::Digest;
use crate::error::Error;
use crate::manifest::RawManifest;
use crate::reference::Repository;

impl RegistryClient {
    /// Update the manifest under `tag` by merging into what is there.
    ///
    /// `merge` gets the current manifest (or `None`) and returns the new one,
    /// or `None` when the current one already contains everything (then this
    /// returns without writing). Blobs listed in the plan are uploaded before
    /// the write. After writing, the tag is read back after `update_settle`
    /// and `merge` is asked again; a non-`None` answer means a concurrent
    /// writer replaced our manifest, and the round is redone, at most
    /// `max_update_attempts` times.
    pub(crate) async fn update_tag(
        &self,
        repo: &Repository,
        tag: &str,
        merge: impl Fn(Option<&RawManifest>) -> Result<Option<UpdatePlan>, Error>,
    ) -> Result<UpdateOutcome, Error> {
        let mut wrote = false;
        // One more read than writes: the last write is verified too.
        for attempt in 1..=self.max_update_attempts + 1 {
            let current = self.fetch_manifest(repo, tag).await?;
            let Some(plan) = merge(current.as_ref())? else {
                let digest = current.map(|c| c.digest);
                return Ok(UpdateOutcome {
                    manifest_digest: digest,
                    changed: wrote,
                    attempts: attempt,
                });
            };
            if attempt > self.max_update_attempts {
                break;
            }
            if wrote {
                tracing::debug!(%repo, tag, attempt, "tag changed concurrently; merging again");
            }
            for blob in &plan.blobs {
                self.push_blob(repo, blob).await?;
            }
            // Narrow the race for registries that ignore If-Match: give up
            // this round if the tag moved while we uploaded.
            let now = self.head_manifest(repo, tag).await?.map(|d| d.digest);
            if now != current.as_ref().map(|c| c.digest.clone()) {
                backoff(attempt).await;
                continue;
            }
            let if_match = current.as_ref().map(|c| &c.digest);
            let started = std::time::Instant::now();
            match self
                .put_manifest(repo, tag, &plan.media_type, plan.manifest, if_match)
                .await
            {
                Ok(_) => wrote = true,
                Err(Error::Status { status: 412, .. }) => {
                    backoff(attempt).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
            let settle = (started.elapsed() * 4).clamp(self.update_settle, Duration::from_secs(3));
            tokio::time::sleep(settle).await;
        }
        Err(Error::Conflict {
            repository: repo.to_string(),
            tag: tag.to_owned(),
            attempts: self.max_update_attempts,
        })
    }
}

/// A manifest to write in [`RegistryClient::update_tag`].
pub(crate) struct UpdatePlan {
    pub media_type: String,
    pub manifest: Vec<u8>,
    /// Blobs the manifest needs (config, layers); uploaded if missing.
    pub blobs: Vec<Vec<u8>>,
}

/// How a tag update ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpdateOutcome {
    pub manifest_digest: Option<Digest>,
    pub changed: bool,
    pub attempts: u32,
}

/// Random sleep growing with the attempt number, so concurrent writers spread
/// out instead of colliding again in lockstep.
async fn backoff(attempt: u32) {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let ceiling = 20 * u64::from(attempt.min(10)) + 20;
    let ms = 5 + h.finish() % ceiling;
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

//! Registry storage for keyless signatures, compatible with cosign.
//!
//! - [`reference`]: parse `host[:port]/repo[:tag][@sha256:…]` with Docker Hub
//!   defaults as cosign (go-containerregistry) applies them.
//! - [`client`]: the distribution API v2 client (manifests, blobs, anonymous /
//!   Basic / Bearer auth, HTTPS unless insecure registries are allowed).
//! - [`credentials`]: registry credentials from Docker's `config.json` and
//!   the `docker-credential-<name>` helpers it names.
//! - [`cosign`]: the `sha256-<hex>.sig` / `.att` tag layout with simple
//!   signing payloads and cosign's layer annotations; appends never drop
//!   earlier signatures, even with concurrent signers.
//! - [`referrers`]: Sigstore bundles as OCI 1.1 referrers, with the referrers
//!   tag schema fallback for registries without the API.
//! - [`classic_write`]: the Rekor v1 SET and RFC 3161 timestamp annotations
//!   `keyless sign` writes so that `cosign verify` checks offline.
//! - [`cosign_classic`]: cosign's classic `.sig`/`.att` layers rebuilt as
//!   Sigstore bundles, so they verify with the bundle verifier's checks.
//! - [`attachments`]: what is attached to an image (`keyless tree`).
//!
//! Everything read from a registry is size-capped and digest-checked before
//! use; a registry is storage, never a source of trust. Reading what is
//! stored for one image is also bounded as a whole: signature layers per
//! manifest, referrers per image and bytes fetched per verification (see
//! [`ClientOptions::max_signatures`], [`ClientOptions::max_referrers`],
//! [`ClientOptions::max_fetch_bytes`]).

pub mod attachments;
pub mod auth;
pub mod classic_write;
pub mod client;
pub mod cosign;
pub mod cosign_classic;
pub mod credentials;
pub mod digest;
pub mod error;
mod link;
pub mod manifest;
pub mod reference;
pub mod referrers;

pub use auth::{AuthError, Credentials, DockerConfig};
pub use client::{ClientOptions, CredentialSource, PushedManifest, RegistryClient};
pub use cosign::{Attached, SignatureLayer, SimpleSigning, StoredSignature};
pub use credentials::{Credential, Found};
pub use digest::{Digest, DigestError};
pub use error::{ContentError, Error, Operation, ReadLimit};
pub use manifest::{Descriptor, ImageIndex, ImageManifest, RawManifest};
pub use reference::{Reference, ReferenceError, ReferenceErrorKind, Repository};
pub use referrers::{PushedReferrer, Referrers, ReferrersSource, StoredBundle};

/// Everything stored for one image: cosign-layout signatures and
/// attestations, and Sigstore bundles attached as referrers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSignatures {
    /// The manifest digest everything below is about.
    pub image: Digest,
    pub signatures: Vec<StoredSignature>,
    pub attestations: Vec<StoredSignature>,
    pub bundles: Vec<StoredBundle>,
}

impl RegistryClient {
    /// Read everything stored for `image` (resolving its tag once, so all
    /// three lists are about the same digest).
    ///
    /// This is one verification's read: the client's limits (see
    /// [`ClientOptions`]) apply to it as a whole, so `max_fetch_bytes` bounds
    /// the signatures, attestations and bundles together, and going over any
    /// limit is [`Error::LimitExceeded`], never a partial list.
    pub async fn list_signatures(&self, image: &Reference) -> Result<ImageSignatures, Error> {
        let digest = self.resolve_digest(image).await?;
        let repo = image.repository();
        let budget = self.read_budget(image.with_digest(digest.clone()).to_string());
        Ok(ImageSignatures {
            signatures: self.signatures_within(repo, &digest, &budget).await?,
            attestations: self.attestations_within(repo, &digest, &budget).await?,
            bundles: self.bundles_within(repo, &digest, &budget).await?,
            image: digest,
        })
    }
}

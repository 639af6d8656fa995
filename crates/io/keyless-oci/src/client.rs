//! The registry HTTP client: distribution API v2 calls, authentication
//! retries, size caps and digest checks on everything read.
//!
//! This module holds the client itself and its settings; the calls are split
//! by what they touch, each child adding its own `impl RegistryClient` block:
//!
//! - `transport`: the scheme choice, request URLs and [`RegistryClient`]'s
//!   one way of sending a request (read retries, then auth on a 401).
//! - `auth`: answering a 401 challenge (Basic, or a Bearer token), cached
//!   per registry and scope.
//! - `response`: status checks and size-capped body reads shared by all.
//! - `limits`: the read budget of one verification.
//! - `manifests`, `blobs`: the distribution API's two kinds of content.
//! - `tags`: the read-modify-write protocol for updating a tag.
//!
//! Siblings depend one way only, so none imports another in a loop: `tags`
//! uses `manifests` and `blobs`; those use `transport`, `limits` and
//! `response`; `transport` uses `auth`; `auth` and `limits` use `response`.
//! What several of them share (`Access`, the cache `State` and its
//! `Scheme`, the `PushedManifest` that `manifests` returns) lives here, and
//! this module imports none of its children (the rest of the crate imports
//! `limits`, `response` and `tags` items from those modules), so no child's
//! `use super::RegistryClient` closes a loop.

mod auth;
mod blobs;
pub(crate) mod limits;
mod manifests;
pub(crate) mod response;
pub(crate) mod tags;
mod transport;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::auth::{Credentials, DockerConfig};
use crate::credentials::Found;
use crate::digest::Digest;
use crate::error::Error;

/// What a manifest PUT returned (by [`RegistryClient::put_manifest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedManifest {
    /// The digest of the bytes pushed (checked against the registry's answer).
    pub digest: Digest,
    /// `OCI-Subject`: the registry indexed the manifest's subject itself, so
    /// the referrers tag schema need not be updated.
    pub oci_subject: Option<Digest>,
}

/// Where the client gets registry credentials. `Debug` never prints a secret.
#[derive(Default)]
#[non_exhaustive]
pub enum CredentialSource {
    /// No credentials: pull-only public registries, or open test registries.
    #[default]
    Anonymous,
    /// The same username and password for every registry (a `--registry-username`
    /// style flag).
    Static(Credentials),
    /// The same registry token for every registry, sent as `Authorization:
    /// Bearer` with no token exchange (cosign's `--registry-token`).
    Token(String),
    /// Per-registry credentials from Docker's `config.json`, like cosign.
    DockerConfig(DockerConfig),
}

impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::Static(c) => f.debug_tuple("Static").field(c).finish(),
            Self::Token(_) => f.write_str("Token(<redacted>)"),
            Self::DockerConfig(c) => f.debug_tuple("DockerConfig").field(c).finish(),
        }
    }
}

/// Default [`ClientOptions::max_signatures`]: cosign reads at most 1000
/// layers of a signature manifest too.
pub const DEFAULT_MAX_SIGNATURES: u64 = 1000;
/// Default [`ClientOptions::max_referrers`].
pub const DEFAULT_MAX_REFERRERS: u64 = 1000;
/// Default [`ClientOptions::max_fetch_bytes`]: 256 MiB, room for SBOM
/// attestations of tens of MiB while bounding what one verification buffers.
pub const DEFAULT_MAX_FETCH_BYTES: u64 = 256 * 1024 * 1024;

/// Client settings. Defaults are the safe ones: HTTPS only, verified TLS.
#[derive(Debug)]
pub struct ClientOptions {
    credentials: CredentialSource,
    allow_insecure: bool,
    max_manifest_bytes: u64,
    max_blob_bytes: u64,
    max_signatures: u64,
    max_referrers: u64,
    max_fetch_bytes: u64,
    timeout: Duration,
    max_update_attempts: u32,
    update_settle: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            credentials: CredentialSource::Anonymous,
            allow_insecure: false,
            // Registries refuse manifests over 4 MiB; we read no more.
            max_manifest_bytes: 4 * 1024 * 1024,
            // Signature payloads, bundles and attestations are small; this
            // bounds what a hostile registry can make us buffer.
            max_blob_bytes: 64 * 1024 * 1024,
            max_signatures: DEFAULT_MAX_SIGNATURES,
            max_referrers: DEFAULT_MAX_REFERRERS,
            max_fetch_bytes: DEFAULT_MAX_FETCH_BYTES,
            timeout: Duration::from_secs(60),
            max_update_attempts: 16,
            update_settle: Duration::from_millis(50),
        }
    }
}

impl ClientOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where credentials come from (default: anonymous).
    pub fn credentials(mut self, source: CredentialSource) -> Self {
        self.credentials = source;
        self
    }

    /// cosign's `--allow-insecure-registry`: fall back to plain HTTP when a
    /// registry does not speak HTTPS, and accept TLS certificates that do
    /// not verify. Needed for loopback test registries; never for real ones.
    /// It is deliberately not implied by a loopback address.
    pub fn danger_allow_insecure_registry(mut self, allow: bool) -> Self {
        self.allow_insecure = allow;
        self
    }

    /// Largest manifest read (default 4 MiB).
    pub fn max_manifest_bytes(mut self, limit: u64) -> Self {
        self.max_manifest_bytes = limit;
        self
    }

    /// Largest blob read by [`RegistryClient::fetch_blob_default`] and the
    /// signature readers (default 64 MiB).
    pub fn max_blob_bytes(mut self, limit: u64) -> Self {
        self.max_blob_bytes = limit;
        self
    }

    /// Most signature layers read from one `.sig` / `.att` manifest (default
    /// [`DEFAULT_MAX_SIGNATURES`]). A manifest listing more is refused with
    /// [`Error::LimitExceeded`] before any of its blobs is fetched: each
    /// layer costs a request, and the registry decides how many there are.
    pub fn max_signatures(mut self, limit: u64) -> Self {
        self.max_signatures = limit;
        self
    }

    /// Most referrers listed for one image, all pages of the referrers API
    /// (or the fallback tag index) together (default
    /// [`DEFAULT_MAX_REFERRERS`]). More is refused with
    /// [`Error::LimitExceeded`], before any referrer is fetched.
    pub fn max_referrers(mut self, limit: u64) -> Self {
        self.max_referrers = limit;
        self
    }

    /// Most bytes fetched from the registry for one verification: every
    /// manifest, referrers listing page and blob read by one
    /// [`RegistryClient::list_signatures`] (or one call of
    /// [`RegistryClient::signatures`], [`RegistryClient::attestations`],
    /// [`RegistryClient::bundles`] or [`RegistryClient::referrers`]) together
    /// (default [`DEFAULT_MAX_FETCH_BYTES`]). Each read is capped at what is
    /// left, so going over stops the download with [`Error::LimitExceeded`].
    pub fn max_fetch_bytes(mut self, limit: u64) -> Self {
        self.max_fetch_bytes = limit;
        self
    }

    /// Per-request timeout (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many read-modify-write rounds a tag update may take before giving
    /// up with [`Error::Conflict`] (default 16).
    pub fn max_update_attempts(mut self, attempts: u32) -> Self {
        self.max_update_attempts = attempts.max(1);
        self
    }

    /// The least time to wait after writing a tag before reading it back to
    /// check that no concurrent writer overwrote it (default 50 ms; the wait
    /// also grows with how long our own write took). See [`RegistryClient`]'s
    /// notes on concurrency.
    pub fn update_settle(mut self, settle: Duration) -> Self {
        self.update_settle = settle;
        self
    }
}

/// Push and pull access, as registries scope tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Access {
    Pull,
    Push,
}

/// How a registry is reached, decided once per registry (see `transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Https,
    Http,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Self::Https => "https",
            Self::Http => "http",
        }
    }
}

#[derive(Default)]
struct State {
    schemes: HashMap<String, Scheme>,
    /// `Authorization` header values by (registry, scope). Basic credentials
    /// are stored under scope `""` since they do not depend on the scope.
    auth: HashMap<(String, String), String>,
    /// Credentials looked up per registry, so a credential helper runs once
    /// per registry, not once per scope.
    credentials: HashMap<String, Option<Found>>,
}

/// A registry client. Cheap to share (`&self` everywhere); caches schemes and
/// tokens per registry.
///
/// Concurrency: registries (including distribution 2.8) mostly ignore
/// `If-Match` on manifest PUTs, so tag updates are made safe by the caller-side
/// protocol in [`RegistryClient::update_tag`]: read, check the tag did not move
/// just before writing, write with `If-Match` (honoured where supported), wait,
/// read back, and redo the merge if our content is gone. A write can only be
/// lost to a writer whose check-then-write straddles our whole
/// write-wait-verify span, so the wait is several times our own write's
/// latency (a concurrent writer's write takes about as long). Without
/// server-side conditional writes this is best effort, not a guarantee.
pub struct RegistryClient {
    http: reqwest::Client,
    credentials: CredentialSource,
    allow_insecure: bool,
    max_manifest_bytes: u64,
    max_blob_bytes: u64,
    max_signatures: u64,
    max_referrers: u64,
    max_fetch_bytes: u64,
    max_update_attempts: u32,
    update_settle: Duration,
    state: Mutex<State>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("allow_insecure", &self.allow_insecure)
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// Build a client.
    pub fn new(options: ClientOptions) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("keyless/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(10))
            .tls_danger_accept_invalid_certs(options.allow_insecure);
        let http = keyless_ca_bundle::trust(http)
            .and_then(|b| b.build())
            .map_err(Error::Client)?;
        Ok(Self {
            http,
            credentials: options.credentials,
            allow_insecure: options.allow_insecure,
            max_manifest_bytes: options.max_manifest_bytes,
            max_blob_bytes: options.max_blob_bytes,
            max_signatures: options.max_signatures,
            max_referrers: options.max_referrers,
            max_fetch_bytes: options.max_fetch_bytes,
            max_update_attempts: options.max_update_attempts,
            update_settle: options.update_settle,
            state: Mutex::new(State::default()),
        })
    }

    pub(crate) fn max_blob_bytes(&self) -> u64 {
        self.max_blob_bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves only caches behind; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

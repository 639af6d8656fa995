//! A stand-in for registries implementing the OCI distribution spec 1.1
//! referrers API (zot, Harbor, registry 3.x), for tests only.
//!
//! keyless-oci's own integration tests (tests/referrers_api.rs, tests/limits.rs)
//! use it; it lives in the testkit so other crates' tests can run the native
//! referrers path too.
//!
//! Debian's `docker-registry` (distribution 2.8), which the other integration
//! tests run against, answers 404 on `/v2/<name>/referrers/<digest>`, so the
//! client's native referrers path (manifest PUT answered with `OCI-Subject`,
//! listing through the API with the `artifactType` filter, pagination) can
//! only be tested against something like this.
//!
//! It implements only what `keyless_oci::RegistryClient` uses, in memory, on
//! `127.0.0.1:<free port>`, over plain HTTP and without authentication:
//! the `/v2/` ping; blob HEAD/GET; uploads by POST (optionally PATCH chunks)
//! then PUT `?digest=`; manifest HEAD/GET/PUT by tag and by digest with
//! `Docker-Content-Digest`; and the referrers endpoint. It records the
//! manifest PUTs and referrers calls so tests can check *how* the client
//! stored things (e.g. that no `sha256-<hex>` tag-schema index was written).
//!
//! [`Behaviour`] switches turn it into a registry without the referrers API
//! (404 there and no `OCI-Subject`, like distribution 2.8), one that ignores
//! the `artifactType` filter (allowed: filtering is a SHOULD), or one that
//! paginates the listing with `Link: <…>; rel="next"`.

mod http;
mod state;
mod store;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use keyless_oci::{Reference, ReferenceError};

use state::{lock, Inner, Log};
pub use state::{Behaviour, ManifestPut, ReferrersCall};
use store::Store;

/// A running stand-in registry; the server task stops on drop.
pub struct ReferrersRegistry {
    inner: Arc<Inner>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl ReferrersRegistry {
    /// Start a full OCI 1.1 stand-in.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Behaviour::default()).await
    }

    /// Start with the given behaviour.
    pub async fn start_with(behaviour: Behaviour) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            behaviour: Mutex::new(behaviour),
            store: Mutex::new(Store::default()),
            log: Mutex::new(Log::default()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(http::handle)
            .with_state(inner.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            inner,
            addr,
            server,
        })
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// A reference in this registry, e.g. `reference("team/app:v1")`.
    pub fn reference(&self, name_and_tag: &str) -> Result<Reference, ReferenceError> {
        Reference::parse(&format!("{}/{name_and_tag}", self.host()))
    }

    /// Change what the stand-in supports from now on.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *lock(&self.inner.behaviour) = behaviour;
    }

    /// Every manifest PUT so far, in order.
    pub fn manifest_puts(&self) -> Vec<ManifestPut> {
        lock(&self.inner.log).manifest_puts.clone()
    }

    /// Every referrers API request so far, in order.
    pub fn referrers_calls(&self) -> Vec<ReferrersCall> {
        lock(&self.inner.log).referrers_calls.clone()
    }

    /// Tags in `repository`, sorted.
    pub fn tags(&self, repository: &str) -> Vec<String> {
        lock(&self.inner.store).tags(repository)
    }

    /// Tags in `repository` of the referrers tag schema form `sha256-<hex>`
    /// (cosign's `.sig`/`.att` tags have a suffix and are not counted).
    pub fn tag_schema_tags(&self, repository: &str) -> Vec<String> {
        self.tags(repository)
            .into_iter()
            .filter(|t| {
                t.strip_prefix("sha256-").is_some_and(|hex| {
                    hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
                })
            })
            .collect()
    }
}

impl Drop for ReferrersRegistry {
    fn drop(&mut self) {
        self.server.abort();
    }
}

//! The registry HTTP client: distribution API v2 calls, authentication
//! retries, size caps and digest checks on everything read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, Response, StatusCode};
use url::Url;

use crate::auth::{AuthError, Challenge, Credentials, DockerConfig, TokenResponse};
use crate::digest::Digest;
use crate::error::{ContentError, Error, Operation, ReadLimit};
use crate::manifest::{Descriptor, RawManifest, MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST};
use crate::reference::{Reference, Repository};

/// Where the client gets registry credentials.
#[derive(Debug, Default)]
#[non_exhaustive]
pub enum CredentialSource {
    /// No credentials: pull-only public registries, or open test registries.
    #[default]
    Anonymous,
    /// The same username and password for every registry (a `--registry-username`
    /// style flag).
    Static(Credentials),
    /// Per-registry credentials from Docker's `config.json`, like cosign.
    DockerConfig(DockerConfig),
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

/// Push and pull access, as registries scope tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Access {
    Pull,
    Push,
}

#[derive(Default)]
struct State {
    schemes: HashMap<String, Scheme>,
    /// `Authorization` header values by (registry, scope). Basic credentials
    /// are stored under scope `""` since they do not depend on the scope.
    auth: HashMap<(String, String), String>,
}

/// How often a read is tried when the registry answers 5xx.
const READ_TRIES: u32 = 4;

/// What a manifest PUT returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedManifest {
    /// The digest of the bytes pushed (checked against the registry's answer).
    pub digest: Digest,
    /// `OCI-Subject`: the registry indexed the manifest's subject itself, so
    /// the referrers tag schema need not be updated.
    pub oci_subject: Option<Digest>,
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
            .tls_danger_accept_invalid_certs(options.allow_insecure)
            .build()
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

    /// A fresh set of read limits for reading what is stored for `image`.
    pub(crate) fn read_budget(&self, image: String) -> ReadBudget {
        ReadBudget {
            image,
            max_signatures: self.max_signatures,
            max_referrers: self.max_referrers,
            max_fetch_bytes: self.max_fetch_bytes,
            fetched: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves only caches behind; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `scheme://registry/v2/`, deciding the scheme on first use: HTTPS, or
    /// plain HTTP only if allowed and HTTPS does not answer.
    async fn base_url(&self, registry: &str) -> Result<String, Error> {
        if let Some(scheme) = self.lock().schemes.get(registry).copied() {
            return Ok(format!("{}://{registry}/v2/", scheme.as_str()));
        }
        let https = format!("https://{registry}/v2/");
        let scheme = match self.http.get(&https).send().await {
            Ok(_) => Scheme::Https,
            Err(https_err) => {
                let http = format!("http://{registry}/v2/");
                let http_answers = self.http.get(&http).send().await.is_ok();
                match (http_answers, self.allow_insecure) {
                    (true, true) => Scheme::Http,
                    (true, false) => {
                        return Err(Error::InsecureNotAllowed {
                            registry: registry.to_owned(),
                            reason: https_err.to_string(),
                        })
                    }
                    (false, _) => {
                        return Err(Error::Transport {
                            operation: Operation::Ping,
                            url: https,
                            source: https_err,
                        })
                    }
                }
            }
        };
        tracing::debug!(registry, scheme = scheme.as_str(), "registry scheme");
        self.lock().schemes.insert(registry.to_owned(), scheme);
        Ok(format!("{}://{registry}/v2/", scheme.as_str()))
    }

    /// URL of `path` (relative to `/v2/`) in the registry of `repo`.
    pub(crate) async fn url(&self, repo: &Repository, path: &str) -> Result<String, Error> {
        Ok(format!(
            "{}{}/{}",
            self.base_url(repo.registry()).await?,
            repo.name(),
            path
        ))
    }

    fn scope(repo: &Repository, access: Access) -> String {
        let actions = match access {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        format!("repository:{}:{actions}", repo.name())
    }

    fn credentials_for(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        Ok(match &self.credentials {
            CredentialSource::Anonymous => None,
            CredentialSource::Static(c) => Some(c.clone()),
            CredentialSource::DockerConfig(cfg) => cfg.credentials_for(registry)?,
        })
    }

    fn cached_auth(&self, registry: &str, scope: &str) -> Option<String> {
        let state = self.lock();
        state
            .auth
            .get(&(registry.to_owned(), scope.to_owned()))
            .or_else(|| state.auth.get(&(registry.to_owned(), String::new())))
            .cloned()
    }

    /// Send a request built by `build`, authenticating on a 401 challenge and
    /// retrying once. `build` is called again for the retry, so bodies must be
    /// owned by the closure.
    pub(crate) async fn send(
        &self,
        op: Operation,
        repo: &Repository,
        access: Access,
        url: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, Error> {
        let registry = repo.registry();
        let scope = Self::scope(repo, access);
        let transport = |source| Error::Transport {
            operation: op,
            url: url.to_owned(),
            source,
        };
        // Reads are retried on server errors: distribution's filesystem
        // storage answers 500 when a tag is read while being rewritten.
        let retryable = matches!(
            op,
            Operation::HeadManifest
                | Operation::GetManifest
                | Operation::HeadBlob
                | Operation::GetBlob
                | Operation::Referrers
        );
        let mut try_number = 0u32;
        let response = loop {
            try_number += 1;
            let mut request = build(&self.http);
            if let Some(auth) = self.cached_auth(registry, &scope) {
                request = request.header(header::AUTHORIZATION, auth);
            }
            let response = request.send().await.map_err(transport)?;
            if retryable && response.status().is_server_error() && try_number < READ_TRIES {
                tracing::debug!(%url, status = %response.status(), "retrying read");
                tokio::time::sleep(Duration::from_millis(25 * u64::from(try_number))).await;
                continue;
            }
            break response;
        };
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::from(ContentError::MissingHeader {
                    what: format!("{op} {url} (401 Unauthorized)"),
                    header: "WWW-Authenticate",
                })
            })?;
        let credentials = self.credentials_for(registry)?;
        let (auth, scheme, cache_scope) = match Challenge::parse(&challenge)? {
            Challenge::Basic => {
                let Some(c) = &credentials else {
                    return Err(AuthError::Rejected {
                        url: url.to_owned(),
                        scheme: "no credentials",
                        hint: " (the registry asks for Basic auth; add credentials for it to \
                               the Docker config or pass them to the client)",
                    }
                    .into());
                };
                (c.basic_header(), "Basic", String::new())
            }
            Challenge::Bearer { realm, service, .. } => {
                let token = self
                    .fetch_token(&realm, service.as_deref(), &scope, credentials.as_ref())
                    .await?;
                (format!("Bearer {token}"), "Bearer", scope.clone())
            }
        };
        self.lock()
            .auth
            .insert((registry.to_owned(), cache_scope), auth.clone());
        let response = build(&self.http)
            .header(header::AUTHORIZATION, auth)
            .send()
            .await
            .map_err(transport)?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(AuthError::Rejected {
                url: url.to_owned(),
                scheme,
                hint: if credentials.is_some() {
                    " (check the username and password)"
                } else {
                    " (no credentials were configured for this registry)"
                },
            }
            .into());
        }
        Ok(response)
    }

    /// Docker token protocol: GET realm?service=…&scope=… with Basic
    /// credentials when we have them.
    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credentials: Option<&Credentials>,
    ) -> Result<String, Error> {
        let mut url = Url::parse(realm).map_err(|e| {
            Error::from(AuthError::BadChallenge {
                header: realm.to_owned(),
                reason: if matches!(e, url::ParseError::RelativeUrlWithoutBase) {
                    "the realm is not an absolute URL"
                } else {
                    "the realm is not a valid URL"
                },
            })
        })?;
        if url.scheme() != "https" && !(url.scheme() == "http" && self.allow_insecure) {
            return Err(AuthError::BadChallenge {
                header: realm.to_owned(),
                reason: "the token realm is not HTTPS (allowed only for insecure registries)",
            }
            .into());
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = service {
                q.append_pair("service", service);
            }
            q.append_pair("scope", scope);
        }
        let mut request = self.http.get(url.clone());
        if let Some(c) = credentials {
            request = request.header(header::AUTHORIZATION, c.basic_header());
        }
        let response = request.send().await.map_err(|source| Error::Transport {
            operation: Operation::Token,
            url: realm.to_owned(),
            source,
        })?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(AuthError::Rejected {
                url: realm.to_owned(),
                scheme: "Basic (token endpoint)",
                hint: " (check the username and password)",
            }
            .into());
        }
        let response = expect_status(response, Operation::Token, realm, &[StatusCode::OK]).await?;
        let body = read_capped(response, Operation::Token, realm, 1024 * 1024).await?;
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|source| ContentError::InvalidJson {
                what: format!("token response from {realm}"),
                expected: "token response",
                source,
            })?;
        parsed.into_token().ok_or_else(|| {
            AuthError::NoToken {
                realm: realm.to_owned(),
            }
            .into()
        })
    }

    // ---- manifests -------------------------------------------------------

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

    // ---- blobs -----------------------------------------------------------

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

    // ---- read-modify-write of a tag ---------------------------------------

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

fn header_str<'a>(headers: &'a HeaderMap<HeaderValue>, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
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

async fn status_error(response: Response, op: Operation, url: &str) -> Error {
    let status = response.status().as_u16();
    let body = read_capped(response, op, url, 4096)
        .await
        .unwrap_or_default();
    let mut body = String::from_utf8_lossy(&body).trim().to_owned();
    if body.len() > 512 {
        let mut cut = 512;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
        body.push('…');
    }
    Error::Status {
        operation: op,
        url: url.to_owned(),
        status,
        body,
    }
}

pub(crate) async fn expect_status(
    response: Response,
    op: Operation,
    url: &str,
    ok: &[StatusCode],
) -> Result<Response, Error> {
    if ok.contains(&response.status()) {
        Ok(response)
    } else {
        Err(status_error(response, op, url).await)
    }
}

/// Read a body, stopping with [`ContentError::TooLarge`] past `limit` bytes
/// (checked against `Content-Length` first, then while streaming, since the
/// header may lie or be absent).
pub(crate) async fn read_capped(
    mut response: Response,
    op: Operation,
    url: &str,
    limit: u64,
) -> Result<Vec<u8>, Error> {
    let too_large = || ContentError::TooLarge {
        what: format!("{op} {url}"),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large().into());
    }
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|source| Error::Transport {
        operation: op,
        url: url.to_owned(),
        source,
    })? {
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large().into());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The limits of one verification's reads from the registry: how many
/// signature layers per manifest and referrers it lists, and how many bytes
/// are fetched in all. Made fresh for each top-level read (so the client can
/// be shared) and threaded through every request of it.
#[derive(Debug)]
pub(crate) struct ReadBudget {
    /// The image being read, for error messages.
    image: String,
    max_signatures: u64,
    max_referrers: u64,
    max_fetch_bytes: u64,
    fetched: AtomicU64,
}

impl ReadBudget {
    /// Bytes that may still be fetched.
    pub(crate) fn remaining(&self) -> u64 {
        self.max_fetch_bytes
            .saturating_sub(self.fetched.load(Ordering::Relaxed))
    }

    fn charge(&self, bytes: u64) {
        self.fetched.fetch_add(bytes, Ordering::Relaxed);
    }

    fn exceeded(&self, limit: ReadLimit, cap: u64, what: String) -> Error {
        Error::LimitExceeded {
            image: self.image.clone(),
            limit,
            cap,
            what,
        }
    }

    /// The error for a read of `what` that does not fit in what is left.
    pub(crate) fn over_bytes(&self, what: &str) -> Error {
        let fetched = self.fetched.load(Ordering::Relaxed);
        self.exceeded(
            ReadLimit::FetchBytes,
            self.max_fetch_bytes,
            format!(
                "{what} does not fit in the {} bytes left ({fetched} already fetched)",
                self.remaining()
            ),
        )
    }

    /// Refuse a manifest (`what`) listing more than the signature limit.
    pub(crate) fn check_signatures(&self, count: usize, what: &str) -> Result<(), Error> {
        if count as u64 > self.max_signatures {
            return Err(self.exceeded(
                ReadLimit::Signatures,
                self.max_signatures,
                format!("{what} lists {count} signature layers"),
            ));
        }
        Ok(())
    }

    /// Refuse a referrers listing (`what`) with more than the referrers
    /// limit (counted so far, so pagination stops at the first page over).
    pub(crate) fn check_referrers(&self, count: usize, what: &str) -> Result<(), Error> {
        if count as u64 > self.max_referrers {
            return Err(self.exceeded(
                ReadLimit::Referrers,
                self.max_referrers,
                format!("{what} lists more than {} manifests", self.max_referrers),
            ));
        }
        Ok(())
    }
}

/// [`read_capped`] at the smaller of `item_limit` and what `budget` has left,
/// charging what was read. Going over the budget (rather than the item's own
/// limit) is reported as [`Error::LimitExceeded`], which names the flag that
/// raises it.
pub(crate) async fn read_within(
    response: Response,
    op: Operation,
    url: &str,
    item_limit: u64,
    budget: Option<&ReadBudget>,
) -> Result<Vec<u8>, Error> {
    let Some(budget) = budget else {
        return read_capped(response, op, url, item_limit).await;
    };
    let remaining = budget.remaining();
    let limit = item_limit.min(remaining);
    match read_capped(response, op, url, limit).await {
        Ok(bytes) => {
            budget.charge(bytes.len() as u64);
            Ok(bytes)
        }
        Err(Error::Content(ContentError::TooLarge { .. })) if remaining < item_limit => {
            Err(budget.over_bytes(&format!("{op} {url}")))
        }
        Err(e) => Err(e),
    }
}

//! Development-only OpenID Connect issuer. **Never use it to protect
//! anything**: it approves logins without a password and signs whatever
//! identity it is configured with. It exists so that the whole keyless
//! flow (token → certificate → signature → verification) runs on one
//! machine without a real identity provider.
//!
//! One server stands in for several issuers, one per [`Provider`], at
//! `<base>` (email), `<base>/github`, `<base>/gitlab` and `<base>/buildkite`:
//!
//! ```text
//! discovery  /.well-known/openid-configuration, /keys (JWKS)
//! authorize  /authorize: authorization code + PKCE (S256), loopback redirect
//! device     /device/code, /device: RFC 8628 device authorization grant
//! token      /token: authorization_code, device_code, and a dev mint grant
//! ```
//!
//! The CLI calls [`serve`] for `keyless server oidc` and [`mint_token`] for
//! `keyless dev-token`.

mod authorize;
mod device;
mod discovery;
pub mod identity;
pub mod keys;
mod token;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use serde_json::{json, Map, Value};
use thiserror::Error;

pub use identity::{default_identities, email_identity, Provider, TestIdentity};
pub use keys::TokenKey;

/// The custom grant that mints a token for a configured identity.
pub const DEV_MINT_GRANT: &str = "urn:keyless:params:oauth:grant-type:dev-mint";
/// RFC 8628 device code grant.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// File in the data dir that remembers the base URL the server runs at.
pub const ISSUER_FILE: &str = "issuer-url";
/// Optional file in the data dir listing [`TestIdentity`]s as JSON.
pub const IDENTITIES_FILE: &str = "identities.json";

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OidcDevError {
    /// A file or directory of the data dir could not be read or written.
    #[error("{action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The listener's address could not be read.
    #[error("reading the listener address")]
    Listener(#[source] std::io::Error),
    /// The HTTP server failed.
    #[error("serving")]
    Serve(#[source] std::io::Error),
    /// The key file could not be read or written, or is readable by group
    /// or others (the message names the file and its mode).
    #[error(transparent)]
    KeyFile(#[from] keyless_keys::KeyError),
    #[error("signing key: the dev issuer signs with ECDSA P-256 (ES256) only")]
    KeyAlgorithm,
    #[error("signing key: deriving its JWK")]
    Jwk(#[source] jsonwebtoken::errors::Error),
    #[error("identities {}", path.display())]
    Identities {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("no identity named {0:?}")]
    UnknownIdentity(String),
    #[error("no issuer URL: pass one, or start `keyless server oidc` with this data dir first")]
    NoIssuerUrl,
    #[error("signing the token")]
    Sign(#[source] keys::SignError),
}

/// A closure turning an I/O error on `path` into [`OidcDevError::Io`].
pub(crate) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> OidcDevError {
    let path = path.to_path_buf();
    move |source| OidcDevError::Io {
        action,
        path,
        source,
    }
}

/// Settings for the development issuer.
#[derive(Debug, Clone)]
pub struct OidcDevConfig {
    /// Holds the signing key (0600), `issuer-url` and optional `identities.json`.
    pub data_dir: PathBuf,
    /// Base URL; defaults to `http://<listen address>`.
    pub issuer_url: Option<String>,
    /// Identity approved by `/authorize` when none is asked for.
    pub default_identity: String,
    /// Approve `/authorize` immediately (else show a page with a button).
    pub auto_approve: bool,
    /// Lifetime of minted tokens.
    pub token_lifetime_secs: u64,
    /// Minimum polling interval of the device flow (RFC 8628 default 5 s).
    pub device_poll_interval_secs: u64,
}

impl OidcDevConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            issuer_url: None,
            default_identity: "email".into(),
            auto_approve: true,
            token_lifetime_secs: 600,
            device_poll_interval_secs: 5,
        }
    }
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A random URL-safe string with `bytes` bytes of entropy.
pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    // aws-lc's RNG does not fail in practice; an all-zero value would only
    // make a dev code guessable, never a token forgeable.
    let _ = aws_lc_rs::rand::fill(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// The issuer: key, identities, and pending logins.
pub struct DevIssuer {
    pub base_url: String,
    key: TokenKey,
    identities: Vec<TestIdentity>,
    config: OidcDevConfig,
    pub(crate) codes: Mutex<HashMap<String, authorize::PendingCode>>,
    pub(crate) devices: Mutex<HashMap<String, device::PendingDevice>>,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("base_url", &self.base_url)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

fn load_identities(dir: &Path) -> Result<Vec<TestIdentity>, OidcDevError> {
    let path = dir.join(IDENTITIES_FILE);
    if !path.exists() {
        return Ok(default_identities());
    }
    let text = std::fs::read(&path).map_err(io_err("reading", &path))?;
    serde_json::from_slice(&text).map_err(|source| OidcDevError::Identities { path, source })
}

/// Options for [`mint_token`] and [`DevIssuer::mint`].
#[derive(Debug, Clone, Default)]
pub struct MintOptions {
    /// Identity name (default: `email`).
    pub identity: Option<String>,
    /// For email identities: the email (and `sub`) to put in the token.
    pub subject: Option<String>,
    /// `aud`; default `sigstore`.
    pub audience: Option<String>,
    /// Extra claims, overriding everything else (including `iss`, `exp`).
    pub extra_claims: Map<String, Value>,
    pub nonce: Option<String>,
}

impl DevIssuer {
    /// Open the issuer at `base_url` with the key and identities from the data dir.
    pub fn open(config: OidcDevConfig, base_url: &str) -> Result<Self, OidcDevError> {
        let key = TokenKey::load_or_create(&config.data_dir)?;
        let identities = load_identities(&config.data_dir)?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            identities,
            config,
            codes: Mutex::new(HashMap::new()),
            devices: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &OidcDevConfig {
        &self.config
    }

    pub fn identities(&self) -> &[TestIdentity] {
        &self.identities
    }

    /// The `iss` of a provider.
    pub fn issuer_url(&self, p: Provider) -> String {
        format!("{}{}", self.base_url, p.path())
    }

    pub fn jwks(&self) -> Value {
        serde_json::to_value(&self.key.jwks).unwrap_or(Value::Null)
    }

    pub(crate) fn identity(&self, name: &str) -> Result<&TestIdentity, OidcDevError> {
        self.identities
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| OidcDevError::UnknownIdentity(name.to_string()))
    }

    /// The first identity of a provider, for logins that name none.
    pub(crate) fn default_for(&self, p: Provider) -> Option<&TestIdentity> {
        self.identities
            .iter()
            .find(|i| i.provider == p && i.name == self.config.default_identity)
            .or_else(|| self.identities.iter().find(|i| i.provider == p))
    }

    /// Mint an ID token for a configured identity.
    pub fn mint(&self, opts: &MintOptions) -> Result<String, OidcDevError> {
        let name = opts
            .identity
            .clone()
            .unwrap_or_else(|| self.config.default_identity.clone());
        let ident = self.identity(&name)?;
        let mut claims = ident.claims.clone();
        if let (Some(subject), Provider::Email) = (&opts.subject, ident.provider) {
            claims.insert("sub".into(), json!(subject));
            claims.insert("email".into(), json!(subject));
            claims.insert("email_verified".into(), json!(true));
        }
        let now = now();
        claims.insert("iss".into(), json!(self.issuer_url(ident.provider)));
        claims.insert(
            "aud".into(),
            json!(opts.audience.clone().unwrap_or_else(|| "sigstore".into())),
        );
        claims.insert("iat".into(), json!(now));
        claims.insert("nbf".into(), json!(now));
        claims.insert("exp".into(), json!(now + self.config.token_lifetime_secs));
        if let Some(n) = &opts.nonce {
            claims.insert("nonce".into(), json!(n));
        }
        // Last, so that tests can forge expired or mis-addressed tokens.
        for (k, v) in &opts.extra_claims {
            claims.insert(k.clone(), v.clone());
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.key.kid.clone());
        self.key.sign_jwt(&header, &claims)
    }

    /// A Fulcio-style issuer configuration (`OIDCIssuers`) that trusts
    /// every provider of this server, for a CA's issuers file.
    pub fn ca_issuers_config(&self) -> Value {
        ca_issuers_config(&self.base_url)
    }
}

/// A Fulcio-style `OIDCIssuers` config for a dev issuer at `base_url`.
pub fn ca_issuers_config(base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let mut issuers = Map::new();
    for p in Provider::ALL {
        let url = format!("{base}{}", p.path());
        issuers.insert(
            url.clone(),
            json!({"IssuerURL": url, "ClientID": "sigstore", "Type": p.fulcio_type()}),
        );
    }
    json!({ "OIDCIssuers": issuers })
}

/// Mint a token without a running server (`keyless dev-token`). The
/// issuer URL is the one given, else the one the server last ran at.
pub fn mint_token(
    data_dir: &Path,
    issuer_url: Option<&str>,
    opts: &MintOptions,
) -> Result<String, OidcDevError> {
    let base = match issuer_url {
        Some(u) => u.to_string(),
        None => std::fs::read_to_string(data_dir.join(ISSUER_FILE))
            .map(|s| s.trim().to_string())
            .map_err(|_| OidcDevError::NoIssuerUrl)?,
    };
    DevIssuer::open(OidcDevConfig::new(data_dir), &base)?.mint(opts)
}

/// The router for an issuer.
pub fn router(issuer: Arc<DevIssuer>) -> Router {
    let mut app = provider_router(issuer.clone(), Provider::Email);
    for p in [Provider::Github, Provider::Gitlab, Provider::Buildkite] {
        app = app.nest(p.path(), provider_router(issuer.clone(), p));
    }
    app
}

#[derive(Clone)]
pub(crate) struct Ctx {
    pub issuer: Arc<DevIssuer>,
    pub provider: Provider,
}

impl Ctx {
    pub(crate) fn iss(&self) -> String {
        self.issuer.issuer_url(self.provider)
    }
}

fn provider_router(issuer: Arc<DevIssuer>, provider: Provider) -> Router {
    use axum::routing::{get, post};
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route("/keys", get(discovery::keys))
        .route(
            "/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/device/code", post(device::device_code))
        .route(
            "/device",
            get(device::verification_page).post(device::approve),
        )
        .route("/token", post(token::token))
        .with_state(Ctx { issuer, provider })
}

/// Serve the issuer on `listener` until the process ends. Writes the base
/// URL to the data dir so that `keyless dev-token` can mint matching tokens.
pub async fn serve(
    config: OidcDevConfig,
    listener: tokio::net::TcpListener,
) -> Result<(), OidcDevError> {
    serve_with_shutdown(config, listener, std::future::pending()).await
}

/// Open the issuer for `listener`: what [`serve`] runs, for callers that
/// need the issuer (e.g. to mint tokens) while it serves.
pub fn open_for(
    config: OidcDevConfig,
    listener: &tokio::net::TcpListener,
) -> Result<Arc<DevIssuer>, OidcDevError> {
    let addr = listener.local_addr().map_err(OidcDevError::Listener)?;
    let base = config
        .issuer_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    std::fs::create_dir_all(&config.data_dir).map_err(io_err("creating", &config.data_dir))?;
    let issuer_file = config.data_dir.join(ISSUER_FILE);
    std::fs::write(&issuer_file, &base).map_err(io_err("writing", &issuer_file))?;
    Ok(Arc::new(DevIssuer::open(config, &base)?))
}

pub async fn serve_with_shutdown(
    config: OidcDevConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), OidcDevError> {
    let issuer = open_for(config, &listener)?;
    tracing::warn!(url = %issuer.base_url, "DEVELOPMENT OIDC issuer: approves logins without authentication");
    axum::serve(listener, router(issuer))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(OidcDevError::Serve)
}

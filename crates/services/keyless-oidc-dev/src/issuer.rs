//! The issuer itself: configuration, key, identities, pending logins, and
//! minting. Outside lib.rs so that the handlers ([`Ctx`]) name it without
//! importing the crate root.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use crate::consts::{IDENTITIES_FILE, ISSUER_FILE};
use crate::error::{io_err, OidcDevError};
use crate::identity::{default_identities, Provider, TestIdentity};
use crate::keys::TokenKey;
use crate::pending::{PendingCode, PendingDevice};
use crate::util::now;

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

/// The issuer: key, identities, and pending logins.
pub struct DevIssuer {
    pub base_url: String,
    key: TokenKey,
    identities: Vec<TestIdentity>,
    config: OidcDevConfig,
    pub(crate) codes: Mutex<HashMap<String, PendingCode>>,
    pub(crate) devices: Mutex<HashMap<String, PendingDevice>>,
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

//! Which Sigstore instance a command talks to and trusts: flags, then
//! `SIGSTORE_TRUST_CONFIG` (a ClientTrustConfig, as `keyless server --dev`
//! writes), then the embedded public-good instance.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use keyless_types::signing_config::{ClientTrustConfig, Service, SigningConfig, SIGNING_CONFIG_MEDIA_TYPE};
use keyless_types::wire::TimeRange;
use keyless_verify::TrustMaterial;

/// Flags that pick the instance, shared by every client command.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct InstanceArgs {
    /// A Sigstore ClientTrustConfig JSON (trusted root + signing config),
    /// e.g. the `trust_config.json` that `keyless server --dev` writes.
    #[arg(long, value_name = "FILE", env = "SIGSTORE_TRUST_CONFIG")]
    pub trust_config: Option<PathBuf>,
    /// A trusted_root.json to trust instead of the instance's.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Ignore the TUF cache and SIGSTORE_ROOT_FILE: the embedded root unless
    /// a file is given (the conformance protocol's "built-in trust").
    #[arg(skip)]
    pub builtin_only: bool,
}

/// Flags that pick the services a signer uses.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ServiceArgs {
    /// A Sigstore signing_config.json (v0.2) naming the CA, logs and TSAs.
    #[arg(long, value_name = "FILE")]
    pub signing_config: Option<PathBuf>,
    /// Fulcio-compatible CA to get the certificate from.
    #[arg(long, value_name = "URL")]
    pub fulcio_url: Option<String>,
    /// Rekor-compatible transparency log to record the signature in.
    #[arg(long, value_name = "URL")]
    pub rekor_url: Option<String>,
    /// Use the Rekor v1 API of --rekor-url instead of v2.
    #[arg(long)]
    pub rekor_v1: bool,
    /// RFC 3161 timestamp authority endpoint (full URL).
    #[arg(long, value_name = "URL")]
    pub timestamp_server_url: Option<String>,
    /// OIDC issuer for interactive sign-in.
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// OIDC client ID for interactive sign-in.
    #[arg(long, value_name = "ID", default_value = "sigstore")]
    pub oidc_client_id: String,
}

/// The resolved trust and services.
#[derive(Debug, Clone)]
pub struct Instance {
    pub trust: TrustMaterial,
    pub signing: Option<SigningConfig>,
}

/// The service endpoints a signer will use.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub fulcio: String,
    pub rekor: String,
    pub rekor_version: u32,
    pub tsa: Option<String>,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: String,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {what} {}", path.display()))
}

impl InstanceArgs {
    /// Resolve trust (and the signing config, when the instance has one).
    pub fn resolve(&self) -> Result<Instance, keyless_verify::VerificationError> {
        let trust_config = match &self.trust_config {
            Some(p) => {
                let json = std::fs::read(p).map_err(|e| material_error("trust config", p, e.to_string()))?;
                Some(ClientTrustConfig::from_json(&json).map_err(|e| material_error("trust config", p, e))?)
            }
            None => None,
        };
        let trust = match (&self.trusted_root, &trust_config) {
            (Some(path), _) => {
                let json = std::fs::read(path).map_err(|e| material_error("trusted root file", path, e.to_string()))?;
                TrustMaterial::from_json(&json)?
            }
            (None, Some(tc)) => TrustMaterial::from_trusted_root(
                &keyless_types::TrustedRoot::from_wire(tc.trusted_root.clone()).map_err(keyless_verify::VerificationError::from)?,
            )?,
            (None, None) if self.builtin_only => return Ok(Instance { trust: TrustMaterial::public_good()?, signing: None }),
            (None, None) => match crate::commands::tuf::cached_trust() {
                Ok(Some(cached)) => {
                    let signing = cached.signing_config.and_then(|s| SigningConfig::from_json(&s).ok());
                    return Ok(Instance { trust: with_root_file(TrustMaterial::from_json(&cached.trusted_root)?)?, signing });
                }
                Ok(None) => TrustMaterial::public_good()?,
                Err(e) => {
                    eprintln!("WARNING: the TUF cache is unusable ({e:#}); using the embedded public-good root");
                    TrustMaterial::public_good()?
                }
            },
        };
        Ok(Instance { trust: with_root_file(trust)?, signing: trust_config.map(|t| t.signing_config) })
    }
}

/// `SIGSTORE_ROOT_FILE`, as in cosign: a PEM file of CA certificates that
/// replaces the trusted root's certificate authorities (self-signed ones are
/// roots, the rest intermediates), trusted without a time bound.
fn with_root_file(mut trust: TrustMaterial) -> Result<TrustMaterial, keyless_verify::VerificationError> {
    let Some(path) = std::env::var_os("SIGSTORE_ROOT_FILE").filter(|p| !p.is_empty()) else { return Ok(trust) };
    let path = PathBuf::from(path);
    let pem = std::fs::read_to_string(&path).map_err(|e| material_error("SIGSTORE_ROOT_FILE", &path, e.to_string()))?;
    let mut roots = Vec::new();
    let mut intermediates = Vec::new();
    for block in pem.split_inclusive("-----END CERTIFICATE-----").filter(|b| b.contains("-----BEGIN")) {
        let cert = keyless_x509::Certificate::from_pem(block).map_err(|e| material_error("SIGSTORE_ROOT_FILE", &path, e.to_string()))?;
        if cert.is_self_issued() {
            roots.push(cert);
        } else {
            intermediates.push(cert);
        }
    }
    if roots.is_empty() {
        return Err(material_error("SIGSTORE_ROOT_FILE", &path, "no self-signed root certificate in the file".into()));
    }
    trust.fulcio = roots
        .into_iter()
        .map(|root| {
            let mut chain = intermediates.clone();
            chain.push(root);
            keyless_verify::TrustedAuthority {
                uri: path.display().to_string(),
                chain,
                valid_for: keyless_types::ValidityPeriod { start: i64::MIN, end: None },
            }
        })
        .collect();
    Ok(trust)
}

fn material_error(what: &'static str, path: &Path, problem: String) -> keyless_verify::VerificationError {
    keyless_verify::error::TrustRootError::Material { what, name: path.display().to_string(), problem }.into()
}

impl Instance {
    /// Pick endpoints: explicit flags win, then a --signing-config file, then
    /// the instance's signing config, then the public-good instance.
    pub fn endpoints(&self, args: &ServiceArgs) -> Result<Endpoints> {
        let file_config = match &args.signing_config {
            Some(p) => Some(SigningConfig::from_json(&read(p, "signing config")?).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let config = file_config.or_else(|| self.signing.clone()).unwrap_or_else(public_good_signing_config);
        let now = now();
        let fulcio = match &args.fulcio_url {
            Some(u) => u.clone(),
            None => SigningConfig::select(&config.ca_urls, &[1], now).map(|s| s.url.clone()).context("the signing config names no usable CA")?,
        };
        let (rekor, rekor_version) = match &args.rekor_url {
            Some(u) => (u.clone(), if args.rekor_v1 { 1 } else { 2 }),
            None => {
                let s = SigningConfig::select(&config.rekor_tlog_urls, &[2, 1], now).context("the signing config names no usable transparency log")?;
                (s.url.clone(), s.major_api_version)
            }
        };
        let tsa = args.timestamp_server_url.clone().or_else(|| SigningConfig::select(&config.tsa_urls, &[1], now).map(|s| s.url.clone()));
        if rekor_version == 2 && tsa.is_none() {
            bail!("Rekor v2 entries carry no signed time, so a timestamp authority is required: pass --timestamp-server-url or use a signing config with tsaUrls");
        }
        let oidc_issuer = args.oidc_issuer.clone().or_else(|| SigningConfig::select(&config.oidc_urls, &[1], now).map(|s| s.url.clone()));
        Ok(Endpoints { fulcio, rekor, rekor_version, tsa, oidc_issuer, oidc_client_id: args.oidc_client_id.clone() })
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The public-good instance's services (what its TUF-distributed
/// signing_config lists).
fn public_good_signing_config() -> SigningConfig {
    let svc = |url: &str, v: u32, start: &str| Service {
        url: url.into(),
        major_api_version: v,
        valid_for: TimeRange { start: Some(start.into()), end: None },
        operator: "sigstore.dev".into(),
    };
    SigningConfig {
        media_type: SIGNING_CONFIG_MEDIA_TYPE.into(),
        ca_urls: vec![svc("https://fulcio.sigstore.dev", 1, "2023-04-14T21:38:40Z")],
        oidc_urls: vec![svc("https://oauth2.sigstore.dev/auth", 1, "2025-04-16T00:00:00Z")],
        rekor_tlog_urls: vec![svc("https://rekor.sigstore.dev", 1, "2021-01-12T11:53:27Z")],
        rekor_tlog_config: None,
        tsa_urls: vec![svc("https://timestamp.sigstore.dev/api/v1/timestamp", 1, "2025-07-04T00:00:00Z")],
        tsa_config: None,
    }
}

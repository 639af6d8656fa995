//! Which Sigstore instance a command talks to and trusts: flags, then
//! `SIGSTORE_TRUST_CONFIG` (a ClientTrustConfig, as `keyless server --dev`
//! writes), then the embedded public-good instance.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use keyless_types::signing_config::{
    ClientTrustConfig, Service, SigningConfig, SIGNING_CONFIG_MEDIA_TYPE,
};
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
    ///
    /// cosign's variables amend the trusted root, each with a note on
    /// stderr: SIGSTORE_REKOR_PUBLIC_KEY (the log's PEM public key),
    /// SIGSTORE_CT_LOG_PUBLIC_KEY_FILE (the CT log's) and
    /// SIGSTORE_TSA_CERTIFICATE_FILE (the timestamp authority's PEM chain)
    /// replace that part, trusted without a time bound. TUF_ROOT is the TUF
    /// cache (default ~/.sigstore/root). COSIGN_EXPERIMENTAL is ignored,
    /// with a note.
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
    /// Rekor transparency log to record the signature in. As in cosign,
    /// this is a Rekor v1 log; for a Rekor v2 log add `--rekor-version 2`
    /// (or name it in a signing config).
    #[arg(long, value_name = "URL")]
    pub rekor_url: Option<String>,
    /// The Rekor API major version of the log: 1 (the default for
    /// --rekor-url, as in cosign) or 2. Without --rekor-url it picks which
    /// log of the signing config to use.
    #[arg(long, value_name = "1|2", value_parser = clap::value_parser!(u32).range(1..=2))]
    pub rekor_version: Option<u32>,
    /// Older spelling of `--rekor-version 1`, kept for scripts.
    #[arg(long, hide = true, conflicts_with = "rekor_version")]
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
    /// Sign without a transparency log (`--tlog-upload=false`): no log is
    /// needed, and a timestamp authority is (the only signed time).
    #[arg(skip)]
    pub without_log: bool,
}

/// Where the trust in use came from. It decides whether the public-good
/// services may fill in for a service the user did not name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustSource {
    /// The public-good root compiled into the binary (no TUF cache, no
    /// trust flags), or asked for explicitly.
    Embedded,
    /// A TUF cache that `keyless initialize` set up for this mirror.
    Tuf { mirror: String },
    /// `--trust-config` / `SIGSTORE_TRUST_CONFIG`.
    TrustConfig(PathBuf),
    /// `--trusted-root`.
    TrustedRootFile(PathBuf),
}

impl std::fmt::Display for TrustSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Embedded => f.write_str("the embedded public-good root"),
            Self::Tuf { mirror } => write!(f, "the TUF repository {mirror}"),
            Self::TrustConfig(p) => write!(f, "the trust config {}", p.display()),
            Self::TrustedRootFile(p) => write!(f, "the trusted root {}", p.display()),
        }
    }
}

/// The resolved trust and services.
#[derive(Debug, Clone)]
pub struct Instance {
    pub trust: TrustMaterial,
    pub signing: Option<SigningConfig>,
    pub source: TrustSource,
    /// `SIGSTORE_ROOT_FILE` replaced the CA roots.
    pub ca_roots_replaced: bool,
}

/// Why no trust could be settled on. Never answered by falling back to
/// another root: the command stops.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// A trust file (trusted root, trust config, SIGSTORE_ROOT_FILE) is
    /// unusable.
    #[error(transparent)]
    Material(#[from] keyless_verify::VerificationError),
    /// `keyless initialize` was run, and its cache failed a check.
    #[error("the cached TUF root of trust cannot be used")]
    Tuf(#[source] Box<crate::commands::tuf::CacheError>),
}

impl ResolveError {
    /// What to do about it, printed as `hint:`.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Material(e) => crate::hint(e),
            Self::Tuf(_) => {
                "nothing in the cache was changed and no other root was used. If the mirror is right, re-run \
                 `keyless initialize` (with --mirror URL --root FILE for a private instance); to use other \
                 trust, pass --trusted-root or --trust-config"
            }
        }
    }

    /// Print the error, each cause once, and its hint; return the exit code.
    pub fn report(&self) -> i32 {
        match self {
            Self::Material(e) => crate::report_verification_error(e),
            Self::Tuf(_) => {
                eprintln!("Error: {}", crate::error_chain(self));
                eprintln!("hint: {}", self.hint());
                crate::exit::for_kind(keyless_verify::ErrorKind::TrustedRoot)
            }
        }
    }
}

impl InstanceArgs {
    /// Resolve trust (and the signing config, when the instance has one).
    ///
    /// The embedded public-good root is used only when no TUF cache exists
    /// and no trust flag is given (as cosign does), or when asked for
    /// (`builtin_only`). A TUF cache that fails any check stops the command.
    pub fn resolve(&self) -> Result<Instance, ResolveError> {
        self.resolve_with_log(None)
    }

    /// [`Self::resolve`], where `log_url` (verify's `--rekor-url`) names the
    /// log whose key `SIGSTORE_REKOR_PUBLIC_KEY` gives.
    pub fn resolve_with_log(&self, log_url: Option<&str>) -> Result<Instance, ResolveError> {
        use keyless_verify::VerificationError;
        let (trust, signing, source) = if let Some(path) = &self.trusted_root {
            let json = std::fs::read(path)
                .map_err(|e| material_error("trusted root file", path, e.to_string()))?;
            let signing = match &self.trust_config {
                Some(p) => Some(read_trust_config(p)?.signing_config),
                None => None,
            };
            (
                TrustMaterial::from_json(&json)?,
                signing,
                TrustSource::TrustedRootFile(path.clone()),
            )
        } else if let Some(path) = &self.trust_config {
            let tc = read_trust_config(path)?;
            let root = keyless_types::TrustedRoot::from_wire(tc.trusted_root.clone())
                .map_err(VerificationError::from)?;
            (
                TrustMaterial::from_trusted_root(&root)?,
                Some(tc.signing_config),
                TrustSource::TrustConfig(path.clone()),
            )
        } else if self.builtin_only {
            return Ok(Instance {
                trust: TrustMaterial::public_good()?,
                signing: None,
                source: TrustSource::Embedded,
                ca_roots_replaced: false,
            });
        } else {
            match crate::commands::tuf::cached_trust()
                .map_err(|e| ResolveError::Tuf(Box::new(e)))?
            {
                Some(cached) => {
                    let signing = match cached.signing_config {
                        Some(json) => Some(SigningConfig::from_json(&json).map_err(|e| {
                            material_error(
                                "signing config from the TUF repository",
                                Path::new(&cached.mirror),
                                e,
                            )
                        })?),
                        None => None,
                    };
                    (
                        TrustMaterial::from_json(&cached.trusted_root)?,
                        signing,
                        TrustSource::Tuf {
                            mirror: cached.mirror,
                        },
                    )
                }
                None => (TrustMaterial::public_good()?, None, TrustSource::Embedded),
            }
        };
        let (trust, ca_roots_replaced) = with_root_file(trust)?;
        let trust = crate::cosign_env::apply(trust, log_url)?;
        Ok(Instance {
            trust,
            signing,
            source,
            ca_roots_replaced,
        })
    }
}

impl From<keyless_verify::error::TrustRootError> for ResolveError {
    fn from(e: keyless_verify::error::TrustRootError) -> Self {
        Self::Material(e.into())
    }
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

fn read_trust_config(path: &Path) -> Result<ClientTrustConfig, keyless_verify::VerificationError> {
    let json = std::fs::read(path).map_err(|e| material_error("trust config", path, e))?;
    ClientTrustConfig::from_json(&json).map_err(|e| material_error("trust config", path, e))
}

/// `SIGSTORE_ROOT_FILE`, as in cosign: a PEM file of CA certificates that
/// replaces the trusted root's certificate authorities (self-signed ones are
/// roots, the rest intermediates), trusted without a time bound.
fn with_root_file(
    mut trust: TrustMaterial,
) -> Result<(TrustMaterial, bool), keyless_verify::VerificationError> {
    let Some(path) = std::env::var_os("SIGSTORE_ROOT_FILE").filter(|p| !p.is_empty()) else {
        return Ok((trust, false));
    };
    let path = PathBuf::from(path);
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| material_error("SIGSTORE_ROOT_FILE", &path, e.to_string()))?;
    let mut roots = Vec::new();
    let mut intermediates = Vec::new();
    for block in pem
        .split_inclusive("-----END CERTIFICATE-----")
        .filter(|b| b.contains("-----BEGIN"))
    {
        let cert = keyless_x509::Certificate::from_pem(block)
            .map_err(|e| material_error("SIGSTORE_ROOT_FILE", &path, e.to_string()))?;
        if cert.is_self_issued() {
            roots.push(cert);
        } else {
            intermediates.push(cert);
        }
    }
    if roots.is_empty() {
        return Err(material_error(
            "SIGSTORE_ROOT_FILE",
            &path,
            String::from("no self-signed root certificate in the file"),
        ));
    }
    trust.fulcio = roots
        .into_iter()
        .map(|root| {
            let mut chain = intermediates.clone();
            chain.push(root);
            keyless_verify::TrustedAuthority {
                uri: path.display().to_string(),
                chain,
                valid_for: keyless_types::ValidityPeriod {
                    start: i64::MIN,
                    end: None,
                },
            }
        })
        .collect();
    Ok((trust, true))
}

fn material_error(
    what: &'static str,
    path: &Path,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> keyless_verify::VerificationError {
    keyless_verify::error::TrustRootError::Unusable {
        what,
        name: path.display().to_string(),
        source: source.into(),
    }
    .into()
}

impl Instance {
    /// Whether the trust in use is the public-good instance's, untouched:
    /// only then may its services be used for a service nobody named.
    pub fn is_public_good(&self) -> bool {
        !self.ca_roots_replaced
            && match &self.source {
                TrustSource::Embedded => true,
                TrustSource::Tuf { mirror } => {
                    mirror.trim_end_matches('/') == crate::commands::tuf::PUBLIC_GOOD_MIRROR
                }
                TrustSource::TrustConfig(_) | TrustSource::TrustedRootFile(_) => false,
            }
    }

    /// Pick endpoints: explicit flags win, then a --signing-config file, then
    /// the instance's signing config, then — only for public-good trust and
    /// when neither --fulcio-url nor --rekor-url names a private service —
    /// the public-good services. A private instance never reaches a public
    /// service that the user did not name.
    pub fn endpoints(&self, args: &ServiceArgs) -> Result<Endpoints> {
        let file_config = match &args.signing_config {
            Some(p) => Some(
                SigningConfig::from_json(&read(p, "signing config")?)
                    .map_err(anyhow::Error::msg)?,
            ),
            None => None,
        };
        let named = args.fulcio_url.is_some() || args.rekor_url.is_some();
        let public = self.is_public_good();
        // The public-good signing config (embedded, or from the public TUF
        // repository) fills gaps only when the user named no service of
        // their own: `--fulcio-url`/`--rekor-url` mean a private instance.
        let instance_config = if public && named {
            None
        } else {
            self.signing.clone()
        };
        let config = file_config
            .or(instance_config)
            .or_else(|| (public && !named).then(public_good_signing_config));
        let why_none = || -> String {
            if public {
                "--fulcio-url/--rekor-url name a private instance, so the public-good services are not used for the rest".into()
            } else {
                format!("the trust in use is {} (not public-good), so no public-good service is used by default", self.source)
            }
        };
        let services = |pick: fn(&SigningConfig) -> &Vec<Service>, versions: &[u32]| {
            config
                .as_ref()
                .and_then(|c| SigningConfig::select(pick(c), versions, now()))
                .cloned()
        };
        let fulcio = match &args.fulcio_url {
            Some(u) => u.clone(),
            None => match services(|c| &c.ca_urls, &[1]) {
                Some(s) => s.url,
                None => bail!("no certificate authority to sign with: pass --fulcio-url or --signing-config ({})", why_none()),
            },
        };
        let wanted_version = if args.rekor_v1 {
            Some(1)
        } else {
            args.rekor_version
        };
        let versions: &[u32] = match wanted_version {
            Some(1) => &[1],
            Some(_) => &[2],
            None => &[2, 1],
        };
        let (rekor, rekor_version) = match &args.rekor_url {
            _ if args.without_log => (String::new(), 0),
            // cosign's --rekor-url is a Rekor v1 log.
            Some(u) => (u.clone(), wanted_version.unwrap_or(1)),
            None => match services(|c| &c.rekor_tlog_urls, versions) {
                Some(s) => (s.url, s.major_api_version),
                None => bail!("no transparency log to record the signature in: pass --rekor-url or --signing-config ({})", why_none()),
            },
        };
        let tsa = args
            .timestamp_server_url
            .clone()
            .or_else(|| services(|c| &c.tsa_urls, &[1]).map(|s| s.url));
        if args.without_log && tsa.is_none() {
            bail!(
                "--tlog-upload=false needs a timestamp authority: without a log entry or a timestamp there is no \
                 trusted signing time; pass --timestamp-server-url or use a signing config with tsaUrls"
            );
        }
        if rekor_version == 2 && tsa.is_none() {
            bail!(
                "Rekor v2 entries carry no signed time, so a timestamp authority is required: pass --timestamp-server-url \
                 or use a signing config with tsaUrls{}",
                if config.is_none() { format!(" ({})", why_none()) } else { String::new() }
            );
        }
        if tsa.is_none() && !args.without_log {
            eprintln!(
                "Note: no timestamp authority is configured, so the signature is timestamped only by the \
                 Rekor v1 log's signed integrated time ({})",
                if config.is_none() { why_none() } else { "the signing config names none".into() }
            );
        }
        let oidc_issuer = args
            .oidc_issuer
            .clone()
            .or_else(|| services(|c| &c.oidc_urls, &[1]).map(|s| s.url));
        Ok(Endpoints {
            fulcio,
            rekor,
            rekor_version,
            tsa,
            oidc_issuer,
            oidc_client_id: args.oidc_client_id.clone(),
        })
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The public-good instance's services (what its TUF-distributed
/// signing_config lists).
fn public_good_signing_config() -> SigningConfig {
    let svc = |url: &str, v: u32, start: &str| Service {
        url: url.into(),
        major_api_version: v,
        valid_for: TimeRange {
            start: Some(start.into()),
            end: None,
        },
        operator: "sigstore.dev".into(),
    };
    SigningConfig {
        media_type: SIGNING_CONFIG_MEDIA_TYPE.into(),
        ca_urls: vec![svc(
            "https://fulcio.sigstore.dev",
            1,
            "2023-04-14T21:38:40Z",
        )],
        oidc_urls: vec![svc(
            "https://oauth2.sigstore.dev/auth",
            1,
            "2025-04-16T00:00:00Z",
        )],
        rekor_tlog_urls: vec![svc("https://rekor.sigstore.dev", 1, "2021-01-12T11:53:27Z")],
        rekor_tlog_config: None,
        tsa_urls: vec![svc(
            "https://timestamp.sigstore.dev/api/v1/timestamp",
            1,
            "2025-07-04T00:00:00Z",
        )],
        tsa_config: None,
    }
}

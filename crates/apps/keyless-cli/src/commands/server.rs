//! `keyless server …`: run the services.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::log_metrics::spawn_log_gauges;

mod ct;
mod run;
mod witnesses;

pub use witnesses::WitnessArgs;

/// Environment variable naming the configuration file (as `--config`).
pub const CONFIG_ENV: &str = "KEYLESS_CONFIG";

#[derive(Debug, clap::Args)]
pub struct Server {
    /// Run the whole local stack (OIDC issuer, CA + CT log, transparency
    /// log, TSA, TUF repository) in one process. Development only: the
    /// OIDC issuer approves every sign-in.
    #[arg(long)]
    pub dev: bool,
    /// Where keys, the log and the client files live (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".keyless-dev")]
    pub data_dir: PathBuf,
    /// Address of the health endpoint; services use the next five ports
    /// (all random when the port is 0).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// With --dev: keep the transparency log in PostgreSQL (postgresql://…
    /// URL or key=value connection string) instead of files in --data-dir.
    /// The schema is created on first start.
    #[arg(long, value_name = "URL", requires = "dev")]
    pub postgres: Option<String>,
    /// With --dev: serve every service over HTTPS with a certificate from a
    /// throwaway CA made at each start (`<data dir>/tls/ca.pem`). Client
    /// commands trust it with `SSL_CERT_FILE=<data dir>/tls/ca.pem`.
    #[arg(long, requires = "dev", conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls: bool,
    /// TOML configuration file: a [server] table and one per service
    /// ([log], [ca], …), each key a flag's long name (docs/config/);
    /// flags given on the command line override it.
    #[arg(long, value_name = "FILE", global = true, env = CONFIG_ENV)]
    pub config: Option<PathBuf>,
    /// Check a configuration file without starting anything: print what
    /// was checked, exit 0 when valid and 1 when not. After a service
    /// (`keyless server log --check-config FILE`): only [server] and its table.
    #[arg(long, value_name = "FILE", global = true)]
    pub check_config: Option<PathBuf>,
    #[command(flatten)]
    pub serving: Serving,
    #[command(subcommand)]
    pub service: Option<Service>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Service {
    /// The transparency log alone (Rekor v1/v2 APIs and tlog-tiles).
    Log {
        /// Where the log keeps its key, tiles, checkpoint and entry index
        /// (created if missing; locked while the log runs).
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// Address to serve the Rekor APIs and tlog-tiles on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// Checkpoint origin; defaults to the listen address (host:port).
        #[arg(long)]
        origin: Option<String>,
        /// Store the log in PostgreSQL (postgresql://… URL) instead of files
        /// in --data-dir (which then holds only the log key).
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
        /// Most entries made durable in one commit. Batches form by group
        /// commit: what arrives while the previous batch is being synced.
        #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=65536))]
        batch_size: u32,
        /// Longest a batch waits for the previous commit before it is
        /// handed over anyway (milliseconds).
        #[arg(long, value_name = "MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch_interval_ms: u64,
        /// Shortest time between two commits (milliseconds): under load a
        /// batch stays open this long after the previous one closed, so
        /// each round of fsyncs covers more entries; an entry after a quiet
        /// spell is committed at once. 0 commits as soon as the previous
        /// commit is done.
        #[arg(long, value_name = "MS", default_value_t = keyless_log::DEFAULT_BATCH_LINGER.as_millis() as u64, value_parser = clap::value_parser!(u64).range(0..=1_000))]
        batch_linger_ms: u64,
        /// Largest request body accepted, in bytes (larger requests get 413).
        #[arg(long, value_name = "BYTES", default_value_t = keyless_rekor::DEFAULT_MAX_BODY as u64, value_parser = clap::value_parser!(u64).range(1024..=16 * 1024 * 1024))]
        max_body: u64,
        #[command(flatten)]
        witness: WitnessArgs,
        /// The log's signing key on a PKCS#11 token instead of log.key in
        /// --data-dir (an ECDSA P-256 key if --pkcs11-generate-key makes it).
        #[command(flatten)]
        pkcs11: Pkcs11Args,
    },
    /// The CT log alone (RFC 6962 add-chain / add-pre-chain, C2SP
    /// static-ct-api tiles under /ct), for CAs given its URL.
    Ct(ct::CtArgs),
    /// The certificate authority alone (Fulcio v2 API).
    Ca {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5555")]
        listen: SocketAddr,
        /// Fulcio-style issuer configuration (JSON with OIDCIssuers / MetaIssuers).
        #[arg(long, value_name = "FILE")]
        issuers: PathBuf,
        /// Curve of the issuing (intermediate) key generated on first start
        /// (in --data-dir, or on the token with --pkcs11-generate-key).
        #[arg(long, value_name = "CURVE", default_value = "p384", value_parser = ["p256", "p384"])]
        intermediate_key_algorithm: String,
        /// Environment variable holding the password of the CA keys
        /// (stored as encrypted PKCS#8 when set).
        #[arg(long, value_name = "NAME")]
        key_password_env: Option<String>,
        /// Submit precertificates to this remote RFC 6962 CT log (its base
        /// URL or its /ct/v1/add-pre-chain URL) instead of the CA's own, so
        /// that CA replicas share one log; issuance fails if it is down.
        #[arg(long, value_name = "URL", requires = "ct_log_public_key")]
        ct_log_url: Option<String>,
        /// The remote CT log's public key (PEM): its SCTs must verify with it.
        #[arg(long, value_name = "FILE", requires = "ct_log_url")]
        ct_log_public_key: Option<PathBuf>,
        /// Checkpoint origin of the CA's own CT log, used when the log is
        /// created; defaults to the CA's URL without its scheme (its
        /// submission prefix, as C2SP static-ct-api says). An existing log
        /// keeps its origin: another value here is an error.
        #[arg(long, value_name = "ORIGIN")]
        ct_origin: Option<String>,
        /// Witnesses asked to cosign the CA's CT log's checkpoints.
        #[command(flatten)]
        witness: WitnessArgs,
        /// The issuing (intermediate) key on a PKCS#11 token. --data-dir
        /// then keeps the root key and the certificates; on first start the
        /// root issues the intermediate certificate for the token key.
        #[command(flatten)]
        pkcs11: Pkcs11Args,
    },
    /// The development OIDC issuer alone.
    Oidc {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5556")]
        listen: SocketAddr,
    },
    /// The RFC 3161 timestamp authority alone.
    Tsa {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5557")]
        listen: SocketAddr,
        /// The time-stamping (signing) key on a PKCS#11 token. --data-dir
        /// then keeps the root and intermediate keys and the certificates;
        /// on first start the intermediate issues the signing certificate
        /// for the token key (a P-256 key if --pkcs11-generate-key makes it).
        #[command(flatten)]
        pkcs11: Pkcs11Args,
    },
}

/// How a service listens and logs: the same options for every service
/// (`keyless witness` too).
#[derive(Debug, clap::Args)]
pub struct Serving {
    /// Serve HTTPS with this PEM certificate chain (leaf first) instead of
    /// plain HTTP. Read again on SIGHUP, so a renewed certificate is served
    /// without a restart (a renewal that does not load is logged and the
    /// current one kept).
    #[arg(long, value_name = "FILE", global = true, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (PKCS#8, SEC1 or PKCS#1).
    #[arg(long, value_name = "FILE", global = true, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Log lines as human-readable text or as one JSON object per line.
    #[arg(long, value_name = "FORMAT", global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

impl Serving {
    pub(crate) fn tls(&self) -> Option<keyless_serve::TlsFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(keyless_serve::TlsFiles::new(cert, key)),
            _ => None,
        }
    }

    /// The scheme of the URLs the service announces for itself.
    pub(crate) fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// A service's signing key on a PKCS#11 token: the same options, with the
/// same meaning, for the CA (its issuing key) and the TSA (its signing key).
#[derive(Debug, clap::Args)]
pub struct Pkcs11Args {
    /// PKCS#11 module (shared library) of the token holding the signing
    /// key, e.g. /usr/lib/softhsm/libsofthsm2.so. The key then never
    /// leaves the token.
    #[arg(long, value_name = "PATH", requires_all = ["pkcs11_token_label", "pkcs11_key_label"])]
    pkcs11_module: Option<PathBuf>,
    /// Label of the PKCS#11 token (as given when it was initialized).
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pkcs11_token_label: Option<String>,
    /// Label (CKA_LABEL) of the signing key pair on the token.
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pkcs11_key_label: Option<String>,
    /// Environment variable holding the token's user PIN. The PIN is
    /// never taken as a flag value and never logged.
    #[arg(long, value_name = "VAR", default_value = keyless_ca::pkcs11::DEFAULT_PIN_ENV)]
    pkcs11_pin_env: String,
    /// Generate the key pair on the token (persistent, sensitive,
    /// non-extractable; for the CA on the curve of
    /// --intermediate-key-algorithm) when no key carries
    /// --pkcs11-key-label. Without it a missing key is an error, so that a
    /// mistyped label does not mint a new key.
    #[arg(long, requires = "pkcs11_module")]
    pkcs11_generate_key: bool,
}

impl Pkcs11Args {
    /// The token configuration, if --pkcs11-module was given.
    fn config(&self) -> Result<Option<keyless_ca::Pkcs11Config>> {
        let Some(module) = &self.pkcs11_module else {
            return Ok(None);
        };
        // clap enforces both labels with --pkcs11-module.
        let (Some(token), Some(key)) = (&self.pkcs11_token_label, &self.pkcs11_key_label) else {
            bail!("--pkcs11-module needs --pkcs11-token-label and --pkcs11-key-label");
        };
        let mut pkcs11 = keyless_ca::Pkcs11Config::new(module, token.clone(), key.clone());
        pkcs11.pin_env = self.pkcs11_pin_env.clone();
        pkcs11.generate_key = self.pkcs11_generate_key;
        Ok(Some(pkcs11))
    }
}

impl Service {
    async fn run(&self, serving: &Serving) -> Result<()> {
        let scheme = serving.scheme();
        let mut log_handle = None;
        let (listener, app, name) = match self {
            Self::Log {
                data_dir,
                listen,
                origin,
                postgres,
                batch_size,
                batch_interval_ms,
                batch_linger_ms,
                max_body,
                witness,
                pkcs11,
            } => {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                let origin = origin.clone().unwrap_or_else(|| listen.to_string());
                let mut config = keyless_log::LogConfig::new(data_dir, origin);
                config.batch_size = *batch_size as usize;
                config.batch_interval = std::time::Duration::from_millis(*batch_interval_ms);
                config.batch_linger = std::time::Duration::from_millis(*batch_linger_ms);
                if let Some(url) = postgres {
                    config = config.with_postgres(url.clone());
                }
                config.pkcs11 = pkcs11.config()?;
                if config.pkcs11.is_some() {
                    config.key_type = keyless_log::LogKeyType::EcdsaP256;
                }
                let mut config = keyless_rekor::RekorConfig::new(config);
                config.limits.max_body = usize::try_from(*max_body).context("--max-body")?;
                config.witnesses = witness.endpoints()?;
                let (log, app) = keyless_rekor::open_app(config).await?;
                let ready = log_readiness(log.clone());
                spawn_log_gauges(log.clone());
                log_handle = Some(log.clone());
                let app = keyless_serve::instrument(app, "log", ready);
                (listener, app, "transparency log")
            }
            Self::Ca {
                data_dir,
                listen,
                issuers,
                intermediate_key_algorithm,
                key_password_env,
                ct_log_url,
                ct_log_public_key,
                ct_origin,
                witness,
                pkcs11,
            } => {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                let mut config = keyless_ca::CaConfig::new(
                    data_dir,
                    keyless_ca::IssuersSource::File(issuers.clone()),
                );
                config.keys.intermediate_algorithm = match intermediate_key_algorithm.as_str() {
                    "p256" => keyless_ca::KeyAlgorithm::EcdsaP256,
                    _ => keyless_ca::KeyAlgorithm::EcdsaP384,
                };
                config.keys.password_env = key_password_env.clone();
                config.keys.pkcs11 = pkcs11.config()?;
                if let (Some(url), Some(key)) = (ct_log_url, ct_log_public_key) {
                    config.ct_remote = Some(keyless_ca::RemoteCtLog::from_pem_file(url, key)?);
                }
                config.ct.origin = ct_origin.clone();
                config.ct_witnesses = witness.endpoints()?;
                let public_url = config
                    .public_url
                    .clone()
                    .unwrap_or_else(|| format!("{scheme}://{}", listen));
                // Keys and certificates are loaded here or start-up fails.
                let state = keyless_ca::CaState::new(&config, &public_url)
                    .context("starting the certificate authority")?;
                let app = keyless_serve::instrument(
                    keyless_ca::router(state),
                    "ca",
                    keyless_serve::Readiness::always(),
                );
                (listener, app, "certificate authority")
            }
            Self::Ct(args) => {
                let (listener, app) = args.open().await?;
                (listener, app, "CT log")
            }
            Self::Oidc { data_dir, listen } => {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                let mut config = keyless_oidc_dev::OidcDevConfig::new(data_dir);
                config.issuer_url = Some(format!("{scheme}://{listen}"));
                let issuer = keyless_oidc_dev::open_for(config, &listener)?;
                tracing::warn!(url = %issuer.base_url, "DEVELOPMENT OIDC issuer: approves logins without authentication");
                let app = keyless_serve::instrument(
                    keyless_oidc_dev::router(issuer),
                    "oidc",
                    keyless_serve::Readiness::always(),
                );
                (listener, app, "development OIDC issuer")
            }
            Self::Tsa {
                data_dir,
                listen,
                pkcs11,
            } => {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                let mut config = keyless_tsa::TsaConfig::new(data_dir);
                config.pkcs11 = pkcs11.config()?;
                let mut tsa = keyless_tsa::Tsa::open(&config)?;
                if tsa.uri().is_none() {
                    tsa.set_uri(format!(
                        "{scheme}://{listen}{}",
                        keyless_tsa::TIMESTAMP_PATH
                    ));
                }
                let app = keyless_serve::instrument(
                    keyless_tsa::router(std::sync::Arc::new(tsa)),
                    "tsa",
                    keyless_serve::Readiness::always(),
                );
                (listener, app, "timestamp authority")
            }
        };
        let addr = listener.local_addr()?;
        tracing::info!(%addr, %scheme, "{name} listening");
        // SIGTERM/SIGINT: stop accepting, answer every request already
        // received (appends and issuances included), then exit 0.
        keyless_serve::serve(
            listener,
            app,
            serving.tls().as_ref(),
            crate::shutdown::signal(),
        )
        .await
        .with_context(|| format!("serving the {name} on {addr}"))?;
        if let Some(log) = log_handle {
            crate::shutdown::drain_log(&log, std::time::Duration::from_secs(30)).await;
        }
        tracing::info!("{name} stopped");
        Ok(())
    }
}

/// The log is ready while its storage answers: the latest entry (if any)
/// reads back and the entry index answers a lookup.
fn log_readiness(log: keyless_log::Log) -> keyless_serve::Readiness {
    keyless_serve::Readiness::new(move || {
        let size = log.published().size;
        if size > 0 {
            log.entry(size - 1)
                .map_err(|_| "the log's storage does not answer".to_owned())?;
        }
        log.find_leaf(&[0u8; 32])
            .map_err(|_| "the log's entry index does not answer".to_owned())?;
        Ok(())
    })
}

//! `keyless server ct`: the CA's CT log alone, for CAs that submit to it
//! by URL (`keyless server ca --ct-log-url`): RFC 6962 `add-pre-chain`,
//! `add-chain`, `get-sth`, `get-roots`, and the C2SP static-ct-api read
//! path under `/ct`. The same durable log as the CA's own (an SCT only
//! after its entry is committed), in files under `--data-dir` or in
//! PostgreSQL.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

/// The CT log's key in `--data-dir` (ECDSA P-256, 0600, made on first start).
pub const CT_KEY_FILE: &str = "ctlog.key.pem";
/// Its public key, written at each start for the CAs' `--ct-log-public-key`.
pub const CT_PUBLIC_KEY_FILE: &str = "ctlog.pub.pem";

/// Largest `--roots` file read.
const MAX_ROOTS_FILE: u64 = 1024 * 1024;
/// Most root certificates accepted from it.
const MAX_ROOTS: usize = 100;

#[derive(Debug, clap::Args)]
pub struct CtArgs {
    /// Where the CT log keeps its key (ctlog.key.pem), the issuer
    /// certificates and, without --postgres, its tiles and checkpoint
    /// (created if missing; locked while the log runs).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Address to serve the CT API on.
    #[arg(
        long,
        visible_alias = "addr",
        value_name = "ADDR",
        default_value = "127.0.0.1:6962"
    )]
    pub listen: SocketAddr,
    /// PEM file of the root certificates whose chains the log accepts
    /// (the CA's root: `<CA data dir>/root.pem` or trusted_root.json's).
    #[arg(long, value_name = "FILE")]
    pub roots: PathBuf,
    /// Checkpoint origin, used when the log is created; defaults to the
    /// listen address (host:port: the submission prefix without its
    /// scheme, as C2SP static-ct-api says). An existing log keeps its
    /// origin: another value here is an error.
    #[arg(long)]
    pub origin: Option<String>,
    /// Store the log in PostgreSQL (postgresql://… URL), in the schema
    /// keyless_ct, instead of files in --data-dir.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Shortest time between two commits (milliseconds), as for
    /// `keyless server log`.
    #[arg(long, value_name = "MS", default_value_t = keyless_ca::ct_durable::DEFAULT_CT_BATCH_LINGER.as_millis() as u64, value_parser = clap::value_parser!(u64).range(0..=1_000))]
    pub batch_linger_ms: u64,
    /// Largest add-chain / add-pre-chain body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=16 * 1024 * 1024))]
    pub max_body: u64,
    #[command(flatten)]
    pub witness: super::WitnessArgs,
}

/// The root certificates of a PEM file (one or more CERTIFICATE blocks).
fn read_roots(path: &Path) -> Result<Vec<keyless_x509::Certificate>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading --roots {}", path.display()))?
        .len();
    if size > MAX_ROOTS_FILE {
        bail!(
            "--roots {} is larger than {MAX_ROOTS_FILE} bytes",
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --roots {}", path.display()))?;
    const END: &str = "-----END CERTIFICATE-----";
    let mut roots = Vec::new();
    let mut rest = text.as_str();
    while let Some(end) = rest.find(END) {
        let block = &rest[..end + END.len()];
        rest = &rest[end + END.len()..];
        let cert = keyless_x509::Certificate::from_pem(block.trim())
            .with_context(|| format!("a certificate in --roots {}", path.display()))?;
        roots.push(cert);
        if roots.len() > MAX_ROOTS {
            bail!(
                "--roots {} holds more than {MAX_ROOTS} certificates",
                path.display()
            );
        }
    }
    if roots.is_empty() {
        bail!("--roots {} holds no PEM certificate", path.display());
    }
    Ok(roots)
}

impl CtArgs {
    /// Open the log (blocking work off the runtime) and build its app.
    pub async fn open(&self) -> Result<(tokio::net::TcpListener, axum::Router)> {
        let roots = read_roots(&self.roots)?;
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .with_context(|| format!("binding {}", self.listen))?;
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let (key, _) = keyless_keys::file::load_or_generate(
            &self.data_dir.join(CT_KEY_FILE),
            keyless_ca::KeyAlgorithm::EcdsaP256,
            None,
        )
        .context("the CT log key")?;
        std::fs::write(
            self.data_dir.join(CT_PUBLIC_KEY_FILE),
            key.public_key().to_pem(),
        )
        .context("writing the CT log's public key")?;
        let mut options = keyless_ca::CtLogOptions {
            origin: self.origin.clone(),
            origin_if_new: Some(self.listen.to_string()),
            batch_linger: std::time::Duration::from_millis(self.batch_linger_ms),
            ..Default::default()
        };
        if let Some(url) = &self.postgres {
            options.storage = keyless_log::StorageBackend::Postgres { url: url.clone() };
        }
        let dir = self.data_dir.clone();
        let log = tokio::task::spawn_blocking(move || {
            keyless_ca::DurableCtLog::open(&dir, &options, key, roots)
        })
        .await?
        .context("opening the CT log")?;
        log.witness(self.witness.endpoints()?)
            .context("starting the witnessing")?;
        let log = Arc::new(log);
        tracing::info!(
            log_id = %hex::encode(log.log_id()),
            size = log.size(),
            origin = %log.log().origin(),
            "CT log opened"
        );
        let ready_log = log.clone();
        let ready = keyless_serve::Readiness::new(move || {
            ready_log
                .log()
                .find_leaf(&[0u8; 32])
                .map(|_| ())
                .map_err(|_| "the CT log's entry index does not answer".to_owned())
        });
        let app = keyless_ca::ct_router(keyless_ca::CtHttp {
            log,
            max_body_bytes: usize::try_from(self.max_body).context("--max-body")?,
        });
        Ok((listener, keyless_serve::instrument(app, "ct", ready)))
    }
}

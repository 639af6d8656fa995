//! `keyless server --dev`: the whole system on loopback in one process —
//! development OIDC issuer, CA with its CT log, transparency log, timestamp
//! authority, a static TUF repository and a C2SP witness that cosigns the
//! checkpoints of both logs (the transparency log and the CA's CT log) —
//! on embedded storage in one data directory, keys generated on first
//! start and reused after.
//!
//! Before it reports ready it writes, in the data directory:
//! `trusted_root.json`, `signing_config.json` (Sigstore formats),
//! `trust_config.json` (ClientTrustConfig), `stack.json` (every service's
//! URL), `witness_policy.txt` (a C2SP tlog-policy requiring the dev
//! witness's cosignature, for `--witness-policy`) and `tuf/root.json` (the
//! TUF repository's initial root).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use keyless_types::signing_config::{
    ClientTrustConfig, Service, SigningConfig, CLIENT_TRUST_CONFIG_MEDIA_TYPE,
    SIGNING_CONFIG_MEDIA_TYPE,
};
use keyless_types::wire::{self, TimeRange};
use serde::Serialize;
use tokio::net::TcpListener;

mod serve;
use serve::{ready, Services};
mod witness;

pub use witness::WITNESS_POLICY_FILE;

/// The URLs of a running stack, as `stack.json` lists them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackUrls {
    pub ca_url: String,
    pub log_url: String,
    pub tsa_url: String,
    pub oidc_issuer: String,
    pub tuf_url: String,
    /// Where `/healthz` answers.
    pub health_url: String,
    /// The dev witness's tlog-witness submission prefix (always plain
    /// HTTP on loopback: only the logs, in the same process, talk to it).
    pub witness_url: String,
}

/// A started stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub data_dir: PathBuf,
    pub urls: StackUrls,
    /// Its servers and logs, stopped together by [`Stack::shutdown`].
    services: Arc<Services>,
}

impl Stack {
    /// Stop every service gracefully: stop accepting, answer the requests
    /// already received, then let the transparency log and the CT log
    /// finish what they queued (all within `limit`). Without this the
    /// services run until the process ends.
    pub async fn shutdown(&self, limit: std::time::Duration) {
        self.services.stop(limit).await;
    }

    pub fn trust_config_path(&self) -> PathBuf {
        self.data_dir.join("trust_config.json")
    }

    /// The 1-of-1 witness policy naming the dev witness.
    pub fn witness_policy_path(&self) -> PathBuf {
        self.data_dir.join(WITNESS_POLICY_FILE)
    }
}

async fn bind(host: std::net::IpAddr, port: u16) -> Result<TcpListener> {
    TcpListener::bind(SocketAddr::new(host, port))
        .await
        .with_context(|| format!("listening on {host}:{port}"))
}

/// Start every service and write the client files. Services run on the
/// current tokio runtime until the process ends. `listen` is the health
/// endpoint's address; the services take the next six ports (or random
/// ports when `listen`'s port is 0).
pub async fn start(data_dir: &Path, listen: SocketAddr) -> Result<Stack> {
    start_with(data_dir, listen, &StackOptions::default()).await
}

/// Choices for the stack beyond where it lives and listens.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Keep the transparency log in this PostgreSQL database
    /// (`postgresql://…` or `host=… port=…`) instead of files in the data
    /// directory, which then holds only the log's key.
    pub postgres: Option<String>,
    /// Serve every service over HTTPS with this certificate (see
    /// [`make_dev_tls`]); the URLs are then `https://`.
    pub tls: Option<keyless_serve::TlsFiles>,
}

/// [`start`] with [`StackOptions`].
pub async fn start_with(
    data_dir: &Path,
    listen: SocketAddr,
    options: &StackOptions,
) -> Result<Stack> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let host = listen.ip();
    let port = |i: u16| {
        if listen.port() == 0 {
            0
        } else {
            listen.port() + i
        }
    };
    let services = Arc::new(Services::new());
    let front = bind(host, listen.port()).await?;
    let (oidc_l, ca_l, log_l, tsa_l, tuf_l, witness_l) = (
        bind(host, port(1)).await?,
        bind(host, port(2)).await?,
        bind(host, port(3)).await?,
        bind(host, port(4)).await?,
        bind(host, port(5)).await?,
        bind(host, port(6)).await?,
    );
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let url = |l: &TcpListener| -> Result<String> { Ok(format!("{scheme}://{}", l.local_addr()?)) };
    let tls = options.tls.clone();
    let urls = StackUrls {
        oidc_issuer: url(&oidc_l)?,
        ca_url: url(&ca_l)?,
        log_url: url(&log_l)?,
        tsa_url: format!("{}{}", url(&tsa_l)?, keyless_tsa::TIMESTAMP_PATH),
        tuf_url: url(&tuf_l)?,
        health_url: format!("{}/healthz", url(&front)?),
        witness_url: format!("http://{}", witness_l.local_addr()?),
    };

    // Development OIDC issuer.
    let mut oidc_config = keyless_oidc_dev::OidcDevConfig::new(data_dir.join("oidc"));
    oidc_config.issuer_url = Some(urls.oidc_issuer.clone());
    let issuer = keyless_oidc_dev::open_for(oidc_config, &oidc_l)
        .context("starting the development OIDC issuer")?;
    let issuers_json = issuer.ca_issuers_config();
    let oidc_app = keyless_serve::instrument(keyless_oidc_dev::router(issuer), "oidc", ready());
    services.spawn_serve(oidc_l, oidc_app, &tls);

    // Certificate authority and its CT log, trusting the dev issuer.
    let issuers: keyless_ca::IssuersConfig =
        serde_json::from_value(issuers_json).context("the dev issuer's CA configuration")?;
    let mut ca_config = keyless_ca::CaConfig::new(
        data_dir.join("ca"),
        keyless_ca::IssuersSource::Inline(issuers),
    );
    ca_config.public_url = Some(urls.ca_url.clone());
    // With --postgres the CA's CT log is in the same database (its own
    // schema, keyless_ct), beside the transparency log.
    if let Some(url) = &options.postgres {
        ca_config.ct.storage = keyless_log::StorageBackend::Postgres { url: url.clone() };
    }
    let material =
        keyless_ca::CaMaterial::load_or_create_with(&ca_config.data_dir, &ca_config.keys)
            .context("CA keys and certificates")?;
    let ca_root = keyless_ca::trusted_root(&material, &urls.ca_url, &urls.ca_url);
    // Its CT log is named by the CA's URL (static-ct-api) when created.
    let ca_state = keyless_ca::CaState::new(&ca_config, &urls.ca_url).context("starting the CA")?;
    let ct_log = ca_state.ct.clone();
    let ca_app = keyless_serve::instrument(keyless_ca::router(ca_state), "ca", ready());
    services.spawn_serve(ca_l, ca_app, &tls);

    // Transparency log (Rekor v2 and v1 personalities), signing as
    // host:port. ECDSA P-256, as the public Rekor v1: v1 clients (cosign,
    // keyless --rekor-v1) attribute checkpoint signatures by key hint alone,
    // which only an ECDSA key's hint allows, and its log ID (SHA-256 of the
    // DER SPKI) is then the same for v1 and v2. A data directory that
    // already holds a key keeps it.
    let origin = urls
        .log_url
        .trim_start_matches(&format!("{scheme}://"))
        .to_string();
    let mut log_config = keyless_log::LogConfig::new(data_dir.join("log"), origin.clone());
    log_config.key_type = keyless_log::LogKeyType::EcdsaP256;
    if let Some(url) = &options.postgres {
        log_config = log_config.with_postgres(url.clone());
    }
    let log = tokio::task::spawn_blocking(move || keyless_log::open_from_config(log_config))
        .await?
        .context("opening the transparency log")?;
    let log_entry = tlog_entry(&urls.log_url, log.public_key(), log.log_id());
    crate::log_metrics::spawn_log_gauges(log.clone());
    // One witness for both logs: the transparency log and the CT log.
    services.drain_on_stop(log.clone());
    services.drain_on_stop(ct_log.log().clone());
    let witness = witness::start(
        data_dir,
        &[&log, ct_log.log()],
        witness_l,
        &urls.witness_url,
        &services,
    )?;
    ct_log
        .witness(vec![witness.clone()])
        .context("starting the CT log's witnessing")?;
    let log_app = keyless_rekor::witnessing::attach(
        keyless_rekor::router(log.clone()),
        keyless_rekor::witnessing::Witnessing::start(log, vec![witness.clone()]),
    );
    let log_app = keyless_serve::instrument(log_app, "log", ready());
    services.spawn_serve(log_l, log_app, &tls);

    // Timestamp authority.
    let mut tsa_config = keyless_tsa::TsaConfig::new(data_dir.join("tsa"));
    tsa_config.uri = Some(urls.tsa_url.clone());
    let tsa = keyless_tsa::Tsa::open(&tsa_config).context("starting the timestamp authority")?;
    let tsa_entry: wire::CertificateAuthority =
        serde_json::from_value(tsa.trusted_root_entry()).context("the TSA's trusted-root entry")?;
    let tsa = Arc::new(tsa);
    let tsa_app = keyless_serve::instrument(keyless_tsa::router(tsa), "tsa", ready());
    services.spawn_serve(tsa_l, tsa_app, &tls);

    // The client files.
    let trusted_root = wire::TrustedRoot {
        media_type: "application/vnd.dev.sigstore.trustedroot+json;version=0.1".into(),
        tlogs: vec![log_entry],
        certificate_authorities: ca_root.certificate_authorities,
        ctlogs: ca_root.ctlogs,
        timestamp_authorities: vec![tsa_entry],
    };
    let signing_config = signing_config(&urls);
    write_json(&data_dir.join("trusted_root.json"), &trusted_root)?;
    write_json(&data_dir.join("signing_config.json"), &signing_config)?;
    let trust_config = ClientTrustConfig {
        media_type: CLIENT_TRUST_CONFIG_MEDIA_TYPE.into(),
        trusted_root: trusted_root.clone(),
        signing_config: signing_config.clone(),
    };
    write_json(&data_dir.join("trust_config.json"), &trust_config)?;
    // The verifier must accept what we publish; fail now rather than later.
    keyless_verify::TrustMaterial::from_json(&std::fs::read(data_dir.join("trusted_root.json"))?)
        .context("the stack's own trusted_root.json does not load")?;

    // TUF repository distributing the two files.
    let tuf_dir = crate::tuf_repo::publish_stack_repo(data_dir)?;
    services.spawn_serve(
        tuf_l,
        axum::Router::new().fallback_service(tower_http::services::ServeDir::new(tuf_dir)),
        &tls,
    );

    write_text(
        &data_dir.join(WITNESS_POLICY_FILE),
        &witness::policy(&witness),
    )?;
    write_json(&data_dir.join("stack.json"), &urls)?;
    let health = axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/stack.json",
            axum::routing::get({
                let urls = urls.clone();
                move || async move { axum::Json(urls) }
            }),
        );
    services.spawn_serve(front, health, &tls);
    wait_healthy(&urls).await?;
    Ok(Stack {
        data_dir: data_dir.to_path_buf(),
        urls,
        services,
    })
}

/// Write `text` to `path` through a temporary file (no half-written policy).
fn write_text(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// `keyless server --dev --tls`: a throwaway CA, new on every start, and a
/// certificate it issues for `host`, `localhost` and 127.0.0.1, written to
/// `<data dir>/tls/` (`ca.pem`; `server.pem`; `server.key`, mode 0600).
/// The CA's key is never written: nothing else can be issued under it.
pub fn make_dev_tls(data_dir: &Path, host: std::net::IpAddr) -> Result<keyless_serve::TlsFiles> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let dir = data_dir.join("tls");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params
        .distinguished_name
        .push(DnType::CommonName, "keyless dev stack throwaway CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if !host.is_loopback() && !host.is_unspecified() {
        names.push(host.to_string());
    }
    let leaf = CertificateParams::new(names)?.signed_by(&key, &ca)?;
    let files = keyless_serve::TlsFiles::new(dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(dir.join("ca.pem"), ca.pem())?;
    std::fs::write(&files.cert, format!("{}{}", leaf.pem(), ca.pem()))?;
    write_private(&files.key, key.serialize_pem().as_bytes())?;
    Ok(files)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

/// The log's `tlogs[]` entry. Its checkpoint origin is not listed: verifiers
/// derive it from `baseUrl`, which is why the log signs as host:port.
fn tlog_entry(
    url: &str,
    key: &keyless_crypto::PublicKey,
    log_id: [u8; 32],
) -> wire::TransparencyLogInstance {
    let key_details = match key.algorithm() {
        keyless_crypto::KeyAlgorithm::Ed25519 => "PKIX_ED25519",
        _ => "PKIX_ECDSA_P256_SHA_256",
    };
    wire::TransparencyLogInstance {
        base_url: url.to_string(),
        hash_algorithm: "SHA2_256".into(),
        public_key: wire::PublicKey {
            raw_bytes: key.spki_der().to_vec(),
            key_details: key_details.into(),
            valid_for: Some(TimeRange {
                start: Some(epoch_start()),
                end: None,
            }),
        },
        log_id: wire::LogId {
            key_id: log_id.to_vec(),
        },
        checkpoint_key_id: None,
        operator: Some("keyless dev stack".into()),
    }
}

/// Validity windows start at the Unix epoch: the stack's keys are trusted
/// for everything they ever signed (they are development keys).
fn epoch_start() -> String {
    "1970-01-01T00:00:00Z".into()
}

fn signing_config(urls: &StackUrls) -> SigningConfig {
    let svc = |url: &str, v: u32| Service {
        url: url.to_string(),
        major_api_version: v,
        valid_for: TimeRange {
            start: Some(epoch_start()),
            end: None,
        },
        operator: "keyless dev stack".into(),
    };
    SigningConfig {
        media_type: SIGNING_CONFIG_MEDIA_TYPE.into(),
        ca_urls: vec![svc(&urls.ca_url, 1)],
        oidc_urls: vec![svc(&urls.oidc_issuer, 1)],
        rekor_tlog_urls: vec![svc(&urls.log_url, 2)],
        rekor_tlog_config: Some(keyless_types::signing_config::ServiceConfiguration {
            selector: "ANY".into(),
            count: None,
        }),
        tsa_urls: vec![svc(&urls.tsa_url, 1)],
        tsa_config: Some(keyless_types::signing_config::ServiceConfiguration {
            selector: "ANY".into(),
            count: None,
        }),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_vec_pretty(value)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

async fn wait_healthy(urls: &StackUrls) -> Result<()> {
    let client = reqwest::Client::new();
    let checks = [
        format!("{}/.well-known/openid-configuration", urls.oidc_issuer),
        format!("{}/api/v2/configuration", urls.ca_url),
        format!("{}/checkpoint", urls.log_url),
        format!(
            "{}{}",
            urls.tsa_url.trim_end_matches(keyless_tsa::TIMESTAMP_PATH),
            keyless_tsa::CERTCHAIN_PATH
        ),
        format!("{}/root.json", urls.tuf_url),
        urls.health_url.clone(),
    ];
    for url in checks {
        let mut ok = false;
        for _ in 0..100 {
            if client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                ok = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        anyhow::ensure!(ok, "service at {url} did not come up");
    }
    Ok(())
}

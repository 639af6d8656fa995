//! Fulcio-compatible certificate authority and the CT log it submits
//! precertificates to.
//!
//! ```text
//! config    issuer allow-list (OIDCIssuers, MetaIssuers, CIIssuerMetadata)
//! token     size/shape → issuer → discovery+JWKS → signature → claims
//! identity  claims → SAN, challenge, Fulcio extensions (templates for CI)
//! pop       challenge signature or CSR self-signature; key policy
//! profile   the certificate profile (SPEC-CHECKS §3.2)
//! ct        SCTs, the CtSubmitter trait, an in-memory RFC 6962 log
//! ct_front  chain checks + SCT signing shared by both logs
//! ct_durable the CA's CT log on the durable log core (keyless-log):
//!           SCT only after the entry is committed
//! ct_tiles  /ct/checkpoint and /ct/tile/*: the log's tlog-tiles read path
//! ca        precert → SCT → final certificate, fail-closed
//! pki       root / intermediate / CT keys in the data dir, self-check
//! signer    CaSigner / CaKey: the issuing key, in software or on a token
//! pkcs11    the issuing key on a PKCS#11 token (HSM, SoftHSM2)
//! trust     the CA's part of trusted_root.json
//! api       Fulcio v2 / v1 HTTP, /ct/v1/*, /trusted_root.json
//! ```
//!
//! The CLI calls [`CaConfig`] + [`serve`]; tests and embedders use
//! [`CaState::new`] + [`router`].
//!
//! # CA keys on a PKCS#11 token
//!
//! By default the root and intermediate keys are files in the data
//! directory (0600, optionally encrypted PKCS#8). With
//! [`KeyOptions::pkcs11`] set to a [`Pkcs11Config`] (module path, token
//! label, key label, and the *name* of the environment variable holding
//! the user PIN), the issuing intermediate key stays on the token instead:
//! an ECDSA P-256 or P-384 key used through `CKM_ECDSA` over a digest
//! computed in software, in a small pool of sessions logged in once at
//! start-up ([`pkcs11`]). On first start the root (still a software key in
//! the data directory: it signs nothing after that) issues the
//! intermediate certificate for the public key read from the token
//! (`CKA_EC_POINT`, `CKA_EC_PARAMS`); later starts check that the token key
//! matches that certificate. [`Pkcs11Config::generate_key`] creates the
//! key pair on the token (sensitive, non-extractable) when the label is
//! not found. Issuance does not know where the key is: it signs through
//! [`CaSigner`] / [`CaKey`]. Tested against SoftHSM2
//! (`tests/pkcs11.rs`; `scripts/ci/install-softhsm.sh` installs it).

pub mod api;
pub mod ca;
pub mod config;
pub mod ct;
pub mod ct_durable;
mod ct_front;
mod ct_tiles;
pub mod error;
pub mod identity;
pub mod pkcs11;
pub mod pki;
pub mod pop;
pub mod profile;
pub mod signer;
pub mod template;
pub mod token;
pub mod trust;

use std::path::PathBuf;
use std::sync::Arc;

pub use api::router;
pub use config::{IssuerConfig, IssuerType, Issuers, IssuersConfig};
pub use ct::{CtLog, CtSubmitter, SignedCertificateTimestamp};
pub use ct_durable::{CtLogOptions, DurableCtLog};
pub use error::{
    error_chain, CaError, ConfigError, CtError, FetchError, IdentityError, IssueError, PopError,
    RequestError, SetupError, TokenError,
};
pub use keyless_crypto::KeyAlgorithm;
pub use pkcs11::{Pkcs11Config, Pkcs11Error};
pub use pki::{CaMaterial, KeyOptions};
pub use signer::{CaKey, CaSigner};
pub use token::{TokenPolicy, TokenVerifier};
pub use trust::{trusted_root, trusted_root_json, write_trusted_root};

/// Where the issuer allow-list comes from.
#[derive(Debug, Clone)]
pub enum IssuersSource {
    /// A Fulcio-style JSON file.
    File(PathBuf),
    /// An in-memory configuration (tests, embedding).
    Inline(IssuersConfig),
}

/// Everything `keyless server ca` needs.
#[derive(Debug, Clone)]
pub struct CaConfig {
    /// Keys (0600) and certificates; created on first start.
    pub data_dir: PathBuf,
    pub issuers: IssuersSource,
    /// The base URL clients reach this CA at, written into
    /// trusted_root.json; defaults to `http://<listen address>`.
    pub public_url: Option<String>,
    pub token_policy: TokenPolicy,
    /// Largest request body accepted (Fulcio caps at 4 MiB; real requests
    /// are a few KiB).
    pub max_body_bytes: usize,
    /// Intermediate key curve (first start) and the environment variable
    /// holding the password of encrypted CA keys.
    pub keys: KeyOptions,
    /// Storage and batching of the CT log (`<data_dir>/ct-log` by default).
    pub ct: CtLogOptions,
}

impl CaConfig {
    pub fn new(data_dir: impl Into<PathBuf>, issuers: IssuersSource) -> Self {
        Self {
            data_dir: data_dir.into(),
            issuers,
            public_url: None,
            token_policy: TokenPolicy::default(),
            max_body_bytes: 1024 * 1024,
            keys: KeyOptions::default(),
            ct: CtLogOptions::default(),
        }
    }
}

/// The running CA: token verifier, issuer, CT log, and what it publishes.
pub struct CaState {
    pub verifier: TokenVerifier,
    pub issuer: ca::Issuer,
    /// The durable CT log every issued certificate's SCT comes from.
    pub ct: Arc<DurableCtLog>,
    /// PEM intermediate → root.
    pub chain_pem: Vec<String>,
    pub trusted_root_json: String,
    pub public_url: String,
    pub max_body_bytes: usize,
}

impl std::fmt::Debug for CaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaState")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl CaState {
    /// Load (or create) the key material, check it, and set up the CA.
    pub fn new(config: &CaConfig, public_url: &str) -> Result<Arc<Self>, SetupError> {
        let issuers = match &config.issuers {
            IssuersSource::File(p) => Issuers::from_file(p)?,
            IssuersSource::Inline(c) => {
                Issuers::new(c.clone()).map_err(|source| SetupError::Config {
                    path: "(inline)".into(),
                    source,
                })?
            }
        };
        let material = CaMaterial::load_or_create_with(&config.data_dir, &config.keys)?;
        let public_url = public_url.trim_end_matches('/').to_string();
        let trusted_root_json = trusted_root_json(&material, &public_url, &public_url)
            .map_err(SetupError::TrustedRoot)?;
        let chain_pem = material.chain_pem();
        let CaMaterial {
            root,
            intermediate,
            intermediate_key,
            ct_key,
            ..
        } = material;
        let ct = Arc::new(
            DurableCtLog::open(&config.data_dir, &config.ct, ct_key, vec![root.clone()])
                .map_err(SetupError::CtLog)?,
        );
        let issuer = ca::Issuer::without_ct(intermediate, intermediate_key, root);
        let verifier = TokenVerifier::new(Arc::new(issuers), config.token_policy.clone())
            .map_err(SetupError::Http)?;
        Ok(Arc::new(Self {
            verifier,
            issuer,
            ct,
            chain_pem,
            trusted_root_json,
            public_url,
            max_body_bytes: config.max_body_bytes,
        }))
    }

    /// The whole pipeline for one request: token → identity → proof of
    /// possession → precert → SCT → certificate. Returns PEM, leaf first.
    pub async fn issue(
        &self,
        token: &str,
        key_request: &pop::KeyRequest,
    ) -> Result<Vec<String>, CaError> {
        let verified = self.verifier.verify(token).await?;
        let principal = identity::principal(&verified, self.verifier.issuers())?;
        let key = pop::verify(
            key_request,
            &principal.challenge,
            &principal.challenge_claim,
        )?;
        let pre = self.issuer.precertify(&principal, &key, now())?;
        // Our own precertificate, signed just above: the log need not
        // verify that signature again (it still checks the chain tail).
        // The SCT comes back once the entry is durable in the log.
        let sct = self.ct.add_own_pre_chain(&pre.chain).await?;
        let chain = self.issuer.finish(&principal, &key, pre, sct)?;
        tracing::info!(san = principal.san.value(), issuer = %principal.issuer, "issued certificate");
        // Labelled by issuer only: issuers come from the configuration,
        // so the label set stays bounded (identities would not).
        metrics::counter!("keyless_ca_certificates_issued_total", "issuer" => principal.issuer.to_string())
            .increment(1);
        // The intermediate and root PEMs are fixed: encode only the leaf.
        let mut pem = Vec::with_capacity(1 + self.chain_pem.len());
        if let Some(leaf) = chain.certificates.first() {
            pem.push(pki::pem_encode("CERTIFICATE", leaf));
        }
        pem.extend(self.chain_pem.iter().cloned());
        Ok(pem)
    }
}

/// Serve the CA on `listener` until the process ends.
pub async fn serve(config: CaConfig, listener: tokio::net::TcpListener) -> Result<(), SetupError> {
    serve_with_shutdown(config, listener, std::future::pending()).await
}

/// Serve the CA on `listener` until `shutdown` completes.
pub async fn serve_with_shutdown(
    config: CaConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), SetupError> {
    let addr = listener.local_addr().map_err(|source| SetupError::Io {
        path: "listener".into(),
        source,
    })?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let state = CaState::new(&config, &public_url)?;
    tracing::info!(%addr, url = %public_url, "keyless CA listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| SetupError::Io {
            path: addr.to_string(),
            source,
        })
}

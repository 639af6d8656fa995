//! The CA's configuration ([`CaConfig`]) and its running state
//! ([`CaState`]): the request pipeline token → identity → proof of
//! possession → precert → SCT → certificate. Outside lib.rs so that the
//! HTTP handlers ([`crate::api`], [`crate::ct_tiles`]) name the state
//! without importing the crate root, which re-exports them.

use std::path::PathBuf;
use std::sync::Arc;

use keyless_log::witnessing::WitnessEndpoint;

use crate::config::{Issuers, IssuersConfig};
use crate::ct_durable::{CtLogOptions, DurableCtLog};
use crate::ct_remote::RemoteCtLog;
use crate::error::{CaError, SetupError};
use crate::pki::{CaMaterial, KeyOptions};
use crate::token::{TokenPolicy, TokenVerifier};
use crate::trust::trusted_root_json;
use crate::{ca, identity, pki, pop};

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
    /// Submit precertificates to this remote CT log instead of the CA's
    /// own (which still serves its, then empty, endpoints), and list its
    /// key in trusted_root.json.
    pub ct_remote: Option<RemoteCtLog>,
    /// C2SP tlog-witnesses asked to cosign the CT log's checkpoints (the
    /// log core's witnessing, as for `keyless server ct --witness`);
    /// `/ct/checkpoint` then carries their cosignatures. Needs a tokio
    /// runtime when not empty.
    pub ct_witnesses: Vec<WitnessEndpoint>,
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
            ct_remote: None,
            ct_witnesses: Vec::new(),
        }
    }
}

/// The running CA: token verifier, issuer, CT log, and what it publishes.
pub struct CaState {
    pub verifier: TokenVerifier,
    pub issuer: ca::Issuer,
    /// The durable CT log every issued certificate's SCT comes from.
    pub ct: Arc<DurableCtLog>,
    /// When set, every SCT comes from this remote log instead.
    pub ct_remote: Option<RemoteCtLog>,
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
        let trusted_root_json = match &config.ct_remote {
            None => trusted_root_json(&material, &public_url, &public_url),
            Some(r) => crate::ct_remote::trusted_root_json(&material, &public_url, r),
        }
        .map_err(SetupError::TrustedRoot)?;
        let chain_pem = material.chain_pem();
        let CaMaterial {
            root,
            intermediate,
            intermediate_key,
            ct_key,
            ..
        } = material;
        // A new log is named by the CA's URL, its submission prefix
        // (static-ct-api); an existing one keeps its origin.
        let mut ct_options = config.ct.clone();
        ct_options.origin_if_new = ct_options
            .origin_if_new
            .or_else(|| Some(crate::ct_origin::for_submission_prefix(&public_url)));
        let ct = Arc::new(
            DurableCtLog::open(&config.data_dir, &ct_options, ct_key, vec![root.clone()])
                .map_err(SetupError::CtLog)?,
        );
        ct.witness(config.ct_witnesses.clone())
            .map_err(SetupError::CtWitnessing)?;
        let issuer = ca::Issuer::without_ct(intermediate, intermediate_key, root);
        let verifier = TokenVerifier::new(Arc::new(issuers), config.token_policy.clone())
            .map_err(SetupError::Http)?;
        Ok(Arc::new(Self {
            verifier,
            issuer,
            ct,
            ct_remote: config.ct_remote.clone(),
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
        // With a remote log, its SCT is verified before it is embedded.
        let sct = match &self.ct_remote {
            Some(remote) => remote.add_pre_chain(&pre.chain).await?,
            None => self.ct.add_own_pre_chain(&pre.chain).await?,
        };
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

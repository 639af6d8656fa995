//! RFC 3161 timestamp authority over HTTP.
//!
//! Rekor v2 entries carry no integrated time, so keyless bundles prove when
//! they were signed with an RFC 3161 token over the signature bytes. This
//! crate is the authority that issues those tokens, compatible with
//! Sigstore's timestamp-authority API:
//!
//! ```text
//! POST /api/v1/timestamp            DER TimeStampReq or JSON → DER TimeStampResp
//! GET  /api/v1/timestamp/certchain  PEM chain, leaf first
//! ```
//!
//! On first start a root, an intermediate and a time-stamping leaf are
//! generated into the data directory (keys 0600, never logged); the
//! [`Tsa::trusted_root_entry`] goes into `trusted_root.json` so that
//! verifiers trust it. Token encoding lives in `keyless_tsp::issue`, next to
//! the verifier that checks it.
//!
//! The signing key may instead live on a PKCS#11 token (an HSM, SoftHSM2):
//! [`TsaConfig::pkcs11`], the key store's `Pkcs11Config` with the same
//! meaning as for the CA's issuing key (`keyless server tsa
//! --pkcs11-module … --pkcs11-token-label … --pkcs11-key-label …`). Tokens
//! and the chain are then signed through `keyless_crypto::Signer` as with
//! a key file; the root and intermediate stay software keys in the data
//! directory.
//!
//! ```no_run
//! # async fn run() -> Result<(), keyless_tsa::TsaError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3004").await.map_err(keyless_tsa::TsaError::Serve)?;
//! keyless_tsa::serve(keyless_tsa::TsaConfig::new("/var/lib/keyless/tsa"), listener).await
//! # }
//! ```

mod config;
mod error;
mod http;
mod json;
mod pki;
mod serial;
mod store;
mod trust_root;
mod tsa;

use std::sync::Arc;

pub use config::{TsaConfig, SIGSTORE_TSA_POLICY};
pub use error::{PkiError, TsaError};
pub use http::{router, CERTCHAIN_PATH, TIMESTAMP_PATH};
pub use tsa::{Reply, Tsa, STAMPS};

/// Open (or create) the TSA described by `config` and serve it on
/// `listener` until the server fails. Without a configured URI, the
/// trusted-root URI is `http://<listener address>/api/v1/timestamp`.
pub async fn serve(config: TsaConfig, listener: tokio::net::TcpListener) -> Result<(), TsaError> {
    let mut tsa = Tsa::open(&config)?;
    if tsa.uri().is_none() {
        let addr = listener.local_addr().map_err(TsaError::Serve)?;
        tsa.set_uri(format!("http://{addr}{TIMESTAMP_PATH}"));
    }
    serve_tsa(Arc::new(tsa), listener).await
}

/// Serve an already opened TSA (e.g. after writing its trusted-root entry).
pub async fn serve_tsa(tsa: Arc<Tsa>, listener: tokio::net::TcpListener) -> Result<(), TsaError> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "timestamp authority listening");
    }
    axum::serve(listener, router(tsa))
        .await
        .map_err(TsaError::Serve)
}

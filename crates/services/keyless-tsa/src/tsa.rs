//! The authority itself, independent of HTTP: a loaded chain, a token
//! builder and a serial source. Every request gets a TimeStampResp back,
//! granted or rejected; nothing a client sends can make it fail otherwise.

use std::time::{SystemTime, UNIX_EPOCH};

use keyless_keys::Key;
use keyless_tsp::issue::{rejection, FailureInfo, RequestError, TimestampRequest, TokenBuilder};
use keyless_x509::Certificate;

use crate::config::TsaConfig;
use crate::error::TsaError;
use crate::pki;
use crate::serial::Serials;

/// What the TSA answers: DER TimeStampResp plus its outcome, so that the
/// HTTP layer can pick a status code without re-parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `None` when granted, otherwise the failInfo reported.
    pub failure: Option<FailureInfo>,
    /// DER TimeStampResp. Empty only if even a rejection could not be
    /// encoded (the HTTP layer then answers 500 without a body).
    pub der: Vec<u8>,
}

/// A running timestamp authority.
#[derive(Debug)]
pub struct Tsa {
    /// Signs through the key store's [`Key`]: a key file or a PKCS#11 token.
    builder: TokenBuilder<Key>,
    /// Leaf, intermediate, root.
    chain: Vec<Certificate>,
    chain_pem: String,
    serials: Serials,
    uri: Option<String>,
}

fn now() -> Option<u64> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

impl Tsa {
    /// Load the chain from `config.data_dir`, generating it on first start.
    pub fn open(config: &TsaConfig) -> Result<Self, TsaError> {
        let now = now().ok_or(TsaError::Clock)?;
        let pki = pki::load_or_generate(
            &config.data_dir,
            config.algorithm,
            &config.organization,
            now,
            config.pkcs11.as_ref(),
        )?;
        let chain_pem = pki
            .chain
            .iter()
            .map(pki::pem)
            .collect::<Result<String, _>>()?;
        let builder = TokenBuilder::new(pki.leaf_key, &pki.chain[0], config.policy)?;
        Ok(Self {
            builder,
            chain: pki.chain,
            chain_pem,
            serials: Serials::new()?,
            uri: config.uri.clone(),
        })
    }

    /// Set the public URL of the timestamp endpoint (for the trusted root).
    pub fn set_uri(&mut self, uri: impl Into<String>) {
        self.uri = Some(uri.into());
    }

    pub fn uri(&self) -> Option<&str> {
        self.uri.as_deref()
    }

    /// The chain, leaf (the signing certificate) first, root last.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The chain as PEM, leaf first (what `/api/v1/timestamp/certchain` serves).
    pub fn chain_pem(&self) -> &str {
        &self.chain_pem
    }

    /// Answer a DER TimeStampReq.
    pub fn timestamp_der(&self, der: &[u8]) -> Reply {
        self.respond(TimestampRequest::from_der(der))
    }

    /// Answer a parsed request, or reject the parse failure.
    pub fn respond(&self, req: Result<TimestampRequest, RequestError>) -> Reply {
        let req = match req.and_then(|r| self.builder.check_policy(&r).map(|()| r)) {
            Ok(r) => r,
            Err(e) => return reject(e.failure_info(), &e.to_string()),
        };
        let Some(gen_time) = now() else {
            return reject(FailureInfo::TimeNotAvailable, "clock unavailable");
        };
        // A token outside the signing certificate's validity would never
        // verify: better to say the TSA cannot serve now.
        let at = i64::try_from(gen_time).unwrap_or(i64::MAX);
        if !self.chain[0].is_valid_at(at) {
            tracing::error!("TSA clock is outside the signing certificate's validity");
            return reject(
                FailureInfo::TimeNotAvailable,
                "TSA certificate not valid now",
            );
        }
        match self.builder.grant(&req, &self.serials.next(), gen_time) {
            Ok(der) => {
                metrics::counter!(STAMPS, "outcome" => "granted").increment(1);
                Reply { failure: None, der }
            }
            Err(e) => {
                tracing::error!(error = %e, "issuing a timestamp failed");
                reject(FailureInfo::SystemFailure, "internal error")
            }
        }
    }
}

/// Timestamp requests answered, by `outcome` (`granted` or `rejected`).
pub const STAMPS: &str = "keyless_tsa_timestamps_total";

fn reject(failure: FailureInfo, text: &str) -> Reply {
    metrics::counter!(STAMPS, "outcome" => "rejected").increment(1);
    let der = rejection(failure, text).unwrap_or_else(|e| {
        tracing::error!(error = %e, "encoding a rejection failed");
        Vec::new()
    });
    Reply {
        failure: Some(failure),
        der,
    }
}

//! Trust material: the trusted root with every key and certificate parsed
//! once, so that verification never re-parses and a broken root fails
//! loudly when loaded rather than halfway through a verification.

use keyless_crypto::PublicKey;
use keyless_types::{TrustedRoot, ValidityPeriod};
use keyless_x509::{Certificate, CtLogKey};

use crate::error::{TrustRootError, TrustedRootError};

/// The production ("public good") Sigstore trusted root, embedded as the
/// default trust as every Sigstore client does. Updated through TUF.
pub const PUBLIC_GOOD_TRUSTED_ROOT: &str =
    include_str!("../../../../assets/public-good/trusted_root.json");

/// A transparency log the verifier trusts.
#[derive(Debug, Clone)]
pub struct TrustedLog {
    pub base_url: String,
    /// Checkpoint origin for Rekor v2 logs: the base URL's host.
    pub origin: String,
    pub log_id: Vec<u8>,
    pub key: PublicKey,
    pub valid_for: ValidityPeriod,
}

/// A certificate or timestamp authority the verifier trusts.
#[derive(Debug, Clone)]
pub struct TrustedAuthority {
    pub uri: String,
    /// Child first; the last certificate is the trust anchor.
    pub chain: Vec<Certificate>,
    pub valid_for: ValidityPeriod,
}

/// Parsed trust material.
#[derive(Debug, Clone)]
pub struct TrustMaterial {
    pub tlogs: Vec<TrustedLog>,
    pub ctlogs: Vec<CtLogKey>,
    pub fulcio: Vec<TrustedAuthority>,
    pub tsas: Vec<TrustedAuthority>,
}

impl TrustMaterial {
    /// The embedded public-good root.
    pub fn public_good() -> Result<Self, TrustRootError> {
        Self::from_json(PUBLIC_GOOD_TRUSTED_ROOT.as_bytes())
    }

    /// Parse a `trusted_root.json`.
    pub fn from_json(json: &[u8]) -> Result<Self, TrustRootError> {
        Self::from_trusted_root(&TrustedRoot::from_json(json).map_err(TrustRootError::Format)?)
    }

    pub fn from_trusted_root(root: &TrustedRoot) -> Result<Self, TrustRootError> {
        let tlogs = root
            .tlogs
            .iter()
            .map(|l| {
                Ok(TrustedLog {
                    base_url: l.base_url.clone(),
                    origin: l.origin().to_string(),
                    log_id: l.log_id.clone(),
                    key: log_key(
                        "transparency log",
                        &l.base_url,
                        &l.key_bytes,
                        &l.key_details,
                    )?,
                    valid_for: l.valid_for,
                })
            })
            .collect::<Result<_, TrustRootError>>()?;
        let ctlogs = root
            .ctlogs
            .iter()
            .map(|l| {
                let key = log_key("CT log", &l.base_url, &l.key_bytes, &l.key_details)?;
                Ok(CtLogKey::new(key, l.valid_for.start, l.valid_for.end))
            })
            .collect::<Result<_, TrustRootError>>()?;
        let fulcio = root
            .certificate_authorities
            .iter()
            .map(|a| authority("certificate authority", a))
            .collect::<Result<_, _>>()?;
        let tsas = root
            .timestamp_authorities
            .iter()
            .map(|a| authority("timestamp authority", a))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            tlogs,
            ctlogs,
            fulcio,
            tsas,
        })
    }

    /// The trusted log with this log ID.
    pub fn log(&self, log_id: &[u8]) -> Option<&TrustedLog> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }
}

fn log_key(
    what: &'static str,
    name: &str,
    bytes: &[u8],
    details: &str,
) -> Result<PublicKey, TrustRootError> {
    let parsed = if details.starts_with("PKCS1_RSA") {
        PublicKey::from_pkcs1_rsa_der(bytes)
    } else {
        PublicKey::from_spki_der(bytes)
    };
    parsed.map_err(|e| TrustRootError::Unusable {
        what,
        name: name.to_string(),
        source: Box::new(e),
    })
}

fn authority(
    what: &'static str,
    a: &keyless_types::CertificateAuthority,
) -> Result<TrustedAuthority, TrustRootError> {
    let chain = a
        .cert_chain
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TrustRootError::Unusable {
            what,
            name: a.uri.clone(),
            source: Box::new(e),
        })?;
    Ok(TrustedAuthority {
        uri: a.uri.clone(),
        chain,
        valid_for: a.valid_for,
    })
}

impl From<TrustedRootError> for crate::VerificationError {
    fn from(e: TrustedRootError) -> Self {
        Self::TrustedRoot(TrustRootError::Format(e))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_public_good_root_loads() {
        let t = super::TrustMaterial::public_good().expect("embedded root parses");
        assert_eq!(t.tlogs.len(), 2);
        assert_eq!(t.fulcio.len(), 2);
        assert_eq!(t.ctlogs.len(), 2);
        assert_eq!(t.tsas.len(), 1);
        assert!(t
            .tlogs
            .iter()
            .any(|l| l.origin == "log2025-1.rekor.sigstore.dev"));
    }
}

//! The validated `trusted_root.json` (protobuf-specs `TrustedRoot`): the
//! Fulcio CAs, transparency logs, CT logs and timestamp authorities a
//! verifier trusts, each with the time window in which it is trusted.

use crate::error::TrustedRootError;
use crate::time::parse_rfc3339;
use crate::wire;

/// A closed time interval `[start, end]` in Unix seconds; `end = None` is
/// open-ended. Both ends are inclusive, as the specification says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidityPeriod {
    pub start: i64,
    pub end: Option<i64>,
}

impl ValidityPeriod {
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && self.end.is_none_or(|end| t <= end)
    }

    fn from_wire(
        what: &'static str,
        name: &str,
        r: Option<&wire::TimeRange>,
    ) -> Result<Self, TrustedRootError> {
        let missing = || TrustedRootError::MissingValidityStart {
            what,
            name: name.to_string(),
        };
        let r = r.ok_or_else(missing)?;
        let time = |field: &'static str| {
            move |source| TrustedRootError::Time {
                what,
                name: name.to_string(),
                field,
                source,
            }
        };
        let start = parse_rfc3339(r.start.as_deref().ok_or_else(missing)?)
            .map_err(time("validFor.start"))?;
        let end = r
            .end
            .as_deref()
            .map(parse_rfc3339)
            .transpose()
            .map_err(time("validFor.end"))?;
        if end.is_some_and(|end| end < start) {
            return Err(TrustedRootError::Invalid {
                what,
                name: name.to_string(),
                problem: "validFor.end is before validFor.start".into(),
            });
        }
        Ok(Self { start, end })
    }
}

/// A transparency log or CT log and the key it signs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransparencyLog {
    pub base_url: String,
    pub hash_algorithm: String,
    /// Key bytes as listed: DER SPKI, or PKCS#1 when `key_details` says `PKCS1_RSA_*`.
    pub key_bytes: Vec<u8>,
    pub key_details: String,
    pub valid_for: ValidityPeriod,
    pub log_id: Vec<u8>,
    pub checkpoint_key_id: Option<Vec<u8>>,
}

impl TransparencyLog {
    /// The origin a Rekor v2 log signs its checkpoints under: the host (and
    /// port) of its base URL.
    pub fn origin(&self) -> &str {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}

/// A certificate authority (Fulcio) or timestamp authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAuthority {
    pub uri: String,
    pub common_name: String,
    pub organization: String,
    /// DER certificates, child first; the last one is the trust anchor.
    pub cert_chain: Vec<Vec<u8>>,
    pub valid_for: ValidityPeriod,
}

/// The trust material a verifier uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedRoot {
    pub media_type: String,
    pub tlogs: Vec<TransparencyLog>,
    pub ctlogs: Vec<TransparencyLog>,
    pub certificate_authorities: Vec<CertificateAuthority>,
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

const MAX_TRUSTED_ROOT_BYTES: usize = 4 * 1024 * 1024;

impl TrustedRoot {
    pub fn from_json(json: &[u8]) -> Result<Self, TrustedRootError> {
        if json.len() > MAX_TRUSTED_ROOT_BYTES {
            return Err(TrustedRootError::TooLarge {
                size: json.len(),
                max: MAX_TRUSTED_ROOT_BYTES,
            });
        }
        let w: wire::TrustedRoot = serde_json::from_slice(json)
            .map_err(|e| TrustedRootError::Json(std::sync::Arc::new(e)))?;
        Self::from_wire(w)
    }

    pub fn from_wire(w: wire::TrustedRoot) -> Result<Self, TrustedRootError> {
        let known = w
            .media_type
            .starts_with("application/vnd.dev.sigstore.trustedroot+json;version=0.")
            || (w
                .media_type
                .starts_with("application/vnd.dev.sigstore.trustedroot.v0.")
                && w.media_type.ends_with("+json"));
        if !known {
            return Err(TrustedRootError::UnknownMediaType(w.media_type));
        }
        Ok(Self {
            tlogs: w
                .tlogs
                .iter()
                .map(|l| log("transparency log", l))
                .collect::<Result<_, _>>()?,
            ctlogs: w
                .ctlogs
                .iter()
                .map(|l| log("CT log", l))
                .collect::<Result<_, _>>()?,
            certificate_authorities: w
                .certificate_authorities
                .iter()
                .map(|c| authority("certificate authority", c))
                .collect::<Result<_, _>>()?,
            timestamp_authorities: w
                .timestamp_authorities
                .iter()
                .map(|c| authority("timestamp authority", c))
                .collect::<Result<_, _>>()?,
            media_type: w.media_type,
        })
    }
}

fn log(
    what: &'static str,
    l: &wire::TransparencyLogInstance,
) -> Result<TransparencyLog, TrustedRootError> {
    let valid_for = ValidityPeriod::from_wire(what, &l.base_url, l.public_key.valid_for.as_ref())?;
    if l.log_id.key_id.is_empty() || l.public_key.raw_bytes.is_empty() {
        return Err(TrustedRootError::Invalid {
            what,
            name: l.base_url.clone(),
            problem: "empty log ID or key".into(),
        });
    }
    Ok(TransparencyLog {
        base_url: l.base_url.clone(),
        hash_algorithm: l.hash_algorithm.clone(),
        key_bytes: l.public_key.raw_bytes.clone(),
        key_details: l.public_key.key_details.clone(),
        valid_for,
        log_id: l.log_id.key_id.clone(),
        checkpoint_key_id: l.checkpoint_key_id.as_ref().map(|k| k.key_id.clone()),
    })
}

fn authority(
    what: &'static str,
    c: &wire::CertificateAuthority,
) -> Result<CertificateAuthority, TrustedRootError> {
    let valid_for = ValidityPeriod::from_wire(what, &c.uri, c.valid_for.as_ref())?;
    let cert_chain: Vec<Vec<u8>> = c
        .cert_chain
        .certificates
        .iter()
        .map(|c| c.raw_bytes.clone())
        .collect();
    if cert_chain.is_empty() {
        return Err(TrustedRootError::Invalid {
            what,
            name: c.uri.clone(),
            problem: "empty certificate chain".into(),
        });
    }
    Ok(CertificateAuthority {
        uri: c.uri.clone(),
        common_name: c.subject.common_name.clone(),
        organization: c.subject.organization.clone(),
        cert_chain,
        valid_for,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_interval() {
        let v = ValidityPeriod {
            start: 10,
            end: Some(20),
        };
        assert!(v.contains(10) && v.contains(20) && !v.contains(9) && !v.contains(21));
        assert!(ValidityPeriod {
            start: 10,
            end: None
        }
        .contains(i64::MAX));
    }

    #[test]
    fn origin_is_host() {
        let l = TransparencyLog {
            base_url: "https://log2025-1.rekor.sigstore.dev".into(),
            hash_algorithm: String::new(),
            key_bytes: vec![1],
            key_details: String::new(),
            valid_for: ValidityPeriod {
                start: 0,
                end: None,
            },
            log_id: vec![1],
            checkpoint_key_id: None,
        };
        assert_eq!(l.origin(), "log2025-1.rekor.sigstore.dev");
    }
}

//! Sigstore's `signing_config.json` (protobuf-specs `SigningConfig` v0.2):
//! which CA, logs, timestamp authorities and OIDC provider a signer uses,
//! and `ClientTrustConfig`, which pairs it with a trusted root.

use serde::{Deserialize, Serialize};

use crate::wire::{TimeRange, TrustedRoot};

pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// One service endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub url: String,
    /// For Rekor, 1 or 2 (the v1 or v2 API); for Fulcio, 1; for TSAs, 1.
    #[serde(default)]
    pub major_api_version: u32,
    #[serde(default)]
    pub valid_for: TimeRange,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator: String,
}

/// How many of the listed services to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConfiguration {
    /// `ANY`, `ALL` or `EXACT`.
    pub selector: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningConfig {
    pub media_type: String,
    #[serde(default)]
    pub ca_urls: Vec<Service>,
    #[serde(default)]
    pub oidc_urls: Vec<Service>,
    #[serde(default)]
    pub rekor_tlog_urls: Vec<Service>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekor_tlog_config: Option<ServiceConfiguration>,
    #[serde(default)]
    pub tsa_urls: Vec<Service>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_config: Option<ServiceConfiguration>,
}

/// Why a signing config or client trust config could not be read; `what`
/// names which of the two.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{what} is not valid JSON for its format")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("unsupported {what} media type {found:?}")]
    UnknownMediaType { what: &'static str, found: String },
}

impl SigningConfig {
    pub fn from_json(json: &[u8]) -> Result<Self, ConfigError> {
        const WHAT: &str = "signing config";
        let c: Self = serde_json::from_slice(json)
            .map_err(|source| ConfigError::Json { what: WHAT, source })?;
        if c.media_type != SIGNING_CONFIG_MEDIA_TYPE {
            return Err(ConfigError::UnknownMediaType {
                what: WHAT,
                found: c.media_type,
            });
        }
        Ok(c)
    }

    /// The newest service valid at `now` among `services` whose API major
    /// version is one of `versions` (highest version first).
    pub fn select<'a>(services: &'a [Service], versions: &[u32], now: i64) -> Option<&'a Service> {
        let valid = |s: &&Service| {
            let start = s
                .valid_for
                .start
                .as_deref()
                .and_then(|t| crate::time::parse_rfc3339(t).ok());
            let end = s
                .valid_for
                .end
                .as_deref()
                .and_then(|t| crate::time::parse_rfc3339(t).ok());
            start.is_none_or(|st| st <= now) && end.is_none_or(|e| now <= e)
        };
        versions.iter().find_map(|v| {
            services
                .iter()
                .filter(valid)
                .find(|s| s.major_api_version == *v)
        })
    }
}

/// `ClientTrustConfig`: a trusted root and a signing config in one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientTrustConfig {
    pub media_type: String,
    pub trusted_root: TrustedRoot,
    pub signing_config: SigningConfig,
}

impl ClientTrustConfig {
    pub fn from_json(json: &[u8]) -> Result<Self, ConfigError> {
        const WHAT: &str = "client trust config";
        let c: Self = serde_json::from_slice(json)
            .map_err(|source| ConfigError::Json { what: WHAT, source })?;
        if c.media_type != CLIENT_TRUST_CONFIG_MEDIA_TYPE {
            return Err(ConfigError::UnknownMediaType {
                what: WHAT,
                found: c.media_type,
            });
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_highest_supported_valid_version() {
        let s = |url: &str, v: u32, start: &str| Service {
            url: url.into(),
            major_api_version: v,
            valid_for: TimeRange {
                start: Some(start.into()),
                end: None,
            },
            operator: String::new(),
        };
        let services = vec![
            s("v1", 1, "2020-01-01T00:00:00Z"),
            s("v2", 2, "2020-01-01T00:00:00Z"),
            s("future", 2, "2999-01-01T00:00:00Z"),
        ];
        let now = crate::time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            SigningConfig::select(&services, &[2, 1], now).unwrap().url,
            "v2"
        );
        assert_eq!(
            SigningConfig::select(&services, &[1], now).unwrap().url,
            "v1"
        );
        assert!(SigningConfig::select(&services, &[3], now).is_none());
    }
}

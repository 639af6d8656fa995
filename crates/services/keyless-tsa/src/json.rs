//! The JSON request form of Sigstore's timestamp-authority
//! (`POST /api/v1/timestamp`, `Content-Type: application/json`):
//! `{"artifactHash": base64, "hashAlgorithm": "sha256", "nonce": 123,
//! "certificates": true, "tsaPolicyOID": "1.2.3"}`. It maps onto the same
//! checked [`TimestampRequest`] as the DER form.

use base64::Engine;
use const_oid::ObjectIdentifier;
use keyless_crypto::HashAlgorithm;
use keyless_tsp::issue::{RequestError, TimestampRequest};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsonRequest {
    artifact_hash: String,
    #[serde(default)]
    hash_algorithm: Option<String>,
    #[serde(default)]
    nonce: Option<serde_json::Number>,
    #[serde(default)]
    certificates: bool,
    #[serde(default, rename = "tsaPolicyOID")]
    tsa_policy_oid: Option<String>,
}

fn bad(reason: impl Into<String>) -> RequestError {
    RequestError::Transport(reason.into())
}

/// Parse the JSON form; the body size is bounded by the caller.
pub(crate) fn parse(body: &[u8]) -> Result<TimestampRequest, RequestError> {
    let req: JsonRequest =
        serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON request: {e}")))?;
    let hash = match req.hash_algorithm.as_deref().unwrap_or("sha256") {
        "sha256" | "SHA256" | "sha-256" => HashAlgorithm::Sha256,
        "sha384" | "SHA384" | "sha-384" => HashAlgorithm::Sha384,
        "sha512" | "SHA512" | "sha-512" => HashAlgorithm::Sha512,
        other => {
            return Err(RequestError::UnsupportedHash {
                oid: other.chars().take(32).collect(),
            })
        }
    };
    let digest = base64::engine::general_purpose::STANDARD
        .decode(req.artifact_hash.as_bytes())
        .map_err(|e| RequestError::Der {
            reason: format!("artifactHash is not base64: {e}"),
        })?;
    let mut out = TimestampRequest::new(hash, &digest)?.with_cert_req(req.certificates);
    if let Some(nonce) = req.nonce {
        // Go's big.Int marshals as a JSON number; without arbitrary
        // precision, nonces up to 2^64-1 are taken.
        let n = nonce
            .as_u64()
            .ok_or_else(|| bad("nonce must be a non-negative integer below 2^64"))?;
        out = out.with_nonce(&n.to_be_bytes())?;
    }
    if let Some(oid) = req.tsa_policy_oid.filter(|s| !s.is_empty()) {
        let oid = ObjectIdentifier::new(&oid).map_err(|_| bad("tsaPolicyOID is not an OID"))?;
        out = out.with_policy(oid);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_maps_to_request() {
        let digest = HashAlgorithm::Sha256.digest(b"sig");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&digest);
        let body = format!(
            r#"{{"artifactHash":"{b64}","hashAlgorithm":"sha256","nonce":1234,"certificates":true}}"#
        );
        let req = parse(body.as_bytes()).unwrap();
        assert_eq!(req.digest(), digest.as_slice());
        assert!(req.cert_req());
        assert_eq!(req.nonce(), Some(&[0x04, 0xd2][..]));

        let err = parse(br#"{"artifactHash":"AAAA","hashAlgorithm":"md5"}"#).unwrap_err();
        assert!(matches!(err, RequestError::UnsupportedHash { .. }));
        assert!(parse(b"{").is_err());
    }
}

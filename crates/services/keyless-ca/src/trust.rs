//! The CA's part of a `trusted_root.json`: its certificate chain
//! (`certificateAuthorities`) and its CT log key (`ctlogs`), in the
//! protobuf-specs JSON form that `keyless_verify::TrustMaterial` reads.

use keyless_types::time::format_rfc3339;
use keyless_types::wire;

use crate::pki::CaMaterial;

/// The trusted root media type we write.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

/// Build the trusted-root entries for this CA. `ca_url` and `ct_url` are
/// the public base URLs of the CA and its CT log.
pub fn trusted_root(material: &CaMaterial, ca_url: &str, ct_url: &str) -> wire::TrustedRoot {
    let ct_spki = material.ct_key.public_key().spki_der().to_vec();
    let log_id = keyless_crypto::sha256(&ct_spki).to_vec();
    wire::TrustedRoot {
        media_type: TRUSTED_ROOT_MEDIA_TYPE.into(),
        tlogs: Vec::new(),
        certificate_authorities: vec![wire::CertificateAuthority {
            subject: wire::DistinguishedName {
                organization: "keyless".into(),
                common_name: "keyless intermediate".into(),
            },
            uri: ca_url.to_string(),
            cert_chain: wire::X509CertificateChain {
                certificates: [&material.intermediate, &material.root]
                    .iter()
                    .map(|c| wire::X509Certificate {
                        raw_bytes: c.der().to_vec(),
                    })
                    .collect(),
            },
            valid_for: Some(wire::TimeRange {
                start: Some(format_rfc3339(material.intermediate.not_before())),
                end: None,
            }),
            operator: None,
        }],
        ctlogs: vec![wire::TransparencyLogInstance {
            base_url: ct_url.to_string(),
            hash_algorithm: "SHA2_256".into(),
            public_key: wire::PublicKey {
                raw_bytes: ct_spki,
                key_details: "PKIX_ECDSA_P256_SHA_256".into(),
                valid_for: Some(wire::TimeRange {
                    start: Some(format_rfc3339(material.ct_key_since)),
                    end: None,
                }),
            },
            log_id: wire::LogId { key_id: log_id },
            checkpoint_key_id: None,
            operator: None,
        }],
        timestamp_authorities: Vec::new(),
    }
}

/// [`trusted_root`] as pretty JSON.
pub fn trusted_root_json(
    material: &CaMaterial,
    ca_url: &str,
    ct_url: &str,
) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&trusted_root(material, ca_url, ct_url))
}

/// Write [`trusted_root_json`] to `path`.
pub fn write_trusted_root(
    material: &CaMaterial,
    ca_url: &str,
    ct_url: &str,
    path: &std::path::Path,
) -> std::io::Result<()> {
    let json = trusted_root_json(material, ca_url, ct_url).map_err(std::io::Error::other)?;
    std::fs::write(path, json)
}

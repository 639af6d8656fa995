//! The `timestampAuthorities[]` item of a Sigstore trusted_root.json that
//! makes verifiers trust this TSA: subject, URI, the chain leaf → root as
//! base64 DER, and `validFor.start` (the signing certificate's notBefore, so
//! that no token of this TSA predates its window — TOB-SIGSTORE-11).

use base64::Engine;
use const_oid::db::rfc4519::{COMMON_NAME, ORGANIZATION_NAME};
use const_oid::ObjectIdentifier;
use der::asn1::{PrintableStringRef, Utf8StringRef};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_cert::name::Name;

use crate::tsa::Tsa;

/// The first value of `attr` in `name`, if it is a UTF-8 or printable string.
fn attribute(name: &Name, attr: ObjectIdentifier) -> String {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == attr)
        .find_map(|atv| {
            Utf8StringRef::try_from(&atv.value)
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    PrintableStringRef::try_from(&atv.value).map(|s| s.as_str().to_string())
                })
                .ok()
        })
        .unwrap_or_default()
}

fn rfc3339(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

impl Tsa {
    /// The trusted-root entry for this TSA (the URI falls back to an empty
    /// string if none was configured; verifiers do not dereference it).
    pub fn trusted_root_entry(&self) -> Value {
        let b64 = base64::engine::general_purpose::STANDARD;
        let certificates: Vec<Value> = self
            .chain()
            .iter()
            .map(|c| json!({ "rawBytes": b64.encode(c.der()) }))
            .collect();
        let (subject, start) = match (self.chain().last(), self.chain().first()) {
            (Some(root), Some(leaf)) => {
                let name = &root.inner().tbs_certificate.subject;
                (
                    json!({
                        "organization": attribute(name, ORGANIZATION_NAME),
                        "commonName": attribute(name, COMMON_NAME),
                    }),
                    leaf.not_before(),
                )
            }
            _ => (json!({}), 0),
        };
        json!({
            "subject": subject,
            "uri": self.uri().unwrap_or_default(),
            "certChain": { "certificates": certificates },
            "validFor": { "start": rfc3339(start) },
        })
    }
}

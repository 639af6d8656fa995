//! TUF metadata documents (specification §4).
//!
//! A downloaded file is first parsed as an [`Envelope`]: the `signed` part is
//! kept as a raw JSON value so that signatures are checked over exactly what
//! the repository signed (unknown fields included, §4.2), and only then is it
//! turned into one of the typed roles ([`Root`], [`Timestamp`], [`Snapshot`],
//! [`Targets`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;

use crate::cjson;
use crate::error::MetadataError;

/// The spec version this crate writes.
pub const SPEC_VERSION: &str = "1.0.31";

/// `{"signed": …, "signatures": […]}` (§4.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub signatures: Vec<Signature>,
    pub signed: Value,
}

/// One signature: the key ID and the hex signature over the canonical `signed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub keyid: String,
    pub sig: String,
}

impl Envelope {
    /// Parse the outer structure of a metadata file.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, MetadataError> {
        serde_json::from_slice(bytes).map_err(|e| MetadataError::Json(std::sync::Arc::new(e)))
    }

    /// The bytes that signatures cover: canonical JSON of `signed`.
    pub fn canonical_signed(&self) -> Result<Vec<u8>, MetadataError> {
        cjson::to_canonical(&self.signed).map_err(MetadataError::Canonical)
    }

    /// The `_type` field of `signed`.
    pub fn role_type(&self) -> Option<&str> {
        self.signed.get("_type").and_then(Value::as_str)
    }

    /// Turn `signed` into a typed role, checking `_type` and `spec_version`.
    pub fn parse_signed<T: RoleMetadata>(&self) -> Result<T, MetadataError> {
        let found = self.role_type().unwrap_or_default();
        if found != T::TYPE {
            return Err(MetadataError::WrongType {
                expected: T::TYPE.to_string(),
                found: found.to_string(),
            });
        }
        let parsed: T = serde_json::from_value(self.signed.clone())
            .map_err(|e| MetadataError::Json(std::sync::Arc::new(e)))?;
        let spec = &parsed.common().spec_version;
        if spec.split('.').next() != Some("1") {
            return Err(MetadataError::UnsupportedSpecVersion(spec.clone()));
        }
        if parsed.common().version == 0 {
            return Err(MetadataError::Malformed(
                "version must be at least 1".into(),
            ));
        }
        parsed.validate()?;
        Ok(parsed)
    }
}

/// An expiry instant, serialised as `YYYY-MM-DDTHH:MM:SSZ` (§4.3).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expires(pub OffsetDateTime);

impl Expires {
    /// True when `reference_time` is at or past the expiry.
    pub fn is_expired(&self, reference_time: OffsetDateTime) -> bool {
        reference_time >= self.0
    }
}

impl fmt::Display for Expires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_time(self.0))
    }
}

impl fmt::Debug for Expires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Serialize for Expires {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_time(self.0))
    }
}

impl<'de> Deserialize<'de> for Expires {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
            .map(Expires)
            .map_err(|e| serde::de::Error::custom(format!("expires {s:?}: {e}")))
    }
}

/// Fields every role has (§4.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Common {
    pub spec_version: String,
    pub version: u64,
    pub expires: Expires,
}

/// Implemented by the four role types.
pub trait RoleMetadata: serde::de::DeserializeOwned + Serialize {
    /// The `_type` value.
    const TYPE: &'static str;
    fn common(&self) -> &Common;
    fn common_mut(&mut self) -> &mut Common;
    /// Checks beyond the serde shape.
    fn validate(&self) -> Result<(), MetadataError> {
        Ok(())
    }
}

/// A public key as listed in root or a delegation (§4.2 "KEY").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub keytype: String,
    pub scheme: String,
    pub keyval: KeyVal,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `keyval`: only `public` is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyVal {
    pub public: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The keys and threshold for one role (§4.3 root "roles").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleKeys {
    pub keyids: Vec<String>,
    pub threshold: u64,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl RoleKeys {
    pub fn new(keyids: Vec<String>, threshold: u64) -> Self {
        Self {
            keyids,
            threshold,
            extra: BTreeMap::new(),
        }
    }
}

fn check_threshold(name: &str, t: u64) -> Result<(), MetadataError> {
    if t == 0 {
        return Err(MetadataError::Malformed(format!(
            "role {name}: threshold must be at least 1"
        )));
    }
    Ok(())
}

/// root.json (§4.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    #[serde(rename = "_type")]
    pub type_: String,
    #[serde(flatten)]
    pub common: Common,
    #[serde(default)]
    pub consistent_snapshot: bool,
    pub keys: BTreeMap<String, Key>,
    pub roles: BTreeMap<String, RoleKeys>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl RoleMetadata for Root {
    const TYPE: &'static str = "root";
    fn common(&self) -> &Common {
        &self.common
    }
    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }
    fn validate(&self) -> Result<(), MetadataError> {
        for role in ["root", "timestamp", "snapshot", "targets"] {
            let keys = self.roles.get(role).ok_or_else(|| {
                MetadataError::Malformed(format!("root does not define the {role} role"))
            })?;
            check_threshold(role, keys.threshold)?;
        }
        Ok(())
    }
}

impl Root {
    /// The keys and threshold of a top-level role.
    pub fn role(&self, name: &str) -> Option<&RoleKeys> {
        self.roles.get(name)
    }
}

/// An entry of `meta` in timestamp and snapshot (§4.4, §4.5 "METAFILES").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaFile {
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl MetaFile {
    pub fn new(version: u64) -> Self {
        Self {
            version,
            length: None,
            hashes: None,
            extra: BTreeMap::new(),
        }
    }
}

/// timestamp.json (§4.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamp {
    #[serde(rename = "_type")]
    pub type_: String,
    #[serde(flatten)]
    pub common: Common,
    pub meta: BTreeMap<String, MetaFile>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl RoleMetadata for Timestamp {
    const TYPE: &'static str = "timestamp";
    fn common(&self) -> &Common {
        &self.common
    }
    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }
    fn validate(&self) -> Result<(), MetadataError> {
        self.snapshot_meta().map(|_| ())
    }
}

impl Timestamp {
    /// The `snapshot.json` entry, which the specification requires.
    pub fn snapshot_meta(&self) -> Result<&MetaFile, MetadataError> {
        self.meta
            .get("snapshot.json")
            .ok_or_else(|| MetadataError::MetaMissing {
                file: "snapshot.json".into(),
                listed_in: "timestamp".into(),
            })
    }
}

/// snapshot.json (§4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(rename = "_type")]
    pub type_: String,
    #[serde(flatten)]
    pub common: Common,
    pub meta: BTreeMap<String, MetaFile>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl RoleMetadata for Snapshot {
    const TYPE: &'static str = "snapshot";
    fn common(&self) -> &Common {
        &self.common
    }
    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }
}

/// A target file entry (§4.5 "TARGETS").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetFile {
    pub length: u64,
    pub hashes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A delegated targets role (§4.5 "DELEGATIONS").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatedRole {
    pub name: String,
    pub keyids: Vec<String>,
    pub threshold: u64,
    #[serde(default)]
    pub terminating: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hash_prefixes: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Hash-bin delegations (TAP 15, "succinct_roles").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccinctRoles {
    pub keyids: Vec<String>,
    pub threshold: u64,
    pub bit_length: u32,
    pub name_prefix: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `delegations` in a targets role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegations {
    pub keys: BTreeMap<String, Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<DelegatedRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succinct_roles: Option<SuccinctRoles>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// targets.json or a delegated targets role (§4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    #[serde(rename = "_type")]
    pub type_: String,
    #[serde(flatten)]
    pub common: Common,
    pub targets: BTreeMap<String, TargetFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<Delegations>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl RoleMetadata for Targets {
    const TYPE: &'static str = "targets";
    fn common(&self) -> &Common {
        &self.common
    }
    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }
    fn validate(&self) -> Result<(), MetadataError> {
        let Some(d) = &self.delegations else {
            return Ok(());
        };
        match (&d.roles, &d.succinct_roles) {
            (Some(_), Some(_)) => {
                return Err(MetadataError::Malformed(
                    "delegations has both roles and succinct_roles".into(),
                ))
            }
            (Some(roles), None) => {
                let mut seen = std::collections::BTreeSet::new();
                for r in roles {
                    check_threshold(&r.name, r.threshold)?;
                    if !seen.insert(r.name.as_str()) {
                        return Err(MetadataError::Malformed(format!(
                            "delegated role {:?} listed twice",
                            r.name
                        )));
                    }
                    if ["root", "timestamp", "snapshot", "targets"].contains(&r.name.as_str()) {
                        return Err(MetadataError::Malformed(format!(
                            "delegated role may not be named {:?}",
                            r.name
                        )));
                    }
                    if r.paths.is_some() && r.path_hash_prefixes.is_some() {
                        return Err(MetadataError::Malformed(format!(
                            "delegated role {:?} has both paths and path_hash_prefixes",
                            r.name
                        )));
                    }
                }
            }
            (None, Some(s)) => {
                check_threshold(&s.name_prefix, s.threshold)?;
                if s.bit_length == 0 || s.bit_length > 32 {
                    return Err(MetadataError::Malformed(format!(
                        "succinct_roles bit_length {} out of range 1..=32",
                        s.bit_length
                    )));
                }
            }
            (None, None) => {}
        }
        Ok(())
    }
}

impl Targets {
    /// A new, empty targets role.
    pub fn new(version: u64, expires: OffsetDateTime) -> Self {
        Self {
            type_: Self::TYPE.into(),
            common: Common {
                spec_version: SPEC_VERSION.into(),
                version,
                expires: Expires(expires),
            },
            targets: BTreeMap::new(),
            delegations: None,
            extra: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_root_parses() {
        let bytes = include_bytes!("../../../../assets/public-good/root.json");
        let env = Envelope::from_slice(bytes).unwrap();
        let root: Root = env.parse_signed().unwrap();
        assert_eq!(root.common.version, 15);
        assert!(root.consistent_snapshot);
        assert_eq!(root.common.expires.to_string(), "2026-11-20T13:58:18Z");
        assert!(matches!(
            env.parse_signed::<Timestamp>(),
            Err(MetadataError::WrongType { .. })
        ));
    }

    #[test]
    fn zero_threshold_is_malformed() {
        let mut env =
            Envelope::from_slice(include_bytes!("../../../../assets/public-good/root.json"))
                .unwrap();
        env.signed["roles"]["root"]["threshold"] = 0.into();
        assert!(matches!(
            env.parse_signed::<Root>(),
            Err(MetadataError::Malformed(_))
        ));
    }
}

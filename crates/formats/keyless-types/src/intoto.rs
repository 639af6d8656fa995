//! in-toto Statement v0.1 / v1 (https://github.com/in-toto/attestation):
//! only what a verifier needs, the subjects and the predicate type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The payload type DSSE uses for in-toto statements.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Most subjects we look through in one statement.
pub const MAX_SUBJECTS: usize = 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub type_: String,
    #[serde(default)]
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType", default)]
    pub predicate_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub name: String,
    /// Algorithm name (`sha256`, …) to lower-case hex digest.
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// Whether any subject carries this digest under this algorithm name.
    pub fn has_subject_digest(&self, algorithm: &str, hex_digest: &str) -> bool {
        self.subject.iter().take(MAX_SUBJECTS).any(|s| {
            s.digest
                .get(algorithm)
                .is_some_and(|d| d.eq_ignore_ascii_case(hex_digest))
        })
    }
}

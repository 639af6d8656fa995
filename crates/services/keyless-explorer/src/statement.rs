//! The in-toto statement of a DSSE entry, for display.
//!
//! Only Rekor v1 `intoto` 0.0.2 bodies can carry the DSSE payload (older
//! logs stored it; current Rekor and this log keep only its hash), and
//! `dsse` 0.0.1 / 0.0.2 bodies never do: they name the payload and
//! envelope hashes. So the page shows the statement when the body holds
//! it and otherwise says that the log holds only the payload hash, rather
//! than guessing. Like the rest of the decoder this is display only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// At most this many subjects are listed (a body is already capped at
/// [`crate::decode::MAX_BODY`]).
pub const MAX_SUBJECTS: usize = 64;
/// The pretty-printed predicate is cut at this many bytes.
pub const MAX_PREDICATE: usize = 64 * 1024;

/// An in-toto statement as the page shows it.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StatementView {
    /// The statement's `_type` (`https://in-toto.io/Statement/v1`, ...).
    pub statement_type: String,
    pub predicate_type: String,
    pub subjects: Vec<SubjectView>,
    /// Subjects beyond [`MAX_SUBJECTS`], not listed.
    pub subjects_omitted: usize,
    /// The predicate as indented JSON, at most [`MAX_PREDICATE`] bytes.
    pub predicate: String,
    pub predicate_truncated: bool,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SubjectView {
    #[serde(default)]
    pub name: String,
    /// Algorithm to hex digest, as the statement spells them.
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    #[serde(rename = "predicateType", default)]
    predicate_type: String,
    #[serde(default)]
    subject: Vec<SubjectView>,
    #[serde(default)]
    predicate: serde_json::Value,
}

/// Read the statement from an intoto 0.0.2 body's `payload` field: the
/// bytes of the base64 DSSE payload (Rekor double-encodes it).
pub fn from_intoto_payload(payload: &[u8]) -> Result<StatementView, String> {
    let text = std::str::from_utf8(payload).map_err(|_| "the payload is not base64 text")?;
    let json = keyless_types::b64::decode(text.trim())
        .map_err(|e| format!("the payload is not base64: {e}"))?;
    parse(&json)
}

/// Parse an in-toto statement (JSON).
pub fn parse(json: &[u8]) -> Result<StatementView, String> {
    let raw: RawStatement = serde_json::from_slice(json)
        .map_err(|e| format!("the payload is not an in-toto statement: {e}"))?;
    let omitted = raw.subject.len().saturating_sub(MAX_SUBJECTS);
    let subjects = raw.subject.into_iter().take(MAX_SUBJECTS).collect();
    let mut predicate = serde_json::to_string_pretty(&raw.predicate)
        .map_err(|e| format!("the predicate cannot be printed: {e}"))?;
    let truncated = predicate.len() > MAX_PREDICATE;
    if truncated {
        let mut cut = MAX_PREDICATE;
        while !predicate.is_char_boundary(cut) {
            cut -= 1;
        }
        predicate.truncate(cut);
    }
    Ok(StatementView {
        statement_type: raw.statement_type,
        predicate_type: raw.predicate_type,
        subjects,
        subjects_omitted: omitted,
        predicate,
        predicate_truncated: truncated,
    })
}

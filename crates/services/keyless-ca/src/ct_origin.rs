//! The CT log's checkpoint origin: what C2SP static-ct-api asks it to be,
//! and why a log keeps the one it was created with.
//!
//! static-ct-api: "the origin line MUST be the submission prefix of the
//! log as a schema-less URL with no trailing slashes" (the submission
//! prefix is what `/ct/v1/add-chain` is appended to: the CA's URL for
//! the CA's own log, the `keyless server ct` URL for a standalone one).
//! [`for_submission_prefix`] derives it.
//!
//! The origin names the key in every checkpoint signature the log has
//! published, and witnesses and monitors keep per-origin state: a log
//! cannot change it without publishing a second history. So the origin
//! is chosen once, when the log is created ([`resolve`]): a log that
//! already holds a checkpoint keeps its origin, and asking for another
//! one is an error at open, never a silent rewrite.

use keyless_log::storage::Storage;
use keyless_log::LogError;
use keyless_tlog::{Checkpoint, SignedNote};

/// The origin of a new log asked for nothing else: named by its ID,
/// stable across restarts, whatever URL the CA is reached at.
pub fn default_origin(log_id: &[u8; 32]) -> String {
    format!("keyless-ct/{}", hex::encode(&log_id[..8]))
}

/// The checkpoint origin static-ct-api gives the log whose submission
/// prefix is `url`: the URL without its scheme and trailing slashes
/// (`https://ct.example.com/2024h1/` → `ct.example.com/2024h1`).
pub fn for_submission_prefix(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.trim_end_matches('/').to_string()
}

/// The origin of the log kept in `storage`: the one its stored checkpoint
/// carries when it has one (an explicit origin `asked` must then be the
/// same), else `asked`, then `if_new`, then [`default_origin`] (the
/// `origin` and `origin_if_new` of [`crate::ct_durable::CtLogOptions`]).
pub fn resolve(
    storage: &dyn Storage,
    asked: Option<&str>,
    if_new: Option<&str>,
    log_id: &[u8; 32],
) -> Result<String, LogError> {
    let Some(stored) = stored_origin(storage)? else {
        return Ok(asked
            .or(if_new)
            .map_or_else(|| default_origin(log_id), str::to_string));
    };
    match asked {
        Some(asked) if asked != stored => Err(LogError::Config(format!(
            "the CT log was created with the origin {stored:?} and every checkpoint it \
             published is signed under it; it cannot become {asked:?} (a log keeps its \
             origin for life: give {stored:?} or no origin, or start a new log)"
        ))),
        _ => Ok(stored),
    }
}

/// The origin line of the checkpoint in `storage`, if it holds one.
/// Only read here: [`keyless_log::Log::open`] verifies the checkpoint's
/// signature under this origin next.
fn stored_origin(storage: &dyn Storage) -> Result<Option<String>, LogError> {
    let Some(text) = storage.read_checkpoint()? else {
        return Ok(None);
    };
    let stored = |problem: &str, source: Box<dyn std::error::Error + Send + Sync>| {
        LogError::StoredCheckpoint {
            problem: problem.to_string(),
            source,
        }
    };
    let note = SignedNote::parse(&text).map_err(|e| stored("is not a signed note", Box::new(e)))?;
    let checkpoint =
        Checkpoint::parse(note.body()).map_err(|e| stored("is not a checkpoint", Box::new(e)))?;
    Ok(Some(checkpoint.origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_the_submission_prefix_without_scheme() {
        assert_eq!(
            for_submission_prefix("https://rome.ct.example.com/2024h1/"),
            "rome.ct.example.com/2024h1"
        );
        assert_eq!(
            for_submission_prefix("http://127.0.0.1:5555"),
            "127.0.0.1:5555"
        );
        assert_eq!(for_submission_prefix("ct.example.com//"), "ct.example.com");
    }
}

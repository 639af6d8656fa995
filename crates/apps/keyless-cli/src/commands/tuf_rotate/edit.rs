//! Edits of a `trusted_root.json` for a key rotation, following the
//! protobuf-specs `validFor` semantics: an entry is trusted for signatures
//! made inside its window only. Retiring an entry closes its window at the
//! cut-over (`end`); the replacement's window opens there (`start`), so a
//! bundle signed before the cut-over still finds the old key and one signed
//! with the old key after it finds none.

use anyhow::{bail, Context, Result};
use keyless_types::time::{format_rfc3339, parse_rfc3339};
use keyless_types::wire::{self, TimeRange};

/// Largest `trusted_root.json` / `signing_config` a rotation reads.
pub const MAX_TRUST_FILE: usize = 4 * 1024 * 1024;

/// Parse a trusted root, refusing anything the verifier would not load:
/// a rotation must never publish a root that is already broken.
pub fn parse_root(bytes: &[u8]) -> Result<wire::TrustedRoot> {
    if bytes.len() > MAX_TRUST_FILE {
        bail!("trusted_root.json is larger than {MAX_TRUST_FILE} bytes");
    }
    keyless_verify::TrustMaterial::from_json(bytes)
        .context("the current trusted_root.json does not load")?;
    serde_json::from_slice(bytes).context("parsing trusted_root.json")
}

/// Serialize `root` and check that the verifier loads the result.
pub fn encode_root(root: &wire::TrustedRoot) -> Result<Vec<u8>> {
    let bytes = serde_json::to_vec_pretty(root)?;
    keyless_verify::TrustMaterial::from_json(&bytes)
        .context("the rotated trusted_root.json does not load")?;
    Ok(bytes)
}

/// The start of a window in Unix seconds (no start: the beginning of time).
fn start_of(range: Option<&TimeRange>) -> Result<i64> {
    match range.and_then(|r| r.start.as_deref()) {
        Some(s) => parse_rfc3339(s).with_context(|| format!("validFor.start {s:?}")),
        None => Ok(i64::MIN),
    }
}

/// Close `range` at `at`. Fails when the window is already closed or
/// starts after `at` (the cut-over would leave it empty or reopen it).
fn close(range: &mut Option<TimeRange>, at: i64, what: &str) -> Result<()> {
    let r = range.get_or_insert_with(TimeRange::default);
    if let Some(end) = &r.end {
        bail!("{what} was already retired (validFor.end {end})");
    }
    if start_of(Some(r))? > at {
        bail!(
            "{what} starts after the cut-over {}: pick a later --at",
            format_rfc3339(at)
        );
    }
    r.end = Some(format_rfc3339(at));
    Ok(())
}

/// A window that opens at `at` and stays open.
pub fn open_from(at: i64) -> Option<TimeRange> {
    Some(TimeRange {
        start: Some(format_rfc3339(at)),
        end: None,
    })
}

/// Whether an entry's window is still open (no `end`).
fn is_open(range: Option<&TimeRange>) -> bool {
    range.is_none_or(|r| r.end.is_none())
}

/// Retire the open authorities whose chain starts with `old_leaf` (DER)
/// and add `new` valid from `at`. Returns how many were retired; none is
/// an error (the data directory does not match the trusted root).
pub fn rotate_authority(
    list: &mut Vec<wire::CertificateAuthority>,
    old_leaf: &[u8],
    mut new: wire::CertificateAuthority,
    at: i64,
    what: &str,
) -> Result<usize> {
    let mut retired = 0;
    for ca in list.iter_mut() {
        let first = ca.cert_chain.certificates.first().map(|c| &c.raw_bytes[..]);
        if first == Some(old_leaf) && is_open(ca.valid_for.as_ref()) {
            close(&mut ca.valid_for, at, what)?;
            retired += 1;
            if new.uri.is_empty() {
                new.uri = ca.uri.clone();
            }
        }
    }
    if retired == 0 {
        bail!("no open {what} entry of the trusted root holds the data directory's current certificate: is it the right data directory?");
    }
    new.valid_for = open_from(at);
    list.push(new);
    Ok(retired)
}

/// Retire the open transparency logs (those at `retire` only, when given)
/// and add `new` valid from `at`. Returns the retired logs' base URLs.
pub fn rotate_tlog(
    list: &mut Vec<wire::TransparencyLogInstance>,
    retire: Option<&str>,
    mut new: wire::TransparencyLogInstance,
    at: i64,
) -> Result<Vec<String>> {
    if list.iter().any(|l| l.log_id.key_id == new.log_id.key_id) {
        bail!("the new shard's key is already in the trusted root: give the new shard its own data directory");
    }
    if list.iter().any(|l| l.base_url == new.base_url) {
        bail!(
            "{} is already a log of the trusted root: a new shard needs a new URL (its origin)",
            new.base_url
        );
    }
    let mut retired = Vec::new();
    for log in list.iter_mut() {
        let chosen = retire
            .is_none_or(|url| log.base_url.trim_end_matches('/') == url.trim_end_matches('/'));
        if chosen && is_open(log.public_key.valid_for.as_ref()) {
            close(
                &mut log.public_key.valid_for,
                at,
                &format!("log {}", log.base_url),
            )?;
            retired.push(log.base_url.clone());
        }
    }
    if retired.is_empty() {
        bail!("no open transparency log to retire in the trusted root");
    }
    new.public_key.valid_for = open_from(at);
    list.push(new);
    Ok(retired)
}

/// Point the signing config's log services at the new shard: the retired
/// shards' services end at `at`, the new one starts there, so clients pick
/// the new shard by its `validFor` as they pick Rekor's yearly shards.
pub fn rotate_signing_config(
    config: &mut keyless_types::signing_config::SigningConfig,
    retired: &[String],
    new_url: &str,
    at: i64,
) -> Result<()> {
    let template = config
        .rekor_tlog_urls
        .iter()
        .find(|s| {
            retired
                .iter()
                .any(|r| r.trim_end_matches('/') == s.url.trim_end_matches('/'))
        })
        .cloned();
    let Some(mut new) = template else {
        bail!("the signing config lists none of the retired logs");
    };
    for s in config.rekor_tlog_urls.iter_mut() {
        if retired
            .iter()
            .any(|r| r.trim_end_matches('/') == s.url.trim_end_matches('/'))
            && s.valid_for.end.is_none()
        {
            s.valid_for.end = Some(format_rfc3339(at));
        }
    }
    new.url = new_url.to_string();
    new.valid_for = TimeRange {
        start: Some(format_rfc3339(at)),
        end: None,
    };
    // Newest first, as Sigstore's signing configs list them.
    config.rekor_tlog_urls.insert(0, new);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(leaf: u8, start: Option<&str>) -> wire::CertificateAuthority {
        wire::CertificateAuthority {
            subject: Default::default(),
            uri: format!("https://ca{leaf}.example"),
            cert_chain: wire::X509CertificateChain {
                certificates: vec![wire::X509Certificate {
                    raw_bytes: vec![leaf],
                }],
            },
            valid_for: Some(TimeRange {
                start: start.map(String::from),
                end: None,
            }),
            operator: None,
        }
    }

    #[test]
    fn rotation_closes_the_old_window_and_opens_the_new_one_at_the_cut_over() {
        let mut list = vec![ca(1, Some("2020-01-01T00:00:00Z")), ca(9, None)];
        let at = parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let mut new = ca(2, None);
        new.uri.clear();
        assert_eq!(rotate_authority(&mut list, &[1], new, at, "CA").unwrap(), 1);
        assert_eq!(
            list[0].valid_for.as_ref().unwrap().end.as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        assert!(
            list[1].valid_for.as_ref().unwrap().end.is_none(),
            "another CA is untouched"
        );
        let added = &list[2];
        assert_eq!(
            added.uri, "https://ca1.example",
            "the new entry keeps the service's URI"
        );
        assert_eq!(added.valid_for, open_from(at));
        // The old one cannot be retired twice, and an unknown leaf is an error.
        assert!(rotate_authority(&mut list, &[1], ca(3, None), at, "CA").is_err());
        assert!(rotate_authority(&mut list, &[7], ca(3, None), at, "CA").is_err());
    }

    #[test]
    fn a_cut_over_before_the_window_opens_is_refused() {
        let mut list = vec![ca(1, Some("2027-01-01T00:00:00Z"))];
        let at = parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let err = rotate_authority(&mut list, &[1], ca(2, None), at, "CA").unwrap_err();
        assert!(err.to_string().contains("later --at"), "{err}");
        assert_eq!(list.len(), 1);
    }
}

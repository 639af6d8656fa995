//! RFC 8288 `Link` headers, which the distribution spec uses to paginate the
//! referrers listing: when the descriptors do not fit in one response, the
//! registry MUST send `Link: <url>; rel="next"` for the rest.

use reqwest::header::{HeaderMap, LINK};
use url::Url;

use crate::error::ContentError;

/// The `rel="next"` target among `headers`' `Link` values, resolved against
/// `current` (registries usually send just a path and query).
///
/// A target on another origin is refused rather than followed: the client
/// attaches this registry's cached credentials to every request for it, and a
/// registry must not be able to redirect them elsewhere.
pub(crate) fn next_page(headers: &HeaderMap, current: &Url) -> Result<Option<Url>, ContentError> {
    let Some(target) = headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_target)
    else {
        return Ok(None);
    };
    let malformed = |reason: String| ContentError::Malformed {
        what: format!("Link header from {current}"),
        reason,
    };
    let next = current
        .join(target)
        .map_err(|e| malformed(format!("bad next-page URL {target:?}: {e}")))?;
    if next.origin() != current.origin() {
        return Err(malformed(format!(
            "the next page {next} is on another host; not following it"
        )));
    }
    Ok(Some(next))
}

/// The target of the first link in one header value whose `rel` includes
/// `next`. Values look like `<a>; rel="next", <b>; rel=prev`.
fn next_target(value: &str) -> Option<&str> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let tail = &after[close + 1..];
        let params_end = tail.find('<').unwrap_or(tail.len());
        if tail[..params_end].split(';').any(is_rel_next) {
            return Some(target);
        }
        rest = &tail[params_end..];
    }
    None
}

/// `rel=next`, `rel="next"` or `rel="prev next"`, case-insensitively.
fn is_rel_next(param: &str) -> bool {
    let Some((name, value)) = param.split_once('=') else {
        return false;
    };
    let value = value.trim().trim_end_matches(',').trim().trim_matches('"');
    name.trim().eq_ignore_ascii_case("rel")
        && value
            .split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("next"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(LINK, HeaderValue::from_str(v).expect("header value"));
        }
        h
    }

    fn current() -> Url {
        Url::parse("http://127.0.0.1:5000/v2/app/referrers/sha256:ab?artifactType=x").expect("url")
    }

    #[test]
    fn relative_next_is_resolved() {
        let h = headers(&[r#"</v2/app/referrers/sha256:ab?page=2>; rel="next""#]);
        let next = next_page(&h, &current()).expect("ok").expect("next");
        assert_eq!(
            next.as_str(),
            "http://127.0.0.1:5000/v2/app/referrers/sha256:ab?page=2"
        );
    }

    #[test]
    fn next_is_picked_among_other_relations() {
        let h = headers(&[r#"</first>; rel=prev, </second>; title="x"; REL="prev next""#]);
        let next = next_page(&h, &current()).expect("ok").expect("next");
        assert_eq!(next.path(), "/second");
        let h = headers(&["</a>; rel=prev", "</b>;rel=next"]);
        let next = next_page(&h, &current()).expect("ok").expect("next");
        assert_eq!(next.path(), "/b");
    }

    #[test]
    fn no_next_means_last_page() {
        assert_eq!(next_page(&HeaderMap::new(), &current()).expect("ok"), None);
        let h = headers(&[r#"</a>; rel="prev""#, "garbage"]);
        assert_eq!(next_page(&h, &current()).expect("ok"), None);
    }

    #[test]
    fn another_origin_is_refused() {
        for target in ["http://evil.example/v2/x", "https://127.0.0.1:5000/v2/x"] {
            let h = headers(&[&format!("<{target}>; rel=\"next\"")]);
            assert!(next_page(&h, &current()).is_err(), "{target}");
        }
    }
}

//! Reading a registry's answers: checking the status (with a bounded excerpt
//! of the body in the error) and reading bodies under a size cap, so nothing
//! a registry sends is buffered without a limit.

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Response, StatusCode};

use crate::error::{ContentError, Error, Operation};

/// A header's value, if present and visible ASCII.
pub(super) fn header_str<'a>(headers: &'a HeaderMap<HeaderValue>, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The error for an unexpected status, with the start of the body (which
/// registries use for their error JSON).
pub(super) async fn status_error(response: Response, op: Operation, url: &str) -> Error {
    let status = response.status().as_u16();
    let body = read_capped(response, op, url, 4096)
        .await
        .unwrap_or_default();
    let mut body = String::from_utf8_lossy(&body).trim().to_owned();
    if body.len() > 512 {
        let mut cut = 512;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
        body.push('…');
    }
    Error::Status {
        operation: op,
        url: url.to_owned(),
        status,
        body,
    }
}

pub(crate) async fn expect_status(
    response: Response,
    op: Operation,
    url: &str,
    ok: &[StatusCode],
) -> Result<Response, Error> {
    if ok.contains(&response.status()) {
        Ok(response)
    } else {
        Err(status_error(response, op, url).await)
    }
}

/// Read a body, stopping with [`ContentError::TooLarge`] past `limit` bytes
/// (checked against `Content-Length` first, then while streaming, since the
/// header may lie or be absent).
pub(crate) async fn read_capped(
    response: Response,
    op: Operation,
    url: &str,
    limit: u64,
) -> Result<Vec<u8>, Error> {
    keyless_ca_bundle::read_capped(response, limit)
        .await
        .map_err(|e| match e {
            keyless_ca_bundle::BodyError::TooLarge { .. } => ContentError::TooLarge {
                what: format!("{op} {url}"),
                limit,
            }
            .into(),
            keyless_ca_bundle::BodyError::Http(source) => Error::Transport {
                operation: op,
                url: url.to_owned(),
                source,
            },
        })
}

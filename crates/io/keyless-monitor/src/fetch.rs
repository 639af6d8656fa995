//! Capped HTTP reads: a log (or whoever answers at its URL) can send any
//! number of bytes, so every body is read chunk by chunk up to a limit.
//! The client trusts `keyless --ca-bundle FILE`'s private CA roots
//! (`keyless_ca_bundle::trust`), so a log served over TLS by a private PKI
//! is readable, and gives up on a log that stalls.

use std::time::Duration;

use thiserror::Error;

/// A checkpoint note is a few hundred bytes; 64 KiB leaves room for many
/// cosignatures.
pub const MAX_CHECKPOINT: usize = 64 * 1024;
/// An entry bundle holds at most 256 entries of at most 64 KiB each.
pub const MAX_BUNDLE: usize = 256 * (2 + 65_535);
/// A static-ct-api data tile: 256 entries of a certificate, its
/// precertificate and a chain of fingerprints (Let's Encrypt's are under
/// 2 MiB); an entry bundle of the older layout fits too.
pub const MAX_DATA_TILE: usize = 16 * 1024 * 1024;
/// A Rekor v1 API answer (one entry with its proof, or a search result).
pub const MAX_API_RESPONSE: usize = 4 * 1024 * 1024;
/// Longest a connection to the log may take to open: an address that
/// drops packets fails the read (and the monitor's pass) instead of
/// hanging it.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one request may take, body included: a log that stops
/// answering mid-body must not hang `keyless monitor` forever, and 60 s
/// still reads the largest answer ([`MAX_DATA_TILE`]) over a slow link.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The HTTP client could not be built (the `--ca-bundle` roots).
    #[error(transparent)]
    CaBundle(#[from] keyless_ca_bundle::ClientError),
    #[error("fetching {url}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("fetching {url}: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        url: String,
        status: u16,
        /// The server's error message (its first 512 bytes), if any.
        message: String,
    },
    #[error("fetching {url}: the response is over {limit} bytes")]
    TooLarge { url: String, limit: usize },
}

/// An HTTP client bound to one log's base URL.
#[derive(Clone)]
pub struct Fetcher {
    base: String,
    http: reqwest::Client,
}

impl Fetcher {
    /// A client for the log at `base_url`, trusting the system's roots and
    /// the `--ca-bundle` ones, with [`CONNECT_TIMEOUT`] and
    /// [`REQUEST_TIMEOUT`]. Fails if the bundle cannot be used.
    pub fn new(base_url: &str) -> Result<Self, FetchError> {
        let http = keyless_ca_bundle::client(CONNECT_TIMEOUT, REQUEST_TIMEOUT)?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_string(),
            http,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// GET `base/path`, at most `limit` bytes; `Ok(None)` on 404.
    pub async fn get_opt(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, FetchError> {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        self.send(self.http.get(&url), url, limit).await
    }

    /// GET `base/path`, at most `limit` bytes; a non-success status is an error.
    pub async fn get(&self, path: &str, limit: usize) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        self.send(self.http.get(&url), url.clone(), limit)
            .await?
            .ok_or(FetchError::Status {
                url,
                status: 404,
                message: String::new(),
            })
    }

    /// POST a JSON body to `base/path`, at most `limit` bytes back.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        limit: usize,
    ) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        self.send(self.http.post(&url).json(body), url.clone(), limit)
            .await?
            .ok_or(FetchError::Status {
                url,
                status: 404,
                message: String::new(),
            })
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: String,
        limit: usize,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let fail = |source| FetchError::Http {
            url: url.clone(),
            source,
        };
        let mut resp = req.send().await.map_err(fail)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            // Only the first chunk, cut short: an error text for a human.
            let first = resp.chunk().await.ok().flatten().unwrap_or_default();
            let text = String::from_utf8_lossy(&first[..first.len().min(512)]).to_string();
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or(text);
            let message = message.chars().filter(|c| !c.is_control()).collect();
            return Err(FetchError::Status {
                url,
                status,
                message,
            });
        }
        match keyless_ca_bundle::read_capped(resp, limit as u64).await {
            Ok(out) => Ok(Some(out)),
            Err(keyless_ca_bundle::BodyError::TooLarge { .. }) => {
                Err(FetchError::TooLarge { url, limit })
            }
            Err(keyless_ca_bundle::BodyError::Http(source)) => {
                Err(FetchError::Http { url, source })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bundle that does not parse is an error, never a client with
    /// fewer roots. The only test of this library that sets the process
    /// variable (no other unit test builds a Fetcher).
    #[test]
    fn a_bundle_that_does_not_parse_is_an_error() {
        let env = keyless_ca_bundle::ENV;
        std::env::remove_var(env);
        assert!(Fetcher::new("https://log.example/").is_ok());
        let bad =
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        std::env::set_var(env, bad);
        let result = Fetcher::new("https://log.example/");
        std::env::remove_var(env);
        let Err(err) = result else {
            panic!("a client was built from a bad bundle");
        };
        assert!(matches!(err, FetchError::CaBundle { .. }), "{err:?}");
        assert!(err.to_string().contains("--ca-bundle"), "{err}");
    }
}

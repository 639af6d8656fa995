//! Transport (specification §5.2 "endless data attack": every download has
//! an upper bound on its length).

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::FetchError;

/// Fetches bytes by URL, never returning more than `max_len` bytes.
///
/// Implementations must return [`FetchError::NotFound`] for a missing file
/// (HTTP 404), [`FetchError::TooLarge`] as soon as more than `max_len`
/// bytes arrive, without reading the rest, [`FetchError::HttpStatus`] for
/// any other error status, and [`FetchError::Transport`] only when the
/// mirror could not be reached at all (the client then may fall back to
/// unexpired cached metadata; it must not for any other error).
pub trait Fetcher {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError>;
}

impl<F: Fetcher + ?Sized> Fetcher for &F {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        (**self).fetch(url, max_len)
    }
}

impl<F: Fetcher + ?Sized> Fetcher for Box<F> {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        (**self).fetch(url, max_len)
    }
}

/// Read at most `max_len` bytes, failing if there are more. A read error
/// after the transfer started is [`FetchError::Io`]: the mirror answered,
/// so it is a failed update, not an unreachable mirror.
fn read_capped(mut r: impl Read, max_len: u64) -> Result<Vec<u8>, FetchError> {
    let mut buf = Vec::new();
    let mut limited = (&mut r).take(max_len.saturating_add(1));
    limited
        .read_to_end(&mut buf)
        .map_err(|e| FetchError::Io(std::sync::Arc::new(e)))?;
    if buf.len() as u64 > max_len {
        return Err(FetchError::TooLarge { limit: max_len });
    }
    Ok(buf)
}

/// HTTP(S) fetcher over reqwest's blocking client.
///
/// Blocking: call it from synchronous code (or `spawn_blocking`), not from
/// inside an async task.
pub struct HttpFetcher {
    client: reqwest::blocking::Client,
}

impl HttpFetcher {
    /// A client with a 30 s timeout and a `keyless` user agent.
    pub fn new() -> Result<Self, FetchError> {
        let builder = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("keyless-tuf/", env!("CARGO_PKG_VERSION")));
        let client = keyless_ca_bundle::trust(builder)
            .and_then(|b| b.build())
            .map_err(|e| FetchError::Io(std::sync::Arc::new(e)))?;
        Ok(Self { client })
    }
}

impl Fetcher for HttpFetcher {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        let resp = self.client.get(url).send().map_err(|e| {
            // Only "could not connect" (refused, DNS, TLS handshake) and
            // timeouts mean the mirror is unreachable; anything else
            // (redirect loop, malformed response) is a failed update.
            if e.is_connect() || e.is_timeout() {
                FetchError::Transport(std::sync::Arc::new(e))
            } else {
                FetchError::Io(std::sync::Arc::new(e))
            }
        })?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::FORBIDDEN {
            // S3-style mirrors answer 403 for missing objects.
            return Err(FetchError::NotFound);
        }
        if !status.is_success() {
            return Err(FetchError::HttpStatus(status.as_u16()));
        }
        if let Some(len) = resp.content_length() {
            if len > max_len {
                return Err(FetchError::TooLarge { limit: max_len });
            }
        }
        read_capped(resp, max_len)
    }
}

/// Serves a local directory as if it were a mirror: `file:` URLs, or URLs
/// under `base_url` mapped onto `root`. For tests and offline mirrors.
pub struct DirectoryFetcher {
    base_url: String,
    root: PathBuf,
}

impl DirectoryFetcher {
    /// Map URLs starting with `base_url` (e.g. `file:///mirror` or
    /// `https://tuf.example`) to files under `root`.
    pub fn new(base_url: impl Into<String>, root: impl Into<PathBuf>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            root: root.into(),
        }
    }

    /// A fetcher for `file://` URLs of the local file system.
    pub fn file_urls() -> Self {
        Self::new("file://", "/")
    }

    fn path_for(&self, url: &str) -> Result<PathBuf, FetchError> {
        let rest = url.strip_prefix(&self.base_url).ok_or_else(|| {
            FetchError::InvalidUrl(format!("{url} is not under {}", self.base_url))
        })?;
        let mut path = self.root.clone();
        // Percent-decoded like a static web server does (`%20` is a space,
        // `%2F` a directory separator); no component may climb out of `root`.
        for seg in rest.split('/').filter(|s| !s.is_empty()) {
            let seg = percent_encoding::percent_decode_str(seg)
                .decode_utf8()
                .map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
            for part in seg.split('/').filter(|s| !s.is_empty()) {
                if part == "." || part == ".." || part.contains('\\') {
                    return Err(FetchError::InvalidUrl(format!(
                        "unsafe path segment {part:?}"
                    )));
                }
                path.push(part);
            }
        }
        Ok(path)
    }
}

impl Fetcher for DirectoryFetcher {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        let path = self.path_for(url)?;
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FetchError::NotFound),
            Err(e) => {
                return Err(FetchError::io(std::io::Error::new(
                    e.kind(),
                    format!("{}: {e}", path.display()),
                )))
            }
        };
        if path.is_dir() {
            return Err(FetchError::NotFound);
        }
        read_capped(file, max_len)
    }
}

/// A fetcher for both `file://` and `http(s)://` URLs.
pub struct AnyFetcher {
    http: Option<HttpFetcher>,
    file: DirectoryFetcher,
}

impl AnyFetcher {
    pub fn new() -> Self {
        Self {
            http: HttpFetcher::new().ok(),
            file: DirectoryFetcher::file_urls(),
        }
    }
}

impl Default for AnyFetcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Fetcher for AnyFetcher {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        if url.starts_with("file://") {
            self.file.fetch(url, max_len)
        } else if url.starts_with("http://") || url.starts_with("https://") {
            match &self.http {
                Some(h) => h.fetch(url, max_len),
                None => Err(FetchError::io("HTTP client unavailable")),
            }
        } else {
            Err(FetchError::InvalidUrl(format!(
                "{url}: only file://, http:// and https:// are supported"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    /// A one-shot HTTP server on 127.0.0.1 answering every request with
    /// `status` and `body`; returns its base URL.
    fn serve(status: &'static str, body: &'static [u8], requests: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(requests) {
                let Ok(mut stream) = stream else { return };
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body);
            }
        });
        format!("http://{addr}")
    }

    /// The mirror's answers are classified so that only a connection failure
    /// counts as unreachable: 503 and 500 are HTTP statuses (a failed
    /// update), 404 is "not found", a closed port is `Transport`.
    #[test]
    fn http_status_is_not_unreachable() {
        let f = HttpFetcher::new().unwrap();
        let base = serve("503 Service Unavailable", b"down", 1);
        assert!(matches!(
            f.fetch(&format!("{base}/timestamp.json"), 100),
            Err(FetchError::HttpStatus(503))
        ));
        let base = serve("500 Internal Server Error", b"", 1);
        assert!(matches!(
            f.fetch(&format!("{base}/2.root.json"), 100),
            Err(FetchError::HttpStatus(500))
        ));
        let base = serve("404 Not Found", b"", 1);
        assert!(matches!(
            f.fetch(&format!("{base}/2.root.json"), 100),
            Err(FetchError::NotFound)
        ));
        let base = serve("200 OK", b"0123456789", 2);
        assert_eq!(f.fetch(&format!("{base}/a"), 10).unwrap(), b"0123456789");
        assert!(matches!(
            f.fetch(&format!("{base}/a"), 9),
            Err(FetchError::TooLarge { limit: 9 })
        ));
        // A port nobody listens on: connection refused, the one "unreachable" case.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        assert!(matches!(
            f.fetch(&format!("http://{addr}/timestamp.json"), 100),
            Err(FetchError::Transport(_))
        ));
    }

    #[test]
    fn directory_fetcher_caps_and_404s() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"0123456789").unwrap();
        let f = DirectoryFetcher::new("https://m.example/", dir.path());
        assert_eq!(f.fetch("https://m.example/a.json", 10).unwrap().len(), 10);
        assert!(matches!(
            f.fetch("https://m.example/a.json", 9),
            Err(FetchError::TooLarge { limit: 9 })
        ));
        assert!(matches!(
            f.fetch("https://m.example/b.json", 9),
            Err(FetchError::NotFound)
        ));
        assert!(matches!(
            f.fetch("https://m.example/%2E%2E/x", 9),
            Err(FetchError::InvalidUrl(_))
        ));
        assert!(matches!(
            f.fetch("https://other.example/a.json", 9),
            Err(FetchError::InvalidUrl(_))
        ));
    }
}

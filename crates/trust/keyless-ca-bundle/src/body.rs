//! The one way the workspace's async clients read an answer's body: with a
//! cap. Every service answer (a log's tiles, an issuer's keys, a registry's
//! blobs, a witness's cosignature) is untrusted input, so its size is
//! checked against `Content-Length` first and again while it streams in,
//! since the header may lie or be absent.

/// Why a capped read stopped.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The answer said it was, or turned out to be, larger than `limit`
    /// bytes. Nothing past the limit was kept.
    #[error("the answer is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The connection failed while the body was read.
    #[error("the answer could not be read")]
    Http(#[source] reqwest::Error),
}

/// The body of `response`, at most `limit` bytes of it.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Http)? {
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, routing::get, Router};

    /// `/sized` answers 100 bytes with a `Content-Length`; `/streamed` the
    /// same 100 bytes in ten chunks with none.
    async fn serve() -> String {
        let app = Router::new()
            .route("/sized", get(|| async { vec![7u8; 100] }))
            .route(
                "/streamed",
                get(|| async {
                    let chunks = (0..10).map(|_| Ok::<_, std::io::Error>(vec![7u8; 10]));
                    Body::from_stream(futures_util::stream::iter(chunks))
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn reads_up_to_the_limit_and_refuses_past_it() {
        let base = serve().await;
        let http = reqwest::Client::new();
        for path in ["sized", "streamed"] {
            let get = || http.get(format!("{base}/{path}")).send();
            let resp = get().await.expect("answer");
            if path == "streamed" {
                assert_eq!(resp.content_length(), None, "the header must be absent");
            }
            assert_eq!(read_capped(resp, 100).await.expect(path), vec![7u8; 100]);
            let resp = get().await.expect("answer");
            let err = read_capped(resp, 99).await.expect_err(path);
            assert!(
                matches!(err, BodyError::TooLarge { limit: 99 }),
                "{path}: {err}"
            );
        }
    }
}

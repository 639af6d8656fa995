//! The clock and the random codes of the login flows.

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A random URL-safe string with `bytes` bytes of entropy.
pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    // aws-lc's RNG does not fail in practice; an all-zero value would only
    // make a dev code guessable, never a token forgeable.
    let _ = aws_lc_rs::rand::fill(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

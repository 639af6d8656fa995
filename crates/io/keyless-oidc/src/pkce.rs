//! PKCE (RFC 7636) with S256, and random state/nonce values.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;

/// A random URL-safe string of `bytes` random bytes.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // SystemRandom only fails if the OS has no entropy source; fall back to
    // an error-visible empty value rather than a predictable one.
    if SystemRandom::new().fill(&mut buf).is_err() {
        return String::new();
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// `(verifier, challenge)`: challenge = BASE64URL(SHA256(verifier)).
pub(crate) fn pkce_pair() -> (String, String) {
    let verifier = random_token(32);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(keyless_crypto::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc7636_appendix_b() {
        use base64::Engine;
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let c = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(keyless_crypto::sha256(v.as_bytes()));
        assert_eq!(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let (v, c) = super::pkce_pair();
        assert!(v.len() >= 43 && !c.is_empty());
    }
}

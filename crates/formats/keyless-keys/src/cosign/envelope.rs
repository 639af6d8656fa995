//! The JSON envelope inside cosign's PEM block, as
//! go-securesystemslib's `encrypted` package writes it:
//!
//! ```text
//! {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<b64 32 bytes>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<b64 24 bytes>"},
//!  "ciphertext":"<b64 tag ‖ XSalsa20 ciphertext>"}
//! ```
//!
//! The secretbox key is scrypt(password, salt, N, r, p) of 32 bytes; Go's
//! `[]byte` fields are standard base64 with padding. Only the three scrypt
//! parameter sets the Go package accepts are read (N = 2^15 "legacy",
//! written by cosign before go-securesystemslib 0.7; 2^16 "standard", what
//! cosign writes today; 2^17 "OWASP"; r = 8, p = 1): the parameters come
//! from the file, so accepting any would let a tampered file make us
//! allocate gigabytes.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::CosignKeyError;

const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// Largest envelope read: a PKCS#8 RSA-8192 key is under 5 KiB, its
/// envelope under 8 KiB.
pub(crate) const MAX_ENVELOPE: usize = 64 * 1024;

/// scrypt (N, r, p) sets accepted on read, as go-securesystemslib's
/// `CheckParams`: legacy, standard, OWASP.
const ACCEPTED: [(u64, u32, u32); 3] = [(32_768, 8, 1), (65_536, 8, 1), (131_072, 8, 1)];

/// What we write: go-securesystemslib's `Standard`, cosign's default since
/// it moved to that package.
pub(crate) const WRITE_PARAMS: ScryptParams = ScryptParams {
    n: 65_536,
    r: 8,
    p: 1,
};

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

/// scrypt's cost parameters, with the JSON names Go gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ScryptParams {
    #[serde(rename = "N")]
    pub n: u64,
    pub r: u32,
    pub p: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn derive_key(
    password: &[u8],
    salt: &[u8],
    params: ScryptParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, CosignKeyError> {
    if !ACCEPTED.contains(&(params.n, params.r, params.p)) {
        return Err(CosignKeyError::Unsupported(format!(
            "scrypt parameters N={} r={} p={} (cosign writes N=32768 or 65536, r=8, p=1)",
            params.n, params.r, params.p
        )));
    }
    // N is one of the accepted powers of two: its log is exact.
    let log_n = u8::try_from(params.n.trailing_zeros())
        .map_err(|_| CosignKeyError::Unsupported("scrypt N".into()))?;
    let scrypt_params = scrypt::Params::new(log_n, params.r, params.p, KEY_LEN)
        .map_err(|e| CosignKeyError::Unsupported(format!("scrypt parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    scrypt::scrypt(password, salt, &scrypt_params, key.as_mut_slice())
        .map_err(|e| CosignKeyError::Encrypt(format!("scrypt: {e}")))?;
    Ok(key)
}

fn decode_field(name: &str, b64: &str, len: Option<usize>) -> Result<Vec<u8>, CosignKeyError> {
    let bytes = B64
        .decode(b64)
        .map_err(|e| CosignKeyError::Envelope(format!("{name}: {e}")))?;
    match len {
        Some(want) if bytes.len() != want => Err(CosignKeyError::Envelope(format!(
            "{name} is {} bytes, expected {want}",
            bytes.len()
        ))),
        _ => Ok(bytes),
    }
}

/// Open the envelope `json` with `password`: the plaintext (a PKCS#8 DER
/// private key in cosign's files).
pub(crate) fn open(json: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, CosignKeyError> {
    if json.len() > MAX_ENVELOPE {
        return Err(CosignKeyError::Envelope(format!(
            "{} bytes, more than {MAX_ENVELOPE}",
            json.len()
        )));
    }
    let env: Envelope =
        serde_json::from_slice(json).map_err(|e| CosignKeyError::Envelope(e.to_string()))?;
    if env.kdf.name != KDF_NAME {
        return Err(CosignKeyError::Unsupported(format!(
            "kdf {:?} (expected {KDF_NAME:?})",
            env.kdf.name
        )));
    }
    if env.cipher.name != CIPHER_NAME {
        return Err(CosignKeyError::Unsupported(format!(
            "cipher {:?} (expected {CIPHER_NAME:?})",
            env.cipher.name
        )));
    }
    // Go's package generates 32-byte salts but reads any length.
    let salt = decode_field("salt", &env.kdf.salt, None)?;
    let nonce = decode_field("nonce", &env.cipher.nonce, Some(NONCE_LEN))?;
    let ciphertext = decode_field("ciphertext", &env.ciphertext, None)?;
    let key = derive_key(password, &salt, env.kdf.params)?;
    let cipher = XSalsa20Poly1305::new(key.as_slice().into());
    cipher
        .decrypt(nonce.as_slice().into(), ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| CosignKeyError::WrongPassword)
}

/// Seal `plaintext` under `password` with a fresh salt and nonce, as the
/// JSON cosign writes (compact, Go's field order).
pub(crate) fn seal(
    plaintext: &[u8],
    password: &[u8],
    params: ScryptParams,
) -> Result<Vec<u8>, CosignKeyError> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut salt)
        .map_err(|_| CosignKeyError::Encrypt("random salt unavailable".into()))?;
    aws_lc_rs::rand::fill(&mut nonce)
        .map_err(|_| CosignKeyError::Encrypt("random nonce unavailable".into()))?;
    seal_with(plaintext, password, params, &salt, &nonce)
}

/// [`seal`] with a given salt and nonce (tests pin them for known answers).
pub(crate) fn seal_with(
    plaintext: &[u8],
    password: &[u8],
    params: ScryptParams,
    salt: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>, CosignKeyError> {
    let key = derive_key(password, salt, params)?;
    let cipher = XSalsa20Poly1305::new(key.as_slice().into());
    let sealed = cipher
        .encrypt(nonce.into(), plaintext)
        .map_err(|_| CosignKeyError::Encrypt("secretbox".into()))?;
    let env = Envelope {
        kdf: Kdf {
            name: KDF_NAME.into(),
            params,
            salt: B64.encode(salt),
        },
        cipher: Cipher {
            name: CIPHER_NAME.into(),
            nonce: B64.encode(nonce),
        },
        ciphertext: B64.encode(sealed),
    };
    serde_json::to_vec(&env).map_err(|e| CosignKeyError::Encrypt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// go-securesystemslib's own known answer (encrypted/encrypted_test.go,
    /// `TestDecrypt`): "reallyimportant" under "supersecret", legacy
    /// parameters. Our scrypt and secretbox must agree with Go's.
    const GO_VECTOR: &str = r#"{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g="},"cipher":{"name":"nacl/secretbox","nonce":"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik"},"ciphertext":"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ=="}"#;

    #[test]
    fn opens_go_securesystemslib_vector_and_reseals_it_byte_for_byte() {
        let plain = open(GO_VECTOR.as_bytes(), b"supersecret").unwrap();
        assert_eq!(plain.as_slice(), b"reallyimportant");
        // Same salt and nonce give Go's exact JSON back: field names,
        // order, base64 and the tag-first secretbox layout all match.
        let salt = B64
            .decode("N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g=")
            .unwrap();
        let nonce: [u8; 24] = B64
            .decode("2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik")
            .unwrap()
            .try_into()
            .unwrap();
        let legacy = ScryptParams {
            n: 32_768,
            r: 8,
            p: 1,
        };
        let json = seal_with(b"reallyimportant", b"supersecret", legacy, &salt, &nonce).unwrap();
        assert_eq!(String::from_utf8(json).unwrap(), GO_VECTOR);
    }

    #[test]
    fn wrong_password_and_tampering_are_errors() {
        assert!(matches!(
            open(GO_VECTOR.as_bytes(), b"supersecreT"),
            Err(CosignKeyError::WrongPassword)
        ));
        let tampered = GO_VECTOR.replace("SEW6", "SEW7");
        assert!(matches!(
            open(tampered.as_bytes(), b"supersecret"),
            Err(CosignKeyError::WrongPassword)
        ));
    }

    /// Parameters outside the three accepted sets are refused before any
    /// scrypt work, as are other KDF and cipher names and short nonces.
    #[test]
    fn unexpected_parameters_and_names_are_refused() {
        for (from, to) in [
            (r#""N":32768"#, r#""N":1073741824"#),
            (r#""N":32768"#, r#""N":1024"#),
            (r#""r":8"#, r#""r":9"#),
            (r#""p":1"#, r#""p":64"#),
        ] {
            let text = GO_VECTOR.replace(from, to);
            assert!(
                matches!(
                    open(text.as_bytes(), b"supersecret"),
                    Err(CosignKeyError::Unsupported(_))
                ),
                "{to}"
            );
        }
        let text = GO_VECTOR.replace(r#""name":"scrypt""#, r#""name":"pbkdf2""#);
        assert!(matches!(
            open(text.as_bytes(), b"supersecret"),
            Err(CosignKeyError::Unsupported(_))
        ));
        let text = GO_VECTOR.replace("nacl/secretbox", "aes");
        assert!(matches!(
            open(text.as_bytes(), b"supersecret"),
            Err(CosignKeyError::Unsupported(_))
        ));
        let text = GO_VECTOR.replace("2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik", "AAAA");
        assert!(matches!(
            open(text.as_bytes(), b"supersecret"),
            Err(CosignKeyError::Envelope(_))
        ));
        assert!(matches!(
            open(b"{kdf", b"x"),
            Err(CosignKeyError::Envelope(_))
        ));
        let huge = vec![b' '; MAX_ENVELOPE + 1];
        assert!(matches!(
            open(&huge, b"x"),
            Err(CosignKeyError::Envelope(_))
        ));
    }
}

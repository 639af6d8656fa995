//! C2SP signed notes (<https://c2sp.org/signed-note>).
//!
//! A note is UTF-8 text ending in a newline, then a blank line, then one or
//! more signature lines `— <name> <base64(key hint || signature)>\n` (the
//! dash is U+2014 EM DASH). A note may carry signatures from several parties
//! (the log itself, witnesses, a second log key during rotation), in any
//! order, so a verifier picks out the lines it can attribute by name and
//! 4-byte key hint and ignores the rest.
//!
//! # Key hints
//!
//! The key hint is the first 4 bytes of a SHA-256 "key ID". How that ID is
//! computed depends on the key type; the rules below are those of
//! sigstore/rekor-tiles `pkg/note` and were checked against the Sigstore
//! conformance data and trusted roots:
//!
//! - **Ed25519** (C2SP standard, Rekor v2 logs such as
//!   `log2025-1.rekor.sigstore.dev`): `SHA-256(name || 0x0A || 0x01 || raw
//!   32-byte key)`. The name is the log's origin, which for Rekor v2 is the
//!   host of its base URL. The full 32-byte hash is the log ID that trusted
//!   roots list for the log.
//! - **ECDSA** (Rekor v1 `rekor.sigstore.dev`, and Rekor v2 logs with ECDSA
//!   keys): `SHA-256(DER SubjectPublicKeyInfo)`, independent of the name.
//!   This is also the Rekor v1 log ID. Signatures are ASN.1 DER ECDSA over
//!   the body with the curve's usual hash (SHA-256 for P-256).
//! - **RSA** (rekor-tiles only): `SHA-256(name || 0x0A || 0xFF ||
//!   "PKIX-RSA-PKCS#1v1.5" || DER SubjectPublicKeyInfo)`, PKCS#1 v1.5 with
//!   SHA-256.
//!
//! Rekor v1 signs checkpoints with the name `rekor.sigstore.dev` while the
//! checkpoint origin is `rekor.sigstore.dev - <tree ID>`, and clients such as
//! sigstore-go attribute v1 signatures by key hint alone. For that case use
//! [`NoteVerifier::any_name`] or [`NoteVerifier::match_any_name`].

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::{CryptoError, KeyAlgorithm, PublicKey, SignatureAlgorithm};
use thiserror::Error;

use crate::hash::Hash;
use crate::hex::hex;

/// Notes larger than this are refused before any parsing: real checkpoints
/// are a few hundred bytes, and the cap keeps hostile input cheap.
pub const MAX_NOTE_SIZE: usize = 1 << 20;
/// At most this many signature lines; more is not a note anyone signs.
pub const MAX_SIGNATURES: usize = 100;

/// The separator between a signature line's dash and its name.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note could not be parsed, built or verified.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_SIZE`].
    #[error("note is {size} bytes, more than the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    /// A control character other than newline; notes are plain text.
    #[error("note contains control character U+{code:04X} at byte {offset}")]
    ControlCharacter { offset: usize, code: u32 },
    /// There is no blank line between the text and the signatures.
    #[error("note has no blank line separating the text from its signatures")]
    MissingSeparator,
    /// The text before the blank line is empty.
    #[error("note text is empty")]
    EmptyBody,
    /// The text does not end with a newline.
    #[error("note text does not end with a newline")]
    BodyNotNewlineTerminated,
    /// There are no signature lines after the blank line.
    #[error("note has no signature lines")]
    NoSignatures,
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {max} signature lines")]
    TooManySignatures { max: usize },
    /// A signature line is not `— <name> <base64>`.
    #[error("signature line {line} is malformed: {reason}")]
    /// `source` is the base64 decoder's error when the signature is not base64.
    MalformedSignatureLine {
        line: usize,
        reason: String,
        #[source]
        source: Option<base64::DecodeError>,
    },
    /// A key or signature name is empty, has white space or a '+'.
    #[error("invalid note signer name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    /// The key cannot sign notes, or its key hint cannot be computed as asked.
    #[error("{algorithm:?} key cannot be used here: {reason}")]
    UnsupportedKey {
        algorithm: KeyAlgorithm,
        reason: &'static str,
    },
    /// No signature line carries the verifier's name and key hint.
    #[error(
        "no signature line from {} with key hint {}; lines found: [{}]",
        name_for_error(.name), hex(.key_hint), .found.join(", ")
    )]
    NoMatchingSignature {
        name: Option<String>,
        key_hint: [u8; 4],
        found: Vec<String>,
    },
    /// Lines with the verifier's name and key hint exist, but none verifies.
    #[error(
        "{lines} signature line(s) from {} with key hint {} do not verify: {source}",
        name_for_error(.name), hex(.key_hint)
    )]
    SignatureInvalid {
        name: Option<String>,
        key_hint: [u8; 4],
        lines: usize,
        source: CryptoError,
    },
}

fn name_for_error(name: &Option<String>) -> String {
    match name {
        Some(n) => format!("{n:?}"),
        None => "any signer".to_string(),
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's name as written on the line.
    pub name: String,
    /// The first 4 bytes of the signer's key ID (see the module docs).
    pub key_hint: [u8; 4],
    /// The signature proper, in the signer's algorithm-specific encoding.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The text of the line, with its trailing newline.
    pub fn to_line(&self) -> String {
        let mut bytes = Vec::with_capacity(4 + self.signature.len());
        bytes.extend_from_slice(&self.key_hint);
        bytes.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(bytes))
    }

    /// Parse one line (without its newline). `line` is the 1-based position
    /// among the signature lines, for error messages.
    fn parse_line(text: &str, line: usize) -> Result<Self, NoteError> {
        let malformed = |reason: String| NoteError::MalformedSignatureLine {
            line,
            reason,
            source: None,
        };
        let rest = text.strip_prefix(SIG_PREFIX).ok_or_else(|| {
            malformed("does not start with \"\u{2014} \" (EM DASH, space)".into())
        })?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| malformed("no space between name and signature".into()))?;
        check_name(name).map_err(|e| match e {
            NoteError::InvalidName { reason, .. } => malformed(format!("name {name:?}: {reason}")),
            other => other,
        })?;
        let bytes = B64
            .decode(b64)
            .map_err(|e| NoteError::MalformedSignatureLine {
                line,
                reason: "the signature is not base64".into(),
                source: Some(e),
            })?;
        if bytes.len() < 5 {
            return Err(malformed(format!(
                "signature has {} bytes, needs a 4-byte key hint and at least 1 signature byte",
                bytes.len()
            )));
        }
        let mut key_hint = [0u8; 4];
        key_hint.copy_from_slice(&bytes[..4]);
        Ok(Self {
            name: name.to_string(),
            key_hint,
            signature: bytes[4..].to_vec(),
        })
    }
}

/// Names identify signers: non-empty, no white space (which would break the
/// line format) and no '+' (reserved by the vkey encoding).
fn check_name(name: &str) -> Result<(), NoteError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.chars().any(char::is_whitespace) {
        "contains white space"
    } else if name.contains('+') {
        "contains '+'"
    } else {
        return Ok(());
    };
    Err(NoteError::InvalidName {
        name: name.to_string(),
        reason,
    })
}

/// Reject ASCII control characters other than newline (U+0000..U+001F), as
/// golang.org/x/mod's note package does: a '\r' or a NUL would let the same
/// note read differently in different tools.
fn check_text(text: &str) -> Result<(), NoteError> {
    if let Some((offset, c)) = text
        .char_indices()
        .find(|&(_, c)| (c as u32) < 0x20 && c != '\n')
    {
        return Err(NoteError::ControlCharacter {
            offset,
            code: c as u32,
        });
    }
    Ok(())
}

fn check_body(body: &str) -> Result<(), NoteError> {
    if body.is_empty() || body == "\n" {
        return Err(NoteError::EmptyBody);
    }
    if !body.ends_with('\n') {
        return Err(NoteError::BodyNotNewlineTerminated);
    }
    Ok(())
}

/// A parsed signed note: the signed text and its signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    body: String,
    signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Parse the text of a note. Only the format is checked here; call
    /// [`SignedNote::verify`] to check a signature.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        if text.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size: text.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        check_text(text)?;
        // The last blank line is the separator: signature lines are never
        // empty, so no blank line can follow it.
        let split = text.rfind("\n\n").ok_or(NoteError::MissingSeparator)?;
        let body = &text[..split + 1];
        let sig_block = &text[split + 2..];
        check_body(body)?;
        if sig_block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let Some(sig_block) = sig_block.strip_suffix('\n') else {
            let line = sig_block.split('\n').count();
            return Err(NoteError::MalformedSignatureLine {
                line,
                reason: "not newline-terminated".into(),
                source: None,
            });
        };
        let mut signatures = Vec::new();
        for (i, line) in sig_block.split('\n').enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    max: MAX_SIGNATURES,
                });
            }
            signatures.push(NoteSignature::parse_line(line, i + 1)?);
        }
        Ok(Self {
            body: body.to_string(),
            signatures,
        })
    }

    /// Assemble a note from a body and signatures, checking the same rules
    /// as [`SignedNote::parse`] so that [`SignedNote::to_text`] always
    /// parses back to an equal note.
    pub fn new(body: String, signatures: Vec<NoteSignature>) -> Result<Self, NoteError> {
        check_text(&body)?;
        check_body(&body)?;
        if signatures.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        for (i, sig) in signatures.iter().enumerate() {
            check_name(&sig.name)?;
            if sig.signature.is_empty() {
                return Err(NoteError::MalformedSignatureLine {
                    line: i + 1,
                    reason: "empty signature".into(),
                    source: None,
                });
            }
        }
        let note = Self { body, signatures };
        let size = note.text_len();
        if size > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size,
                max: MAX_NOTE_SIZE,
            });
        }
        Ok(note)
    }

    fn text_len(&self) -> usize {
        self.body.len()
            + 1
            + self
                .signatures
                .iter()
                .map(|s| s.to_line().len())
                .sum::<usize>()
    }

    /// The signed text, ending with '\n' (without the blank separator line).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The signature lines, in the order they appear.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// The note as text: body, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.text_len());
        out.push_str(&self.body);
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
        }
        out
    }

    /// Succeeds if at least one signature line carries this verifier's name
    /// (unless it matches any name) and key hint, and verifies over the body.
    ///
    /// Lines it cannot attribute are ignored: witness cosignatures, other
    /// keys of the same log, in any order. Several lines may share a name
    /// and hint (the hint is only 4 bytes), so all of them are tried before
    /// giving up.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<(), NoteError> {
        let mut tried = 0;
        let mut last_err = None;
        for sig in self.signatures.iter().filter(|s| verifier.attributes(s)) {
            tried += 1;
            match verifier
                .key
                .verify(verifier.algorithm, self.body.as_bytes(), &sig.signature)
            {
                Ok(()) => return Ok(()),
                Err(e) => last_err = Some(e),
            }
        }
        match last_err {
            Some(source) => Err(NoteError::SignatureInvalid {
                name: verifier.match_name.then(|| verifier.name.clone()),
                key_hint: verifier.key_hint,
                lines: tried,
                source,
            }),
            None => Err(NoteError::NoMatchingSignature {
                name: verifier.match_name.then(|| verifier.name.clone()),
                key_hint: verifier.key_hint,
                found: self
                    .signatures
                    .iter()
                    .map(|s| format!("{} {}", s.name, hex(&s.key_hint)))
                    .collect(),
            }),
        }
    }
}

/// A public key that verifies note signatures, with the name and key hint
/// that attribute signature lines to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: Hash,
    key_hint: [u8; 4],
    key: PublicKey,
    algorithm: SignatureAlgorithm,
    /// Whether signature lines must carry `name` (C2SP) or are matched by
    /// key hint alone (Rekor v1 practice).
    match_name: bool,
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Type byte and identifier rekor-tiles uses for RSA note keys.
const RSA_KEY_TYPE: &[u8] = b"\xffPKIX-RSA-PKCS#1v1.5";

fn conformant_key_id(name: &str, key_type: &[u8], key: &[u8]) -> Hash {
    let mut buf = Vec::with_capacity(name.len() + 1 + key_type.len() + key.len());
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.extend_from_slice(key_type);
    buf.extend_from_slice(key);
    keyless_crypto::sha256(&buf)
}

fn ed25519_raw(key: &PublicKey) -> Result<&[u8], NoteError> {
    key.spki_der()
        .strip_prefix(&ED25519_SPKI_PREFIX[..])
        .filter(|raw| raw.len() == 32)
        .ok_or(NoteError::UnsupportedKey {
            algorithm: KeyAlgorithm::Ed25519,
            reason: "SubjectPublicKeyInfo is not the 44-byte Ed25519 form",
        })
}

impl NoteVerifier {
    /// A verifier for signature lines named `name` from `key`, with the key
    /// hint rule of the key's type (see the module docs): Ed25519 and RSA
    /// hints depend on `name`, ECDSA hints on the key alone.
    ///
    /// For Rekor v2, `name` is the log's origin (the host of its base URL,
    /// e.g. `log2025-1.rekor.sigstore.dev`).
    pub fn new(name: &str, key: PublicKey) -> Result<Self, NoteError> {
        check_name(name)?;
        let algorithm = key.default_signature_algorithm();
        let key_id = match key.algorithm() {
            KeyAlgorithm::Ed25519 => conformant_key_id(name, &[0x01], ed25519_raw(&key)?),
            KeyAlgorithm::Rsa => conformant_key_id(name, RSA_KEY_TYPE, key.spki_der()),
            _ => keyless_crypto::sha256(key.spki_der()),
        };
        let mut key_hint = [0u8; 4];
        key_hint.copy_from_slice(&key_id[..4]);
        Ok(Self {
            name: name.to_string(),
            key_id,
            key_hint,
            key,
            algorithm,
            match_name: true,
        })
    }

    /// A verifier that attributes signature lines by key hint alone, whatever
    /// name they carry. This is how Sigstore clients check Rekor v1
    /// checkpoints. Only ECDSA keys have a name-independent hint; for other
    /// keys use [`NoteVerifier::new`] then [`NoteVerifier::match_any_name`].
    pub fn any_name(key: PublicKey) -> Result<Self, NoteError> {
        match key.algorithm() {
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521 => {
                let algorithm = key.default_signature_algorithm();
                let key_id = keyless_crypto::sha256(key.spki_der());
                let mut key_hint = [0u8; 4];
                key_hint.copy_from_slice(&key_id[..4]);
                Ok(Self {
                    name: String::new(),
                    key_id,
                    key_hint,
                    key,
                    algorithm,
                    match_name: false,
                })
            }
            algorithm => Err(NoteError::UnsupportedKey {
                algorithm,
                reason: "its note key hint depends on the signer name, so one must be given",
            }),
        }
    }

    /// Keep the key hint but stop requiring signature lines to carry this
    /// verifier's name.
    pub fn match_any_name(mut self) -> Self {
        self.match_name = false;
        self
    }

    /// The 4-byte key hint signature lines must carry.
    pub fn key_hint(&self) -> [u8; 4] {
        self.key_hint
    }

    /// The full 32-byte key ID whose first 4 bytes are the key hint. For
    /// Sigstore logs this equals the log ID listed in the trusted root.
    pub fn key_id(&self) -> Hash {
        self.key_id
    }

    /// The signer name; empty for a verifier made by [`NoteVerifier::any_name`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether signature lines must carry [`NoteVerifier::name`].
    pub fn requires_name(&self) -> bool {
        self.match_name
    }

    /// The verification key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The signature scheme used on the note body.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn attributes(&self, sig: &NoteSignature) -> bool {
        sig.key_hint == self.key_hint && (!self.match_name || sig.name == self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "\u{2014} example.com AQIDBAUG\n";

    #[test]
    fn parse_roundtrip() {
        let text = format!("example.com\n1\nAAAA\n\n{SIG}\u{2014} other+x/y AQIDBAUG\n");
        // '+' is not allowed in names.
        assert!(matches!(
            SignedNote::parse(&text),
            Err(NoteError::MalformedSignatureLine { line: 2, .. })
        ));
        let text = format!("example.com\n1\nAAAA\n\n{SIG}\u{2014} other/y AQIDBAUH\n");
        let note = SignedNote::parse(&text).unwrap();
        assert_eq!(note.body(), "example.com\n1\nAAAA\n");
        assert_eq!(note.signatures().len(), 2);
        assert_eq!(note.signatures()[0].key_hint, [1, 2, 3, 4]);
        assert_eq!(note.signatures()[0].signature, vec![5, 6]);
        assert_eq!(note.to_text(), text);
        let rebuilt = SignedNote::new(note.body().to_string(), note.signatures().to_vec()).unwrap();
        assert_eq!(rebuilt, note);
    }

    type Check = fn(&NoteError) -> bool;

    #[test]
    fn parse_errors() {
        let cases: Vec<(String, Check)> = vec![
            ("body\n".into(), |e| {
                matches!(e, NoteError::MissingSeparator)
            }),
            ("body\n\n".into(), |e| matches!(e, NoteError::NoSignatures)),
            (format!("\n\n{SIG}"), |e| matches!(e, NoteError::EmptyBody)),
            (format!("body\n\n{}", SIG.trim_end()), |e| {
                matches!(e, NoteError::MalformedSignatureLine { line: 1, .. })
            }),
            ("body\n\n- example.com AQIDBAUG\n".into(), |e| {
                matches!(e, NoteError::MalformedSignatureLine { line: 1, .. })
            }),
            ("body\n\n\u{2014} example.com AQID\n".into(), |e| {
                matches!(e, NoteError::MalformedSignatureLine { .. })
            }),
            ("body\n\n\u{2014} example.com !!!!\n".into(), |e| {
                matches!(e, NoteError::MalformedSignatureLine { .. })
            }),
            ("body\n\n\u{2014} example.comAQIDBAUG\n".into(), |e| {
                matches!(e, NoteError::MalformedSignatureLine { .. })
            }),
            (format!("bo\rdy\n\n{SIG}"), |e| {
                matches!(
                    e,
                    NoteError::ControlCharacter {
                        offset: 2,
                        code: 13
                    }
                )
            }),
            (format!("body\n\n{}", SIG.repeat(101)), |e| {
                matches!(e, NoteError::TooManySignatures { max: 100 })
            }),
            (format!("{}\n\n{SIG}", "x".repeat(MAX_NOTE_SIZE)), |e| {
                matches!(e, NoteError::TooLarge { .. })
            }),
        ];
        for (text, check) in cases {
            let err = SignedNote::parse(&text).unwrap_err();
            assert!(check(&err), "{text:?}: unexpected {err:?}");
        }
        assert!(SignedNote::parse(&format!("body\n\n{}", SIG.repeat(100))).is_ok());
    }

    #[test]
    fn new_checks_like_parse() {
        let sig = NoteSignature {
            name: "a".into(),
            key_hint: [0; 4],
            signature: vec![1],
        };
        assert_eq!(
            SignedNote::new("x".into(), vec![sig.clone()]),
            Err(NoteError::BodyNotNewlineTerminated)
        );
        assert_eq!(
            SignedNote::new("x\n".into(), vec![]),
            Err(NoteError::NoSignatures)
        );
        let bad = NoteSignature {
            name: "a b".into(),
            ..sig.clone()
        };
        assert!(matches!(
            SignedNote::new("x\n".into(), vec![bad]),
            Err(NoteError::InvalidName { .. })
        ));
        assert!(SignedNote::new("x\n\ny\n".into(), vec![sig.clone()]).is_ok());
        let note = SignedNote::new("x\n\ny\n".into(), vec![sig]).unwrap();
        assert_eq!(SignedNote::parse(&note.to_text()).unwrap(), note);
    }
}

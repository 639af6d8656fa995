//! PEM decoding that accepts what Sigstore services actually emit.
//!
//! RFC 7468's strict form wraps base64 at 64 columns; Go's `encoding/pem`
//! (and so Rekor and Fulcio) also accepts other widths, and some log
//! entries carry a PEM whose body is a single long line. We accept what
//! either reading accepts: a tolerant one (one BEGIN/END pair with matching
//! labels, base64 in between, whitespace ignored) and the strict RFC 7468
//! decoder. The tolerant reading goes first because it is the faster one
//! (the strict decoder's base64 is constant-time, which PEM from a bundle
//! or log entry, public data, does not need); an input both accept decodes
//! to the same label and bytes, so the order changes nothing else.

use base64::Engine;

use crate::CryptoError;

/// Most PEM text we decode; certificates and keys are a few KiB.
const MAX_PEM: usize = 256 * 1024;

/// Decode one PEM block, returning its label and DER contents.
pub fn decode(text: &str) -> Result<(String, Vec<u8>), CryptoError> {
    let text = text.trim();
    if text.len() > MAX_PEM {
        return Err(CryptoError::MalformedKey(format!(
            "PEM is {} bytes, more than {MAX_PEM}",
            text.len()
        )));
    }
    match tolerant(text) {
        Ok(decoded) => Ok(decoded),
        Err(e) => match pem_rfc7468::decode_vec(text.as_bytes()) {
            Ok((label, der)) => Ok((label.to_string(), der)),
            Err(_) => Err(e),
        },
    }
}

/// Whether `text` is a PEM block that [`decode`] reads as exactly `label`
/// and `der`: the answer is always `decode`'s, only cheaper when it is yes.
///
/// A verifier compares the PEM certificate a log entry records with the
/// DER it already has. Instead of decoding the base64 (collecting it
/// without whitespace, then decoding into a new buffer), the tolerant
/// reading's body is compared with the standard encoding of `der`, written
/// 48 bytes at a time on the stack. Padded standard base64 with zero
/// trailing bits, the only form the tolerant reading decodes, has one
/// spelling per byte string, so equal text means `decode` returns `der`.
/// Anything else (another label, other bytes, a block only the strict RFC
/// 7468 reading accepts) goes through `decode` and compares its result.
pub fn matches(text: &str, label: &str, der: &[u8]) -> bool {
    let trimmed = text.trim();
    if trimmed.len() <= MAX_PEM && framed_body(trimmed, label).is_some_and(|b| body_is(b, der)) {
        return true;
    }
    decode(text).is_ok_and(|(l, d)| l == label && d == der)
}

/// The body between the tolerant reading's BEGIN line and an END line
/// that ends `text` (trimmed), both naming `label`. No search for the END
/// line: when the body is base64 it contains no `-`, so this END line is
/// the first one, the one the tolerant reading splits at, with nothing
/// after it; when it is not, [`body_is`] fails and [`matches`] decodes.
fn framed_body<'t>(text: &'t str, label: &str) -> Option<&'t str> {
    let first = text.lines().next().unwrap_or_default().trim();
    let named = first.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
    if named != label {
        return None;
    }
    text.get(first.len()..)?
        .strip_suffix("-----")?
        .strip_suffix(label)?
        .strip_suffix("-----END ")
}

/// `body`, without ASCII whitespace, is the standard padded base64 of `der`.
/// Each 64-character piece of the encoding is compared as one slice where
/// the body has no whitespace inside it (64-column PEM), character by
/// character otherwise.
fn body_is(body: &str, der: &[u8]) -> bool {
    let body = body.as_bytes();
    let mut pos = 0;
    let mut line = [0u8; 64];
    for chunk in der.chunks(48) {
        let Ok(n) = base64::engine::general_purpose::STANDARD.encode_slice(chunk, &mut line) else {
            return false;
        };
        pos = skip_whitespace(body, pos);
        if body.get(pos..pos + n) == Some(&line[..n]) {
            pos += n;
            continue;
        }
        for &expected in &line[..n] {
            pos = skip_whitespace(body, pos);
            if body.get(pos) != Some(&expected) {
                return false;
            }
            pos += 1;
        }
    }
    skip_whitespace(body, pos) == body.len()
}

fn skip_whitespace(body: &[u8], mut pos: usize) -> usize {
    while body.get(pos).is_some_and(u8::is_ascii_whitespace) {
        pos += 1;
    }
    pos
}

/// The tolerant reading's label and base64 body (whitespace included):
/// one BEGIN/END pair with matching labels, nothing after the END line.
fn tolerant_parts(text: &str) -> Result<(&str, &str), CryptoError> {
    let malformed = |why: &str| CryptoError::MalformedKey(format!("PEM: {why}"));
    let first = text.lines().next().unwrap_or_default().trim();
    let label = first
        .strip_prefix("-----BEGIN ")
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or_else(|| malformed("no BEGIN line"))?;
    let end = format!("-----END {label}-----");
    let body_and_end = text.get(first.len()..).unwrap_or_default();
    let (body, rest) = body_and_end
        .split_once(end.as_str())
        .ok_or_else(|| malformed("no matching END line"))?;
    if !rest.trim().is_empty() {
        return Err(malformed("data after the END line"));
    }
    Ok((label, body))
}

/// One BEGIN/END pair with matching labels, base64 in between, whitespace
/// ignored (`text` is trimmed and within [`MAX_PEM`]).
fn tolerant(text: &str) -> Result<(String, Vec<u8>), CryptoError> {
    let (label, body) = tolerant_parts(text)?;
    let b64: Vec<u8> = body.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(CryptoError::PemBase64)?;
    Ok((label.to_string(), der))
}

/// Encode DER as one PEM block: base64 in 64-column lines, LF line ends
/// (RFC 7468 §2). The one PEM encoder of the workspace (keys, certificates,
/// CSRs): infallible, so callers need no error path for it.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        // base64 is ASCII: any byte index is a char boundary.
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strict_and_single_line_forms() {
        let strict = "-----BEGIN TEST-----\nAAEC\n-----END TEST-----\n";
        assert_eq!(
            super::decode(strict).unwrap(),
            ("TEST".to_string(), vec![0, 1, 2])
        );
        let long = format!(
            "-----BEGIN TEST-----\n{}\n-----END TEST-----",
            "AAAA".repeat(30)
        );
        assert_eq!(super::decode(&long).unwrap().1.len(), 90);
        assert!(super::decode("-----BEGIN A-----\nAAAA\n-----END B-----").is_err());
        assert!(super::decode("AAAA").is_err());
    }

    /// `matches` answers as comparing `decode`'s result does, on every
    /// shape: wrapped at 64, one long line, CRLF, other label, other bytes,
    /// non-canonical padding or trailing bits, trailing data, empty body.
    #[test]
    fn matches_agrees_with_decode() {
        let der: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let strict = super::encode("CERTIFICATE", &der);
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let mut other = der.clone();
        other[699] ^= 1;
        let texts = [
            strict.clone(),
            strict.replace('\n', "\r\n"),
            format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----"),
            format!("  -----BEGIN CERTIFICATE-----\n{b64}-----END CERTIFICATE-----\n\n"),
            super::encode("PUBLIC KEY", &der),
            super::encode("CERTIFICATE", &other),
            super::encode("CERTIFICATE", &der[..699]),
            format!("{strict}x"),
            strict.replacen("-----END", "AAAA-----END", 1),
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----".into(),
            "-----BEGIN CERTIFICATE-----\nAAE=\n-----END CERTIFICATE-----".into(),
            "-----BEGIN CERTIFICATE-----\nAAF=\n-----END CERTIFICATE-----".into(),
            "-----BEGIN CERTIFICATE-----\nAAE\n-----END CERTIFICATE-----".into(),
            format!("{}-----END CERTIFICATE-----", strict.trim()),
            strict.replacen('\n', "\n-----END CERTIFICATE-----\n", 2),
            "-----BEGIN CERTIFICATE-----".into(),
            "-----BEGIN CERTIFICATE----------END CERTIFICATE-----".into(),
        ];
        for (i, text) in texts.iter().enumerate() {
            for (label, bytes) in [("CERTIFICATE", &der[..]), ("CERTIFICATE", &[0, 1][..])] {
                let by_decode = super::decode(text).is_ok_and(|(l, d)| l == label && d == bytes);
                assert_eq!(super::matches(text, label, bytes), by_decode, "text {i}");
            }
        }
        assert!(super::matches(&texts[0], "CERTIFICATE", &der));
        assert!(super::matches(&texts[2], "CERTIFICATE", &der));
        assert!(!super::matches(&texts[5], "CERTIFICATE", &der));
    }

    /// The encoder writes what RFC 7468's strict encoder writes (64-column
    /// lines, LF), and its output decodes back.
    #[test]
    fn encode_matches_rfc7468_and_round_trips() {
        for len in [1usize, 47, 48, 49, 96, 500] {
            let der: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ours = super::encode("CERTIFICATE", &der);
            let strict =
                pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &der)
                    .unwrap();
            assert_eq!(ours, strict, "{len} bytes");
            assert_eq!(
                super::decode(&ours).unwrap(),
                ("CERTIFICATE".to_string(), der)
            );
        }
    }
}

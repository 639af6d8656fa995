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

/// One BEGIN/END pair with matching labels, base64 in between, whitespace
/// ignored (`text` is trimmed and within [`MAX_PEM`]).
fn tolerant(text: &str) -> Result<(String, Vec<u8>), CryptoError> {
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

//! OLPC canonical JSON, as TUF signs it.
//!
//! TUF specification §4.2 ("File formats: general principles"): "All signed
//! metadata files have the format `{"signed": ROLE, "signatures": [...]}` …
//! the signature is over the canonical JSON form of ROLE". The canonical form
//! used by every TUF implementation (python-tuf via securesystemslib,
//! go-tuf via go-securesystemslib) is OLPC canonical JSON:
//!
//! * no insignificant whitespace;
//! * object keys sorted by Unicode code point (equal to UTF-8 byte order);
//! * strings are written as-is with only `\` and `"` escaped;
//! * integers only: floating point numbers are rejected.
//!
//! We do not use the `olpc-cjson` crate: it normalises strings to Unicode
//! NFC before writing them, which securesystemslib and go-securesystemslib do
//! not do, so metadata with a non-NFC string (e.g. a decomposed target
//! name) signed by python-tuf would fail to verify with it. See the
//! `non_nfc_strings_are_kept` test.

use serde_json::Value;

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalJsonError {
    /// Canonical JSON has no floating point numbers.
    #[error("canonical JSON does not allow the non-integer number {0}")]
    Float(String),
}

/// The canonical JSON bytes of `value`.
pub fn to_canonical(value: &Value) -> Result<Vec<u8>, CanonicalJsonError> {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out)?;
    Ok(out)
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalJsonError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                return Err(CanonicalJsonError::Float(n.to_string()));
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json's map keeps insertion order when
            // another crate in the build enables `preserve_order`.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(k, out);
                out.push(b':');
                write(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorted_compact_and_escaped() {
        let v = json!({"b": [1, -2, true, null], "a": "q\"u\\o\nte", "é": {"z": 0, "Z": 1}});
        assert_eq!(
            String::from_utf8(to_canonical(&v).unwrap()).unwrap(),
            "{\"a\":\"q\\\"u\\\\o\nte\",\"b\":[1,-2,true,null],\"é\":{\"Z\":1,\"z\":0}}"
        );
    }

    #[test]
    fn floats_rejected() {
        assert!(matches!(
            to_canonical(&json!({"x": 1.5})),
            Err(CanonicalJsonError::Float(_))
        ));
    }

    #[test]
    fn non_nfc_strings_are_kept() {
        // "e" + COMBINING ACUTE ACCENT stays two code points.
        let v = json!("e\u{301}");
        assert_eq!(to_canonical(&v).unwrap(), "\"e\u{301}\"".as_bytes());
    }

    #[test]
    fn big_unsigned_integers() {
        let v = json!(u64::MAX);
        assert_eq!(to_canonical(&v).unwrap(), u64::MAX.to_string().as_bytes());
    }
}

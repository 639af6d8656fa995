//! Base64 as protobuf's JSON mapping writes it: standard alphabet with
//! padding on output; standard or URL-safe, padded or not, on input.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};

const STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decode base64, either alphabet. Line breaks are ignored, as Go's
/// decoder (and so Sigstore's own tools) ignores them: some bundles carry
/// base64 wrapped at 76 columns.
pub fn decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    decode_bytes(s.as_bytes())
}

/// [`decode`] of text not yet known to be UTF-8: anything that is not
/// ASCII is not base64 either, so JSON strings can be decoded without
/// checking their UTF-8 first.
fn decode_bytes(s: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    if let Some(bytes) = decode_canonical(s) {
        return Ok(bytes);
    }
    let unwrapped: Vec<u8>;
    // Byte searches (memchr), not a `char` pattern search: this runs over
    // every base64 field of every bundle.
    let s = if s.contains(&b'\n') || s.contains(&b'\r') {
        unwrapped = s
            .iter()
            .copied()
            .filter(|b| !matches!(b, b'\n' | b'\r'))
            .collect();
        unwrapped.as_slice()
    } else {
        s
    };
    STD.decode(s).or_else(|e| URL.decode(s).map_err(|_| e))
}

/// The bytes `s` encodes when `s` is their canonical encoding (standard
/// alphabet, padded, no line breaks, zero trailing bits), decoded with
/// SIMD; `None` for any other spelling. This is the form nearly every
/// bundle field has, and bundles are mostly base64 (a certificate, a log
/// entry body, a PEM inside it): the table-driven decoder spent ~1.5 % of a
/// verification on them. Canonical text decodes to the same bytes under
/// every reading [`decode`] accepts, so trying it first changes no answer;
/// anything else falls through to the tolerant readings.
fn decode_canonical(s: &[u8]) -> Option<Vec<u8>> {
    base64_simd::STANDARD.decode_to_vec(s).ok()
}

/// Encode with the standard alphabet and padding.
pub fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Serde helpers for a `bytes` field.
pub mod bytes {
    use serde::{de::Error, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::encode(v))
    }

    /// Asks for the string's bytes (`deserialize_bytes`): serde_json then
    /// hands over a JSON string without checking it is UTF-8, which
    /// base64 makes moot (see [`super::decode_bytes`]).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_bytes(Decoded)
    }

    /// Decodes the JSON string where the deserializer holds it (borrowed
    /// from the input, or its own unescaping buffer) instead of copying it
    /// into a `String` first: bundles are mostly base64.
    struct Decoded;

    impl serde::de::Visitor<'_> for Decoded {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: Error>(self, s: &str) -> Result<Vec<u8>, E> {
            self.visit_bytes(s.as_bytes())
        }

        fn visit_bytes<E: Error>(self, s: &[u8]) -> Result<Vec<u8>, E> {
            super::decode_bytes(s).map_err(|e| E::custom(format!("invalid base64: {e}")))
        }
    }
}

/// Serde helper for a `bytes` field whose text is worth keeping: decodes
/// like [`bytes`], and also returns the text when it is the canonical
/// encoding (standard alphabet, padded, no line breaks, zero trailing
/// bits), i.e. exactly what [`encode`] writes for the decoded bytes. A
/// signed entry timestamp is over the log entry body's base64, so keeping
/// the text spares re-encoding it; any other spelling returns `None` and
/// the caller encodes, so what verifies is the same either way.
pub mod bytes_with_text {
    use serde::{de::Error, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<(Vec<u8>, Option<String>), D::Error> {
        d.deserialize_bytes(Decoded)
    }

    struct Decoded;

    impl serde::de::Visitor<'_> for Decoded {
        type Value = (Vec<u8>, Option<String>);

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: Error>(self, s: &str) -> Result<Self::Value, E> {
            self.visit_bytes(s.as_bytes())
        }

        fn visit_bytes<E: Error>(self, s: &[u8]) -> Result<Self::Value, E> {
            // Canonical text is the one encoding of the result (and ASCII).
            match super::decode_canonical(s) {
                Some(bytes) => Ok((bytes, String::from_utf8(s.to_vec()).ok())),
                None => super::decode_bytes(s)
                    .map(|bytes| (bytes, None))
                    .map_err(|e| E::custom(format!("invalid base64: {e}"))),
            }
        }
    }
}

/// Serde helpers for a repeated `bytes` field.
pub mod bytes_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|b| super::encode(b)))
    }

    /// Each element decoded where the deserializer holds it (no `String`
    /// per element): inclusion proofs carry a dozen or more hashes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let v = Vec::<Element>::deserialize(d)?;
        Ok(v.into_iter().map(|e| e.0).collect())
    }

    struct Element(Vec<u8>);

    impl<'de> Deserialize<'de> for Element {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            super::bytes::deserialize(d).map(Element)
        }
    }
}

/// Serde helpers for a protobuf `int64`: a JSON string of decimal digits,
/// or (as the mapping also allows on input) a JSON number.
pub mod int64 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Str(String),
        Num(i64),
    }

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Num(n) => Ok(n),
            Repr::Str(s) => s
                .parse()
                .map_err(|_| D::Error::custom(format!("invalid int64 {s:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_alphabets_and_padding() {
        assert_eq!(super::decode("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(super::decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(super::decode("INVALID!!!BASE64!!!ENCODING====").is_err());
        assert_eq!(super::decode("+/\n8=").unwrap(), vec![0xfb, 0xff]);
    }

    /// The SIMD reading of canonical text agrees with the table-driven
    /// one on every length and tail, and refuses what it should leave to
    /// the tolerant readings.
    #[test]
    fn canonical_fast_path_agrees() {
        use base64::Engine;
        let strict = base64::engine::general_purpose::STANDARD;
        for len in 0..200usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            let text = super::encode(&bytes);
            assert_eq!(
                super::decode_canonical(text.as_bytes()),
                Some(bytes.clone())
            );
            assert_eq!(super::decode(&text).unwrap(), bytes);
            let unpadded = text.trim_end_matches('=');
            if unpadded.len() != text.len() {
                // Unpadded: not canonical, still read by the tolerant path.
                assert_eq!(super::decode_canonical(unpadded.as_bytes()), None);
                assert_eq!(super::decode(unpadded).unwrap(), bytes);
                // Non-zero trailing bits: refused by both readings.
                let mut bad = unpadded.as_bytes().to_vec();
                let last = bad.len() - 1;
                bad[last] = if bad[last] == b'/' { b'+' } else { b'/' };
                assert!(super::decode_bytes(&bad).is_err());
                bad.resize(text.len(), b'=');
                assert_eq!(super::decode_canonical(&bad), None);
                assert!(strict.decode(&bad).is_err());
                assert!(super::decode_bytes(&bad).is_err());
            }
        }
    }

    /// Bundle fields are read as bytes: escapes are undone, and a string
    /// that is not UTF-8 is refused as base64 rather than as JSON.
    #[test]
    fn json_strings_read_as_bytes() {
        #[derive(serde::Deserialize)]
        struct F {
            #[serde(with = "super::bytes")]
            b: Vec<u8>,
        }
        let f: F = serde_json::from_slice(br#"{"b":"+\/8="}"#).unwrap();
        assert_eq!(f.b, vec![0xfb, 0xff]);
        let err = serde_json::from_slice::<F>(b"{\"b\":\"\xff+/8=\"}")
            .err()
            .unwrap();
        assert!(err.to_string().contains("invalid base64"), "{err}");
        let err = serde_json::from_slice::<F>(br#"{"b":"\u00e9+/8="}"#)
            .err()
            .unwrap();
        assert!(err.to_string().contains("invalid base64"), "{err}");
        assert!(serde_json::from_slice::<F>(br#"{"b":[1,2]}"#).is_err());
        assert!(serde_json::from_slice::<F>(br#"{"b":12}"#).is_err());
    }

    /// The text is kept only when re-encoding would write the same text.
    #[test]
    fn text_kept_only_when_canonical() {
        use serde::de::value::{Error, StrDeserializer};
        use serde::de::IntoDeserializer;
        let read = |s: &'static str| {
            let d: StrDeserializer<'_, Error> = s.into_deserializer();
            super::bytes_with_text::deserialize(d).unwrap()
        };
        for s in ["+/8=", "AAAA", "", "YWJj", "YWI="] {
            let (bytes, text) = read(s);
            assert_eq!(text.as_deref(), Some(s));
            assert_eq!(super::encode(&bytes), s);
        }
        // URL-safe, unpadded, wrapped: decoded, not kept.
        for s in ["-_8=", "+/8", "+/\n8="] {
            let (bytes, text) = read(s);
            assert_eq!(text, None, "{s:?}");
            assert_eq!(bytes, vec![0xfb, 0xff]);
        }
        // Non-zero trailing bits are refused, as before.
        let d: StrDeserializer<'_, Error> = "+/9=".into_deserializer();
        assert!(super::bytes_with_text::deserialize(d).is_err());
    }
}

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
    let unwrapped;
    // Byte searches (memchr), not a `char` pattern search: this runs over
    // every base64 field of every bundle.
    let s = if s.as_bytes().contains(&b'\n') || s.as_bytes().contains(&b'\r') {
        unwrapped = s.replace(['\n', '\r'], "");
        unwrapped.as_str()
    } else {
        s
    };
    STD.decode(s).or_else(|e| URL.decode(s).map_err(|_| e))
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

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_str(Decoded)
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
            super::decode(s).map_err(|e| E::custom(format!("invalid base64: {e}")))
        }
    }
}

/// Serde helpers for a repeated `bytes` field.
pub mod bytes_vec {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|b| super::encode(b)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| super::decode(s).map_err(|e| D::Error::custom(format!("invalid base64: {e}"))))
            .collect()
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
}

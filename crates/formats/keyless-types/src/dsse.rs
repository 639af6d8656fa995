//! DSSE envelopes (https://github.com/secure-systems-lab/dsse) and the
//! pre-authentication encoding that signatures are made over.

use serde::{Deserialize, Serialize};

use crate::b64;

/// A DSSE envelope as it appears in a bundle (`dsseEnvelope`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    #[serde(with = "b64::bytes")]
    pub payload: Vec<u8>,
    pub payload_type: String,
    #[serde(default)]
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(with = "b64::bytes")]
    pub sig: Vec<u8>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
}

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`,
/// the bytes a DSSE signature actually covers. Signing the encoding rather
/// than the payload binds the payload type, so a payload cannot be
/// reinterpreted as another type under the same signature.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(
        format!(
            "DSSEv1 {} {} {} ",
            payload_type.len(),
            payload_type,
            payload.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pae_matches_spec_example() {
        // The example from the DSSE protocol document.
        assert_eq!(
            super::pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}

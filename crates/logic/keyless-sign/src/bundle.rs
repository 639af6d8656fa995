//! Assemble a v0.3 bundle from what the services returned.

use keyless_types::bundle::MEDIA_TYPE_V0_3;
use keyless_types::dsse::Envelope;
use keyless_types::wire;

use crate::SignError;

/// What was signed.
pub(crate) enum SignedContent<'a> {
    Message { digest: &'a [u8], signature: &'a [u8] },
    Dsse(&'a Envelope),
}

/// The bundle as JSON (pretty-printed, as cosign and sigstore-python write it).
pub fn bundle_json(bundle: &wire::Bundle) -> Result<String, SignError> {
    serde_json::to_string_pretty(bundle).map_err(|e| SignError::Config(format!("cannot encode bundle: {e}")))
}

pub(crate) fn build(
    leaf_der: &[u8],
    content: SignedContent<'_>,
    entry: wire::TransparencyLogEntry,
    timestamps: Vec<Vec<u8>>,
) -> wire::Bundle {
    let (message_signature, dsse_envelope) = match content {
        SignedContent::Message { digest, signature } => (
            Some(wire::MessageSignature {
                message_digest: Some(wire::HashOutput { algorithm: "SHA2_256".into(), digest: digest.to_vec() }),
                signature: signature.to_vec(),
            }),
            None,
        ),
        SignedContent::Dsse(env) => (None, Some(env.clone())),
    };
    wire::Bundle {
        media_type: MEDIA_TYPE_V0_3.into(),
        verification_material: Some(wire::VerificationMaterial {
            public_key: None,
            x509_certificate_chain: None,
            certificate: Some(wire::X509Certificate { raw_bytes: leaf_der.to_vec() }),
            tlog_entries: vec![entry],
            timestamp_verification_data: (!timestamps.is_empty()).then(|| wire::TimestampVerificationData {
                rfc3161_timestamps: timestamps
                    .into_iter()
                    .map(|signed_timestamp| wire::Rfc3161SignedTimestamp { signed_timestamp })
                    .collect(),
            }),
        }),
        message_signature,
        dsse_envelope,
    }
}

//! The RFC 3161 cases of the Sigstore conformance suite, read in place.
//!
//! Only the TSA layer is exercised: token over the bundle signature, issued
//! by one of the trusted root's timestamp authorities. Checks that need the
//! rest of the bundle (trusted-root `validFor`, signing-certificate
//! lifetime) belong to the verifier and are not expected to fail here.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use keyless_tsp::{TimestampToken, TspError, UntrustedError, ValidityBound};
use keyless_x509::Certificate;
use serde_json::Value;

const ASSETS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../testdata/sigstore-conformance/assets/bundle-verify"
);

struct Case {
    tokens: Vec<Vec<u8>>,
    /// The bytes the token must timestamp: the bundle's signature.
    signature: Vec<u8>,
    /// One chain (leaf..root) per trusted timestamp authority.
    tsa_chains: Vec<Vec<Certificate>>,
}

/// Standard base64. `rekor2-timestamp-with-incorrect-time_fail` has a token
/// wrapped at 76 columns (made with `base64`), which Go's decoder tolerates,
/// so line breaks are dropped first.
fn b64(v: &Value) -> Vec<u8> {
    let s: String = v
        .as_str()
        .expect("base64 string")
        .split_whitespace()
        .collect();
    B64.decode(s).expect("valid base64")
}

fn load(case: &str) -> Case {
    let dir = format!("{ASSETS}/{case}");
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(format!("{dir}/bundle.sigstore.json")).unwrap())
            .unwrap();
    let root: Value =
        serde_json::from_slice(&std::fs::read(format!("{dir}/trusted_root.json")).unwrap())
            .unwrap();
    let tokens = bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .expect("rfc3161Timestamps")
        .iter()
        .map(|t| b64(&t["signedTimestamp"]))
        .collect();
    let signature = if bundle["messageSignature"].is_object() {
        b64(&bundle["messageSignature"]["signature"])
    } else {
        b64(&bundle["dsseEnvelope"]["signatures"][0]["sig"])
    };
    let tsa_chains = root["timestampAuthorities"]
        .as_array()
        .expect("timestampAuthorities")
        .iter()
        .map(|tsa| {
            tsa["certChain"]["certificates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| Certificate::from_der(&b64(&c["rawBytes"])).expect("trusted cert parses"))
                .collect()
        })
        .collect();
    Case {
        tokens,
        signature,
        tsa_chains,
    }
}

/// Verify the case's single token against each trusted TSA; Ok on the first
/// that accepts it, else the error from the last.
fn verify_case(case: &str) -> Result<i64, TspError> {
    let c = load(case);
    assert_eq!(c.tokens.len(), 1, "{case}: expected one RFC 3161 timestamp");
    let token = TimestampToken::from_der(&c.tokens[0])?;
    let mut last = None;
    for chain in &c.tsa_chains {
        match token.verify(&c.signature, chain) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one TSA"))
}

#[test]
fn happy_path() {
    // 2025-06-12T12:02:20Z, per the trust-root-tsa-validity-end-inclusive README.
    assert_eq!(verify_case("rekor2-happy-path").unwrap(), 1_749_729_740);
}

#[test]
fn with_embedded_cert() {
    let c = load("rekor2-timestamp-with-embedded-cert");
    let token = TimestampToken::from_der(&c.tokens[0]).unwrap();
    assert!(!token.embedded_certificates().is_empty());
    verify_case("rekor2-timestamp-with-embedded-cert").unwrap();
}

#[test]
fn without_embedded_cert() {
    let c = load("rekor2-timestamp-without-embedded-cert");
    let token = TimestampToken::from_der(&c.tokens[0]).unwrap();
    assert!(token.embedded_certificates().is_empty());
    verify_case("rekor2-timestamp-without-embedded-cert").unwrap();
}

#[test]
fn expired_chain_valid_at_gen_time() {
    verify_case("rekor2-timestamp-with-expired-cert-chain").unwrap();
}

#[test]
fn payload_mismatch_is_imprint_error() {
    let err = verify_case("rekor2-timestamp-payload-mismatch_fail").unwrap_err();
    assert!(matches!(err, TspError::ImprintMismatch { .. }), "{err:?}");
}

#[test]
fn untrusted_tsa_with_embedded_cert() {
    let err = verify_case("rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail").unwrap_err();
    assert!(
        matches!(err, TspError::Untrusted(UntrustedError::Chain { .. })),
        "{err:?}"
    );
}

#[test]
fn untrusted_tsa_without_embedded_cert() {
    let err = verify_case("rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail").unwrap_err();
    assert!(
        matches!(
            err,
            TspError::Untrusted(UntrustedError::SignerNotFound { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn outside_tsa_cert_validity() {
    let err = verify_case("rekor2-timestamp-outside-tsa-cert-validity_fail").unwrap_err();
    assert!(
        matches!(
            err,
            TspError::CertificateNotValidAtGenTime {
                bound: ValidityBound::Expired { .. },
                ..
            }
        ),
        "{err:?}"
    );
}

/// These fail only in the verifier: the token itself is genuine and from the
/// trusted TSA. Pin that so the split of responsibilities stays visible.
#[test]
fn verifier_level_cases_pass_here() {
    for case in [
        // genTime after the trusted root's validFor.end for this TSA.
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        // genTime outside the Fulcio signing certificate's lifetime.
        "rekor2-timestamp-with-incorrect-time_fail",
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        // genTime == validFor.end: must pass in the verifier too (closed interval).
        "trust-root-tsa-validity-end-inclusive",
    ] {
        let r = verify_case(case);
        assert!(r.is_ok(), "{case}: {r:?}");
    }
}

#[test]
fn flipped_signature_byte_fails() {
    let c = load("rekor2-happy-path");
    // Flip a byte inside the SignerInfo signature: the last bytes of the token
    // are the ECDSA signature's s value.
    let mut der = c.tokens[0].clone();
    let n = der.len();
    der[n - 5] ^= 0x01;
    let token = TimestampToken::from_der(&der).unwrap();
    let err = token.verify(&c.signature, &c.tsa_chains[0]).unwrap_err();
    assert!(
        matches!(
            err,
            TspError::Signature(keyless_tsp::SignatureError::Crypto { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn flipped_tst_info_byte_fails_message_digest() {
    let c = load("rekor2-happy-path");
    let token = TimestampToken::from_der(&c.tokens[0]).unwrap();
    // Change the serial number inside TSTInfo: the imprint still matches but
    // the message-digest attribute no longer does.
    let serial = token.tst_info().serial_number.as_bytes().to_vec();
    let mut der = c.tokens[0].clone();
    let pos = der
        .windows(serial.len())
        .position(|w| w == serial.as_slice())
        .unwrap();
    der[pos + serial.len() - 1] ^= 0x01;
    let token = TimestampToken::from_der(&der).unwrap();
    let err = token.verify(&c.signature, &c.tsa_chains[0]).unwrap_err();
    assert!(
        matches!(
            err,
            TspError::Signature(keyless_tsp::SignatureError::MessageDigest { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn wrong_trusted_chain_is_untrusted() {
    // A genuine sigstage token checked against the locally hosted test TSA.
    let good = load("rekor2-happy-path");
    let other = load("rekor2-timestamp-with-expired-cert-chain");
    let token = TimestampToken::from_der(&good.tokens[0]).unwrap();
    // The happy-path token embeds its signer, so the signer is found but
    // does not chain to the other root.
    let err = token
        .verify(&good.signature, &other.tsa_chains[0])
        .unwrap_err();
    assert!(matches!(err, TspError::Untrusted(_)), "{err:?}");
}

#[test]
fn bare_token_is_accepted() {
    // The same token without the TimeStampResp wrapper (status + token).
    use der::{Decode, Encode};
    let c = load("rekor2-happy-path");
    let resp = x509_tsp::TimeStampResp::from_der(&c.tokens[0]).unwrap();
    let bare = resp.time_stamp_token.unwrap().to_der().unwrap();
    let token = TimestampToken::from_der(&bare).unwrap();
    assert_eq!(
        token.verify(&c.signature, &c.tsa_chains[0]).unwrap(),
        1_749_729_740
    );
}

#[test]
fn error_messages_name_the_check() {
    for case in [
        "rekor2-timestamp-payload-mismatch_fail",
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
    ] {
        let e = verify_case(case).unwrap_err();
        println!("{case}: {e}");
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn all_tokens_parse() {
    for case in [
        "rekor2-happy-path",
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        "rekor2-timestamp-payload-mismatch_fail",
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "rekor2-timestamp-with-embedded-cert",
        "rekor2-timestamp-with-expired-cert-chain",
        "rekor2-timestamp-without-embedded-cert",
    ] {
        let c = load(case);
        let token =
            TimestampToken::from_der(&c.tokens[0]).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(token.gen_time() > 1_700_000_000, "{case}");
    }
}

//! An error chain prints each cause once: no error's message repeats the
//! text of a cause below it (which `source()` returns, and which a caller
//! printing the chain, as the CLI does, prints again). Checked on real,
//! nested failures of minted bundles and trusted roots.

use std::error::Error;

use base64::Engine;
use keyless_crypto::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm, SigningKey};
use keyless_testkit::minted::{Dsse, Instance, MessageBundle};
use keyless_verify::{
    Artifact, ErrorKind, TrustMaterial, VerificationError, Verifier, VerifierOptions,
};
use serde_json::{json, Value};

const ARTIFACT: &[u8] = b"an artifact whose failures nest\n";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The message of `e` and of each cause, outermost first.
fn causes(e: &(dyn Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        out.push(cause.to_string());
        next = cause.source();
    }
    out
}

/// No message contains the message of any cause below it, so printing the
/// whole chain (with no de-duplication at all) shows each cause once.
#[track_caller]
fn each_cause_once(e: &(dyn Error + 'static), min_depth: usize) -> String {
    let list = causes(e);
    let printed = list.join(": ");
    assert!(
        list.len() >= min_depth,
        "expected at least {min_depth} causes: {printed}"
    );
    for (i, outer) in list.iter().enumerate() {
        for inner in &list[i + 1..] {
            assert!(
                !outer.contains(inner.as_str()),
                "{outer:?} repeats its cause {inner:?}: {printed}"
            );
        }
        assert_eq!(
            printed.matches(outer.as_str()).count(),
            1,
            "{outer:?} printed more than once: {printed}"
        );
    }
    printed
}

fn message_bundle(instance: &Instance) -> Value {
    let signer = instance.signer(KeyAlgorithm::EcdsaP256);
    let bytes = MessageBundle {
        signer: &signer,
        scheme: SignatureAlgorithm::EcdsaSha256,
        declared: HashAlgorithm::Sha256,
        logged: HashAlgorithm::Sha256,
    }
    .mint(instance, ARTIFACT);
    serde_json::from_slice(&bytes).expect("bundle JSON")
}

fn verify(trust: TrustMaterial, bundle: &Value) -> VerificationError {
    Verifier::new(trust, VerifierOptions::default())
        .verify_json(
            &serde_json::to_vec(bundle).expect("JSON"),
            &Artifact::Bytes(ARTIFACT.to_vec()),
            &Instance::policy(),
        )
        .expect_err("the bundle must not verify")
}

/// The failure the issue reported printing three times: the log's key
/// cannot check checkpoints (an Ed25519 key for a Rekor v1 log, whose
/// checkpoints are matched by key hint alone), under a log entry, under
/// the verification.
#[test]
fn unusable_checkpoint_key_prints_each_cause_once() {
    let instance = Instance::new();
    let mut root: Value = serde_json::from_str(&instance.trusted_root_json).expect("JSON");
    let ed25519 = SigningKey::generate(KeyAlgorithm::Ed25519).expect("key");
    root["tlogs"][0]["publicKey"]["rawBytes"] =
        Value::String(B64.encode(ed25519.public_key().spki_der()));
    root["tlogs"][0]["publicKey"]["keyDetails"] = Value::String("PKIX_ED25519".into());
    let trust = TrustMaterial::from_json(&serde_json::to_vec(&root).expect("JSON"))
        .expect("trusted root with an Ed25519 log key");

    // Without its signed entry timestamp, the entry stands on its
    // checkpoint, which the Ed25519 key cannot attribute.
    let mut bundle = message_bundle(&instance);
    let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
    entry
        .as_object_mut()
        .expect("entry")
        .remove("inclusionPromise");

    let e = verify(trust, &bundle);
    assert_eq!(e.kind(), ErrorKind::Checkpoint, "{e}");
    let printed = each_cause_once(&e, 3);
    assert!(
        printed.starts_with(
            "transparency log entry 0: checkpoint: log key unusable for checkpoints: "
        ),
        "{printed}"
    );
}

/// A DSSE payload that is JSON but no in-toto statement: the JSON parser's
/// error is the cause.
#[test]
fn bad_statement_prints_each_cause_once() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP256);
    let dsse = Dsse::sign(&signer, &json!(["not", "a", "statement"]));
    let entry = instance.v1_entry(
        "dsse",
        "0.0.1",
        &dsse.dsse_v001_body(&signer),
        signer.issued_at,
        true,
    );
    let bundle: Value = serde_json::from_slice(&dsse.bundle(&signer, entry)).expect("JSON");
    let e = verify(instance.trust(), &bundle);
    assert_eq!(e.kind(), ErrorKind::Signature, "{e}");
    each_cause_once(&e, 2);
}

/// An SCT from a CT log the trusted root does not list.
#[test]
fn untrusted_sct_prints_each_cause_once() {
    let instance = Instance::new();
    let other = Instance::new();
    let mut root: Value = serde_json::from_str(&instance.trusted_root_json).expect("JSON");
    let theirs: Value = serde_json::from_str(&other.trusted_root_json).expect("JSON");
    root["ctlogs"] = theirs["ctlogs"].clone();
    let trust = TrustMaterial::from_json(&serde_json::to_vec(&root).expect("JSON")).expect("root");
    let e = verify(trust, &message_bundle(&instance));
    assert_eq!(e.kind(), ErrorKind::Sct, "{e}");
    each_cause_once(&e, 2);
}

/// Bundle JSON that does not parse, and a trusted root with a time that
/// is not RFC 3339: the parsers' errors are the causes.
#[test]
fn malformed_inputs_print_each_cause_once() {
    let instance = Instance::new();
    let e = instance
        .verifier()
        .verify_json(
            b"{\"mediaType\": 3}",
            &Artifact::Bytes(ARTIFACT.to_vec()),
            &Instance::policy(),
        )
        .expect_err("not a bundle");
    assert_eq!(e.kind(), ErrorKind::Bundle, "{e}");
    each_cause_once(&e, 2);

    let mut root: Value = serde_json::from_str(&instance.trusted_root_json).expect("JSON");
    root["tlogs"][0]["publicKey"]["validFor"]["start"] = Value::String("yesterday".into());
    let e =
        TrustMaterial::from_json(&serde_json::to_vec(&root).expect("JSON")).expect_err("bad time");
    let printed = each_cause_once(&e, 2);
    assert!(
        printed.contains("validFor.start: invalid RFC 3339 time \"yesterday\""),
        "{printed}"
    );
}

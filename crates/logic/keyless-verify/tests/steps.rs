//! One minted bundle per verification step, each broken in exactly that
//! step: the untouched bundle verifies, and each change is refused with
//! the error kind of the step it breaks. Together with `algorithms.rs` and
//! `dsse_shapes.rs` (hash and entry-shape bindings) this covers every step
//! of the verifier on real bundles from keyless-testkit's in-process CA and
//! log, without network or fixed test data.

use base64::Engine;
use keyless_crypto::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm};
use keyless_testkit::minted::{Instance, MessageBundle, Signer, EMAIL, ISSUER};
use keyless_verify::{
    Artifact, ErrorKind, Identity, Matcher, Policy, TrustMaterial, VerificationError, Verifier,
    VerifierOptions,
};
use serde_json::Value;

const ARTIFACT: &[u8] = b"one artifact, broken one step at a time\n";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn mint(instance: &Instance, signer: &Signer) -> Value {
    let bytes = MessageBundle {
        signer,
        scheme: SignatureAlgorithm::EcdsaSha256,
        declared: HashAlgorithm::Sha256,
        logged: HashAlgorithm::Sha256,
    }
    .mint(instance, ARTIFACT);
    serde_json::from_slice(&bytes).expect("minted bundle is JSON")
}

fn verify_with(
    trust: TrustMaterial,
    options: VerifierOptions,
    bundle: &Value,
    artifact: &[u8],
    policy: &Policy,
) -> Result<(), VerificationError> {
    let json = serde_json::to_vec(bundle).expect("bundle JSON");
    Verifier::new(trust, options)
        .verify_json(&json, &Artifact::Bytes(artifact.to_vec()), policy)
        .map(|_| ())
}

fn verify(instance: &Instance, bundle: &Value) -> Result<(), VerificationError> {
    verify_with(
        instance.trust(),
        VerifierOptions::default(),
        bundle,
        ARTIFACT,
        &Instance::policy(),
    )
}

#[track_caller]
fn refused(result: Result<(), VerificationError>, kind: ErrorKind, step: &str) {
    match result {
        Ok(()) => panic!("{step}: verified"),
        Err(e) => assert_eq!(e.kind(), kind, "{step}: {e}"),
    }
}

/// Flip the last byte of a base64 field.
fn flip_b64(v: &mut Value) {
    let mut bytes = B64
        .decode(v.as_str().expect("base64 string"))
        .expect("base64");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    *v = Value::String(B64.encode(bytes));
}

fn entry(bundle: &mut Value) -> &mut Value {
    &mut bundle["verificationMaterial"]["tlogEntries"][0]
}

fn trust_with(instance: &Instance, change: impl FnOnce(&mut Value)) -> TrustMaterial {
    let mut root: Value =
        serde_json::from_str(&instance.trusted_root_json).expect("trusted root JSON");
    change(&mut root);
    TrustMaterial::from_json(&serde_json::to_vec(&root).expect("JSON")).expect("trusted root")
}

#[test]
fn the_untouched_bundle_verifies() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP256);
    verify(&instance, &mint(&instance, &signer)).expect("minted bundle verifies");
}

#[test]
fn each_broken_step_is_refused_for_its_own_reason() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP256);
    let good = mint(&instance, &signer);
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        change(&mut b);
        b
    };

    // Step 4: the signature over the artifact.
    let b = broken(&|b| flip_b64(&mut b["messageSignature"]["signature"]));
    refused(verify(&instance, &b), ErrorKind::Signature, "signature");

    // The artifact is not the one whose digest the bundle carries.
    refused(
        verify_with(
            instance.trust(),
            VerifierOptions::default(),
            &good,
            b"another artifact\n",
            &Instance::policy(),
        ),
        ErrorKind::Artifact,
        "artifact digest",
    );

    // Step 1: the inclusion proof leads to another root.
    let b = broken(&|b| flip_b64(&mut entry(b)["inclusionProof"]["rootHash"]));
    refused(
        verify(&instance, &b),
        ErrorKind::InclusionProof,
        "inclusion proof",
    );

    // Step 1: the checkpoint's signature does not verify.
    let b = broken(&|b| {
        let cp = &mut entry(b)["inclusionProof"]["checkpoint"]["envelope"];
        let text = cp.as_str().expect("checkpoint text").to_string();
        let (head, sig) = text.trim_end().rsplit_once(' ').expect("signature line");
        let mut sig = Value::String(sig.to_string());
        flip_b64(&mut sig);
        *cp = Value::String(format!("{head} {}\n", sig.as_str().expect("string")));
    });
    refused(
        verify(&instance, &b),
        ErrorKind::Checkpoint,
        "checkpoint signature",
    );

    // Step 1: the signed entry timestamp, and an integrated time it does
    // not cover.
    let b = broken(&|b| flip_b64(&mut entry(b)["inclusionPromise"]["signedEntryTimestamp"]));
    refused(
        verify(&instance, &b),
        ErrorKind::SignedEntryTimestamp,
        "SET",
    );
    let b = broken(&|b| {
        let t: i64 = entry(b)["integratedTime"]
            .as_str()
            .expect("time")
            .parse()
            .expect("int");
        entry(b)["integratedTime"] = Value::String((t - 60).to_string());
    });
    refused(
        verify(&instance, &b),
        ErrorKind::SignedEntryTimestamp,
        "integrated time",
    );

    // Step 3: a chain to a CA the trusted root does not list.
    let other = Instance::new();
    let trust = trust_with(&instance, |root| {
        let theirs: Value = serde_json::from_str(&other.trusted_root_json).expect("JSON");
        root["certificateAuthorities"] = theirs["certificateAuthorities"].clone();
    });
    refused(
        verify_with(
            trust,
            VerifierOptions::default(),
            &good,
            ARTIFACT,
            &Instance::policy(),
        ),
        ErrorKind::Certificate,
        "certificate chain",
    );

    // Step 3: an SCT from a CT log the trusted root does not list; only
    // the danger_ option lets it through.
    let ctlogs_of_other = |root: &mut Value| {
        let theirs: Value = serde_json::from_str(&other.trusted_root_json).expect("JSON");
        root["ctlogs"] = theirs["ctlogs"].clone();
    };
    refused(
        verify_with(
            trust_with(&instance, ctlogs_of_other),
            VerifierOptions::default(),
            &good,
            ARTIFACT,
            &Instance::policy(),
        ),
        ErrorKind::Sct,
        "SCT",
    );
    verify_with(
        trust_with(&instance, ctlogs_of_other),
        VerifierOptions::default().danger_disable_sct_check(),
        &good,
        ARTIFACT,
        &Instance::policy(),
    )
    .expect("without the SCT check the bundle verifies");

    // Step 3: the identity policy, by subject and by issuer.
    for policy in [
        Identity::new(
            Matcher::exact("mallory@example.com"),
            Matcher::exact(ISSUER),
        ),
        Identity::new(
            Matcher::exact(EMAIL),
            Matcher::exact("https://other.example"),
        ),
    ] {
        refused(
            verify_with(
                instance.trust(),
                VerifierOptions::default(),
                &good,
                ARTIFACT,
                &Policy::identity(policy),
            ),
            ErrorKind::Policy,
            "identity policy",
        );
    }

    // Step 2: a timestamp that is not an RFC 3161 token, and a threshold
    // of one timestamp that the bundle does not meet.
    let b = broken(&|b| {
        b["verificationMaterial"]["timestampVerificationData"] = serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": B64.encode(b"not a token")}]});
    });
    refused(verify(&instance, &b), ErrorKind::Timestamp, "timestamp");
    refused(
        verify_with(
            instance.trust(),
            VerifierOptions::default().with_timestamp_threshold(1),
            &good,
            ARTIFACT,
            &Instance::policy(),
        ),
        ErrorKind::Timestamp,
        "timestamp threshold",
    );
}

/// The integrated time must be a time the certificate was valid at, and
/// not in the future of "now" (which tests can pin).
#[test]
fn integrated_times_outside_the_certificate_or_in_the_future_are_refused() {
    let instance = Instance::new();
    let mut signer = instance.signer(KeyAlgorithm::EcdsaP256);
    let issued = signer.issued_at;

    // Logged half an hour before the certificate existed (the log key is
    // valid from an hour before): the SET verifies, the certificate does not.
    signer.issued_at = issued - 1800;
    let early = mint(&instance, &signer);
    refused(
        verify(&instance, &early),
        ErrorKind::Certificate,
        "before notBefore",
    );

    // Logged now, verified as of an hour ago: the entry is from the future.
    signer.issued_at = issued;
    let good = mint(&instance, &signer);
    refused(
        verify_with(
            instance.trust(),
            VerifierOptions::default().with_now(issued - 3600),
            &good,
            ARTIFACT,
            &Instance::policy(),
        ),
        ErrorKind::LogEntry,
        "integrated time in the future",
    );
}

//! A Rekor v2 checkpoint counts only if its log key was valid, per the
//! trusted root's `publicKey.validFor`, at the bundle's verified RFC 3161
//! time. Real data: the conformance case `rekor2-happy-path` (timestamp
//! 2025-06-12T12:02:20Z, log `log2025-alpha1.rekor.sigstage.dev`), with the
//! log key's window in its trusted root moved around that time.

use keyless_testkit::conformance;
use keyless_verify::{
    Artifact, ErrorKind, Identity, Matcher, Policy, TrustMaterial, VerificationError, Verifier,
    VerifierOptions,
};
use serde_json::Value;

const CASE: &str = "rekor2-happy-path";
const LOG: &str = "log2025-alpha1.rekor.sigstage.dev";
/// The genTime of the case's one RFC 3161 timestamp.
const TIMESTAMP: &str = "2025-06-12T12:02:20Z";

/// Verify the case with its trusted root, the log key's validFor replaced.
fn verify_with_log_key_window(valid_for: Option<Value>) -> Result<(), VerificationError> {
    let base = conformance::shared().join("assets");
    let dir = base.join("bundle-verify").join(CASE);
    let mut root: Value = serde_json::from_slice(
        &std::fs::read(dir.join("trusted_root.json")).expect("trusted root"),
    )
    .expect("trusted root JSON");
    let mut found = 0;
    for log in root["tlogs"].as_array_mut().expect("tlogs") {
        if log["baseUrl"].as_str().is_some_and(|u| u.contains(LOG)) {
            if let Some(v) = &valid_for {
                log["publicKey"]["validFor"] = v.clone();
            }
            found += 1;
        }
    }
    assert_eq!(found, 1, "the case's log is in its trusted root");
    let trust = TrustMaterial::from_json(&serde_json::to_vec(&root).expect("encode"))
        .expect("edited trusted root loads");
    let bundle = std::fs::read(dir.join("bundle.sigstore.json")).expect("bundle");
    let artifact =
        Artifact::Bytes(std::fs::read(base.join("bundle-verify/a.txt")).expect("artifact"));
    let policy = Policy::identity(Identity::new(
        Matcher::exact("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"),
        Matcher::exact("https://token.actions.githubusercontent.com"),
    ));
    Verifier::new(trust, VerifierOptions::default())
        .verify_json(&bundle, &artifact, &policy)
        .map(|_| ())
}

fn window(start: &str, end: Option<&str>) -> Option<Value> {
    let mut v = serde_json::json!({ "start": start });
    if let Some(end) = end {
        v["end"] = end.into();
    }
    Some(v)
}

#[test]
fn the_case_verifies_as_published_and_at_the_window_edges() {
    verify_with_log_key_window(None).expect("unchanged");
    // validFor is a closed interval.
    verify_with_log_key_window(window("2025-04-16T00:00:00Z", Some(TIMESTAMP)))
        .expect("key valid until exactly the timestamp");
    verify_with_log_key_window(window(TIMESTAMP, None))
        .expect("key valid from exactly the timestamp");
}

#[test]
fn a_checkpoint_from_a_retired_log_key_does_not_count() {
    let err =
        verify_with_log_key_window(window("2025-04-16T00:00:00Z", Some("2025-06-12T12:02:19Z")))
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LogEntry, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("verified RFC 3161 time 2025-06-12T12:02:20Z is outside"),
        "{message}"
    );
}

#[test]
fn a_checkpoint_from_a_not_yet_valid_log_key_does_not_count() {
    let err = verify_with_log_key_window(window("2025-06-12T12:02:21Z", None)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LogEntry, "{err}");
    assert!(err.to_string().contains("checkpoint"), "{err}");
}

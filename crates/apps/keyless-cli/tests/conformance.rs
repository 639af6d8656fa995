//! Every case of the Sigstore conformance suite (`testdata/sigstore-conformance`),
//! run through the `keyless-conformance` binary exactly as the upstream
//! harness drives a client: once with the artifact as a path, once as
//! `sha256:<hex>`. Positives must exit 0; negatives must fail *for their
//! stated reason*, checked by exit code (one per error kind) and by a phrase
//! of the error message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/sigstore-conformance");
    assert!(
        p.join("cases.tsv").exists(),
        "conformance data not found at {}",
        p.display()
    );
    p
}

/// Expected exit code and message phrase for each negative case.
fn expected_failures() -> BTreeMap<&'static str, (i32, &'static str)> {
    BTreeMap::from([
        (
            "bundle-empty-certificate-chain_fail",
            (10, "certificate chain in the bundle is empty"),
        ),
        (
            "bundle-from-wrong-instance_fail",
            (14, "is not a transparency log in the trusted root"),
        ),
        (
            "bundle-invalid-base64-signature_fail",
            (10, "invalid base64"),
        ),
        ("bundle-malformed-json_fail", (10, "not valid JSON")),
        (
            "bundle-negative-log-index_fail",
            (10, "logIndex is negative"),
        ),
        (
            "bundle-unknown-version_fail",
            (10, "unsupported bundle media type"),
        ),
        ("bundle-with-root-cert_fail", (12, "contains a root CA")),
        (
            "checkpoint-bad-keyhint_fail",
            (16, "no signature line from any signer with key hint"),
        ),
        ("checkpoint-wrong-roothash_fail", (16, "root hash")),
        (
            "dsse-invalid-sig_fail",
            (20, "DSSE envelope signature does not verify"),
        ),
        ("dsse-mismatch-envelope_fail", (14, "payload hash differs")),
        ("dsse-mismatch-sig_fail", (14, "signature differs")),
        (
            "inclusion-proof-corrupted-hash_fail",
            (15, "inclusion proof"),
        ),
        ("incorrect-public-key_fail", (14, "public key differs")),
        (
            "integrated-time-in-future_fail",
            (12, "log integrated time"),
        ),
        (
            "intoto-expired-certificate_fail",
            (12, "outside the signing certificate's validity"),
        ),
        (
            "intoto-log-entry-mismatch_fail",
            (14, "does not match this bundle"),
        ),
        (
            "intoto-missing-inclusion-proof_fail",
            (10, "requires an inclusion proof"),
        ),
        (
            "intoto-set-outside-signing-cert-validity_fail",
            (12, "log integrated time"),
        ),
        (
            "intoto-tsa-timestamp-outside-cert-validity_fail",
            (12, "RFC 3161 timestamp"),
        ),
        ("invalid-checkpoint-signature_fail", (16, "do not verify")),
        ("invalid-ct-key_fail", (13, "SCT")),
        ("invalid-inclusion-proof_fail", (15, "inclusion proof")),
        ("managed-key-no-key_fail", (22, "signed with a public key")),
        ("managed-key-wrong-key_fail", (1, "malformed public key")),
        ("message-digest-mismatch_fail", (21, "message digest")),
        (
            "rekor2-checkpoint-missing-log-signature_fail",
            (16, "no signature lines"),
        ),
        (
            "rekor2-checkpoint-missing-origin_fail",
            (16, "no origin line"),
        ),
        (
            "rekor2-checkpoint-missing-root-hash_fail",
            (16, "no root hash line"),
        ),
        (
            "rekor2-checkpoint-missing-size_fail",
            (16, "no tree size line"),
        ),
        (
            "rekor2-checkpoint-no-matching-signature_fail",
            (16, "no signature line from"),
        ),
        (
            "rekor2-dsse-invalid-sig_fail",
            (20, "DSSE envelope signature does not verify"),
        ),
        (
            "rekor2-dsse-mismatch-envelope_fail",
            (14, "does not match this bundle"),
        ),
        ("rekor2-dsse-mismatch-sig_fail", (14, "signature differs")),
        (
            "rekor2-no-inclusion-proof_fail",
            (10, "requires an inclusion proof"),
        ),
        ("rekor2-no-timestamp_fail", (19, "no verified time")),
        (
            "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
            (18, "outside the validity of timestamp authority"),
        ),
        (
            "rekor2-timestamp-outside-tsa-cert-validity_fail",
            (18, "not valid at genTime"),
        ),
        ("rekor2-timestamp-payload-mismatch_fail", (18, "imprint")),
        (
            "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
            (18, "not issued by any timestamp authority"),
        ),
        (
            "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
            (18, "not issued by any timestamp authority"),
        ),
        (
            "rekor2-timestamp-with-incorrect-time_fail",
            (12, "RFC 3161 timestamp"),
        ),
        ("set-invalid-signature_fail", (17, "signed entry timestamp")),
        (
            "signature-mismatch_fail",
            (20, "signature does not verify over the artifact"),
        ),
        (
            "trust-root-tlog-missing-validity-start_fail",
            (11, "validFor.start is required"),
        ),
        (
            "wrong-hashedrekord-artifact_fail",
            (14, "does not match this bundle"),
        ),
        (
            "wrong-hashedrekord-cert-and-sig_fail",
            (14, "does not match this bundle"),
        ),
        (
            "wrong-hashedrekord-entry_fail",
            (14, "does not match this bundle"),
        ),
        ("wrong-material_fail", (21, "message digest")),
    ])
}

struct Case {
    name: String,
    expect_verify: bool,
    key_policy: bool,
    trusted_root: String,
    artifact: String,
    sha256: String,
    key: String,
    identity: String,
    issuer: String,
}

fn cases() -> Vec<Case> {
    let tsv = std::fs::read_to_string(shared().join("cases.tsv")).expect("read cases.tsv");
    tsv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() >= 9, "short row: {l}");
            Case {
                name: f[0].into(),
                expect_verify: f[1] == "verify",
                key_policy: f[2] == "key",
                trusted_root: f[3].into(),
                artifact: f[4].into(),
                sha256: f[5].into(),
                key: f[6].into(),
                identity: f[7].into(),
                issuer: f[8].into(),
            }
        })
        .collect()
}

/// Run one check; returns (exit code, stderr).
fn run(case: &Case, artifact: &str) -> (i32, String) {
    let assets = shared().join("assets");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyless-conformance"));
    cmd.current_dir(&assets).arg("verify-bundle");
    cmd.arg("--bundle").arg(
        assets
            .join("bundle-verify")
            .join(&case.name)
            .join("bundle.sigstore.json"),
    );
    if case.key_policy {
        cmd.arg("--key").arg(&case.key);
    } else {
        cmd.args([
            "--certificate-identity",
            &case.identity,
            "--certificate-oidc-issuer",
            &case.issuer,
        ]);
    }
    if case.trusted_root != "PUBLIC-GOOD" {
        cmd.arg("--trusted-root")
            .arg(assets.join(&case.trusted_root));
    }
    cmd.arg(artifact);
    let out = cmd.output().expect("run keyless-conformance");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sigstore_conformance_suite() {
    let expected = expected_failures();
    let cases = cases();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");
    let (mut pos_ok, mut pos_total, mut neg_ok, mut neg_total) = (0, 0, 0, 0);
    let mut problems = Vec::new();
    for case in &cases {
        for artifact in [case.artifact.clone(), format!("sha256:{}", case.sha256)] {
            let (code, stderr) = run(case, &artifact);
            if case.expect_verify {
                pos_total += 1;
                if code == 0 {
                    pos_ok += 1;
                } else {
                    problems.push(format!(
                        "{} ({artifact}): expected to verify, exit {code}: {stderr}",
                        case.name
                    ));
                }
            } else {
                neg_total += 1;
                let (want_code, phrase) = expected.get(case.name.as_str()).unwrap_or_else(|| {
                    panic!("no expected failure reason listed for {}", case.name)
                });
                if code == *want_code && stderr.contains(phrase) {
                    neg_ok += 1;
                } else {
                    problems.push(format!(
                        "{} ({artifact}): expected exit {want_code} with {phrase:?}, got exit {code}: {stderr}",
                        case.name
                    ));
                }
            }
        }
    }
    println!("conformance: positives verified {pos_ok}/{pos_total}; negatives rejected for the stated reason {neg_ok}/{neg_total}");
    assert!(
        problems.is_empty(),
        "{} conformance checks failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!((pos_total, neg_total), (42, 98));
}

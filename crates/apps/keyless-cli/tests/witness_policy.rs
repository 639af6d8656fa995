//! `--witness-policy` against `keyless server --dev`, whose log is
//! cosigned by the stack's own witness (as is its CA's CT log, named by
//! the CA's URL): a 1-of-1 policy naming that
//! witness accepts a fresh bundle; a policy naming another witness key is
//! refused with the policy named in the error; the trust config's
//! `witnessPolicy` and `verify-bundles` work the same way; without a
//! policy nothing changes.

mod support;

use keyless_crypto::{KeyAlgorithm, SigningKey};
use support::*;

/// Exit code of a checkpoint failure (see `keyless verify-blob --help`).
const EXIT_CHECKPOINT: i32 = 16;

fn other_witness_policy() -> String {
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let other = keyless_witness::Cosigner::new("witness.example/other", key).unwrap();
    format!("witness other {}\nquorum other\n", other.vkey())
}

#[test]
fn dev_stack_witness_policy_is_enforced() {
    let dir = temp_dir("witness-policy");
    let stack = DevStack::start(&dir, free_base_port());
    let issuer = stack.url("oidcIssuer");
    assert!(stack.url("witnessUrl").starts_with("http://127.0.0.1:"));
    let policy = dir.join("witness_policy.txt");
    let policy_text = std::fs::read_to_string(&policy).expect("witness_policy.txt written");
    assert!(policy_text.contains("\nquorum dev\n"), "{policy_text}");

    let artifact = dir.join("a.txt");
    std::fs::write(&artifact, b"witnessed\n").unwrap();
    let bundle = dir.join("a.sigstore.json");
    let token = stack.token("alice@example.com");
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
        .arg(&bundle)
        .arg(&artifact));
    assert!(o.status.success(), "{}", text(&o));

    // The same witness cosigns the CA's CT log, which holds the signing
    // certificate, under the origin static-ct-api gives it: the CA's URL
    // without the scheme.
    let vkey = policy_text
        .lines()
        .find_map(|l| l.strip_prefix("witness dev "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no dev witness in {policy_text}"));
    let ca = stack.url("caUrl");
    let note = wait_cosigned(&format!("{ca}/ct/checkpoint"), vkey, 1);
    assert_eq!(
        note.body().lines().next(),
        ca.strip_prefix("http://"),
        "{}",
        note.body()
    );

    let verify = |trust_config: &std::path::Path, extra: &[&std::ffi::OsStr]| {
        run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", trust_config)
            .args([
                "verify-blob",
                "--certificate-identity",
                "alice@example.com",
                "--certificate-oidc-issuer",
                &issuer,
                "--bundle",
            ])
            .arg(&bundle)
            .args(extra)
            .arg(&artifact))
    };
    let flag = std::ffi::OsStr::new("--witness-policy");

    // The stack's policy: its witness cosigned a checkpoint consistent
    // with the bundle's.
    let o = verify(&stack.trust_config(), &[flag, policy.as_os_str()]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("witness policy met:") && out.contains("cosigned by dev"),
        "{out}"
    );

    // A policy naming another witness: the checkpoint lacks the quorum.
    let other = dir.join("other_policy.txt");
    std::fs::write(&other, other_witness_policy()).unwrap();
    let o = verify(&stack.trust_config(), &[flag, other.as_os_str()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(EXIT_CHECKPOINT), "{out}");
    assert!(
        out.contains(&format!("witness policy {}", other.display()))
            && out.contains("lacks the witness quorum")
            && out.contains("the quorum needs other"),
        "{out}"
    );
    assert!(!out.contains("Verified OK"), "{out}");

    // A broken policy file is an error, never "no policy".
    let broken = dir.join("broken_policy.txt");
    std::fs::write(&broken, "witness w1 not-a-vkey\nquorum w1\n").unwrap();
    let o = verify(&stack.trust_config(), &[flag, broken.as_os_str()]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("line 1"), "{}", text(&o));

    // The same two policies through the trust config's "witnessPolicy".
    let mut tc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stack.trust_config()).unwrap()).unwrap();
    tc["witnessPolicy"] = policy_text.into();
    let good_tc = dir.join("trust_config_witnessed.json");
    std::fs::write(&good_tc, serde_json::to_vec(&tc).unwrap()).unwrap();
    let o = verify(&good_tc, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("witness policy met:"), "{}", text(&o));
    tc["witnessPolicy"] = other_witness_policy().into();
    let bad_tc = dir.join("trust_config_other.json");
    std::fs::write(&bad_tc, serde_json::to_vec(&tc).unwrap()).unwrap();
    let o = verify(&bad_tc, &[]);
    assert_eq!(o.status.code(), Some(EXIT_CHECKPOINT), "{}", text(&o));
    assert!(text(&o).contains("witnessPolicy of"), "{}", text(&o));

    // Without a policy, cosignatures are not looked at.
    let o = verify(&stack.trust_config(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("witness policy"), "{}", text(&o));

    // verify-bundles: the same policies, per bundle.
    let manifest = dir.join("manifest.jsonl");
    std::fs::write(
        &manifest,
        format!(
            "{}\n",
            serde_json::json!({"bundle": "a.sigstore.json", "artifact": "a.txt",
                               "identity": "alice@example.com", "issuer": issuer})
        ),
    )
    .unwrap();
    let bundles = |policy: &std::path::Path| {
        run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
            .args(["verify-bundles", "--manifest"])
            .arg(&manifest)
            .arg("--witness-policy")
            .arg(policy))
    };
    let o = bundles(&policy);
    assert!(o.status.success(), "{}", text(&o));
    let o = bundles(&other);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("lacks the witness quorum"),
        "{}",
        text(&o)
    );

    // A bundle with no log entry (--tlog-upload=false, accepted with
    // --insecure-ignore-tlog) has nothing witnessed: refused under a policy.
    let no_log = dir.join("nolog.sigstore.json");
    let token = stack.token("alice@example.com");
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args([
            "sign-blob",
            "--yes",
            "--tlog-upload=false",
            "--identity-token",
            &token,
            "--bundle",
        ])
        .arg(&no_log)
        .arg(&artifact));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args([
            "verify-blob",
            "--insecure-ignore-tlog",
            "--certificate-identity",
            "alice@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            "--witness-policy",
        ])
        .arg(&policy)
        .arg("--bundle")
        .arg(&no_log)
        .arg(&artifact));
    assert_eq!(o.status.code(), Some(EXIT_CHECKPOINT), "{}", text(&o));
    assert!(
        text(&o).contains("no transparency log entry"),
        "{}",
        text(&o)
    );

    // --offline cannot check a policy: refused, not skipped.
    let offline = std::ffi::OsStr::new("--offline");
    let o = verify(&stack.trust_config(), &[flag, policy.as_os_str(), offline]);
    assert!(!o.status.success(), "{}", text(&o));
    stack.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

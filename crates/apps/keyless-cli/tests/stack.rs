//! End to end against `keyless server --dev`: keyless signing and
//! verification with the real services, interop with sigstore-python in
//! both directions, TUF bootstrap, and persistence across a restart.

mod support;

use support::*;

#[test]
fn sign_verify_interop_and_restart() {
    let dir = temp_dir("stack");
    let port = free_base_port();
    let stack = DevStack::start(&dir, port);
    let issuer = stack.url("oidcIssuer");
    for f in [
        "trusted_root.json",
        "signing_config.json",
        "trust_config.json",
        "stack.json",
        "tuf/root.json",
    ] {
        assert!(dir.join(f).is_file(), "{f} written before ready");
    }
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"release 1.0\n").unwrap();
    let bundle = dir.join("artifact.sigstore.json");

    // keyless sign-blob → keyless verify-blob, with the trust config from the environment.
    let token = stack.token("alice@example.com");
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
        .arg(&bundle)
        .arg(&artifact));
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    for line in [
        "Generating ephemeral keys...",
        "Retrieving signed certificate...",
        "Successfully verified SCT...",
        "tlog entry created with index: ",
    ] {
        assert!(out.contains(line), "missing {line:?} in {out}");
    }
    let trust_config = stack.trust_config();
    let verify = |bundle: &std::path::Path, identity: &str, file: &std::path::Path| {
        run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", &trust_config)
            .args([
                "verify-blob",
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                &issuer,
                "--bundle",
            ])
            .arg(bundle)
            .arg(file))
    };
    let o = verify(&bundle, "alice@example.com", &artifact);
    assert!(o.status.success(), "{}", text(&o));
    let o = verify(&bundle, "mallory@example.com", &artifact);
    assert_eq!(o.status.code(), Some(22), "{}", text(&o));
    assert!(text(&o).contains("none of the expected identities matched what was in the certificate, got subjects [alice@example.com]"));
    let other = dir.join("other.txt");
    std::fs::write(&other, b"release 1.1\n").unwrap();
    let o = verify(&bundle, "alice@example.com", &other);
    assert!(!o.status.success(), "a different file must not verify");

    // Remember the log's checkpoint now; later it must still be consistent.
    let checkpoint_file = dir.join("checkpoint.txt");
    let log_url = stack.url("logUrl");
    std::fs::write(&checkpoint_file, http_get(&format!("{log_url}/checkpoint"))).unwrap();

    // sigstore-python verifies our bundle.
    let py = sigstore_python();
    let o = run(std::process::Command::new(&py)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args([
            "verify",
            "identity",
            "--offline",
            "--cert-identity",
            "alice@example.com",
            "--cert-oidc-issuer",
            &issuer,
            "--bundle",
        ])
        .arg(&bundle)
        .arg(&artifact));
    assert!(
        o.status.success(),
        "sigstore-python rejected our bundle: {}",
        text(&o)
    );

    // sigstore-python signs against our stack; we verify its bundle.
    let py_bundle = dir.join("py.sigstore.json");
    let token = stack.token("bob@example.com");
    let o = run(std::process::Command::new(&py)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args(["sign", "--identity-token", &token, "--bundle"])
        .arg(&py_bundle)
        .arg(&artifact));
    assert!(
        o.status.success(),
        "sigstore-python could not sign against the stack: {}",
        text(&o)
    );
    let o = verify(&py_bundle, "bob@example.com", &artifact);
    assert!(o.status.success(), "{}", text(&o));

    // The conformance protocol's sign-bundle against the stack, then its verify-bundle.
    let conf = || std::process::Command::new(env!("CARGO_BIN_EXE_keyless-conformance"));
    let conf_bundle = dir.join("conformance.sigstore.json");
    let token = stack.token("dave@example.com");
    let o = run(conf()
        .args(["sign-bundle", "--identity-token", &token, "--bundle"])
        .arg(&conf_bundle)
        .arg("--trusted-root")
        .arg(dir.join("trusted_root.json"))
        .arg("--signing-config")
        .arg(dir.join("signing_config.json"))
        .arg(&artifact));
    assert!(o.status.success(), "sign-bundle: {}", text(&o));
    let o = run(conf()
        .args(["verify-bundle", "--bundle"])
        .arg(&conf_bundle)
        .args([
            "--certificate-identity",
            "dave@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            "--trusted-root",
        ])
        .arg(dir.join("trusted_root.json"))
        .arg(&artifact));
    assert!(o.status.success(), "verify-bundle: {}", text(&o));
    let statement = dir.join("statement.json");
    let digest = hex_sha256(&std::fs::read(&artifact).unwrap());
    std::fs::write(
        &statement,
        format!(r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"artifact.txt","digest":{{"sha256":"{digest}"}}}}],"predicateType":"https://example.com/p","predicate":{{}}}}"#),
    )
    .unwrap();
    let token = stack.token("dave@example.com");
    let o = run(conf()
        .args([
            "sign-bundle",
            "--in-toto",
            "--identity-token",
            &token,
            "--bundle",
        ])
        .arg(&conf_bundle)
        .arg("--trusted-root")
        .arg(dir.join("trusted_root.json"))
        .arg("--signing-config")
        .arg(dir.join("signing_config.json"))
        .arg(&statement));
    assert!(o.status.success(), "sign-bundle --in-toto: {}", text(&o));
    let o = run(conf()
        .args(["verify-bundle", "--bundle"])
        .arg(&conf_bundle)
        .args([
            "--certificate-identity",
            "dave@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            "--trusted-root",
        ])
        .arg(dir.join("trusted_root.json"))
        .arg(format!("sha256:{digest}")));
    assert!(
        o.status.success(),
        "verify-bundle of the DSSE bundle: {}",
        text(&o)
    );

    // The log grew; the remembered checkpoint is consistent with the new one.
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args(["log", "verify", "--url", &log_url, "--from-checkpoint"])
        .arg(&checkpoint_file));
    assert!(o.status.success(), "log verify: {}", text(&o));
    assert!(text(&o).contains("Consistent"), "{}", text(&o));
    // A forged checkpoint (signature of another note) is refused.
    let forged = std::fs::read_to_string(&checkpoint_file)
        .unwrap()
        .replace("\n1\n", "\n7\n");
    assert_ne!(
        forged,
        std::fs::read_to_string(&checkpoint_file).unwrap(),
        "the forgery changes the tree size"
    );
    std::fs::write(dir.join("forged.txt"), forged).unwrap();
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args(["log", "verify", "--url", &log_url, "--from-checkpoint"])
        .arg(dir.join("forged.txt")));
    assert!(
        !o.status.success(),
        "a forged checkpoint must be refused: {}",
        text(&o)
    );

    // TUF: bootstrap our client from the stack's repository.
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let o = run(keyless()
        .env("HOME", &home)
        .env_remove("SIGSTORE_TRUST_CONFIG")
        .args(["initialize", "--mirror", &stack.url("tufUrl"), "--root"])
        .arg(dir.join("tuf/root.json")));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(keyless()
        .env("HOME", &home)
        .env_remove("SIGSTORE_TRUST_CONFIG")
        .args([
            "verify-blob",
            "--certificate-identity",
            "bob@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            "--bundle",
        ])
        .arg(&py_bundle)
        .arg(&artifact));
    assert!(
        o.status.success(),
        "verify with TUF-distributed trust: {}",
        text(&o)
    );

    // sigstore-python trusts the stack through its TUF repository, then signs
    // and verifies with `--instance`.
    let py_home = dir.join("py-home");
    std::fs::create_dir_all(&py_home).unwrap();
    let tuf_url = stack.url("tufUrl");
    let py_instance = |args: &[&str]| {
        run(std::process::Command::new(&py)
            .env("HOME", &py_home)
            .args(["--instance", &tuf_url])
            .args(args))
    };
    let o = py_instance(&[
        "trust-instance",
        dir.join("tuf/root.json").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "sigstore trust-instance: {}", text(&o));
    let token = stack.token("erin@example.com");
    let tuf_bundle = dir.join("tuf.sigstore.json");
    let o = py_instance(&[
        "sign",
        "--identity-token",
        &token,
        "--bundle",
        tuf_bundle.to_str().unwrap(),
        artifact.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "sigstore --instance sign: {}", text(&o));
    let o = py_instance(&[
        "verify",
        "identity",
        "--cert-identity",
        "erin@example.com",
        "--cert-oidc-issuer",
        &issuer,
        "--bundle",
        tuf_bundle.to_str().unwrap(),
        artifact.to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "sigstore --instance verify: {}",
        text(&o)
    );

    // Without --yes, a person at a terminal is asked first; "n" signs nothing.
    let token = stack.token("alice@example.com");
    let declined = dir.join("declined.sigstore.json");
    let command = format!(
        "{} sign-blob --identity-token {token} --bundle {} {}",
        env!("CARGO_BIN_EXE_keyless"),
        declined.display(),
        artifact.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let _ = stdin.write_all(b"n\n");
    }
    let o = child.wait_with_output().unwrap();
    let out = text(&o);
    assert!(
        out.contains("Are you sure you want to continue? (y/[N])"),
        "the consent question on a terminal: {out}"
    );
    assert!(
        !o.status.success() && out.contains("signing cancelled"),
        "declining cancels: {out}"
    );
    assert!(!declined.exists(), "nothing written after declining");

    // Restart on the same data directory and ports: same keys, the log
    // keeps growing, bundles made before still verify.
    let trusted_before = std::fs::read(dir.join("trusted_root.json")).unwrap();
    stack.stop();
    let stack = DevStack::start(&dir, port);
    let trusted_after = std::fs::read(dir.join("trusted_root.json")).unwrap();
    let keys = |j: &[u8]| {
        let v: serde_json::Value = serde_json::from_slice(j).unwrap();
        (
            v["tlogs"][0]["publicKey"].clone(),
            v["certificateAuthorities"].clone(),
            v["timestampAuthorities"][0]["certChain"].clone(),
        )
    };
    assert_eq!(
        keys(&trusted_before),
        keys(&trusted_after),
        "keys survive a restart"
    );
    let o = verify(&bundle, "alice@example.com", &artifact);
    assert!(
        o.status.success(),
        "a bundle from before the restart: {}",
        text(&o)
    );
    let token = stack.token("carol@example.com");
    let bundle2 = dir.join("after-restart.sigstore.json");
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
        .arg(&bundle2)
        .arg(&artifact));
    assert!(o.status.success(), "{}", text(&o));
    // Five entries before the restart: three by keyless (sign-blob, and the
    // conformance binary's plain and DSSE bundles), two by sigstore-python.
    assert!(
        text(&o).contains("tlog entry created with index: 5"),
        "the log continues after restart: {}",
        text(&o)
    );
    stack.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--rekor-v1` against the dev stack's own log: the entry comes back with a
/// SET under Rekor's log ID (SHA-256 of the log key's DER SPKI, which the
/// trusted root lists) and a checkpoint signed with an ECDSA key, so both the
/// signer's self-check and `verify-blob` accept it.
#[test]
fn rekor_v1_sign_blob_against_the_dev_log() {
    let dir = temp_dir("stack-v1");
    let stack = DevStack::start(&dir, free_base_port());
    let issuer = stack.url("oidcIssuer");
    let log_url = stack.url("logUrl");
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"release 2.0\n").unwrap();
    let bundle = dir.join("v1.sigstore.json");
    let token = stack.token("carol@example.com");
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args(["sign-blob", "--yes", "--rekor-v1", "--rekor-url", &log_url])
        .args(["--identity-token", &token, "--bundle"])
        .arg(&bundle)
        .arg(&artifact));
    assert!(o.status.success(), "{}", text(&o));

    // The trusted root's log: ECDSA P-256, listed under SHA-256 of its SPKI.
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("trusted_root.json")).unwrap()).unwrap();
    let tlog = &root["tlogs"][0];
    assert_eq!(tlog["publicKey"]["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
    let b64 = |v: &serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    };
    let spki = b64(&tlog["publicKey"]["rawBytes"]);
    assert_eq!(
        hex::encode(b64(&tlog["logId"]["keyId"])),
        hex_sha256(&spki),
        "the log ID is SHA-256 of the key's DER SPKI"
    );
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let entry = &b["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(b64(&entry["logId"]["keyId"]), b64(&tlog["logId"]["keyId"]));
    assert!(
        entry["inclusionPromise"]["signedEntryTimestamp"].is_string(),
        "a v1 entry carries a SET: {entry}"
    );
    assert_eq!(entry["kindVersion"]["version"], "0.0.1", "{entry}");

    let verify = |identity: &str| {
        run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
            .args(["verify-blob", "--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", &issuer, "--bundle"])
            .arg(&bundle)
            .arg(&artifact))
    };
    let o = verify("carol@example.com");
    assert!(o.status.success(), "{}", text(&o));
    let o = verify("mallory@example.com");
    assert!(!o.status.success(), "{}", text(&o));
    stack.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

fn hex_sha256(data: &[u8]) -> String {
    keyless_crypto::sha256_hex(data)
}

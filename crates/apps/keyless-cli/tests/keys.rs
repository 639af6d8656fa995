//! cosign's key commands and key-based signing, through the `keyless`
//! binary: `generate-key-pair`, `import-key-pair`, `public-key`, then
//! `sign-blob --key` / `verify-blob --key` and `sign --key` / `verify --key`
//! against the dev stack (and a real docker-registry for the image), plus
//! `completion` and `man`.

mod support;

use std::path::Path;

use support::*;

fn pem_type(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().next().unwrap_or_default().to_string()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn generate_import_and_public_key() {
    let dir = temp_dir("keys-generate");
    let k = |args: &[&str], pw: Option<&str>| {
        let mut c = keyless();
        c.current_dir(&dir)
            .env_remove("COSIGN_PASSWORD")
            .env_remove("COSIGN_YES")
            .stdin(std::process::Stdio::null());
        if let Some(pw) = pw {
            c.env("COSIGN_PASSWORD", pw);
        }
        run(c.args(args))
    };

    let o = k(&["generate-key-pair"], Some("s3cret"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("Private key written to cosign.key"),
        "{}",
        text(&o)
    );
    let key = dir.join("cosign.key");
    assert_eq!(
        pem_type(&key),
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"
    );
    assert_eq!(
        pem_type(&dir.join("cosign.pub")),
        "-----BEGIN PUBLIC KEY-----"
    );
    #[cfg(unix)]
    assert_eq!(mode(&key), 0o600);
    let public = std::fs::read_to_string(dir.join("cosign.pub")).unwrap();

    // public-key prints exactly cosign.pub; a wrong password is an Error:
    // line and exit 1, never a panic.
    let o = k(&["public-key", "--key", "cosign.key"], Some("s3cret"));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8(o.stdout.clone()).unwrap(), public);
    let o = k(&["public-key", "--key", "cosign.key"], Some("wrong"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("Error: cosign.key: decrypt: wrong password?"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
    // No password variable and no terminal: a clear refusal.
    let o = k(&["public-key", "--key", "cosign.key"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("COSIGN_PASSWORD"), "{}", text(&o));

    // An existing pair is not replaced without --yes / COSIGN_YES.
    let o = k(&["generate-key-pair"], Some("other"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("already exist"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("cosign.pub")).unwrap(),
        public
    );
    let o = k(&["generate-key-pair", "--yes"], Some("other"));
    assert!(o.status.success(), "{}", text(&o));
    assert_ne!(
        std::fs::read_to_string(dir.join("cosign.pub")).unwrap(),
        public
    );
    #[cfg(unix)]
    assert_eq!(mode(&key), 0o600);
    let o = run(keyless()
        .current_dir(&dir)
        .env("COSIGN_PASSWORD", "third")
        .env("COSIGN_YES", "true")
        .stdin(std::process::Stdio::null())
        .args(["generate-key-pair", "--output-key-prefix", "release"]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.join("release.key").exists() && dir.join("release.pub").exists());

    // import-key-pair: an openssl SEC1 EC key; its public key is openssl's.
    let ec = std::process::Command::new("openssl")
        .args([
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
        ])
        .arg(dir.join("ec.pem"))
        .output()
        .expect("openssl");
    assert!(ec.status.success());
    assert_eq!(
        pem_type(&dir.join("ec.pem")),
        "-----BEGIN EC PRIVATE KEY-----"
    );
    let o = k(&["import-key-pair", "--key", "ec.pem"], Some("imp"));
    assert!(o.status.success(), "{}", text(&o));
    let openssl_pub = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(dir.join("ec.pem"))
        .output()
        .expect("openssl");
    assert_eq!(
        std::fs::read_to_string(dir.join("import-cosign.pub")).unwrap(),
        String::from_utf8(openssl_pub.stdout).unwrap()
    );
    assert_eq!(
        pem_type(&dir.join("import-cosign.key")),
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"
    );
    let o = k(&["public-key", "--key", "import-cosign.key"], Some("imp"));
    assert!(o.status.success(), "{}", text(&o));

    // An encrypted key with an empty password (as `COSIGN_PASSWORD=""
    // cosign generate-key-pair` writes it) loads.
    let empty =
        keyless_crypto::SigningKey::generate(keyless_crypto::KeyAlgorithm::EcdsaP256).unwrap();
    let empty = keyless_keys::cosign::encrypt(&empty, b"")
        .unwrap()
        .private_pem;
    std::fs::write(dir.join("empty-password.key"), empty.as_bytes()).unwrap();
    let o = k(&["public-key", "--key", "empty-password.key"], Some(""));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("-----BEGIN PUBLIC KEY-----"),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn completion_scripts_and_man_pages() {
    let o = run(keyless().args(["completion", "bash"]));
    assert!(o.status.success(), "{}", text(&o));
    let bash = String::from_utf8(o.stdout).unwrap();
    assert!(bash.contains("_keyless()"), "not a bash script");
    for sub in [
        "sign",
        "verify-blob",
        "generate-key-pair",
        "completion",
        "man",
    ] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
    for shell in ["zsh", "fish"] {
        let o = run(keyless().args(["completion", shell]));
        assert!(o.status.success(), "{}", text(&o));
        let script = String::from_utf8(o.stdout).unwrap();
        assert!(script.contains("generate-key-pair"), "{shell}");
    }
    let o = run(keyless().args(["completion", "tcsh"]));
    assert!(!o.status.success());

    let dir = temp_dir("man");
    let o = run(keyless().arg("man").arg("--out").arg(&dir));
    assert!(o.status.success(), "{}", text(&o));
    let top = std::fs::read_to_string(dir.join("keyless.1")).unwrap();
    assert!(
        top.starts_with(".ie \\n(.g .ds Aq") || top.contains(".TH keyless"),
        "{top}"
    );
    assert!(top.contains("generate\\-key\\-pair"), "{top}");
    let sign = std::fs::read_to_string(dir.join("keyless-sign.1")).unwrap();
    assert!(sign.contains(".TH keyless-sign"), "{sign}");
    for flag in ["\\-\\-key", "\\-\\-identity\\-token", "\\-\\-yes"] {
        assert!(sign.contains(flag), "keyless-sign.1 lacks {flag}");
    }
    assert!(dir.join("keyless-verify-blob.1").exists());
    assert!(dir.join("keyless-tuf-init.1").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn key_signing_blobs_and_images_against_the_dev_stack() {
    let registry = Registry::start();
    let image = registry.push_as("keyed/app:1.0", "keyed");

    let dir = temp_dir("keys-sign");
    let stack = DevStack::start(&dir, free_base_port());
    let tc = stack.trust_config();
    let k = |args: &[&str]| {
        run(keyless()
            .current_dir(&dir)
            .env("SIGSTORE_TRUST_CONFIG", &tc)
            .env("COSIGN_PASSWORD", "pw")
            .env_remove("SIGSTORE_ID_TOKEN")
            .stdin(std::process::Stdio::null())
            .args(args))
    };
    let o = k(&["generate-key-pair"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = k(&["generate-key-pair", "--output-key-prefix", "other"]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(dir.join("file.txt"), b"release artifact\n").unwrap();

    // Blob: signed with the key, logged with the public key, verified with
    // cosign.pub; another key and a changed file are refused.
    let o = k(&[
        "sign-blob",
        "--yes",
        "--key",
        "cosign.key",
        "--bundle",
        "file.sigstore.json",
        "file.txt",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("tlog entry created with index"),
        "{}",
        text(&o)
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("file.sigstore.json")).unwrap()).unwrap();
    let vm = &bundle["verificationMaterial"];
    assert!(vm["publicKey"]["hint"].is_string(), "{bundle}");
    assert!(vm.get("certificate").is_none(), "{bundle}");
    assert_eq!(
        vm["tlogEntries"].as_array().map(Vec::len),
        Some(1),
        "{bundle}"
    );
    let body = vm["tlogEntries"][0]["canonicalizedBody"].as_str().unwrap();
    let body = String::from_utf8(base64_decode(body)).unwrap();
    assert!(
        body.contains("publicKey"),
        "the log entry names the key: {body}"
    );
    let verify_blob = |key: &str, file: &str| {
        k(&[
            "verify-blob",
            "--key",
            key,
            "--bundle",
            "file.sigstore.json",
            file,
        ])
    };
    let o = verify_blob("cosign.pub", "file.txt");
    assert!(o.status.success(), "{}", text(&o));
    let o = verify_blob("other.pub", "file.txt");
    assert_eq!(o.status.code(), Some(20), "{}", text(&o));
    std::fs::write(dir.join("changed.txt"), b"release artifact!\n").unwrap();
    let o = verify_blob("cosign.pub", "changed.txt");
    assert_eq!(o.status.code(), Some(21), "{}", text(&o));
    // --key with an identity token is a usage error; a wrong password stops
    // before anything is signed.
    let o = k(&[
        "sign-blob",
        "--yes",
        "--key",
        "cosign.key",
        "--identity-token",
        "x",
        "--bundle",
        "b.json",
        "file.txt",
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    let o = run(keyless()
        .current_dir(&dir)
        .env("SIGSTORE_TRUST_CONFIG", &tc)
        .env("COSIGN_PASSWORD", "wrong")
        .stdin(std::process::Stdio::null())
        .args([
            "sign-blob",
            "--yes",
            "--key",
            "cosign.key",
            "--bundle",
            "w.json",
            "file.txt",
        ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("wrong password"), "{}", text(&o));
    assert!(!dir.join("w.json").exists());

    // A key makes no certificate to write; the signature is written.
    let o = k(&[
        "sign-blob",
        "--yes",
        "--key",
        "cosign.key",
        "--output-signature",
        "file.sig",
        "--bundle",
        "s.json",
        "file.txt",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!std::fs::read_to_string(dir.join("file.sig"))
        .unwrap()
        .is_empty());
    let o = k(&[
        "sign-blob",
        "--yes",
        "--key",
        "cosign.key",
        "--output-certificate",
        "file.crt",
        "--bundle",
        "c.json",
        "file.txt",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("makes no certificate"), "{}", text(&o));

    // Without the log: no entry, and the bundle verifies only when the
    // verifier waives the log.
    let o = k(&[
        "sign-blob",
        "--yes",
        "--key",
        "cosign.key",
        "--tlog-upload=false",
        "--bundle",
        "nolog.json",
        "file.txt",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let nolog: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("nolog.json")).unwrap()).unwrap();
    assert!(
        nolog["verificationMaterial"].get("tlogEntries").is_none(),
        "{nolog}"
    );
    let o = k(&[
        "verify-blob",
        "--key",
        "cosign.pub",
        "--bundle",
        "nolog.json",
        "file.txt",
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    let o = k(&[
        "verify-blob",
        "--key",
        "cosign.pub",
        "--insecure-ignore-tlog",
        "--bundle",
        "nolog.json",
        "file.txt",
    ]);
    assert!(o.status.success(), "{}", text(&o));

    // Image: sign --key, verify --key (and refused with another key).
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--key",
        "cosign.key",
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let verify = |key: &str| k(&["verify", "--allow-insecure-registry", "--key", key, &image]);
    let o = verify("cosign.pub");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("The signatures were verified against the specified public key"),
        "{}",
        text(&o)
    );
    assert!(
        !text(&o).contains("code-signing certificate"),
        "{}",
        text(&o)
    );
    let o = verify("other.pub");
    assert_eq!(o.status.code(), Some(20), "{}", text(&o));

    // Attestation: attest --key, verify-attestation --key.
    std::fs::write(dir.join("pred.json"), br#"{"builder":{"id":"test"}}"#).unwrap();
    let o = k(&[
        "attest",
        "--yes",
        "--allow-insecure-registry",
        "--key",
        "cosign.key",
        "--predicate",
        "pred.json",
        "--type",
        "slsaprovenance1",
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let verify_att = |key: &str| {
        k(&[
            "verify-attestation",
            "--allow-insecure-registry",
            "--key",
            key,
            "--type",
            "slsaprovenance1",
            &image,
        ])
    };
    let o = verify_att("cosign.pub");
    assert!(o.status.success(), "{}", text(&o));
    let o = verify_att("other.pub");
    assert!(!o.status.success(), "{}", text(&o));

    stack.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

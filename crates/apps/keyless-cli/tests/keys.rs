//! cosign's key commands and key-based signing, through the `keyless`
//! binary: `generate-key-pair`, `import-key-pair`, `public-key`, plus
//! `completion` and `man`.

mod support;

use std::path::Path;

use support::*;

const COSIGN_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../formats/keyless-keys/tests/testdata/cosign_generated_empty_password.key"
);

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

    // A key cosign generated (empty password) loads unchanged.
    let o = k(&["public-key", "--key", COSIGN_KEY], Some(""));
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
    for flag in ["\\-\\-identity\\-token", "\\-\\-yes"] {
        assert!(sign.contains(flag), "keyless-sign.1 lacks {flag}");
    }
    assert!(dir.join("keyless-verify-blob.1").exists());
    assert!(dir.join("keyless-tuf-init.1").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

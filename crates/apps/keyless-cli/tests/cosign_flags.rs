//! cosign's flags and environment with cosign's meaning, against the dev
//! stack and Debian's docker-registry: the Buildkite guide's flow (sign
//! --yes --output-certificate, `openssl x509 -text`, verify), the classic
//! `.sig` layer with a Rekor v1 SET, the layout switches, --recursive,
//! --tlog-upload=false, detached verification, the trust-material
//! variables, the OIDC flags and the v1/v2 mismatch hint.

mod support;

use std::path::Path;

use base64::Engine;
use support::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn json_file(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).expect("read")).expect("JSON")
}

fn b64_field(v: &serde_json::Value) -> Vec<u8> {
    B64.decode(v.as_str().expect("base64 string"))
        .expect("base64")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn buildkite_flow_classic_layer_and_sign_flags() {
    let reg = Registry::start();
    let dir = temp_dir("cosign-flags-image");
    let stack = DevStack::start(&dir, free_base_port());
    let issuer = stack.url("oidcIssuer");
    let tc = stack.trust_config();
    let k = |args: &[&str]| run(keyless().env("SIGSTORE_TRUST_CONFIG", &tc).args(args));
    let image = reg.push("buildkite/app:1.0");

    // The Buildkite guide: sign --yes --output-certificate, openssl, verify.
    let token = stack.token("alice@example.com");
    let cert = dir.join("fulcio.crt");
    let sig = dir.join("image.sig");
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--output-certificate",
        cert.to_str().unwrap(),
        "--output-signature",
        sig.to_str().unwrap(),
        "-a",
        "team=blue",
        "--annotations",
        "build=42",
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let err = stderr(&o);
    assert!(err.contains("tlog entry created with index: "), "{err}");
    assert!(err.contains("Wrote certificate to file"), "{err}");
    // The keyless log serves its explorer page at its root: the entry's link.
    assert!(err.contains("/?logIndex="), "{err}");
    let o = run(std::process::Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&cert));
    assert!(o.status.success(), "openssl: {}", text(&o));
    let x509 = String::from_utf8_lossy(&o.stdout);
    assert!(x509.contains("email:alice@example.com"), "{x509}");
    assert!(x509.contains("1.3.6.1.4.1.57264.1.8"), "{x509}");
    let o = k(&[
        "verify",
        "--allow-insecure-registry",
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let payloads: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(payloads[0]["optional"]["team"], "blue", "{payloads}");
    assert_eq!(payloads[0]["optional"]["build"], "42", "{payloads}");
    let err = stderr(&o);
    assert!(
        err.contains("Certificate subject: alice@example.com"),
        "{err}"
    );
    assert!(
        err.contains(&format!("Certificate issuer URL: {issuer}")),
        "{err}"
    );
    // cosign's accepted switches, and --output text.
    let o = k(&[
        "verify",
        "--allow-insecure-registry",
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        "--offline",
        "--new-bundle-format",
        "--insecure-ignore-sct",
        "--rekor-url",
        &stack.url("logUrl"),
        "--output",
        "text",
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("signature: ") && out.contains("\"team\":\"blue\""),
        "{out}"
    );
    assert!(
        stderr(&o).contains("WARNING: --insecure-ignore-sct"),
        "{}",
        text(&o)
    );
    // --certificate pins the signer's certificate: the one written by
    // --output-certificate passes, another (from a later signing) does not.
    let pin = |file: &Path| {
        k(&[
            "verify",
            "--allow-insecure-registry",
            "--certificate-identity",
            "alice@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            "--certificate",
            file.to_str().unwrap(),
            &image,
        ])
    };
    let o = pin(&cert);
    assert!(o.status.success(), "{}", text(&o));
    // --certificate-chain is accepted beside it (the chain comes from the
    // trusted root either way).
    let root = json_file(&dir.join("trusted_root.json"));
    let chain: String = root["certificateAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .expect("chain")
        .iter()
        .map(|c| pem("CERTIFICATE", &b64_field(&c["rawBytes"])))
        .collect();
    let chain_file = dir.join("chain.pem");
    std::fs::write(&chain_file, chain).expect("chain");
    let o = k(&[
        "verify",
        "--allow-insecure-registry",
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        "--certificate",
        cert.to_str().unwrap(),
        "--certificate-chain",
        chain_file.to_str().unwrap(),
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // A GitHub workflow claim the certificate does not have: refused.
    let o = k(&[
        "verify",
        "--allow-insecure-registry",
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        "--certificate-github-workflow-trigger",
        "push",
        &image,
    ]);
    assert_eq!(o.status.code(), Some(22), "{}", text(&o));

    // attest with --output-certificate; verify-attestation prints the signer.
    let predicate = dir.join("predicate.json");
    std::fs::write(&predicate, br#"{"buildType":"test"}"#).expect("predicate");
    let att_cert = dir.join("att.crt");
    let token = stack.token("alice@example.com");
    let o = k(&[
        "attest",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--predicate",
        predicate.to_str().unwrap(),
        "--output-certificate",
        att_cert.to_str().unwrap(),
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(&att_cert).is_ok_and(|c| c.contains("BEGIN CERTIFICATE")));
    let o = pin(&att_cert);
    assert_eq!(
        o.status.code(),
        Some(22),
        "another certificate: {}",
        text(&o)
    );
    assert!(
        stderr(&o).contains("not signed with the --certificate given"),
        "{}",
        text(&o)
    );
    let o = k(&[
        "verify-attestation",
        "--allow-insecure-registry",
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        "--output",
        "text",
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("attestation: "),
        "{}",
        text(&o)
    );
    assert!(
        stderr(&o).contains("Certificate subject: alice@example.com"),
        "{}",
        text(&o)
    );

    // Both layouts by default; the classic layer carries cosign's annotations:
    // the Rekor v2 log gives no SET, the TSA a timestamp.
    let stored = reg.signatures(&image);
    assert_eq!(stored.signatures.len(), 1);
    assert_eq!(stored.attestations.len(), 1);
    // One referrer for the signature, one for the attestation.
    assert_eq!(stored.bundles.len(), 2);
    let layer = &stored.signatures[0];
    let written_sig = std::fs::read_to_string(&sig).expect("signature file");
    assert_eq!(layer.base64_signature(), Some(written_sig.trim()));
    assert_eq!(
        layer.certificate_pem().map(str::trim),
        Some(std::fs::read_to_string(&cert).expect("cert").trim())
    );
    assert!(layer
        .chain_pem()
        .is_some_and(|c| c.contains("BEGIN CERTIFICATE")));
    assert!(layer.rekor_bundle().is_none());
    let ts: serde_json::Value =
        serde_json::from_str(layer.rfc3161_timestamp().expect("timestamp annotation"))
            .expect("JSON");
    assert!(!b64_field(&ts["SignedRFC3161Timestamp"]).is_empty());

    // Against the Rekor v1 personality, named by flags only (private
    // instance, no TSA): no public service, the SET in the classic layer.
    let trusted_root = dir.join("trusted_root.json");
    let image2 = reg.push("buildkite/v1:1.0");
    let token = stack.token("bob@example.com");
    let o = run(keyless().args([
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--trusted-root",
        trusted_root.to_str().unwrap(),
        "--fulcio-url",
        &stack.url("caUrl"),
        "--rekor-url",
        &stack.url("logUrl"),
        "--new-bundle-format=false",
        &image2,
    ]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        stderr(&o).contains("no timestamp authority"),
        "{}",
        text(&o)
    );
    let stored = reg.signatures(&image2);
    assert_eq!(stored.signatures.len(), 1);
    assert!(
        stored.bundles.is_empty(),
        "--new-bundle-format=false writes no referrer"
    );
    let layer = &stored.signatures[0];
    assert!(layer.rfc3161_timestamp().is_none());
    let set: serde_json::Value =
        serde_json::from_str(layer.rekor_bundle().expect("bundle annotation")).expect("JSON");
    let root = json_file(&trusted_root);
    let log_id = b64_field(&root["tlogs"][0]["logId"]["keyId"]);
    assert_eq!(set["Payload"]["logID"], hex::encode(&log_id), "{set}");
    assert!(
        set["Payload"]["integratedTime"].as_i64().unwrap_or(0) > 0,
        "{set}"
    );
    assert!(set["Payload"]["logIndex"].as_i64().is_some(), "{set}");
    assert!(!b64_field(&set["SignedEntryTimestamp"]).is_empty());
    let body: serde_json::Value =
        serde_json::from_slice(&b64_field(&set["Payload"]["body"])).expect("entry body");
    assert_eq!(body["kind"], "hashedrekord", "{body}");
    // The SET verifies with the log key over cosign's canonical payload.
    let key_der = b64_field(&root["tlogs"][0]["publicKey"]["rawBytes"]);
    let key = keyless_crypto::PublicKey::from_spki_der(&key_der).expect("log key");
    let canonical = format!(
        "{{\"body\":{},\"integratedTime\":{},\"logID\":{},\"logIndex\":{}}}",
        set["Payload"]["body"],
        set["Payload"]["integratedTime"],
        set["Payload"]["logID"],
        set["Payload"]["logIndex"]
    );
    key.verify(
        keyless_crypto::SignatureAlgorithm::EcdsaSha256,
        canonical.as_bytes(),
        &b64_field(&set["SignedEntryTimestamp"]),
    )
    .expect("the SET verifies with the log key");

    // The classic layer alone (no referrer) verifies: the SET binds it.
    let o = k(&[
        "verify",
        "--allow-insecure-registry",
        "--certificate-identity",
        "bob@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        &image2,
    ]);
    assert!(
        o.status.success(),
        "classic layer with the v1 SET: {}",
        text(&o)
    );

    // Classic only against the v2 log: no SET, but the TSA's timestamp
    // annotation, which verifies with --insecure-ignore-tlog.
    let image4 = reg.push("buildkite/classic-tsa:1.0");
    let token = stack.token("erin@example.com");
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--registry-referrers-mode",
        "legacy",
        &image4,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(reg.signatures(&image4).bundles.is_empty());
    let verify4 = |extra: &[&str]| {
        k(&[
            &[
                "verify",
                "--allow-insecure-registry",
                "--certificate-identity",
                "erin@example.com",
                "--certificate-oidc-issuer",
                &issuer,
            ][..],
            extra,
            &[&image4],
        ]
        .concat())
    };
    let o = verify4(&[]);
    assert!(
        !o.status.success(),
        "no log evidence in the layer: {}",
        text(&o)
    );
    let o = verify4(&["--insecure-ignore-tlog"]);
    assert!(o.status.success(), "timestamp annotation: {}", text(&o));

    // --registry-referrers-mode oci-1-1: the referrer only, no .sig tag.
    let image3 = reg.push("buildkite/referrer:1.0");
    let token = stack.token("carol@example.com");
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--registry-referrers-mode",
        "oci-1-1",
        &image3,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stored = reg.signatures(&image3);
    assert!(stored.signatures.is_empty());
    assert_eq!(stored.bundles.len(), 1);
    // The classic layout as a referrer is not something keyless writes.
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--new-bundle-format=false",
        "--registry-referrers-mode",
        "oci-1-1",
        &image3,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // --recursive on an index signs the index and each platform manifest.
    let a = reg.push("buildkite/multi:amd64");
    let b = reg.push("buildkite/multi:arm64");
    let (index_ref, platform_digests) = reg.rt.block_on(async {
        let resolve = |r: String| {
            let client = &reg.client;
            async move {
                let reference = keyless_oci::Reference::parse(&r).expect("ref");
                client.resolve(&reference).await.expect("resolve")
            }
        };
        let (da, db) = (resolve(a).await, resolve(b).await);
        let mut index = keyless_oci::ImageIndex::new();
        index.manifests = vec![da.clone(), db.clone()];
        let bytes = serde_json::to_vec(&index).expect("index JSON");
        let reference = keyless_oci::Reference::parse(&format!(
            "{}/buildkite/multi:latest",
            reg.registry.host()
        ))
        .expect("ref");
        reg.client
            .put_manifest(
                reference.repository(),
                "latest",
                keyless_oci::manifest::OCI_INDEX,
                bytes,
                None,
            )
            .await
            .expect("push index");
        (reference.to_string(), vec![da.digest, db.digest])
    });
    let token = stack.token("dave@example.com");
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--recursive",
        &index_ref,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for d in &platform_digests {
        let platform = format!("{}/buildkite/multi@{d}", reg.registry.host());
        assert_eq!(reg.signatures(&platform).signatures.len(), 1, "{platform}");
    }
    stack.stop();
}

#[test]
fn blob_flags_environment_and_oidc() {
    let dir = temp_dir("cosign-flags-blob");
    let stack = DevStack::start(&dir, free_base_port());
    let issuer = stack.url("oidcIssuer");
    let tc = stack.trust_config();
    let trusted_root = dir.join("trusted_root.json");
    let root = json_file(&trusted_root);
    let k = |args: &[&str]| run(keyless().env("SIGSTORE_TRUST_CONFIG", &tc).args(args));
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"release 2.0\n").expect("artifact");
    let a = artifact.to_str().unwrap();
    let verify = |bundle: &Path, extra: &[&str], env: &[(&str, &Path)]| {
        let mut cmd = keyless();
        cmd.env("SIGSTORE_TRUST_CONFIG", &tc);
        for (key, value) in env {
            cmd.env(key, value);
        }
        run(cmd
            .args([
                "verify-blob",
                "--certificate-identity",
                "alice@example.com",
                "--certificate-oidc-issuer",
                &issuer,
                "--bundle",
            ])
            .arg(bundle)
            .args(extra)
            .arg(&artifact))
    };

    // COSIGN_YES instead of --yes (no consent notice), COSIGN_EXPERIMENTAL
    // noted; signing with the signing config's v2 log and TSA.
    let bundle = dir.join("a.sigstore.json");
    let sig = dir.join("a.sig");
    let cert = dir.join("a.crt");
    let token = stack.token("alice@example.com");
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", &tc)
        .env("COSIGN_YES", "true")
        .env("COSIGN_EXPERIMENTAL", "1")
        .args([
            "sign-blob",
            "--identity-token",
            &token,
            "--bundle",
            bundle.to_str().unwrap(),
            "--output-signature",
            sig.to_str().unwrap(),
            "--output-certificate",
            cert.to_str().unwrap(),
            a,
        ]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !stderr(&o).contains("Signing records your identity"),
        "{}",
        text(&o)
    );
    assert!(
        stderr(&o).contains("COSIGN_EXPERIMENTAL is ignored"),
        "{}",
        text(&o)
    );
    let o = verify(&bundle, &["--offline", "--new-bundle-format"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(stderr(&o).contains("Certificate subject: alice@example.com"));

    // --rekor-url on verify is accepted and noted.
    let o = verify(&bundle, &["--rekor-url", &stack.url("logUrl")], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        stderr(&o).contains("--rekor-url is not used to fetch"),
        "{}",
        text(&o)
    );

    // GitHub workflow extensions must be in the certificate.
    let o = verify(
        &bundle,
        &["--certificate-github-workflow-repository", "owner/repo"],
        &[],
    );
    assert_eq!(o.status.code(), Some(22), "{}", text(&o));
    for flag in ["trigger", "sha", "name", "ref"] {
        let o = verify(
            &bundle,
            &[&format!("--certificate-github-workflow-{flag}"), "x"],
            &[],
        );
        assert_eq!(o.status.code(), Some(22), "{flag}: {}", text(&o));
    }

    // Detached: certificate + signature, no bundle. Without a log entry it
    // needs --insecure-ignore-tlog, and a trusted time: the bundle's TSA
    // timestamp given as a file.
    let detached = |extra: &[&str]| {
        k(&[
            &[
                "verify-blob",
                "--certificate-identity",
                "alice@example.com",
                "--certificate-oidc-issuer",
                &issuer,
                "--certificate",
                cert.to_str().unwrap(),
                "--signature",
                sig.to_str().unwrap(),
            ][..],
            extra,
            &[a],
        ]
        .concat())
    };
    let o = detached(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("--insecure-ignore-tlog"),
        "{}",
        text(&o)
    );
    let o = detached(&["--insecure-ignore-tlog"]);
    assert_eq!(o.status.code(), Some(19), "no trusted time: {}", text(&o));
    let b = json_file(&bundle);
    let ts = dir.join("a.tsr");
    std::fs::write(
        &ts,
        b64_field(
            &b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
                ["signedTimestamp"],
        ),
    )
    .expect("timestamp");
    let o = detached(&[
        "--insecure-ignore-tlog",
        "--rfc3161-timestamp",
        ts.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // The chain from the trusted root, given as --certificate-chain.
    let chain: String = root["certificateAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .expect("chain")
        .iter()
        .map(|c| pem("CERTIFICATE", &b64_field(&c["rawBytes"])))
        .collect();
    let chain_file = dir.join("chain.pem");
    std::fs::write(&chain_file, chain).expect("chain");
    let o = detached(&[
        "--insecure-ignore-tlog",
        "--rfc3161-timestamp",
        ts.to_str().unwrap(),
        "--certificate-chain",
        chain_file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // A signature over another file is refused.
    let other = dir.join("other.txt");
    std::fs::write(&other, b"release 2.1\n").expect("other");
    let o = k(&[
        "verify-blob",
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        "--certificate",
        cert.to_str().unwrap(),
        "--signature",
        sig.to_str().unwrap(),
        "--insecure-ignore-tlog",
        "--rfc3161-timestamp",
        ts.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "{}", text(&o));

    // --tlog-upload=false: a clear warning, no log entry in the bundle, and
    // verification only with --insecure-ignore-tlog.
    let no_log = dir.join("nolog.sigstore.json");
    let token = stack.token("alice@example.com");
    let o = k(&[
        "sign-blob",
        "--yes",
        "--identity-token",
        &token,
        "--tlog-upload=false",
        "--bundle",
        no_log.to_str().unwrap(),
        a,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        stderr(&o).contains("NOT recorded in a transparency log"),
        "{}",
        text(&o)
    );
    assert!(!stderr(&o).contains("tlog entry created"), "{}", text(&o));
    assert_eq!(
        json_file(&no_log)["verificationMaterial"]["tlogEntries"]
            .as_array()
            .map_or(0, Vec::len),
        0
    );
    let o = verify(&no_log, &[], &[]);
    assert_eq!(o.status.code(), Some(14), "{}", text(&o));
    let o = verify(&no_log, &["--insecure-ignore-tlog"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        stderr(&o).contains("WARNING: --insecure-ignore-tlog"),
        "{}",
        text(&o)
    );

    // Trust material from cosign's variables, each noted on stderr: the
    // right key verifies, another key does not.
    let other_key = keyless_crypto::SigningKey::generate(keyless_crypto::KeyAlgorithm::EcdsaP256)
        .expect("key")
        .public_key()
        .to_pem();
    let wrong = dir.join("wrong.pub");
    std::fs::write(&wrong, &other_key).expect("key");
    let ct_key = dir.join("ctlog.pub");
    std::fs::write(
        &ct_key,
        pem(
            "PUBLIC KEY",
            &b64_field(&root["ctlogs"][0]["publicKey"]["rawBytes"]),
        ),
    )
    .expect("ct key");
    let o = verify(
        &bundle,
        &[],
        &[("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", &ct_key)],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        stderr(&o).contains("Note: SIGSTORE_CT_LOG_PUBLIC_KEY_FILE"),
        "{}",
        text(&o)
    );
    let o = verify(&bundle, &[], &[("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", &wrong)]);
    assert_eq!(o.status.code(), Some(13), "{}", text(&o));
    // ... and --insecure-ignore-sct accepts the certificate without an SCT check.
    let o = verify(
        &bundle,
        &["--insecure-ignore-sct"],
        &[("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", &wrong)],
    );
    assert!(o.status.success(), "{}", text(&o));
    let tsa_chain: String = root["timestampAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .expect("TSA chain")
        .iter()
        .map(|c| pem("CERTIFICATE", &b64_field(&c["rawBytes"])))
        .collect();
    let tsa_file = dir.join("tsa.pem");
    std::fs::write(&tsa_file, tsa_chain).expect("tsa");
    let o = verify(
        &bundle,
        &[],
        &[("SIGSTORE_TSA_CERTIFICATE_FILE", &tsa_file)],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        stderr(&o).contains("Note: SIGSTORE_TSA_CERTIFICATE_FILE"),
        "{}",
        text(&o)
    );
    let o = verify(
        &bundle,
        &[],
        &[("SIGSTORE_TSA_CERTIFICATE_FILE", &chain_file)],
    );
    assert!(
        !o.status.success(),
        "a CA chain is not the TSA: {}",
        text(&o)
    );

    // A v1 bundle (SET) and SIGSTORE_REKOR_PUBLIC_KEY.
    let v1 = dir.join("v1.sigstore.json");
    let token = stack.token("alice@example.com");
    let o = run(keyless().args([
        "sign-blob",
        "--yes",
        "--identity-token",
        &token,
        "--trusted-root",
        trusted_root.to_str().unwrap(),
        "--fulcio-url",
        &stack.url("caUrl"),
        "--rekor-url",
        &stack.url("logUrl"),
        "--bundle",
        v1.to_str().unwrap(),
        a,
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let entry = &json_file(&v1)["verificationMaterial"]["tlogEntries"][0];
    assert!(
        entry["inclusionPromise"]["signedEntryTimestamp"].is_string(),
        "{entry}"
    );
    let log_key = dir.join("rekor.pub");
    std::fs::write(
        &log_key,
        pem(
            "PUBLIC KEY",
            &b64_field(&root["tlogs"][0]["publicKey"]["rawBytes"]),
        ),
    )
    .expect("log key");
    let o = verify(&v1, &[], &[("SIGSTORE_REKOR_PUBLIC_KEY", &log_key)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        stderr(&o).contains("Note: SIGSTORE_REKOR_PUBLIC_KEY"),
        "{}",
        text(&o)
    );
    let o = verify(&v1, &[], &[("SIGSTORE_REKOR_PUBLIC_KEY", &wrong)]);
    assert_eq!(o.status.code(), Some(14), "{}", text(&o));

    // A v2 request to something that is not a v2 log: the hint names the flag.
    let token = stack.token("alice@example.com");
    let o = run(keyless().args([
        "sign-blob",
        "--yes",
        "--identity-token",
        &token,
        "--trusted-root",
        trusted_root.to_str().unwrap(),
        "--fulcio-url",
        &stack.url("caUrl"),
        "--rekor-url",
        &stack.url("caUrl"),
        "--rekor-version",
        "2",
        "--timestamp-server-url",
        &stack.url("tsaUrl"),
        "--bundle",
        dir.join("x.json").to_str().unwrap(),
        a,
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("does not look like a Rekor v2 log"),
        "{}",
        text(&o)
    );
    assert!(
        stderr(&o).contains("hint: this log looks like a Rekor v1 log: drop --rekor-version 2"),
        "{}",
        text(&o)
    );
    // A Rekor v2 log by flags without a TSA stops before any request.
    let o = run(keyless().args([
        "sign-blob",
        "--yes",
        "--identity-token",
        &token,
        "--fulcio-url",
        &stack.url("caUrl"),
        "--rekor-url",
        &stack.url("logUrl"),
        "--rekor-version",
        "2",
        "--bundle",
        dir.join("x.json").to_str().unwrap(),
        a,
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("--timestamp-server-url"),
        "{}",
        text(&o)
    );

    // verify-blob-attestation --type.
    let predicate = dir.join("predicate.json");
    std::fs::write(&predicate, br#"{"buildType":"test"}"#).expect("predicate");
    let att = dir.join("att.sigstore.json");
    let token = stack.token("alice@example.com");
    let o = k(&[
        "attest-blob",
        "--yes",
        "--identity-token",
        &token,
        "--predicate",
        predicate.to_str().unwrap(),
        "--type",
        "slsaprovenance1",
        "--bundle",
        att.to_str().unwrap(),
        a,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let verify_att = |ty: &str| {
        k(&[
            "verify-blob-attestation",
            "--certificate-identity",
            "alice@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            "--bundle",
            att.to_str().unwrap(),
            "--type",
            ty,
            a,
        ])
    };
    let o = verify_att("slsaprovenance1");
    assert!(o.status.success(), "{}", text(&o));
    let o = verify_att("spdxjson");
    assert!(!o.status.success(), "{}", text(&o));
    assert!(stderr(&o).contains("predicate type"), "{}", text(&o));
    // --certificate pins the attestation's signer: its own certificate
    // passes (with --certificate-chain accepted beside it), another
    // signing's certificate is refused with the policy code.
    let pin_att = |cert: &Path| {
        k(&[
            "verify-blob-attestation",
            "--certificate-identity",
            "alice@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            "--bundle",
            att.to_str().unwrap(),
            "--certificate",
            cert.to_str().unwrap(),
            "--certificate-chain",
            cert.to_str().unwrap(),
            a,
        ])
    };
    let cert_of = |bundle: &Path, name: &str| {
        let v = json_file(bundle);
        let file = dir.join(name);
        std::fs::write(
            &file,
            pem(
                "CERTIFICATE",
                &b64_field(&v["verificationMaterial"]["certificate"]["rawBytes"]),
            ),
        )
        .expect("certificate file");
        file
    };
    let o = pin_att(&cert_of(&att, "att-signer.pem"));
    assert!(o.status.success(), "{}", text(&o));
    let o = pin_att(&cert_of(&bundle, "blob-signer.pem"));
    assert_eq!(o.status.code(), Some(22), "{}", text(&o));
    assert!(
        stderr(&o).contains("not signed with the --certificate given"),
        "{}",
        text(&o)
    );

    // TUF_ROOT is where `keyless initialize` caches the root.
    let tuf_root = dir.join("tuf-cache");
    let o = run(keyless()
        .env("TUF_ROOT", &tuf_root)
        .env("HOME", dir.join("no-home"))
        .args(["initialize", "--mirror", &stack.url("tufUrl"), "--root"])
        .arg(dir.join("tuf/root.json")));
    assert!(o.status.success(), "{}", text(&o));
    assert!(tuf_root.join("keyless-mirror").is_file(), "{}", text(&o));
    assert!(!dir.join("no-home").exists());

    // OIDC flags.
    let sign_no_token = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = keyless();
        cmd.env("SIGSTORE_TRUST_CONFIG", &tc)
            .env_remove("SIGSTORE_ID_TOKEN");
        for (key, value) in env {
            cmd.env(key, value);
        }
        run(cmd
            .args(["sign-blob", "--yes", "--bundle"])
            .arg(dir.join("y.json"))
            .args(extra)
            .arg(&artifact))
    };
    let o = sign_no_token(&["--oidc-provider", "github-actions"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("not available in this environment"),
        "{}",
        text(&o)
    );
    let o = sign_no_token(&["--oidc-provider", "nonsense"], &[]);
    assert!(
        stderr(&o).contains("unknown --oidc-provider"),
        "{}",
        text(&o)
    );
    // An ambient provider is used unless disabled: Buildkite's agent is not
    // installed here, so using it fails; disabled, sign-in goes to the
    // interactive flow, which first reads the client secret file.
    let o = sign_no_token(&[], &[("BUILDKITE", "true")]);
    assert!(stderr(&o).contains("buildkite-agent"), "{}", text(&o));
    let o = sign_no_token(
        &[
            "--oidc-disable-ambient-providers",
            "--oidc-client-secret-file",
            dir.join("missing-secret").to_str().unwrap(),
        ],
        &[("BUILDKITE", "true")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!stderr(&o).contains("buildkite-agent"), "{}", text(&o));
    assert!(
        stderr(&o).contains("OIDC client secret file"),
        "{}",
        text(&o)
    );
    // Any http(s) redirect URL is usable (keyless-oidc's tests sign in
    // through one); one the browser flow cannot serve is refused up front.
    let o = sign_no_token(&["--oidc-redirect-url", "ftp://example.com/cb"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        stderr(&o).contains("--oidc-redirect-url ftp://example.com/cb: not an http or https URL"),
        "{}",
        text(&o)
    );
    stack.stop();
}

#[test]
fn the_public_log_gets_the_search_link() {
    assert_eq!(
        keyless_cli::signing::explorer_url("https://rekor.sigstore.dev"),
        Some("https://search.sigstore.dev")
    );
    assert_eq!(
        keyless_cli::signing::explorer_url("http://127.0.0.1:3000"),
        None
    );
}

//! `keyless log get|search|checkpoint` against the dev stack's log:
//! decoded entries, inclusion proofs and checkpoint signatures verified,
//! and a wrong log key refused.

mod support;

use support::*;

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(keyless_crypto::sha256(data))
}

#[test]
fn get_search_and_checkpoint() {
    let dir = temp_dir("log-read");
    let stack = DevStack::start(&dir, free_base_port());
    let url = stack.url("logUrl");
    let issuer = stack.url("oidcIssuer");
    let mut digests = Vec::new();
    for (who, name) in [("alice@example.com", "a"), ("bob@example.com", "b")] {
        let artifact = dir.join(name);
        let content = format!("artifact {name}\n");
        std::fs::write(&artifact, &content).unwrap();
        digests.push(sha256_hex(content.as_bytes()));
        let token = stack.token(who);
        let o = run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
            .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
            .arg(dir.join(format!("{name}.sigstore.json")))
            .arg(&artifact));
        assert!(o.status.success(), "{}", text(&o));
    }
    let log = |args: &[&str]| {
        let o = run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
            .arg("log")
            .args(args)
            .args(["--url", &url]));
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            text(&o),
        )
    };

    let (ok, out, all) = log(&["checkpoint"]);
    assert!(ok, "{all}");
    assert!(out.contains("Signature: verified"), "{out}");
    let (ok, out, all) = log(&["checkpoint", "--output", "json"]);
    assert!(ok, "{all}");
    let cp: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(cp["size"].as_u64().unwrap() >= 2, "{cp}");

    // Alice's entry, by its artifact digest.
    let (ok, out, all) = log(&["search", "--sha256", &digests[0], "--output", "json"]);
    assert!(ok, "{all}");
    let found: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{out}");
    let e = &found[0];
    assert_eq!(
        e["certificate"]["identities"][0], "alice@example.com",
        "{e}"
    );
    assert_eq!(e["certificate"]["oidcIssuer"], issuer.as_str(), "{e}");
    assert_eq!(e["digest"], format!("sha256:{}", digests[0]), "{e}");
    assert_eq!(e["proofVerified"], true, "{e}");
    assert!(e["integratedTime"].as_i64().unwrap() > 1_700_000_000, "{e}");
    let index = e["logIndex"].as_u64().unwrap().to_string();
    let uuid = e["uuid"].as_str().unwrap().to_string();

    // The same entry by index and by UUID, as text.
    for args in [["get", "--index", &index], ["get", "--uuid", &uuid]] {
        let (ok, out, all) = log(&args);
        assert!(ok, "{all}");
        for want in [
            format!("Log index: {index}"),
            "Kind: hashedrekord".to_string(),
            "Identity: alice@example.com".to_string(),
            format!("Digest: sha256:{}", digests[0]),
            "proof verified against checkpoint".to_string(),
            "checkpoint signature verified".to_string(),
        ] {
            assert!(out.contains(&want), "missing {want:?} in {out}");
        }
    }

    // By certificate: bob's entry only.
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("b.sigstore.json")).unwrap()).unwrap();
    let raw = bundle["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .expect("a certificate in bob's bundle");
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, raw).unwrap();
    let cert = dir.join("bob.pem");
    std::fs::write(&cert, keyless_crypto::pem::encode("CERTIFICATE", &der)).unwrap();
    let (ok, out, all) = log(&[
        "search",
        "--public-key",
        cert.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert!(ok, "{all}");
    let found: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{out}");
    assert_eq!(found[0]["digest"], format!("sha256:{}", digests[1]));
    assert_eq!(found[0]["certificate"]["identities"][0], "bob@example.com");
    // By e-mail (the certificate's SAN, any case): the same entry.
    let (ok, out, all) = log(&["search", "--email", "Bob@Example.com", "--output", "json"]);
    assert!(ok, "{all}");
    let found: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{out}");
    assert_eq!(found[0]["digest"], format!("sha256:{}", digests[1]));

    // Another key: the checkpoint does not verify, nothing is printed as verified.
    let other =
        keyless_crypto::SigningKey::generate(keyless_crypto::KeyAlgorithm::EcdsaP256).unwrap();
    let pem = dir.join("other.pub");
    std::fs::write(&pem, other.public_key().to_pem()).unwrap();
    let (ok, out, all) = log(&[
        "get",
        "--index",
        &index,
        "--log-public-key",
        pem.to_str().unwrap(),
    ]);
    assert!(!ok && !out.contains("verified"), "{all}");
    let (ok, _, all) = log(&["get", "--index", "999999"]);
    assert!(!ok, "{all}");
}

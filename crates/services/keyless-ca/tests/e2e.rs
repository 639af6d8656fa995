//! End to end, in process: dev OIDC issuer → CA over HTTP → certificate,
//! checked with keyless-x509 and keyless-verify's trust material.

mod support;

use const_oid::db::rfc5280 as ids;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_oidc_dev::MintOptions;
use keyless_x509::oid;
use serde_json::Value;
use support::*;

#[tokio::test]
async fn email_identity_public_key_request() {
    let stack = start().await;
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let alice = "alice@keyless.test";
    let issued = issue_for(&stack, email(alice), &key, alice).await;
    let id = verify_like_a_client(&stack, &issued);
    assert_eq!(id.sans, vec!["alice@keyless.test".to_string()]);
    assert_eq!(id.issuer.as_deref(), Some(stack.oidc.base_url.as_str()));
    assert_eq!(&issued.leaf.public_key().unwrap(), key.public_key());
    // The key signs a blob that verifies with the certificate's key.
    let sig = key.sign(b"blob").unwrap();
    issued
        .leaf
        .public_key()
        .unwrap()
        .verify(key.signature_algorithm(), b"blob", &sig)
        .unwrap();
    assert_eq!(stack.ca.ct.size(), 1);
}

/// The development-stack options: a P-256 intermediate whose key is stored
/// encrypted (password from an environment variable). Issued certificates
/// verify exactly as with the default P-384 intermediate.
#[tokio::test]
async fn p256_intermediate_with_encrypted_key() {
    std::env::set_var("KEYLESS_TEST_E2E_CA_KEY_PASSWORD", "e2e password");
    let stack = start_with(|c| {
        c.keys.intermediate_algorithm = KeyAlgorithm::EcdsaP256;
        c.keys.password_env = Some("KEYLESS_TEST_E2E_CA_KEY_PASSWORD".into());
    })
    .await;
    let key_file =
        std::fs::read_to_string(stack.dir.join("ca").join(keyless_ca::pki::INTERMEDIATE_KEY))
            .unwrap();
    assert!(key_file.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let carol = "carol@keyless.test";
    let issued = issue_for(&stack, email(carol), &key, carol).await;
    assert_eq!(
        issued.chain[0].public_key().unwrap().algorithm(),
        KeyAlgorithm::EcdsaP256
    );
    let id = verify_like_a_client(&stack, &issued);
    assert_eq!(id.sans, vec!["carol@keyless.test".to_string()]);
}

#[tokio::test]
async fn csr_with_bearer_header_as_sigstore_python_sends() {
    let stack = start().await;
    let token = stack.oidc.mint(&MintOptions::default()).unwrap();
    for alg in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::EcdsaP521,
        KeyAlgorithm::Ed25519,
    ] {
        let key = SigningKey::generate(alg).unwrap();
        let body = serde_json::json!({"certificateSigningRequest": b64(csr_pem(&key).as_bytes())});
        let issued = parse_issued(post_v2(&stack, &body, Some(&token)).await).await;
        let id = verify_like_a_client(&stack, &issued);
        assert_eq!(id.sans, vec!["dev@keyless.test".to_string()]);
        assert_eq!(&issued.leaf.public_key().unwrap(), key.public_key());
    }
}

#[tokio::test]
async fn v1_api_returns_pem_chain() {
    let stack = start().await;
    let token = stack.oidc.mint(&MintOptions::default()).unwrap();
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let body = serde_json::json!({
        "publicKey": {"content": b64(key.public_key().to_pem().as_bytes())},
        "signedEmailAddress": b64(&key.sign(b"dev@keyless.test").unwrap()),
    });
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/signingCert", stack.ca_url))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let text = resp.text().await.unwrap();
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 3);
}

#[tokio::test]
async fn github_workflow_identity_gets_ci_extensions() {
    let stack = start().await;
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let sub = "repo:keyless-dev/widgets:ref:refs/heads/main";
    let issued = issue_for(&stack, identity("github"), &key, sub).await;
    let id = verify_like_a_client(&stack, &issued);
    let san =
        "https://github.com/keyless-dev/widgets/.github/workflows/release.yml@refs/heads/main";
    assert_eq!(id.sans, vec![san.to_string()]);
    assert_eq!(id.issuer, Some(format!("{}/github", stack.oidc.base_url)));
    let ext = |o: const_oid::ObjectIdentifier| id.extensions.get(&o.to_string()).cloned();
    assert_eq!(ext(oid::BUILD_SIGNER_URI).as_deref(), Some(san));
    assert_eq!(
        ext(oid::RUNNER_ENVIRONMENT).as_deref(),
        Some("github-hosted")
    );
    assert_eq!(
        ext(oid::SOURCE_REPOSITORY_URI).as_deref(),
        Some("https://github.com/keyless-dev/widgets")
    );
    assert_eq!(
        ext(oid::RUN_INVOCATION_URI).as_deref(),
        Some("https://github.com/keyless-dev/widgets/actions/runs/42/attempts/1")
    );
    assert_eq!(ext(oid::GITHUB_WORKFLOW_TRIGGER).as_deref(), Some("push"));
    assert_eq!(
        ext(oid::SOURCE_REPOSITORY_VISIBILITY_AT_SIGNING).as_deref(),
        Some("public")
    );
}

#[tokio::test]
async fn gitlab_and_buildkite_identities() {
    let stack = start().await;
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let sub = "project_path:keyless-dev/widgets:ref_type:branch:ref:main";
    let issued = issue_for(&stack, identity("gitlab"), &key, sub).await;
    let id = verify_like_a_client(&stack, &issued);
    assert_eq!(
        id.sans,
        vec!["https://gitlab.com/keyless-dev/widgets//.gitlab-ci.yml@refs/heads/main".to_string()]
    );
    assert_eq!(
        id.extensions
            .get(&oid::SOURCE_REPOSITORY_REF.to_string())
            .map(String::as_str),
        Some("refs/heads/main")
    );

    let sub = "organization:acme:pipeline:widgets:ref:refs/heads/main:commit:abc:step:build";
    let issued = issue_for(&stack, identity("buildkite"), &key, sub).await;
    let id = verify_like_a_client(&stack, &issued);
    assert_eq!(
        id.sans,
        vec!["https://buildkite.com/acme/widgets".to_string()]
    );
}

/// Every extension of an issued leaf against SPEC-CHECKS §3.2.
#[tokio::test]
async fn leaf_matches_fulcio_profile() {
    use der::Decode;
    use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};
    let stack = start().await;
    let token = stack.oidc.mint(&MintOptions::default()).unwrap();
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let issued =
        parse_issued(post_v2(&stack, &v2_body(&token, &key, "dev@keyless.test"), None).await).await;
    let leaf = &issued.leaf;
    let tbs = &leaf.inner().tbs_certificate;
    assert_eq!(
        leaf.not_after() - leaf.not_before(),
        600,
        "10-minute validity"
    );
    assert!(tbs.subject.0.is_empty(), "empty subject");
    let serial = tbs.serial_number.as_bytes();
    assert!(
        serial.len() <= 20 && serial.len() >= 19,
        "160-bit serial, got {} bytes",
        serial.len()
    );
    let got: Vec<(String, bool)> = leaf
        .extensions()
        .iter()
        .map(|e| (e.extn_id.to_string(), e.critical))
        .collect();
    let want: Vec<(String, bool)> = [
        (ids::ID_CE_KEY_USAGE, true),
        (ids::ID_CE_EXT_KEY_USAGE, false),
        (ids::ID_CE_SUBJECT_KEY_IDENTIFIER, false),
        (ids::ID_CE_AUTHORITY_KEY_IDENTIFIER, false),
        (ids::ID_CE_SUBJECT_ALT_NAME, true),
        (oid::ISSUER_V1, false),
        (oid::ISSUER_V2, false),
        (oid::CT_SCT_LIST, false),
    ]
    .iter()
    .map(|(o, c)| (o.to_string(), *c))
    .collect();
    assert_eq!(got, want);
    let ku = leaf.key_usage().unwrap().unwrap();
    assert!(
        ku.digital_signature() && !ku.key_cert_sign() && !ku.crl_sign() && !ku.key_encipherment()
    );
    let (_, eku) = leaf.extended_key_usage().unwrap().unwrap();
    assert_eq!(eku.0, vec![ids::ID_KP_CODE_SIGNING]);
    assert!(leaf.basic_constraints().unwrap().is_none_or(|b| !b.ca));
    let (_, ski) = leaf
        .decode_extension::<SubjectKeyIdentifier>(&ids::ID_CE_SUBJECT_KEY_IDENTIFIER)
        .unwrap()
        .unwrap();
    assert_eq!(ski.0.as_bytes().len(), 20);
    let (_, aki) = leaf
        .decode_extension::<AuthorityKeyIdentifier>(&ids::ID_CE_AUTHORITY_KEY_IDENTIFIER)
        .unwrap()
        .unwrap();
    let (_, int_ski) = issued.chain[0]
        .decode_extension::<SubjectKeyIdentifier>(&ids::ID_CE_SUBJECT_KEY_IDENTIFIER)
        .unwrap()
        .unwrap();
    assert_eq!(
        aki.key_identifier.unwrap().as_bytes(),
        int_ski.0.as_bytes(),
        "AKI = issuer SKI"
    );
    // .1.1 raw bytes, .1.8 DER UTF8String, same value.
    let v1 = leaf
        .extension(&oid::ISSUER_V1)
        .unwrap()
        .extn_value
        .as_bytes();
    assert_eq!(v1, stack.oidc.base_url.as_bytes());
    let v2 = der::asn1::Utf8StringRef::from_der(
        leaf.extension(&oid::ISSUER_V2)
            .unwrap()
            .extn_value
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(v2.as_str(), stack.oidc.base_url);
    // Intermediate and root.
    let int = &issued.chain[0];
    let bc = int.basic_constraints().unwrap().unwrap();
    assert!(bc.ca && bc.path_len_constraint == Some(0));
    let iku = int.key_usage().unwrap().unwrap();
    assert!(iku.key_cert_sign() && iku.crl_sign() && !iku.digital_signature());
    assert_eq!(
        int.extended_key_usage().unwrap().unwrap().1 .0,
        vec![ids::ID_KP_CODE_SIGNING]
    );
    let root = &issued.chain[1];
    assert!(root.is_ca() && root.is_self_issued() && root.extended_key_usage().unwrap().is_none());
    assert!(leaf.not_after() <= int.not_after() && int.not_after() <= root.not_after());

    // If openssl is installed, let it read the certificate too.
    let path = stack.dir.join("leaf.der");
    std::fs::write(&path, leaf.der()).unwrap();
    if let Ok(out) = std::process::Command::new("openssl")
        .args(["x509", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&path)
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "openssl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("X509v3 Key Usage: critical"), "{text}");
        assert!(text.contains("Digital Signature"), "{text}");
        assert!(text.contains("Code Signing"), "{text}");
        assert!(
            text.contains("X509v3 Subject Alternative Name: critical"),
            "{text}"
        );
        assert!(text.contains("email:dev@keyless.test"), "{text}");
        assert!(text.contains("CT Precertificate SCTs"), "{text}");
        assert!(text.contains("1.3.6.1.4.1.57264.1.8"), "{text}");
    }
}

#[tokio::test]
async fn trust_bundle_configuration_and_trusted_root_are_served() {
    let stack = start().await;
    let c = reqwest::Client::new();
    let tb: Value = get_json(&stack, "/api/v2/trustBundle").await;
    assert_eq!(tb["chains"][0]["certificates"].as_array().unwrap().len(), 2);
    let cfg: Value = get_json(&stack, "/api/v2/configuration").await;
    let issuers = cfg["issuers"].as_array().unwrap();
    assert!(issuers
        .iter()
        .any(|i| i["issuerUrl"] == stack.oidc.base_url.as_str()
            && i["challengeClaim"] == "email"
            && i["audience"] == "sigstore"));
    let root = c
        .get(format!("{}/trusted_root.json", stack.ca_url))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    keyless_verify::TrustMaterial::from_json(&root).expect("served root loads");
    let sth: Value = get_json(&stack, "/ct/v1/get-sth").await;
    assert_eq!(sth["tree_size"], 0);
}

/// `get-sth` after N certificates: the RFC 6962 root over exactly the
/// leaves the SCTs commit to (rebuilt from each certificate as a CT
/// monitor would, and hashed by keyless-tlog), signed by the CT key.
#[tokio::test]
async fn get_sth_is_the_rfc6962_root_of_the_issued_leaves() {
    let stack = start().await;
    let token = stack.oidc.mint(&MintOptions::default()).unwrap();
    let mut leaves = Vec::new();
    for n in 1..=7u64 {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let issued =
            parse_issued(post_v2(&stack, &v2_body(&token, &key, "dev@keyless.test"), None).await)
                .await;
        let sct = keyless_x509::embedded_scts(&issued.leaf).unwrap().remove(0);
        let issuer_key_hash = keyless_crypto::sha256(&issued.chain[0].spki_der().unwrap());
        let tbs = keyless_x509::precert_tbs(&issued.leaf).unwrap();
        // MerkleTreeLeaf: v1, timestamped_entry, timestamp, precert_entry,
        // issuer_key_hash, u24 TBS, u16 extensions (the SCT's: the
        // static-ct-api leaf_index, the entry's position).
        let extensions = sct.v1().unwrap().extensions.as_slice().to_vec();
        assert_eq!(extensions, [0, 0, 5, 0, 0, 0, 0, leaves.len() as u8]);
        let mut leaf = vec![0u8, 0u8];
        leaf.extend_from_slice(&sct.timestamp().to_be_bytes());
        leaf.extend_from_slice(&[0, 1]);
        leaf.extend_from_slice(&issuer_key_hash);
        leaf.extend_from_slice(&(tbs.len() as u32).to_be_bytes()[1..]);
        leaf.extend_from_slice(&tbs);
        leaf.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        leaf.extend_from_slice(&extensions);
        leaves.push(keyless_tlog::leaf_hash(&leaf));

        let sth: Value = get_json(&stack, "/ct/v1/get-sth").await;
        assert_eq!(sth["tree_size"], n);
        let root = b64_decode(sth["sha256_root_hash"].as_str().unwrap());
        assert_eq!(
            root,
            keyless_tlog::proof::root_from_leaves(&leaves).to_vec(),
            "root at size {n}"
        );
        // TreeHeadSignature: v1, tree_hash, timestamp, size, root.
        let mut signed = vec![0u8, 1u8];
        signed.extend_from_slice(&sth["timestamp"].as_u64().unwrap().to_be_bytes());
        signed.extend_from_slice(&n.to_be_bytes());
        signed.extend_from_slice(&root);
        let ds = b64_decode(sth["tree_head_signature"].as_str().unwrap());
        assert_eq!(&ds[..2], &[4, 3]);
        let sig = &ds[4..];
        stack
            .ca
            .ct
            .public_key()
            .verify(
                keyless_crypto::SignatureAlgorithm::EcdsaSha256,
                &signed,
                sig,
            )
            .expect("STH signature");
    }
    assert_eq!(stack.ca.ct.size(), 7);
}

fn b64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

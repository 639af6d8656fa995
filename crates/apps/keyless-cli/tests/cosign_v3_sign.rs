//! `keyless sign` in cosign v3's layout (`--registry-referrers-mode oci-1-1`
//! or `--new-bundle-format`): the referrer is a Sigstore bundle whose DSSE
//! envelope holds an in-toto statement of predicate type
//! `https://sigstore.dev/cosign/sign/v1` about the image digest, with the
//! referrer manifest annotations cosign writes, and no `.sig` tag. `keyless
//! verify` accepts it; the same bundle on another image, or with its
//! statement changed, is refused with the bundle verifier's exit codes.
//! The default layout writes that referrer next to the classic layer.

mod support;

use base64::Engine;
use keyless_oci::referrers::{BUNDLE_CONTENT_ANNOTATION, BUNDLE_PREDICATE_TYPE_ANNOTATION};
use keyless_oci::Reference;
use support::*;

const SIGN_V1: &str = "https://sigstore.dev/cosign/sign/v1";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// cosign v3's referrer, attached the way cosign does it.
impl Registry {
    fn attach(&self, image: &str, bundle: &[u8]) {
        self.rt
            .block_on(self.client.attach_dsse_bundle(
                &Reference::parse(image).expect("reference"),
                bundle,
                SIGN_V1,
            ))
            .expect("attach bundle");
    }
}

/// The statement inside a stored DSSE bundle.
fn statement(bundle: &serde_json::Value) -> serde_json::Value {
    let payload = B64
        .decode(
            bundle["dsseEnvelope"]["payload"]
                .as_str()
                .expect("DSSE payload"),
        )
        .expect("base64");
    serde_json::from_slice(&payload).expect("statement JSON")
}

#[test]
fn oci_1_1_mode_writes_cosign_v3s_signature_and_it_verifies() {
    let reg = Registry::start();
    let dir = temp_dir("cosign-v3-sign");
    let stack = DevStack::start(&dir, free_base_port());
    let issuer = stack.url("oidcIssuer");
    let tc = stack.trust_config();
    let k = |args: &[&str]| run(keyless().env("SIGSTORE_TRUST_CONFIG", &tc).args(args));
    let verify = |image: &str| {
        k(&[
            "verify",
            "--allow-insecure-registry",
            "--certificate-identity",
            "carol@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            image,
        ])
    };

    let image = reg.push("v3/app:1.0");
    let bundle_file = dir.join("v3.sigstore.json");
    let token = stack.token("carol@example.com");
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--registry-referrers-mode",
        "oci-1-1",
        "-a",
        "team=blue",
        "--bundle",
        bundle_file.to_str().unwrap(),
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));

    // The layout: one referrer, no .sig tag; the manifest annotated as
    // cosign v3 annotates it.
    let stored = reg.signatures(&image);
    assert!(
        stored.signatures.is_empty(),
        "no .sig layer in oci-1-1 mode"
    );
    assert_eq!(stored.bundles.len(), 1);
    let referrer = &stored.bundles[0];
    assert_eq!(
        referrer.manifest.artifact_type.as_deref(),
        Some("application/vnd.dev.sigstore.bundle.v0.3+json")
    );
    assert_eq!(
        referrer
            .manifest
            .annotations
            .get(BUNDLE_CONTENT_ANNOTATION)
            .map(String::as_str),
        Some("dsse-envelope")
    );
    assert_eq!(
        referrer
            .manifest
            .annotations
            .get(BUNDLE_PREDICATE_TYPE_ANNOTATION)
            .map(String::as_str),
        Some(SIGN_V1)
    );
    // The bundle: a DSSE envelope over the sign/v1 statement about the image.
    let bundle: serde_json::Value = serde_json::from_slice(&referrer.bundle).expect("bundle JSON");
    assert_eq!(
        bundle["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    assert!(bundle.get("messageSignature").is_none(), "{bundle}");
    let st = statement(&bundle);
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(st["predicateType"], SIGN_V1);
    assert_eq!(st["predicate"], serde_json::json!({}));
    assert_eq!(st["subject"][0]["digest"]["sha256"], stored.image.hex());
    assert_eq!(st["subject"][0]["annotations"]["team"], "blue");
    // --bundle wrote the same bundle.
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle_file).expect("--bundle file")).expect("JSON");
    assert_eq!(written, bundle);

    // keyless verify accepts it and prints what cosign v3 prints.
    let o = verify(&image);
    assert!(o.status.success(), "{}", text(&o));
    let payloads: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON payloads");
    assert_eq!(payloads.as_array().map(Vec::len), Some(1), "{payloads}");
    assert_eq!(payloads[0]["critical"]["type"], SIGN_V1);
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        stored.image.to_string()
    );
    assert_eq!(payloads[0]["optional"]["team"], "blue");
    assert!(
        stderr_of(&o).contains("Certificate subject: carol@example.com"),
        "{}",
        text(&o)
    );
    // Another identity: refused with the policy code.
    let o = k(&[
        "verify",
        "--allow-insecure-registry",
        "--certificate-identity",
        "mallory@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        &image,
    ]);
    assert_eq!(o.status.code(), Some(22), "{}", text(&o));

    // The same genuine bundle on another image: its subject names the
    // first image, so it is refused (the artifact exit code).
    let other = reg.push("v3/other:1.0");
    reg.attach(&other, &referrer.bundle);
    let o = verify(&other);
    assert_eq!(o.status.code(), Some(21), "{}", text(&o));

    // The statement rewritten to name another image, signature kept: the
    // envelope no longer verifies (nor matches its log entry).
    let forged_image = reg.push("v3/forged:1.0");
    let forged_digest = reg.signatures(&forged_image).image;
    let mut forged_st = st.clone();
    forged_st["subject"][0]["digest"]["sha256"] = forged_digest.hex().into();
    let mut forged = bundle.clone();
    forged["dsseEnvelope"]["payload"] = B64
        .encode(serde_json::to_vec(&forged_st).expect("JSON"))
        .into();
    reg.attach(&forged_image, &serde_json::to_vec(&forged).expect("JSON"));
    let o = verify(&forged_image);
    assert!(!o.status.success(), "{}", text(&o));
    assert_eq!(o.status.code(), Some(20), "{}", text(&o));

    // --new-bundle-format selects the same layout.
    let image2 = reg.push("v3/nbf:1.0");
    let token = stack.token("carol@example.com");
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--new-bundle-format",
        &image2,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stored = reg.signatures(&image2);
    assert!(stored.signatures.is_empty());
    assert_eq!(stored.bundles.len(), 1);
    assert!(verify(&image2).status.success());

    // The default layout against the Rekor v1 personality (what cosign v2
    // needs: a SET in the classic layer): the .sig layer for cosign v2 and
    // the sign/v1 referrer for cosign v3, one sign-in, and each verifies.
    let image3 = reg.push("v3/both:1.0");
    let trusted_root = dir.join("trusted_root.json");
    let token = stack.token("carol@example.com");
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
        &image3,
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let stored = reg.signatures(&image3);
    assert_eq!(stored.signatures.len(), 1);
    assert!(
        stored.signatures[0].rekor_bundle().is_some(),
        "the v1 SET annotation"
    );
    assert_eq!(stored.bundles.len(), 1);
    let both: serde_json::Value =
        serde_json::from_slice(&stored.bundles[0].bundle).expect("bundle JSON");
    assert_eq!(statement(&both)["predicateType"], SIGN_V1);
    // One certificate signed both (one sign-in, one --output-certificate).
    let leaf = B64
        .decode(
            both["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .expect("bundle certificate"),
        )
        .expect("base64");
    let layer_leaf = stored.signatures[0]
        .certificate_pem()
        .expect("certificate annotation");
    let layer_leaf: String = layer_leaf
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert_eq!(B64.decode(layer_leaf).expect("PEM base64"), leaf);
    let o = verify(&image3);
    assert!(o.status.success(), "{}", text(&o));
    let payloads: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON payloads");
    let types: Vec<&str> = payloads
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["critical"]["type"].as_str())
        .collect();
    assert_eq!(
        types.len(),
        2,
        "both layouts verify on their own: {payloads}"
    );
    assert!(types.contains(&SIGN_V1), "{payloads}");
    assert!(
        types.contains(&"cosign container image signature"),
        "{payloads}"
    );
    stack.stop();
}

fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

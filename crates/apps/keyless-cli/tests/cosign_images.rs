//! Images signed the way cosign signs them, in a real registry (Debian's
//! docker-registry on loopback): cosign v2's classic `.sig` layer with a
//! Rekor v1 SET, `.att` attestations, cosign v3's bundle referrer, and the
//! tampered variants, each refused with the exit code the same fault in a
//! bundle gets. Then `tree`, `download` and `triangulate` on them.
//!
//! The signatures come from keyless-testkit's minted instance (CA with CT
//! log, Rekor v1 log key), so the trusted root is written here and passed
//! with `--trusted-root`.

mod support;

use keyless_crypto::KeyAlgorithm;
use keyless_oci::{ClientOptions, Digest, Reference, RegistryClient, SignatureLayer};
use keyless_testkit::cosign_images as ci;
use keyless_testkit::minted::{Instance, EMAIL, ISSUER};
use keyless_testkit::registry::{push_test_image, TestRegistry};
use serde_json::json;
use support::*;

struct World {
    rt: tokio::runtime::Runtime,
    registry: TestRegistry,
    client: RegistryClient,
    instance: Instance,
    dir: std::path::PathBuf,
    root: std::path::PathBuf,
}

impl World {
    fn new(name: &str) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let registry = rt
            .block_on(TestRegistry::start())
            .expect("start docker-registry (scripts/ci/install-registry.sh installs it)");
        let client =
            RegistryClient::new(ClientOptions::new().danger_allow_insecure_registry(true)).unwrap();
        let instance = Instance::new();
        let dir = temp_dir(name);
        let root = dir.join("trusted_root.json");
        std::fs::write(&root, &instance.trusted_root_json).unwrap();
        Self {
            rt,
            registry,
            client,
            instance,
            dir,
            root,
        }
    }

    /// Push a fresh image `name:1` and return its reference and digest.
    fn image(&self, name: &str) -> (String, Reference, Digest) {
        let image = format!("{}/cosign/{name}:1", self.registry.host());
        let reference = Reference::parse(&image).unwrap();
        let pushed = self
            .rt
            .block_on(push_test_image(&self.client, &reference, name))
            .unwrap();
        (image, reference, pushed.digest)
    }

    fn sign(&self, reference: &Reference, layer: SignatureLayer) {
        self.rt
            .block_on(self.client.attach_signature(reference, layer))
            .unwrap();
    }

    fn attest(&self, reference: &Reference, layer: SignatureLayer) {
        self.rt
            .block_on(self.client.attach_attestation(reference, layer))
            .unwrap();
    }

    fn keyless(&self, args: &[&str]) -> std::process::Output {
        run(keyless().args(args))
    }

    fn verify(&self, command: &str, image: &str, extra: &[&str]) -> std::process::Output {
        let root = self.root.to_str().unwrap();
        let mut args = vec![
            command,
            "--allow-insecure-registry",
            "--trusted-root",
            root,
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            ISSUER,
        ];
        args.extend_from_slice(extra);
        args.push(image);
        self.keyless(&args)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn assert_refused(o: &std::process::Output, code: i32, says: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", text(o));
    assert!(text(o).contains(says), "expected {says:?} in: {}", text(o));
}

#[test]
fn images_signed_by_cosign_verify_and_tampered_ones_are_refused() {
    let w = World::new("cosign-images");
    let alice = w.instance.signer(KeyAlgorithm::EcdsaP256);

    // cosign v2: classic .sig layer with a Rekor v1 SET, and an .att layer.
    let (image, reference, digest) = w.image("classic");
    let payload = ci::payload(reference.repository(), &digest);
    w.sign(
        &reference,
        ci::classic_signature(&w.instance, &alice, &payload),
    );
    let o = w.verify("verify", &image, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let payloads: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest.to_string()
    );
    assert!(text(&o).contains("The following checks were performed"));
    let o = w.keyless(&[
        "verify",
        "--allow-insecure-registry",
        "--trusted-root",
        w.root.to_str().unwrap(),
        "--certificate-identity",
        "mallory@example.com",
        "--certificate-oidc-issuer",
        ISSUER,
        &image,
    ]);
    assert_refused(&o, 22, "none of the expected identities matched");

    let provenance = ci::statement(
        &digest,
        "https://slsa.dev/provenance/v1",
        json!({"buildDefinition": {"buildType": "https://example.com/build"}}),
    );
    w.attest(
        &reference,
        ci::classic_attestation(&w.instance, &alice, &provenance),
    );
    let o = w.verify("verify-attestation", &image, &["--type", "slsaprovenance1"]);
    assert!(o.status.success(), "{}", text(&o));
    let statements: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        statements[0]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    let o = w.verify("verify-attestation", &image, &["--type", "spdx"]);
    assert_refused(&o, 1, "is not https://spdx.dev/Document");

    // An .att layer logged as Rekor's `dsse 0.0.1` (newer cosign) verifies
    // too; one whose statement is about another image is refused.
    let (att_image, att_ref, att_digest) = w.image("att-dsse");
    let st = ci::statement(&att_digest, "https://slsa.dev/provenance/v1", json!({}));
    let dsse = keyless_testkit::minted::Dsse::sign(&alice, &st);
    let entry = w.instance.v1_entry(
        "dsse",
        "0.0.1",
        &dsse.dsse_v001_body(&alice),
        alice.issued_at,
        false,
    );
    let layer = SignatureLayer::attestation(
        serde_json::to_vec(&dsse.envelope_json()).unwrap(),
        "https://slsa.dev/provenance/v1",
    )
    .with_certificate(&ci::cert_pem(&alice.cert_der), &ci::chain_pem(&w.instance))
    .with_rekor_bundle(&ci::rekor_bundle_annotation(&entry));
    w.attest(&att_ref, layer);
    let o = w.verify("verify-attestation", &att_image, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let (att_image, att_ref, _) = w.image("att-other-image");
    w.attest(
        &att_ref,
        ci::classic_attestation(&w.instance, &alice, &provenance),
    );
    let o = w.verify("verify-attestation", &att_image, &[]);
    assert_refused(&o, 21, "is not among the in-toto statement's subjects");

    // cosign v3: the bundle referrer with the cosign/sign/v1 statement is a
    // signature, not an attestation.
    let (v3_image, v3_ref, v3_digest) = w.image("v3");
    let bundle = ci::cosign_v3_signature(&w.instance, &alice, &v3_digest);
    w.rt.block_on(w.client.attach_bundle(&v3_ref, &bundle))
        .unwrap();
    let o = w.verify("verify", &v3_image, &[]);
    assert!(o.status.success(), "{}", text(&o));
    // Printed as cosign v3 prints it: the simple-signing shape of type
    // cosign/sign/v1, naming the image.
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        out[0]["critical"]["type"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert_eq!(
        out[0]["critical"]["image"]["docker-manifest-digest"],
        v3_digest.to_string()
    );
    let o = w.verify("verify-attestation", &v3_image, &[]);
    assert_refused(&o, 23, "Error: no attestations found for image");

    // A cosign v3 bundle about another image, attached to this one.
    let (other_image, other_ref, _) = w.image("v3-other");
    w.rt.block_on(w.client.attach_bundle(&other_ref, &bundle))
        .unwrap();
    let o = w.verify("verify", &other_image, &[]);
    assert_refused(&o, 21, "is not among the in-toto statement's subjects");

    // The SET was made for another body (this layer's body is its own).
    let (img, r, d) = w.image("set-other-body");
    let good = ci::classic_signature(&w.instance, &alice, &ci::payload(r.repository(), &d));
    let other = ci::classic_signature(&w.instance, &alice, b"another payload");
    let mut rb: serde_json::Value = serde_json::from_str(
        good.descriptor().annotations[keyless_oci::cosign::BUNDLE_ANNOTATION].as_str(),
    )
    .unwrap();
    let other_rb: serde_json::Value = serde_json::from_str(
        &other.descriptor().annotations[keyless_oci::cosign::BUNDLE_ANNOTATION],
    )
    .unwrap();
    rb["SignedEntryTimestamp"] = other_rb["SignedEntryTimestamp"].clone();
    w.sign(&r, good.clone().with_rekor_bundle(&rb.to_string()));
    let o = w.verify("verify", &img, &[]);
    assert_refused(
        &o,
        17,
        "signed entry timestamp does not verify with the key of",
    );

    // A genuine SET and body, but for another signature.
    let (img, r, d) = w.image("set-other-entry");
    let good = ci::classic_signature(&w.instance, &alice, &ci::payload(r.repository(), &d));
    let other_annotation =
        other.descriptor().annotations[keyless_oci::cosign::BUNDLE_ANNOTATION].clone();
    w.sign(&r, good.with_rekor_bundle(&other_annotation));
    let o = w.verify("verify", &img, &[]);
    assert_refused(&o, 14, "Error: no matching signatures: transparency log entry 0: the log entry does not match this bundle: signature differs");

    // The certificate is for another key.
    let (img, r, d) = w.image("cert-other-key");
    let good = ci::classic_signature(&w.instance, &alice, &ci::payload(r.repository(), &d));
    let bob = w.instance.signer(KeyAlgorithm::EcdsaP256);
    w.sign(
        &r,
        good.with_certificate(&ci::cert_pem(&bob.cert_der), &ci::chain_pem(&w.instance)),
    );
    let o = w.verify("verify", &img, &[]);
    assert_refused(
        &o,
        20,
        "the signature does not verify over the artifact with the signing key",
    );

    // A properly signed and logged payload that names another image.
    let (img, r, _) = w.image("payload-other-digest");
    let elsewhere = ci::payload(r.repository(), &Digest::of(b"another manifest"));
    w.sign(&r, ci::classic_signature(&w.instance, &alice, &elsewhere));
    let o = w.verify("verify", &img, &[]);
    assert_refused(&o, 21, "signature is for sha256:");

    // A bundle annotation that is not cosign's JSON: a malformed bundle.
    let (img, r, d) = w.image("bundle-annotation-garbage");
    let good = ci::classic_signature(&w.instance, &alice, &ci::payload(r.repository(), &d));
    w.sign(&r, good.with_rekor_bundle("{\"SignedEntryTimestamp\": 1}"));
    let o = w.verify("verify", &img, &[]);
    assert_refused(&o, 10, "dev.sigstore.cosign/bundle is not a Rekor bundle");

    // No bundle annotation: refused as a bundle without log entries is,
    // unless --insecure-ignore-tlog; a certificate then still needs a
    // verified time (none here), so it stays refused.
    let (img, r, d) = w.image("no-tlog");
    let p = ci::payload(r.repository(), &d);
    let good = ci::classic_signature(&w.instance, &alice, &p);
    let mut stripped = good.descriptor();
    stripped
        .annotations
        .remove(keyless_oci::cosign::BUNDLE_ANNOTATION);
    let layer = SignatureLayer::signature(
        p.clone(),
        &stripped.annotations[keyless_oci::cosign::SIGNATURE_ANNOTATION],
    )
    .with_certificate(
        &stripped.annotations[keyless_oci::cosign::CERTIFICATE_ANNOTATION],
        &stripped.annotations[keyless_oci::cosign::CHAIN_ANNOTATION],
    );
    w.sign(&r, layer);
    let o = w.verify("verify", &img, &[]);
    assert_refused(&o, 14, "no transparency log entries");
    let o = w.verify("verify", &img, &["--insecure-ignore-tlog"]);
    assert_refused(&o, 19, "no verified time");

    // A key-signed layer without a log entry (cosign sign --key
    // --tlog-upload=false): accepted with --insecure-ignore-tlog only.
    let (img, r, d) = w.image("key-no-tlog");
    let key = keyless_crypto::SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let pub_path = w.dir.join("cosign.pub");
    std::fs::write(&pub_path, key.public_key().to_pem()).unwrap();
    w.sign(
        &r,
        ci::key_signature(&key, &ci::payload(r.repository(), &d)),
    );
    let pk = pub_path.to_str().unwrap();
    let root = w.root.to_str().unwrap();
    let key_verify = |img: &str, extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--allow-insecure-registry",
            "--trusted-root",
            root,
            "--key",
            pk,
        ];
        args.extend_from_slice(extra);
        args.push(img);
        w.keyless(&args)
    };
    let o = key_verify(&img, &[]);
    assert_refused(&o, 14, "no transparency log entries");
    let o = key_verify(&img, &["--insecure-ignore-tlog"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("Warning: layer sha256:")
            && text(&o).contains("has no transparency log entry"),
        "{}",
        text(&o)
    );

    // cosign sign --key with the log: the entry names the public key, and
    // its SET verifies with no flag; an entry naming another key does not.
    let keyed = |r: &Reference, d: &Digest, logged_key: &keyless_crypto::SigningKey| {
        let p = ci::payload(r.repository(), d);
        let layer = ci::key_signature(&key, &p);
        let sig = layer.descriptor().annotations[keyless_oci::cosign::SIGNATURE_ANNOTATION].clone();
        let sig = keyless_types::b64::decode(&sig).unwrap();
        let body = ci::hashedrekord_body(&logged_key.public_key().to_pem(), &sig, &p);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let entry = w
            .instance
            .v1_entry("hashedrekord", "0.0.1", &body, now, false);
        layer.with_rekor_bundle(&ci::rekor_bundle_annotation(&entry))
    };
    let (img, r, d) = w.image("key-tlog");
    w.sign(&r, keyed(&r, &d, &key));
    let o = key_verify(&img, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let (img, r, d) = w.image("key-tlog-other-key");
    let other = keyless_crypto::SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    w.sign(&r, keyed(&r, &d, &other));
    let o = key_verify(&img, &[]);
    assert_refused(&o, 14, "the log entry does not match this bundle");
}

/// Push an SBOM under cosign's `.sbom` tag, as `cosign attach sbom` does.
fn attach_sbom(w: &World, reference: &Reference, digest: &Digest) -> Digest {
    use keyless_oci::manifest::{ImageManifest, OCI_CONFIG, OCI_MANIFEST};
    use keyless_oci::Descriptor;
    let repo = reference.repository();
    let sbom = br#"{"spdxVersion":"SPDX-2.3"}"#;
    let config = b"{}";
    w.rt.block_on(async {
        w.client.push_blob(repo, sbom).await.unwrap();
        w.client.push_blob(repo, config).await.unwrap();
        let manifest = ImageManifest::new(
            Descriptor::for_content(OCI_CONFIG, config),
            vec![Descriptor::for_content("text/spdx+json", sbom)],
        );
        let bytes = serde_json::to_vec(&manifest).unwrap();
        w.client
            .put_manifest(
                repo,
                &keyless_oci::cosign::sbom_tag(digest),
                OCI_MANIFEST,
                bytes,
                None,
            )
            .await
            .unwrap();
    });
    Digest::of(sbom)
}

#[test]
fn tree_download_and_triangulate_show_what_cosign_shows() {
    let w = World::new("cosign-tree");
    let alice = w.instance.signer(KeyAlgorithm::EcdsaP256);
    let (image, reference, digest) = w.image("attached");
    let repo = reference.repository().to_string();
    let insecure = "--allow-insecure-registry";

    let o = w.keyless(&["tree", insecure, &image]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.starts_with(&format!(
            "📦 Supply Chain Security Related artifacts for an image: {image}\n"
        )) && out.contains("No Supply Chain Security Related Artifacts found for image"),
        "{out}"
    );

    let payload = ci::payload(reference.repository(), &digest);
    let sig = ci::classic_signature(&w.instance, &alice, &payload);
    let sig_layer = sig.descriptor();
    w.sign(&reference, sig);
    let st = ci::statement(&digest, "https://slsa.dev/provenance/v1", json!({}));
    let att = ci::classic_attestation(&w.instance, &alice, &st);
    let att_layer = att.descriptor();
    w.attest(&reference, att);
    let sbom = attach_sbom(&w, &reference, &digest);

    // download signature: cosign's SignedPayload fields for the classic layer.
    let o = w.keyless(&["download", "signature", insecure, &image]);
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let l = &lines[0];
    assert_eq!(
        l["Base64Signature"],
        sig_layer.annotations[keyless_oci::cosign::SIGNATURE_ANNOTATION]
    );
    assert_eq!(l["Payload"], keyless_testkit::minted::b64(&payload));
    assert_eq!(
        l["Cert"]["Raw"],
        keyless_testkit::minted::b64(&alice.cert_der)
    );
    assert_eq!(l["Chain"].as_array().map(Vec::len), Some(2), "{l}");
    assert!(l["Bundle"]["SignedEntryTimestamp"].is_string(), "{l}");
    assert_eq!(l["Bundle"]["Payload"]["logIndex"], 0);
    assert!(l["RFC3161Timestamp"].is_null());

    // download attestation: the DSSE envelopes, filtered by predicate type.
    let o = w.keyless(&["download", "attestation", insecure, &image]);
    assert!(o.status.success(), "{}", text(&o));
    let env: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    let o = w.keyless(&[
        "download",
        "attestation",
        insecure,
        "--predicate-type",
        "slsaprovenance1",
        &image,
    ]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        1,
        "{}",
        text(&o)
    );
    let o = w.keyless(&[
        "download",
        "attestation",
        insecure,
        "--predicate-type",
        "spdx",
        &image,
    ]);
    assert!(o.status.success() && o.stdout.is_empty(), "{}", text(&o));

    // cosign v3 bundle: download signature prints the bundles instead.
    let bundle = ci::cosign_v3_signature(&w.instance, &alice, &digest);
    w.rt.block_on(w.client.attach_bundle(&reference, &bundle))
        .unwrap();
    let o = w.keyless(&["download", "signature", insecure, &image]);
    let b: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one bundle line");
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );

    // tree: cosign's lines, tags then referrers.
    let o = w.keyless(&["tree", insecure, &image]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let hex = digest.hex();
    for line in [
        format!("└── 💾 Attestations for an image tag: {repo}:sha256-{hex}.att\n   └── 🍒 {}\n", att_layer.digest),
        format!("└── 🔐 Signatures for an image tag: {repo}:sha256-{hex}.sig\n   └── 🍒 {}\n", sig_layer.digest),
        format!("└── 📦 SBOMs for an image tag: {repo}:sha256-{hex}.sbom\n   └── 🍒 {sbom}\n"),
        format!("└── 🔗 application/vnd.dev.sigstore.bundle.v0.3+json artifacts via OCI referrer: {repo}@sha256:"),
        format!("   └── 🍒 {}\n", Digest::of(&bundle)),
    ] {
        assert!(out.contains(&line), "missing {line:?} in:\n{out}");
    }
    let o = w.keyless(&["tree", insecure, "--max-fetch-bytes", "100", &image]);
    assert_refused(
        &o,
        1,
        "over the limit of 100 bytes fetched per verification",
    );

    // triangulate.
    for (kind, expected) in [
        (None, format!("{repo}:sha256-{hex}.sig")),
        (Some("signature"), format!("{repo}:sha256-{hex}.sig")),
        (Some("attestation"), format!("{repo}:sha256-{hex}.att")),
        (Some("sbom"), format!("{repo}:sha256-{hex}.sbom")),
        (Some("digest"), format!("{repo}@{digest}")),
    ] {
        let mut args = vec!["triangulate", insecure];
        if let Some(k) = kind {
            args.extend(["--type", k]);
        }
        args.push(&image);
        let o = w.keyless(&args);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout), format!("{expected}\n"));
    }
    let o = w.keyless(&["triangulate", "--type", "bogus", &image]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn new_commands_document_their_flags() {
    for (args, flags) in [
        (
            &["tree", "--help"][..],
            &[
                "--allow-insecure-registry",
                "--max-fetch-bytes <BYTES>",
                "--max-signatures <N>",
                "--max-referrers <N>",
            ][..],
        ),
        (
            &["download", "signature", "--help"][..],
            &["--allow-insecure-registry", "--max-fetch-bytes <BYTES>"][..],
        ),
        (
            &["download", "attestation", "--help"][..],
            &["--predicate-type <TYPE>", "--max-fetch-bytes <BYTES>"][..],
        ),
        (
            &["triangulate", "--help"][..],
            &[
                "--type <KIND>",
                "signature",
                "attestation",
                "sbom",
                "digest",
            ][..],
        ),
        (&["verify", "--help"][..], &["--insecure-ignore-tlog"][..]),
        (
            &["verify-attestation", "--help"][..],
            &["--insecure-ignore-tlog"][..],
        ),
    ] {
        let o = run(keyless().args(args));
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        for flag in flags {
            assert!(
                text(&o).contains(flag),
                "{args:?} --help lacks {flag}: {}",
                text(&o)
            );
        }
    }
}

#[test]
fn rfc3161_timestamp_annotation_is_checked_like_a_bundle_timestamp() {
    use keyless_testkit::tsa_pki::{token, TsaPki, NOT_BEFORE};
    let w = World::new("cosign-tsa");
    let pki = TsaPki::new();
    let b64 = keyless_testkit::minted::b64;
    let mut root: serde_json::Value = serde_json::from_str(&w.instance.trusted_root_json).unwrap();
    root["timestampAuthorities"] = json!([{
        "subject": {"organization": "keyless", "commonName": "test tsa root"},
        "uri": "https://tsa.test.example",
        "certChain": {"certificates": pki.chain_of(&pki.leaf_a).iter().map(|c| json!({"rawBytes": b64(c.der())})).collect::<Vec<_>>()},
        "validFor": {"start": keyless_types::time::format_rfc3339(NOT_BEFORE as i64)},
    }]);
    let root_file = w.dir.join("trusted_root_tsa.json");
    std::fs::write(&root_file, root.to_string()).unwrap();
    let alice = w.instance.signer(KeyAlgorithm::EcdsaP256);
    let verify = |image: &str, extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--allow-insecure-registry",
            "--trusted-root",
            root_file.to_str().unwrap(),
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            ISSUER,
        ];
        args.extend_from_slice(extra);
        args.push(image);
        run(keyless().args(&args))
    };
    // A layer with a timestamp and no log entry, as cosign sign
    // --timestamp-server-url --tlog-upload=false writes it; the token is
    // over the signature, or (tampered) over something else.
    let layer_for = |r: &Reference, d: &Digest, honest: bool| {
        let payload = ci::payload(r.repository(), d);
        let signature = alice.key.sign(&payload).unwrap();
        let stamped = if honest {
            signature.clone()
        } else {
            b"another signature".to_vec()
        };
        let tsr = token(&pki.leaf_a, &stamped, alice.issued_at as u64, true);
        SignatureLayer::signature(payload, &b64(&signature))
            .with_certificate(&ci::cert_pem(&alice.cert_der), &ci::chain_pem(&w.instance))
            .with_rfc3161_timestamp(&json!({"SignedRFC3161Timestamp": b64(&tsr)}).to_string())
    };
    let (img, r, d) = w.image("tsa");
    w.sign(&r, layer_for(&r, &d, true));
    let o = verify(&img, &[]);
    assert_refused(&o, 14, "no transparency log entries");
    let o = verify(&img, &["--insecure-ignore-tlog"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("has no transparency log entry"),
        "{}",
        text(&o)
    );

    let (img, r, d) = w.image("tsa-other-signature");
    w.sign(&r, layer_for(&r, &d, false));
    let o = verify(&img, &["--insecure-ignore-tlog"]);
    assert_refused(
        &o,
        18,
        "Error: no matching signatures: RFC 3161 timestamp 0 is invalid",
    );
}

//! Integration tests against a real registry (distribution 2.8, Debian's
//! `docker-registry`), started per test on a free loopback port.
//! Without the binary these tests fail, saying how to install it.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use keyless_oci::cosign::{
    self, SignatureLayer, SimpleSigning, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION,
    CHAIN_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION, SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING_MEDIA_TYPE,
};
use keyless_oci::manifest::{ImageIndex, ImageManifest, OCI_CONFIG, OCI_INDEX};
use keyless_oci::referrers::SIGSTORE_BUNDLE_V03_MEDIA_TYPE;
use keyless_oci::{
    AuthError, ClientOptions, ContentError, CredentialSource, Credentials, Digest, DockerConfig,
    Error, Reference, ReferrersSource, RegistryClient,
};
use keyless_testkit::registry::{push_test_image, TestRegistry, TestRegistryConfig};

type Result<T = ()> = anyhow::Result<T>;

fn insecure_client() -> RegistryClient {
    RegistryClient::new(ClientOptions::new().danger_allow_insecure_registry(true)).expect("client")
}

fn signature_for(image: &Reference, digest: &Digest, n: usize) -> SignatureLayer {
    let payload = SimpleSigning::new(image.repository(), digest)
        .with_claim("signer", serde_json::Value::from(n))
        .to_json();
    let sig = base64::engine::general_purpose::STANDARD.encode(format!("signature-{n}"));
    SignatureLayer::signature(payload, &sig)
}

#[tokio::test]
async fn sign_then_read_back() -> Result {
    let registry = TestRegistry::start().await?;
    let client = insecure_client();
    let image = registry.reference("app:v1")?;
    let pushed = push_test_image(&client, &image, "one").await?;
    assert_eq!(client.resolve_digest(&image).await?, pushed.digest);

    let payload = SimpleSigning::new(image.repository(), &pushed.digest).to_json();
    let layer = SignatureLayer::signature(payload.clone(), "c2lnbmF0dXJl")
        .with_certificate(
            "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n",
            "CHAIN PEM",
        )
        .with_rekor_bundle(r#"{"SignedEntryTimestamp":"MEU=","Payload":{"logIndex":1}}"#)
        .with_rfc3161_timestamp(r#"{"SignedRFC3161Timestamp":"AAAA"}"#);
    let attached = client.attach_signature(&image, layer).await?;
    assert!(attached.added);
    assert_eq!(attached.image, pushed.digest);
    assert_eq!(
        attached.tag.tag(),
        Some(cosign::signature_tag(&pushed.digest).as_str())
    );

    // The stored manifest has cosign's shape.
    let raw = client
        .fetch_manifest(image.repository(), &cosign::signature_tag(&pushed.digest))
        .await?
        .expect("sig manifest");
    let manifest: ImageManifest = serde_json::from_slice(&raw.bytes)?;
    assert_eq!(manifest.config.media_type, OCI_CONFIG);
    assert_eq!(manifest.layers.len(), 1);
    assert_eq!(manifest.layers[0].media_type, SIMPLE_SIGNING_MEDIA_TYPE);

    let sigs = client.signatures(&image).await?;
    assert_eq!(sigs.len(), 1);
    let sig = &sigs[0];
    assert_eq!(sig.payload, payload);
    assert_eq!(sig.base64_signature(), Some("c2lnbmF0dXJl"));
    assert!(sig.certificate_pem().is_some_and(|c| c.contains("LEAF")));
    assert_eq!(sig.chain_pem(), Some("CHAIN PEM"));
    assert!(sig
        .rekor_bundle()
        .is_some_and(|b| b.contains("SignedEntryTimestamp")));
    assert!(sig.rfc3161_timestamp().is_some());
    for key in [
        SIGNATURE_ANNOTATION,
        CERTIFICATE_ANNOTATION,
        CHAIN_ANNOTATION,
        BUNDLE_ANNOTATION,
        RFC3161_TIMESTAMP_ANNOTATION,
    ] {
        assert!(sig.annotations().contains_key(key), "missing {key}");
    }
    let parsed = SimpleSigning::from_json(&sig.payload)?;
    assert_eq!(parsed.critical.image.docker_manifest_digest, pushed.digest);
    assert_eq!(
        parsed.critical.identity.docker_reference,
        format!("{}/app", registry.host())
    );

    // Re-attaching the identical signature is a no-op.
    let payload_again = SimpleSigning::new(image.repository(), &pushed.digest).to_json();
    let again = SignatureLayer::signature(payload_again, "c2lnbmF0dXJl")
        .with_certificate(
            "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n",
            "CHAIN PEM",
        )
        .with_rekor_bundle(r#"{"SignedEntryTimestamp":"MEU=","Payload":{"logIndex":1}}"#)
        .with_rfc3161_timestamp(r#"{"SignedRFC3161Timestamp":"AAAA"}"#);
    let second = client.attach_signature(&image, again).await?;
    assert!(!second.added);
    assert_eq!(client.signatures(&image).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn appending_keeps_earlier_signatures() -> Result {
    let registry = TestRegistry::start().await?;
    let client = insecure_client();
    let image = registry.reference("app:v1")?;
    let pushed = push_test_image(&client, &image, "append").await?;

    client
        .attach_signature(&image, signature_for(&image, &pushed.digest, 1))
        .await?;
    // Sign by digest the second time: the same .sig tag.
    let by_digest = image.with_digest(pushed.digest.clone());
    client
        .attach_signature(&by_digest, signature_for(&image, &pushed.digest, 2))
        .await?;

    let sigs = client.signatures(&image).await?;
    let names: Vec<_> = sigs.iter().filter_map(|s| s.base64_signature()).collect();
    let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(format!("signature-{n}"));
    assert_eq!(
        names,
        vec![b64(1).as_str(), b64(2).as_str()],
        "first signature kept, order preserved"
    );

    // The config lists both layers, as cosign's does.
    let raw = client
        .fetch_manifest(image.repository(), &cosign::signature_tag(&pushed.digest))
        .await?
        .expect("manifest");
    let manifest: ImageManifest = serde_json::from_slice(&raw.bytes)?;
    let config = client
        .fetch_blob_default(image.repository(), &manifest.config.digest)
        .await?;
    let config: serde_json::Value = serde_json::from_slice(&config)?;
    assert_eq!(
        config["rootfs"]["diff_ids"].as_array().map(Vec::len),
        Some(2)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appenders_all_survive() -> Result {
    const SIGNERS: usize = 6;
    let registry = TestRegistry::start().await?;
    let client = Arc::new(insecure_client());
    let image = registry.reference("busy:v1")?;
    let pushed = push_test_image(&client, &image, "concurrent").await?;

    let mut tasks = Vec::new();
    for n in 0..SIGNERS {
        // Separate clients too: separate caches, like separate CI jobs.
        let client = if n % 2 == 0 {
            client.clone()
        } else {
            Arc::new(insecure_client())
        };
        let image = image.clone();
        let layer = signature_for(&image, &pushed.digest, n);
        tasks.push(tokio::spawn(async move {
            client.attach_signature(&image, layer).await
        }));
    }
    for task in tasks {
        let attached = task.await??;
        assert!(attached.added);
    }
    let sigs = client.signatures(&image).await?;
    let mut found: Vec<String> = sigs
        .iter()
        .filter_map(|s| s.base64_signature().map(str::to_owned))
        .collect();
    found.sort();
    let mut expected: Vec<String> = (0..SIGNERS)
        .map(|n| base64::engine::general_purpose::STANDARD.encode(format!("signature-{n}")))
        .collect();
    expected.sort();
    assert_eq!(found, expected, "every concurrent signature must survive");
    Ok(())
}

#[tokio::test]
async fn attestations_use_the_att_tag() -> Result {
    let registry = TestRegistry::start().await?;
    let client = insecure_client();
    let image = registry.reference("app:v1")?;
    let pushed = push_test_image(&client, &image, "att").await?;
    let envelope = br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AAAA"}]}"#;
    let predicate = "https://slsa.dev/provenance/v1";
    client
        .attach_attestation(
            &image,
            SignatureLayer::attestation(envelope.to_vec(), predicate),
        )
        .await?;

    assert!(client
        .fetch_manifest(image.repository(), &cosign::attestation_tag(&pushed.digest))
        .await?
        .is_some());
    let atts = client.attestations(&image).await?;
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].media_type(), cosign::DSSE_ENVELOPE_MEDIA_TYPE);
    assert_eq!(atts[0].predicate_type(), Some(predicate));
    assert_eq!(atts[0].payload, envelope);
    // Attestations do not show up as signatures.
    assert!(client.signatures(&image).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn bundle_referrers_fall_back_to_the_tag_schema() -> Result {
    let registry = TestRegistry::start().await?;
    let client = insecure_client();
    let image = registry.reference("app:v1")?;
    let pushed = push_test_image(&client, &image, "referrers").await?;

    let bundle1 = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","n":1}"#;
    let bundle2 = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","n":2}"#;
    let first = client.attach_bundle(&image, bundle1).await?;
    assert!(
        first.used_tag_schema,
        "distribution 2.8 has no referrers API"
    );
    assert_eq!(first.subject.digest, pushed.digest);
    client.attach_bundle(&image, bundle2).await?;
    // Pushing the same bundle again does not duplicate the index entry.
    client.attach_bundle(&image, bundle1).await?;
    // A referrer of another artifact type is filtered out of bundle listings.
    client
        .attach_artifact(
            &image,
            "application/vnd.example.sbom",
            b"sbom",
            BTreeMap::new(),
        )
        .await?;

    let listed = client
        .referrers(
            image.repository(),
            &pushed.digest,
            Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE),
        )
        .await?;
    assert_eq!(listed.source, ReferrersSource::TagSchema);
    assert_eq!(listed.manifests.len(), 2);
    let all = client
        .referrers(image.repository(), &pushed.digest, None)
        .await?;
    assert_eq!(all.manifests.len(), 3);

    // The fallback tag holds an OCI index.
    let raw = client
        .fetch_manifest(image.repository(), &pushed.digest.tag_form())
        .await?
        .expect("fallback index");
    assert_eq!(raw.media_type, OCI_INDEX);
    let index: ImageIndex = serde_json::from_slice(&raw.bytes)?;
    assert_eq!(index.manifests.len(), 3);

    // The artifact manifest has subject and artifactType.
    let artifact = client
        .fetch_manifest(image.repository(), &first.descriptor.digest.to_string())
        .await?
        .expect("artifact");
    let artifact: ImageManifest = serde_json::from_slice(&artifact.bytes)?;
    assert_eq!(
        artifact.artifact_type.as_deref(),
        Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE)
    );
    assert_eq!(
        artifact.subject.as_ref().map(|s| &s.digest),
        Some(&pushed.digest)
    );

    let bundles = client.bundles(&image).await?;
    let mut contents: Vec<&[u8]> = bundles.iter().map(|b| b.bundle.as_slice()).collect();
    contents.sort();
    assert_eq!(contents, vec![&bundle1[..], &bundle2[..]]);

    // list_signatures gathers everything.
    client
        .attach_signature(&image, signature_for(&image, &pushed.digest, 7))
        .await?;
    let everything = client.list_signatures(&image).await?;
    assert_eq!(everything.image, pushed.digest);
    assert_eq!(everything.signatures.len(), 1);
    assert_eq!(everything.bundles.len(), 2);
    assert!(everything.attestations.is_empty());
    Ok(())
}

fn htpasswd(user: &str, password: &str) -> Result<String> {
    let hash = bcrypt::hash_with_result(password, 4)?.format_for_version(bcrypt::Version::TwoY);
    Ok(format!("{user}:{hash}\n"))
}

#[tokio::test]
async fn basic_auth_with_docker_config() -> Result {
    let registry = TestRegistry::start_with(TestRegistryConfig {
        htpasswd: Some(htpasswd("alice", "wonderland")?),
    })
    .await?;
    let image = registry.reference("private/app:v1")?;

    // Credentials from a DOCKER_CONFIG directory.
    let dir = tempfile::tempdir()?;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:wonderland");
    std::fs::write(
        dir.path().join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            registry.host()
        ),
    )?;
    let docker_config_dir = dir.path().as_os_str().to_owned();
    let config =
        DockerConfig::discover(|k| (k == "DOCKER_CONFIG").then(|| docker_config_dir.clone()))?;
    let client = RegistryClient::new(
        ClientOptions::new()
            .danger_allow_insecure_registry(true)
            .credentials(CredentialSource::DockerConfig(config)),
    )?;
    let pushed = push_test_image(&client, &image, "auth").await?;
    client
        .attach_signature(&image, signature_for(&image, &pushed.digest, 1))
        .await?;
    assert_eq!(client.signatures(&image).await?.len(), 1);

    // Anonymous: rejected, saying there were no credentials.
    let anonymous = insecure_client();
    let err = anonymous
        .resolve(&image)
        .await
        .expect_err("anonymous must fail");
    assert!(
        matches!(err, Error::Auth(AuthError::Rejected { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("credentials"), "{err}");

    // Wrong password: rejected, saying to check it.
    let wrong = RegistryClient::new(
        ClientOptions::new()
            .danger_allow_insecure_registry(true)
            .credentials(CredentialSource::Static(Credentials::new("alice", "nope"))),
    )?;
    let err = wrong
        .signatures(&image)
        .await
        .expect_err("wrong password must fail");
    assert!(
        matches!(err, Error::Auth(AuthError::Rejected { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains("check the username and password"),
        "{err}"
    );

    // Right static credentials read what the Docker-config client wrote.
    let right = RegistryClient::new(
        ClientOptions::new()
            .danger_allow_insecure_registry(true)
            .credentials(CredentialSource::Static(Credentials::new(
                "alice",
                "wonderland",
            ))),
    )?;
    assert_eq!(right.signatures(&image).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn plain_http_needs_the_insecure_option() -> Result {
    let registry = TestRegistry::start().await?;
    let secure = RegistryClient::new(ClientOptions::new())?;
    let image = registry.reference("app:v1")?;
    let err = secure
        .resolve(&image)
        .await
        .expect_err("HTTPS-only client must refuse");
    assert!(matches!(err, Error::InsecureNotAllowed { .. }), "{err}");
    assert!(
        err.to_string().contains("--allow-insecure-registry"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn corrupted_blob_is_rejected() -> Result {
    let registry = TestRegistry::start().await?;
    let client = insecure_client();
    let image = registry.reference("app:v1")?;
    let pushed = push_test_image(&client, &image, "corrupt").await?;
    let payload = SimpleSigning::new(image.repository(), &pushed.digest).to_json();
    let payload_digest = Digest::of(&payload);
    client
        .attach_signature(&image, SignatureLayer::signature(payload.clone(), "AAAA"))
        .await?;

    // Flip a byte in the registry's copy of the payload (same length).
    let path = registry.blob_data_path(&payload_digest);
    let mut bytes = std::fs::read(&path)?;
    bytes[0] ^= 0x01;
    std::fs::write(&path, &bytes)?;

    let err = client
        .signatures(&image)
        .await
        .expect_err("corrupted payload must be refused");
    match &err {
        Error::Content(ContentError::DigestMismatch {
            expected, actual, ..
        }) => {
            assert_eq!(expected, &payload_digest);
            assert_eq!(actual, &Digest::of(&bytes));
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
    // A size cap below the blob's size stops the download.
    let err = client
        .fetch_blob(image.repository(), &payload_digest, 8)
        .await
        .expect_err("over the cap");
    assert!(
        matches!(err, Error::Content(ContentError::TooLarge { .. })),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn missing_things_and_bad_input() -> Result {
    let registry = TestRegistry::start().await?;
    let client = insecure_client();
    // Malformed references never reach the network.
    for bad in [
        "",
        "UPPER/app",
        "127.0.0.1:5000/app@sha256:123",
        "host:notaport/app",
    ] {
        assert!(Reference::parse(bad).is_err(), "{bad:?}");
    }
    // An unknown tag is a clear not-found.
    let missing = registry.reference("nothing:here")?;
    let err = client.resolve(&missing).await.expect_err("missing");
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    // An image with no signatures yields none, not an error.
    let image = registry.reference("app:v1")?;
    push_test_image(&client, &image, "bare").await?;
    assert!(client.signatures(&image).await?.is_empty());
    assert!(client.list_signatures(&image).await?.bundles.is_empty());
    // A tag pinned to a digest the registry does not have is not found
    // (the digest wins over the tag, as in cosign).
    let wrong = image.repository().tag("v1")?;
    let pinned = Reference::parse(&format!("{wrong}@{}", Digest::of(b"other")))?;
    let err = client
        .resolve(&pinned)
        .await
        .expect_err("pinned digest not present");
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    Ok(())
}

//! The native OCI 1.1 referrers API path, against the in-process stand-in in
//! `keyless_testkit::referrers_registry` (Debian's `docker-registry`, used by
//! `tests/registry.rs`, has no referrers API, so only the tag-schema fallback
//! can be tested there).

use std::collections::BTreeMap;

use keyless_oci::manifest::{ImageManifest, OCI_MANIFEST};
use keyless_oci::referrers::SIGSTORE_BUNDLE_V03_MEDIA_TYPE;
use keyless_oci::{ClientOptions, Digest, Reference, ReferrersSource, RegistryClient};
use keyless_testkit::referrers_registry::{Behaviour, ReferrersRegistry};
use keyless_testkit::registry::push_test_image;

type Result<T = ()> = anyhow::Result<T>;

const REPO: &str = "keyless/app";
const SBOM: &str = "application/vnd.example.sbom";

fn client() -> RegistryClient {
    RegistryClient::new(ClientOptions::new().danger_allow_insecure_registry(true)).expect("client")
}

fn bundle(n: u32) -> Vec<u8> {
    format!(r#"{{"mediaType":"{SIGSTORE_BUNDLE_V03_MEDIA_TYPE}","n":{n}}}"#).into_bytes()
}

/// Start the stand-in and push an image to sign; returns the image's digest.
async fn registry_with_image(
    behaviour: Behaviour,
) -> Result<(ReferrersRegistry, Reference, Digest)> {
    let registry = ReferrersRegistry::start_with(behaviour).await?;
    let image = registry.reference(&format!("{REPO}:v1"))?;
    let pushed = push_test_image(&client(), &image, "referrers-api").await?;
    Ok((registry, image, pushed.digest))
}

#[tokio::test]
async fn bundle_is_attached_and_read_through_the_referrers_api() -> Result {
    let registry = ReferrersRegistry::start().await?;
    let client = client();
    let image = registry.reference(&format!("{REPO}:v1"))?;
    let digest = push_test_image(&client, &image, "api").await?.digest;
    let bundle1 = bundle(1);

    let pushed = client.attach_bundle(&image, &bundle1).await?;
    assert!(!pushed.used_tag_schema, "the registry indexed the subject");
    assert_eq!(pushed.subject.digest, digest);
    assert_eq!(pushed.subject.media_type, OCI_MANIFEST);

    // The artifact went in by digest, with a subject, and the registry
    // answered OCI-Subject; no referrers tag-schema index was written.
    let puts = registry.manifest_puts();
    let put = puts.last().expect("a manifest PUT");
    assert_eq!(put.reference, pushed.descriptor.digest.to_string());
    assert_eq!(put.digest, pushed.descriptor.digest);
    assert_eq!(put.subject.as_ref(), Some(&digest));
    assert_eq!(put.oci_subject, Some(digest.to_string()));
    assert!(
        registry.tag_schema_tags(REPO).is_empty(),
        "{:?}",
        registry.tags(REPO)
    );
    assert_eq!(registry.tags(REPO), vec!["v1".to_owned()]);

    // The listing comes from the API and matches what was pushed.
    let listed = client.referrers(image.repository(), &digest, None).await?;
    assert_eq!(listed.source, ReferrersSource::Api);
    assert_eq!(listed.manifests, vec![pushed.descriptor.clone()]);
    assert_eq!(
        listed.manifests[0].artifact_type.as_deref(),
        Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE)
    );

    // The stored artifact has the OCI 1.1 shape.
    let raw = client
        .fetch_manifest(image.repository(), &pushed.descriptor.digest.to_string())
        .await?
        .expect("artifact manifest");
    let artifact: ImageManifest = serde_json::from_slice(&raw.bytes)?;
    assert_eq!(
        artifact.artifact_type.as_deref(),
        Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE)
    );
    assert_eq!(artifact.subject.map(|s| s.digest), Some(digest.clone()));
    assert_eq!(artifact.layers.len(), 1);

    // The bundle comes back byte for byte.
    let bundles = client.bundles(&image).await?;
    assert_eq!(bundles.len(), 1);
    assert_eq!(bundles[0].bundle, bundle1);
    assert_eq!(bundles[0].manifest, pushed.descriptor);

    // Every listing went through the API, never to the fallback tag.
    let calls = registry.referrers_calls();
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|c| c.status == 200), "{calls:?}");

    // A subject without referrers: an empty list from the API, not a 404.
    let other = Digest::of(b"nothing refers to this");
    let none = client.referrers(image.repository(), &other, None).await?;
    assert_eq!(none.source, ReferrersSource::Api);
    assert!(none.manifests.is_empty());
    Ok(())
}

#[tokio::test]
async fn two_bundles_and_an_sbom_are_listed_and_filtered() -> Result {
    let (registry, image, digest) = registry_with_image(Behaviour::default()).await?;
    let client = client();
    let first = client.attach_bundle(&image, &bundle(1)).await?;
    let second = client.attach_bundle(&image, &bundle(2)).await?;
    let annotations = BTreeMap::from([("org.example.sbom.format".to_owned(), "json".to_owned())]);
    let sbom = client
        .attach_artifact(&image, SBOM, b"sbom", annotations.clone())
        .await?;
    // The same bundle again is the same manifest: listed once.
    let again = client.attach_bundle(&image, &bundle(1)).await?;
    assert_eq!(again.descriptor, first.descriptor);
    for p in [&first, &second, &sbom, &again] {
        assert!(!p.used_tag_schema);
    }
    assert!(registry.tag_schema_tags(REPO).is_empty());
    assert!(registry
        .manifest_puts()
        .iter()
        .filter(|p| p.subject.is_some())
        .all(|p| p.oci_subject == Some(digest.to_string())));

    // Unfiltered: all three, with artifactType and annotations.
    let all = client.referrers(image.repository(), &digest, None).await?;
    assert_eq!(all.source, ReferrersSource::Api);
    assert_eq!(
        all.manifests,
        vec![
            first.descriptor.clone(),
            second.descriptor.clone(),
            sbom.descriptor.clone()
        ]
    );
    assert_eq!(all.manifests[2].artifact_type.as_deref(), Some(SBOM));
    assert_eq!(all.manifests[2].annotations, annotations);

    // Filtered by the registry (the client asked, the registry said so).
    let only_bundles = client
        .referrers(
            image.repository(),
            &digest,
            Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE),
        )
        .await?;
    assert_eq!(
        only_bundles.manifests,
        vec![first.descriptor.clone(), second.descriptor.clone()]
    );
    let call = registry.referrers_calls().pop().expect("a referrers call");
    assert_eq!(
        call.artifact_type.as_deref(),
        Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE)
    );
    assert!(call.filter_applied);
    assert_eq!(call.listed, 2);
    let only_sbom = client
        .referrers(image.repository(), &digest, Some(SBOM))
        .await?;
    assert_eq!(only_sbom.manifests, vec![sbom.descriptor.clone()]);

    // Both bundles, in push order, intact; the SBOM is not a bundle.
    let bundles = client.bundles(&image).await?;
    let contents: Vec<&[u8]> = bundles.iter().map(|b| b.bundle.as_slice()).collect();
    assert_eq!(contents, vec![bundle(1).as_slice(), bundle(2).as_slice()]);
    let everything = client.list_signatures(&image).await?;
    assert_eq!(everything.bundles, bundles);
    Ok(())
}

#[tokio::test]
async fn client_filters_when_the_registry_does_not() -> Result {
    let behaviour = Behaviour {
        filter: false,
        ..Behaviour::default()
    };
    let (registry, image, digest) = registry_with_image(behaviour).await?;
    let client = client();
    let b = client.attach_bundle(&image, &bundle(1)).await?;
    client
        .attach_artifact(&image, SBOM, b"sbom", BTreeMap::new())
        .await?;
    let listed = client
        .referrers(
            image.repository(),
            &digest,
            Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE),
        )
        .await?;
    assert_eq!(listed.manifests, vec![b.descriptor]);
    let call = registry.referrers_calls().pop().expect("a referrers call");
    assert!(!call.filter_applied);
    assert_eq!(call.listed, 2, "the registry returned everything");
    assert_eq!(client.bundles(&image).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn paginated_referrers_are_all_read() -> Result {
    let behaviour = Behaviour {
        page_size: Some(1),
        ..Behaviour::default()
    };
    let (registry, image, digest) = registry_with_image(behaviour).await?;
    let client = client();
    let mut pushed = Vec::new();
    for n in 1..=3 {
        pushed.push(client.attach_bundle(&image, &bundle(n)).await?.descriptor);
    }
    let listed = client.referrers(image.repository(), &digest, None).await?;
    assert_eq!(listed.source, ReferrersSource::Api);
    assert_eq!(listed.manifests, pushed);
    let calls = registry.referrers_calls();
    assert_eq!(calls.len(), 3, "one request per page: {calls:?}");
    assert!(calls[..2].iter().all(|c| c.has_next) && !calls[2].has_next);

    let bundles = client.bundles(&image).await?;
    let contents: Vec<Vec<u8>> = bundles.into_iter().map(|b| b.bundle).collect();
    assert_eq!(contents, vec![bundle(1), bundle(2), bundle(3)]);
    Ok(())
}

#[tokio::test]
async fn registry_without_the_api_falls_back_to_the_tag_schema() -> Result {
    let behaviour = Behaviour {
        referrers_api: false,
        ..Behaviour::default()
    };
    let (registry, image, digest) = registry_with_image(behaviour).await?;
    let client = client();
    let first = client.attach_bundle(&image, &bundle(1)).await?;
    let second = client.attach_bundle(&image, &bundle(2)).await?;
    assert!(first.used_tag_schema && second.used_tag_schema);
    assert!(registry
        .manifest_puts()
        .iter()
        .all(|p| p.oci_subject.is_none()));
    assert_eq!(registry.tag_schema_tags(REPO), vec![digest.tag_form()]);

    let listed = client
        .referrers(
            image.repository(),
            &digest,
            Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE),
        )
        .await?;
    assert_eq!(listed.source, ReferrersSource::TagSchema);
    assert_eq!(listed.manifests, vec![first.descriptor, second.descriptor]);
    let calls = registry.referrers_calls();
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|c| c.status == 404), "{calls:?}");

    let bundles = client.bundles(&image).await?;
    let contents: Vec<Vec<u8>> = bundles.into_iter().map(|b| b.bundle).collect();
    assert_eq!(contents, vec![bundle(1), bundle(2)]);

    // Once the registry gains the API, it lists the earlier referrers itself
    // (the spec requires it to include those of the tag schema) and new ones
    // no longer touch the fallback tag.
    registry.set_behaviour(Behaviour::default());
    let third = client.attach_bundle(&image, &bundle(3)).await?;
    assert!(!third.used_tag_schema);
    let listed = client.referrers(image.repository(), &digest, None).await?;
    assert_eq!(listed.source, ReferrersSource::Api);
    assert_eq!(listed.manifests.len(), 3);
    assert_eq!(client.bundles(&image).await?.len(), 3);
    Ok(())
}

//! `RegistryClient::attachments` (what `keyless tree` prints) through the
//! native OCI 1.1 referrers API (the in-process stand-in; the real
//! `docker-registry` and its tag-schema fallback are covered by the CLI's
//! `tests/cosign_images.rs`): tags and referrers with their layer digests,
//! nothing for an unsigned image, and the per-image limits.

use std::collections::BTreeMap;

use keyless_oci::cosign::{SignatureLayer, SimpleSigning};
use keyless_oci::{ClientOptions, Error, ReadLimit, RegistryClient};
use keyless_testkit::referrers_registry::ReferrersRegistry;
use keyless_testkit::registry::push_test_image;

type Result<T = ()> = anyhow::Result<T>;

fn client(options: ClientOptions) -> RegistryClient {
    RegistryClient::new(options.danger_allow_insecure_registry(true)).expect("client")
}

#[tokio::test]
async fn tags_and_referrers_are_listed_with_their_layers() -> Result {
    let registry = ReferrersRegistry::start().await?;
    let c = client(ClientOptions::new());
    let image = registry.reference("keyless/tree:v1")?;
    let digest = push_test_image(&c, &image, "tree").await?.digest;

    let none = c.attachments(&image).await?;
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(none.image, digest);

    let payload = SimpleSigning::new(image.repository(), &digest).to_json();
    let sig = SignatureLayer::signature(payload, "c2ln");
    let sig_digest = sig.descriptor().digest;
    c.attach_signature(&image, sig).await?;
    let pushed = c
        .attach_artifact(
            &image,
            "application/vnd.example.sbom",
            b"sbom",
            BTreeMap::new(),
        )
        .await?;

    let found = c.attachments(&image).await?;
    let sigs = found.signatures.as_ref().expect("the .sig tag");
    assert_eq!(
        sigs.tag.to_string(),
        format!("{}:sha256-{}.sig", image.repository(), digest.hex())
    );
    assert_eq!(sigs.layers.len(), 1);
    assert_eq!(sigs.layers[0].digest, sig_digest);
    assert!(found.attestations.is_none() && found.sboms.is_none());
    assert_eq!(found.referrers.len(), 1);
    let r = &found.referrers[0];
    assert_eq!(r.artifact_type, "application/vnd.example.sbom");
    assert_eq!(r.manifest.digest(), Some(&pushed.descriptor.digest));
    assert_eq!(r.layers[0].digest, keyless_oci::Digest::of(b"sbom"));

    // The read limits apply: one referrer is over a limit of zero.
    let limited = client(ClientOptions::new().max_referrers(0));
    match limited.attachments(&image).await {
        Err(Error::LimitExceeded { limit, .. }) => assert_eq!(limit, ReadLimit::Referrers),
        other => panic!("expected the referrers limit, got {other:?}"),
    }
    Ok(())
}

//! The per-verification read limits: signature layers per `.sig`/`.att`
//! manifest, referrers per image and bytes fetched per verification. A
//! registry decides how much it lists and how large it is; past a limit the
//! client stops with `Error::LimitExceeded` naming the image, what went over,
//! the limit and the flag that raises it, instead of looping or buffering.
//!
//! Against Debian's `docker-registry` (distribution 2.8), the referrers API
//! stand-in in `keyless_testkit::referrers_registry`, and for the byte-level checks a raw HTTP server
//! that sends what no real registry would (an endless chunked body, a
//! `Content-Length` it never delivers).

use std::time::Duration;

use base64::Engine as _;
use keyless_oci::cosign::{self, SignatureLayer, SimpleSigning};
use keyless_oci::manifest::{Descriptor, ImageManifest, OCI_CONFIG, OCI_MANIFEST};
use keyless_oci::referrers::SIGSTORE_BUNDLE_V03_MEDIA_TYPE;
use keyless_oci::{
    ClientOptions, ContentError, Digest, Error, ReadLimit, Reference, RegistryClient,
};
use keyless_testkit::referrers_registry::{Behaviour, ReferrersRegistry};
use keyless_testkit::registry::{push_test_image, TestRegistry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Result<T = ()> = anyhow::Result<T>;

fn client_with(options: ClientOptions) -> RegistryClient {
    RegistryClient::new(options.danger_allow_insecure_registry(true)).expect("client")
}

fn client() -> RegistryClient {
    client_with(ClientOptions::new())
}

/// A signature whose payload carries `padding` extra bytes.
fn signature(image: &Reference, digest: &Digest, n: usize, padding: usize) -> SignatureLayer {
    let payload = SimpleSigning::new(image.repository(), digest)
        .with_claim("signer", serde_json::Value::from(n))
        .with_claim("padding", serde_json::Value::from("x".repeat(padding)))
        .to_json();
    let sig = base64::engine::general_purpose::STANDARD.encode(format!("signature-{n}"));
    SignatureLayer::signature(payload, &sig)
}

fn bundle(n: u32, padding: usize) -> Vec<u8> {
    format!(
        r#"{{"mediaType":"{SIGSTORE_BUNDLE_V03_MEDIA_TYPE}","n":{n},"pad":"{}"}}"#,
        "x".repeat(padding)
    )
    .into_bytes()
}

/// Assert `err` is the limit error for `limit` at `cap`, about `image`, and
/// that its message says all of it, including the flag to raise the limit.
fn assert_limit(err: &Error, limit: ReadLimit, cap: u64, image: &str, says: &[&str]) {
    match err {
        Error::LimitExceeded {
            image: i,
            limit: l,
            cap: c,
            ..
        } => {
            assert_eq!((l, c), (&limit, &cap), "{err}");
            assert_eq!(i, image, "{err}");
        }
        other => panic!("expected LimitExceeded({limit:?}), got {other}"),
    }
    let message = err.to_string();
    for part in [image, &format!("limit of {cap} "), limit.flag()]
        .into_iter()
        .chain(says.iter().copied())
    {
        assert!(
            message.contains(part),
            "{message:?} should mention {part:?}"
        );
    }
}

#[tokio::test]
async fn signature_layers_over_the_limit_are_refused() -> Result {
    let registry = TestRegistry::start().await?;
    let image = registry.reference("app:v1")?;
    let digest = push_test_image(&client(), &image, "layers").await?.digest;
    for n in 0..3 {
        client()
            .attach_signature(&image, signature(&image, &digest, n, 0))
            .await?;
        client()
            .attach_attestation(
                &image,
                SignatureLayer::attestation(
                    format!(r#"{{"payloadType":"x","payload":"","n":{n}}}"#).into_bytes(),
                    "https://slsa.dev/provenance/v1",
                ),
            )
            .await?;
    }
    let pinned = image.with_digest(digest.clone()).to_string();

    // The default limits read everything.
    let all = client().list_signatures(&image).await?;
    assert_eq!((all.signatures.len(), all.attestations.len()), (3, 3));

    // At the limit: still read.
    let at = client_with(ClientOptions::new().max_signatures(3));
    assert_eq!(at.signatures(&image).await?.len(), 3);

    // One over: refused, naming the .sig manifest and its count.
    let over = client_with(ClientOptions::new().max_signatures(2));
    let err = over.signatures(&image).await.expect_err("3 layers > 2");
    assert_limit(
        &err,
        ReadLimit::Signatures,
        2,
        &pinned,
        &[".sig", "3 signature layers", "per .sig/.att manifest"],
    );
    let err = over.attestations(&image).await.expect_err("3 layers > 2");
    assert_limit(&err, ReadLimit::Signatures, 2, &pinned, &[".att"]);
    let err = over
        .list_signatures(&image)
        .await
        .expect_err("3 layers > 2");
    assert_limit(&err, ReadLimit::Signatures, 2, &pinned, &[]);
    Ok(())
}

#[tokio::test]
async fn the_default_limit_refuses_a_flooded_sig_manifest_up_front() -> Result {
    // A hostile registry lists 1001 layers (one small blob, repeated) under
    // the .sig tag: refused by the default limit before any blob is fetched,
    // where 1001 blob requests would otherwise follow.
    let registry = ReferrersRegistry::start().await?;
    let image = registry.reference("keyless/app:v1")?;
    let client = client();
    let digest = push_test_image(&client, &image, "flood").await?.digest;
    let layer = signature(&image, &digest, 0, 0).descriptor();
    let config = b"{}".to_vec();
    client.push_blob(image.repository(), &config).await?;
    client
        .push_blob(
            image.repository(),
            signature(&image, &digest, 0, 0).payload(),
        )
        .await?;
    let manifest = ImageManifest::new(
        Descriptor::for_content(OCI_CONFIG, &config),
        vec![layer; 1001],
    );
    client
        .put_manifest(
            image.repository(),
            &cosign::signature_tag(&digest),
            OCI_MANIFEST,
            serde_json::to_vec(&manifest)?,
            None,
        )
        .await?;
    let started = std::time::Instant::now();
    let err = client
        .list_signatures(&image)
        .await
        .expect_err("1001 layers > the default 1000");
    assert_limit(
        &err,
        ReadLimit::Signatures,
        keyless_oci::client::DEFAULT_MAX_SIGNATURES,
        &image.with_digest(digest).to_string(),
        &["lists 1001 signature layers"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn referrers_over_the_limit_are_refused_in_the_tag_schema() -> Result {
    let registry = TestRegistry::start().await?;
    let image = registry.reference("app:v1")?;
    let digest = push_test_image(&client(), &image, "tag-schema")
        .await?
        .digest;
    for n in 1..=3 {
        client().attach_bundle(&image, &bundle(n, 0)).await?;
    }
    let pinned = image.with_digest(digest.clone()).to_string();

    assert_eq!(client().list_signatures(&image).await?.bundles.len(), 3);
    let at = client_with(ClientOptions::new().max_referrers(3));
    assert_eq!(at.bundles(&image).await?.len(), 3);

    let over = client_with(ClientOptions::new().max_referrers(2));
    let err = over.bundles(&image).await.expect_err("3 referrers > 2");
    assert_limit(
        &err,
        ReadLimit::Referrers,
        2,
        &pinned,
        &["referrers tag index", "referrers per image"],
    );
    let err = over.list_signatures(&image).await.expect_err("3 > 2");
    assert_limit(&err, ReadLimit::Referrers, 2, &pinned, &[]);
    let err = over
        .referrers(image.repository(), &digest, None)
        .await
        .expect_err("3 > 2");
    assert_limit(&err, ReadLimit::Referrers, 2, &pinned, &[]);
    Ok(())
}

#[tokio::test]
async fn referrers_over_the_limit_stop_the_api_listing_early() -> Result {
    let behaviour = Behaviour {
        page_size: Some(1),
        ..Behaviour::default()
    };
    let registry = ReferrersRegistry::start_with(behaviour).await?;
    let image = registry.reference("keyless/app:v1")?;
    let digest = push_test_image(&client(), &image, "api").await?.digest;
    for n in 1..=3 {
        client().attach_bundle(&image, &bundle(n, 0)).await?;
    }
    let pinned = image.with_digest(digest.clone()).to_string();
    assert_eq!(client().bundles(&image).await?.len(), 3);

    let before = registry.referrers_calls().len();
    let over = client_with(ClientOptions::new().max_referrers(1));
    let err = over.bundles(&image).await.expect_err("3 referrers > 1");
    assert_limit(
        &err,
        ReadLimit::Referrers,
        1,
        &pinned,
        &["referrers of", "more than 1 manifests"],
    );
    // The second page went over; the third was never asked for.
    let calls = registry.referrers_calls().len() - before;
    assert_eq!(calls, 2, "{:?}", registry.referrers_calls());

    // Unpaginated, the whole listing is one page over the limit.
    registry.set_behaviour(Behaviour::default());
    let err = client_with(ClientOptions::new().max_referrers(2))
        .list_signatures(&image)
        .await
        .expect_err("3 > 2");
    assert_limit(&err, ReadLimit::Referrers, 2, &pinned, &[]);
    Ok(())
}

#[tokio::test]
async fn a_blob_larger_than_the_byte_budget_is_refused() -> Result {
    let registry = TestRegistry::start().await?;
    let image = registry.reference("app:v1")?;
    let digest = push_test_image(&client(), &image, "bytes").await?.digest;
    client()
        .attach_signature(&image, signature(&image, &digest, 1, 200_000))
        .await?;
    let pinned = image.with_digest(digest.clone()).to_string();
    assert_eq!(client().signatures(&image).await?.len(), 1);

    let over = client_with(ClientOptions::new().max_fetch_bytes(100_000));
    let err = over.signatures(&image).await.expect_err("200 kB > 100 kB");
    assert_limit(
        &err,
        ReadLimit::FetchBytes,
        100_000,
        &pinned,
        &["signature layer", "bytes fetched per verification"],
    );
    Ok(())
}

#[tokio::test]
async fn the_byte_budget_covers_the_whole_verification() -> Result {
    let registry = TestRegistry::start().await?;
    let image = registry.reference("app:v1")?;
    let digest = push_test_image(&client(), &image, "total").await?.digest;
    // Two payloads of ~60 kB: each fits in 100 kB, both together do not.
    for n in 1..=2 {
        client()
            .attach_signature(&image, signature(&image, &digest, n, 60_000))
            .await?;
    }
    let pinned = image.with_digest(digest.clone()).to_string();
    let budget = ClientOptions::new().max_fetch_bytes(100_000);
    let err = client_with(budget)
        .list_signatures(&image)
        .await
        .expect_err("120 kB > 100 kB");
    assert_limit(
        &err,
        ReadLimit::FetchBytes,
        100_000,
        &pinned,
        &["already fetched"],
    );
    assert_eq!(
        client_with(ClientOptions::new().max_fetch_bytes(200_000))
            .list_signatures(&image)
            .await?
            .signatures
            .len(),
        2
    );

    // A budget smaller than the .sig manifest stops at the manifest.
    let err = client_with(ClientOptions::new().max_fetch_bytes(64))
        .signatures(&image)
        .await
        .expect_err("manifest > 64 bytes");
    assert_limit(
        &err,
        ReadLimit::FetchBytes,
        64,
        &pinned,
        &["fetching manifest"],
    );
    Ok(())
}

#[tokio::test]
async fn a_bundle_larger_than_the_byte_budget_is_refused() -> Result {
    let registry = ReferrersRegistry::start().await?;
    let image = registry.reference("keyless/app:v1")?;
    let digest = push_test_image(&client(), &image, "bundle").await?.digest;
    client().attach_bundle(&image, &bundle(1, 50_000)).await?;
    let pinned = image.with_digest(digest.clone()).to_string();
    assert_eq!(client().bundles(&image).await?.len(), 1);

    let err = client_with(ClientOptions::new().max_fetch_bytes(20_000))
        .bundles(&image)
        .await
        .expect_err("50 kB > 20 kB");
    assert_limit(
        &err,
        ReadLimit::FetchBytes,
        20_000,
        &pinned,
        &["bundle layer"],
    );
    Ok(())
}

/// What the raw server answers for anything but `/v2/`.
#[derive(Clone, Copy)]
enum Answer {
    /// A chunked body that does not end (until 1 GiB, a safety stop).
    Endless,
    /// A `Content-Length` of this many bytes, and then nothing at all.
    Claim(u64),
}

/// A plain-HTTP server on loopback that answers `/v2/` like a registry and
/// everything else with `answer`. Returns its `host:port`.
async fn raw_registry(answer: Answer) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let host = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                loop {
                    // One request head at a time (no request has a body).
                    while !head.ends_with(b"\r\n\r\n") {
                        if head.len() > 16 * 1024 || stream.read(&mut byte).await.unwrap_or(0) == 0
                        {
                            return;
                        }
                        head.push(byte[0]);
                        if !(b"GET ".starts_with(&head) || head.starts_with(b"GET ")) {
                            return; // A TLS hello (the HTTPS probe) or junk: hang up.
                        }
                    }
                    let line = String::from_utf8_lossy(&head).into_owned();
                    head.clear();
                    if line.starts_with("GET /v2/ ") {
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
                        if stream.write_all(ok).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    match answer {
                        Answer::Endless => {
                            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ntransfer-encoding: chunked\r\n\r\n";
                            if stream.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
                            for _ in 0..(1 << 18) {
                                if stream.write_all(chunk.as_bytes()).await.is_err() {
                                    return;
                                }
                            }
                            return;
                        }
                        Answer::Claim(length) => {
                            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ncontent-length: {length}\r\n\r\n");
                            if stream.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            // Never send the body; wait for the client to go.
                            let _ = stream.read(&mut byte).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    Ok(host)
}

/// An image pinned by digest in the raw server, so no tag is resolved.
fn raw_image(host: &str) -> Result<Reference> {
    Ok(Reference::parse(&format!(
        "{host}/app@{}",
        Digest::of(b"raw registry image")
    ))?)
}

#[tokio::test]
async fn an_endless_body_stops_at_the_byte_budget() -> Result {
    let host = raw_registry(Answer::Endless).await?;
    let image = raw_image(&host)?;
    let client = client_with(ClientOptions::new().max_fetch_bytes(100_000));
    let err = tokio::time::timeout(Duration::from_secs(20), client.signatures(&image))
        .await
        .expect("the read must stop, not run on")
        .expect_err("an endless manifest");
    assert_limit(
        &err,
        ReadLimit::FetchBytes,
        100_000,
        &image.to_string(),
        &["fetching manifest"],
    );
    Ok(())
}

#[tokio::test]
async fn content_length_is_checked_before_reading() -> Result {
    // 3 MiB: under the 4 MiB manifest cap, over a 100 kB budget. The body
    // never comes, so only a check of the header can answer in time.
    let host = raw_registry(Answer::Claim(3 << 20)).await?;
    let image = raw_image(&host)?;
    let budgeted = client_with(ClientOptions::new().max_fetch_bytes(100_000));
    let err = tokio::time::timeout(Duration::from_secs(20), budgeted.signatures(&image))
        .await
        .expect("refused from the Content-Length header, without reading")
        .expect_err("over the budget");
    assert_limit(
        &err,
        ReadLimit::FetchBytes,
        100_000,
        &image.to_string(),
        &[],
    );

    // Over the 4 MiB manifest cap with the default budget: the manifest's
    // own limit, also from the header.
    let host = raw_registry(Answer::Claim(5 << 20)).await?;
    let image = raw_image(&host)?;
    let err = tokio::time::timeout(Duration::from_secs(20), client().signatures(&image))
        .await
        .expect("refused from the Content-Length header, without reading")
        .expect_err("over the manifest cap");
    match &err {
        Error::Content(ContentError::TooLarge { what, limit }) => {
            assert_eq!(limit.to_owned(), 4 << 20, "{err}");
            assert!(what.contains("fetching manifest"), "{err}");
        }
        other => panic!("expected TooLarge, got {other}"),
    }
    Ok(())
}

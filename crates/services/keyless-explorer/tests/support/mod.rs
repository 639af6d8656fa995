//! Shared by the explorer's test files: a Fulcio leaf certificate built
//! with keyless-x509's profile code, and one request through a router.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use der::Encode;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_x509::profile::{
    assemble, ca_tbs, leaf_tbs, CaKind, CtSlot, LeafSubject, LeafTemplate, San,
};
use keyless_x509::Certificate;
use tower::ServiceExt;

pub const NOW: i64 = 1_750_000_000;
pub const SAN: &str = "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main";

/// A Fulcio leaf certificate (DER) for [`SAN`] from GitHub Actions'
/// issuer, with these further Fulcio `extensions` and an SCT list, issued
/// by a fresh P-256 root.
pub fn fulcio_leaf(extensions: &[(der::asn1::ObjectIdentifier, String)]) -> Vec<u8> {
    let root_key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let leaf_key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let alg = root_key.public_key().default_signature_algorithm();
    let tbs = ca_tbs(
        CaKind::Root,
        "CN=test root,O=keyless",
        root_key.public_key(),
        None,
        alg,
        NOW - 100,
        NOW + 1000,
    )
    .unwrap();
    let sig = root_key.sign(&tbs.to_der().unwrap()).unwrap();
    let root = Certificate::from_der(&assemble(tbs, &sig).unwrap()).unwrap();
    let san = San::Uri(SAN.into());
    let subject = LeafSubject {
        san: &san,
        issuer: "https://token.actions.githubusercontent.com",
        extensions,
    };
    let template = LeafTemplate::new(NOW, &root).unwrap();
    let tbs = leaf_tbs(
        subject,
        leaf_key.public_key(),
        &root,
        alg,
        &template,
        &CtSlot::Scts(vec![0, 0]),
    )
    .unwrap();
    let sig = root_key.sign(&tbs.to_der().unwrap()).unwrap();
    assemble(tbs, &sig).unwrap()
}

/// `req` through `router`: status, headers, body (at most 4 MiB).
pub async fn call(
    router: axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = router.oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .expect("body");
    (status, headers, body.to_vec())
}

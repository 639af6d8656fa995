//! The CT log form of the page: `ct_routes` serves the page marked for a
//! CT log and its script; `POST /explorer/api/decode-ct` decodes RFC 6962
//! `MerkleTreeLeaf`s (precertificate and certificate entries) into the
//! certificate view, and refuses what is not a capped array of leaves;
//! the witnesses answer lists the vkeys it is given.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use keyless_explorer::ct::{decode_leaf, LeafError, MAX_LEAVES};
use keyless_x509::oid;
use keyless_x509::Certificate;
use support::SAN;

/// A Fulcio leaf certificate with an SCT list, DER.
fn fulcio_leaf() -> Vec<u8> {
    support::fulcio_leaf(&[(oid::GITHUB_WORKFLOW_TRIGGER, "push".to_string())])
}

fn u24(n: usize) -> [u8; 3] {
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

/// A v1 timestamped-entry leaf: precert (issuer key hash + TBS) or x509.
fn leaf(precert: bool, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0];
    out.extend_from_slice(&1_750_000_000_123u64.to_be_bytes());
    out.extend_from_slice(&[0, u8::from(precert)]);
    if precert {
        out.extend_from_slice(&[7; 32]);
    }
    out.extend_from_slice(&u24(body.len()));
    out.extend_from_slice(body);
    out.extend_from_slice(&[0, 0]);
    out
}

#[test]
fn precertificate_and_certificate_leaves_are_decoded() {
    let der = fulcio_leaf();
    let cert = Certificate::from_der(&der).unwrap();
    let tbs = keyless_x509::precert_tbs(&cert).unwrap();

    let v = decode_leaf(&leaf(true, &tbs)).unwrap();
    assert_eq!(v.entry_type, "precert");
    assert_eq!(v.timestamp, 1_750_000_000_123);
    assert_eq!(v.issuer_key_hash, Some("07".repeat(32)));
    let c = &v.certificate;
    assert_eq!(c.sans, vec![SAN.to_string()]);
    assert_eq!(
        c.oidc_issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(c.issuer, cert.issuer());
    assert_eq!(
        (c.not_before, c.not_after),
        (cert.not_before(), cert.not_after())
    );
    assert!(!c.has_sct, "a precertificate carries no SCT list");
    assert!(c.extensions.iter().any(|e| e.value == "push"), "{c:?}");
    assert_eq!(c.error, None);

    let v = decode_leaf(&leaf(false, &der)).unwrap();
    assert_eq!(v.entry_type, "x509");
    assert_eq!(v.issuer_key_hash, None);
    assert!(v.certificate.has_sct);
    assert_eq!(v.certificate.sans, vec![SAN.to_string()]);
}

#[test]
fn malformed_leaves_are_refused() {
    let der = fulcio_leaf();
    let good = leaf(false, &der);
    assert!(matches!(
        decode_leaf(&good[..good.len() - 1]),
        Err(LeafError::Truncated)
    ));
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        decode_leaf(&trailing),
        Err(LeafError::Trailing(1))
    ));
    let mut version = good.clone();
    version[0] = 1;
    assert!(matches!(
        decode_leaf(&version),
        Err(LeafError::LeafType(1, 0))
    ));
    let mut kind = good.clone();
    kind[11] = 9;
    assert!(matches!(decode_leaf(&kind), Err(LeafError::EntryType(9))));
    assert!(matches!(
        decode_leaf(&leaf(true, b"\x30\x03\x02\x01\x01")),
        Err(LeafError::Tbs(_))
    ));
    assert!(matches!(
        decode_leaf(&vec![0; keyless_explorer::ct::MAX_LEAF + 1]),
        Err(LeafError::TooLarge(_))
    ));
}

async fn call(req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    support::call(keyless_explorer::ct_routes::<()>(), req).await
}

fn decode_ct(body: String) -> Request<Body> {
    Request::post(keyless_explorer::DECODE_CT_PATH)
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn ct_routes_serve_the_ct_page_and_decode_leaves() {
    let (status, headers, body) = call(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains(r#"<body data-log="ct">"#), "{html}");
    assert!(headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let (status, headers, body) = call(
        Request::get(keyless_explorer::CT_JS_PATH)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(body, keyless_explorer::CT_JS.as_bytes());

    let der = fulcio_leaf();
    let b64 = keyless_types::b64::encode;
    let list = serde_json::json!([b64(&leaf(false, &der)), "%%%", b64(b"\0\0")]);
    let (status, _, body) = call(decode_ct(list.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v[0]["certificate"]["sans"][0], SAN, "{v}");
    assert_eq!(v[0]["entryType"], "x509");
    assert!(v[1]["error"].as_str().unwrap().contains("base64"), "{v}");
    assert!(v[2]["error"].as_str().unwrap().contains("truncated"), "{v}");

    for bad in [
        "{}".to_string(),
        "not json".to_string(),
        serde_json::to_string(&vec!["AAAA"; MAX_LEAVES + 1]).unwrap(),
    ] {
        let (status, _, body) = call(decode_ct(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], 400);
    }
}

#[tokio::test]
async fn the_witnesses_answer_lists_names_and_vkeys() {
    let vkey = "witness.example/w1+01020304+BAAA".to_string();
    let resp = keyless_explorer::witnesses_response(std::slice::from_ref(&vkey));
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"witnesses": [{"name": "witness.example/w1", "vkey": vkey}]})
    );
}

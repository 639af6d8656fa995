//! The explorer's routes as a log mounts them: assets with a strict CSP,
//! no inline script, a first load within the page-weight budget, and the
//! decoding endpoint's answers and refusals.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

async fn call(req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    support::call(keyless_explorer::routes::<()>(), req).await
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("request")
}

fn post(body: &str) -> Request<Body> {
    Request::post(keyless_explorer::DECODE_PATH)
        .body(Body::from(body.to_string()))
        .expect("request")
}

#[tokio::test]
async fn assets_carry_a_strict_csp_and_fit_the_budget() {
    let mut total = 0;
    for (path, ty) in [
        ("/", "text/html"),
        (keyless_explorer::APP_JS_PATH, "text/javascript"),
        (keyless_explorer::APP_CSS_PATH, "text/css"),
    ] {
        let (status, headers, body) = call(get(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with(ty));
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        total += body.len();
    }
    assert!(total <= 150 * 1024, "first load is {total} bytes");
}

#[test]
fn html_has_no_inline_script_or_style_and_no_remote_assets() {
    for html in [
        keyless_explorer::INDEX_HTML,
        keyless_explorer::CT_INDEX_HTML,
    ] {
        page_has_no_inline_script_or_style_and_no_remote_assets(html);
    }
}

fn page_has_no_inline_script_or_style_and_no_remote_assets(html: &str) {
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or_default();
        assert!(open.contains("src=\"/explorer/"), "inline script: {open}");
        assert!(tag
            .split('>')
            .nth(1)
            .unwrap_or_default()
            .starts_with("</script"));
    }
    assert!(!html.contains("<style") && !html.contains("style="));
    for asset in [
        html,
        keyless_explorer::APP_JS,
        keyless_explorer::CT_JS,
        keyless_explorer::APP_CSS,
    ] {
        // The SVG namespace name (for the chart's createElementNS) is an
        // identifier, never fetched; any other URL would be a remote asset.
        let asset = asset.replace("\"http://www.w3.org/2000/svg\"", "");
        assert!(!asset.contains("http://") && !asset.contains("https://"));
        assert!(!asset.contains("innerHTML") && !asset.contains("eval("));
    }
}

#[tokio::test]
async fn decode_reads_a_hashedrekord_with_a_public_key() {
    let pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n";
    let body = serde_json::json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": "ab".repeat(32)}},
            "signature": {"content": "MEUC", "publicKey": {"content": keyless_types::b64::encode(pem.as_bytes())}}
        }
    });
    let b64 = keyless_types::b64::encode(body.to_string().as_bytes());
    let (status, _, out) = call(post(&b64)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["kind"], "hashedrekord");
    assert_eq!(v["apiVersion"], "0.0.1");
    assert_eq!(v["digest"], format!("sha256:{}", "ab".repeat(32)));
    assert_eq!(v["publicKeys"][0], pem);
    assert_eq!(v["certificates"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn decode_refuses_what_is_not_an_entry() {
    for (input, needle) in [
        ("not base64!", "not base64"),
        (
            &keyless_types::b64::encode(b"{\"kind\":\"rpm\",\"apiVersion\":\"0.0.1\"}")[..],
            "not a supported Rekor entry",
        ),
        (
            &keyless_types::b64::encode(b"[1,2")[..],
            "not a supported Rekor entry",
        ),
    ] {
        let (status, _, out) = call(post(input)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(v["message"].as_str().unwrap().contains(needle), "{v}");
    }
    let big = "A".repeat(keyless_explorer::decode::MAX_BODY * 2);
    let (status, _, out) = call(post(&big)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&out).contains("limit"));
}

#[test]
fn an_unparseable_certificate_is_reported_not_fatal() {
    // A real Fulcio certificate is decoded in the end-to-end test
    // (keyless-cli tests/explorer.rs), against the dev CA.
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let body = serde_json::json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": "00".repeat(32)}},
            "signature": {"content": "MEUC", "publicKey": {"content": keyless_types::b64::encode(pem.as_bytes())}}
        }
    });
    let d = keyless_explorer::decode::decode(body.to_string().as_bytes()).unwrap();
    assert_eq!(d.certificates.len(), 1);
    assert!(d.certificates[0].error.is_some());
}

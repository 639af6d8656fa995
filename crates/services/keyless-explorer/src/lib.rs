//! The log explorer: a single-page app a keyless log serves at `GET /`.
//!
//! The page (one HTML file, one JavaScript module, one stylesheet, all in
//! `assets/` and compiled into the binary) reads the log's own API
//! (`/checkpoint`, `/api/v1/log`, `/api/v1/log/entries`,
//! `/api/v1/index/retrieve`, `/api/v1/log/publicKey`) and verifies what it
//! shows in the browser with WebCrypto: the RFC 6962 inclusion proof
//! against the checkpoint's root, and the checkpoint's signed-note
//! signature with the log key.
//!
//! Certificates are decoded on the server by [`decode`] (the workspace's
//! X.509 code and Fulcio OID table) through `POST /explorer/api/decode`;
//! that endpoint only decodes what the page sends it and never touches the
//! log, so the crate does not depend on any log implementation.
//!
//! A keyless CA serves the same page for its CT log ([`ct_routes`]): the
//! HTML marks it (`<body data-log="ct">`) and the page reads the CT log's
//! tlog-tiles checkpoint and entry bundles under `/ct` and the CA's
//! `/trusted_root.json` for the log key; [`ct`] decodes the entries'
//! certificates through `POST /explorer/api/decode-ct`.
//!
//! A log with witnesses answers [`WITNESSES_PATH`] with their vkeys
//! ([`witnesses_response`]), so the page verifies the checkpoint's
//! cosignatures (Ed25519 `cosignature/v1`) with WebCrypto too.
//!
//! Every response carries a strict Content-Security-Policy: scripts,
//! styles and fetches from the same origin only, no inline script, no
//! frames.

pub mod ct;
pub mod decode;
pub mod statement;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

/// The page's HTML.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");
/// The page's HTML on a CT log (the same page, marked `data-log="ct"`).
pub const CT_INDEX_HTML: &str = include_str!("../assets/ct.html");
/// The page's script (an ES module).
pub const APP_JS: &str = include_str!("../assets/app.js");
/// The CT log pages' script (an ES module app.js loads on a CT log).
pub const CT_JS: &str = include_str!("../assets/ct.js");
/// The page's stylesheet.
pub const APP_CSS: &str = include_str!("../assets/app.css");

/// The policy every explorer response carries.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// Path of the script.
pub const APP_JS_PATH: &str = "/explorer/app.js";
/// Path of the CT log pages' script.
pub const CT_JS_PATH: &str = "/explorer/ct.js";
/// Path of the stylesheet.
pub const APP_CSS_PATH: &str = "/explorer/app.css";
/// Path of the decoding endpoint.
pub const DECODE_PATH: &str = "/explorer/api/decode";
/// Path of the CT leaf decoding endpoint.
pub const DECODE_CT_PATH: &str = "/explorer/api/decode-ct";
/// Path where a log with witnesses lists their vkeys.
pub const WITNESSES_PATH: &str = "/explorer/api/witnesses";

/// Response header of the page at `/`: its value names the query parameter
/// the page takes for an entry (`logIndex`).
pub const EXPLORER_HEADER: &str = "x-keyless-explorer";

/// The explorer's routes, to merge into a log's router (any state).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route(APP_JS_PATH, get(app_js))
        .route(APP_CSS_PATH, get(app_css))
        .route(DECODE_PATH, post(decode_handler))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    secure(h);
    resp
}

/// The explorer's routes for a CA's CT log, to merge into the CA's
/// router (any state): the page at `/` in its CT form, its assets, and
/// the CT leaf decoder.
pub fn ct_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(ct_index))
        .route(APP_JS_PATH, get(app_js))
        .route(APP_CSS_PATH, get(app_css))
        .route(CT_JS_PATH, get(ct_js))
        .route(DECODE_CT_PATH, post(decode_ct_handler))
}

/// The answer at [`WITNESSES_PATH`]: `{"witnesses": [{"name", "vkey"}]}`
/// for these `cosignature/v1` vkeys (`<name>+<hex key ID>+<base64 key>`),
/// which the page verifies the checkpoint's cosignatures with. The log
/// serves it from its own configuration, never from what a witness says.
pub fn witnesses_response(vkeys: &[String]) -> Response {
    let list: Vec<serde_json::Value> = vkeys
        .iter()
        .map(|v| {
            let name = v.split('+').next().unwrap_or_default();
            serde_json::json!({ "name": name, "vkey": v })
        })
        .collect();
    let mut resp = axum::Json(serde_json::json!({ "witnesses": list })).into_response();
    secure(resp.headers_mut());
    resp
}

/// The security headers of every explorer response.
fn secure(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

async fn index() -> Response {
    let mut resp = asset("text/html; charset=utf-8", INDEX_HTML);
    // Tells a signing client that this log's root is an entry page taking
    // `?logIndex=N`, so it can print the link as cosign prints
    // search.sigstore.dev's (a log without the page answers without it).
    resp.headers_mut()
        .insert(EXPLORER_HEADER, HeaderValue::from_static("logIndex"));
    resp
}

async fn ct_index() -> Response {
    asset("text/html; charset=utf-8", CT_INDEX_HTML)
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn ct_js() -> Response {
    asset("text/javascript; charset=utf-8", CT_JS)
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

/// `POST /explorer/api/decode` with the entry's base64 body as the request
/// body: the [`decode::Decoded`] view as JSON, or a 400 with
/// `{"code":400,"message":...}`.
async fn decode_handler(body: Bytes) -> Response {
    let result = std::str::from_utf8(&body)
        .map_err(|_| "entry body is not UTF-8 base64 text".to_string())
        .and_then(|text| decode::decode_b64(text).map_err(|e| e.to_string()));
    json_answer(result.map(|view| serde_json::to_value(view).unwrap_or_default()))
}

/// `POST /explorer/api/decode-ct` with a JSON array of base64
/// `MerkleTreeLeaf`s (at most [`ct::MAX_LEAVES`]): an array of
/// [`ct::LeafView`]s, or `{"error": ...}` in the place of a leaf that does
/// not decode; a 400 for a request that is not such an array.
async fn decode_ct_handler(body: Bytes) -> Response {
    let result = serde_json::from_slice::<Vec<String>>(&body)
        .map_err(|e| format!("expected a JSON array of base64 leaves: {e}"))
        .and_then(|leaves| {
            if leaves.len() > ct::MAX_LEAVES {
                return Err(format!("at most {} leaves at once", ct::MAX_LEAVES));
            }
            Ok(leaves
                .iter()
                .map(|l| match ct::decode_leaf_b64(l) {
                    Ok(v) => serde_json::to_value(v).unwrap_or_default(),
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                })
                .collect())
        });
    json_answer(result)
}

/// A JSON answer, or a 400 with `{"code":400,"message":...}`.
fn json_answer(result: Result<serde_json::Value, String>) -> Response {
    let mut resp = match result {
        Ok(view) => axum::Json(view).into_response(),
        Err(message) => (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({ "code": 400, "message": message })),
        )
            .into_response(),
    };
    secure(resp.headers_mut());
    resp
}

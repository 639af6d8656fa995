//! The stand-in's HTTP side: routing `/v2/<name>/…` (names may contain `/`)
//! and answering as the distribution spec says, with spec error bodies.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use keyless_oci::Digest;

use super::state::{lock, Inner, ManifestPut, ReferrersCall};
use super::store::{index_of, Rejected};

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Larger than anything the tests push; bounds what a request can buffer.
const MAX_BODY: usize = 16 * 1024 * 1024;

enum Route<'a> {
    Ping,
    Upload { name: &'a str, id: &'a str },
    Blob { name: &'a str, digest: &'a str },
    Manifest { name: &'a str, reference: &'a str },
    Referrers { name: &'a str, digest: &'a str },
    Unknown,
}

fn route(path: &str) -> Route<'_> {
    if path == "/v2/" || path == "/v2" {
        return Route::Ping;
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Route::Unknown;
    };
    if let Some((name, id)) = rest.split_once("/blobs/uploads/") {
        Route::Upload { name, id }
    } else if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        Route::Blob { name, digest }
    } else if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        Route::Manifest { name, reference }
    } else if let Some((name, digest)) = rest.rsplit_once("/referrers/") {
        Route::Referrers { name, digest }
    } else {
        Route::Unknown
    }
}

fn query_map(query: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn respond(status: StatusCode, headers: &[(&str, String)], body: Vec<u8>) -> Response {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder.body(Body::from(body)).unwrap_or_default()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "code": code, "message": message }] });
    respond(
        status,
        &[("content-type", "application/json".to_owned())],
        body.to_string().into_bytes(),
    )
}

fn rejected(r: Rejected) -> Response {
    error(StatusCode::BAD_REQUEST, r.code, &r.message)
}

/// The single handler behind the stand-in's router.
pub async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SIZE_INVALID",
            "body too large",
        );
    };
    let path = parts.uri.path();
    let query = query_map(parts.uri.query());
    let method = &parts.method;
    match route(path) {
        Route::Ping => respond(StatusCode::OK, &[], b"{}".to_vec()),
        Route::Upload { name, id } => upload(&inner, method, name, id, &query, &body),
        Route::Blob { name, digest } => blob(&inner, method, name, digest),
        Route::Manifest { name, reference } => match *method {
            Method::PUT => put_manifest(&inner, name, reference, &parts.headers, body.to_vec()),
            _ => get_manifest(&inner, method, name, reference),
        },
        Route::Referrers { name, digest } if *method == Method::GET => {
            referrers(&inner, name, digest, &query)
        }
        _ => error(StatusCode::NOT_FOUND, "NOT_FOUND", path),
    }
}

fn upload(
    inner: &Inner,
    method: &Method,
    name: &str,
    id: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    let mut store = lock(&inner.store);
    let location = |id: &str| format!("/v2/{name}/blobs/uploads/{id}");
    let finished = |digest: &str| {
        respond(
            StatusCode::CREATED,
            &[
                ("location", format!("/v2/{name}/blobs/{digest}")),
                ("docker-content-digest", digest.to_owned()),
            ],
            Vec::new(),
        )
    };
    match (method.clone(), id) {
        (Method::POST, "") => {
            let id = store.start_upload(name);
            // Monolithic single POST (`?digest=`), end-4b.
            if let Some(digest) = query.get("digest") {
                return match store.finish_upload(name, &id, body, digest) {
                    Ok(()) => finished(digest),
                    Err(r) => rejected(r),
                };
            }
            respond(
                StatusCode::ACCEPTED,
                &[("location", location(&id)), ("range", "0-0".to_owned())],
                Vec::new(),
            )
        }
        (Method::PATCH, id) => match store.append_upload(name, id, body) {
            Some(size) => respond(
                StatusCode::ACCEPTED,
                &[
                    ("location", location(id)),
                    ("range", format!("0-{}", size.saturating_sub(1))),
                ],
                Vec::new(),
            ),
            None => error(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN", id),
        },
        (Method::PUT, id) => {
            let Some(digest) = query.get("digest") else {
                return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", "no ?digest=");
            };
            match store.finish_upload(name, id, body, digest) {
                Ok(()) => finished(digest),
                Err(r) if r.code == "BLOB_UPLOAD_UNKNOWN" => {
                    error(StatusCode::NOT_FOUND, r.code, &r.message)
                }
                Err(r) => rejected(r),
            }
        }
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", "upload"),
    }
}

fn blob(inner: &Inner, method: &Method, name: &str, digest: &str) -> Response {
    let store = lock(&inner.store);
    let Some(content) = store.blob(name, digest) else {
        return error(StatusCode::NOT_FOUND, "BLOB_UNKNOWN", digest);
    };
    let headers = [
        ("content-type", "application/octet-stream".to_owned()),
        ("content-length", content.len().to_string()),
        ("docker-content-digest", digest.to_owned()),
    ];
    let body = if *method == Method::HEAD {
        Vec::new()
    } else {
        content.to_vec()
    };
    respond(StatusCode::OK, &headers, body)
}

fn get_manifest(inner: &Inner, method: &Method, name: &str, reference: &str) -> Response {
    let store = lock(&inner.store);
    let Some(m) = store.manifest(name, reference) else {
        return error(StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN", reference);
    };
    let headers = [
        ("content-type", m.media_type.clone()),
        ("content-length", m.bytes.len().to_string()),
        ("docker-content-digest", m.digest.to_string()),
    ];
    let body = if *method == Method::HEAD {
        Vec::new()
    } else {
        m.bytes.clone()
    };
    respond(StatusCode::OK, &headers, body)
}

fn put_manifest(
    inner: &Inner,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    bytes: Vec<u8>,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let referrers_api = lock(&inner.behaviour).referrers_api;
    let mut store = lock(&inner.store);
    // Honour If-Match on tags, as the client's read-modify-write expects
    // where a registry supports conditional requests.
    if let Some(etag) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        let current = store
            .manifest(name, reference)
            .map(|m| m.digest.to_string());
        if current.as_deref() != Some(etag.trim_matches('"')) {
            return error(StatusCode::PRECONDITION_FAILED, "PRECONDITION", etag);
        }
    }
    let (digest, subject) = match store.put_manifest(name, reference, &content_type, bytes) {
        Ok(stored) => stored,
        Err(r) => return rejected(r),
    };
    drop(store);
    // A registry with the API indexes the subject itself and says so.
    let oci_subject = subject
        .as_ref()
        .filter(|_| referrers_api)
        .map(Digest::to_string);
    let mut out = vec![
        ("location", format!("/v2/{name}/manifests/{digest}")),
        ("docker-content-digest", digest.to_string()),
    ];
    if let Some(s) = &oci_subject {
        out.push(("oci-subject", s.clone()));
    }
    lock(&inner.log).manifest_puts.push(ManifestPut {
        repository: name.to_owned(),
        reference: reference.to_owned(),
        media_type: content_type,
        digest,
        subject,
        oci_subject,
    });
    respond(StatusCode::CREATED, &out, Vec::new())
}

fn referrers(
    inner: &Inner,
    name: &str,
    subject: &str,
    query: &HashMap<String, String>,
) -> Response {
    let behaviour = *lock(&inner.behaviour);
    let artifact_type = query.get("artifactType").cloned();
    let mut call = ReferrersCall {
        repository: name.to_owned(),
        subject: subject.to_owned(),
        artifact_type: artifact_type.clone(),
        filter_applied: false,
        status: 404,
        listed: 0,
        has_next: false,
    };
    let response = if !behaviour.referrers_api {
        // What distribution 2.8 answers: the route does not exist.
        error(StatusCode::NOT_FOUND, "NOT_FOUND", "no referrers API")
    } else if let Ok(digest) = Digest::parse(subject) {
        let mut listed = lock(&inner.store).referrers(name, &digest);
        let filter = artifact_type.as_deref().filter(|_| behaviour.filter);
        if let Some(t) = filter {
            listed.retain(|d| d.get("artifactType").and_then(|v| v.as_str()) == Some(t));
        }
        let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
        let size = behaviour.page_size.unwrap_or(usize::MAX).max(1);
        let start = page.saturating_mul(size).min(listed.len());
        let end = start.saturating_add(size).min(listed.len());
        let mut headers = vec![("content-type", OCI_INDEX.to_owned())];
        if filter.is_some() {
            headers.push(("oci-filters-applied", "artifactType".to_owned()));
        }
        if end < listed.len() {
            let mut next = url::form_urlencoded::Serializer::new(String::new());
            if let Some(t) = &artifact_type {
                next.append_pair("artifactType", t);
            }
            next.append_pair("page", &(page + 1).to_string());
            // Relative, as registries commonly send it.
            let link = format!(
                "</v2/{name}/referrers/{subject}?{}>; rel=\"next\"",
                next.finish()
            );
            headers.push(("link", link));
        }
        call.filter_applied = filter.is_some();
        call.status = 200;
        call.listed = end - start;
        call.has_next = end < listed.len();
        respond(StatusCode::OK, &headers, index_of(&listed[start..end]))
    } else {
        call.status = 400;
        error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", subject)
    };
    lock(&inner.log).referrers_calls.push(call);
    response
}

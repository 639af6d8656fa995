//! Fulcio's HTTP API (v2 JSON as served by Fulcio's grpc-gateway, and v1
//! for old clients), the CA's part of `trusted_root.json`, and the CT
//! log's routes ([`crate::ct_http`]).
//!
//! Errors are `{"code": <gRPC code>, "message": "..."}` with an HTTP
//! status that says who is at fault. Tokens are never logged.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{CaError, RequestError};
use crate::pop::KeyRequest;
use crate::CaState;

/// Build the router over a CA state.
pub fn router(state: Arc<CaState>) -> Router {
    let ct = crate::ct_http::CtHttp {
        log: state.ct.clone(),
        max_body_bytes: state.max_body_bytes,
    };
    Router::new()
        .route("/api/v2/signingCert", post(signing_cert_v2))
        .route("/api/v2/trustBundle", get(trust_bundle))
        .route("/api/v2/configuration", get(configuration))
        .route("/api/v1/signingCert", post(signing_cert_v1))
        .route("/api/v1/rootCert", get(root_cert_v1))
        .route("/trusted_root.json", get(trusted_root))
        .route("/healthz", get(|| async { "ok" }))
        // The log explorer page for the CT log at `/` (keyless-explorer).
        .merge(keyless_explorer::ct_routes())
        .with_state(state)
        // The CT log: RFC 6962 writes, static-ct-api reads.
        .merge(crate::ct_http::ct_router(ct))
}

fn grpc_code(status: u16) -> u16 {
    match status {
        400 => 3,  // INVALID_ARGUMENT
        401 => 16, // UNAUTHENTICATED
        413 => 8,  // RESOURCE_EXHAUSTED
        503 => 14, // UNAVAILABLE
        _ => 13,   // INTERNAL
    }
}

/// The JSON error answer.
pub struct ApiError(pub CaError);

impl<E: Into<CaError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.http_status();
        // The whole chain: what the message said when each error embedded
        // its cause.
        let message = crate::error::error_chain(&self.0);
        if status >= 500 {
            tracing::error!(error = %message, "certificate request failed");
        } else {
            tracing::info!(error = %message, "certificate request rejected");
        }
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            code,
            Json(json!({"code": grpc_code(status), "message": message})),
        )
            .into_response()
    }
}

async fn read_body(state: &CaState, body: Body) -> Result<Vec<u8>, RequestError> {
    axum::body::to_bytes(body, state.max_body_bytes)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| RequestError::TooLarge {
            max: state.max_body_bytes,
        })
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn b64(field: &'static str, s: &str) -> Result<Vec<u8>, RequestError> {
    keyless_types::b64::decode(s).map_err(|_| RequestError::Base64 { field })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Request {
    #[serde(default)]
    credentials: Option<Credentials>,
    #[serde(default)]
    public_key_request: Option<PublicKeyRequest>,
    #[serde(default)]
    certificate_signing_request: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credentials {
    #[serde(default)]
    oidc_identity_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyRequest {
    public_key: V2PublicKey,
    #[serde(default)]
    proof_of_possession: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2PublicKey {
    #[serde(default)]
    algorithm: Option<String>,
    content: String,
}

/// One token, from the body or the Authorization header; both may be
/// given only if they agree.
fn pick_token(body: Option<String>, headers: &HeaderMap) -> Result<String, RequestError> {
    match (body.filter(|t| !t.is_empty()), bearer(headers)) {
        (Some(a), Some(b)) if a != b => Err(RequestError::ConflictingTokens),
        (Some(t), _) | (None, Some(t)) => Ok(t),
        (None, None) => Err(RequestError::MissingToken),
    }
}

async fn signing_cert_v2(
    State(state): State<Arc<CaState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(&state, body).await?;
    let req: V2Request =
        serde_json::from_slice(&body).map_err(|e| RequestError::Json(Arc::new(e)))?;
    let token = pick_token(
        req.credentials.and_then(|c| c.oidc_identity_token),
        &headers,
    )?;
    let key_request = match (req.public_key_request, req.certificate_signing_request) {
        (Some(pk), None) => KeyRequest::Signed {
            public_key: pk.public_key.content.into_bytes(),
            algorithm: pk.public_key.algorithm,
            proof: b64(
                "publicKeyRequest.proofOfPossession",
                pk.proof_of_possession
                    .as_deref()
                    .ok_or(RequestError::MissingField {
                        field: "publicKeyRequest.proofOfPossession",
                    })?,
            )?,
        },
        (None, Some(csr)) => KeyRequest::Csr(b64("certificateSigningRequest", &csr)?),
        _ => return Err(RequestError::KeyRequestShape.into()),
    };
    let chain = state.issue(&token, &key_request).await?;
    let body = json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Request {
    public_key: V1PublicKey,
    #[serde(default)]
    signed_email_address: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1PublicKey {
    content: String,
    #[serde(default)]
    algorithm: Option<String>,
}

/// v1: base64 key (PEM or DER) and base64 signature over the challenge;
/// the answer is a PEM chain, leaf first.
async fn signing_cert_v1(
    State(state): State<Arc<CaState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(&state, body).await?;
    let req: V1Request =
        serde_json::from_slice(&body).map_err(|e| RequestError::Json(Arc::new(e)))?;
    let token = pick_token(None, &headers)?;
    let key_request = KeyRequest::Signed {
        public_key: b64("publicKey.content", &req.public_key.content)?,
        algorithm: req.public_key.algorithm.map(|a| a.to_ascii_uppercase()),
        proof: b64(
            "signedEmailAddress",
            req.signed_email_address
                .as_deref()
                .ok_or(RequestError::MissingField {
                    field: "signedEmailAddress",
                })?,
        )?,
    };
    let chain = state.issue(&token, &key_request).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        chain.concat(),
    )
        .into_response())
}

async fn trust_bundle(State(state): State<Arc<CaState>>) -> Json<Value> {
    Json(json!({"chains": [{"certificates": state.chain_pem}]}))
}

async fn root_cert_v1(State(state): State<Arc<CaState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        state.chain_pem.concat(),
    )
        .into_response()
}

async fn configuration(State(state): State<Arc<CaState>>) -> Json<Value> {
    let cfg = state.verifier.issuers().config();
    let mut issuers = Vec::new();
    for iss in cfg.oidc_issuers.values() {
        issuers.push(issuer_json(json!({"issuerUrl": iss.issuer_url}), iss));
    }
    for (pattern, iss) in &cfg.meta_issuers {
        issuers.push(issuer_json(json!({"wildcardIssuerUrl": pattern}), iss));
    }
    Json(json!({ "issuers": issuers }))
}

fn issuer_json(mut v: Value, iss: &crate::config::IssuerConfig) -> Value {
    v["audience"] = json!(iss.client_id);
    v["challengeClaim"] = json!(iss.challenge_claim());
    if let Some(td) = &iss.spiffe_trust_domain {
        v["spiffeTrustDomain"] = json!(td);
    }
    v
}

async fn trusted_root(State(state): State<Arc<CaState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.trusted_root_json.clone(),
    )
        .into_response()
}

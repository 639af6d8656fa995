//! The token endpoint: authorization code (+ PKCE verifier), device code,
//! and the development mint grant for configured identities.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

use crate::consts::{DEVICE_CODE_GRANT, DEV_MINT_GRANT};
use crate::device::{poll, Poll};
use crate::issuer::{Ctx, MintOptions};
use crate::util::now;

fn oauth_error(code: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

fn issue(ctx: &Ctx, opts: MintOptions) -> Response {
    match ctx.issuer.mint(&opts) {
        Ok(id_token) => Json(json!({
            "access_token": id_token,
            "id_token": id_token,
            "token_type": "Bearer",
            "expires_in": ctx.issuer.config().token_lifetime_secs,
        }))
        .into_response(),
        Err(e) => oauth_error("invalid_request", &e.to_string()),
    }
}

pub(crate) async fn token(
    State(ctx): State<Ctx>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).filter(|v| !v.is_empty()).cloned();
    match get("grant_type").as_deref() {
        Some("authorization_code") => {
            let (Some(code), Some(verifier)) = (get("code"), get("code_verifier")) else {
                return oauth_error("invalid_request", "code and code_verifier are required");
            };
            let pending = ctx
                .issuer
                .codes
                .lock()
                .ok()
                .and_then(|mut c| c.remove(&code));
            let Some(p) = pending else {
                return oauth_error("invalid_grant", "unknown or already used code");
            };
            if p.expires < now() {
                return oauth_error("invalid_grant", "code expired");
            }
            if get("redirect_uri").as_deref() != Some(p.redirect_uri.as_str()) {
                return oauth_error(
                    "invalid_grant",
                    "redirect_uri does not match the authorization request",
                );
            }
            if get("client_id").is_some_and(|c| c != p.client_id) {
                return oauth_error(
                    "invalid_grant",
                    "client_id does not match the authorization request",
                );
            }
            // RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge.
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(keyless_crypto::sha256(verifier.as_bytes()));
            if !(43..=128).contains(&verifier.len()) || computed != p.challenge {
                return oauth_error(
                    "invalid_grant",
                    "PKCE code_verifier does not match code_challenge",
                );
            }
            issue(
                &ctx,
                MintOptions {
                    identity: Some(p.identity),
                    audience: Some(p.client_id),
                    nonce: p.nonce,
                    ..Default::default()
                },
            )
        }
        Some(DEVICE_CODE_GRANT) => {
            let (Some(device_code), Some(client_id)) = (get("device_code"), get("client_id"))
            else {
                return oauth_error("invalid_request", "device_code and client_id are required");
            };
            match poll(&ctx, &device_code, &client_id) {
                Poll::Ready {
                    identity,
                    client_id,
                } => issue(
                    &ctx,
                    MintOptions {
                        identity: Some(identity),
                        audience: Some(client_id),
                        ..Default::default()
                    },
                ),
                Poll::Error(code, description) => oauth_error(code, description),
            }
        }
        Some(DEV_MINT_GRANT) => {
            let identity = match get("identity") {
                Some(name) => match ctx.issuer.identity(&name) {
                    Ok(i) if i.provider == ctx.provider => name,
                    Ok(_) => {
                        return oauth_error(
                            "invalid_request",
                            "identity belongs to another issuer path",
                        )
                    }
                    Err(e) => return oauth_error("invalid_request", &e.to_string()),
                },
                None => match ctx.issuer.default_for(ctx.provider) {
                    Some(i) => i.name.clone(),
                    None => return oauth_error("invalid_request", "no identity for this issuer"),
                },
            };
            issue(
                &ctx,
                MintOptions {
                    identity: Some(identity),
                    subject: get("subject"),
                    audience: get("audience").or_else(|| get("client_id")),
                    ..Default::default()
                },
            )
        }
        _ => oauth_error(
            "unsupported_grant_type",
            "grant_type must be authorization_code, device_code or the dev mint grant",
        ),
    }
}

//! OpenID Connect Discovery 1.0 §3 metadata and the JWKS.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::consts::{DEVICE_CODE_GRANT, DEV_MINT_GRANT};
use crate::issuer::Ctx;

pub(crate) async fn configuration(State(ctx): State<Ctx>) -> Json<Value> {
    let iss = ctx.iss();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "jwks_uri": format!("{iss}/keys"),
        "device_authorization_endpoint": format!("{iss}/device/code"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "grant_types_supported": ["authorization_code", DEVICE_CODE_GRANT, DEV_MINT_GRANT],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email"],
        "token_endpoint_auth_methods_supported": ["none"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "email", "email_verified", "nonce"]
    }))
}

pub(crate) async fn keys(State(ctx): State<Ctx>) -> Json<Value> {
    Json(ctx.issuer.jwks())
}

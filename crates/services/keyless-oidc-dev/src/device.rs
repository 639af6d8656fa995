//! RFC 8628 device authorization grant: `keyless sign` on a machine
//! without a browser shows a code; someone approves it at `/device`.

use std::collections::HashMap;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::authorize::escape;
use crate::issuer::Ctx;
use crate::pending::PendingDevice;
use crate::util::{now, random_token};

const DEVICE_TTL: u64 = 600;
const MAX_PENDING: usize = 1024;

/// Eight characters from an alphabet without look-alikes, as `XXXX-XXXX`.
fn user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut raw = [0u8; 8];
    let _ = aws_lc_rs::rand::fill(&mut raw);
    let chars: String = raw
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

fn oauth_error(code: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

/// §3.1–3.2: the device authorization request and response.
pub(crate) async fn device_code(
    State(ctx): State<Ctx>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some(client_id) = f.get("client_id").filter(|c| !c.is_empty()).cloned() else {
        return oauth_error("invalid_request", "client_id is required");
    };
    let device_code = random_token(32);
    let user_code = user_code();
    let interval = ctx.issuer.config().device_poll_interval_secs;
    if let Ok(mut d) = ctx.issuer.devices.lock() {
        let t = now();
        d.retain(|_, p| p.expires > t);
        if d.len() >= MAX_PENDING {
            return oauth_error("slow_down", "too many pending device logins");
        }
        d.insert(
            device_code.clone(),
            PendingDevice {
                user_code: user_code.clone(),
                client_id,
                provider: ctx.provider,
                approved_identity: None,
                denied: false,
                expires: t + DEVICE_TTL,
                interval,
                last_poll_ms: None,
            },
        );
    }
    let iss = ctx.iss();
    Json(json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": format!("{iss}/device"),
        "verification_uri_complete": format!("{iss}/device?user_code={user_code}"),
        "expires_in": DEVICE_TTL,
        "interval": interval,
    }))
    .into_response()
}

pub(crate) async fn verification_page(
    State(ctx): State<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Html<String> {
    let code = q.get("user_code").cloned().unwrap_or_default();
    let options: String = ctx
        .issuer
        .identities()
        .iter()
        .filter(|i| i.provider == ctx.provider)
        .map(|i| format!("<option value=\"{0}\">{0}</option>", escape(&i.name)))
        .collect();
    Html(format!(
        "<!doctype html><title>keyless dev device login</title><h1>keyless development issuer</h1>\
         <p><strong>Development only.</strong> Enter the code shown by the device.</p>\
         <form method=\"post\"><input name=\"user_code\" value=\"{}\"> <select name=\"identity\">{options}</select>\
         <button name=\"action\" value=\"approve\">Approve</button> <button name=\"action\" value=\"deny\">Deny</button></form>",
        escape(&code)
    ))
}

/// Approve (or deny) a user code as an identity.
pub(crate) async fn approve(
    State(ctx): State<Ctx>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let code = f
        .get("user_code")
        .map(|c| c.trim().to_ascii_uppercase())
        .unwrap_or_default();
    let deny = f.get("action").map(String::as_str) == Some("deny");
    let identity = match f.get("identity").filter(|i| !i.is_empty()) {
        Some(name) => match ctx.issuer.identity(name) {
            Ok(i) if i.provider == ctx.provider => i.name.clone(),
            _ => {
                return (
                    StatusCode::BAD_REQUEST,
                    Html("<p>unknown identity for this issuer</p>".to_string()),
                )
                    .into_response()
            }
        },
        None => match ctx.issuer.default_for(ctx.provider) {
            Some(i) => i.name.clone(),
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    Html("<p>no identity configured</p>".to_string()),
                )
                    .into_response()
            }
        },
    };
    let Ok(mut d) = ctx.issuer.devices.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let t = now();
    let Some(p) = d
        .values_mut()
        .find(|p| p.user_code == code && p.expires > t && p.provider == ctx.provider)
    else {
        return (
            StatusCode::NOT_FOUND,
            Html("<p>unknown or expired code</p>".to_string()),
        )
            .into_response();
    };
    if deny {
        p.denied = true;
        return Html("<p>Denied. You can close this window.</p>".to_string()).into_response();
    }
    p.approved_identity = Some(identity);
    Html("<p>Approved. You can close this window.</p>".to_string()).into_response()
}

/// §3.4–3.5: one poll of the token endpoint with a device code.
pub(crate) enum Poll {
    Ready { identity: String, client_id: String },
    Error(&'static str, &'static str),
}

pub(crate) fn poll(ctx: &Ctx, device_code: &str, client_id: &str) -> Poll {
    let Ok(mut d) = ctx.issuer.devices.lock() else {
        return Poll::Error("server_error", "state poisoned");
    };
    let t = now();
    let Some(p) = d.get_mut(device_code) else {
        return Poll::Error("invalid_grant", "unknown device_code");
    };
    if p.provider != ctx.provider || p.client_id != client_id {
        return Poll::Error(
            "invalid_grant",
            "device_code was issued to another client or issuer",
        );
    }
    if p.expires <= t {
        d.remove(device_code);
        return Poll::Error("expired_token", "the device code expired");
    }
    if p.denied {
        d.remove(device_code);
        return Poll::Error("access_denied", "the user denied the request");
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let too_fast = p
        .last_poll_ms
        .is_some_and(|last| now_ms.saturating_sub(last) < u128::from(p.interval) * 1000);
    p.last_poll_ms = Some(now_ms);
    if too_fast {
        // §3.5: slow_down, and the interval grows by 5 seconds.
        p.interval += 5;
        return Poll::Error("slow_down", "polling faster than the interval");
    }
    match p.approved_identity.clone() {
        Some(identity) => {
            let client_id = p.client_id.clone();
            d.remove(device_code);
            Poll::Ready {
                identity,
                client_id,
            }
        }
        None => Poll::Error("authorization_pending", "the user has not approved yet"),
    }
}

//! Authorization code flow with PKCE (RFC 7636, S256 only) and a loopback
//! redirect (RFC 8252 §7.3): what `keyless sign` does in a browser.

use std::collections::HashMap;

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::issuer::Ctx;
use crate::pending::PendingCode;
use crate::util::{now, random_token};

/// Codes live one minute and are used once.
const CODE_TTL: u64 = 60;
/// Most outstanding codes; older ones are dropped beyond this.
const MAX_PENDING: usize = 1024;

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn bad(msg: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!("<h1>Bad request</h1><p>{}</p>", escape(msg))),
    )
        .into_response()
}

/// Only loopback redirects: this issuer must never hand codes to the network.
fn loopback_redirect(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    let host_ok = match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    u.scheme() == "http" && host_ok
}

struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    state: Option<String>,
    nonce: Option<String>,
    identity: String,
}

/// Why an authorization request is refused (answered 400 with the
/// message; a `Display` per case, no lower error to carry).
#[derive(Debug, thiserror::Error)]
enum AuthorizeError {
    #[error("response_type must be code")]
    ResponseType,
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("redirect_uri must be http on a loopback address")]
    RedirectUri,
    #[error("PKCE with code_challenge_method=S256 is required")]
    Pkce,
    #[error("code_challenge must be 43–128 characters")]
    ChallengeLength,
    #[error(transparent)]
    Identity(#[from] crate::error::OidcDevError),
    #[error("identity {0:?} belongs to another issuer path")]
    OtherProvider(String),
    #[error("no identity configured for this issuer")]
    NoIdentity,
}

fn parse(ctx: &Ctx, q: &HashMap<String, String>) -> Result<AuthRequest, AuthorizeError> {
    use AuthorizeError as E;
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    if get("response_type").as_deref() != Some("code") {
        return Err(E::ResponseType);
    }
    let client_id = get("client_id").ok_or(E::Missing("client_id"))?;
    let redirect_uri = get("redirect_uri").ok_or(E::Missing("redirect_uri"))?;
    if !loopback_redirect(&redirect_uri) {
        return Err(E::RedirectUri);
    }
    if get("code_challenge_method").as_deref() != Some("S256") {
        return Err(E::Pkce);
    }
    let challenge = get("code_challenge").ok_or(E::Missing("code_challenge"))?;
    if !(43..=128).contains(&challenge.len()) {
        return Err(E::ChallengeLength);
    }
    let identity = match get("identity").or_else(|| get("login_hint")) {
        Some(name) => {
            let ident = ctx.issuer.identity(&name)?;
            if ident.provider != ctx.provider {
                return Err(E::OtherProvider(name));
            }
            name
        }
        None => ctx
            .issuer
            .default_for(ctx.provider)
            .ok_or(E::NoIdentity)?
            .name
            .clone(),
    };
    Ok(AuthRequest {
        client_id,
        redirect_uri,
        challenge,
        state: get("state"),
        nonce: get("nonce"),
        identity,
    })
}

fn approve(ctx: &Ctx, req: AuthRequest) -> Response {
    let code = random_token(24);
    if let Ok(mut codes) = ctx.issuer.codes.lock() {
        let t = now();
        codes.retain(|_, c| c.expires > t);
        if codes.len() >= MAX_PENDING {
            return bad("too many pending logins");
        }
        codes.insert(
            code.clone(),
            PendingCode {
                identity: req.identity,
                client_id: req.client_id,
                redirect_uri: req.redirect_uri.clone(),
                challenge: req.challenge,
                nonce: req.nonce,
                expires: t + CODE_TTL,
            },
        );
    }
    let Ok(mut target) = url::Url::parse(&req.redirect_uri) else {
        return bad("redirect_uri");
    };
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(s) = &req.state {
        target.query_pairs_mut().append_pair("state", s);
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

pub(crate) async fn authorize_get(
    State(ctx): State<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let req = match parse(&ctx, &q) {
        Ok(r) => r,
        Err(e) => return bad(&e.to_string()),
    };
    if ctx.issuer.config().auto_approve {
        return approve(&ctx, req);
    }
    let hidden: String = q
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><title>keyless dev login</title><h1>keyless development issuer</h1>\
         <p><strong>Development only.</strong> Sign in to <code>{}</code> as <code>{}</code>?</p>\
         <form method=\"post\">{hidden}<button type=\"submit\">Approve</button></form>",
        escape(&req.client_id),
        escape(&req.identity)
    ))
    .into_response()
}

pub(crate) async fn authorize_post(
    State(ctx): State<Ctx>,
    Form(q): Form<HashMap<String, String>>,
) -> Response {
    match parse(&ctx, &q) {
        Ok(req) => approve(&ctx, req),
        Err(e) => bad(&e.to_string()),
    }
}

//! The HTTP side: one router per provider path, and `keyless server oidc`.

use std::sync::Arc;

use axum::Router;

use crate::consts::ISSUER_FILE;
use crate::error::{io_err, OidcDevError};
use crate::identity::Provider;
use crate::issuer::{Ctx, DevIssuer, OidcDevConfig};
use crate::{authorize, device, discovery, token};

/// The router for an issuer.
pub fn router(issuer: Arc<DevIssuer>) -> Router {
    let mut app = provider_router(issuer.clone(), Provider::Email);
    for p in [Provider::Github, Provider::Gitlab, Provider::Buildkite] {
        app = app.nest(p.path(), provider_router(issuer.clone(), p));
    }
    app
}

fn provider_router(issuer: Arc<DevIssuer>, provider: Provider) -> Router {
    use axum::routing::{get, post};
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route("/keys", get(discovery::keys))
        .route(
            "/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/device/code", post(device::device_code))
        .route(
            "/device",
            get(device::verification_page).post(device::approve),
        )
        .route("/token", post(token::token))
        .with_state(Ctx { issuer, provider })
}

/// Serve the issuer on `listener` until the process ends. Writes the base
/// URL to the data dir so that `keyless dev-token` can mint matching tokens.
pub async fn serve(
    config: OidcDevConfig,
    listener: tokio::net::TcpListener,
) -> Result<(), OidcDevError> {
    serve_with_shutdown(config, listener, std::future::pending()).await
}

/// Open the issuer for `listener`: what [`serve`] runs, for callers that
/// need the issuer (e.g. to mint tokens) while it serves.
pub fn open_for(
    config: OidcDevConfig,
    listener: &tokio::net::TcpListener,
) -> Result<Arc<DevIssuer>, OidcDevError> {
    let addr = listener.local_addr().map_err(OidcDevError::Listener)?;
    let base = config
        .issuer_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    std::fs::create_dir_all(&config.data_dir).map_err(io_err("creating", &config.data_dir))?;
    let issuer_file = config.data_dir.join(ISSUER_FILE);
    std::fs::write(&issuer_file, &base).map_err(io_err("writing", &issuer_file))?;
    Ok(Arc::new(DevIssuer::open(config, &base)?))
}

pub async fn serve_with_shutdown(
    config: OidcDevConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), OidcDevError> {
    let issuer = open_for(config, &listener)?;
    tracing::warn!(url = %issuer.base_url, "DEVELOPMENT OIDC issuer: approves logins without authentication");
    axum::serve(listener, router(issuer))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(OidcDevError::Serve)
}

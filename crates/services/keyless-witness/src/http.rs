//! The HTTP service: `POST /add-checkpoint`, with the request body capped
//! before it is read and the blocking work (fsync) off the async threads.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use crate::error::WitnessError;
use crate::request::MAX_BODY;
use crate::witness::Witness;

/// Content type of a 409 answer carrying the stored size.
pub const TLOG_SIZE: &str = "text/x.tlog.size";

/// The witness routes.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(witness)
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let result = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body)).await;
    match result {
        Ok(Ok(lines)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            lines,
        )
            .into_response(),
        Ok(Err(e)) => error_response(&e),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    }
}

fn error_response(e: &WitnessError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let WitnessError::SizeConflict { stored, .. } = e {
        return (
            status,
            [(header::CONTENT_TYPE, TLOG_SIZE)],
            format!("{stored}\n"),
        )
            .into_response();
    }
    if status.is_server_error() {
        tracing::error!(error = %e, "add-checkpoint failed");
        return (status, "internal error\n").into_response();
    }
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{e}\n"),
    )
        .into_response()
}

/// Serve `witness` on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    witness: Arc<Witness>,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness)).await
}

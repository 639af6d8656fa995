//! Witness cosignatures for the Rekor log's checkpoints: the asking is
//! the core's ([`keyless_log::witnessing`], shared with the CT log);
//! [`attach`] serves the cosigned note, log signature plus cosignatures,
//! at `/checkpoint` and `/api/v2/checkpoint` while it is the latest
//! checkpoint (else the plain latest: the tiles a client fetches always
//! match the checkpoint it was given).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
pub use keyless_log::witnessing::{WitnessEndpoint, Witnessing, WitnessingError, COSIGNATURES};

/// Serve [`Witnessing::checkpoint`] at `/checkpoint` and
/// `/api/v2/checkpoint` of `router` (a layer in front of the plain route),
/// and the witnesses' vkeys at [`keyless_explorer::WITNESSES_PATH`] for the
/// explorer page.
pub fn attach(router: Router, witnessing: Arc<Witnessing>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(
        witnessing,
        checkpoint_layer,
    ))
}

async fn checkpoint_layer(
    State(witnessing): State<Arc<Witnessing>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if request.method() == Method::GET && path == keyless_explorer::WITNESSES_PATH {
        // The explorer page verifies the cosignatures with these keys.
        return keyless_explorer::witnesses_response(&witnessing.vkeys());
    }
    if request.method() == Method::GET && (path == "/checkpoint" || path == "/api/v2/checkpoint") {
        return (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            witnessing.checkpoint(),
        )
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_parse_checks_url_and_vkey_type() {
        let key = keyless_crypto::SigningKey::generate(keyless_crypto::KeyAlgorithm::Ed25519)
            .expect("key");
        let witness = keyless_witness::Cosigner::new("w.example/1", key).expect("cosigner");
        let arg = format!("https://w.example/prefix={}", witness.vkey());
        let e = WitnessEndpoint::parse(&arg).expect("parses");
        assert_eq!(e.url, "https://w.example/prefix");
        assert_eq!(e.vkey, witness.vkey());
        assert!(WitnessEndpoint::parse(&witness.vkey()).is_err());
        assert!(WitnessEndpoint::parse(&format!("ftp://x={}", witness.vkey())).is_err());
        // A log (type 0x01) vkey is not a witness vkey.
        let mut v = keyless_witness::vkey::Vkey::parse(&witness.vkey()).expect("vkey");
        v.key_type = keyless_witness::vkey::TYPE_ED25519;
        assert!(WitnessEndpoint::parse(&format!("http://x={}", v.to_text())).is_err());
    }
}

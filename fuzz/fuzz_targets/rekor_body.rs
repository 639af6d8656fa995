//! Rekor entry bodies (keyless-types `rekor::EntryBody`), the
//! `canonicalizedBody` of a bundle's log entry: every kind and version,
//! the second-base64-layer helpers, and the in-toto statement inside an
//! intoto payload. A parsed body written back must parse to the same body.
#![no_main]

use keyless_types::intoto::Statement;
use keyless_types::rekor::EntryBody;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// The body JSON of a parsed entry, as a log would write it.
fn reserialise(body: &EntryBody) -> Option<Value> {
    let (kind, version) = body.kind_version();
    let spec = match body {
        EntryBody::HashedRekordV001(b) => serde_json::to_value(b).ok()?,
        EntryBody::HashedRekordV002(b) => json!({ "hashedRekordV002": b }),
        EntryBody::DsseV001(b) => serde_json::to_value(b).ok()?,
        EntryBody::DsseV002(b) => json!({ "dsseV002": b }),
        EntryBody::IntotoV002(b) => serde_json::to_value(b).ok()?,
        _ => return None,
    };
    Some(json!({ "apiVersion": version, "kind": kind, "spec": spec }))
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = EntryBody::parse(data) else {
        return;
    };
    let v = reserialise(&body).expect("a parsed body serialises");
    let bytes = serde_json::to_vec(&v).expect("JSON value to bytes");
    let again = EntryBody::parse(&bytes).expect("a reserialised body parses");
    assert_eq!(
        again, body,
        "entry body changed in a serialise/parse round trip"
    );
    if let EntryBody::IntotoV002(b) = &body {
        let payload = b.content.envelope.payload_bytes();
        let _ = serde_json::from_slice::<Statement>(&payload)
            .map(|s| s.has_subject_digest("sha256", &"0".repeat(64)));
        for sig in &b.content.envelope.signatures {
            let _ = sig.signature_bytes();
        }
    }
});

//! The transparency log's request parsers (keyless-log `entries`): Rekor
//! v1 proposed entries (hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2) and
//! Rekor v2 `hashedRekordRequestV002`, each verified before it becomes a
//! canonical body. Whatever the log accepts must be a body that
//! keyless-types parses back as the same kind, since verifiers read it
//! with that parser; and canonicalisation must be a fixed point.
#![no_main]

use keyless_rekor::entries::{v1, v2};
use keyless_types::rekor::EntryBody;
use libfuzzer_sys::fuzz_target;

fn check(entry: &v2::Entry) {
    let body = EntryBody::parse(&entry.body).unwrap_or_else(|e| {
        panic!("the log accepted a request whose body keyless-types rejects: {e}")
    });
    assert_eq!(
        body.kind_version().0,
        entry.kind,
        "the log's kind differs from the body's"
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = v1::parse_request(data) {
        check(&entry);
        // A hashedrekord 0.0.1 body has the shape of its request: proposing
        // it again must give the byte-identical body (de-duplication).
        if entry.kind == "hashedrekord" {
            let again = v1::parse_request(&entry.body)
                .expect("a canonical hashedrekord body is a valid request");
            assert_eq!(
                again.body, entry.body,
                "hashedrekord canonical body is not a fixed point"
            );
        }
    }
    if let Ok(entry) = v2::parse_request(data) {
        check(&entry);
    }
});

//! C2SP signed notes and checkpoints (keyless-tlog): parse, verify with
//! the log keys of two fixed trusted roots (public-good and the sigstage
//! root of the conformance Rekor v2 cases), and check the round trips
//! the log and the verifier rely on.
#![no_main]

use std::sync::OnceLock;

use keyless_crypto::PublicKey;
use keyless_tlog::{Checkpoint, NoteVerifier, SignedNote};
use keyless_types::TrustedRoot;
use libfuzzer_sys::fuzz_target;

const ROOTS: [&[u8]; 2] = [
    include_bytes!("../../assets/public-good/trusted_root.json"),
    include_bytes!("../fixtures/sigstage-trusted_root.json"),
];

/// Verifiers for every log key of the fixed roots, both ways
/// keyless-verify builds them: by origin name (Rekor v2), and by key hint
/// alone (Rekor v1, ECDSA keys only).
fn verifiers() -> &'static [NoteVerifier] {
    static V: OnceLock<Vec<NoteVerifier>> = OnceLock::new();
    V.get_or_init(|| {
        let mut out = Vec::new();
        for json in ROOTS {
            let root = TrustedRoot::from_json(json).expect("fixed trusted root parses");
            for log in &root.tlogs {
                let Ok(key) = PublicKey::from_spki_der(&log.key_bytes) else {
                    continue;
                };
                out.extend(NoteVerifier::new(log.origin(), key.clone()).ok());
                out.extend(NoteVerifier::any_name(key).ok());
            }
        }
        assert!(!out.is_empty(), "the fixed roots list no usable log key");
        out
    })
}

fn check_checkpoint(body: &str) {
    let Ok(cp) = Checkpoint::parse(body) else {
        return;
    };
    let again = Checkpoint::parse(&cp.to_body()).expect("to_body of a parsed checkpoint parses");
    assert_eq!(
        again, cp,
        "checkpoint changed in a to_body/parse round trip"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_checkpoint(text);
    let Ok(note) = SignedNote::parse(text) else {
        return;
    };
    // SignedNote::new promises that to_text parses back to an equal note;
    // parse must keep the same promise.
    let again = SignedNote::parse(&note.to_text()).expect("to_text of a parsed note parses");
    assert_eq!(again, note, "note changed in a to_text/parse round trip");
    for v in verifiers() {
        let _ = note.verify(v);
    }
    check_checkpoint(note.body());
});

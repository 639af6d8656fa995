//! The lower-level parsers on raw bytes: signed notes and checkpoints,
//! RFC 3161 tokens, certificates, SCT lists, trusted roots.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(note) = keyless_tlog::SignedNote::parse(text) {
            let _ = keyless_tlog::Checkpoint::parse(note.body());
        }
    }
    let _ = keyless_tsp::TimestampToken::from_der(data);
    if let Ok(cert) = keyless_x509::Certificate::from_der(data) {
        let _ = keyless_x509::fulcio_identity(&cert);
        let _ = keyless_x509::embedded_scts(&cert);
    }
    let _ = keyless_x509::parse_sct_list(data);
    let _ = keyless_types::TrustedRoot::from_json(data);
});

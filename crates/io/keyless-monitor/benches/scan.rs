//! Entries scanned per second: entry bundles of hashedrekord entries with
//! Fulcio certificates (as the keyless log holds them) decoded, hashed,
//! parsed and matched against an identity, the work `keyless monitor`
//! does per entry once the bundle is fetched.
//!
//! `cargo bench -p keyless-monitor` (ENTRIES=N to change the size).

use std::time::Instant;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyless_crypto::KeyAlgorithm;
use keyless_monitor::scan::scan_bundle;
use keyless_monitor::Matcher;
use keyless_tlog::tiles::{encode_entry_bundle, TILE_WIDTH};

fn main() {
    let total: u64 = std::env::var("ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256 * 400);
    let ca = keyless_testkit::minted::Instance::new();
    // A few signers, so not every entry carries the same certificate.
    let certs: Vec<String> = (0..8)
        .map(|_| {
            let der = ca.signer(KeyAlgorithm::EcdsaP256).cert_der;
            let b64 = STANDARD.encode(der);
            let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
            for line in b64.as_bytes().chunks(64) {
                pem.push_str(std::str::from_utf8(line).unwrap_or_default());
                pem.push('\n');
            }
            pem.push_str("-----END CERTIFICATE-----\n");
            STANDARD.encode(pem)
        })
        .collect();
    let bodies: Vec<Vec<u8>> = (0..total)
        .map(|i| {
            let digest = hex::encode(keyless_crypto::sha256(&i.to_be_bytes()));
            format!(
                r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{digest}"}}}},"signature":{{"content":"MEUCIQDx","publicKey":{{"content":"{}"}}}}}}}}"#,
                certs[(i % 8) as usize]
            )
            .into_bytes()
        })
        .collect();
    let bundles: Vec<Vec<u8>> = bodies
        .chunks(TILE_WIDTH as usize)
        .map(|c| encode_entry_bundle(c.iter().map(Vec::as_slice)).unwrap_or_default())
        .collect();
    let matcher = Matcher::new(Some("nobody@example.com".into()), None, None, Vec::new());
    let start = Instant::now();
    let mut scanned = 0u64;
    for (i, b) in bundles.iter().enumerate() {
        let want = (total - i as u64 * TILE_WIDTH).min(TILE_WIDTH) as usize;
        match scan_bundle(b, i as u64, want, 0, &matcher) {
            Ok(s) => {
                assert_eq!(s.undecodable, 0, "every entry decodes");
                scanned += s.leaves.len() as u64;
            }
            Err(e) => panic!("bundle {i}: {e}"),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "scanned {scanned} entries in {secs:.3} s: {:.0} entries/s (one core)",
        scanned as f64 / secs
    );
}

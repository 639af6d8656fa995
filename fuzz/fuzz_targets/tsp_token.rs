//! RFC 3161 time-stamp tokens (keyless-tsp): parse, then verify against
//! the TSA chains of two fixed trusted roots (the embedded public-good
//! root, and the sigstage root of the conformance Rekor v2 cases).
//!
//! Input: a 2-byte big-endian length `n`, `n` bytes that were timestamped
//! (in Sigstore, the signature bytes), then the token DER. Seeds are real
//! (signature, token) pairs, so mutations start from tokens that verify.
#![no_main]

use std::sync::OnceLock;

use keyless_tsp::TimestampToken;
use keyless_types::TrustedRoot;
use keyless_x509::Certificate;
use libfuzzer_sys::fuzz_target;

const ROOTS: [&[u8]; 2] = [
    include_bytes!("../../assets/public-good/trusted_root.json"),
    include_bytes!("../fixtures/sigstage-trusted_root.json"),
];

/// Every TSA chain of the fixed roots, leaf first.
fn chains() -> &'static [Vec<Certificate>] {
    static C: OnceLock<Vec<Vec<Certificate>>> = OnceLock::new();
    C.get_or_init(|| {
        let mut out = Vec::new();
        for json in ROOTS {
            let root = TrustedRoot::from_json(json).expect("fixed trusted root parses");
            for tsa in &root.timestamp_authorities {
                let chain = tsa
                    .cert_chain
                    .iter()
                    .map(|der| Certificate::from_der(der).expect("fixed TSA certificate parses"))
                    .collect();
                out.push(chain);
            }
        }
        assert!(!out.is_empty(), "the fixed roots list no TSA");
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let (timestamped, der) = match data {
        [hi, lo, rest @ ..] if usize::from(u16::from_be_bytes([*hi, *lo])) <= rest.len() => {
            rest.split_at(usize::from(u16::from_be_bytes([*hi, *lo])))
        }
        _ => (&[][..], data),
    };
    let Ok(token) = TimestampToken::from_der(der) else {
        return;
    };
    let _ = token.tst_info();
    let _ = token.embedded_certificates();
    for chain in chains() {
        if let Ok(t) = token.verify(timestamped, chain) {
            assert_eq!(
                t,
                token.gen_time(),
                "verify returned a time other than genTime"
            );
            // Fail closed: the same token must not vouch for other bytes.
            let mut other = timestamped.to_vec();
            match other.last_mut() {
                Some(b) => *b ^= 1,
                None => other.push(0),
            }
            assert!(
                token.verify(&other, chain).is_err(),
                "a token verified for bytes it does not timestamp"
            );
        }
    }
    let _ = token
        .verify(timestamped, &[])
        .expect_err("an empty trusted chain must not verify");
});

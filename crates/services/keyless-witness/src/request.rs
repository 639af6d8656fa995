//! The add-checkpoint request body: `old <size>\n`, up to 63 base64
//! consistency proof hashes one per line, an empty line, then the signed
//! checkpoint note.
//!
//! The format itself is keyless-tlog's [`keyless_tlog::witness_request`]
//! (one encoder and parser for the log and the witness); this module maps
//! its refusals to [`WitnessError::Malformed`] (HTTP 400).

pub use keyless_tlog::witness_request::{encode, AddCheckpoint, MAX_BODY, MAX_PROOF_LINES};

use crate::error::WitnessError;

/// Parse a request body.
pub fn parse(body: &[u8]) -> Result<AddCheckpoint, WitnessError> {
    keyless_tlog::witness_request::parse(body).map_err(|e| WitnessError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTE: &str = "example.com/log\n2\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/log AAAAAAAA\n";

    #[test]
    fn refusals_are_malformed_with_the_reason() {
        let req = parse(encode(1, &[[7u8; 32]], NOTE).as_bytes()).unwrap();
        assert_eq!(req.old_size, 1);
        for (bad, why) in [
            (
                format!("old 01\n\n{NOTE}"),
                "first line is not `old <size>`",
            ),
            ("old 1\n".to_string(), "no empty line before the checkpoint"),
        ] {
            match parse(bad.as_bytes()) {
                Err(e @ WitnessError::Malformed(_)) => {
                    assert_eq!(e.to_string(), format!("malformed request: {why}"));
                    assert_eq!(e.status(), 400);
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        let too_many = encode(1, &vec![[0u8; 32]; MAX_PROOF_LINES + 1], NOTE);
        assert!(matches!(
            parse(too_many.as_bytes()),
            Err(WitnessError::Malformed(_))
        ));
        assert!(matches!(
            parse(&vec![b'a'; MAX_BODY + 1]),
            Err(WitnessError::Malformed(_))
        ));
    }
}

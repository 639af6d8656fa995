//! The add-checkpoint request body: `old <size>\n`, up to 63 base64
//! consistency proof hashes one per line, an empty line, then the signed
//! checkpoint note.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_tlog::{Checkpoint, Hash, SignedNote};

use crate::error::WitnessError;

/// Largest request body: a checkpoint is a few hundred bytes, a proof at
/// most 63 × 45 bytes; 64 KiB leaves room for many signature lines.
pub const MAX_BODY: usize = 64 * 1024;
/// At most this many proof lines (spec: clients MUST NOT send more).
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed request.
#[derive(Debug)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    pub note: SignedNote,
    pub checkpoint: Checkpoint,
}

fn malformed(msg: impl Into<String>) -> WitnessError {
    WitnessError::Malformed(msg.into())
}

/// A canonical decimal: digits only, no leading zero unless "0".
fn parse_size(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Parse a request body.
pub fn parse(body: &[u8]) -> Result<AddCheckpoint, WitnessError> {
    if body.len() > MAX_BODY {
        return Err(malformed(format!("body is larger than {MAX_BODY} bytes")));
    }
    let text = std::str::from_utf8(body).map_err(|_| malformed("body is not UTF-8"))?;
    let (first, mut rest) = text
        .split_once('\n')
        .ok_or_else(|| malformed("no old size line"))?;
    let old_size = first
        .strip_prefix("old ")
        .and_then(parse_size)
        .ok_or_else(|| malformed("first line is not `old <size>`"))?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or_else(|| malformed("no empty line before the checkpoint"))?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(malformed(format!(
                "more than {MAX_PROOF_LINES} proof lines"
            )));
        }
        let hash: Hash = B64
            .decode(line)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| {
                malformed(format!(
                    "proof line {} is not a base64 hash",
                    proof.len() + 1
                ))
            })?;
        proof.push(hash);
    }
    let note = SignedNote::parse(rest).map_err(|e| malformed(format!("checkpoint note: {e}")))?;
    let checkpoint =
        Checkpoint::parse(note.body()).map_err(|e| malformed(format!("checkpoint: {e}")))?;
    Ok(AddCheckpoint {
        old_size,
        proof,
        note,
        checkpoint,
    })
}

/// The request body for `note_text` (a signed checkpoint) with `proof`
/// from `old_size`: what a log sends.
pub fn encode(old_size: u64, proof: &[Hash], note_text: &str) -> String {
    let mut out = format!("old {old_size}\n");
    for h in proof {
        out.push_str(&B64.encode(h));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(note_text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTE: &str = "example.com/log\n2\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/log AAAAAAAA\n";

    #[test]
    fn parses_and_refuses() {
        let body = encode(1, &[[7u8; 32]], NOTE);
        let req = parse(body.as_bytes()).unwrap();
        assert_eq!(req.old_size, 1);
        assert_eq!(req.proof, vec![[7u8; 32]]);
        assert_eq!(req.checkpoint.size, 2);

        for bad in [
            format!("old 01\n\n{NOTE}"),
            format!("old -1\n\n{NOTE}"),
            format!("new 1\n\n{NOTE}"),
            format!("old 1\nnot-base64!\n\n{NOTE}"),
            format!("old 1\n{}\n\n{NOTE}", B64.encode([1u8; 31])),
            "old 1\n".to_string(),
            "old 1\n\nnot a note".to_string(),
        ] {
            assert!(
                matches!(parse(bad.as_bytes()), Err(WitnessError::Malformed(_))),
                "{bad:?}"
            );
        }
        let too_many = encode(1, &vec![[0u8; 32]; 64], NOTE);
        assert!(matches!(
            parse(too_many.as_bytes()),
            Err(WitnessError::Malformed(_))
        ));
        assert!(parse(&vec![b'a'; MAX_BODY + 1]).is_err());
    }
}

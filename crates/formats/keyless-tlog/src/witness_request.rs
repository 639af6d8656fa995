//! The C2SP tlog-witness `add-checkpoint` request body
//! (<https://c2sp.org/tlog-witness>): `old <size>\n`, up to 63 base64
//! consistency proof hashes one per line, an empty line, then the signed
//! checkpoint note.
//!
//! Both ends of the protocol live in this workspace (the log's witnessing
//! client encodes, the witness parses), so the format is written down once
//! here, next to the note and checkpoint code it wraps: a change to one side
//! that the other would not read fails this module's round-trip test.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use thiserror::Error;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::hash::Hash;
use crate::note::{NoteError, SignedNote};

/// Largest request body: a checkpoint is a few hundred bytes, a proof at
/// most 63 × 45 bytes; 64 KiB leaves room for many signature lines.
pub const MAX_BODY: usize = 64 * 1024;
/// At most this many proof lines (spec: clients MUST NOT send more).
pub const MAX_PROOF_LINES: usize = 63;

/// Why a body is not a well-formed add-checkpoint request.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WitnessRequestError {
    /// More than [`MAX_BODY`] bytes.
    #[error("body is larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("body is not UTF-8")]
    NotUtf8,
    /// No newline at all: not even the first line is complete.
    #[error("no old size line")]
    NoOldSizeLine,
    /// The first line is not `old ` and a canonical decimal.
    #[error("first line is not `old <size>`")]
    BadOldSize,
    /// The proof lines are not followed by an empty line.
    #[error("no empty line before the checkpoint")]
    NoEmptyLine,
    /// More than [`MAX_PROOF_LINES`] proof lines.
    #[error("more than {MAX_PROOF_LINES} proof lines")]
    TooManyProofLines,
    /// Proof line `line` (1-based) is not a base64 32-byte hash.
    #[error("proof line {line} is not a base64 hash")]
    BadProofLine { line: usize },
    /// What follows the empty line is not a signed note.
    #[error("checkpoint note: {0}")]
    Note(NoteError),
    /// The note's body is not a checkpoint.
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointError),
}

/// A parsed request.
#[derive(Debug)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    pub note: SignedNote,
    pub checkpoint: Checkpoint,
}

/// A canonical decimal: digits only, no leading zero unless "0".
fn parse_size(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Parse a request body (what a witness receives). Signatures are not
/// checked here: which keys to trust is the witness's business.
pub fn parse(body: &[u8]) -> Result<AddCheckpoint, WitnessRequestError> {
    if body.len() > MAX_BODY {
        return Err(WitnessRequestError::TooLarge);
    }
    let text = std::str::from_utf8(body).map_err(|_| WitnessRequestError::NotUtf8)?;
    let (first, mut rest) = text
        .split_once('\n')
        .ok_or(WitnessRequestError::NoOldSizeLine)?;
    let old_size = first
        .strip_prefix("old ")
        .and_then(parse_size)
        .ok_or(WitnessRequestError::BadOldSize)?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or(WitnessRequestError::NoEmptyLine)?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(WitnessRequestError::TooManyProofLines);
        }
        let hash: Hash = B64
            .decode(line)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or(WitnessRequestError::BadProofLine {
                line: proof.len() + 1,
            })?;
        proof.push(hash);
    }
    let note = SignedNote::parse(rest).map_err(WitnessRequestError::Note)?;
    let checkpoint = Checkpoint::parse(note.body()).map_err(WitnessRequestError::Checkpoint)?;
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
    fn encode_is_the_tlog_witness_body() {
        let body = encode(3, &[[0u8; 32]], "note\n");
        let zeros = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(body, format!("old 3\n{zeros}\n\nnote\n"));
    }

    #[test]
    fn round_trip() {
        for proof in [vec![], vec![[7u8; 32]], vec![[1u8; 32]; MAX_PROOF_LINES]] {
            let body = encode(1, &proof, NOTE);
            let req = parse(body.as_bytes()).expect("parses");
            assert_eq!(req.old_size, 1);
            assert_eq!(req.proof, proof);
            assert_eq!(req.checkpoint.origin, "example.com/log");
            assert_eq!(req.checkpoint.size, 2);
            assert_eq!(
                req.note.body(),
                "example.com/log\n2\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
            );
        }
    }

    #[test]
    fn refuses_malformed_bodies() {
        use WitnessRequestError as E;
        let short = B64.encode([1u8; 31]);
        let cases: Vec<(String, E)> = vec![
            (format!("old 01\n\n{NOTE}"), E::BadOldSize),
            (format!("old -1\n\n{NOTE}"), E::BadOldSize),
            (format!("old \n\n{NOTE}"), E::BadOldSize),
            (format!("new 1\n\n{NOTE}"), E::BadOldSize),
            (
                format!("old 1\nnot-base64!\n\n{NOTE}"),
                E::BadProofLine { line: 1 },
            ),
            (
                format!("old 1\n{short}\n\n{NOTE}"),
                E::BadProofLine { line: 1 },
            ),
            ("old 1".to_string(), E::NoOldSizeLine),
            ("old 1\n".to_string(), E::NoEmptyLine),
        ];
        for (bad, want) in cases {
            assert_eq!(parse(bad.as_bytes()).err(), Some(want), "{bad:?}");
        }
        assert!(matches!(parse(b"old 1\n\nnot a note"), Err(E::Note(_))));
        assert!(matches!(
            parse(b"old 1\n\nnot a checkpoint\n\n\xe2\x80\x94 example.com/log AAAAAAAA\n"),
            Err(E::Checkpoint(_))
        ));
        assert_eq!(parse(b"old 1\n\xff\n\n").err(), Some(E::NotUtf8));
    }

    #[test]
    fn caps_line_count_and_size() {
        let too_many = encode(1, &vec![[0u8; 32]; MAX_PROOF_LINES + 1], NOTE);
        assert_eq!(
            parse(too_many.as_bytes()).err(),
            Some(WitnessRequestError::TooManyProofLines)
        );
        assert_eq!(
            parse(&vec![b'a'; MAX_BODY + 1]).err(),
            Some(WitnessRequestError::TooLarge)
        );
        // The messages the witness sends back name the caps.
        assert_eq!(
            WitnessRequestError::TooManyProofLines.to_string(),
            "more than 63 proof lines"
        );
        assert_eq!(
            WitnessRequestError::TooLarge.to_string(),
            "body is larger than 65536 bytes"
        );
    }
}

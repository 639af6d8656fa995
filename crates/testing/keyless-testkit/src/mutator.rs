//! A small structure-aware mutator for bundle JSON, shared by the mutation
//! test and the `mutate` example. Not cryptographic: a xorshift PRNG keeps
//! runs reproducible from a seed.
//!
//! It lives in the testkit so the test and the example import it instead of
//! including a file of keyless-verify's tests by `#[path]`.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

const INTERESTING: &[&str] = &[
    "-1",
    "0",
    "null",
    "\"\"",
    "[]",
    "{}",
    "18446744073709551616",
    "\"AA==\"",
    "true",
    "\"-1\"",
];

/// Apply one to three random mutations.
pub fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(3) {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        match rng.below(7) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out[at] = b"AZaz09+/=\"{}[],:-"[rng.below(17)],
            2 => {
                let end = (at + rng.below(64)).min(out.len());
                out.drain(at..end);
            }
            3 => {
                let from = rng.below(out.len());
                let len = rng.below(64).min(out.len() - from);
                let chunk = out[from..from + len].to_vec();
                out.splice(at..at, chunk);
            }
            4 => {
                // Replace a JSON value (after a colon) with an interesting one.
                if let Some(colon) = out[at..]
                    .iter()
                    .position(|b| *b == b':')
                    .map(|p| p + at + 1)
                {
                    let end = out[colon..]
                        .iter()
                        .position(|b| matches!(b, b',' | b'}' | b']'))
                        .map_or(out.len(), |p| p + colon);
                    let v = INTERESTING[rng.below(INTERESTING.len())]
                        .as_bytes()
                        .to_vec();
                    out.splice(colon..end, v);
                }
            }
            5 => {
                // Flip a character inside a base64 string, which keeps the JSON valid.
                if out[at].is_ascii_alphanumeric() {
                    out[at] = if out[at] == b'A' { b'B' } else { b'A' };
                }
            }
            _ => out.truncate(at),
        }
    }
    out
}

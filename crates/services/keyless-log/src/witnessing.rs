//! Witness cosignatures for the log's checkpoints (C2SP tlog-witness,
//! client side).
//!
//! [`Witnessing::start`] runs a background task: whenever the log has
//! published a checkpoint the witnesses have not cosigned yet, it sends it
//! to each witness with `POST <url>/add-checkpoint` (the old size the
//! witness last cosigned and the log's consistency proof from it; a
//! witness that answers 409 with its stored size, e.g. after a restart of
//! the log, is asked again from that size), keeps the cosignature lines
//! that verify with the witness's vkey, and [`Witnessing::checkpoint`] is
//! that note, log signature plus cosignatures, while it is the latest
//! checkpoint. When the log has moved past it (the witnesses have not
//! answered yet, or refused), it is the plain latest checkpoint: the
//! tiles a client fetches always match the checkpoint it was given.
//!
//! Personality-free: it needs only the core [`Log`]'s checkpoints and
//! consistency proofs, so the Rekor log (keyless-rekor, which serves it
//! at `/checkpoint`) and the CT log (keyless-ca) share it. Serving is the
//! personality's: a personality whose served note carries more signature
//! lines than the core's (the CT log's RFC 6962 note signature) appends
//! [`Witnessing::cosignatures_for`].

use std::sync::{Arc, RwLock};
use std::time::Duration;

use keyless_tlog::witness_request::encode;
use keyless_tlog::{CosignatureVerifier, Hash, SignedNote};
use thiserror::Error;

use crate::{Log, LogError};

/// How often the task looks for a new checkpoint.
const POLL: Duration = Duration::from_millis(200);
/// How long after a failed round the same checkpoint is offered again
/// to every witness (a witness that was down still gets to cosign a quiet
/// log's last checkpoint).
const RETRY: Duration = Duration::from_secs(5);
/// Longest a witness request may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Largest witness answer read (a few signature lines).
const MAX_ANSWER: usize = 16 * 1024;
/// The C2SP tlog-witness content type of a 409 answer carrying the
/// witness's stored size.
const TLOG_SIZE: &str = "text/x.tlog.size";

/// A witness to ask: its submission prefix (`http(s)://host[/prefix]`) and
/// its cosignature/v1 vkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessEndpoint {
    pub url: String,
    pub vkey: String,
}

impl WitnessEndpoint {
    /// Parse `URL=VKEY` (split at the first '='; a vkey may end in '='),
    /// checking that the vkey is a cosignature/v1 one, so a mistyped key
    /// fails at start-up rather than as missing cosignatures later.
    pub fn parse(arg: &str) -> Result<Self, String> {
        let (url, vkey) = arg
            .split_once('=')
            .ok_or_else(|| format!("{arg:?} is not URL=VKEY"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("witness URL {url:?} is not http(s)"));
        }
        CosignatureVerifier::from_vkey(vkey)
            .map_err(|e| format!("{vkey:?} is not an Ed25519 cosignature/v1 vkey: {e}"))?;
        Ok(Self {
            url: url.to_string(),
            vkey: vkey.to_string(),
        })
    }
}

/// Cosignatures the log received, by `witness` URL (only configured
/// witnesses, so the label set is bounded).
pub const COSIGNATURES: &str = "keyless_log_witness_cosignatures_total";

/// Why one witness did not cosign one checkpoint.
#[derive(Debug, Error)]
pub enum WitnessingError {
    #[error("request to {url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} answered more than {MAX_ANSWER} bytes")]
    TooLarge { url: String },
    #[error("{url} is ahead of the log (size {witness} > {log})")]
    Ahead { url: String, witness: u64, log: u64 },
    #[error("{url} answered no cosignature that verifies with its vkey")]
    NoValidCosignature { url: String },
    #[error("consistency proof: {0}")]
    Proof(#[from] LogError),
}

/// The latest cosigned checkpoint: its size and the note with every
/// witness's cosignature lines appended.
#[derive(Debug, Clone)]
struct Cosigned {
    size: u64,
    root: Hash,
    note: String,
    /// Where the cosignature lines start in `note`.
    note_len: usize,
}

/// The witnessing task's shared state.
#[derive(Debug)]
pub struct Witnessing {
    log: Log,
    cosigned: RwLock<Option<Cosigned>>,
    /// The witnesses' vkeys, in configuration order.
    vkeys: Vec<String>,
}

impl Witnessing {
    /// Start asking `witnesses` to cosign `log`'s checkpoints. Must be
    /// called within a tokio runtime; the task ends when the returned
    /// handle and every router using it are dropped.
    pub fn start(log: Log, witnesses: Vec<WitnessEndpoint>) -> Arc<Self> {
        let this = Arc::new(Self {
            log,
            cosigned: RwLock::new(None),
            vkeys: witnesses.iter().map(|w| w.vkey.clone()).collect(),
        });
        let weak = Arc::downgrade(&this);
        tokio::spawn(async move {
            // The witnesses may be served over TLS by a private CA:
            // `--ca-bundle`'s roots are trusted on top of the system's. A
            // bundle that does not parse disables witnessing (logged), never
            // a client with fewer roots.
            let client = keyless_ca_bundle::trust(reqwest::Client::builder().timeout(TIMEOUT))
                .and_then(reqwest::ClientBuilder::build);
            let client = match client {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(
                        error = %e,
                        "witnessing disabled: no HTTP client (the CA bundle from --ca-bundle could not be used)"
                    );
                    return;
                }
            };
            // The size each witness last cosigned, as far as we know.
            let mut known: Vec<u64> = vec![0; witnesses.len()];
            let mut done = None;
            let mut retry_at: Option<tokio::time::Instant> = None;
            loop {
                tokio::time::sleep(POLL).await;
                let Some(this) = weak.upgrade() else { return };
                let published = this.log.published();
                let retry_due = retry_at.is_some_and(|t| tokio::time::Instant::now() >= t);
                if done == Some(published.size) && !retry_due {
                    continue;
                }
                // All witnesses at once: a slow one delays none of the others.
                let mut asks = tokio::task::JoinSet::new();
                for (i, w) in witnesses.iter().enumerate() {
                    let (client, log, w) = (client.clone(), this.log.clone(), w.clone());
                    let (mut old, size) = (known[i], published.size);
                    let note = published.note.clone();
                    asks.spawn(async move {
                        let answer = cosign(&client, &log, &w, &mut old, size, &note).await;
                        (i, old, answer)
                    });
                }
                let mut answers: Vec<Option<String>> = vec![None; witnesses.len()];
                let mut failed = false;
                while let Some(joined) = asks.join_next().await {
                    let Ok((i, old, answer)) = joined else {
                        failed = true;
                        continue;
                    };
                    known[i] = old;
                    match answer {
                        Ok(l) => {
                            metrics::counter!(COSIGNATURES, "witness" => witnesses[i].url.clone())
                                .increment(1);
                            answers[i] = Some(l);
                        }
                        Err(e) => {
                            failed = true;
                            tracing::warn!(witness = %witnesses[i].url, error = %e, "no cosignature");
                        }
                    }
                }
                // In configuration order, whatever order they answered in.
                let lines: String = answers.into_iter().flatten().collect();
                done = Some(published.size);
                retry_at = failed.then(|| tokio::time::Instant::now() + RETRY);
                if lines.is_empty() {
                    continue;
                }
                let cosigned = Cosigned {
                    size: published.size,
                    root: published.root,
                    note: format!("{}{lines}", published.note),
                    note_len: published.note.len(),
                };
                *this.cosigned.write().unwrap_or_else(|p| p.into_inner()) = Some(cosigned);
            }
        });
        this
    }

    /// The `cosignature/v1` vkeys of the configured witnesses.
    pub fn vkeys(&self) -> Vec<String> {
        self.vkeys.clone()
    }

    /// The checkpoint to serve: the cosigned one if it is the latest,
    /// else the plain latest.
    pub fn checkpoint(&self) -> String {
        let published = self.log.published();
        let cosigned = self.cosigned.read().unwrap_or_else(|p| p.into_inner());
        match cosigned.as_ref() {
            Some(c) if c.size == published.size && c.root == published.root => c.note.clone(),
            _ => published.note.clone(),
        }
    }

    /// The witnesses' cosignature lines (each ending in a newline) of the
    /// checkpoint of `size` and `root`, if it is the cosigned one: for a
    /// personality that serves the checkpoint with signature lines of its
    /// own and appends these.
    pub fn cosignatures_for(&self, size: u64, root: &Hash) -> Option<String> {
        let cosigned = self.cosigned.read().unwrap_or_else(|p| p.into_inner());
        let c = cosigned
            .as_ref()
            .filter(|c| c.size == size && &c.root == root)?;
        c.note.get(c.note_len..).map(str::to_string)
    }
}

/// Ask witness `w` to cosign the checkpoint `note` of size `size`, from
/// the size `old` it last cosigned (updated on success or on a 409).
async fn cosign(
    client: &reqwest::Client,
    log: &Log,
    w: &WitnessEndpoint,
    old: &mut u64,
    size: u64,
    note: &str,
) -> Result<String, WitnessingError> {
    let url = format!("{}/add-checkpoint", w.url.trim_end_matches('/'));
    for _attempt in 0..2 {
        if *old > size {
            return Err(WitnessingError::Ahead {
                url,
                witness: *old,
                log: size,
            });
        }
        let proof = if *old == 0 || *old == size {
            Vec::new()
        } else {
            let (log, from) = (log.clone(), *old);
            tokio::task::spawn_blocking(move || log.consistency_proof(from, size))
                .await
                .map_err(|_| LogError::Config("proof task failed".into()))??
        };
        let body = encode(*old, &proof, note);
        let (status, ctype, answer) = post(client, &url, body).await?;
        if status == 409 && ctype.starts_with(TLOG_SIZE) {
            if let Some(stored) = answer.trim_end().parse::<u64>().ok().filter(|s| s != old) {
                *old = stored;
                continue;
            }
        }
        if status != 200 {
            return Err(WitnessingError::Refused {
                url,
                status,
                body: answer,
            });
        }
        let lines =
            verified_lines(w, note, &answer).ok_or(WitnessingError::NoValidCosignature { url })?;
        *old = size;
        return Ok(lines);
    }
    Err(WitnessingError::Refused {
        url,
        status: 409,
        body: "the witness's size kept changing".into(),
    })
}

/// The lines of `answer` that are cosignatures of `note` by `w`.
fn verified_lines(w: &WitnessEndpoint, note: &str, answer: &str) -> Option<String> {
    let verifier = CosignatureVerifier::from_vkey(&w.vkey).ok()?;
    let mut out = String::new();
    for line in answer.lines() {
        // Parsed as the note with this one line appended, so a line is
        // read exactly as a client reading the served note will read it.
        let Ok(with_line) = SignedNote::parse(&format!("{note}{line}\n")) else {
            continue;
        };
        let Some(sig) = with_line.signatures().last() else {
            continue;
        };
        if verifier.verify(with_line.body(), sig).is_ok() {
            out.push_str(line);
            out.push('\n');
        }
    }
    (!out.is_empty()).then_some(out)
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: String,
) -> Result<(u16, String, String), WitnessingError> {
    let http = |source| WitnessingError::Http {
        url: url.to_string(),
        source,
    };
    let resp = client.post(url).body(body).send().await.map_err(http)?;
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let buf = keyless_ca_bundle::read_capped(resp, MAX_ANSWER as u64)
        .await
        .map_err(|e| match e {
            keyless_ca_bundle::BodyError::TooLarge { .. } => WitnessingError::TooLarge {
                url: url.to_string(),
            },
            keyless_ca_bundle::BodyError::Http(source) => http(source),
        })?;
    Ok((status, ctype, String::from_utf8_lossy(&buf).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn cosignature_vkey() -> String {
        // Name "w.example/1", an arbitrary 32-byte key, the key ID the
        // tlog crate computes.
        let raw = [9u8; 32];
        let hint = keyless_tlog::cosignature::key_hint("w.example/1", &raw);
        let mut material = vec![keyless_tlog::cosignature::TYPE_COSIGNATURE_V1];
        material.extend_from_slice(&raw);
        let b64 = base64::engine::general_purpose::STANDARD;
        format!("w.example/1+{}+{}", hex::encode(hint), b64.encode(material))
    }

    #[test]
    fn endpoint_parse_checks_url_and_vkey_type() {
        let vkey = cosignature_vkey();
        let e = WitnessEndpoint::parse(&format!("https://w.example/prefix={vkey}"));
        let e = e.expect("parses");
        assert_eq!(e.url, "https://w.example/prefix");
        assert_eq!(e.vkey, vkey);
        assert!(WitnessEndpoint::parse(&vkey).is_err());
        assert!(WitnessEndpoint::parse(&format!("ftp://x={vkey}")).is_err());
        // A log (type 0x01) vkey is not a witness vkey.
        let (head, key) = vkey.rsplit_once('+').expect("vkey");
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut material = b64.decode(key).expect("b64");
        material[0] = 0x01;
        let log_vkey = format!("{head}+{}", b64.encode(material));
        assert!(WitnessEndpoint::parse(&format!("http://x={log_vkey}")).is_err());
    }
}

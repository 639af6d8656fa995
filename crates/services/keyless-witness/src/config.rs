//! The witness configuration file (JSON):
//!
//! ```json
//! { "name": "witness.example/w1",
//!   "logs": [ { "origin": "log.example", "vkey": "log.example+1a2b3c4d+AQ..." } ] }
//! ```
//!
//! A log that signs its checkpoints with ECDSA P-256 (the CT log of
//! keyless-ca, whose note signature is made with its CT key) is listed
//! with `"public_key_pem": "-----BEGIN PUBLIC KEY-----\n..."` (its SPKI
//! PEM, e.g. `ctlog.pub.pem`) instead of a vkey; the signature line's
//! name is the origin.
//!
//! `name` is the cosigner name on signature lines. A log may be listed more
//! than once with different keys (key rotation); a checkpoint is accepted
//! if any of its origin's keys verifies it.

use std::collections::BTreeMap;
use std::path::Path;

use keyless_tlog::NoteVerifier;
use serde::Deserialize;

use crate::error::WitnessError;
use crate::vkey::log_verifier;

/// Largest configuration file read.
const MAX_CONFIG_SIZE: u64 = 1 << 20;

/// One log the witness cosigns for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// The checkpoint origin line.
    pub origin: String,
    /// The log's C2SP vkey (Ed25519, type 0x01); empty when
    /// `public_key_pem` is given.
    #[serde(default)]
    pub vkey: String,
    /// Instead of `vkey`: the log's public key as SPKI PEM (any key the
    /// note verifier takes, e.g. ECDSA P-256), named by the origin.
    #[serde(default)]
    pub public_key_pem: Option<String>,
}

/// The parsed configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// The cosigner name.
    pub name: String,
    pub logs: Vec<LogEntry>,
}

impl WitnessConfig {
    /// Read and parse `path`.
    pub fn load(path: &Path) -> Result<Self, WitnessError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| WitnessError::Config(format!("{}: {e}", path.display())))?;
        if meta.len() > MAX_CONFIG_SIZE {
            return Err(WitnessError::Config(format!(
                "{} is larger than {MAX_CONFIG_SIZE} bytes",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| WitnessError::Config(format!("{}: {e}", path.display())))?;
        serde_json::from_str(&text)
            .map_err(|e| WitnessError::Config(format!("{}: {e}", path.display())))
    }

    /// The verifiers of each origin; fails on any vkey that does not parse
    /// or whose key ID is wrong, and on an empty or duplicate-free-of-logs
    /// configuration (a witness for no log is a mistake).
    pub fn verifiers(&self) -> Result<BTreeMap<String, Vec<NoteVerifier>>, WitnessError> {
        if self.logs.is_empty() {
            return Err(WitnessError::Config("no logs configured".into()));
        }
        let mut map: BTreeMap<String, Vec<NoteVerifier>> = BTreeMap::new();
        for log in &self.logs {
            if log.origin.is_empty() || log.origin.contains('\n') {
                return Err(WitnessError::Config(format!(
                    "log origin {:?} is empty or has a newline",
                    log.origin
                )));
            }
            let verifier = match (&log.public_key_pem, log.vkey.is_empty()) {
                (None, false) => log_verifier(&log.vkey).map_err(|e| {
                    WitnessError::Config(format!("vkey of log {:?}: {e}", log.origin))
                })?,
                (Some(pem), true) => keyless_crypto::PublicKey::from_pem(pem)
                    .map_err(|e| e.to_string())
                    .and_then(|key| NoteVerifier::new(&log.origin, key).map_err(|e| e.to_string()))
                    .map_err(|e| {
                        WitnessError::Config(format!("public_key_pem of log {:?}: {e}", log.origin))
                    })?,
                _ => {
                    return Err(WitnessError::Config(format!(
                        "log {:?} needs exactly one of vkey and public_key_pem",
                        log.origin
                    )))
                }
            };
            map.entry(log.origin.clone()).or_default().push(verifier);
        }
        Ok(map)
    }
}

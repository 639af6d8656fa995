//! cosign's environment variables for trust material, each replacing one
//! part of the trusted root (and saying so on stderr, since it changes
//! what a verification trusts):
//!
//! - `SIGSTORE_REKOR_PUBLIC_KEY`: PEM public key of the (Rekor v1) log;
//! - `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`: PEM public key of the CT log;
//! - `SIGSTORE_TSA_CERTIFICATE_FILE`: PEM chain of the timestamp authority
//!   (leaf first, root last).
//!
//! Replaced keys and certificates are trusted without a time bound, as in
//! cosign. `COSIGN_EXPERIMENTAL` is accepted and ignored (what it enabled in
//! cosign 1.x is the default).

use std::path::{Path, PathBuf};

use keyless_crypto::PublicKey;
use keyless_verify::{TrustMaterial, TrustedAuthority, TrustedLog, VerificationError};

pub const REKOR_PUBLIC_KEY: &str = "SIGSTORE_REKOR_PUBLIC_KEY";
pub const CT_LOG_PUBLIC_KEY_FILE: &str = "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE";
pub const TSA_CERTIFICATE_FILE: &str = "SIGSTORE_TSA_CERTIFICATE_FILE";

/// Largest trust file read from these variables.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Print a note when `COSIGN_EXPERIMENTAL` is set.
pub fn note_ignored() {
    if std::env::var_os("COSIGN_EXPERIMENTAL").is_some_and(|v| !v.is_empty()) {
        eprintln!(
            "Note: COSIGN_EXPERIMENTAL is ignored: keyless signing, the transparency log and \
             OCI referrers are always enabled"
        );
    }
}

fn var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Replace the parts of `trust` named by the variables. `log_url` (verify's
/// `--rekor-url`) names the log whose key `SIGSTORE_REKOR_PUBLIC_KEY` is.
pub fn apply(
    mut trust: TrustMaterial,
    log_url: Option<&str>,
) -> Result<TrustMaterial, VerificationError> {
    if let Some(path) = var(REKOR_PUBLIC_KEY) {
        let key = public_key(REKOR_PUBLIC_KEY, &path)?;
        let base_url = log_url
            .map(str::to_string)
            .unwrap_or_else(|| path.display().to_string());
        let origin = base_url
            .split_once("://")
            .map_or(base_url.as_str(), |(_, r)| r)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        eprintln!(
            "Note: {REKOR_PUBLIC_KEY}={}: the transparency log key replaces the trusted root's logs",
            path.display()
        );
        trust.tlogs = vec![TrustedLog {
            base_url,
            origin,
            log_id: keyless_crypto::sha256(key.spki_der()).to_vec(),
            key,
            valid_for: all_time(),
        }];
    }
    if let Some(path) = var(CT_LOG_PUBLIC_KEY_FILE) {
        let key = public_key(CT_LOG_PUBLIC_KEY_FILE, &path)?;
        eprintln!(
            "Note: {CT_LOG_PUBLIC_KEY_FILE}={}: the CT log key replaces the trusted root's CT logs",
            path.display()
        );
        trust.ctlogs = vec![keyless_x509::CtLogKey::new(key, i64::MIN, None)];
    }
    if let Some(path) = var(TSA_CERTIFICATE_FILE) {
        let pem = read(TSA_CERTIFICATE_FILE, &path)?;
        let chain = pem
            .split_inclusive("-----END CERTIFICATE-----")
            .filter(|b| b.contains("-----BEGIN"))
            .map(keyless_x509::Certificate::from_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| material(TSA_CERTIFICATE_FILE, &path, e.to_string()))?;
        if chain.is_empty() {
            return Err(material(
                TSA_CERTIFICATE_FILE,
                &path,
                String::from("no certificate in the file"),
            ));
        }
        eprintln!(
            "Note: {TSA_CERTIFICATE_FILE}={}: the timestamp authority chain replaces the trusted root's TSAs",
            path.display()
        );
        trust.tsas = vec![TrustedAuthority {
            uri: path.display().to_string(),
            chain,
            valid_for: all_time(),
        }];
    }
    Ok(trust)
}

fn all_time() -> keyless_types::ValidityPeriod {
    keyless_types::ValidityPeriod {
        start: i64::MIN,
        end: None,
    }
}

fn read(what: &'static str, path: &Path) -> Result<String, VerificationError> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| material(what, path, e.to_string()))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(material(what, path, String::from("larger than 1 MiB")));
    }
    Ok(text)
}

fn public_key(what: &'static str, path: &Path) -> Result<PublicKey, VerificationError> {
    PublicKey::from_pem(&read(what, path)?).map_err(|e| material(what, path, e.to_string()))
}

fn material(what: &'static str, path: &Path, problem: String) -> VerificationError {
    keyless_verify::error::TrustRootError::Material {
        what,
        name: path.display().to_string(),
        problem,
    }
    .into()
}

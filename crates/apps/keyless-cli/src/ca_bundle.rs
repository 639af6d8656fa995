//! `--ca-bundle FILE`: CA certificates of a private PKI that every HTTPS
//! client of the command trusts, on top of the system's roots.
//!
//! The clients are built deep in the libraries (signing, OIDC, TUF,
//! registry, log reads), so the bundle reaches them through one process
//! variable, [`ENV`], holding the PEM text: the CLI reads and checks the
//! file once here, and each library adds what the variable holds to the
//! roots of the clients it builds (`keyless_ca_bundle::trust`, one
//! implementation for all of them; `tls_certs_merge`: the platform's roots
//! stay). `SSL_CERT_FILE` keeps its usual meaning (it replaces the system's
//! roots, as in OpenSSL); `keyless server --dev --tls` prints both ways.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context};

/// The variable the libraries read: PEM certificates, concatenated.
pub use keyless_ca_bundle::ENV;

/// The largest bundle read (the whole Mozilla set is ~250 KiB).
const MAX_BUNDLE_BYTES: u64 = 4 << 20;

/// Read `path`, check that it holds at least one PEM certificate and
/// nothing that fails to parse, and publish it to this process's clients.
/// Call before any thread starts (it sets a process variable).
pub fn install(path: &Path) -> anyhow::Result<()> {
    let pem = read_bundle(path)?;
    std::env::set_var(ENV, pem);
    Ok(())
}

fn read_bundle(path: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("--ca-bundle: cannot open {}", path.display()))?;
    let mut pem = String::new();
    file.take(MAX_BUNDLE_BYTES + 1)
        .read_to_string(&mut pem)
        .with_context(|| format!("--ca-bundle: cannot read {} as PEM text", path.display()))?;
    if pem.len() as u64 > MAX_BUNDLE_BYTES {
        bail!(
            "--ca-bundle: {} is over {MAX_BUNDLE_BYTES} bytes",
            path.display()
        );
    }
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .with_context(|| format!("--ca-bundle: {} is not a PEM bundle", path.display()))?;
    if certs.is_empty() {
        bail!(
            "--ca-bundle: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(pem)
}

/// A hint when a cause says the server's certificate was not trusted.
pub fn tls_hint(e: &anyhow::Error) -> Option<&'static str> {
    let untrusted = e.chain().any(|c| {
        let text = c.to_string();
        text.contains("UnknownIssuer") || text.contains("invalid peer certificate")
    });
    untrusted.then_some(
        "the server's TLS certificate is not from a CA this machine trusts; for a private CA pass \
         --ca-bundle FILE (its PEM certificate) or set SSL_CERT_FILE",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_file_without_certificates() {
        let dir = std::env::temp_dir().join(format!("keyless-ca-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let file = dir.join("empty.pem");
        std::fs::write(&file, "not a certificate\n").ok();
        let err = read_bundle(&file).map(|_| ()).unwrap_err();
        assert!(
            err.to_string().contains("holds no PEM certificate"),
            "{err}"
        );
        let err = read_bundle(&dir.join("missing.pem"))
            .map(|_| ())
            .unwrap_err();
        assert!(err.to_string().contains("cannot open"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

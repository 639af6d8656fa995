//! TLS with a throwaway CA made by rcgen: a client trusting only that CA
//! gets answers, a client with the usual roots and a plain-HTTP client do
//! not, and SIGHUP swaps in a renewed certificate from another CA.

mod support;

use std::path::Path;
use std::time::Duration;

use keyless_serve::{Readiness, TlsFiles};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// A CA and a server certificate it issued for localhost and 127.0.0.1:
/// (CA PEM, server chain PEM, server key PEM).
fn throwaway_pki(name: &str) -> anyhow::Result<(String, String, String)> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?
        .signed_by(&key, &ca)?;
    Ok((ca.pem(), leaf.pem(), key.serialize_pem()))
}

fn client_trusting(ca_pem: &str) -> anyhow::Result<reqwest::Client> {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes())?;
    Ok(reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(10))
        .build()?)
}

fn write_files(dir: &Path, chain: &str, key: &str) -> anyhow::Result<TlsFiles> {
    let files = TlsFiles::new(dir.join("server.pem"), dir.join("server.key"));
    // Written to a temporary name and renamed, as an operator's renewal
    // should, so that a reload never reads half a file.
    std::fs::write(dir.join("tmp.pem"), chain)?;
    std::fs::rename(dir.join("tmp.pem"), &files.cert)?;
    std::fs::write(dir.join("tmp.key"), key)?;
    std::fs::rename(dir.join("tmp.key"), &files.key)?;
    Ok(files)
}

#[tokio::test]
async fn only_clients_trusting_the_ca_connect_and_sighup_reloads() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("keyless-serve-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(dir: &Path) -> anyhow::Result<()> {
    let (ca1, chain1, key1) = throwaway_pki("first test CA")?;
    let files = write_files(dir, &chain1, &key1)?;
    let addr = support::start("tls-svc", Readiness::always(), Some(files)).await?;
    let url = format!("https://{addr}/readyz");

    let trusting = client_trusting(&ca1)?;
    let r = trusting.get(&url).send().await?;
    assert_eq!(r.status(), 200);
    let r = trusting
        .get(format!(
            "https://localhost:{}/api/v1/entries/7",
            addr.port()
        ))
        .send()
        .await?;
    assert_eq!(r.text().await?, "entry");

    // The default roots do not include the throwaway CA.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let err = plain.get(&url).send().await;
    assert!(err.is_err(), "a client without the CA connected: {err:?}");
    // Plain HTTP to the TLS port gets no HTTP answer.
    let err = plain.get(format!("http://{addr}/readyz")).send().await;
    assert!(
        err.as_ref().map(|r| r.status() != 200).unwrap_or(true),
        "plain HTTP answered: {err:?}"
    );

    // Renewal by another CA, then SIGHUP: new connections get the new
    // certificate.
    let (ca2, chain2, key2) = throwaway_pki("second test CA")?;
    write_files(dir, &chain2, &key2)?;
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()?;
    assert!(status.success());
    let mut reloaded = false;
    for _ in 0..50 {
        // A new client each time: no pooled connection from before.
        if client_trusting(&ca2)?.get(&url).send().await.is_ok() {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        reloaded,
        "the renewed certificate was not served after SIGHUP"
    );
    let old = client_trusting(&ca1)?.get(&url).send().await;
    assert!(old.is_err(), "the old certificate is still served: {old:?}");

    // A broken renewal keeps the current certificate.
    std::fs::write(dir.join("server.pem"), "not a certificate")?;
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()?;
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = client_trusting(&ca2)?.get(&url).send().await?;
    assert_eq!(r.status(), 200);
    Ok(())
}

#[test]
fn missing_or_bad_files_are_errors() {
    let dir = std::env::temp_dir().join(format!("keyless-serve-tls-bad-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let missing = TlsFiles::new(dir.join("none.pem"), dir.join("none.key"));
    assert!(missing.load().is_err());
    let _ = std::fs::write(dir.join("empty.pem"), "");
    let _ = std::fs::write(dir.join("empty.key"), "");
    let empty = TlsFiles::new(dir.join("empty.pem"), dir.join("empty.key"));
    assert!(matches!(
        empty.load(),
        Err(keyless_serve::TlsError::NoCertificate(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

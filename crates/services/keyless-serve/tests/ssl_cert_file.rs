//! Clients built as keyless-sign and keyless-tuf build theirs (reqwest
//! with its default verifier) trust a private CA named by SSL_CERT_FILE.
//! Its own test binary: it sets the variable for the whole process.

mod support;

use std::time::Duration;

use keyless_serve::{Readiness, TlsFiles};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

#[tokio::test]
async fn a_default_client_trusts_the_ca_in_ssl_cert_file() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("keyless-serve-sslcert-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])?.signed_by(&key, &ca)?;
    std::fs::write(dir.join("ca.pem"), ca.pem())?;
    std::fs::write(dir.join("tls.pem"), leaf.pem())?;
    std::fs::write(dir.join("tls.key"), key.serialize_pem())?;
    let files = TlsFiles::new(dir.join("tls.pem"), dir.join("tls.key"));
    let addr = support::start("sslcert-svc", Readiness::always(), Some(files)).await?;
    let url = format!("https://{addr}/healthz");

    let before = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?
        .get(&url)
        .send()
        .await;
    assert!(before.is_err(), "trusted before SSL_CERT_FILE: {before:?}");
    // Set before any client of this configuration reads the roots.
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));
    let r = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?
        .get(&url)
        .send()
        .await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r?.status(), 200);
    Ok(())
}

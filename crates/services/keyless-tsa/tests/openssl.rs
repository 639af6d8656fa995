//! Cross-check with OpenSSL's RFC 3161 implementation, when the `openssl`
//! binary is installed (skipped with a notice otherwise): it parses our
//! replies and verifies our tokens against the generated chain, which also
//! checks what our own verifier does not (ESS signingCertificateV2, the
//! TSA certificate profile as OpenSSL reads it).

mod support;

use std::process::Command;

use keyless_crypto::{HashAlgorithm, KeyAlgorithm};
use keyless_tsp::issue::TimestampRequest;

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn openssl_parses_and_verifies_our_tokens() {
    if !openssl_available() {
        eprintln!("notice: `openssl` not found; skipping the OpenSSL cross-check");
        return;
    }
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
        let server = support::start(alg).await;
        let work = support::temp_dir("openssl");
        std::fs::create_dir_all(&work).unwrap();
        let data = work.join("signature.bin");
        std::fs::write(&data, b"signature bytes to timestamp").unwrap();
        let pem = |c: &keyless_x509::Certificate| {
            use der::EncodePem;
            c.inner().to_pem(der::pem::LineEnding::LF).unwrap()
        };
        let chain = server.tsa.chain();
        let root = work.join("root.pem");
        std::fs::write(&root, pem(&chain[2])).unwrap();
        let untrusted = work.join("untrusted.pem");
        std::fs::write(&untrusted, format!("{}{}", pem(&chain[0]), pem(&chain[1]))).unwrap();

        for (hash, cert_req) in [
            (HashAlgorithm::Sha256, true),
            (HashAlgorithm::Sha512, false),
        ] {
            let req = TimestampRequest::for_data(hash, b"signature bytes to timestamp")
                .with_nonce(&0x1122_3344_5566_7788u64.to_be_bytes())
                .unwrap()
                .with_cert_req(cert_req)
                .to_der()
                .unwrap();
            let resp = support::timestamp(&server, "application/timestamp-query", &req).await;
            assert_eq!(resp.status, 200);
            let resp_path = work.join("resp.der");
            std::fs::write(&resp_path, &resp.body).unwrap();
            let req_path = work.join("req.der");
            std::fs::write(&req_path, &req).unwrap();

            let (ok, text) = run(&["ts", "-reply", "-in", resp_path.to_str().unwrap(), "-text"]);
            assert!(ok, "{text}");
            assert!(text.contains("Status: Granted."), "{text}");
            assert!(text.contains("Policy OID: 1.3.6.1.4.1.57264.2"), "{text}");
            assert!(text.contains("Nonce: 0x1122334455667788"), "{text}");
            assert!(text.contains("Accuracy: 0x01 seconds"), "{text}");

            let (ok, text) = run(&[
                "ts",
                "-verify",
                "-data",
                data.to_str().unwrap(),
                "-in",
                resp_path.to_str().unwrap(),
                "-CAfile",
                root.to_str().unwrap(),
                "-untrusted",
                untrusted.to_str().unwrap(),
            ]);
            assert!(
                ok && text.contains("Verification: OK"),
                "{alg:?} {hash:?}: {text}"
            );

            // With the request: nonce and imprint are compared too.
            let (ok, text) = run(&[
                "ts",
                "-verify",
                "-queryfile",
                req_path.to_str().unwrap(),
                "-in",
                resp_path.to_str().unwrap(),
                "-CAfile",
                root.to_str().unwrap(),
                "-untrusted",
                untrusted.to_str().unwrap(),
            ]);
            assert!(ok && text.contains("Verification: OK"), "{text}");

            // Other data: OpenSSL must refuse.
            std::fs::write(work.join("other.bin"), b"other").unwrap();
            let (ok, _) = run(&[
                "ts",
                "-verify",
                "-data",
                work.join("other.bin").to_str().unwrap(),
                "-in",
                resp_path.to_str().unwrap(),
                "-CAfile",
                root.to_str().unwrap(),
                "-untrusted",
                untrusted.to_str().unwrap(),
            ]);
            assert!(!ok);
        }

        // A rejection parses too.
        let resp = support::timestamp(&server, "application/timestamp-query", b"junk").await;
        let resp_path = work.join("reject.der");
        std::fs::write(&resp_path, &resp.body).unwrap();
        let (ok, text) = run(&["ts", "-reply", "-in", resp_path.to_str().unwrap(), "-text"]);
        assert!(ok, "{text}");
        assert!(text.contains("Rejected"), "{text}");
        assert!(
            text.contains("the data submitted has the wrong format"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&work);
    }
}

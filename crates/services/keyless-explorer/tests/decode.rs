//! Decoding a hashedrekord entry whose signer is a Fulcio certificate
//! built with keyless-x509's profile code: the page gets the SAN, the
//! OIDC issuer, the certificate issuer, validity, SCT presence and every
//! Fulcio extension by its oid-info.md name.

mod support;

use keyless_x509::oid;
use support::NOW;

fn fulcio_leaf_pem() -> String {
    let der = support::fulcio_leaf(&[
        (oid::GITHUB_WORKFLOW_TRIGGER, "push".to_string()),
        (oid::GITHUB_WORKFLOW_REPOSITORY, "o/r".to_string()),
        (oid::SOURCE_REPOSITORY_REF, "refs/heads/main".to_string()),
        (oid::RUNNER_ENVIRONMENT, "github-hosted".to_string()),
    ]);
    let b64 = keyless_types::b64::encode(&der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[test]
fn a_fulcio_certificate_is_decoded_with_extension_names() {
    let pem = fulcio_leaf_pem();
    let body = serde_json::json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": "cd".repeat(32)}},
            "signature": {"content": "MEUC", "publicKey": {"content": keyless_types::b64::encode(pem.as_bytes())}}
        }
    });
    let d = keyless_explorer::decode::decode(body.to_string().as_bytes()).unwrap();
    assert_eq!(d.kind, "hashedrekord");
    assert_eq!(
        d.digest.as_deref(),
        Some(&*format!("sha256:{}", "cd".repeat(32)))
    );
    assert!(d.public_keys.is_empty());
    let [c] = &d.certificates[..] else {
        panic!("one certificate: {d:?}")
    };
    assert_eq!(c.error, None);
    assert_eq!(
        c.sans,
        ["https://github.com/o/r/.github/workflows/w.yml@refs/heads/main"]
    );
    assert_eq!(
        c.oidc_issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert!(c.issuer.contains("CN=test root"), "{}", c.issuer);
    assert_eq!(c.not_before, NOW);
    assert!(c.not_after > NOW);
    assert!(c.has_sct);
    let names: Vec<(&str, &str)> = c
        .extensions
        .iter()
        .map(|e| (e.name, e.value.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (
                "Issuer (deprecated)",
                "https://token.actions.githubusercontent.com"
            ),
            ("GitHub Workflow Trigger (deprecated)", "push"),
            ("GitHub Workflow Repository (deprecated)", "o/r"),
            ("Issuer (V2)", "https://token.actions.githubusercontent.com"),
            ("Runner Environment", "github-hosted"),
            ("Source Repository Ref", "refs/heads/main"),
        ]
    );
    assert_eq!(c.extensions[1].oid, "1.3.6.1.4.1.57264.1.2");
}

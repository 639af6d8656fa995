//! Tests against the real Sigstore conformance data in testdata/sigstore-conformance.

use base64::Engine;
use keyless_x509::{
    fulcio_identity, verify_chain, verify_embedded_scts, Certificate, ChainError, CtLogKey,
    Purpose, SctError, SctFailure, X509Error,
};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../testdata/sigstore-conformance"
);

fn json(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{SHARED}/{path}")).expect("read test data");
    serde_json::from_str(&text).expect("parse test data")
}

fn b64(s: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().expect("base64 string"))
        .expect("base64")
}

fn rfc3339(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &Rfc3339)
        .expect("RFC 3339")
        .unix_timestamp()
}

/// The leaf certificate of a bundle (v0.3 `certificate` or v0.1/0.2 chain).
fn leaf(case: &str) -> Certificate {
    let b = json(&format!("assets/bundle-verify/{case}/bundle.sigstore.json"));
    let vm = &b["verificationMaterial"];
    let raw = if vm["certificate"].is_object() {
        &vm["certificate"]["rawBytes"]
    } else {
        &vm["x509CertificateChain"]["certificates"][0]["rawBytes"]
    };
    Certificate::from_der(&b64(raw)).expect("leaf parses")
}

fn trusted_root(case: Option<&str>) -> Value {
    match case {
        Some(c) => json(&format!("assets/bundle-verify/{c}/trusted_root.json")),
        None => json("public-good-trust/trusted_root.json"),
    }
}

fn chains(root: &Value, key: &str) -> Vec<Vec<Certificate>> {
    root[key]
        .as_array()
        .expect("authorities")
        .iter()
        .map(|ca| {
            ca["certChain"]["certificates"]
                .as_array()
                .expect("certs")
                .iter()
                .map(|c| Certificate::from_der(&b64(&c["rawBytes"])).expect("CA cert parses"))
                .collect()
        })
        .collect()
}

/// CT log keys; keys that do not parse as SPKI are skipped, as a verifier would.
fn ct_logs(root: &Value) -> Vec<CtLogKey> {
    root["ctlogs"]
        .as_array()
        .expect("ctlogs")
        .iter()
        .filter_map(|l| {
            let key =
                keyless_crypto::PublicKey::from_spki_der(&b64(&l["publicKey"]["rawBytes"])).ok()?;
            let vf = &l["publicKey"]["validFor"];
            let from = rfc3339(vf["start"].as_str()?);
            let until = vf["end"].as_str().map(rfc3339);
            Some(CtLogKey::new(key, from, until))
        })
        .collect()
}

/// Verify against each CA chain of the root, returning the first success.
fn verify_any(
    leaf: &Certificate,
    root: &Value,
    at: i64,
) -> Result<Vec<Certificate>, Vec<ChainError>> {
    let mut errors = Vec::new();
    for chain in chains(root, "certificateAuthorities") {
        match verify_chain(leaf, &[], &chain, at, Purpose::CodeSigning) {
            Ok(p) => return Ok(p),
            Err(e) => errors.push(e),
        }
    }
    Err(errors)
}

#[test]
fn happy_path_v03_chain_verifies_inside_validity() {
    let leaf = leaf("happy-path-v0.3");
    let root = trusted_root(None);
    let path = verify_any(&leaf, &root, leaf.not_before() + 60).expect("chain verifies");
    assert_eq!(path.len(), 3);
    assert_eq!(path[0], leaf);
    assert!(path[1].is_ca() && !path[1].is_self_issued());
    assert!(path[2].is_ca() && path[2].is_self_issued());
    // The closed interval includes both ends.
    verify_any(&leaf, &root, leaf.not_before()).expect("valid at notBefore");
    verify_any(&leaf, &root, leaf.not_after()).expect("valid at notAfter");
}

#[test]
fn happy_path_v03_chain_fails_after_expiry() {
    let leaf = leaf("happy-path-v0.3");
    let root = trusted_root(None);
    let at = leaf.not_after() + 1;
    let errors = verify_any(&leaf, &root, at).expect_err("expired");
    assert!(
        errors.iter().any(|e| matches!(e, ChainError::Expired { not_after, at: a, .. } if *not_after == leaf.not_after() && *a == at)),
        "{errors:?}"
    );
    let errors = verify_any(&leaf, &root, leaf.not_before() - 1).expect_err("not yet valid");
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, ChainError::NotYetValid { .. })),
        "{errors:?}"
    );
}

#[test]
fn happy_path_v01_chain_leaf_verifies() {
    let leaf = leaf("happy-path-v0.1");
    verify_any(&leaf, &trusted_root(None), leaf.not_before() + 60).expect("v0.1 chain verifies");
}

#[test]
fn happy_path_v03_sct_verifies() {
    let leaf = leaf("happy-path-v0.3");
    let root = trusted_root(None);
    let path = verify_any(&leaf, &root, leaf.not_before() + 60).expect("chain verifies");
    assert_eq!(
        verify_embedded_scts(&leaf, &path[1], &ct_logs(&root)),
        Ok(1)
    );
}

#[test]
fn sct_with_wrong_issuer_fails() {
    // The issuer key hash binds the SCT to the real parent; the root is not it.
    let leaf = leaf("happy-path-v0.3");
    let root = trusted_root(None);
    let path = verify_any(&leaf, &root, leaf.not_before() + 60).expect("chain verifies");
    let err = verify_embedded_scts(&leaf, &path[2], &ct_logs(&root)).expect_err("wrong issuer");
    assert!(
        matches!(&err, SctError::NoneVerified { reasons } if matches!(reasons[..], [SctFailure::BadSignature { .. }])),
        "{err}"
    );
}

#[test]
fn sct_outside_log_validity_or_unknown_log_fails() {
    let leaf = leaf("happy-path-v0.3");
    let root = trusted_root(None);
    let path = verify_any(&leaf, &root, leaf.not_before() + 60).expect("chain verifies");
    let mut logs = ct_logs(&root);
    for l in &mut logs {
        l.valid_until = Some(l.valid_from);
        l.valid_from = 0;
    }
    let err = verify_embedded_scts(&leaf, &path[1], &logs).expect_err("outside validity");
    assert!(err.to_string().contains("outside the validity"), "{err}");
    let err = verify_embedded_scts(&leaf, &path[1], &[]).expect_err("no logs");
    assert!(err.to_string().contains("unknown log id"), "{err}");
}

#[test]
fn happy_path_v03_identity() {
    let id = fulcio_identity(&leaf("happy-path-v0.3")).expect("identity");
    assert_eq!(
        id.sans,
        vec!["https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"]
    );
    assert_eq!(
        id.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(
        id.extensions
            .get("1.3.6.1.4.1.57264.1.8")
            .map(String::as_str),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(
        id.extensions
            .get("1.3.6.1.4.1.57264.1.11")
            .map(String::as_str),
        Some("github-hosted")
    );
}

#[test]
fn sct_with_extensions_verifies() {
    let case = "bundle-with-sct-with-extensions";
    let leaf = leaf(case);
    let root = trusted_root(Some(case));
    let path = verify_any(&leaf, &root, leaf.not_before() + 60).expect("chain verifies");
    let scts = keyless_x509::embedded_scts(&leaf).expect("SCTs parse");
    assert!(
        scts.iter()
            .any(|s| s.v1().is_some_and(|s| !s.extensions.is_empty())),
        "case must have SCT extensions"
    );
    assert_eq!(
        verify_embedded_scts(&leaf, &path[1], &ct_logs(&root)),
        Ok(1)
    );
}

#[test]
fn invalid_ct_key_fails() {
    let case = "invalid-ct-key_fail";
    let leaf = leaf(case);
    let root = trusted_root(Some(case));
    let path = verify_any(&leaf, &root, leaf.not_before() + 60).expect("chain verifies");
    let err = verify_embedded_scts(&leaf, &path[1], &ct_logs(&root)).expect_err("SCT must fail");
    assert!(matches!(err, SctError::NoneVerified { .. }), "{err}");
}

#[test]
fn tampered_signature_fails_chain() {
    let good = leaf("happy-path-v0.3");
    let mut der = good.der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let bad = Certificate::from_der(&der).expect("still parses");
    let root = trusted_root(None);
    let errors = verify_any(&bad, &root, good.not_before() + 60).expect_err("tampered");
    assert!(
        errors.iter().any(
            |e| matches!(e, ChainError::NoIssuer { last_error: Some(src), .. }
            if matches!(**src, X509Error::Signature { .. }))
        ),
        "{errors:?}"
    );
    // The tampered TBS (not just the signature) fails as well.
    let mut der = good.der().to_vec();
    let pos = der.len() / 2;
    der[pos] ^= 0x01;
    if let Ok(bad) = Certificate::from_der(&der) {
        assert!(verify_any(&bad, &root, good.not_before() + 60).is_err());
    }
}

#[test]
fn wrong_anchor_fails() {
    let leaf = leaf("happy-path-v0.3");
    let at = leaf.not_before() + 60;
    // The TSA chain and the SCT-extensions case's private CA are not Fulcio's.
    for chain in chains(&trusted_root(None), "timestampAuthorities")
        .into_iter()
        .chain(chains(
            &trusted_root(Some("bundle-with-sct-with-extensions")),
            "certificateAuthorities",
        ))
    {
        let err =
            verify_chain(&leaf, &[], &chain, at, Purpose::CodeSigning).expect_err("wrong anchor");
        assert!(matches!(err, ChainError::NoIssuer { .. }), "{err}");
    }
    // The right intermediate offered as untrusted, but anchored at the wrong root.
    let public = chains(&trusted_root(None), "certificateAuthorities");
    let good = public
        .iter()
        .find(|c| verify_chain(&leaf, &[], c, at, Purpose::CodeSigning).is_ok())
        .expect("good");
    let other_root = chains(
        &trusted_root(Some("bundle-with-sct-with-extensions")),
        "certificateAuthorities",
    );
    assert!(verify_chain(&leaf, &good[..1], &other_root[0], at, Purpose::CodeSigning).is_err());
    // The intermediate alone is not an anchor for this path unless it is last.
    assert!(verify_chain(&leaf, &[], &[], at, Purpose::CodeSigning)
        .is_err_and(|e| e == ChainError::NoAnchor));
}

#[test]
fn purpose_is_enforced() {
    let leaf = leaf("happy-path-v0.3");
    let at = leaf.not_before() + 60;
    for chain in chains(&trusted_root(None), "certificateAuthorities") {
        let err = verify_chain(&leaf, &[], &chain, at, Purpose::TimeStamping)
            .expect_err("not a TSA cert");
        assert!(
            matches!(
                err,
                ChainError::ExtendedKeyUsage { .. }
                    | ChainError::NoIssuer { .. }
                    | ChainError::NotYetValid { .. }
            ),
            "{err}"
        );
    }
}

#[test]
fn public_good_tsa_chain_verifies_for_timestamping() {
    for chain in chains(&trusted_root(None), "timestampAuthorities") {
        let tsa = &chain[0];
        let at = tsa.not_before() + 60;
        let path = verify_chain(tsa, &[], &chain, at, Purpose::TimeStamping).expect("TSA chain");
        assert_eq!(path.len(), chain.len());
        let err =
            verify_chain(tsa, &[], &chain, at, Purpose::CodeSigning).expect_err("not code signing");
        assert!(matches!(err, ChainError::ExtendedKeyUsage { .. }), "{err}");
        // Embedded certs offered as untrusted intermediates change nothing.
        verify_chain(
            tsa,
            &chain,
            &chain[chain.len() - 1..],
            at,
            Purpose::TimeStamping,
        )
        .expect("via intermediates");
    }
}

#[test]
fn pem_round_trip() {
    let leaf = leaf("happy-path-v0.3");
    let b64 = base64::engine::general_purpose::STANDARD.encode(leaf.der());
    let body: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        body.join("\n")
    );
    assert_eq!(Certificate::from_pem(&pem).expect("PEM"), leaf);
    let wrong = pem.replace("CERTIFICATE", "PUBLIC KEY");
    assert!(matches!(
        Certificate::from_pem(&wrong),
        Err(X509Error::Pem(_))
    ));
    assert!(matches!(
        Certificate::from_der(&leaf.der()[..100]),
        Err(X509Error::Der(_))
    ));
    let mut trailing = leaf.der().to_vec();
    trailing.push(0);
    assert!(matches!(
        Certificate::from_der(&trailing),
        Err(X509Error::Der(_))
    ));
}

#[test]
fn precert_tbs_removes_only_the_sct_list() {
    let leaf = leaf("happy-path-v0.3");
    let tbs = keyless_x509::precert_tbs(&leaf).expect("precert TBS");
    assert!(tbs.len() < leaf.tbs_der().len());
    // Re-encoding the unmodified TBS reproduces the signed bytes exactly.
    use der::Encode;
    assert_eq!(
        leaf.inner().tbs_certificate.to_der().expect("encode"),
        leaf.tbs_der()
    );
    // Cut from the bytes, it equals the decoded TBS re-encoded without the
    // SCT list (how it was built before).
    let mut reencoded = leaf.inner().tbs_certificate.clone();
    if let Some(exts) = reencoded.extensions.as_mut() {
        exts.retain(|e| e.extn_id != keyless_x509::oid::CT_SCT_LIST);
    }
    assert_eq!(tbs, reencoded.to_der().expect("encode"));
}

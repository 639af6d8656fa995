//! The bad-input table: every malformed or hostile request is refused
//! with its own error, and no certificate is issued (the CT log stays empty).

mod support;

use std::sync::Arc;

use base64::Engine;
use keyless_ca::ct::{CtSubmitter, SignedCertificateTimestamp};
use keyless_ca::{CaError, CtError};
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_oidc_dev::{DevIssuer, MintOptions, OidcDevConfig};
use serde_json::{json, Map, Value};
use support::*;

fn b64url(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn extra(pairs: Value) -> MintOptions {
    let m: Map<String, Value> = pairs.as_object().unwrap().clone();
    MintOptions {
        extra_claims: m,
        ..Default::default()
    }
}

#[tokio::test]
async fn bad_inputs_each_get_their_own_error() {
    let stack = start().await;
    let email = "dev@keyless.test";
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let good = stack.oidc.mint(&MintOptions::default()).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let t = now();

    // A token for the same issuer URL but signed by another key (a forger's).
    let other_dir = temp_dir("forger");
    let forger = DevIssuer::open(OidcDevConfig::new(&other_dir), &stack.oidc.base_url).unwrap();
    let forged_other_key = forger.mint(&MintOptions::default()).unwrap();
    // Our kid, our header, a payload changed after signing.
    let mut evil = payload.clone();
    evil["email"] = json!("mallory@keyless.test");
    let tampered = format!("{}.{}.{}", parts[0], b64url(&evil), parts[2]);
    let alg_none = format!("{}.{}.AAAA", b64url(&json!({"alg": "none"})), parts[1]);
    let hs256 = format!(
        "{}.{}.{}",
        b64url(&json!({"alg": "HS256", "typ": "JWT"})),
        parts[1],
        parts[2]
    );
    let unknown_kid = format!(
        "{}.{}.{}",
        b64url(&json!({"alg": "ES256", "kid": "not-a-key"})),
        parts[1],
        parts[2]
    );
    let expired = stack
        .oidc
        .mint(&extra(
            json!({"exp": t - 3600, "iat": t - 7200, "nbf": t - 7200}),
        ))
        .unwrap();
    let not_yet = stack.oidc.mint(&extra(json!({"nbf": t + 3600}))).unwrap();
    let future_iat = stack.oidc.mint(&extra(json!({"iat": t + 3600}))).unwrap();
    let no_iat = {
        let mut o = extra(json!({}));
        o.extra_claims.insert("iat".into(), Value::Null);
        stack.oidc.mint(&o).unwrap()
    };
    let wrong_aud = stack
        .oidc
        .mint(&MintOptions {
            audience: Some("not-sigstore".into()),
            ..Default::default()
        })
        .unwrap();
    let unknown_iss = stack
        .oidc
        .mint(&extra(json!({"iss": "https://unknown.example"})))
        .unwrap();
    let unverified = stack
        .oidc
        .mint(&extra(json!({"email_verified": false})))
        .unwrap();
    let huge = format!("{}.{}.{}", parts[0], "A".repeat(70 * 1024), parts[2]);

    // An EC key on a curve we refuse (secp256k1).
    let k1_spki = {
        use der::Encode;
        let spki = spki::SubjectPublicKeyInfoOwned {
            algorithm: spki::AlgorithmIdentifierOwned {
                oid: const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1"),
                parameters: Some(der::Any::from(const_oid::ObjectIdentifier::new_unwrap(
                    "1.3.132.0.10",
                ))),
            },
            subject_public_key: der::asn1::BitString::from_bytes(&[4u8; 65]).unwrap(),
        };
        keyless_ca::pki::pem_encode("PUBLIC KEY", &spki.to_der().unwrap())
    };
    let wrong_pop = {
        let mut b = v2_body(&good, &key, email);
        b["publicKeyRequest"]["proofOfPossession"] =
            json!(b64(&key.sign(b"someone-else@keyless.test").unwrap()));
        b
    };
    let bad_csr = {
        let mut pem = csr_pem(&key).into_bytes();
        // Flip a bit inside the base64 of the signature area.
        let n = pem.len() - 40;
        pem[n] = if pem[n] == b'A' { b'B' } else { b'A' };
        json!({"certificateSigningRequest": b64(&pem)})
    };

    let cases: Vec<(&str, Value, Option<String>, u16, &str)> = vec![
        (
            "malformed token",
            v2_body("not-a-jwt", &key, email),
            None,
            401,
            "three parts",
        ),
        (
            "token signed by another key",
            v2_body(&forged_other_key, &key, email),
            None,
            401,
            "key id",
        ),
        (
            "tampered payload",
            v2_body(&tampered, &key, "mallory@keyless.test"),
            None,
            401,
            "signature does not verify",
        ),
        (
            "alg none",
            v2_body(&alg_none, &key, email),
            None,
            401,
            "alg \"none\"",
        ),
        ("HS256", v2_body(&hs256, &key, email), None, 401, "is a MAC"),
        (
            "unknown kid",
            v2_body(&unknown_kid, &key, email),
            None,
            401,
            "not-a-key",
        ),
        (
            "expired",
            v2_body(&expired, &key, email),
            None,
            401,
            "expired",
        ),
        (
            "not yet valid",
            v2_body(&not_yet, &key, email),
            None,
            401,
            "not yet valid",
        ),
        (
            "iat in future",
            v2_body(&future_iat, &key, email),
            None,
            401,
            "issued in the future",
        ),
        ("no iat", v2_body(&no_iat, &key, email), None, 401, "iat"),
        (
            "wrong audience",
            v2_body(&wrong_aud, &key, email),
            None,
            401,
            "audience",
        ),
        (
            "unknown issuer",
            v2_body(&unknown_iss, &key, email),
            None,
            401,
            "unsupported issuer",
        ),
        (
            "email not verified",
            v2_body(&unverified, &key, email),
            None,
            400,
            "email_verified",
        ),
        (
            "token too large",
            v2_body(&huge, &key, email),
            None,
            401,
            "more than the 65536",
        ),
        (
            "PoP mismatch",
            wrong_pop,
            None,
            400,
            "does not verify over the token's email claim",
        ),
        ("bad CSR signature", bad_csr, Some(good.clone()), 400, "CSR"),
        (
            "unsupported key type",
            json!({"credentials": {"oidcIdentityToken": good}, "publicKeyRequest": {"publicKey": {"content": k1_spki}, "proofOfPossession": "AAAA"}}),
            None,
            400,
            "EC curve",
        ),
        (
            "declared algorithm mismatch",
            {
                let mut b = v2_body(&good, &key, email);
                b["publicKeyRequest"]["publicKey"]["algorithm"] = json!("ED25519");
                b
            },
            None,
            400,
            "does not match the key",
        ),
        (
            "no token",
            json!({"publicKeyRequest": v2_body(&good, &key, email)["publicKeyRequest"].clone()}),
            None,
            400,
            "no OIDC identity token",
        ),
        (
            "both key forms",
            json!({"credentials": {"oidcIdentityToken": good}, "certificateSigningRequest": "AAAA", "publicKeyRequest": v2_body(&good, &key, email)["publicKeyRequest"].clone()}),
            None,
            400,
            "exactly one",
        ),
        (
            "conflicting tokens",
            v2_body(&good, &key, email),
            Some(expired.clone()),
            400,
            "differ",
        ),
    ];

    let client = reqwest::Client::new();
    let mut seen = std::collections::BTreeSet::new();
    for (name, body, bearer, status, needle) in cases {
        let mut req = client
            .post(format!("{}/api/v2/signingCert", stack.ca_url))
            .json(&body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let got = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let message = body["message"].as_str().unwrap_or_default().to_string();
        assert_eq!(got, status, "{name}: {body}");
        assert!(
            message.contains(needle),
            "{name}: expected {needle:?} in {message:?}"
        );
        assert!(body["code"].is_u64(), "{name}: {body}");
        assert!(
            !message.contains(&good[..20]),
            "{name}: token leaked into the error"
        );
        assert!(
            seen.insert(message.clone()),
            "{name}: message not distinct: {message}"
        );
        assert_eq!(stack.ca.ct.size(), 0, "{name}: something was logged");
    }

    // Oversized request body.
    let big = json!({"certificateSigningRequest": "A".repeat(2 * 1024 * 1024)});
    let resp = client
        .post(format!("{}/api/v2/signingCert", stack.ca_url))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("larger than"));
    assert_eq!(stack.ca.ct.size(), 0);
}

struct FailingLog;
impl CtSubmitter for FailingLog {
    fn add_pre_chain(&self, _: &[Vec<u8>]) -> Result<SignedCertificateTimestamp, CtError> {
        Err(CtError::Unavailable("test log is down".into()))
    }
}

#[test]
fn ct_failure_means_no_certificate() {
    let dir = temp_dir("ct-fail");
    let m = keyless_ca::CaMaterial::load_or_create(&dir).unwrap();
    let issuer = keyless_ca::ca::Issuer::new(
        m.intermediate,
        m.intermediate_key,
        m.root,
        Arc::new(FailingLog),
    );
    let principal = keyless_ca::identity::Principal {
        san: keyless_ca::identity::San::Email("a@b.example".into()),
        issuer: "https://issuer.example".into(),
        challenge: "a@b.example".into(),
        challenge_claim: "email".into(),
        extensions: vec![],
    };
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let err = issuer
        .issue(&principal, key.public_key(), now())
        .unwrap_err();
    assert!(matches!(err, CaError::Ct(CtError::Unavailable(_))), "{err}");
    assert_eq!(err.http_status(), 500);
}

#[test]
fn data_dir_keys_are_private_and_reloaded() {
    let dir = temp_dir("pki");
    let a = keyless_ca::CaMaterial::load_or_create(&dir).unwrap();
    let b = keyless_ca::CaMaterial::load_or_create(&dir).unwrap();
    assert_eq!(a.root, b.root);
    assert_eq!(a.intermediate, b.intermediate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [
            keyless_ca::pki::ROOT_KEY,
            keyless_ca::pki::INTERMEDIATE_KEY,
            keyless_ca::pki::CT_LOG_KEY,
        ] {
            let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        std::fs::set_permissions(
            dir.join(keyless_ca::pki::INTERMEDIATE_KEY),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert!(
            keyless_ca::CaMaterial::load_or_create(&dir).is_err(),
            "world-readable key refused"
        );
    }
}

/// The CT log caches verified chain tails (intermediate ← root) but still
/// checks every precertificate's signature on `add-pre-chain`; only the
/// CA's own in-process submission skips that one check.
#[test]
fn ct_log_caches_the_chain_tail_but_checks_each_precert() {
    use keyless_ca::profile::{leaf_tbs, sign, CtSlot, LeafTemplate};
    let dir = temp_dir("ct-cache");
    let m = keyless_ca::CaMaterial::load_or_create(&dir).unwrap();
    let log = keyless_ca::CtLog::new(
        SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
        vec![m.root.clone()],
    );
    let principal = keyless_ca::identity::Principal {
        san: keyless_ca::identity::San::Email("a@b.example".into()),
        issuer: "https://issuer.example".into(),
        challenge: "a@b.example".into(),
        challenge_claim: "email".into(),
        extensions: vec![],
    };
    let leaf_key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let precert = |signer: &dyn keyless_ca::CaSigner| {
        let t = LeafTemplate::new(now(), &m.intermediate).unwrap();
        let tbs = leaf_tbs(
            &principal,
            leaf_key.public_key(),
            &m.intermediate,
            &m.intermediate_key,
            &t,
            &CtSlot::Poison,
        )
        .unwrap();
        sign(tbs, signer).unwrap()
    };
    let tail = [m.intermediate.der().to_vec(), m.root.der().to_vec()];
    let chain = |p: Vec<u8>| [vec![p], tail.to_vec()].concat();

    // Good chain, twice: the second time the tail comes from the cache.
    log.add_pre_chain(&chain(precert(&m.intermediate_key)))
        .unwrap();
    log.add_pre_chain(&chain(precert(&m.intermediate_key)))
        .unwrap();
    // A precert not signed by the intermediate is refused, cached tail or not.
    let forger = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let forged = chain(precert(&forger));
    assert!(matches!(
        log.add_pre_chain(&forged),
        Err(CtError::Signature(_))
    ));
    // A tail that does not verify is never cached: refused every time.
    let other = keyless_ca::CaMaterial::load_or_create(&temp_dir("ct-cache-other")).unwrap();
    let bad_tail = [
        precert(&m.intermediate_key),
        other.intermediate.der().to_vec(),
        m.root.der().to_vec(),
    ];
    for _ in 0..2 {
        assert!(log.add_pre_chain(&bad_tail).is_err());
    }
    // A non-precertificate is refused on the in-process path too.
    let final_cert = {
        let t = LeafTemplate::new(now(), &m.intermediate).unwrap();
        let tbs = leaf_tbs(
            &principal,
            leaf_key.public_key(),
            &m.intermediate,
            &m.intermediate_key,
            &t,
            &CtSlot::Scts(vec![0, 0]),
        )
        .unwrap();
        sign(tbs, &m.intermediate_key).unwrap()
    };
    assert!(matches!(
        log.add_own_pre_chain(&chain(final_cert)),
        Err(CtError::NotPrecert)
    ));
    assert_eq!(log.size(), 2);
}

//! In-process stack for tests: the development OIDC issuer and the CA,
//! each on 127.0.0.1:0.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use keyless_ca::{CaConfig, CaState, IssuersSource};
use keyless_crypto::SigningKey;
use keyless_oidc_dev::{DevIssuer, MintOptions, OidcDevConfig};
use keyless_x509::{fulcio_identity, verify_chain, verify_embedded_scts, Certificate, Purpose};
use serde_json::Value;

pub struct Stack {
    pub oidc: Arc<DevIssuer>,
    pub ca: Arc<CaState>,
    pub ca_url: String,
    pub dir: PathBuf,
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let mut r = [0u8; 8];
    aws_lc_rs_fill(&mut r);
    let d = std::env::temp_dir().join(format!(
        "keyless-{tag}-{}-{}",
        std::process::id(),
        hex::encode(r)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn aws_lc_rs_fill(buf: &mut [u8]) {
    // A fresh key's public point is random enough for unique dir names.
    let k = SigningKey::generate(keyless_crypto::KeyAlgorithm::Ed25519).expect("key");
    let spki = k.public_key().spki_der();
    for (i, b) in buf.iter_mut().enumerate() {
        *b = spki[spki.len() - 1 - i];
    }
}

pub async fn start() -> Stack {
    start_with(|_| {}).await
}

/// [`start`], with the CA configuration adjusted by `adjust`.
pub async fn start_with(adjust: impl FnOnce(&mut CaConfig)) -> Stack {
    let dir = temp_dir("ca-test");
    let oidc_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let oidc = keyless_oidc_dev::open_for(OidcDevConfig::new(dir.join("oidc")), &oidc_listener)
        .expect("oidc");
    let app = keyless_oidc_dev::router(oidc.clone());
    tokio::spawn(async move { axum::serve(oidc_listener, app).await });

    let issuers = serde_json::from_value(oidc.ca_issuers_config()).expect("issuers config");
    let ca_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let ca_url = format!("http://{}", ca_listener.local_addr().expect("addr"));
    let mut config = CaConfig::new(dir.join("ca"), IssuersSource::Inline(issuers));
    adjust(&mut config);
    let ca = CaState::new(&config, &ca_url).expect("CA starts");
    let app = keyless_ca::router(ca.clone());
    tokio::spawn(async move { axum::serve(ca_listener, app).await });
    Stack {
        oidc,
        ca,
        ca_url,
        dir,
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The v2 publicKeyRequest body.
pub fn v2_body(token: &str, key: &SigningKey, challenge: &str) -> serde_json::Value {
    let proof = key.sign(challenge.as_bytes()).expect("sign");
    serde_json::json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": b64(&proof)
        }
    })
}

/// A PKCS#10 CSR signed by `key`, PEM, built with x509-cert's types.
pub fn csr_pem(key: &SigningKey) -> String {
    use der::{Decode, Encode};
    let info = x509_cert::request::CertReqInfo {
        version: x509_cert::request::Version::V1,
        subject: Default::default(),
        public_key: spki::SubjectPublicKeyInfoOwned::from_der(key.public_key().spki_der()).unwrap(),
        attributes: Default::default(),
    };
    let sig = key.sign(&info.to_der().unwrap()).unwrap();
    let req = x509_cert::request::CertReq {
        info,
        algorithm: keyless_ca::profile::signature_algorithm_id(key).unwrap(),
        signature: der::asn1::BitString::from_bytes(&sig).unwrap(),
    };
    keyless_ca::pki::pem_encode("CERTIFICATE REQUEST", &req.to_der().unwrap())
}

/// A certificate the CA issued, and the chain it came with (intermediate, root).
pub struct Issued {
    pub leaf: Certificate,
    pub chain: Vec<Certificate>,
}

/// `GET` a JSON document of the CA at `path` (e.g. `/ct/v1/get-sth`).
pub async fn get_json(stack: &Stack, path: &str) -> Value {
    reqwest::get(format!("{}{path}", stack.ca_url))
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

/// `POST /api/v2/signingCert`, with the token in the header if `bearer`.
pub async fn post_v2(stack: &Stack, body: &Value, bearer: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v2/signingCert", stack.ca_url))
        .json(body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request")
}

/// Mint a token with `opts`, ask for a certificate for `key` with a proof
/// of possession over `subject` (the token's sub), and return what a 201
/// answer carries: the request most tests make.
pub async fn issue_for(
    stack: &Stack,
    opts: MintOptions,
    key: &SigningKey,
    subject: &str,
) -> Issued {
    let token = stack.oidc.mint(&opts).expect("token");
    parse_issued(post_v2(stack, &v2_body(&token, key, subject), None).await).await
}

/// [`MintOptions`] for the built-in identity `name` (e.g. "github").
pub fn identity(name: &str) -> MintOptions {
    MintOptions {
        identity: Some(name.into()),
        ..Default::default()
    }
}

/// [`MintOptions`] for an email identity with subject `email`.
pub fn email(email: &str) -> MintOptions {
    MintOptions {
        subject: Some(email.into()),
        ..Default::default()
    }
}

/// The certificates of a 201 answer (leaf first); fails the test otherwise.
pub async fn parse_issued(resp: reqwest::Response) -> Issued {
    let status = resp.status();
    let body: Value = resp.json().await.expect("json");
    assert_eq!(status, 201, "body: {body}");
    let certs: Vec<Certificate> = body["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .expect("certificates")
        .iter()
        .map(|p| Certificate::from_pem(p.as_str().expect("pem")).expect("cert"))
        .collect();
    assert_eq!(certs.len(), 3, "leaf, intermediate, root");
    Issued {
        leaf: certs[0].clone(),
        chain: certs[1..].to_vec(),
    }
}

/// What keyless-verify does with a Fulcio certificate, from our trusted root.
pub fn verify_like_a_client(stack: &Stack, issued: &Issued) -> keyless_x509::FulcioIdentity {
    let trust = keyless_verify::TrustMaterial::from_json(stack.ca.trusted_root_json.as_bytes())
        .expect("trusted root loads");
    assert_eq!(trust.fulcio.len(), 1);
    assert_eq!(trust.ctlogs.len(), 1);
    let ca = &trust.fulcio[0];
    let at = now();
    assert!(ca.valid_for.contains(at));
    let path = verify_chain(&issued.leaf, &[], &ca.chain, at, Purpose::CodeSigning)
        .expect("chain verifies at now");
    assert_eq!(path.len(), 3);
    assert_eq!(&path[1], &issued.chain[0]);
    let logs = verify_embedded_scts(&issued.leaf, &path[1], &trust.ctlogs).expect("SCT verifies");
    assert_eq!(logs, 1);
    fulcio_identity(&issued.leaf).expect("identity")
}

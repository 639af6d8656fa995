//! End to end: the TSA served on loopback, its tokens checked with the
//! verifier in keyless-tsp and through keyless-verify's trusted root.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use der::{Decode, Encode};
use keyless_crypto::{HashAlgorithm, KeyAlgorithm};
use keyless_tsp::issue::{parse_rejection, FailureInfo, TimestampRequest, MAX_REQUEST_LEN};
use keyless_tsp::{TimestampToken, TspError};
use support::{start, timestamp};

const QUERY: &str = "application/timestamp-query";
const SIGNATURE: &[u8] = b"MEUCIQD-example-signature-bytes";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn request(hash: HashAlgorithm, nonce: &[u8], cert_req: bool) -> Vec<u8> {
    TimestampRequest::for_data(hash, SIGNATURE)
        .with_nonce(nonce)
        .unwrap()
        .with_cert_req(cert_req)
        .to_der()
        .unwrap()
}

fn expect_rejection(resp: &support::HttpResponse, failure: FailureInfo, status: u16) {
    assert_eq!(resp.status, status);
    assert_eq!(resp.content_type, "application/timestamp-reply");
    let (found, text) = parse_rejection(&resp.body).expect("a rejection TimeStampResp");
    assert_eq!(found, vec![failure], "{text}");
    assert!(!text.is_empty());
}

#[tokio::test]
async fn granted_tokens_verify_for_both_curves() {
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
        let server = start(alg).await;
        for hash in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            let resp = timestamp(
                &server,
                QUERY,
                &request(hash, &[1, 2, 3, 4, 5, 6, 7, 8], true),
            )
            .await;
            assert_eq!(resp.status, 200);
            assert_eq!(resp.content_type, "application/timestamp-reply");
            let token = TimestampToken::from_der(&resp.body).unwrap();
            let gen_time = token.verify(SIGNATURE, server.tsa.chain()).unwrap();
            assert!((gen_time - now()).abs() <= 5, "genTime {gen_time}");

            let tst = token.tst_info();
            assert_eq!(
                tst.nonce.as_ref().unwrap().as_bytes(),
                &[1, 2, 3, 4, 5, 6, 7, 8]
            );
            assert_eq!(tst.policy, keyless_tsa::SIGSTORE_TSA_POLICY);
            assert_eq!(tst.accuracy.as_ref().and_then(|a| a.seconds), Some(1));
            // certReq: the signer certificate, and only it, is embedded.
            let embedded = token.embedded_certificates();
            assert_eq!(embedded.len(), 1);
            assert_eq!(&embedded[0], &server.tsa.chain()[0]);

            // Wrong bytes: the imprint check names the problem.
            let err = token
                .verify(b"other signature", server.tsa.chain())
                .unwrap_err();
            assert!(matches!(err, TspError::ImprintMismatch { .. }), "{err}");
        }
    }
}

#[tokio::test]
async fn cert_req_false_embeds_nothing_and_serials_are_unique() {
    let server = start(KeyAlgorithm::EcdsaP256).await;
    let mut serials = std::collections::HashSet::new();
    for i in 0..20u8 {
        let resp = timestamp(
            &server,
            QUERY,
            &request(HashAlgorithm::Sha256, &[i + 1], false),
        )
        .await;
        let token = TimestampToken::from_der(&resp.body).unwrap();
        assert!(token.embedded_certificates().is_empty());
        token.verify(SIGNATURE, server.tsa.chain()).unwrap();
        assert!(serials.insert(token.tst_info().serial_number.as_bytes().to_vec()));
    }
    // Without the chain's leaf the signer cannot be found.
    let resp = timestamp(&server, QUERY, &request(HashAlgorithm::Sha256, &[1], false)).await;
    let token = TimestampToken::from_der(&resp.body).unwrap();
    let err = token
        .verify(SIGNATURE, &server.tsa.chain()[1..])
        .unwrap_err();
    assert!(matches!(err, TspError::Untrusted(_)), "{err}");
}

#[tokio::test]
async fn json_form_is_accepted() {
    use base64::Engine;
    let server = start(KeyAlgorithm::EcdsaP256).await;
    let digest = HashAlgorithm::Sha256.digest(SIGNATURE);
    let body = serde_json::json!({
        "artifactHash": base64::engine::general_purpose::STANDARD.encode(&digest),
        "hashAlgorithm": "sha256",
        "nonce": 42,
        "certificates": true,
    });
    let resp = timestamp(&server, "application/json", body.to_string().as_bytes()).await;
    assert_eq!(resp.status, 200);
    let token = TimestampToken::from_der(&resp.body).unwrap();
    token.verify(SIGNATURE, server.tsa.chain()).unwrap();
    assert_eq!(token.tst_info().nonce.as_ref().unwrap().as_bytes(), &[42]);
}

#[tokio::test]
async fn bad_requests_are_rejections() {
    let server = start(KeyAlgorithm::EcdsaP256).await;

    let resp = timestamp(&server, QUERY, b"definitely not DER").await;
    expect_rejection(&resp, FailureInfo::BadDataFormat, 400);

    // An imprint hashed with SHA-1: not on the allow-list.
    let mut req =
        x509_tsp::TimeStampReq::from_der(&request(HashAlgorithm::Sha256, &[1], true)).unwrap();
    req.message_imprint.hash_algorithm.oid = const_oid::db::rfc5912::ID_SHA_1;
    req.message_imprint.hashed_message = der::asn1::OctetString::new(vec![0u8; 20]).unwrap();
    let resp = timestamp(&server, QUERY, &req.to_der().unwrap()).await;
    expect_rejection(&resp, FailureInfo::BadAlg, 400);

    // An unknown OID altogether.
    req.message_imprint.hash_algorithm.oid = const_oid::ObjectIdentifier::new_unwrap("1.2.3.4.5");
    let resp = timestamp(&server, QUERY, &req.to_der().unwrap()).await;
    expect_rejection(&resp, FailureInfo::BadAlg, 400);

    // Another policy than ours.
    let other = TimestampRequest::for_data(HashAlgorithm::Sha256, SIGNATURE)
        .with_policy(const_oid::ObjectIdentifier::new_unwrap("1.2.3.4"))
        .to_der()
        .unwrap();
    let resp = timestamp(&server, QUERY, &other).await;
    expect_rejection(&resp, FailureInfo::UnacceptedPolicy, 400);

    // Oversized body.
    let resp = timestamp(&server, QUERY, &vec![0x30; MAX_REQUEST_LEN + 100]).await;
    expect_rejection(&resp, FailureInfo::BadDataFormat, 413);

    // Wrong or missing content type.
    let resp = timestamp(
        &server,
        "text/plain",
        &request(HashAlgorithm::Sha256, &[1], true),
    )
    .await;
    expect_rejection(&resp, FailureInfo::BadRequest, 415);
    let resp = support::request(server.addr, "POST", "/api/v1/timestamp", None, b"x").await;
    expect_rejection(&resp, FailureInfo::BadRequest, 415);

    // Malformed JSON.
    let resp = timestamp(&server, "application/json", b"{\"artifactHash\": 1}").await;
    expect_rejection(&resp, FailureInfo::BadRequest, 400);
}

#[tokio::test]
async fn certchain_is_served_leaf_first() {
    let server = start(KeyAlgorithm::EcdsaP256).await;
    let resp = support::request(server.addr, "GET", "/api/v1/timestamp/certchain", None, b"").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type, "application/pem-certificate-chain");
    let pem = String::from_utf8(resp.body).unwrap();
    let blocks: Vec<String> = pem
        .split_inclusive("-----END CERTIFICATE-----\n")
        .map(str::to_string)
        .collect();
    assert_eq!(blocks.len(), 3);
    for (block, cert) in blocks.iter().zip(server.tsa.chain()) {
        assert_eq!(&keyless_x509::Certificate::from_pem(block).unwrap(), cert);
    }
}

#[tokio::test]
async fn chain_persists_and_keys_are_private() {
    let dir = support::temp_dir("persist");
    let config = keyless_tsa::TsaConfig::new(&dir);
    let first = keyless_tsa::Tsa::open(&config).unwrap();
    let second = keyless_tsa::Tsa::open(&config).unwrap();
    assert_eq!(first.chain(), second.chain());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in ["root.key", "intermediate.key", "signing.key"] {
            let mode = std::fs::metadata(dir.join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "data dir is private");
    }
    assert!(!format!("{first:?}").contains("PRIVATE KEY"));
    let _ = std::fs::remove_dir_all(&dir);
}

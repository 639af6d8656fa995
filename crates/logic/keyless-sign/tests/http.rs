//! The CA, log and TSA clients against fake servers on 127.0.0.1 that
//! answer with exactly the bytes a test scripts: oversized, slow, malformed,
//! mistyped and failing answers must each end in an error that names the
//! service, the URL and the problem, and must not wait for a hostile server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_sign::http::{
    FulcioClient, HttpClient, HttpOptions, RekorV1Client, RekorV2Client, TsaClient,
    MAX_CA_RESPONSE_BYTES, MAX_LOG_RESPONSE_BYTES, MAX_TSA_RESPONSE_BYTES,
};
use keyless_sign::{
    CertificateAuthority, LogRequest, SignError, TimestampAuthority, TransparencyLog,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdG9rZW4ifQ.c2ln";

/// What the fake server does on each connection, in order.
#[derive(Clone)]
enum Step {
    Send(Vec<u8>),
    /// Keep the connection open without sending anything more.
    Hold,
}

/// A request as the fake received it.
#[derive(Debug, Clone)]
struct Received {
    head: String,
    body: Vec<u8>,
}

struct Fake {
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Fake {
    /// A fake that answers its first connection with one response.
    async fn answering(status: &str, content_type: Option<&str>, body: &[u8]) -> Fake {
        Fake::start(vec![Step::Send(answer(status, content_type, body))]).await
    }

    /// A server answering every connection with `steps`.
    async fn start(steps: Vec<Step>) -> Fake {
        Self::start_with(move |_| steps.clone()).await
    }

    /// A server answering each request with what `answer` makes of it.
    async fn start_with(answer: impl Fn(&Received) -> Vec<Step> + Send + Sync + 'static) -> Fake {
        let answer = Arc::new(answer);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let answer = answer.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut conn).await else {
                        return;
                    };
                    let steps = answer(&request);
                    log.lock().expect("lock").push(request);
                    for step in steps {
                        match step {
                            Step::Send(bytes) => {
                                if conn.write_all(&bytes).await.is_err() {
                                    return;
                                }
                            }
                            Step::Hold => {
                                // Until the client hangs up.
                                let mut buf = [0u8; 64];
                                while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {}
                                return;
                            }
                        }
                    }
                });
            }
        });
        Fake { base, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

async fn read_request(conn: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        head,
        body: buf[head_end..head_end + length].to_vec(),
    })
}

/// A complete answer with a correct Content-Length.
fn answer(status: &str, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        out.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn client(timeout: Duration) -> HttpClient {
    HttpClient::new(HttpOptions::new().timeout(timeout)).expect("client")
}

/// The default client, with a timeout long enough for any loopback answer.
fn patient() -> HttpClient {
    client(Duration::from_secs(20))
}

/// The error and its causes as the CLI prints them ("outer: cause: ...").
fn printed(e: &SignError) -> String {
    std::iter::successors(Some(e as &dyn std::error::Error), |e| e.source())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

async fn ca_error(fake: &Fake, http: HttpClient) -> (String, Duration) {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let ca = FulcioClient::new(&fake.base, http);
    let start = Instant::now();
    let e = ca
        .signing_certificate(TOKEN, "me@example.com", &key)
        .await
        .expect_err("the CA answer must be refused");
    assert!(matches!(e, SignError::Ca { .. }), "{e:?}");
    (printed(&e), start.elapsed())
}

fn digest() -> [u8; 32] {
    keyless_crypto::sha256(b"artifact")
}

/// A log request for [`digest`] with placeholder signature and certificate.
fn message<'a>(d: &'a [u8]) -> LogRequest<'a> {
    LogRequest::Message {
        digest: d,
        signature: b"sig",
        certificate: b"cert",
        key_details: "",
    }
}

async fn log_v2_error(fake: &Fake, http: HttpClient) -> (String, Duration) {
    let log = RekorV2Client::new(&fake.base, http);
    let digest = digest();
    let request = LogRequest::Message {
        digest: &digest,
        signature: b"sig",
        certificate: b"cert",
        key_details: "PKIX_ECDSA_P256_SHA_256",
    };
    let start = Instant::now();
    let e = log
        .submit(&request)
        .await
        .expect_err("the log answer must be refused");
    assert!(matches!(e, SignError::Log { .. }), "{e:?}");
    (printed(&e), start.elapsed())
}

async fn tsa_error(fake: &Fake, http: HttpClient) -> (String, Duration) {
    let tsa = TsaClient::new(format!("{}/api/v1/timestamp", fake.base), http);
    let start = Instant::now();
    let e = tsa
        .timestamp(b"signature")
        .await
        .expect_err("the TSA answer must be refused");
    assert!(matches!(e, SignError::Timestamp { .. }), "{e:?}");
    (printed(&e), start.elapsed())
}

// ---- size caps ----

#[tokio::test]
async fn content_length_over_the_cap_is_refused_before_reading() {
    // The server announces 100 MiB and then sends nothing: a client that
    // tried to read the body would wait for the timeout instead.
    let head = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n".to_vec();
    let fake = Fake::start(vec![Step::Send(head), Step::Hold]).await;
    let (e, took) = ca_error(&fake, patient()).await;
    assert_eq!(e, format!("certificate authority {}/api/v2/signingCert: response larger than 1 MiB (Content-Length 104857600)", fake.base));
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test]
async fn chunked_body_over_the_cap_is_refused_while_reading() {
    // No Content-Length, more than the cap in chunks, and then the server
    // stalls: only a cap checked while reading ends this before the timeout.
    let mut bytes = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let piece = vec![b' '; 64 * 1024];
    for _ in 0..(MAX_LOG_RESPONSE_BYTES / piece.len() as u64 + 2) {
        bytes.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        bytes.extend_from_slice(&piece);
        bytes.extend_from_slice(b"\r\n");
    }
    let fake = Fake::start(vec![Step::Send(bytes), Step::Hold]).await;
    let (e, took) = log_v2_error(&fake, patient()).await;
    assert_eq!(
        e,
        format!(
            "transparency log {}/api/v2/log/entries: response larger than 4 MiB",
            fake.base
        )
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[tokio::test]
async fn body_just_over_the_cap_is_refused_and_at_the_cap_is_read() {
    // The cap is a limit on the body, not a rough size: one byte over is
    // refused.
    let over = vec![b' '; MAX_CA_RESPONSE_BYTES as usize + 1];
    let fake = Fake::answering("201 Created", Some("application/json"), &over).await;
    let (e, _) = ca_error(&fake, patient()).await;
    assert!(
        e.ends_with("response larger than 1 MiB (Content-Length 1048577)"),
        "{e}"
    );

    // Exactly the cap is allowed (and then fails only as JSON).
    let at = vec![b' '; MAX_CA_RESPONSE_BYTES as usize];
    let fake = Fake::answering("201 Created", Some("application/json"), &at).await;
    let (e, _) = ca_error(&fake, patient()).await;
    assert!(e.contains("malformed response"), "{e}");
}

#[tokio::test]
async fn tsa_reply_over_the_token_limit_is_refused() {
    let big = vec![0u8; MAX_TSA_RESPONSE_BYTES as usize + 1];
    let fake = Fake::answering("200 OK", Some("application/timestamp-reply"), &big).await;
    let (e, _) = tsa_error(&fake, patient()).await;
    assert_eq!(e, format!("timestamp authority {}/api/v1/timestamp: response larger than 64 KiB (Content-Length 65537)", fake.base));
}

// ---- time limits ----

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let fake = Fake::start(vec![Step::Hold]).await;
    let (e, took) = log_v2_error(&fake, client(Duration::from_millis(300))).await;
    assert_eq!(
        e,
        format!(
            "transparency log {}/api/v2/log/entries: did not answer within 300 ms",
            fake.base
        )
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "took {took:?}"
    );
}

#[tokio::test]
async fn a_trickling_body_is_cut_off_at_the_total_timeout() {
    // The head arrives at once; the body never completes. The total
    // timeout covers the body, not only the wait for the head.
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: 100\r\n\r\n0123456789".to_vec();
    let fake = Fake::start(vec![Step::Send(head), Step::Hold]).await;
    let (e, took) = tsa_error(&fake, client(Duration::from_millis(300))).await;
    assert_eq!(
        e,
        format!(
            "timestamp authority {}/api/v1/timestamp: did not finish answering within 300 ms",
            fake.base
        )
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test]
async fn a_stalled_error_body_still_reports_the_status() {
    let head = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nover".to_vec();
    let fake = Fake::start(vec![Step::Send(head), Step::Hold]).await;
    let (e, took) = ca_error(&fake, client(Duration::from_millis(300))).await;
    assert_eq!(
        e,
        format!(
            "certificate authority {}/api/v2/signingCert: HTTP 503 Service Unavailable: over",
            fake.base
        )
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn default_timeouts_are_bounded() {
    assert_eq!(keyless_sign::http::DEFAULT_TIMEOUT, Duration::from_secs(30));
    assert_eq!(
        keyless_sign::http::DEFAULT_CONNECT_TIMEOUT,
        Duration::from_secs(10)
    );
    let shared = HttpClient::shared().expect("shared client");
    assert!(
        format!("{shared:?}").contains("HttpOptions { connect_timeout: 10s, timeout: 30s }"),
        "{shared:?}"
    );
}

// ---- content types ----

#[tokio::test]
async fn wrong_content_type_is_refused() {
    let fake = Fake::answering("200 OK", Some("text/html"), b"<html>login</html>").await;
    let (e, _) = ca_error(&fake, patient()).await;
    assert_eq!(
        e,
        format!("certificate authority {}/api/v2/signingCert: response has Content-Type \"text/html\" (expected application/json)", fake.base)
    );

    let fake = Fake::answering("201 Created", None, b"{}").await;
    let (e, _) = log_v2_error(&fake, patient()).await;
    assert!(
        e.ends_with("response has no Content-Type (expected application/json)"),
        "{e}"
    );

    // A JSON answer from a TSA is not an RFC 3161 reply.
    let fake = Fake::answering("200 OK", Some("application/json"), b"{}").await;
    let (e, _) = tsa_error(&fake, patient()).await;
    assert!(
        e.ends_with(
            "response has Content-Type \"application/json\" (expected application/timestamp-reply)"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn content_type_parameters_and_case_are_accepted() {
    // Rekor v1 answers "application/json;q=1".
    let entry = v2_entry_json();
    let fake = Fake::answering(
        "201 Created",
        Some("Application/JSON; charset=utf-8"),
        entry.as_bytes(),
    )
    .await;
    let log = RekorV2Client::new(&fake.base, patient());
    let d = digest();
    let request = LogRequest::Message {
        digest: &d,
        signature: b"sig",
        certificate: b"cert",
        key_details: "PKIX_ECDSA_P256_SHA_256",
    };
    let got = log
        .submit(&request)
        .await
        .expect("a JSON answer with parameters is JSON");
    assert_eq!(got.log_index, 7);
}

// ---- malformed answers ----

#[tokio::test]
async fn malformed_json_is_refused() {
    let fake = Fake::answering(
        "201 Created",
        Some("application/json"),
        b"{\"signedCertificateEmbeddedSct\": ",
    )
    .await;
    let (e, _) = ca_error(&fake, patient()).await;
    assert!(
        e.starts_with(&format!(
            "certificate authority {}/api/v2/signingCert: malformed response: ",
            fake.base
        )),
        "{e}"
    );

    let fake = Fake::answering("201 Created", Some("application/json"), b"{}").await;
    let (e, _) = ca_error(&fake, patient()).await;
    assert!(e.ends_with("response has no certificate chain"), "{e}");

    let fake = Fake::answering(
        "201 Created",
        Some("application/json"),
        b"{\"logIndex\": \"x\"}",
    )
    .await;
    let (e, _) = log_v2_error(&fake, patient()).await;
    assert!(
        e.starts_with(&format!(
            "transparency log {}/api/v2/log/entries: malformed response: ",
            fake.base
        )),
        "{e}"
    );
}

#[tokio::test]
async fn a_chain_with_a_non_certificate_block_is_refused() {
    let body = serde_json::json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [pem("PRIVATE KEY", b"k")]}}});
    let fake = Fake::answering(
        "201 Created",
        Some("application/json"),
        body.to_string().as_bytes(),
    )
    .await;
    let (e, _) = ca_error(&fake, patient()).await;
    assert!(e.ends_with("chain holds a \"PRIVATE KEY\" block"), "{e}");
}

#[tokio::test]
async fn a_tsa_reply_that_is_not_a_token_is_refused() {
    let fake = Fake::answering(
        "200 OK",
        Some("application/timestamp-reply"),
        b"\x30\x03\x02\x01\x02",
    )
    .await;
    let (e, _) = tsa_error(&fake, patient()).await;
    assert!(
        e.starts_with(&format!(
            "timestamp authority {}/api/v1/timestamp: malformed reply: ",
            fake.base
        )),
        "{e}"
    );
    let requests = fake.received();
    assert_eq!(requests.len(), 1);
    let head = requests[0].head.to_ascii_lowercase();
    assert!(head.starts_with("post /api/v1/timestamp "), "{head}");
    assert!(
        head.contains("content-type: application/timestamp-query"),
        "{head}"
    );
    assert!(
        head.contains("accept: application/timestamp-reply"),
        "{head}"
    );
}

#[tokio::test]
async fn a_v1_answer_with_two_entries_is_refused() {
    let one = v1_entry_json();
    let body = format!("{{\"a\": {one}, \"b\": {one}}}");
    let fake = Fake::answering("201 Created", Some("application/json;q=1"), body.as_bytes()).await;
    let log = RekorV1Client::new(&fake.base, patient());
    let d = digest();
    let e = log
        .submit(&message(&d))
        .await
        .expect_err("two entries for one request");
    assert_eq!(e.to_string(), format!("transparency log {}/api/v1/log/entries: malformed response: expected exactly one entry", fake.base));
}

// ---- HTTP errors ----

#[tokio::test]
async fn an_error_status_names_the_status_and_the_servers_message() {
    let body = br#"{"code": 13, "message": "the log is read-only"}"#;
    let fake = Fake::answering("500 Internal Server Error", Some("application/json"), body).await;
    let (e, _) = log_v2_error(&fake, patient()).await;
    assert_eq!(e, format!("transparency log {}/api/v2/log/entries: HTTP 500 Internal Server Error: the log is read-only", fake.base));

    let fake = Fake::answering("404 Not Found", None, b"").await;
    let (e, _) = tsa_error(&fake, patient()).await;
    assert_eq!(
        e,
        format!(
            "timestamp authority {}/api/v1/timestamp: HTTP 404 Not Found",
            fake.base
        )
    );
}

#[tokio::test]
async fn a_huge_error_body_is_cut_and_its_control_characters_blanked() {
    let mut body = b"\x1b[31mred\nalert ".to_vec();
    body.extend(std::iter::repeat_n(b'x', 8 * 1024 * 1024));
    let fake = Fake::answering("400 Bad Request", Some("text/plain"), &body).await;
    let (e, took) = ca_error(&fake, patient()).await;
    let prefix = format!(
        "certificate authority {}/api/v2/signingCert: HTTP 400 Bad Request:  [31mred alert xxx",
        fake.base
    );
    assert!(e.starts_with(&prefix), "{e}");
    assert!(!e.chars().any(char::is_control), "{e:?}");
    assert!(
        e.len() < prefix.len() + 600,
        "the message is cut: {} bytes",
        e.len()
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[tokio::test]
async fn a_ca_echoing_the_token_does_not_get_it_printed() {
    let body = serde_json::json!({"code": 16, "message": format!("token {TOKEN} is expired")});
    let fake = Fake::answering(
        "401 Unauthorized",
        Some("application/json"),
        body.to_string().as_bytes(),
    )
    .await;
    let (e, _) = ca_error(&fake, patient()).await;
    assert!(!e.contains(TOKEN), "{e}");
    assert!(
        e.ends_with("HTTP 401 Unauthorized: token [identity token] is expired"),
        "{e}"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    // The CA request carries the identity token: it goes only to the URL
    // configured, never to wherever a server points.
    let elsewhere = Fake::answering("201 Created", Some("application/json"), b"{}").await;
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {}/api/v2/signingCert\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        elsewhere.base
    );
    let fake = Fake::start(vec![Step::Send(redirect.into_bytes())]).await;
    let (e, _) = ca_error(&fake, patient()).await;
    assert!(e.ends_with("HTTP 307 Temporary Redirect"), "{e}");
    assert!(
        elsewhere.received().is_empty(),
        "the token went to the redirect target"
    );
}

#[tokio::test]
async fn a_closed_port_is_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let e = FulcioClient::new(&base, patient())
        .signing_certificate(TOKEN, "me", &key)
        .await
        .expect_err("nothing listens");
    let e = e.to_string();
    assert!(
        e.starts_with(&format!(
            "certificate authority {base}/api/v2/signingCert: could not connect: "
        )),
        "{e}"
    );
}

// ---- what a good answer turns into ----

fn pem(label: &str, der: &[u8]) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        B64.encode(der)
    )
}

#[tokio::test]
async fn fulcio_request_and_chain() {
    let body = serde_json::json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [
        pem("CERTIFICATE", b"leaf"), pem("CERTIFICATE", b"intermediate")
    ]}}});
    let fake = Fake::answering(
        "201 Created",
        Some("application/json"),
        body.to_string().as_bytes(),
    )
    .await;
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let chain = FulcioClient::new(format!("{}/", fake.base), patient())
        .signing_certificate(TOKEN, "me@example.com", &key)
        .await
        .expect("chain");
    assert_eq!(chain, vec![b"leaf".to_vec(), b"intermediate".to_vec()]);

    let requests = fake.received();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0]
            .head
            .starts_with("POST /api/v2/signingCert HTTP/1.1\r\n"),
        "{}",
        requests[0].head
    );
    let sent: serde_json::Value = serde_json::from_slice(&requests[0].body).expect("JSON request");
    assert_eq!(sent["credentials"]["oidcIdentityToken"], TOKEN);
    assert_eq!(
        sent["publicKeyRequest"]["publicKey"]["content"],
        key.public_key().to_pem()
    );
    // The proof of possession is the key's signature over the challenge.
    let pop = B64
        .decode(
            sent["publicKeyRequest"]["proofOfPossession"]
                .as_str()
                .expect("pop"),
        )
        .expect("base64");
    key.public_key()
        .verify(
            key.public_key().default_signature_algorithm(),
            b"me@example.com",
            &pop,
        )
        .expect("the proof of possession verifies");
}

fn v2_entry_json() -> String {
    serde_json::json!({
        "logIndex": "7",
        "logId": {"keyId": B64.encode([1u8; 32])},
        "kindVersion": {"kind": "hashedrekord", "version": "0.0.2"},
        "inclusionProof": {"logIndex": "7", "rootHash": B64.encode([2u8; 32]), "treeSize": "8", "hashes": [B64.encode([3u8; 32])], "checkpoint": {"envelope": "cp"}},
        "canonicalizedBody": B64.encode(b"{}"),
    })
    .to_string()
}

#[tokio::test]
async fn rekor_v2_request_and_entry() {
    let fake = Fake::answering(
        "201 Created",
        Some("application/json"),
        v2_entry_json().as_bytes(),
    )
    .await;
    let log = RekorV2Client::new(&fake.base, patient());
    let d = digest();
    let entry = log
        .submit(&LogRequest::Message {
            digest: &d,
            signature: b"sig",
            certificate: b"cert",
            key_details: "PKIX_ECDSA_P256_SHA_256",
        })
        .await
        .expect("entry");
    assert_eq!(entry.log_index, 7);
    assert_eq!(entry.inclusion_proof.as_ref().map(|p| p.tree_size), Some(8));

    let requests = fake.received();
    assert!(
        requests[0]
            .head
            .starts_with("POST /api/v2/log/entries HTTP/1.1\r\n"),
        "{}",
        requests[0].head
    );
    let sent: serde_json::Value = serde_json::from_slice(&requests[0].body).expect("JSON request");
    let rekord = &sent["hashedRekordRequestV002"];
    assert_eq!(rekord["digest"], B64.encode(d));
    assert_eq!(rekord["signature"]["content"], B64.encode(b"sig"));
    assert_eq!(
        rekord["signature"]["verifier"]["x509Certificate"]["rawBytes"],
        B64.encode(b"cert")
    );
    assert_eq!(
        rekord["signature"]["verifier"]["keyDetails"],
        "PKIX_ECDSA_P256_SHA_256"
    );
}

fn v1_entry_json() -> String {
    let body = B64.encode(br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#);
    serde_json::json!({
        "body": body,
        "integratedTime": 1700000000,
        "logID": hex::encode([4u8; 32]),
        "logIndex": 42,
        "verification": {
            "signedEntryTimestamp": B64.encode(b"set"),
            "inclusionProof": {"checkpoint": "cp", "hashes": [hex::encode([5u8; 32])], "logIndex": 41, "rootHash": hex::encode([6u8; 32]), "treeSize": 99}
        }
    })
    .to_string()
}

#[tokio::test]
async fn rekor_v1_answer_becomes_a_bundle_entry() {
    let body = format!("{{\"24296fb24b8ad77a\": {}}}", v1_entry_json());
    let fake = Fake::answering("201 Created", Some("application/json;q=1"), body.as_bytes()).await;
    let log = RekorV1Client::new(&fake.base, patient());
    let d = digest();
    let entry = log.submit(&message(&d)).await.expect("entry");
    assert_eq!(entry.log_index, 42);
    assert_eq!(entry.log_id.key_id, vec![4u8; 32]);
    assert_eq!(
        (
            entry.kind_version.kind.as_str(),
            entry.kind_version.version.as_str()
        ),
        ("hashedrekord", "0.0.1")
    );
    assert_eq!(entry.integrated_time, Some(1_700_000_000));
    assert_eq!(
        entry
            .inclusion_promise
            .as_ref()
            .map(|p| p.signed_entry_timestamp.clone()),
        Some(b"set".to_vec())
    );
    let proof = entry.inclusion_proof.expect("proof");
    assert_eq!((proof.log_index, proof.tree_size), (41, 99));
    assert_eq!(proof.root_hash, vec![6u8; 32]);
    assert_eq!(proof.hashes, vec![vec![5u8; 32]]);
    assert_eq!(proof.checkpoint.map(|c| c.envelope), Some("cp".to_string()));

    let sent: serde_json::Value =
        serde_json::from_slice(&fake.received()[0].body).expect("JSON request");
    assert_eq!(sent["kind"], "hashedrekord");
    assert_eq!(sent["spec"]["data"]["hash"]["value"], hex::encode(d));
}

#[tokio::test]
async fn rekor_v1_answer_with_bad_hex_is_refused() {
    let body = format!(
        "{{\"x\": {}}}",
        v1_entry_json().replace(&hex::encode([6u8; 32]), "not hex")
    );
    let fake = Fake::answering("201 Created", Some("application/json"), body.as_bytes()).await;
    let log = RekorV1Client::new(&fake.base, patient());
    let d = digest();
    let e = log.submit(&message(&d)).await.expect_err("bad rootHash");
    assert!(
        printed(&e).starts_with(&format!(
            "transparency log {}/api/v1/log/entries: malformed response: rootHash: ",
            fake.base
        )),
        "{e}"
    );
}

// ---- RFC 3161: a real TSA behind the fake server ----

fn tsa_signer() -> Arc<keyless_tsa::Tsa> {
    let dir = std::env::temp_dir().join(format!(
        "keyless-sign-http-tsa-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let tsa = keyless_tsa::Tsa::open(&keyless_tsa::TsaConfig::new(&dir)).expect("TSA");
    let _ = std::fs::remove_dir_all(&dir);
    Arc::new(tsa)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A TSA endpoint whose reply is the real TSA's answer to whatever request
/// `rewrite` turns the received one into.
async fn tsa_answering(rewrite: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static) -> Fake {
    let tsa = tsa_signer();
    Fake::start_with(move |req| {
        let reply = tsa.timestamp_der(&rewrite(&req.body));
        vec![Step::Send(answer(
            "200 OK",
            Some("application/timestamp-reply"),
            &reply.der,
        ))]
    })
    .await
}

#[tokio::test]
async fn a_granted_timestamp_over_our_signature_is_returned() {
    let fake = tsa_answering(|req| req.to_vec()).await;
    let der = TsaClient::new(format!("{}/api/v1/timestamp", fake.base), patient())
        .timestamp(b"signature")
        .await
        .expect("timestamp");
    let token = keyless_tsp::TimestampToken::from_der(&der).expect("token");
    assert_eq!(
        token.tst_info().message_imprint.hashed_message.as_bytes(),
        keyless_crypto::sha256(b"signature")
    );
    assert!(token.tst_info().nonce.is_some(), "we ask with a nonce");
}

#[tokio::test]
async fn a_timestamp_without_our_nonce_is_refused() {
    // Same data, another request: a replayed or mixed-up reply.
    let fake = tsa_answering(|_| {
        keyless_tsp::issue::TimestampRequest::for_data(
            keyless_crypto::HashAlgorithm::Sha256,
            b"signature",
        )
        .with_nonce(b"someone else")
        .expect("nonce")
        .with_cert_req(true)
        .to_der()
        .expect("request")
    })
    .await;
    let (e, _) = tsa_error(&fake, patient()).await;
    assert_eq!(e, format!("timestamp authority {}/api/v1/timestamp: the timestamp does not carry our request's nonce", fake.base));
}

#[tokio::test]
async fn a_timestamp_over_other_data_is_refused() {
    let fake = tsa_answering(|_| {
        keyless_tsp::issue::TimestampRequest::for_data(
            keyless_crypto::HashAlgorithm::Sha256,
            b"other signature",
        )
        .to_der()
        .expect("request")
    })
    .await;
    let (e, _) = tsa_error(&fake, patient()).await;
    assert_eq!(
        e,
        format!(
            "timestamp authority {}/api/v1/timestamp: the timestamp covers different data",
            fake.base
        )
    );
}

#[tokio::test]
async fn a_rejection_with_http_200_is_refused() {
    // The TSA refuses a request it cannot parse with a TimeStampResp whose
    // status is "rejection"; that carries no timestamp.
    let fake = tsa_answering(|_| b"not a request".to_vec()).await;
    let (e, _) = tsa_error(&fake, patient()).await;
    assert!(
        e.starts_with(&format!(
            "timestamp authority {}/api/v1/timestamp: malformed reply: ",
            fake.base
        )),
        "{e}"
    );
}

#[tokio::test]
async fn a_404_on_the_v2_path_is_reported_as_a_version_mismatch() {
    let fake = Fake::answering("404 Not Found", Some("text/plain"), b"404 page not found").await;
    let d = digest();
    let err = RekorV2Client::new(&fake.base, patient())
        .submit(&message(&d))
        .await
        .expect_err("404");
    assert!(
        matches!(err, SignError::LogVersion { expected: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("does not look like a Rekor v2 log"),
        "{err}"
    );
    // The same 404 on the v1 path names v1.
    let fake = Fake::answering("404 Not Found", None, b"").await;
    let err = RekorV1Client::new(&fake.base, patient())
        .submit(&message(&d))
        .await
        .expect_err("404");
    assert!(
        matches!(err, SignError::LogVersion { expected: 1, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn an_answer_of_the_other_version_is_reported_as_a_version_mismatch() {
    let d = digest();
    // A v1 answer to a v2 request.
    let v1 = format!("{{\"24296fb24b8ad77a\": {}}}", v1_entry_json());
    let fake = Fake::answering("201 Created", Some("application/json"), v1.as_bytes()).await;
    let err = RekorV2Client::new(&fake.base, patient())
        .submit(&message(&d))
        .await
        .expect_err("v1 answer");
    assert!(
        matches!(err, SignError::LogVersion { expected: 2, .. }),
        "{err}"
    );
    // A v2 answer to a v1 request.
    let v2 = br#"{"logIndex":"1","logId":{"keyId":"AA=="},"kindVersion":{"kind":"hashedrekord","version":"0.0.2"},"canonicalizedBody":"e30="}"#;
    let fake = Fake::answering("201 Created", Some("application/json"), v2).await;
    let err = RekorV1Client::new(&fake.base, patient())
        .submit(&message(&d))
        .await
        .expect_err("v2 answer");
    assert!(
        matches!(err, SignError::LogVersion { expected: 1, .. }),
        "{err}"
    );
    // Other failures stay plain log errors.
    let fake = Fake::answering("500 Internal Server Error", None, b"boom").await;
    let err = RekorV2Client::new(&fake.base, patient())
        .submit(&message(&d))
        .await
        .expect_err("500");
    assert!(matches!(err, SignError::Log { .. }), "{err}");
}

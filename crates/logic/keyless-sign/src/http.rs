//! HTTP clients for Fulcio's v2 API, Rekor's v1 and v2 APIs and RFC 3161
//! timestamp authorities. Tokens go only in request bodies or the
//! Authorization header and never into errors.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use keyless_crypto::SigningKey;
use keyless_types::wire;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::json;

use crate::{CertificateAuthority, LogRequest, SignError, TimestampAuthority, TransparencyLog};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Largest certificate-chain answer read from a CA. A Fulcio answer is a
/// leaf, an intermediate and a root as PEM inside JSON, about 5 KiB; 1 MiB
/// leaves room for long chains while bounding what a hostile CA can make us
/// buffer.
pub const MAX_CA_RESPONSE_BYTES: u64 = 1024 * 1024;

/// Largest log-entry answer read from a transparency log. An entry is its
/// canonicalized body (signature and certificate), an inclusion proof of at
/// most 64 hashes and a checkpoint, a few KiB (Rekor v1 adds base64 and a
/// signed entry timestamp); 4 MiB is ample and still bounded.
pub const MAX_LOG_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// Largest RFC 3161 reply read from a TSA: the token parser refuses anything
/// longer ([`keyless_tsp::MAX_TOKEN_LEN`], 64 KiB; real tokens are 1-6 KiB),
/// so reading more would only waste memory.
pub const MAX_TSA_RESPONSE_BYTES: u64 = keyless_tsp::MAX_TOKEN_LEN as u64;

/// Most of an error answer read. Only its first [`ERROR_MESSAGE_CHARS`]
/// characters are shown, so more is never needed; a longer body is cut, not
/// refused, so that the status still reaches the user.
pub const MAX_ERROR_BODY_BYTES: u64 = 64 * 1024;

/// Characters of a server's error message shown in an error.
const ERROR_MESSAGE_CHARS: usize = 500;

/// Default time to establish a connection (TCP and TLS). Sigstore's
/// services answer a connection in well under a second; 10 s tolerates a
/// slow network but fails fast on an address that drops packets.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time for a whole exchange: connecting, sending, and reading the
/// full answer. The slowest step is a Rekor v2 entry, which waits for the
/// next checkpoint (about a second); 30 s is ample without letting a stalled
/// or trickling server hold the signing flow for long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Limits for talking to the services of a signing config. The defaults are
/// the ones to use; tests shorten the timeouts.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    connect_timeout: Duration,
    timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl HttpOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Time to establish a connection (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time for a whole request, answer body included (default
    /// [`DEFAULT_TIMEOUT`]). A server that trickles its answer is cut off
    /// at this point too, not only one that never starts answering.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The HTTP client the service clients share: one connection pool and TLS
/// configuration per process ([`HttpClient::shared`]) rather than one per
/// request. Cloning is cheap and shares the pool.
///
/// Every answer is read with a size cap (checked against `Content-Length`
/// before reading, then while reading, since the header may lie or be
/// absent) and within the total timeout; the `Content-Type` must be the one
/// the API defines. Redirects are not followed: the CA request carries the
/// identity token, which must reach only the URL the signing config names.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    options: HttpOptions,
}

impl HttpClient {
    /// A client with `options`. Fails if the TLS stack cannot be set up.
    pub fn new(options: HttpOptions) -> Result<Self, SignError> {
        Self::build(options).map_err(SignError::HttpClient)
    }

    fn build(options: HttpOptions) -> Result<Self, std::sync::Arc<reqwest::Error>> {
        let builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("keyless/", env!("CARGO_PKG_VERSION")));
        let client = keyless_ca_bundle::trust(builder)
            .and_then(|b| b.build())
            .map_err(std::sync::Arc::new)?;
        Ok(Self { client, options })
    }

    /// The process-wide client with default options, built on first use.
    /// Its pooled connections are driven by the Tokio runtime that opened
    /// them, so a process that signs from several runtimes in turn should
    /// give each its own client ([`HttpClient::new`]); the CLI runs one.
    pub fn shared() -> Result<Self, SignError> {
        static SHARED: OnceLock<Result<HttpClient, std::sync::Arc<reqwest::Error>>> =
            OnceLock::new();
        SHARED
            .get_or_init(|| Self::build(HttpOptions::default()))
            .clone()
            .map_err(SignError::HttpClient)
    }

    /// GET `url` within `timeout` and return only the answer's status and
    /// headers; the body is never read. For probes that decide what to
    /// print (does a log serve the explorer page?), on the same client,
    /// TLS trust and redirect policy as the signing requests.
    pub async fn probe(
        &self,
        url: &str,
        timeout: Duration,
    ) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap), reqwest::Error> {
        let resp = self.client.get(url).timeout(timeout).send().await?;
        Ok((resp.status(), resp.headers().clone()))
    }

    /// POST `body` as JSON to `url` and read a JSON answer of at most
    /// `max_bytes`. `secret`, if the body carries one, is blanked out of
    /// any error message the server echoes.
    async fn post_json(
        &self,
        service: Service,
        url: &str,
        body: &serde_json::Value,
        max_bytes: u64,
        secret: Option<&str>,
    ) -> Result<Vec<u8>, SignError> {
        let request = self.client.post(url).header(ACCEPT, JSON).json(body);
        self.exchange(service, url, request, JSON, max_bytes, secret)
            .await
    }

    /// Send `request` and read its answer: a success status, a
    /// `Content-Type` of `content_type`, at most `max_bytes`, all within the
    /// timeout. Every failure names the service, the URL and the problem.
    async fn exchange(
        &self,
        service: Service,
        url: &str,
        request: reqwest::RequestBuilder,
        content_type: &str,
        max_bytes: u64,
        secret: Option<&str>,
    ) -> Result<Vec<u8>, SignError> {
        let fail = |problem: String| service.error(url, problem);
        let limit = self.options.timeout;
        let deadline = tokio::time::Instant::now() + limit;
        let mut resp = match tokio::time::timeout_at(deadline, request.send()).await {
            Err(_) => return Err(fail(format!("did not answer within {}", duration(limit)))),
            Ok(Err(e)) => return Err(fail(self.transport(e))),
            Ok(Ok(resp)) => resp,
        };
        let status = resp.status();
        if !status.is_success() {
            return Err(fail(error_text(resp, deadline, secret).await));
        }
        check_content_type(resp.headers().get(CONTENT_TYPE), content_type).map_err(fail)?;
        if let Some(length) = resp.content_length().filter(|n| *n > max_bytes) {
            return Err(fail(format!(
                "response larger than {} (Content-Length {length})",
                size(max_bytes)
            )));
        }
        let mut body = Vec::new();
        loop {
            let chunk = match tokio::time::timeout_at(deadline, resp.chunk()).await {
                Err(_) => {
                    return Err(fail(format!(
                        "did not finish answering within {}",
                        duration(limit)
                    )))
                }
                Ok(Err(e)) => {
                    return Err(fail(format!("reading the response: {}", self.transport(e))))
                }
                Ok(Ok(None)) => return Ok(body),
                Ok(Ok(Some(chunk))) => chunk,
            };
            if body.len() as u64 + chunk.len() as u64 > max_bytes {
                return Err(fail(format!("response larger than {}", size(max_bytes))));
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// A transport error, without the URL (the caller names it) and with the
    /// causes that say what actually went wrong.
    fn transport(&self, e: reqwest::Error) -> String {
        if e.is_connect() && e.is_timeout() {
            return format!(
                "could not connect within {}",
                duration(self.options.connect_timeout)
            );
        }
        let what = if e.is_connect() {
            "could not connect"
        } else {
            "request failed"
        };
        format!("{what}: {}", chain(&e.without_url()))
    }
}

const JSON: &str = "application/json";

/// Which service an exchange is with, so errors name it.
#[derive(Debug, Clone, Copy)]
enum Service {
    Ca,
    Log,
    Tsa,
}

impl Service {
    fn error(self, url: &str, problem: String) -> SignError {
        let url = url.to_string();
        match self {
            Self::Ca => SignError::Ca {
                url,
                problem,
                source: None,
            },
            Self::Log => SignError::Log {
                url,
                problem,
                source: None,
            },
            Self::Tsa => SignError::Timestamp {
                url,
                problem,
                source: None,
            },
        }
    }
}

/// An error and its causes, "outer: inner: innermost".
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Refuse an answer whose media type is not `expected` (parameters such as
/// `charset` are allowed; case does not matter). A server answering HTML or
/// plain text with a 200 is a proxy or a misconfigured URL, not the API.
fn check_content_type(
    header: Option<&reqwest::header::HeaderValue>,
    expected: &str,
) -> Result<(), String> {
    let Some(value) = header else {
        return Err(format!(
            "response has no Content-Type (expected {expected})"
        ));
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let media_type = text.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(format!(
            "response has Content-Type {:?} (expected {expected})",
            printable(&text, 100)
        ))
    }
}

/// Server-controlled text made safe to show: at most `max` characters, and
/// control characters (terminal escapes, newlines) replaced by spaces.
fn printable(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// "4 MiB", "64 KiB" or "1000 bytes".
fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// "30 s" or "200 ms".
fn duration(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Describe an error answer: its status and the server's message, which
/// Fulcio and Rekor send as `{"code","message"}` and others as plain text.
/// The body is read only up to [`MAX_ERROR_BODY_BYTES`] and the deadline; if
/// it cannot be read, the status alone is reported. A `secret` the server
/// echoes (the identity token) is replaced before anything is shown.
async fn error_text(
    mut resp: reqwest::Response,
    deadline: tokio::time::Instant,
    secret: Option<&str>,
) -> String {
    let status = resp.status();
    let mut body = Vec::new();
    while (body.len() as u64) < MAX_ERROR_BODY_BYTES {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(MAX_ERROR_BODY_BYTES as usize);
    let body = String::from_utf8_lossy(&body);
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.into_owned());
    let message = match secret {
        Some(secret) if !secret.is_empty() => message.replace(secret, "[identity token]"),
        _ => message,
    };
    let message = printable(message.trim(), ERROR_MESSAGE_CHARS);
    if message.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {message}")
    }
}

/// A Fulcio-compatible CA (v2 API).
#[derive(Debug, Clone)]
pub struct FulcioClient {
    url: String,
    http: HttpClient,
}

impl FulcioClient {
    /// The CA at `url` (its base URL, as a signing config names it).
    pub fn new(url: impl Into<String>, http: HttpClient) -> Self {
        Self {
            url: url.into(),
            http,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl CertificateAuthority for FulcioClient {
    async fn signing_certificate(
        &self,
        token: &str,
        challenge: &str,
        key: &SigningKey,
    ) -> Result<Vec<Vec<u8>>, SignError> {
        let url = format!("{}/api/v2/signingCert", self.url.trim_end_matches('/'));
        let fail = |problem: String| SignError::Ca {
            url: url.clone(),
            problem,
            source: None,
        };
        let fail_with = |problem: &str, source: crate::error::Cause| SignError::Ca {
            url: url.clone(),
            problem: problem.to_string(),
            source: Some(source),
        };
        // Proof of possession: the key signs the identity claim.
        let pop = key.sign(challenge.as_bytes())?;
        let body = json!({
            "credentials": { "oidcIdentityToken": token },
            "publicKeyRequest": {
                "publicKey": { "algorithm": "ECDSA", "content": key.public_key().to_pem() },
                "proofOfPossession": B64.encode(pop),
            }
        });
        let answer = self
            .http
            .post_json(Service::Ca, &url, &body, MAX_CA_RESPONSE_BYTES, Some(token))
            .await?;
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Resp {
            signed_certificate_embedded_sct: Option<Chain>,
            signed_certificate_detached_sct: Option<Chain>,
        }
        #[derive(Deserialize)]
        struct Chain {
            chain: Certs,
        }
        #[derive(Deserialize)]
        struct Certs {
            certificates: Vec<String>,
        }
        let r: Resp = serde_json::from_slice(&answer)
            .map_err(|e| fail_with("malformed response", e.into()))?;
        let chain = r
            .signed_certificate_embedded_sct
            .or(r.signed_certificate_detached_sct)
            .ok_or_else(|| fail("response has no certificate chain".into()))?;
        chain
            .chain
            .certificates
            .iter()
            .map(|pem| {
                let (label, der) = keyless_crypto::pem::decode(pem)
                    .map_err(|e| fail_with("certificate PEM", e.into()))?;
                if label != "CERTIFICATE" {
                    return Err(fail(format!("chain holds a {label:?} block")));
                }
                Ok(der)
            })
            .collect()
    }
}

/// A Rekor v2 log (`POST /api/v2/log/entries`).
#[derive(Debug, Clone)]
pub struct RekorV2Client {
    url: String,
    http: HttpClient,
}

impl RekorV2Client {
    /// The log at `url` (its base URL, as a signing config names it).
    pub fn new(url: impl Into<String>, http: HttpClient) -> Self {
        Self {
            url: url.into(),
            http,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl TransparencyLog for RekorV2Client {
    async fn submit(
        &self,
        request: &LogRequest<'_>,
    ) -> Result<wire::TransparencyLogEntry, SignError> {
        let url = format!("{}/api/v2/log/entries", self.url.trim_end_matches('/'));
        let body = match request {
            LogRequest::Message {
                digest,
                signature,
                certificate,
                key_details,
            } => json!({
                "hashedRekordRequestV002": {
                    "digest": B64.encode(digest),
                    "signature": {
                        "content": B64.encode(signature),
                        "verifier": v2_verifier(certificate, key_details),
                    }
                }
            }),
            // Rekor v2 logs a DSSE envelope as a hashedrekord over the hash
            // of its PAE, with the envelope's signature (rekor-v2 spec
            // §6.1.4); that is what verifiers rebuild and compare.
            LogRequest::Dsse {
                envelope,
                certificate,
                key_details,
            } => json!({
                "hashedRekordRequestV002": {
                    "digest": B64.encode(keyless_crypto::sha256(&keyless_types::pae(&envelope.payload_type, &envelope.payload))),
                    "signature": {
                        "content": B64.encode(envelope.signatures.first().map(|s| s.sig.as_slice()).unwrap_or_default()),
                        "verifier": v2_verifier(certificate, key_details),
                    }
                }
            }),
        };
        let answer = self
            .http
            .post_json(Service::Log, &url, &body, MAX_LOG_RESPONSE_BYTES, None)
            .await
            .map_err(|e| version_mismatch(e, 2))?;
        serde_json::from_slice(&answer).map_err(|e| {
            if looks_like_v1_answer(&answer) {
                SignError::LogVersion {
                    url: url.clone(),
                    expected: 2,
                    problem: "it answered with a Rekor v1 entry (a map of entry UUIDs)".into(),
                }
            } else {
                Service::Log.error(&url, format!("malformed response: {e}"))
            }
        })
    }
}

/// A Rekor v1 log (`POST /api/v1/log/entries`), for instances that have
/// not moved to v2.
#[derive(Debug, Clone)]
pub struct RekorV1Client {
    url: String,
    http: HttpClient,
}

impl RekorV1Client {
    /// The log at `url` (its base URL, as a signing config names it).
    pub fn new(url: impl Into<String>, http: HttpClient) -> Self {
        Self {
            url: url.into(),
            http,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl TransparencyLog for RekorV1Client {
    async fn submit(
        &self,
        request: &LogRequest<'_>,
    ) -> Result<wire::TransparencyLogEntry, SignError> {
        let url = format!("{}/api/v1/log/entries", self.url.trim_end_matches('/'));
        let fail = |problem: String| SignError::Log {
            url: url.clone(),
            problem,
            source: None,
        };
        let fail_with = |problem: &str, source: crate::error::Cause| SignError::Log {
            url: url.clone(),
            problem: problem.to_string(),
            source: Some(source),
        };
        let pem_b64 = |der: &[u8]| {
            let pem = if is_public_key(der) {
                keyless_crypto::pem::encode("PUBLIC KEY", der)
            } else {
                pem_cert(der)
            };
            B64.encode(pem.as_bytes())
        };
        let body = match request {
            LogRequest::Message {
                digest,
                signature,
                certificate,
                ..
            } => json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": { "hash": { "algorithm": "sha256", "value": hex::encode(digest) } },
                    "signature": { "content": B64.encode(signature), "publicKey": { "content": pem_b64(certificate) } }
                }
            }),
            LogRequest::Dsse {
                envelope,
                certificate,
                ..
            } => json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": { "proposedContent": {
                    "envelope": serde_json::to_string(envelope)
                        .map_err(|e| fail_with("cannot encode the envelope", e.into()))?,
                    "verifiers": [pem_b64(certificate)],
                } }
            }),
        };
        let answer = self
            .http
            .post_json(Service::Log, &url, &body, MAX_LOG_RESPONSE_BYTES, None)
            .await
            .map_err(|e| version_mismatch(e, 1))?;
        let map: std::collections::BTreeMap<String, V1Entry> = serde_json::from_slice(&answer)
            .map_err(|e| {
                if looks_like_v2_answer(&answer) {
                    SignError::LogVersion {
                        url: url.clone(),
                        expected: 1,
                        problem: "it answered with a Rekor v2 entry (logIndex, kindVersion, canonicalizedBody)"
                            .into(),
                    }
                } else {
                    fail(format!("malformed response: {e}"))
                }
            })?;
        // One request creates one entry; more than one is not an answer to it.
        let mut entries = map.into_values();
        let (Some(e), None) = (entries.next(), entries.next()) else {
            return Err(fail(
                "malformed response: expected exactly one entry".into(),
            ));
        };
        e.into_wire()
            .map_err(|e| fail_with("malformed response", e.into()))
    }
}

/// A log that answers 404/405 on the entries path of API version
/// `expected` most likely serves the other version there (Rekor v1 and v2
/// have different paths): say so, so the caller can name the fix.
fn version_mismatch(e: SignError, expected: u32) -> SignError {
    match e {
        SignError::Log { url, problem, .. }
            if problem.starts_with("HTTP 404") || problem.starts_with("HTTP 405") =>
        {
            SignError::LogVersion {
                url,
                expected,
                problem: format!("{problem} (no Rekor v{expected} entries API at this path)"),
            }
        }
        other => other,
    }
}

/// Rekor v1 answers `{"<uuid>": {"body", "integratedTime", "verification", ...}}`.
fn looks_like_v1_answer(answer: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(answer).is_ok_and(|m| {
        m.values()
            .any(|v| v.get("integratedTime").is_some() && v.get("body").is_some())
    })
}

/// Rekor v2 answers one TransparencyLogEntry in the protobuf-specs shape.
fn looks_like_v2_answer(answer: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(answer)
        .is_ok_and(|m| m.contains_key("canonicalizedBody") && m.contains_key("kindVersion"))
}

/// Whether a [`LogRequest`]'s verifier DER is a public key (key-based
/// signing) rather than a certificate.
fn is_public_key(der: &[u8]) -> bool {
    keyless_crypto::PublicKey::from_spki_der(der).is_ok()
}

/// A Rekor v2 verifier: `publicKey` for a key, else `x509Certificate`.
fn v2_verifier(der: &[u8], key_details: &str) -> serde_json::Value {
    if is_public_key(der) {
        json!({ "publicKey": { "rawBytes": B64.encode(der) }, "keyDetails": key_details })
    } else {
        json!({ "x509Certificate": { "rawBytes": B64.encode(der) }, "keyDetails": key_details })
    }
}

fn pem_cert(der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Entry {
    body: String,
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    log_index: i64,
    verification: V1Verification,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Verification {
    signed_entry_timestamp: String,
    inclusion_proof: Option<V1Proof>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Proof {
    checkpoint: String,
    hashes: Vec<String>,
    log_index: i64,
    root_hash: String,
    tree_size: i64,
}

impl V1Entry {
    /// Rekor v1 answers in its own shape (hex hashes, a UUID map); bundles
    /// carry the protobuf-specs shape.
    fn into_wire(self) -> Result<wire::TransparencyLogEntry, WireError> {
        let body = B64.decode(&self.body).map_err(WireError::of("body"))?;
        let header: keyless_types::rekor::Header =
            serde_json::from_slice(&body).map_err(WireError::of("body"))?;
        let proof = self
            .verification
            .inclusion_proof
            .map(|p| -> Result<wire::InclusionProof, WireError> {
                Ok(wire::InclusionProof {
                    log_index: p.log_index,
                    root_hash: hex::decode(&p.root_hash).map_err(WireError::of("rootHash"))?,
                    tree_size: p.tree_size,
                    hashes: p
                        .hashes
                        .iter()
                        .map(hex::decode)
                        .collect::<Result<_, _>>()
                        .map_err(WireError::of("hashes"))?,
                    checkpoint: Some(wire::Checkpoint {
                        envelope: p.checkpoint,
                    }),
                })
            })
            .transpose()?;
        Ok(wire::TransparencyLogEntry {
            log_index: self.log_index,
            log_id: wire::LogId {
                key_id: hex::decode(&self.log_id).map_err(WireError::of("logID"))?,
            },
            kind_version: wire::KindVersion {
                kind: header.kind,
                version: header.api_version,
            },
            integrated_time: Some(self.integrated_time),
            inclusion_promise: Some(wire::InclusionPromise {
                signed_entry_timestamp: B64
                    .decode(&self.verification.signed_entry_timestamp)
                    .map_err(WireError::of("SET"))?,
            }),
            inclusion_proof: proof,
            canonicalized_body: body,
            canonicalized_body_b64: None,
        })
    }
}

/// A field of a Rekor v1 answer that does not decode; the decoder's error
/// is the source.
#[derive(Debug, thiserror::Error)]
#[error("{field}")]
struct WireError {
    field: &'static str,
    #[source]
    source: crate::error::Cause,
}

impl WireError {
    fn of<E: std::error::Error + Send + Sync + 'static>(
        field: &'static str,
    ) -> impl FnOnce(E) -> Self {
        move |e| Self {
            field,
            source: Box::new(e),
        }
    }
}

/// An RFC 3161 TSA at `url` (the full timestamp endpoint).
#[derive(Debug, Clone)]
pub struct TsaClient {
    url: String,
    http: HttpClient,
}

impl TsaClient {
    /// The TSA whose timestamp endpoint is `url` (as a signing config names it).
    pub fn new(url: impl Into<String>, http: HttpClient) -> Self {
        Self {
            url: url.into(),
            http,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

const TIMESTAMP_QUERY: &str = "application/timestamp-query";
const TIMESTAMP_REPLY: &str = "application/timestamp-reply";

impl TimestampAuthority for TsaClient {
    async fn timestamp(&self, signature: &[u8]) -> Result<Vec<u8>, SignError> {
        let fail = |problem: String| SignError::Timestamp {
            url: self.url.clone(),
            problem,
            source: None,
        };
        let fail_with = |problem: &str, source: crate::error::Cause| SignError::Timestamp {
            url: self.url.clone(),
            problem: problem.to_string(),
            source: Some(source),
        };
        let nonce = keyless_crypto::sha256(signature);
        let req = keyless_tsp::issue::TimestampRequest::for_data(
            keyless_crypto::HashAlgorithm::Sha256,
            signature,
        )
        .with_nonce(&nonce[..8])
        .map_err(|e| fail_with("cannot build the request", e.into()))?
        .with_cert_req(true);
        let der = req
            .to_der()
            .map_err(|e| fail_with("cannot encode the request", e.into()))?;
        let request = self
            .http
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, TIMESTAMP_QUERY)
            .header(ACCEPT, TIMESTAMP_REPLY)
            .body(der);
        let der = self
            .http
            .exchange(
                Service::Tsa,
                &self.url,
                request,
                TIMESTAMP_REPLY,
                MAX_TSA_RESPONSE_BYTES,
                None,
            )
            .await?;
        // Refuse a reply that is not a granted token over our signature,
        // answering our request (RFC 3161 §2.4.2: the nonce is echoed).
        let token = keyless_tsp::TimestampToken::from_der(&der)
            .map_err(|e| fail_with("malformed reply", e.into()))?;
        let info = token.tst_info();
        if info.message_imprint.hashed_message.as_bytes() != keyless_crypto::sha256(signature) {
            return Err(fail("the timestamp covers different data".into()));
        }
        if info.nonce.as_ref().map(|n| n.as_bytes()) != req.nonce() {
            return Err(fail(
                "the timestamp does not carry our request's nonce".into(),
            ));
        }
        Ok(der)
    }
}

/// Either Rekor API, chosen at run time from the signing config.
#[derive(Debug, Clone)]
pub enum AnyRekor {
    V1(RekorV1Client),
    V2(RekorV2Client),
    /// No log: the user turned uploads off; nothing is submitted.
    Off,
}

impl AnyRekor {
    /// The client for `url` speaking API major version `version`.
    pub fn new(url: &str, version: u32, http: HttpClient) -> Self {
        if version == 1 {
            Self::V1(RekorV1Client::new(url, http))
        } else {
            Self::V2(RekorV2Client::new(url, http))
        }
    }
}

impl TransparencyLog for AnyRekor {
    async fn submit(
        &self,
        request: &LogRequest<'_>,
    ) -> Result<wire::TransparencyLogEntry, SignError> {
        match self {
            Self::V1(c) => c.submit(request).await,
            Self::V2(c) => c.submit(request).await,
            Self::Off => Err(SignError::Config(
                "transparency log uploads are turned off".into(),
            )),
        }
    }

    fn records(&self) -> bool {
        !matches!(self, Self::Off)
    }
}

/// PEM for a DER certificate (64-column lines).
pub fn certificate_pem(der: &[u8]) -> String {
    pem_cert(der)
}

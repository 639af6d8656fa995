//! Shared test helpers: a real log server on 127.0.0.1:0, request
//! builders, and a trusted root listing the log.
#![allow(dead_code)]

pub use keyless_testkit::backend::{Backend, Store};
// Each test binary uses only some of these.
#[allow(unused_imports)]
pub use keyless_testkit::{both_backends, pg};

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::{sha256, KeyAlgorithm, SigningKey};
use keyless_log::{Log, LogConfig, LogKeyType};
use keyless_rekor::RekorConfig;
use serde_json::{json, Value};

/// What the log's tests need of a [`Store`] beyond where it is.
pub trait StoreExt {
    /// A log configuration on this store.
    fn config(&self, origin: impl Into<String>) -> LogConfig;
    /// The server binary's storage arguments.
    fn args(&self) -> Vec<String>;
}

impl StoreExt for Store {
    fn config(&self, origin: impl Into<String>) -> LogConfig {
        let config = LogConfig::new(self.dir.path(), origin);
        match &self.pg {
            Some(pg) => config.with_postgres(pg.url()),
            None => config,
        }
    }

    fn args(&self) -> Vec<String> {
        let mut a = vec![
            "--data-dir".to_string(),
            self.dir.path().to_str().unwrap().to_string(),
        ];
        if let Some(pg) = &self.pg {
            a.extend(["--postgres".to_string(), pg.url()]);
        }
        a
    }
}

pub struct Server {
    pub url: String,
    pub log: Log,
    pub store: Store,
    pub task: tokio::task::JoinHandle<()>,
}

pub async fn start(key_type: LogKeyType) -> Server {
    start_on(Backend::Files, key_type).await
}

pub async fn start_on(backend: Backend, key_type: LogKeyType) -> Server {
    let store = tokio::task::spawn_blocking(move || Store::new(backend))
        .await
        .unwrap();
    start_with(store, key_type, None).await
}

/// Start on a fresh port; the origin is the address unless given.
pub async fn start_with(store: Store, key_type: LogKeyType, origin: Option<String>) -> Server {
    start_configured(store, key_type, origin, |_| {}).await
}

/// [`start_with`], with the configuration adjusted by `adjust`.
pub async fn start_configured(
    store: Store,
    key_type: LogKeyType,
    origin: Option<String>,
    adjust: impl FnOnce(&mut RekorConfig),
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = RekorConfig::new(store.config(origin.unwrap_or_else(|| addr.to_string())));
    config.log.key_type = key_type;
    config.log.batch_interval = Duration::from_millis(20);
    adjust(&mut config);
    let RekorConfig { log, limits, .. } = config;
    let log = tokio::task::spawn_blocking(move || keyless_log::open_from_config(log))
        .await
        .unwrap()
        .unwrap();
    let router = keyless_rekor::router_with(log.clone(), limits);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Server {
        url: format!("http://{addr}"),
        log,
        store,
        task,
    }
}

/// Wait until no log holds `store`'s data directory: a dropped `Log`
/// releases it only once its sequencer threads (and any HTTP connection
/// still holding a clone) have finished.
pub async fn wait_unlocked(store: &Store) {
    if store.pg.is_some() {
        return;
    }
    let dir = store.dir.path().to_path_buf();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let d = dir.clone();
        let r = tokio::task::spawn_blocking(move || {
            keyless_log::storage::files::FileStorage::open(&d).map(drop)
        })
        .await
        .unwrap();
        match r {
            Err(keyless_log::StorageError::Locked { .. })
                if std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            other => return other.expect("data directory is free again"),
        }
    }
}

/// Send `req` and read the answer as JSON (any status): the status and
/// the body. A body that is not JSON fails the test, naming both.
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("status {status}: body is not JSON: {text:?}"));
    (status, v)
}

pub fn b64(b: &[u8]) -> String {
    B64.encode(b)
}

pub fn signer() -> SigningKey {
    SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap()
}

pub fn hashed_rekord_v2(key: &SigningKey, artifact: &[u8]) -> (Value, Vec<u8>) {
    let digest = sha256(artifact);
    let sig = key.sign(artifact).unwrap();
    let req = json!({ "hashedRekordRequestV002": {
        "digest": b64(&digest),
        "signature": {
            "content": b64(&sig),
            "verifier": { "publicKey": { "rawBytes": b64(key.public_key().spki_der()) }, "keyDetails": "PKIX_ECDSA_P256_SHA_256" },
        },
    }});
    (req, sig)
}

pub fn hashed_rekord_v1(key: &SigningKey, artifact: &[u8]) -> (Value, Vec<u8>) {
    let sig = key.sign(artifact).unwrap();
    let req = json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": "sha256", "value": hex::encode(sha256(artifact)) } },
            "signature": { "content": b64(&sig), "publicKey": { "content": b64(key.public_key().to_pem().as_bytes()) } },
        },
    });
    (req, sig)
}

/// One timestamp authority for the tests of this binary (its keys in a
/// directory that lives as long as the process).
pub fn tsa() -> &'static keyless_tsa::Tsa {
    static TSA: std::sync::OnceLock<keyless_tsa::Tsa> = std::sync::OnceLock::new();
    TSA.get_or_init(|| {
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        let mut tsa = keyless_tsa::Tsa::open(&keyless_tsa::TsaConfig::new(dir.path())).unwrap();
        tsa.set_uri("http://tsa.test/api/v1/timestamp");
        tsa
    })
}

/// `bundle` with an RFC 3161 timestamp from [`tsa`] over `signature`: a
/// Rekor v2 entry has no integrated time, so the verifier needs one.
pub fn timestamped(bundle: &[u8], signature: &[u8]) -> Vec<u8> {
    let req = keyless_tsp::issue::TimestampRequest::for_data(
        keyless_crypto::HashAlgorithm::Sha256,
        signature,
    )
    .with_cert_req(true)
    .to_der()
    .unwrap();
    let reply = tsa().timestamp_der(&req);
    assert!(reply.failure.is_none(), "{:?}", reply.failure);
    let mut v: Value = serde_json::from_slice(bundle).unwrap();
    v["verificationMaterial"]["timestampVerificationData"] =
        json!({ "rfc3161Timestamps": [{ "signedTimestamp": b64(&reply.der) }] });
    serde_json::to_vec(&v).unwrap()
}

/// A trusted_root.json listing the log and the tests' [`tsa`].
pub fn trusted_root(server: &Server) -> Vec<u8> {
    let key = server.log.public_key();
    let details = match key.algorithm() {
        KeyAlgorithm::Ed25519 => "PKIX_ED25519",
        _ => "PKIX_ECDSA_P256_SHA_256",
    };
    serde_json::to_vec(&json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": server.url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": { "rawBytes": b64(key.spki_der()), "keyDetails": details, "validFor": { "start": "2020-01-01T00:00:00Z" } },
            "logId": { "keyId": b64(&server.log.log_id()) },
        }],
        "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": [tsa().trusted_root_entry()],
    }))
    .unwrap()
}

pub fn message_bundle(_key: &SigningKey, artifact: &[u8], sig: &[u8], tle: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": { "publicKey": { "hint": "" }, "tlogEntries": [tle] },
        "messageSignature": { "messageDigest": { "algorithm": "SHA2_256", "digest": b64(&sha256(artifact)) }, "signature": b64(sig) },
    }))
    .unwrap()
}

pub fn verify(
    server: &Server,
    key: &SigningKey,
    bundle: &[u8],
    artifact: &[u8],
) -> Result<keyless_verify::VerificationResult, keyless_verify::VerificationError> {
    let trust = keyless_verify::TrustMaterial::from_json(&trusted_root(server)).unwrap();
    let verifier = keyless_verify::Verifier::new(trust, keyless_verify::VerifierOptions::default());
    verifier.verify_json(
        bundle,
        &keyless_verify::Artifact::Bytes(artifact.to_vec()),
        &keyless_verify::Policy::Key(key.public_key().clone()),
    )
}

pub async fn post(url: &str, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let v = resp.json().await.unwrap_or(Value::Null);
    (status, v)
}

pub async fn get_json(url: &str) -> (u16, Value) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A v1 `LogEntry`'s entry (the value under its UUID) as a bundle's
/// `tlogEntries` item, for [`message_bundle`] and [`verify`]: the SET as
/// its inclusion promise, the proof with its checkpoint.
pub fn v1_tle(entry: &Value) -> Value {
    let proof = &entry["verification"]["inclusionProof"];
    let unhex = |v: &Value| b64(&hex::decode(v.as_str().unwrap()).unwrap());
    let hashes: Vec<String> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(unhex)
        .collect();
    json!({
        "logIndex": entry["logIndex"].to_string(),
        "logId": { "keyId": unhex(&entry["logID"]) },
        "kindVersion": { "kind": "hashedrekord", "version": "0.0.1" },
        "integratedTime": entry["integratedTime"].to_string(),
        "inclusionPromise": { "signedEntryTimestamp": entry["verification"]["signedEntryTimestamp"] },
        "inclusionProof": {
            "logIndex": proof["logIndex"].to_string(),
            "rootHash": unhex(&proof["rootHash"]),
            "treeSize": proof["treeSize"].to_string(),
            "hashes": hashes,
            "checkpoint": { "envelope": proof["checkpoint"] },
        },
        "canonicalizedBody": entry["body"],
    })
}

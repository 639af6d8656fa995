//! Rekor v1 dsse 0.0.1 and intoto 0.0.2 entries: an in-toto statement in
//! a DSSE envelope, signed with an ephemeral P-256 key certified by a
//! keyless CA, is logged through `POST /api/v1/log/entries`, built into a
//! bundle with the entry's SET and inclusion proof, and verified by
//! keyless-verify against a trusted root listing the CA, its CT log and
//! this log. Search (by hash, key and e-mail) finds the entries;
//! duplicates get Rekor's 409; bad
//! requests get a 4xx and write nothing.

mod support;

use std::sync::Arc;

use keyless_ca::ca::Issuer;
use keyless_ca::identity::{Principal, San};
use keyless_ca::{CaMaterial, CtLog};
use keyless_crypto::{sha256, SigningKey};
use keyless_log::LogKeyType;
use keyless_verify::{Identity, Matcher, Policy, TrustMaterial, Verifier, VerifierOptions};
use serde_json::{json, Value};
use support::*;

both_backends!(dsse_and_intoto_entries_verify_and_are_found);

const EMAIL: &str = "signer@example.com";
const ISSUER: &str = "https://issuer.example";
const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A signer with a keyless certificate, and the trusted root (without
/// tlogs) that lets a verifier check it.
struct Signer {
    key: SigningKey,
    cert_der: Vec<u8>,
    root: Value,
}

impl Signer {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let material = CaMaterial::load_or_create(dir.path()).unwrap();
        let root = serde_json::to_value(keyless_ca::trusted_root(
            &material,
            "http://ca.test",
            "http://ct.test",
        ))
        .unwrap();
        let CaMaterial {
            root: root_cert,
            intermediate,
            intermediate_key,
            ct_key,
            ..
        } = material;
        let ct = Arc::new(CtLog::new(ct_key, vec![root_cert.clone()]));
        let issuer = Issuer::new(intermediate, intermediate_key, root_cert, ct);
        let key = signer();
        let principal = Principal {
            san: San::Email(EMAIL.into()),
            issuer: ISSUER.into(),
            challenge: EMAIL.into(),
            challenge_claim: "email".into(),
            extensions: vec![],
        };
        let chain = issuer
            .issue(&principal, key.public_key(), now() - 5)
            .unwrap();
        Self {
            key,
            cert_der: chain.certificates[0].clone(),
            root,
        }
    }

    fn cert_pem(&self) -> String {
        keyless_ca::pki::pem_encode("CERTIFICATE", &self.cert_der)
    }

    /// The trusted root with this log added.
    fn trusted_root(&self, server: &Server) -> Vec<u8> {
        let log: Value = serde_json::from_slice(&support::trusted_root(server)).unwrap();
        let mut root = self.root.clone();
        root["tlogs"] = log["tlogs"].clone();
        serde_json::to_vec(&root).unwrap()
    }

    fn verify(&self, server: &Server, bundle: &Value, artifact: &[u8]) -> Result<(), String> {
        let trust = TrustMaterial::from_json(&self.trusted_root(server)).unwrap();
        let verifier = Verifier::new(trust, VerifierOptions::default());
        let policy = Policy::identity(Identity::new(Matcher::exact(EMAIL), Matcher::exact(ISSUER)));
        verifier
            .verify_json(
                &serde_json::to_vec(bundle).unwrap(),
                &keyless_verify::Artifact::Bytes(artifact.to_vec()),
                &policy,
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An in-toto statement about `artifact` and its DSSE envelope, signed.
fn envelope(key: &SigningKey, artifact: &[u8]) -> (Vec<u8>, Vec<u8>, Value) {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": "thing", "digest": { "sha256": hex::encode(sha256(artifact)) } }],
        "predicateType": "https://example.com/test/v1",
        "predicate": { "built": true },
    });
    let payload = serde_json::to_vec(&statement).unwrap();
    let sig = key
        .sign(&keyless_types::pae(PAYLOAD_TYPE, &payload))
        .unwrap();
    let env = json!({ "payload": b64(&payload), "payloadType": PAYLOAD_TYPE, "signatures": [{ "sig": b64(&sig), "keyid": "" }] });
    (payload, sig, env)
}

fn dsse_request(env: &Value, verifiers: &[&[u8]]) -> Value {
    json!({ "apiVersion": "0.0.1", "kind": "dsse", "spec": { "proposedContent": {
        "envelope": env.to_string(),
        "verifiers": verifiers.iter().map(|v| b64(v)).collect::<Vec<_>>(),
    }}})
}

/// Rekor's intoto 0.0.2 proposal: payload and sig base64-encoded twice.
fn intoto_request(env: &Value, public_key_pem: &[u8]) -> Value {
    let twice = |s: &Value| b64(s.as_str().unwrap().as_bytes());
    json!({ "apiVersion": "0.0.2", "kind": "intoto", "spec": { "content": {
        "envelope": {
            "payload": twice(&env["payload"]),
            "payloadType": env["payloadType"],
            "signatures": [{ "sig": twice(&env["signatures"][0]["sig"]), "publicKey": b64(public_key_pem) }],
        },
        "hash": { "algorithm": "sha256", "value": hex::encode(sha256(env.to_string().as_bytes())) },
    }}})
}

/// The single `{uuid: entry}` of a v1 create response.
fn only_entry(resp: &Value) -> (String, Value) {
    let map = resp.as_object().unwrap();
    assert_eq!(map.len(), 1, "{resp}");
    let (k, v) = map.iter().next().unwrap();
    (k.clone(), v.clone())
}

/// The bundle `TransparencyLogEntry` for a v1 entry.
fn tlog_entry(entry: &Value, kind: &str, version: &str) -> Value {
    let proof = &entry["verification"]["inclusionProof"];
    let unhex = |v: &Value| b64(&hex::decode(v.as_str().unwrap()).unwrap());
    json!({
        "logIndex": entry["logIndex"].to_string(),
        "logId": { "keyId": unhex(&entry["logID"]) },
        "kindVersion": { "kind": kind, "version": version },
        "integratedTime": entry["integratedTime"].to_string(),
        "inclusionPromise": { "signedEntryTimestamp": entry["verification"]["signedEntryTimestamp"] },
        "inclusionProof": {
            "logIndex": proof["logIndex"].to_string(),
            "rootHash": unhex(&proof["rootHash"]),
            "treeSize": proof["treeSize"].to_string(),
            "hashes": proof["hashes"].as_array().unwrap().iter().map(unhex).collect::<Vec<_>>(),
            "checkpoint": { "envelope": proof["checkpoint"] },
        },
        "canonicalizedBody": entry["body"],
    })
}

fn body_of(entry: &Value) -> Value {
    let raw = keyless_types::b64::decode(entry["body"].as_str().unwrap()).unwrap();
    serde_json::from_slice(&raw).unwrap()
}

async fn search(server: &Server, q: Value) -> Vec<String> {
    let (s, v) = post(&format!("{}/api/v1/index/retrieve", server.url), &q).await;
    assert_eq!(s, 200, "{q} -> {v}");
    let mut found: Vec<String> = serde_json::from_value(v).unwrap();
    found.sort();
    found
}

async fn dsse_and_intoto_entries_verify_and_are_found(backend: Backend) {
    let server = start_on(backend, LogKeyType::EcdsaP256).await;
    let certified = tokio::task::spawn_blocking(Signer::new).await.unwrap();
    let artifact = b"the attested artifact";
    let (payload, sig, env) = envelope(&certified.key, artifact);
    let cert_pem = certified.cert_pem();
    let entries = format!("{}/api/v1/log/entries", server.url);

    // dsse 0.0.1, in a bundle v0.3.
    let dsse_req = dsse_request(&env, &[cert_pem.as_bytes()]);
    let (status, resp) = post(&entries, &dsse_req).await;
    assert_eq!(status, 201, "{resp}");
    let (dsse_uuid, dsse_entry) = only_entry(&resp);
    let body = body_of(&dsse_entry);
    assert_eq!(body["kind"], "dsse");
    assert_eq!(body["apiVersion"], "0.0.1");
    assert_eq!(
        body["spec"]["payloadHash"],
        json!({ "algorithm": "sha256", "value": hex::encode(sha256(&payload)) })
    );
    assert_eq!(
        body["spec"]["envelopeHash"]["value"],
        hex::encode(sha256(env.to_string().as_bytes()))
    );
    assert_eq!(body["spec"]["signatures"][0]["signature"], b64(&sig));
    assert_eq!(
        body["spec"]["signatures"][0]["verifier"],
        b64(cert_pem.as_bytes())
    );
    assert!(body["spec"].get("proposedContent").is_none());
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": { "rawBytes": b64(&certified.cert_der) },
            "tlogEntries": [tlog_entry(&dsse_entry, "dsse", "0.0.1")],
        },
        "dsseEnvelope": env,
    });
    certified
        .verify(&server, &bundle, artifact)
        .expect("dsse bundle verifies");
    assert!(certified
        .verify(&server, &bundle, b"another artifact")
        .is_err());

    // intoto 0.0.2, in a bundle v0.2 with a certificate chain.
    let intoto_req = intoto_request(&env, cert_pem.trim_end().as_bytes());
    let (status, resp) = post(&entries, &intoto_req).await;
    assert_eq!(status, 201, "{resp}");
    let (intoto_uuid, intoto_entry) = only_entry(&resp);
    let body = body_of(&intoto_entry);
    assert_eq!(
        (body["kind"].as_str(), body["apiVersion"].as_str()),
        (Some("intoto"), Some("0.0.2"))
    );
    let content = &body["spec"]["content"];
    assert!(
        content["envelope"].get("payload").is_none(),
        "the payload is not stored"
    );
    assert_eq!(
        content["payloadHash"]["value"],
        hex::encode(sha256(&payload))
    );
    assert_eq!(
        content["envelope"]["signatures"][0]["sig"],
        b64(b64(&sig).as_bytes())
    );
    assert_eq!(
        content["envelope"]["signatures"][0]["publicKey"],
        b64(cert_pem.as_bytes()),
        "the key is stored as canonical PEM"
    );
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "verificationMaterial": {
            "x509CertificateChain": { "certificates": [{ "rawBytes": b64(&certified.cert_der) }] },
            "tlogEntries": [tlog_entry(&intoto_entry, "intoto", "0.0.2")],
        },
        "dsseEnvelope": env,
    });
    certified
        .verify(&server, &bundle, artifact)
        .expect("intoto bundle verifies");
    assert_eq!(server.log.published().size, 2);

    // Duplicates: Rekor's 409 with the existing entry's location.
    for req in [&dsse_req, &intoto_req] {
        let resp = reqwest::Client::new()
            .post(&entries)
            .json(req)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 409);
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.ends_with(&dsse_uuid) || location.ends_with(&intoto_uuid),
            "{location}"
        );
    }
    assert_eq!(server.log.published().size, 2);

    // Search: by artifact (the attested subject), payload hash, envelope
    // hash and certificate (in another PEM spelling); "and" narrows.
    let mut both = vec![dsse_uuid.clone(), intoto_uuid.clone()];
    both.sort();
    let by_artifact = json!({ "hash": format!("sha256:{}", hex::encode(sha256(artifact))) });
    assert_eq!(search(&server, by_artifact).await, both);
    let by_payload = json!({ "hash": hex::encode(sha256(&payload)).to_uppercase() });
    assert_eq!(search(&server, by_payload).await, both);
    let by_envelope =
        json!({ "hash": format!("sha256:{}", hex::encode(sha256(env.to_string().as_bytes()))) });
    assert_eq!(
        search(&server, by_envelope.clone()).await,
        vec![dsse_uuid.clone()]
    );
    let sloppy_pem = cert_pem.replace('\n', "\r\n");
    let by_cert =
        json!({ "publicKey": { "format": "x509", "content": b64(sloppy_pem.as_bytes()) } });
    assert_eq!(search(&server, by_cert.clone()).await, both);
    // By the certificate's e-mail SAN, in any case; "and" with a hash
    // narrows it as with a key.
    let by_email = json!({ "email": EMAIL.to_uppercase() });
    assert_eq!(search(&server, by_email).await, both);
    let email_and_envelope =
        json!({ "email": EMAIL, "hash": by_envelope["hash"], "operator": "and" });
    assert_eq!(
        search(&server, email_and_envelope).await,
        vec![dsse_uuid.clone()]
    );
    assert!(
        search(&server, json!({ "email": "someone.else@example.com" }))
            .await
            .is_empty()
    );
    let mut and = by_envelope.clone();
    and["publicKey"] = by_cert["publicKey"].clone();
    and["operator"] = json!("and");
    assert_eq!(search(&server, and).await, vec![dsse_uuid.clone()]);
    let other = json!({ "publicKey": { "format": "x509", "content": b64(signer().public_key().to_pem().as_bytes()) } });
    assert!(search(&server, other).await.is_empty());
    // The bare key is not the certificate, as in Rekor.
    let bare = json!({ "publicKey": { "format": "x509", "content": b64(certified.key.public_key().to_pem().as_bytes()) } });
    assert!(search(&server, bare).await.is_empty());
    // Entries made later are found too (the index catches up).
    let (hr, _) = hashed_rekord_v1(&certified.key, b"later");
    let (s, resp) = post(&entries, &hr).await;
    assert_eq!(s, 201, "{resp}");
    let by_key = json!({ "publicKey": { "format": "x509", "content": b64(certified.key.public_key().to_pem().as_bytes()) } });
    assert_eq!(search(&server, by_key).await, vec![only_entry(&resp).0]);
}

/// Every request below is refused with a 4xx JSON error whose message
/// contains the given text, and nothing is written.
#[tokio::test]
async fn bad_dsse_and_intoto_requests_are_4xx_and_write_nothing() {
    let server = start(LogKeyType::EcdsaP256).await;
    let c = reqwest::Client::new();
    let entries = format!("{}/api/v1/log/entries", server.url);
    let key = signer();
    let pem = key.public_key().to_pem();
    let (payload, _, env) = envelope(&key, b"artifact");
    let (_, _, other_env) = envelope(&key, b"another artifact");

    // Wrong signature: a valid signature over another payload.
    let mut wrong_sig = env.clone();
    wrong_sig["signatures"] = other_env["signatures"].clone();
    // Signed by someone else.
    let stranger = signer();
    let stranger_pem = stranger.public_key().to_pem();

    let mut cases: Vec<(&str, Value, &str)> = vec![
        (
            "dsse wrong signature",
            dsse_request(&wrong_sig, &[pem.as_bytes()]),
            "signature",
        ),
        (
            "dsse wrong key",
            dsse_request(&env, &[stranger_pem.as_bytes()]),
            "signature",
        ),
        (
            "dsse extra verifier that verifies nothing",
            dsse_request(&env, &[pem.as_bytes(), stranger_pem.as_bytes()]),
            "verifier 1",
        ),
        ("dsse no verifiers", dsse_request(&env, &[]), "verifiers"),
        (
            "dsse verifier not PEM",
            dsse_request(&env, &[b"garbage"]),
            "PEM",
        ),
        (
            "intoto wrong signature",
            intoto_request(&wrong_sig, pem.as_bytes()),
            "signature",
        ),
        (
            "intoto wrong key",
            intoto_request(&env, stranger_pem.as_bytes()),
            "signature",
        ),
        (
            "unknown version",
            json!({"apiVersion": "0.0.2", "kind": "dsse", "spec": {}}),
            "dsse",
        ),
        (
            "unknown kind",
            json!({"apiVersion": "0.0.1", "kind": "intoto", "spec": {}}),
            "intoto",
        ),
        (
            "unknown kind",
            json!({"apiVersion": "0.0.1", "kind": "cose", "spec": {}}),
            "cose",
        ),
    ];

    // Wrong payload hash: server-computed for dsse, checked for intoto.
    let mut dsse_hash = dsse_request(&env, &[pem.as_bytes()]);
    dsse_hash["spec"]["payloadHash"] = json!({ "algorithm": "sha256", "value": "00".repeat(32) });
    cases.push(("dsse payloadHash sent", dsse_hash, "computed by the log"));
    let mut intoto_hash = intoto_request(&env, pem.as_bytes());
    intoto_hash["spec"]["content"]["payloadHash"] =
        json!({ "algorithm": "sha256", "value": "00".repeat(32) });
    cases.push(("intoto wrong payloadHash", intoto_hash, "payloadHash"));
    // A right one is accepted (checked at the end).
    let mut intoto_right = intoto_request(&env, pem.as_bytes());
    intoto_right["spec"]["content"]["payloadHash"] =
        json!({ "algorithm": "sha256", "value": hex::encode(sha256(&payload)) });

    // Malformed envelopes.
    let mut not_json = dsse_request(&env, &[pem.as_bytes()]);
    not_json["spec"]["proposedContent"]["envelope"] = json!("{not json");
    cases.push(("dsse envelope not JSON", not_json, "envelope"));
    let mut no_sigs = env.clone();
    no_sigs["signatures"] = json!([]);
    cases.push((
        "dsse no signatures",
        dsse_request(&no_sigs, &[pem.as_bytes()]),
        "no signatures",
    ));
    let mut bad_b64 = env.clone();
    bad_b64["payload"] = json!("!!!");
    cases.push((
        "dsse payload not base64",
        dsse_request(&bad_b64, &[pem.as_bytes()]),
        "envelope",
    ));
    let mut once = intoto_request(&env, pem.as_bytes());
    once["spec"]["content"]["envelope"]["payload"] = json!(b64(&payload));
    cases.push(("intoto payload encoded once", once, "twice"));
    let mut no_hash = intoto_request(&env, pem.as_bytes());
    no_hash["spec"]["content"]
        .as_object_mut()
        .unwrap()
        .remove("hash");
    cases.push(("intoto without hash", no_hash, "hash"));
    let mut bad_hash = intoto_request(&env, pem.as_bytes());
    bad_hash["spec"]["content"]["hash"]["value"] = json!("xyz");
    cases.push(("intoto malformed hash", bad_hash, "content.hash"));
    let mut no_type = intoto_request(&env, pem.as_bytes());
    no_type["spec"]["content"]["envelope"]["payloadType"] = json!("");
    cases.push(("intoto empty payloadType", no_type, "payloadType"));
    let mut extra = dsse_request(&env, &[pem.as_bytes()]);
    extra["spec"]["proposedContent"]["surprise"] = json!(1);
    cases.push(("dsse unknown field", extra, "surprise"));

    for (what, req, needle) in &cases {
        let (s, v) = send(c.post(&entries).json(req)).await;
        assert!((400..500).contains(&s), "{what}: {s} {v}");
        assert_eq!(v["code"], s, "{what}: {v}");
        let msg = v["message"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{what}: {msg:?} lacks {needle:?}");
    }

    // Bad searches.
    let retrieve = format!("{}/api/v1/index/retrieve", server.url);
    for q in [
        json!({}),
        json!({ "hash": "sha256:xyz" }),
        json!({ "hash": "md5:00" }),
        json!({ "publicKey": { "format": "pgp", "content": b64(pem.as_bytes()) } }),
        json!({ "publicKey": { "format": "x509", "url": "http://169.254.169.254/key" } }),
        json!({ "publicKey": { "format": "x509", "content": b64(b"not a key") } }),
        json!({ "hash": "00".repeat(32), "operator": "xor" }),
        json!({ "email": "not an e-mail address" }),
        json!({ "email": ["a@b.example"] }),
    ] {
        let (s, v) = send(c.post(&retrieve).json(&q)).await;
        assert_eq!(s, 400, "{q}: {v}");
        assert_eq!(v["code"], 400, "{q}: {v}");
    }

    assert_eq!(server.log.published().size, 0, "nothing was written");
    let (s, v) = send(c.post(&entries).json(&intoto_right)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(server.log.published().size, 1);
}

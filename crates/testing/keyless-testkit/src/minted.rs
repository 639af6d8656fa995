//! Bundles minted at test time: a CA (keyless-ca's root, intermediate and
//! in-process CT log, so the leaf carries a real SCT), a Rekor v1 log key
//! that signs entry timestamps and checkpoints, and signatures by keys of
//! every kind. All keys are generated per run and never written outside a
//! temporary directory that is removed at once.
//!
//! This is an in-process Sigstore (as sigstore-go's VirtualSigstore): tests
//! get real bundles for every key kind and entry shape without network or
//! fixed test data that would expire. keyless-verify's tests and the CLI's
//! `verify-blob` tests share it.

use std::sync::Arc;

use base64::Engine;
use keyless_ca::ca::Issuer;
use keyless_ca::identity::{Principal, San};
use keyless_ca::{CaMaterial, CtLog};
use keyless_crypto::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm, SigningKey};
use keyless_tlog::{leaf_hash, Checkpoint, NoteSigner};
use keyless_types::wire;
use keyless_verify::{Identity, Matcher, Policy, TrustMaterial, Verifier, VerifierOptions};
use serde_json::{json, Value};

pub const EMAIL: &str = "alice@example.com";
pub const ISSUER: &str = "https://issuer.example.com";
const LOG_URL: &str = "https://rekor.test.example";

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// A test instance: CA, CT log and Rekor v1 log, and the trusted root
/// that names them.
pub struct Instance {
    issuer: Issuer,
    log_key: NoteSigner,
    log_id: Vec<u8>,
    pub trusted_root_json: String,
}

/// A signing certificate and its key.
pub struct Signer {
    pub key: SigningKey,
    pub cert_der: Vec<u8>,
    pub issued_at: i64,
}

/// A fresh instance, as [`Instance::new`].
impl Default for Instance {
    fn default() -> Self {
        Self::new()
    }
}

impl Instance {
    /// Generate a CA, CT log and Rekor v1 log key and the trusted root naming them.
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "keyless-verify-minted-{}-{}",
            std::process::id(),
            hex::encode(
                &keyless_crypto::sha256(format!("{:?}", std::time::Instant::now()).as_bytes())[..6]
            )
        ));
        let material = CaMaterial::load_or_create(&dir).expect("CA material");
        std::fs::remove_dir_all(&dir).expect("remove the temporary CA directory");
        let mut root: wire::TrustedRoot = keyless_ca::trusted_root(
            &material,
            "https://ca.test.example",
            "https://ct.test.example",
        );

        let log_signing = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("log key");
        let log_spki = log_signing.public_key().spki_der().to_vec();
        let log_id = keyless_crypto::sha256(&log_spki).to_vec();
        let since = keyless_types::time::format_rfc3339(now() - 3600);
        root.tlogs.push(wire::TransparencyLogInstance {
            base_url: LOG_URL.into(),
            hash_algorithm: "SHA2_256".into(),
            public_key: wire::PublicKey {
                raw_bytes: log_spki,
                key_details: "PKIX_ECDSA_P256_SHA_256".into(),
                valid_for: Some(wire::TimeRange {
                    start: Some(since),
                    end: None,
                }),
            },
            log_id: wire::LogId {
                key_id: log_id.clone(),
            },
            checkpoint_key_id: None,
            operator: None,
        });
        let trusted_root_json = serde_json::to_string(&root).expect("trusted root JSON");

        let CaMaterial {
            root,
            intermediate,
            intermediate_key,
            ct_key,
            ..
        } = material;
        let ct = Arc::new(CtLog::new(ct_key, vec![root.clone()]));
        Self {
            issuer: Issuer::new(intermediate, intermediate_key, root, ct),
            log_key: NoteSigner::new("rekor.test.example", log_signing).expect("note signer"),
            log_id,
            trusted_root_json,
        }
    }

    pub fn trust(&self) -> TrustMaterial {
        TrustMaterial::from_json(self.trusted_root_json.as_bytes())
            .expect("minted trusted root loads")
    }

    pub fn verifier(&self) -> Verifier {
        Verifier::new(self.trust(), VerifierOptions::default())
    }

    pub fn policy() -> Policy {
        Policy::identity(Identity::new(Matcher::exact(EMAIL), Matcher::exact(ISSUER)))
    }

    /// A fresh key of kind `alg` and a certificate for it.
    pub fn signer(&self, alg: KeyAlgorithm) -> Signer {
        let key = SigningKey::generate(alg).expect("signing key");
        let principal = Principal {
            san: San::Email(EMAIL.into()),
            issuer: ISSUER.into(),
            challenge: String::new(),
            challenge_claim: String::new(),
            extensions: Vec::new(),
        };
        let issued_at = now();
        let chain = self
            .issuer
            .issue(&principal, key.public_key(), issued_at)
            .expect("certificate issued");
        Signer {
            key,
            cert_der: chain.certificates[0].clone(),
            issued_at,
        }
    }

    /// A Rekor v1 entry for `body`, with a signed entry timestamp and, if
    /// `with_proof`, an inclusion proof in a one-leaf tree and its signed
    /// checkpoint.
    pub fn v1_entry(
        &self,
        kind: &str,
        version: &str,
        body: &Value,
        time: i64,
        with_proof: bool,
    ) -> Value {
        let body = serde_json::to_vec(body).expect("body JSON");
        let set_payload = format!(
            "{{\"body\":\"{}\",\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
            b64(&body),
            time,
            hex::encode(&self.log_id),
            0
        );
        let set = self
            .log_key
            .signing_key()
            .sign(set_payload.as_bytes())
            .expect("SET");
        let mut entry = json!({
            "logIndex": "0",
            "logId": {"keyId": b64(&self.log_id)},
            "kindVersion": {"kind": kind, "version": version},
            "integratedTime": time.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": b64(&set)},
            "canonicalizedBody": b64(&body),
        });
        if with_proof {
            let root = leaf_hash(&body);
            let checkpoint = Checkpoint {
                origin: self.log_key.name().to_string(),
                size: 1,
                root_hash: root,
                extensions: Vec::new(),
            };
            let note = self
                .log_key
                .sign(&checkpoint.to_body())
                .expect("checkpoint");
            entry["inclusionProof"] = json!({
                "logIndex": "0",
                "rootHash": b64(&root),
                "treeSize": "1",
                "hashes": [],
                "checkpoint": {"envelope": note.to_text()},
            });
        }
        entry
    }
}

fn pem_cert(der: &[u8]) -> String {
    keyless_ca::pki::pem_encode("CERTIFICATE", der)
}

/// How to mint a message-signature bundle.
pub struct MessageBundle<'a> {
    pub signer: &'a Signer,
    /// The scheme the signature is made with.
    pub scheme: SignatureAlgorithm,
    /// The hash the bundle's message digest names (and digests with).
    pub declared: HashAlgorithm,
    /// The hash the log entry names (and digests with).
    pub logged: HashAlgorithm,
}

impl MessageBundle<'_> {
    /// A v0.3 bundle over `artifact`, with a Rekor v1 hashedrekord 0.0.1
    /// entry.
    pub fn mint(&self, instance: &Instance, artifact: &[u8]) -> Vec<u8> {
        let signature = self
            .signer
            .key
            .sign_with(self.scheme, artifact)
            .expect("sign");
        let logged = self.logged.digest(artifact);
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": self.logged.name(), "value": hex::encode(&logged)}},
                "signature": {
                    "content": b64(&signature),
                    "publicKey": {"content": b64(pem_cert(&self.signer.cert_der).as_bytes())},
                },
            },
        });
        let entry = instance.v1_entry("hashedrekord", "0.0.1", &body, self.signer.issued_at, true);
        let bundle = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": b64(&self.signer.cert_der)},
                "tlogEntries": [entry],
            },
            "messageSignature": {
                "messageDigest": {
                    "algorithm": self.declared.proto_name(),
                    "digest": b64(&self.declared.digest(artifact)),
                },
                "signature": b64(&signature),
            },
        });
        serde_json::to_vec(&bundle).expect("bundle JSON")
    }
}

/// A DSSE envelope over an in-toto statement, signed by `signer` with its
/// default scheme, as bundle JSON (`dsseEnvelope`) and the pieces log
/// entries record.
pub struct Dsse {
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

impl Dsse {
    pub fn sign(signer: &Signer, statement: &Value) -> Self {
        let payload = serde_json::to_vec(statement).expect("statement JSON");
        let pae = keyless_types::pae(PAYLOAD_TYPE, &payload);
        let signature = signer.key.sign(&pae).expect("sign PAE");
        Self { payload, signature }
    }

    pub fn envelope_json(&self) -> Value {
        json!({
            "payload": b64(&self.payload),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": b64(&self.signature), "keyid": ""}],
        })
    }

    /// A v0.3 bundle with `entry` as its only log entry.
    pub fn bundle(&self, signer: &Signer, entry: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": b64(&signer.cert_der)},
                "tlogEntries": [entry],
            },
            "dsseEnvelope": self.envelope_json(),
        }))
        .expect("bundle JSON")
    }

    /// The Rekor v1 `dsse 0.0.1` body public-good Rekor writes.
    pub fn dsse_v001_body(&self, signer: &Signer) -> Value {
        json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(keyless_crypto::sha256(&self.payload))},
                "signatures": [{
                    "signature": b64(&self.signature),
                    "verifier": b64(pem_cert(&signer.cert_der).as_bytes()),
                }],
            },
        })
    }

    /// The Rekor v1 `intoto 0.0.2` body (payload and signature base64'd a
    /// second time, as Rekor stores them).
    pub fn intoto_v002_body(&self, signer: &Signer) -> Value {
        json!({
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {"content": {
                "envelope": {
                    "payloadType": PAYLOAD_TYPE,
                    "signatures": [{
                        "publicKey": b64(pem_cert(&signer.cert_der).as_bytes()),
                        "sig": b64(b64(&self.signature).as_bytes()),
                    }],
                },
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(keyless_crypto::sha256(&self.payload))},
            }},
        })
    }

    /// The `dsse 0.0.2` body Rekor v2 wrote before the 2026-05 spec change.
    pub fn dsse_v002_body(&self, signer: &Signer) -> Value {
        json!({
            "apiVersion": "0.0.2",
            "kind": "dsse",
            "spec": {"dsseV002": {
                "payloadHash": {"algorithm": "SHA2_256", "digest": b64(&keyless_crypto::sha256(&self.payload))},
                "signatures": [{
                    "content": b64(&self.signature),
                    "verifier": {"x509Certificate": {"rawBytes": b64(&signer.cert_der)}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"},
                }],
            }},
        })
    }

    /// The `hashedrekord 0.0.2` body Rekor v2 writes for DSSE now:
    /// SHA-256 of the PAE.
    pub fn hashedrekord_v002_body(&self, signer: &Signer) -> Value {
        let pae = keyless_types::pae(PAYLOAD_TYPE, &self.payload);
        json!({
            "apiVersion": "0.0.2",
            "kind": "hashedrekord",
            "spec": {"hashedRekordV002": {
                "data": {"algorithm": "SHA2_256", "digest": b64(&keyless_crypto::sha256(&pae))},
                "signature": {
                    "content": b64(&self.signature),
                    "verifier": {"x509Certificate": {"rawBytes": b64(&signer.cert_der)}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"},
                },
            }},
        })
    }
}

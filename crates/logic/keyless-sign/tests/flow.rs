//! The signing flow over in-process fakes of the CA (a real keyless-ca
//! issuer, so certificates and SCTs are real), the log and the TSA: what
//! reaches each service, what the bundle holds, and that a failed check
//! stops the flow before anything further is signed, timestamped or logged.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use keyless_ca::ca::Issuer;
use keyless_ca::identity::{Principal, San};
use keyless_ca::{CaMaterial, CtLog};
use keyless_crypto::{KeyAlgorithm, SignatureAlgorithm, SigningKey};
use keyless_sign::{
    Artifact, CertificateAuthority, LogRequest, SignError, Signer, TimestampAuthority,
    TransparencyLog,
};
use keyless_types::wire;
use keyless_verify::TrustMaterial;

const ISSUER: &str = "https://issuer.example";

fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "keyless-sign-flow-{}-{name}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What the fake CA hands out.
#[derive(Clone, Copy, PartialEq)]
enum CaMode {
    /// A certificate for the key that proved possession.
    Honest,
    /// A certificate for some other key.
    OtherKey,
    /// No certificates at all.
    Empty,
}

struct FakeCa {
    issuer: Issuer,
    mode: CaMode,
}

impl FakeCa {
    /// `material`'s CA, whose certificates carry SCTs from a CT log keyed
    /// by `ct_key` (by default, `material`'s own).
    fn new(material: CaMaterial, ct_key: Option<SigningKey>, mode: CaMode) -> Self {
        let CaMaterial {
            root,
            intermediate,
            intermediate_key,
            ct_key: own_ct_key,
            ..
        } = material;
        let ct = CtLog::new(ct_key.unwrap_or(own_ct_key), vec![root.clone()]);
        Self {
            issuer: Issuer::new(intermediate, intermediate_key, root, Arc::new(ct)),
            mode,
        }
    }
}

impl CertificateAuthority for FakeCa {
    async fn signing_certificate(
        &self,
        _token: &str,
        challenge: &str,
        key: &SigningKey,
    ) -> Result<Vec<Vec<u8>>, SignError> {
        let principal = Principal {
            san: San::Email(challenge.to_string()),
            issuer: ISSUER.into(),
            challenge: challenge.to_string(),
            challenge_claim: "email".into(),
            extensions: vec![],
        };
        let other = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
        let subject = match self.mode {
            CaMode::Empty => return Ok(Vec::new()),
            CaMode::Honest => key.public_key(),
            CaMode::OtherKey => other.public_key(),
        };
        let chain = self
            .issuer
            .issue(&principal, subject, now())
            .map_err(|e| SignError::Ca {
                url: "fake".into(),
                problem: "cannot issue".into(),
                source: Some(e.into()),
            })?;
        Ok(chain.certificates)
    }
}

/// A log entry request as the fake log received it, owned.
#[derive(Debug, Clone)]
enum Logged {
    Message {
        digest: Vec<u8>,
        signature: Vec<u8>,
        certificate: Vec<u8>,
        key_details: String,
    },
    Dsse {
        envelope: keyless_types::dsse::Envelope,
        certificate: Vec<u8>,
    },
}

#[derive(Default)]
struct FakeLog {
    received: Mutex<Vec<Logged>>,
    fail: bool,
}

impl TransparencyLog for FakeLog {
    async fn submit(
        &self,
        request: &LogRequest<'_>,
    ) -> Result<wire::TransparencyLogEntry, SignError> {
        let logged = match request {
            LogRequest::Message {
                digest,
                signature,
                certificate,
                key_details,
            } => Logged::Message {
                digest: digest.to_vec(),
                signature: signature.to_vec(),
                certificate: certificate.to_vec(),
                key_details: key_details.to_string(),
            },
            LogRequest::Dsse {
                envelope,
                certificate,
                ..
            } => Logged::Dsse {
                envelope: (*envelope).clone(),
                certificate: certificate.to_vec(),
            },
        };
        self.received.lock().expect("lock").push(logged);
        if self.fail {
            return Err(SignError::Log {
                url: "fake".into(),
                problem: "the log is read-only".into(),
                source: None,
            });
        }
        Ok(wire::TransparencyLogEntry {
            log_index: 11,
            log_id: wire::LogId {
                key_id: vec![1; 32],
            },
            kind_version: wire::KindVersion {
                kind: "hashedrekord".into(),
                version: "0.0.2".into(),
            },
            integrated_time: None,
            inclusion_promise: None,
            inclusion_proof: Some(wire::InclusionProof {
                log_index: 11,
                root_hash: vec![2; 32],
                tree_size: 12,
                hashes: vec![],
                checkpoint: Some(wire::Checkpoint {
                    envelope: "checkpoint".into(),
                }),
            }),
            canonicalized_body: b"{}".to_vec(),
            canonicalized_body_b64: None,
        })
    }
}

#[derive(Default)]
struct FakeTsa {
    received: Mutex<Vec<Vec<u8>>>,
    fail: bool,
}

impl TimestampAuthority for FakeTsa {
    async fn timestamp(&self, signature: &[u8]) -> Result<Vec<u8>, SignError> {
        self.received.lock().expect("lock").push(signature.to_vec());
        if self.fail {
            return Err(SignError::Timestamp {
                url: "fake".into(),
                problem: "HTTP 503".into(),
                source: None,
            });
        }
        Ok(b"timestamp token".to_vec())
    }
}

fn material(name: &str) -> CaMaterial {
    let dir = temp_dir(name);
    let m = CaMaterial::load_or_create(&dir).expect("CA material");
    let _ = std::fs::remove_dir_all(&dir);
    m
}

/// A signer without trust material (no SCT check, no self-verification).
fn signer(mode: CaMode, log: FakeLog, tsa: FakeTsa) -> Signer<FakeCa, FakeLog, FakeTsa> {
    Signer {
        ca: FakeCa::new(material("ca"), None, mode),
        log,
        tsa: Some(tsa),
        trust: None,
    }
}

async fn sign<C: CertificateAuthority, L: TransparencyLog, T: TimestampAuthority>(
    signer: &Signer<C, L, T>,
    artifact: &Artifact,
) -> (Result<keyless_sign::SignedBundle, SignError>, Vec<String>) {
    let said = Mutex::new(Vec::new());
    let progress = |m: &str| said.lock().expect("lock").push(m.to_string());
    let result = signer
        .sign("token", "me@example.com", artifact, &progress)
        .await;
    (result, said.into_inner().expect("lock"))
}

fn leaf_key(der: &[u8]) -> keyless_crypto::PublicKey {
    keyless_x509::Certificate::from_der(der)
        .expect("leaf")
        .public_key()
        .expect("leaf key")
}

#[tokio::test]
async fn a_digest_is_signed_timestamped_logged_and_bundled() {
    let s = signer(CaMode::Honest, FakeLog::default(), FakeTsa::default());
    let digest = keyless_crypto::sha256(b"artifact");
    let (result, said) = sign(&s, &Artifact::Digest(digest)).await;
    let signed = result.expect("signed");
    assert_eq!(
        said,
        [
            "Generating ephemeral keys...",
            "Retrieving signed certificate...",
            "tlog entry created with index: 11"
        ]
    );
    assert_eq!(
        (
            signed.identity.as_str(),
            signed.issuer.as_str(),
            signed.log_index
        ),
        ("me@example.com", ISSUER, Some(11))
    );
    assert_eq!(signed.chain.len(), 3);

    // The signature is the certificate's key over the digest.
    let leaf = &signed.chain[0];
    leaf_key(leaf)
        .verify_prehashed(SignatureAlgorithm::EcdsaSha256, &digest, &signed.signature)
        .expect("signature verifies");

    // The TSA timestamped that signature; the log got digest, signature, leaf.
    assert_eq!(
        *s.tsa.as_ref().expect("tsa").received.lock().expect("lock"),
        vec![signed.signature.clone()]
    );
    let logged = s.log.received.lock().expect("lock").clone();
    assert_eq!(logged.len(), 1);
    let Logged::Message {
        digest: d,
        signature,
        certificate,
        key_details,
    } = &logged[0]
    else {
        panic!("{logged:?}")
    };
    assert_eq!(
        (d.as_slice(), signature, certificate),
        (digest.as_slice(), &signed.signature, leaf)
    );
    assert_eq!(key_details, "PKIX_ECDSA_P256_SHA_256");

    // The bundle holds the same.
    let vm = signed
        .bundle
        .verification_material
        .as_ref()
        .expect("material");
    assert_eq!(vm.certificate.as_ref().map(|c| &c.raw_bytes), Some(leaf));
    assert_eq!(vm.tlog_entries[0].log_index, 11);
    let ts = vm.timestamp_verification_data.as_ref().expect("timestamps");
    assert_eq!(
        ts.rfc3161_timestamps[0].signed_timestamp,
        b"timestamp token"
    );
    assert_eq!(
        signed
            .bundle
            .message_signature
            .as_ref()
            .map(|m| &m.signature),
        Some(&signed.signature)
    );
}

#[tokio::test]
async fn a_dsse_payload_is_signed_over_its_pae() {
    let s = signer(CaMode::Honest, FakeLog::default(), FakeTsa::default());
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}"#.to_vec();
    let artifact = Artifact::Dsse {
        payload_type: "application/vnd.in-toto+json".into(),
        payload: payload.clone(),
    };
    let (result, _) = sign(&s, &artifact).await;
    let signed = result.expect("signed");
    let env = signed.bundle.dsse_envelope.as_ref().expect("envelope");
    assert_eq!(env.payload, payload);
    assert_eq!(env.signatures.len(), 1);
    assert_eq!(env.signatures[0].sig, signed.signature);
    let pae = keyless_types::dsse::pae("application/vnd.in-toto+json", &payload);
    leaf_key(&signed.chain[0])
        .verify(SignatureAlgorithm::EcdsaSha256, &pae, &signed.signature)
        .expect("signature over the PAE");
    let logged = s.log.received.lock().expect("lock").clone();
    assert!(
        matches!(&logged[..], [Logged::Dsse { envelope, certificate }] if envelope == env && certificate == &signed.chain[0]),
        "{logged:?}"
    );
}

#[tokio::test]
async fn a_certificate_for_another_key_stops_the_flow() {
    let s = signer(CaMode::OtherKey, FakeLog::default(), FakeTsa::default());
    let (result, _) = sign(&s, &Artifact::Digest([1; 32])).await;
    let e = result.expect_err("the certificate is not for our key");
    assert!(
        matches!(&e, SignError::Certificate(m) if m.contains("different key")),
        "{e}"
    );
    assert!(
        s.tsa
            .as_ref()
            .expect("tsa")
            .received
            .lock()
            .expect("lock")
            .is_empty(),
        "nothing is timestamped"
    );
    assert!(
        s.log.received.lock().expect("lock").is_empty(),
        "nothing is logged"
    );
}

#[tokio::test]
async fn an_empty_chain_stops_the_flow() {
    let s = signer(CaMode::Empty, FakeLog::default(), FakeTsa::default());
    let (result, _) = sign(&s, &Artifact::Digest([1; 32])).await;
    let e = result.expect_err("no certificate");
    assert_eq!(
        e.to_string(),
        "the certificate from the CA is unusable: the CA returned an empty chain"
    );
    assert!(s.log.received.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_timestamp_failure_means_nothing_is_logged() {
    let s = signer(
        CaMode::Honest,
        FakeLog::default(),
        FakeTsa {
            fail: true,
            ..Default::default()
        },
    );
    let (result, _) = sign(&s, &Artifact::Digest([1; 32])).await;
    let e = result.expect_err("the TSA failed");
    assert_eq!(e.to_string(), "timestamp authority fake: HTTP 503");
    assert!(
        s.log.received.lock().expect("lock").is_empty(),
        "an entry without its timestamp was logged"
    );
}

#[tokio::test]
async fn a_log_failure_is_an_error_not_a_bundle() {
    let s = signer(
        CaMode::Honest,
        FakeLog {
            fail: true,
            ..Default::default()
        },
        FakeTsa::default(),
    );
    let (result, said) = sign(&s, &Artifact::Digest([1; 32])).await;
    let e = result.expect_err("the log failed");
    assert_eq!(e.to_string(), "transparency log fake: the log is read-only");
    assert!(
        !said.iter().any(|m| m.starts_with("tlog entry created")),
        "{said:?}"
    );
}

/// Trust material naming `trusted`'s CA and CT log (and no transparency log).
fn trust_for(trusted: &CaMaterial) -> TrustMaterial {
    let json = keyless_ca::trusted_root_json(trusted, "http://ca.example", "http://ct.example")
        .expect("trusted root");
    TrustMaterial::from_json(json.as_bytes()).expect("trust material")
}

#[tokio::test]
async fn an_sct_from_an_untrusted_ct_log_stops_the_flow() {
    let m = material("sct");
    let trust = trust_for(&m);
    // The CA is the trusted one, but its CT log signs with another key.
    let rogue_ct = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let s = Signer {
        ca: FakeCa::new(m, Some(rogue_ct), CaMode::Honest),
        log: FakeLog::default(),
        tsa: Some(FakeTsa::default()),
        trust: Some(trust),
    };
    let (result, said) = sign(&s, &Artifact::Digest([1; 32])).await;
    let e = result.expect_err("the SCT is not from a trusted CT log");
    assert!(matches!(e, SignError::Sct(_)), "{e}");
    assert!(
        !said.iter().any(|m| m == "Successfully verified SCT..."),
        "{said:?}"
    );
    assert!(s
        .tsa
        .as_ref()
        .expect("tsa")
        .received
        .lock()
        .expect("lock")
        .is_empty());
    assert!(s.log.received.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_bundle_that_does_not_verify_is_not_returned() {
    // The SCT verifies, but neither the fake log's entry nor the fake
    // timestamp comes from anything the trust material names: the
    // self-check must refuse the bundle rather than hand it out.
    let m = material("selfcheck");
    let trust = trust_for(&m);
    let s = Signer {
        ca: FakeCa::new(m, None, CaMode::Honest),
        log: FakeLog::default(),
        tsa: Some(FakeTsa::default()),
        trust: Some(trust),
    };
    let (result, said) = sign(&s, &Artifact::Digest([1; 32])).await;
    let e = result.expect_err("the bundle cannot verify");
    assert!(matches!(e, SignError::SelfCheck(_)), "{e}");
    assert!(
        said.iter().any(|m| m == "Successfully verified SCT..."),
        "{said:?}"
    );
    assert_eq!(s.log.received.lock().expect("lock").len(), 1);
}

/// A log the user turned off (`--tlog-upload=false`): nothing is submitted.
struct LogOff(FakeLog);

impl TransparencyLog for LogOff {
    async fn submit(
        &self,
        request: &LogRequest<'_>,
    ) -> Result<wire::TransparencyLogEntry, SignError> {
        self.0.submit(request).await
    }

    fn records(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn with_the_log_off_nothing_is_submitted_and_the_bundle_has_no_entry() {
    let s = Signer {
        ca: FakeCa::new(material("ca-nolog"), None, CaMode::Honest),
        log: LogOff(FakeLog::default()),
        tsa: Some(FakeTsa::default()),
        trust: None,
    };
    let (result, said) = sign(&s, &Artifact::Digest(keyless_crypto::sha256(b"a"))).await;
    let signed = result.expect("signed");
    assert!(said.iter().all(|m| !m.contains("tlog entry")), "{said:?}");
    assert_eq!(signed.log_index, None);
    assert!(s.log.0.received.lock().expect("lock").is_empty());
    let vm = signed.bundle.verification_material.expect("material");
    assert!(vm.tlog_entries.is_empty());
    // The timestamp is still there: it is the only signed time.
    assert!(vm.timestamp_verification_data.is_some());
}

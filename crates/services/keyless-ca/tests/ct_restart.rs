//! The CT log is durable: every SCT the CA embedded names an entry that
//! is still in the log after the CA is dropped and reopened on the same
//! data directory, with an inclusion proof against the reopened log's
//! signed checkpoint.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyless_ca::pop::KeyRequest;
use keyless_ca::{CaConfig, CaState, IssuersSource, SetupError};
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_x509::{embedded_scts, precert_signed_data, precert_tbs, Certificate};
use support::*;

/// Open the CA on `config`, waiting while a previous instance's log
/// threads still hold the data directory's lock (they let go of it right
/// after the last handle is dropped).
fn open_ca(config: &CaConfig) -> Arc<CaState> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match CaState::new(config, "http://ca.test") {
            Ok(ca) => return ca,
            Err(SetupError::CtLog(e)) if Instant::now() < deadline => {
                assert!(
                    e.to_string().contains("lock") || format!("{e:?}").contains("Locked"),
                    "{e:?}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("CA does not reopen: {e:?}"),
        }
    }
}

/// The RFC 6962 leaf hash a verifier derives from an issued certificate
/// and its embedded SCT: the MerkleTreeLeaf of the precertificate entry.
fn leaf_hash_of(leaf: &Certificate, issuer: &Certificate) -> keyless_tlog::Hash {
    let scts = embedded_scts(leaf).expect("embedded SCT");
    assert_eq!(scts.len(), 1);
    let issuer_key_hash = keyless_crypto::sha256(&issuer.spki_der().expect("issuer SPKI"));
    let tbs = precert_tbs(leaf).expect("precert TBS");
    let entry =
        precert_signed_data(scts[0].timestamp(), &issuer_key_hash, &tbs, &[]).expect("entry");
    keyless_tlog::leaf_hash(&entry)
}

async fn issue(ca: &CaState, token: &str, subject: &str) -> Certificate {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let request = KeyRequest::Signed {
        public_key: key.public_key().to_pem().into_bytes(),
        algorithm: Some("ECDSA".into()),
        proof: key.sign(subject.as_bytes()).expect("proof"),
    };
    let pem = ca.issue(token, &request).await.expect("issued");
    Certificate::from_pem(&pem[0]).expect("leaf")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sct_is_in_the_log_after_a_restart() {
    // The dev OIDC issuer of the support stack; the CA under test is our
    // own, on its own data directory, dropped and reopened below.
    let stack = start().await;
    let issuers = serde_json::from_value(stack.oidc.ca_issuers_config()).expect("issuers");
    let config = CaConfig::new(stack.dir.join("durable-ca"), IssuersSource::Inline(issuers));
    let subject = "restart@keyless.test";
    let token = stack.oidc.mint(&email(subject)).expect("token");

    let ca = open_ca(&config);
    // Concurrent issuance, so that entries share commit batches.
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (ca, token) = (ca.clone(), token.clone());
        tasks.push(tokio::spawn(
            async move { issue(&ca, &token, subject).await },
        ));
    }
    let mut leaves = Vec::new();
    for t in tasks {
        leaves.push(t.await.expect("task"));
    }
    let intermediate = Certificate::from_pem(&ca.chain_pem[0]).expect("intermediate");
    let expected: Vec<_> = leaves
        .iter()
        .map(|l| leaf_hash_of(l, &intermediate))
        .collect();
    // Every SCT was returned after its entry was committed.
    assert_eq!(ca.ct.size(), 40);
    let log_id = ca.ct.log_id();
    drop(ca);

    let ca = open_ca(&config);
    assert_eq!(ca.ct.log_id(), log_id, "same log key after the restart");
    let log = ca.ct.log();
    let published = log.published();
    assert_eq!(published.size, 40);
    // The checkpoint is the log's, signed by the CT key.
    let note = keyless_tlog::SignedNote::parse(&published.note).expect("note");
    note.verify(log.verifier()).expect("checkpoint signature");
    let mut indices = Vec::new();
    for leaf in &expected {
        let index = log
            .find_leaf(leaf)
            .expect("lookup")
            .expect("every SCT's entry is in the log");
        let proof = log
            .inclusion_proof(index, published.size)
            .expect("inclusion proof");
        keyless_tlog::proof::verify_inclusion(index, published.size, leaf, &proof, &published.root)
            .expect("inclusion proof verifies against the checkpoint");
        indices.push(index);
    }
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), 40, "one entry per certificate");

    // The reopened log keeps appending after what it recovered.
    let more = issue(&ca, &token, subject).await;
    let index = log
        .find_leaf(&leaf_hash_of(&more, &intermediate))
        .expect("lookup")
        .expect("new entry");
    assert_eq!(index, 40);
}

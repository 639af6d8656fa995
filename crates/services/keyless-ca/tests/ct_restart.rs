//! The CT log is durable: every SCT the CA embedded names an entry that
//! is still in the log after the CA is dropped and reopened on the same
//! data directory, or after the CA's process is SIGKILLed during
//! issuance, with an inclusion proof against the reopened log's signed
//! checkpoint.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyless_ca::pop::KeyRequest;
use keyless_ca::{CaConfig, CaState, IssuersSource, SetupError};
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_log::StorageBackend;
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
    // The SCT's extensions (static-ct-api leaf_index) are in the leaf too.
    let extensions = scts[0].v1().expect("v1 SCT").extensions.as_slice();
    let entry = precert_signed_data(scts[0].timestamp(), &issuer_key_hash, &tbs, extensions)
        .expect("entry");
    keyless_tlog::leaf_hash(&entry)
}

/// Check that every certificate in `leaves` has its SCT's entry in the
/// log of `ca`, with an inclusion proof against its signed checkpoint.
fn assert_all_included(ca: &CaState, leaves: &[Certificate]) {
    let intermediate = Certificate::from_pem(&ca.chain_pem[0]).expect("intermediate");
    let log = ca.ct.log();
    let published = log.published();
    let note = keyless_tlog::SignedNote::parse(&published.note).expect("note");
    note.verify(log.verifier()).expect("checkpoint signature");
    let mut indices = Vec::new();
    for leaf in leaves {
        let hash = leaf_hash_of(leaf, &intermediate);
        let index = log
            .find_leaf(&hash)
            .expect("lookup")
            .expect("every SCT's entry is in the log");
        let proof = log
            .inclusion_proof(index, published.size)
            .expect("inclusion proof");
        keyless_tlog::proof::verify_inclusion(
            index,
            published.size,
            &hash,
            &proof,
            &published.root,
        )
        .expect("inclusion proof verifies against the checkpoint");
        indices.push(index);
    }
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), leaves.len(), "one entry per certificate");
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
    // Every SCT was returned after its entry was committed.
    assert_eq!(ca.ct.size(), 40);
    let log_id = ca.ct.log_id();
    drop(ca);

    let ca = open_ca(&config);
    assert_eq!(ca.ct.log_id(), log_id, "same log key after the restart");
    assert_eq!(ca.ct.log().published().size, 40);
    assert_all_included(&ca, &leaves);

    // The reopened log keeps appending after what it recovered.
    let intermediate = Certificate::from_pem(&ca.chain_pem[0]).expect("intermediate");
    let more = issue(&ca, &token, subject).await;
    let index = ca
        .ct
        .log()
        .find_leaf(&leaf_hash_of(&more, &intermediate))
        .expect("lookup")
        .expect("new entry");
    assert_eq!(index, 40);
}

/// Set in the child process of [`every_sct_is_in_the_log_after_a_sigkill`]:
/// the directory holding the child's configuration.
const CHILD_ENV: &str = "KEYLESS_CT_SIGKILL_CHILD";

/// In the child process only (a no-op otherwise): serve the CA over HTTP
/// until it is killed, and write its URL to `<dir>/url` once listening.
#[test]
fn sigkill_child_ca() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let issuers = serde_json::from_slice(&std::fs::read(dir.join("issuers.json")).unwrap())
            .expect("issuers");
        let mut config = CaConfig::new(dir.join("ca"), IssuersSource::Inline(issuers));
        config.ct.storage = storage_of(&dir);
        let ca = open_ca(&config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::fs::write(dir.join("url.tmp"), &url).unwrap();
        std::fs::rename(dir.join("url.tmp"), dir.join("url")).unwrap();
        axum::serve(listener, keyless_ca::router(ca)).await.unwrap();
    });
}

/// The CT log's storage for the child of `dir`: PostgreSQL if the test
/// wrote a URL to `<dir>/postgres`, files otherwise.
fn storage_of(dir: &std::path::Path) -> StorageBackend {
    match std::fs::read_to_string(dir.join("postgres")) {
        Ok(url) => StorageBackend::Postgres { url },
        Err(_) => StorageBackend::Files,
    }
}

/// The CA process is SIGKILLed while 16 clients request certificates;
/// every certificate a client received before the kill has its SCT's
/// entry in the log the next process opens. CT log in files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sct_is_in_the_log_after_a_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    sigkill_during_issuance(None).await;
}

/// The same with the CT log in PostgreSQL (Debian's `postgresql`, from
/// scripts/ci/install-postgres.sh; the test fails if it is missing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sct_is_in_the_log_after_a_sigkill_postgres() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let cluster = keyless_testkit::pg::PgCluster::start();
    sigkill_during_issuance(Some(cluster.url())).await;
}

async fn sigkill_during_issuance(postgres: Option<String>) {
    let stack = start().await;
    let dir = stack.dir.join("sigkill");
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(url) = &postgres {
        std::fs::write(dir.join("postgres"), url).unwrap();
    }
    std::fs::write(
        dir.join("issuers.json"),
        serde_json::to_vec(&stack.oidc.ca_issuers_config()).unwrap(),
    )
    .unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sigkill_child_ca", "--nocapture"])
        .env(CHILD_ENV, &dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("child CA");
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(dir.join("url")) {
            break url;
        }
        assert!(Instant::now() < deadline, "child CA did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let subject = "sigkill@keyless.test";
    let token = stack.oidc.mint(&email(subject)).expect("token");
    let issued = Arc::new(std::sync::Mutex::new(Vec::<Certificate>::new()));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (url, token, issued) = (url.clone(), token.clone(), issued.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
            let body = v2_body(&token, &key, subject);
            // Until the connection fails: the process is gone.
            while let Ok(resp) = client
                .post(format!("{url}/api/v2/signingCert"))
                .json(&body)
                .send()
                .await
            {
                let Ok(v) = resp.json::<serde_json::Value>().await else {
                    break;
                };
                let Some(pem) =
                    v["signedCertificateEmbeddedSct"]["chain"]["certificates"][0].as_str()
                else {
                    panic!("issuance failed before the kill: {v}");
                };
                let leaf = Certificate::from_pem(pem).expect("leaf");
                issued.lock().unwrap().push(leaf);
            }
        }));
    }
    // Kill mid-issuance, once a good number of certificates went out.
    while issued.lock().unwrap().len() < 200 {
        assert!(Instant::now() < deadline, "child CA issues too slowly");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    for w in workers {
        w.await.expect("worker");
    }
    let leaves = issued.lock().unwrap().clone();
    assert!(leaves.len() >= 200);

    let mut config = CaConfig::new(
        dir.join("ca"),
        IssuersSource::Inline(
            serde_json::from_value(stack.oidc.ca_issuers_config()).expect("issuers"),
        ),
    );
    config.ct.storage = storage_of(&dir);
    let ca = open_ca(&config);
    if postgres.is_some() {
        // Nothing of the log in files: it is in the database.
        assert!(!dir.join("ca/ct-log/checkpoint").exists());
        assert!(!dir.join("ca/ct-log/tile").exists());
    }
    assert!(ca.ct.size() >= leaves.len());
    assert_all_included(&ca, &leaves);
}

//! `keyless server ct --witness URL=VKEY`: a `keyless witness` process,
//! configured with the CT log's ECDSA P-256 key (`public_key_pem`),
//! cosigns the CT log's checkpoints, and /ct/checkpoint carries a
//! cosignature line that verifies with the witness's vkey, over the
//! checkpoint that covers the certificate logged with `add-chain`.

mod support;

use std::time::Duration;

use base64::Engine;
use keyless_tlog::CosignatureVerifier;
use support::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const ORIGIN: &str = "ct.test/log";

#[test]
fn server_ct_serves_the_checkpoint_cosigned_by_keyless_witness() {
    let dir = temp_dir("server-ct-witness");
    let material = keyless_ca::CaMaterial::load_or_create(&dir.join("ca")).expect("CA");
    let pems = material.chain_pem();
    let roots = dir.join("roots.pem");
    std::fs::write(&roots, &pems[1]).unwrap();
    let der = |pem: &str| {
        keyless_x509::Certificate::from_pem(pem)
            .unwrap()
            .der()
            .to_vec()
    };
    let (intermediate, root) = (der(&pems[0]), der(&pems[1]));
    let ct_dir = dir.join("ct");
    let ct_port = free_base_port();

    // A first start makes the CT key; the witness is configured with it.
    let mut ct = start_ct(&ct_dir, &roots, ct_port, &["--origin", ORIGIN]);
    ct.kill().unwrap();
    ct.wait().unwrap();
    let public_pem = std::fs::read_to_string(ct_dir.join("ctlog.pub.pem")).unwrap();
    let witness = WitnessProcess::start(
        &dir,
        &serde_json::json!({
            "name": "witness.test/ct",
            "logs": [{"origin": ORIGIN, "public_key_pem": public_pem}],
        }),
        free_base_port(),
    );
    let vkey = witness.vkey.clone();
    assert!(vkey.starts_with("witness.test/ct+"), "{vkey:?}");

    let flag = witness.flag();
    let mut ct = start_ct(
        &ct_dir,
        &roots,
        ct_port,
        &["--origin", ORIGIN, "--witness", &flag],
    );
    let base = format!("http://127.0.0.1:{ct_port}");
    let body = serde_json::json!({ "chain": [B64.encode(&intermediate), B64.encode(&root)] });
    let (status, answer) = http_exchange(
        "POST",
        &format!("{base}/ct/v1/add-chain"),
        body.to_string().as_bytes(),
        Duration::from_secs(10),
    )
    .expect("add-chain answers");
    assert_eq!(status, 200, "{answer}");

    let verifier = CosignatureVerifier::from_vkey(&vkey).unwrap();
    let note = wait_cosigned(&format!("{base}/ct/checkpoint"), &vkey, 1);
    assert_eq!(note.body().lines().nth(1), Some("1"), "{}", note.body());
    // The log's own signature lines are still there: the core's note
    // signature and the RFC 6962 one, both named by the origin.
    let by_log = note
        .signatures()
        .iter()
        .filter(|s| s.name == ORIGIN)
        .count();
    assert_eq!(by_log, 2, "{}", note.body());

    // The log keeps only answers that verify: every other line served is
    // the witness's cosignature.
    for s in note.signatures().iter().filter(|s| s.name != ORIGIN) {
        verifier
            .verify(note.body(), s)
            .expect("only verified lines");
    }
    ct.kill().unwrap();
    ct.wait().unwrap();
    witness.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

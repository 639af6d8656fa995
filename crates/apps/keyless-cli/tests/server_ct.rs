//! `keyless server ct`: the CT log alone, in files or in PostgreSQL.
//! Logs a certificate through RFC 6962 `add-chain`, is SIGKILLed,
//! restarts on the same storage, and still serves the entry as a
//! static-ct-api data tile whose leaf hashes to the checkpoint's root.

mod support;

use std::time::Duration;

use base64::Engine;
use keyless_ca::ct_leaf::{LeafEntry, TileLeaf};
use support::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// GET over HTTP/1.0, the body as bytes (data tiles are binary).
fn get_bytes(url: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').expect("path");
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers");
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, buf[split + 4..].to_vec())
}

fn ct_log_alone(name: &str, extra: &[&str]) {
    let dir = temp_dir(name);
    // A CA's root and intermediate: the intermediate is a certificate
    // (not a precertificate) that chains to the root.
    let material = keyless_ca::CaMaterial::load_or_create(&dir.join("ca")).expect("CA");
    let roots = dir.join("roots.pem");
    std::fs::write(&roots, &material.chain_pem()[1]).unwrap();
    let (intermediate, root) = ca_chain_der(&material);
    let port = free_base_port();
    let base = format!("http://127.0.0.1:{port}");
    let ct_dir = dir.join("ct");
    let mut child = start_ct(&ct_dir, &roots, port, extra);

    let body = serde_json::json!({ "chain": [B64.encode(&intermediate), B64.encode(&root)] });
    let (status, answer) = http_exchange(
        "POST",
        &format!("{base}/ct/v1/add-chain"),
        body.to_string().as_bytes(),
        Duration::from_secs(10),
    )
    .expect("add-chain answers");
    assert_eq!(status, 200, "{answer}");
    let sct: serde_json::Value = serde_json::from_str(&answer).unwrap();
    // The SCT names the key written beside the log.
    let public = std::fs::read_to_string(ct_dir.join("ctlog.pub.pem")).unwrap();
    let public = keyless_crypto::PublicKey::from_pem(&public).unwrap();
    assert_eq!(
        sct["id"],
        B64.encode(keyless_crypto::sha256(public.spki_der()))
    );
    // A chain that does not reach the root is refused.
    let lone = serde_json::json!({ "chain": [B64.encode(&root)] });
    let (status, _) = http_exchange(
        "POST",
        &format!("{base}/ct/v1/add-chain"),
        lone.to_string().as_bytes(),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(status, 400);

    // SIGKILL, then restart on the same storage.
    child.kill().unwrap();
    child.wait().unwrap();
    let mut child = start_ct(&ct_dir, &roots, port, extra);
    let note = http_get(&format!("{base}/ct/checkpoint"));
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!(lines[1], "1", "the entry survived: {note}");
    let root_hash = B64.decode(lines[2]).unwrap();
    let (status, tile) = get_bytes(&format!("{base}/ct/tile/data/000.p/1"));
    assert_eq!(status, 200);
    let leaves = TileLeaf::parse_tile(&tile).expect("data tile");
    assert_eq!(leaves.len(), 1);
    assert_eq!(
        leaves[0].entry,
        LeafEntry::X509 {
            certificate: &intermediate
        }
    );
    assert_eq!(leaves[0].timestamp, sct["timestamp"].as_u64().unwrap());
    assert_eq!(leaves[0].leaf_hash().to_vec(), root_hash);
    let fp = hex::encode(keyless_crypto::sha256(&root));
    assert_eq!(leaves[0].chain, vec![keyless_crypto::sha256(&root)]);
    let (status, issuer) = get_bytes(&format!("{base}/ct/issuer/{fp}"));
    assert_eq!(status, 200);
    assert_eq!(issuer, root);
    if extra.contains(&"--postgres") {
        assert!(!ct_dir.join("ct-log/checkpoint").exists(), "kept in files");
    } else {
        assert!(ct_dir.join("ct-log/checkpoint").exists());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn server_ct_in_files_survives_sigkill() {
    ct_log_alone("server-ct", &[]);
}

#[test]
fn server_ct_in_postgres_survives_sigkill() {
    let cluster = keyless_testkit::pg::PgCluster::start();
    let url = cluster.url();
    ct_log_alone("server-ct-pg", &["--postgres", &url]);
}

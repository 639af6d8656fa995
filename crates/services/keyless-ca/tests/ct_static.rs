//! The CT log as a C2SP static-ct-api log: data tiles of `TileLeaf`s that
//! parse and hash to the checkpoint's root, issuers by fingerprint, the
//! RFC 6962 note signature on the checkpoint; and RFC 6962 `add-chain`
//! next to `add-pre-chain`, with its chain checks and caps.

mod support;

use base64::Engine;
use keyless_ca::ct_leaf::{LeafEntry, TileLeaf};
use keyless_ca::pop::KeyRequest;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_tlog::{Checkpoint, SignedNote, TileId, TileKind};
use keyless_x509::{embedded_scts, precert_signed_data, precert_tbs, Certificate};
use serde_json::{json, Value};
use support::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn get(stack: &Stack, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}/ct/{path}", stack.ca_url))
        .await
        .expect("request")
}

async fn get_ok(stack: &Stack, path: &str) -> Vec<u8> {
    let resp = get(stack, path).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.bytes().await.expect("body").to_vec()
}

/// The static-ct-api path of data tile `index` of width `width`.
fn data_path(index: u64, width: u16) -> String {
    let id = TileId {
        kind: TileKind::Entries,
        index,
        width,
    };
    id.path().replacen("tile/entries/", "tile/data/", 1)
}

/// The RFC 6962 leaf hash of an issued certificate's SCT entry.
fn leaf_hash_of(leaf: &Certificate, issuer: &Certificate) -> keyless_tlog::Hash {
    let scts = embedded_scts(leaf).expect("embedded SCT");
    let issuer_key_hash = keyless_crypto::sha256(&issuer.spki_der().expect("issuer SPKI"));
    let tbs = precert_tbs(leaf).expect("precert TBS");
    // The SCT's extensions (static-ct-api leaf_index) are in the leaf too.
    let extensions = scts[0].v1().expect("v1 SCT").extensions.as_slice();
    let entry = precert_signed_data(scts[0].timestamp(), &issuer_key_hash, &tbs, extensions)
        .expect("entry");
    keyless_tlog::leaf_hash(&entry)
}

/// The RFC 6962 TreeHeadSignature input.
fn tree_head_input(ts: u64, size: u64, root: &[u8]) -> Vec<u8> {
    let mut data = vec![0u8, 1u8];
    data.extend_from_slice(&ts.to_be_bytes());
    data.extend_from_slice(&size.to_be_bytes());
    data.extend_from_slice(root);
    data
}

/// `digitally-signed` (SHA-256, ECDSA) → the DER signature.
fn ds_signature(ds: &[u8]) -> &[u8] {
    assert_eq!(&ds[..2], &[4, 3], "SHA-256 / ECDSA");
    let len = usize::from(u16::from_be_bytes([ds[2], ds[3]]));
    assert_eq!(ds.len(), 4 + len);
    &ds[4..]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_tiles_parse_and_hash_to_the_checkpoint() {
    let stack = start().await;
    let subject = "static@keyless.test";
    let token = stack.oidc.mint(&email(subject)).expect("token");
    // More than one full tile: 260 certificates, issued concurrently.
    let mut tasks = Vec::new();
    for _ in 0..260 {
        let (ca, token) = (stack.ca.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
            let request = KeyRequest::Signed {
                public_key: key.public_key().to_pem().into_bytes(),
                algorithm: Some("ECDSA".into()),
                proof: key.sign(subject.as_bytes()).expect("proof"),
            };
            let pem = ca.issue(&token, &request).await.expect("issued");
            pem.iter()
                .map(|p| Certificate::from_pem(p).expect("cert"))
                .collect::<Vec<_>>()
        }));
    }
    let mut issued = Vec::new();
    for t in tasks {
        issued.push(t.await.expect("task"));
    }
    // And one x509 entry through add-chain.
    let chain: Vec<String> = issued[0].iter().map(|c| B64.encode(c.der())).collect();
    let resp = reqwest::Client::new()
        .post(format!("{}/ct/v1/add-chain", stack.ca_url))
        .json(&json!({ "chain": chain }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // The checkpoint: the core's signature and the RFC 6962 one.
    let text = String::from_utf8(get_ok(&stack, "checkpoint").await).expect("text");
    let note = SignedNote::parse(&text).expect("note");
    note.verify(stack.ca.ct.log().verifier())
        .expect("signed by the log key");
    let cp = Checkpoint::parse(note.body()).expect("checkpoint");
    assert_eq!(cp.size, 261);
    assert!(cp.extensions.is_empty(), "no extension lines");
    let log_id = stack.ca.ct.log_id();
    let rfc = note
        .signatures()
        .iter()
        .find(|s| s.key_hint == keyless_ca::ct_note::key_id(&cp.origin, &log_id))
        .expect("an RFC 6962 note signature");
    assert_eq!(rfc.name, cp.origin, "key name is the origin");
    let ts = u64::from_be_bytes(rfc.signature[..8].try_into().unwrap());
    let pk = stack.ca.ct.public_key();
    pk.verify(
        pk.default_signature_algorithm(),
        &tree_head_input(ts, cp.size, &cp.root_hash),
        ds_signature(&rfc.signature[8..]),
    )
    .expect("TreeHeadSignature verifies with the log's key");
    // get-sth serves the same signed tree head.
    let sth: Value = reqwest::get(format!("{}/ct/v1/get-sth", stack.ca_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sth["tree_size"], 261);
    assert_eq!(sth["timestamp"], ts);
    assert_eq!(
        B64.decode(sth["tree_head_signature"].as_str().unwrap())
            .unwrap(),
        rfc.signature[8..]
    );

    // Every data tile: parse each TileLeaf, rehash, compare with the
    // level-0 tiles and the checkpoint's root.
    let mut hashes = Vec::new();
    let mut issuers_seen = std::collections::HashSet::new();
    let mut x509_entries = 0;
    let mut precert: Option<Vec<u8>> = None;
    for t in 0..cp.size.div_ceil(256) {
        let width = keyless_log::committed_width(TileKind::Entries, t, cp.size).unwrap();
        let data = get_ok(&stack, &data_path(t, width)).await;
        let leaves = TileLeaf::parse_tile(&data).expect("data tile parses");
        assert_eq!(leaves.len(), usize::from(width));
        let level0 = TileId {
            kind: TileKind::Hashes { level: 0 },
            index: t,
            width,
        };
        let tile_hashes = get_ok(&stack, &level0.path()).await;
        // The tlog-tiles entry bundle of the same tile: the MerkleTreeLeafs.
        let bundle_id = TileId {
            kind: TileKind::Entries,
            index: t,
            width,
        };
        let bundle = get_ok(&stack, &bundle_id.path()).await;
        let merkle = keyless_tlog::tiles::decode_entry_bundle(&bundle).expect("bundle");
        assert_eq!(merkle.len(), leaves.len());
        for (k, leaf) in leaves.iter().enumerate() {
            let h = leaf.leaf_hash();
            // Each entry carries its own index (static-ct-api leaf_index).
            assert_eq!(
                leaf.extensions,
                keyless_ca::ct_leaf::leaf_index_extensions(t * 256 + k as u64)
            );
            assert_eq!(merkle[k], leaf.merkle_tree_leaf());
            assert_eq!(keyless_tlog::leaf_hash(merkle[k]), h);
            assert_eq!(&tile_hashes[k * 32..k * 32 + 32], &h[..]);
            hashes.push(h);
            assert_eq!(leaf.chain.len(), 2, "intermediate and root");
            issuers_seen.extend(leaf.chain.iter().copied());
            match &leaf.entry {
                LeafEntry::Precert {
                    pre_certificate, ..
                } => {
                    let pre = Certificate::from_der(pre_certificate).expect("precert");
                    assert!(pre
                        .extension(&keyless_x509::oid::CT_PRECERT_POISON)
                        .is_some());
                    precert = Some(pre_certificate.to_vec());
                }
                LeafEntry::X509 { certificate } => {
                    assert_eq!(*certificate, issued[0][0].der());
                    x509_entries += 1;
                }
            }
        }
    }
    assert_eq!(x509_entries, 1);
    // A precertificate is refused by add-chain (it belongs in add-pre-chain).
    let mut chain = vec![B64.encode(precert.expect("a precert entry"))];
    chain.extend(issued[0][1..].iter().map(|c| B64.encode(c.der())));
    let resp = reqwest::Client::new()
        .post(format!("{}/ct/v1/add-chain", stack.ca_url))
        .json(&json!({ "chain": chain }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(keyless_tlog::proof::root_from_leaves(&hashes), cp.root_hash);
    // Every issued certificate's SCT names one of those leaves.
    for chain in &issued {
        assert!(hashes.contains(&leaf_hash_of(&chain[0], &chain[1])));
    }
    // Every fingerprint is served, and hashes to itself.
    assert_eq!(issuers_seen.len(), 2);
    for fp in issuers_seen {
        let resp = get(&stack, &format!("issuer/{}", hex::encode(fp))).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/pkix-cert");
        let der = resp.bytes().await.unwrap();
        assert_eq!(keyless_crypto::sha256(&der), fp);
    }
    // Not served: tiles past the tree, unknown issuers, bad paths.
    assert_eq!(get(&stack, "tile/data/002").await.status(), 404);
    assert_eq!(get(&stack, "tile/data/001").await.status(), 404);
    assert_eq!(
        get(&stack, &format!("issuer/{}", "ab".repeat(32)))
            .await
            .status(),
        404
    );
    assert_eq!(get(&stack, "issuer/..%2Fct-key.pem").await.status(), 404);
}

async fn add_chain(stack: &Stack, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/ct/v1/add-chain", stack.ca_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn add_chain_logs_certificates_that_chain_to_the_roots() {
    let stack = start().await;
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let who = "add-chain@keyless.test";
    let issued = issue_for(&stack, email(who), &key, who).await;
    let der = |c: &Certificate| B64.encode(c.der());
    let full = vec![
        der(&issued.leaf),
        der(&issued.chain[0]),
        der(&issued.chain[1]),
    ];

    let (status, sct) = add_chain(&stack, json!({ "chain": full })).await;
    assert_eq!(status, 200, "{sct}");
    assert_eq!(sct["id"], B64.encode(stack.ca.ct.log_id()));
    // The SCT signs the x509 entry of exactly this certificate.
    let ts = sct["timestamp"].as_u64().unwrap();
    let mut signed = vec![0u8, 0];
    signed.extend_from_slice(&ts.to_be_bytes());
    signed.extend_from_slice(&[0, 0]);
    let cert = issued.leaf.der();
    signed.extend_from_slice(&(cert.len() as u32).to_be_bytes()[1..]);
    signed.extend_from_slice(cert);
    // The leaf_index extension: entry 1 (after the issued precertificate).
    let extensions = B64.decode(sct["extensions"].as_str().unwrap()).unwrap();
    assert_eq!(extensions, [0, 0, 5, 0, 0, 0, 0, 1]);
    signed.extend_from_slice(&[0, 8]);
    signed.extend_from_slice(&extensions);
    let ds = B64.decode(sct["signature"].as_str().unwrap()).unwrap();
    let pk = stack.ca.ct.public_key();
    pk.verify(pk.default_signature_algorithm(), &signed, ds_signature(&ds))
        .expect("SCT signature");
    // Durable: the log grew by the entry (1 precert + 1 certificate).
    assert_eq!(stack.ca.ct.size(), 2);
    let index = stack
        .ca
        .ct
        .log()
        .find_leaf(&keyless_tlog::leaf_hash(&signed))
        .unwrap();
    assert_eq!(index, Some(1));

    // Without the root, the intermediate must chain to it: accepted too.
    let (status, _) = add_chain(&stack, json!({ "chain": full[..2] })).await;
    assert_eq!(status, 200);

    // Refused: a lone certificate, a precertificate, a chain from another
    // CA, a chain in the wrong order, too long a chain, a huge body.
    let (status, body) = add_chain(&stack, json!({ "chain": full[..1] })).await;
    assert_eq!(status, 400, "{body}");
    let other = start().await;
    let theirs = issue_for(&other, email(who), &key, who).await;
    let foreign = vec![
        der(&theirs.leaf),
        der(&theirs.chain[0]),
        der(&theirs.chain[1]),
    ];
    let (status, body) = add_chain(&stack, json!({ "chain": foreign })).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("root"), "{body}");
    let (status, body) = add_chain(
        &stack,
        json!({ "chain": [full[0].clone(), full[2].clone(), full[1].clone()] }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let long: Vec<String> = std::iter::repeat_n(full[1].clone(), 9).collect();
    let (status, body) = add_chain(&stack, json!({ "chain": long })).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("8 certificates"));
    let huge = "A".repeat(2 * 1024 * 1024);
    let (status, _) = add_chain(&stack, json!({ "chain": [huge] })).await;
    assert_eq!(status, 413);
    let (status, _) = add_chain(&stack, json!({ "chain": ["not base64!"] })).await;
    assert_eq!(status, 400);
    // The refusals logged nothing.
    assert_eq!(stack.ca.ct.size(), 3);

    // get-roots lists the CA's root.
    let roots: Value = reqwest::get(format!("{}/ct/v1/get-roots", stack.ca_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(roots["certificates"], json!([full[2]]));
}

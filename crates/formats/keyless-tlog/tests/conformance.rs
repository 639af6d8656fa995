//! Checks inclusion proofs and signed checkpoints from the Sigstore
//! conformance suite (read in place from the shared folder), for both
//! Rekor v1 (ECDSA, public-good root) and Rekor v2 (Ed25519, staging root).

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::PublicKey;
use keyless_tlog::{
    leaf_hash, verify_inclusion, Checkpoint, CheckpointError, Hash, NoteError, NoteVerifier,
    ProofError, SignedNote,
};
use serde_json::Value;

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../testdata/sigstore-conformance"
);

fn case_dir(case: &str) -> PathBuf {
    Path::new(SHARED).join("assets/bundle-verify").join(case)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn trusted_root(case: &str) -> Value {
    let own = case_dir(case).join("trusted_root.json");
    if own.exists() {
        read_json(&own)
    } else {
        read_json(&Path::new(SHARED).join("public-good-trust/trusted_root.json"))
    }
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().expect("base64 string"))
        .expect("valid base64")
}

fn hash(v: &Value) -> Hash {
    b64(v).try_into().expect("32-byte hash")
}

fn num(v: &Value) -> u64 {
    v.as_str().expect("decimal string").parse().expect("u64")
}

/// A trusted-root tlog: its key, the host of its base URL and its log ID.
struct Log {
    key: PublicKey,
    host: String,
    log_id: Vec<u8>,
}

fn logs(root: &Value) -> Vec<Log> {
    root["tlogs"]
        .as_array()
        .expect("tlogs")
        .iter()
        .map(|t| {
            let url = t["baseUrl"].as_str().expect("baseUrl");
            let host = url.split("://").nth(1).unwrap_or(url).trim_end_matches('/');
            let host = host.split('/').next().unwrap_or(host).to_string();
            Log {
                key: PublicKey::from_spki_der(&b64(&t["publicKey"]["rawBytes"])).expect("tlog key"),
                host,
                log_id: b64(&t["logId"]["keyId"]),
            }
        })
        .collect()
}

/// Where in the pipeline a case failed.
#[derive(Debug)]
#[allow(dead_code)] // fields are shown through Debug in failure messages
enum Failure {
    Note(NoteError),
    Checkpoint(CheckpointError),
    Proof(ProofError),
    /// The checkpoint names a different origin than the log that verified it.
    OriginMismatch {
        expected: String,
        found: String,
    },
}

/// What a verifier does with one tlog entry: parse the note, parse the
/// checkpoint in it, check the log's signature, then check the inclusion
/// proof against the *signed* tree size and root.
fn check_entry(case: &str) -> Result<(), Failure> {
    let bundle = read_json(&case_dir(case).join("bundle.sigstore.json"));
    let root = trusted_root(case);
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    let log_id = b64(&entry["logId"]["keyId"]);
    let logs = logs(&root);
    let log = logs
        .iter()
        .find(|l| l.log_id == log_id)
        .expect("entry's log is in the trusted root");
    // Rekor v2 logs only hashedrekord and dsse at version 0.0.2
    // (intoto 0.0.2 is a Rekor v1 type).
    let kind = (
        entry["kindVersion"]["kind"].as_str(),
        entry["kindVersion"]["version"].as_str(),
    );
    let rekor_v2 = matches!(kind, (Some("hashedrekord" | "dsse"), Some("0.0.2")));

    let proof = &entry["inclusionProof"];
    let leaf = leaf_hash(&b64(&entry["canonicalizedBody"]));
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(hash)
        .collect();
    // Rekor v1's inclusionProof.logIndex is the shard-local index; the
    // entry's logIndex is global and must not be used for the proof.
    let index = num(&proof["logIndex"]);

    let envelope = proof["checkpoint"]["envelope"]
        .as_str()
        .expect("checkpoint envelope");
    let note = SignedNote::parse(envelope).map_err(Failure::Note)?;
    assert_eq!(note.to_text(), envelope, "{case}: note does not round-trip");
    let checkpoint = Checkpoint::parse(note.body()).map_err(Failure::Checkpoint)?;
    assert_eq!(
        checkpoint.to_body(),
        note.body(),
        "{case}: checkpoint does not round-trip"
    );

    let verifier = if rekor_v2 {
        NoteVerifier::new(&log.host, log.key.clone()).expect("verifier")
    } else {
        NoteVerifier::any_name(log.key.clone()).expect("verifier")
    };
    note.verify(&verifier).map_err(Failure::Note)?;
    if rekor_v2 && checkpoint.origin != log.host {
        return Err(Failure::OriginMismatch {
            expected: log.host.clone(),
            found: checkpoint.origin,
        });
    }

    verify_inclusion(
        index,
        checkpoint.size,
        &leaf,
        &hashes,
        &checkpoint.root_hash,
    )
    .map_err(Failure::Proof)?;
    // The proof's own copy of the root agrees with the signed one.
    assert_eq!(hash(&proof["rootHash"]), checkpoint.root_hash, "{case}");
    assert_eq!(num(&proof["treeSize"]), checkpoint.size, "{case}");
    Ok(())
}

#[test]
fn happy_paths_verify() {
    for case in [
        "happy-path-v0.3",
        "rekor2-happy-path",
        "rekor2-checkpoint-cosigned",
        "rekor2-checkpoint-origin-not-first",
        "rekor2-checkpoint-two-sigs-from-origin",
        "rekor2-checkpoint-multiple-cosigs",
        "rekor2-checkpoint-two-sigs-cosigned",
    ] {
        check_entry(case).unwrap_or_else(|e| panic!("{case}: {e:?}"));
    }
}

/// Every must-verify case that has a checkpoint passes, whatever the log.
#[test]
fn all_positive_cases_with_checkpoints_verify() {
    let mut checked = 0;
    for dir in std::fs::read_dir(Path::new(SHARED).join("assets/bundle-verify")).expect("cases") {
        let dir = dir.expect("entry").path();
        let case = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let Ok(text) = std::fs::read_to_string(dir.join("bundle.sigstore.json")) else {
            continue;
        };
        if case.ends_with("_fail") {
            continue;
        }
        let Ok(bundle) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
        if entry["inclusionProof"]["checkpoint"]["envelope"].is_string() {
            check_entry(&case).unwrap_or_else(|e| panic!("{case}: {e:?}"));
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} cases had checkpoints");
}

#[test]
fn failing_cases_fail_for_the_stated_reason() {
    let expect = |case: &str, ok: fn(&Failure) -> bool| match check_entry(case) {
        Ok(()) => panic!("{case}: verified but must fail"),
        Err(e) => {
            let shown = match &e {
                Failure::Note(n) => n.to_string(),
                Failure::Checkpoint(c) => c.to_string(),
                Failure::Proof(p) => p.to_string(),
                other => format!("{other:?}"),
            };
            println!("{case}: {shown}");
            assert!(ok(&e), "{case}: failed for the wrong reason: {e:?}");
        }
    };
    expect("checkpoint-bad-keyhint_fail", |e| {
        matches!(
            e,
            Failure::Note(NoteError::NoMatchingSignature {
                key_hint: [0xc0, 0xd2, 0x3d, 0x6a],
                ..
            })
        )
    });
    expect("invalid-checkpoint-signature_fail", |e| {
        matches!(
            e,
            Failure::Note(NoteError::SignatureInvalid { lines: 1, .. })
        )
    });
    // Signed, but for a tree of 75610772 leaves, not the one the proof is for.
    expect("checkpoint-wrong-roothash_fail", |e| {
        matches!(
            e,
            Failure::Proof(ProofError::WrongProofLength {
                expected: 27,
                found: 10
            })
        )
    });
    expect("inclusion-proof-corrupted-hash_fail", |e| {
        matches!(e, Failure::Proof(ProofError::RootMismatch { .. }))
    });
    expect("rekor2-checkpoint-missing-origin_fail", |e| {
        matches!(e, Failure::Checkpoint(CheckpointError::MissingOrigin))
    });
    expect("rekor2-checkpoint-missing-size_fail", |e| {
        matches!(e, Failure::Checkpoint(CheckpointError::MissingSize))
    });
    expect("rekor2-checkpoint-missing-root-hash_fail", |e| {
        matches!(e, Failure::Checkpoint(CheckpointError::MissingRootHash))
    });
    expect("rekor2-checkpoint-missing-log-signature_fail", |e| {
        matches!(e, Failure::Note(NoteError::NoSignatures))
    });
    // The hint matches the log key but the name is another log's.
    expect("rekor2-checkpoint-no-matching-signature_fail", |e| {
        matches!(
            e,
            Failure::Note(NoteError::NoMatchingSignature { name: Some(_), .. })
        )
    });
}

/// The corrupted proof also fails against the proof's own root, and the
/// wrong-roothash checkpoint's proof is itself fine: the failure there is
/// only that the checkpoint signs a different tree.
#[test]
fn proof_only_checks() {
    for (case, proof_ok) in [
        ("inclusion-proof-corrupted-hash_fail", false),
        ("checkpoint-wrong-roothash_fail", true),
    ] {
        let bundle = read_json(&case_dir(case).join("bundle.sigstore.json"));
        let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
        let proof = &entry["inclusionProof"];
        let hashes: Vec<Hash> = proof["hashes"]
            .as_array()
            .expect("hashes")
            .iter()
            .map(hash)
            .collect();
        let res = verify_inclusion(
            num(&proof["logIndex"]),
            num(&proof["treeSize"]),
            &leaf_hash(&b64(&entry["canonicalizedBody"])),
            &hashes,
            &hash(&proof["rootHash"]),
        );
        assert_eq!(res.is_ok(), proof_ok, "{case}: {res:?}");
        // The global log index is not the proof's index for Rekor v1.
        let global = num(&entry["logIndex"]);
        assert_ne!(global, num(&proof["logIndex"]));
    }
}

/// The key-hint rules: ECDSA logs hash the SPKI, Ed25519 logs hash
/// name || '\n' || 0x01 || raw key with name = base-URL host. Either way
/// the full hash is the log ID the trusted root lists.
#[test]
fn key_ids_match_trusted_root_log_ids() {
    let roots = [
        read_json(&Path::new(SHARED).join("public-good-trust/trusted_root.json")),
        trusted_root("rekor2-happy-path"),
    ];
    let mut ed25519 = 0;
    for root in &roots {
        for log in logs(root) {
            let v = NoteVerifier::new(&log.host, log.key.clone()).expect("verifier");
            assert_eq!(v.key_id().to_vec(), log.log_id, "{}", log.host);
            assert_eq!(v.key_hint()[..], log.log_id[..4]);
            if log.key.algorithm() == keyless_crypto::KeyAlgorithm::Ed25519 {
                ed25519 += 1;
                // Name-dependent: another name gives another hint, and no
                // name-less verifier can exist.
                let other = NoteVerifier::new("example.com", log.key.clone()).expect("verifier");
                assert_ne!(other.key_hint(), v.key_hint());
                assert!(matches!(
                    NoteVerifier::any_name(log.key.clone()),
                    Err(NoteError::UnsupportedKey { .. })
                ));
            } else {
                let any = NoteVerifier::any_name(log.key.clone()).expect("verifier");
                assert_eq!(any.key_hint(), v.key_hint());
                assert!(!any.requires_name());
            }
        }
    }
    assert_eq!(ed25519, 2);
}

/// Rekor v1 signs with the name "rekor.sigstore.dev" while the origin is
/// "rekor.sigstore.dev - <tree ID>": a named verifier works with the host,
/// not with the origin, and `match_any_name` works with anything.
#[test]
fn rekor_v1_signature_name_is_the_host() {
    let bundle = read_json(&case_dir("happy-path-v0.3").join("bundle.sigstore.json"));
    let envelope = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"]
        .as_str()
        .expect("envelope");
    let note = SignedNote::parse(envelope).expect("note");
    let checkpoint = Checkpoint::parse(note.body()).expect("checkpoint");
    assert_eq!(
        checkpoint.origin,
        "rekor.sigstore.dev - 2605736670972794746"
    );
    let root = trusted_root("happy-path-v0.3");
    let log = logs(&root)
        .into_iter()
        .find(|l| l.host == "rekor.sigstore.dev")
        .expect("v1 log");

    note.verify(&NoteVerifier::new("rekor.sigstore.dev", log.key.clone()).expect("v"))
        .expect("by host");
    let wrong = NoteVerifier::new("elsewhere.example", log.key.clone()).expect("v");
    assert!(matches!(
        note.verify(&wrong),
        Err(NoteError::NoMatchingSignature { .. })
    ));
    note.verify(&wrong.match_any_name()).expect("by hint only");
}

/// A Rekor v2 note checked with the v1 log's key finds no line to check.
#[test]
fn wrong_log_key_finds_no_signature() {
    let bundle = read_json(&case_dir("rekor2-happy-path").join("bundle.sigstore.json"));
    let envelope = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"]
        .as_str()
        .expect("envelope");
    let note = SignedNote::parse(envelope).expect("note");
    let root = trusted_root("rekor2-happy-path");
    for log in logs(&root) {
        let v = NoteVerifier::new("log2025-alpha1.rekor.sigstage.dev", log.key.clone()).expect("v");
        let res = note.verify(&v);
        if log.host == "log2025-alpha1.rekor.sigstage.dev" {
            res.expect("right key");
        } else {
            assert!(
                matches!(res, Err(NoteError::NoMatchingSignature { .. })),
                "{res:?}"
            );
        }
    }
}

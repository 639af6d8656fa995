//! check_entry on hand-made trees: a log (Ed25519 note key), one witness,
//! a bundle checkpoint at size 3 and the log's later checkpoints.

use super::*;
use crate::witness_policy::tests::TestWitness;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_tlog::{consistency_proof, leaf_hash, root_from_leaves, NoteSigner};
use keyless_types::bundle::InclusionProof;
use keyless_types::ValidityPeriod;

const ORIGIN: &str = "log.example";

struct Fixture {
    log: NoteSigner,
    witness: TestWitness,
    policy: WitnessPolicy,
    trust: TrustMaterial,
}

fn leaves(n: u64, fork: bool) -> Vec<Hash> {
    (0..n)
        .map(|i| {
            let tag = if fork && i >= 2 { "fork" } else { "main" };
            leaf_hash(format!("{tag} {i}").as_bytes())
        })
        .collect()
}

impl Fixture {
    fn new() -> Self {
        let log =
            NoteSigner::new(ORIGIN, SigningKey::generate(KeyAlgorithm::Ed25519).unwrap()).unwrap();
        let witness = TestWitness::new("w.example/1");
        let policy = WitnessPolicy::parse(
            &format!("witness w1 {}\nquorum w1\n", witness.vkey()),
            "test.policy",
        )
        .unwrap();
        let trust = TrustMaterial {
            tlogs: vec![TrustedLog {
                base_url: format!("https://{ORIGIN}"),
                origin: ORIGIN.into(),
                log_id: log.key_id().to_vec(),
                key: log.verifier().key().clone(),
                valid_for: ValidityPeriod {
                    start: 0,
                    end: None,
                },
            }],
            ctlogs: vec![],
            fulcio: vec![],
            tsas: vec![],
        };
        Self {
            log,
            witness,
            policy,
            trust,
        }
    }

    /// A checkpoint of the first `n` leaves, signed by the log and, if
    /// `cosigned`, by the witness.
    fn checkpoint(&self, leaves: &[Hash], cosigned: bool) -> String {
        let body = Checkpoint {
            origin: ORIGIN.into(),
            size: leaves.len() as u64,
            root_hash: root_from_leaves(leaves),
            extensions: vec![],
        }
        .to_body();
        let mut sigs = vec![self.log.sign_line(&body).unwrap()];
        if cosigned {
            sigs.push(self.witness.cosign(&body));
        }
        SignedNote::new(body, sigs).unwrap().to_text()
    }

    fn entry(&self, checkpoint: Option<String>) -> TlogEntry {
        let l = leaves(3, false);
        TlogEntry {
            log_index: 2,
            log_id: self.log.key_id().to_vec(),
            kind: "hashedrekord".into(),
            version: "0.0.2".into(),
            integrated_time: None,
            signed_entry_timestamp: None,
            inclusion_proof: Some(InclusionProof {
                log_index: 2,
                tree_size: 3,
                root_hash: root_from_leaves(&l),
                hashes: vec![],
                checkpoint,
            }),
            canonicalized_body: vec![],
            canonicalized_body_b64: None,
        }
    }

    fn check(
        &self,
        entry: &TlogEntry,
        latest: &str,
        proof: &[Hash],
    ) -> Result<WitnessedEntry, WitnessError> {
        check_entry(&self.policy, &self.trust, 0, entry, latest, proof)
    }
}

#[test]
fn a_cosigned_consistent_checkpoint_is_accepted() {
    let f = Fixture::new();
    let main = leaves(5, false);
    let entry = f.entry(Some(f.checkpoint(&main[..3], false)));
    let proof = consistency_proof(&main, 3).unwrap();
    let ok = f.check(&entry, &f.checkpoint(&main, true), &proof).unwrap();
    assert_eq!((ok.bundle_size, ok.witnessed_size), (3, 5));
    assert_eq!(ok.cosigners, vec!["w1".to_string()]);
    // The bundle's own checkpoint, once cosigned: same size, empty proof.
    let same = f
        .check(&entry, &f.checkpoint(&main[..3], true), &[])
        .unwrap();
    assert_eq!(same.witnessed_size, 3);
}

#[test]
fn quorum_fork_rollback_and_strangers_are_refused() {
    let f = Fixture::new();
    let main = leaves(5, false);
    let entry = f.entry(Some(f.checkpoint(&main[..3], false)));
    let proof = consistency_proof(&main, 3).unwrap();

    let err = f
        .check(&entry, &f.checkpoint(&main, false), &proof)
        .unwrap_err();
    assert!(matches!(err, WitnessError::Quorum { .. }), "{err}");
    assert!(
        err.to_string().contains("witness policy test.policy"),
        "{err}"
    );

    // The witnesses saw another tree (leaf 2, the bundle's, differs): no proof
    // links the bundle's tree to it, whichever proof the log hands out.
    let fork = leaves(5, true);
    let fork_proof = consistency_proof(&fork, 3).unwrap();
    let err = f
        .check(&entry, &f.checkpoint(&fork, true), &fork_proof)
        .unwrap_err();
    assert!(matches!(err, WitnessError::Consistency { .. }), "{err}");
    let err = f
        .check(&entry, &f.checkpoint(&fork, true), &proof)
        .unwrap_err();
    assert!(matches!(err, WitnessError::Consistency { .. }), "{err}");

    let err = f
        .check(&entry, &f.checkpoint(&main[..2], true), &[])
        .unwrap_err();
    assert!(matches!(err, WitnessError::Older { .. }), "{err}");

    // A checkpoint the trusted log did not sign, cosigned or not.
    let other = Fixture::new();
    let err = f
        .check(&entry, &other.checkpoint(&main, true), &proof)
        .unwrap_err();
    assert!(matches!(err, WitnessError::Checkpoint { .. }), "{err}");

    let err = f
        .check(&f.entry(None), &f.checkpoint(&main, true), &proof)
        .unwrap_err();
    assert!(matches!(err, WitnessError::NoCheckpoint { .. }), "{err}");
}

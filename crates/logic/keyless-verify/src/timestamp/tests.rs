//! Which timestamp authority vouches for a time: the leaf the trusted root
//! lists for it, and only inside that entry's `validFor`. The PKI (one TSA
//! root and intermediate, two signing leaves) is keyless-testkit's
//! throw-away TSA PKI; keyless-tsp's issuing side signs the tokens.

use keyless_testkit::tsa_pki::{self, Leaf, TsaPki};
use keyless_types::ValidityPeriod;
use keyless_x509::Certificate;

use super::{verify_timestamps, VerifiedTimestamp};
use crate::error::TimestampError;
use crate::trust::{TrustMaterial, TrustedAuthority};

const SIGNATURE: &[u8] = b"the artifact signature being timestamped";
/// The old leaf's trusted-root window ends here; the new one's starts.
const ROTATION: i64 = 1_720_000_000;
const BEFORE_ROTATION: i64 = 1_710_000_000;
const AFTER_ROTATION: i64 = 1_750_000_000;

/// Root → intermediate → the old (retired) and the new signing leaf.
struct Tsa {
    pki: TsaPki,
}

impl Tsa {
    fn old_leaf(&self) -> &Leaf {
        &self.pki.leaf_a
    }

    fn new_leaf(&self) -> &Leaf {
        &self.pki.leaf_b
    }
}

fn tsa() -> Tsa {
    Tsa { pki: TsaPki::new() }
}

/// A token over SIGNATURE by `signer` at `time`, its certificate embedded.
fn token(signer: &Leaf, time: i64) -> Vec<u8> {
    tsa_pki::token(
        signer,
        SIGNATURE,
        u64::try_from(time).expect("positive time"),
        true,
    )
}

fn authority(
    uri: &str,
    leaf: &Certificate,
    t: &Tsa,
    start: i64,
    end: Option<i64>,
) -> TrustedAuthority {
    TrustedAuthority {
        uri: uri.into(),
        chain: vec![leaf.clone(), t.pki.intermediate.clone(), t.pki.root.clone()],
        valid_for: ValidityPeriod { start, end },
    }
}

fn trust(tsas: Vec<TrustedAuthority>) -> TrustMaterial {
    TrustMaterial {
        tlogs: Vec::new(),
        ctlogs: Vec::new(),
        fulcio: Vec::new(),
        tsas,
    }
}

fn verify(token: Vec<u8>, trust: &TrustMaterial) -> Result<VerifiedTimestamp, TimestampError> {
    // The chains checked once, as the Verifier does when it is built.
    let chains: Vec<keyless_x509::TrustedChain> = trust
        .tsas
        .iter()
        .map(|t| keyless_x509::TrustedChain::new(t.chain.clone()))
        .collect();
    let mut v = verify_timestamps(&[token], SIGNATURE, trust, &chains)?;
    assert_eq!(v.len(), 1);
    Ok(v.remove(0))
}

#[test]
fn a_retired_leaf_does_not_vouch_after_its_window() {
    let t = tsa();
    let old = authority("old", &t.old_leaf().0, &t, 1_700_000_000, Some(ROTATION));
    let new = authority("new", &t.new_leaf().0, &t, ROTATION, None);
    // In either order: the new entry must not accept the old leaf just
    // because it chains to the same intermediate and root.
    for tsas in [
        vec![new.clone(), old.clone()],
        vec![old.clone(), new.clone()],
    ] {
        let trust = trust(tsas);
        let err = verify(token(t.old_leaf(), AFTER_ROTATION), &trust).unwrap_err();
        assert!(
            matches!(&err, TimestampError::OutsideAuthorityValidity { tsa, .. } if tsa == "old"),
            "{err:?}"
        );
        // Inside its window the old leaf still counts, for the old entry.
        let ok =
            verify(token(t.old_leaf(), BEFORE_ROTATION), &trust).expect("old leaf before rotation");
        assert_eq!((ok.authority.as_str(), ok.time), ("old", BEFORE_ROTATION));
        let ok =
            verify(token(t.new_leaf(), AFTER_ROTATION), &trust).expect("new leaf after rotation");
        assert_eq!((ok.authority.as_str(), ok.time), ("new", AFTER_ROTATION));
    }
}

#[test]
fn a_sibling_leaf_does_not_vouch() {
    let t = tsa();
    // Only the old leaf is listed, with an open window; the new leaf is
    // its sibling under the same intermediate.
    let trust = trust(vec![authority(
        "only",
        &t.old_leaf().0,
        &t,
        1_700_000_000,
        None,
    )]);
    let err = verify(token(t.new_leaf(), AFTER_ROTATION), &trust).unwrap_err();
    match &err {
        TimestampError::Untrusted { failures, .. } => {
            let reasons = err.to_string();
            assert!(
                reasons.contains("is not the signing certificate"),
                "{reasons}"
            );
            assert_eq!(failures.len(), 1, "{reasons}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_leaf_listed_twice_counts_in_the_window_that_holds_its_time() {
    let t = tsa();
    // One leaf, two entries (e.g. re-listed after a gap): the first entry
    // verifies the token but its window ended; the second holds the time.
    let trust = trust(vec![
        authority("first", &t.old_leaf().0, &t, 1_700_000_000, Some(ROTATION)),
        authority("second", &t.old_leaf().0, &t, ROTATION + 1, None),
    ]);
    let ok = verify(token(t.old_leaf(), AFTER_ROTATION), &trust).expect("second entry");
    assert_eq!((ok.authority.as_str(), ok.authority_index), ("second", 1));
}

//! Which certificate may sign for a trusted TSA. A trusted root lists a
//! TSA as `certChain` = leaf, intermediates, root. When that list starts
//! with the signing leaf, only that leaf vouches for time: a sibling leaf
//! issued by the same intermediate chains to the same root but was never
//! listed (or was retired). When only CAs are listed, any time-stamping
//! leaf that chains to them is the TSA.
//!
//! The PKI is keyless-testkit's throw-away TSA PKI (P-256 keys); the
//! crate's own issuing side signs the tokens.

use keyless_testkit::tsa_pki::{self, Leaf, TsaPki};
use keyless_tsp::{TimestampToken, TspError, UntrustedError};

const GEN_TIME: u64 = 1_750_000_000;
const SIGNATURE: &[u8] = b"the artifact signature being timestamped";

fn pki() -> TsaPki {
    TsaPki::new()
}

/// A token over SIGNATURE from `signer`, with its certificate embedded or not.
fn token(signer: &Leaf, embed: bool) -> TimestampToken {
    let der = tsa_pki::token(signer, SIGNATURE, GEN_TIME, embed);
    TimestampToken::from_der(&der).expect("token parses")
}

#[test]
fn the_listed_leaf_vouches_for_time() {
    let p = pki();
    let listed = p.chain_of(&p.leaf_a);
    for embed in [false, true] {
        assert_eq!(
            token(&p.leaf_a, embed).verify(SIGNATURE, &listed),
            Ok(GEN_TIME as i64),
            "embedded: {embed}"
        );
    }
}

#[test]
fn a_sibling_leaf_under_the_same_intermediate_does_not() {
    let p = pki();
    let listed = p.chain_of(&p.leaf_a);
    // The sibling's certificate is in the token: it chains to the trusted
    // root, but it is not the leaf the trusted root lists.
    let err = token(&p.leaf_b, true)
        .verify(SIGNATURE, &listed)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TspError::Untrusted(UntrustedError::NotTrustedLeaf { .. })
        ),
        "{err:?}"
    );
    // The whole chain, as a caller prints it: the details are in the cause.
    let message = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    assert!(
        message.contains("serial 04") && message.contains("serial 03"),
        "{message}"
    );
    // Without its certificate in the token, the sibling cannot be found.
    let err = token(&p.leaf_b, false)
        .verify(SIGNATURE, &listed)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TspError::Untrusted(UntrustedError::SignerNotFound { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn without_a_listed_leaf_any_leaf_chaining_to_the_cas_vouches() {
    let p = pki();
    let cas_only = [p.intermediate.clone(), p.root.clone()];
    for signer in [&p.leaf_a, &p.leaf_b] {
        assert_eq!(
            token(signer, true).verify(SIGNATURE, &cas_only),
            Ok(GEN_TIME as i64)
        );
    }
    // The signer must still come from somewhere: not embedded, not listed.
    let err = token(&p.leaf_b, false)
        .verify(SIGNATURE, &cas_only)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TspError::Untrusted(UntrustedError::SignerNotFound { .. })
        ),
        "{err:?}"
    );
}

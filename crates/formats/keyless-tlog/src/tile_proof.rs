//! The plan behind a consistency proof computed from a log's tiles rather
//! than asked of the log: which subtree ranges RFC 6962's SUBPROOF names,
//! in proof order. The caller hashes each range from hash tiles (the
//! monitor's `TileReader`, the log's `TileClient`); this part does no I/O.
//! The plan has at most two ranges per tree level, so fewer than 128.

/// The ranges `[lo, hi)` whose Merkle hashes make up RFC 6962
/// SUBPROOF(m, D[0:n], true), in proof order. `m` must be in `1..n`
/// (a proof from an empty tree or to the same size is empty).
pub fn subproof_ranges(m: u64, n: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if m == 0 || m >= n {
        return out;
    }
    let (mut m, mut lo, mut hi, mut complete) = (m, 0u64, n, true);
    let mut rights = Vec::new();
    loop {
        let len = hi - lo;
        if m == len {
            if !complete {
                out.push((lo, hi));
            }
            break;
        }
        // The largest power of two smaller than `len` (RFC 6962's k).
        let k = 1u64 << (63 - (len - 1).leading_zeros());
        if m <= k {
            rights.push((lo + k, hi));
            hi = lo + k;
        } else {
            rights.push((lo, lo + k));
            m -= k;
            lo += k;
            complete = false;
        }
    }
    out.extend(rights.into_iter().rev());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{consistency_proof, leaf_hash, root_from_leaves, Hash};

    #[test]
    fn subproof_ranges_match_reference() {
        let leaves: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 2..=40u64 {
            for m in 1..n {
                let want = consistency_proof(&leaves[..n as usize], m).unwrap();
                let got: Vec<Hash> = subproof_ranges(m, n)
                    .into_iter()
                    .map(|(lo, hi)| root_from_leaves(&leaves[lo as usize..hi as usize]))
                    .collect();
                assert_eq!(got, want, "m={m} n={n}");
            }
        }
    }

    #[test]
    fn no_ranges_from_an_empty_tree_or_to_the_same_size() {
        assert!(subproof_ranges(0, 5).is_empty());
        assert!(subproof_ranges(5, 5).is_empty());
        assert!(subproof_ranges(6, 5).is_empty());
    }

    #[test]
    fn the_plan_stays_small_for_the_largest_trees() {
        let ranges = subproof_ranges(u64::MAX / 3, u64::MAX - 1);
        assert!(ranges.len() < 128, "{} ranges", ranges.len());
    }
}

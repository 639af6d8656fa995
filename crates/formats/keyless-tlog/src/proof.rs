//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4).
//!
//! The verifiers follow the decomposition used by transparency-dev/merkle:
//! a proof splits into an "inner" part (siblings below the point where the
//! path to the leaf leaves the perfect subtree shared with the last leaf) and
//! a "border" part (left-hand siblings on the right border of the tree). Both
//! lengths follow from `(index, size)` alone, so a proof of the wrong length
//! is rejected before any hashing. That exact-length check is also what
//! bounds the work: an inclusion proof has at most 64 hashes for any `u64`
//! size, and a consistency proof at most 65.
//!
//! The `root_from_leaves`, `inclusion_proof` and `consistency_proof`
//! functions are straight transcriptions of the recursive RFC 6962
//! definitions (MTH, PATH, SUBPROOF). They are deliberately simple rather
//! than fast; they serve as the reference the verifiers are tested against
//! and as an integrity checker for a log that holds its leaves in memory.

use thiserror::Error;

use crate::hash::{node_hash, Hash, EMPTY_ROOT};
use crate::hex::hex;

/// Why a Merkle proof did not check out.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not inside the tree (indices are 0-based).
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// The proof does not have the number of hashes `(index, size)` dictate.
    #[error("proof has {found} hashes, expected {expected} for this tree position")]
    WrongProofLength { expected: usize, found: usize },
    /// The inclusion proof leads to a different root than the expected one.
    #[error("inclusion proof leads to root {}, expected {}", hex(.computed), hex(.expected))]
    RootMismatch { expected: Hash, computed: Hash },
    /// A consistency proof was asked for a tree that shrank.
    #[error("tree size went down from {size1} to {size2}")]
    SizeDecreased { size1: u64, size2: u64 },
    /// The consistency proof does not rebuild the old root.
    #[error("consistency proof rebuilds old root {}, expected {}", hex(.computed), hex(.expected))]
    OldRootMismatch { expected: Hash, computed: Hash },
    /// The consistency proof does not rebuild the new root.
    #[error("consistency proof rebuilds new root {}, expected {}", hex(.computed), hex(.expected))]
    NewRootMismatch { expected: Hash, computed: Hash },
    /// A tree size or index does not fit in memory on this platform
    /// (reference builders only).
    #[error("tree size or index {0} does not fit in memory")]
    TooLarge(u64),
}

/// Split an inclusion proof for `index` in a tree of `size` into its inner
/// and border lengths. Requires `index < size`.
fn decompose(index: u64, size: u64) -> (usize, usize) {
    // The path to `index` and the path to the last leaf `size - 1` share the
    // top of the tree; they diverge at the highest differing bit.
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    // `inner` can be 64, where a plain shift would overflow.
    let border = index.checked_shr(inner as u32).unwrap_or(0).count_ones() as usize;
    (inner, border)
}

/// Fold `proof` into `seed` along the path of `index`: a 0 bit means the
/// running hash is a left child, a 1 bit a right child.
fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        if index.checked_shr(i as u32).unwrap_or(0) & 1 == 0 {
            seed = node_hash(&seed, h);
        } else {
            seed = node_hash(h, &seed);
        }
    }
    seed
}

/// Like [`chain_inner`] but only folds the left siblings; this rebuilds the
/// root of the smaller tree in a consistency proof, where right siblings did
/// not yet exist.
fn chain_inner_right(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        if index.checked_shr(i as u32).unwrap_or(0) & 1 == 1 {
            seed = node_hash(h, &seed);
        }
    }
    seed
}

/// Fold border hashes, which are always left siblings.
fn chain_border_right(mut seed: Hash, proof: &[Hash]) -> Hash {
    for h in proof {
        seed = node_hash(h, &seed);
    }
    seed
}

/// The root that an inclusion proof for `leaf` at `index` implies, for a
/// tree of `size` leaves. Callers compare it with a signed root; prefer
/// [`verify_inclusion`], which does the comparison and reports both values.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size);
    if proof.len() != inner + border {
        return Err(ProofError::WrongProofLength {
            expected: inner + border,
            found: proof.len(),
        });
    }
    let res = chain_inner(*leaf, &proof[..inner], index);
    Ok(chain_border_right(res, &proof[inner..]))
}

/// Check an RFC 6962 / 9162 inclusion proof: `leaf` (a [`crate::leaf_hash`])
/// is entry `index` (0-based, `index < size`) of the tree of `size` leaves
/// whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_proof(index, size, leaf, proof)?;
    if &computed != root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            computed,
        });
    }
    Ok(())
}

/// Check an RFC 9162 consistency proof: the tree of `size2` leaves with root
/// `root2` is an append-only extension of the tree of `size1` leaves with
/// root `root1`.
///
/// As in RFC 9162 and transparency-dev/merkle, equal sizes need an empty
/// proof and equal roots, and every tree extends the empty tree
/// (`size1 == 0`, empty proof; `root1` is then not looked at, since callers
/// often have no root for "nothing seen yet").
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if size2 < size1 {
        return Err(ProofError::SizeDecreased { size1, size2 });
    }
    if size1 == size2 || size1 == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                found: proof.len(),
            });
        }
        if size1 == size2 && root1 != root2 {
            return Err(ProofError::NewRootMismatch {
                expected: *root2,
                computed: *root1,
            });
        }
        return Ok(());
    }

    // 0 < size1 < size2. The proof starts from the largest perfect subtree
    // that ends the old tree (the node at level `shift` covering leaf
    // size1-1). If the old tree is itself perfect, that node is root1 and
    // the proof omits it.
    let (inner, border) = decompose(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    let inner = inner - shift;
    let seed_in_proof = size1 != 1u64 << shift;
    let expected = usize::from(seed_in_proof) + inner + border;
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            found: proof.len(),
        });
    }
    let (seed, rest) = if seed_in_proof {
        (proof[0], &proof[1..])
    } else {
        (*root1, proof)
    };
    let mask = (size1 - 1) >> shift;

    let old = chain_border_right(
        chain_inner_right(seed, &rest[..inner], mask),
        &rest[inner..],
    );
    if &old != root1 {
        return Err(ProofError::OldRootMismatch {
            expected: *root1,
            computed: old,
        });
    }
    let new = chain_border_right(chain_inner(seed, &rest[..inner], mask), &rest[inner..]);
    if &new != root2 {
        return Err(ProofError::NewRootMismatch {
            expected: *root2,
            computed: new,
        });
    }
    Ok(())
}

/// The largest power of two strictly below `n` (for `n >= 2`): where
/// RFC 6962 splits a tree into its left and right subtrees.
fn split_point(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// RFC 6962 MTH: the Merkle tree hash of `leaves` (already leaf-hashed).
/// The empty tree hashes to [`EMPTY_ROOT`].
pub fn root_from_leaves(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split_point(n);
            node_hash(
                &root_from_leaves(&leaves[..k]),
                &root_from_leaves(&leaves[k..]),
            )
        }
    }
}

fn to_usize(v: u64) -> Result<usize, ProofError> {
    usize::try_from(v).map_err(|_| ProofError::TooLarge(v))
}

/// RFC 6962 PATH: the inclusion proof for leaf `index` in the tree of all
/// `leaves`, leaf-side sibling first.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, ProofError> {
    let size = leaves.len() as u64;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path(to_usize(index)?, leaves, &mut out);
    Ok(out)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root_from_leaves(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root_from_leaves(&leaves[..k]));
    }
}

/// RFC 6962 PROOF: the consistency proof from the first `size1` leaves to
/// all `leaves`. Empty when `size1` is 0 or the whole tree.
pub fn consistency_proof(leaves: &[Hash], size1: u64) -> Result<Vec<Hash>, ProofError> {
    let size2 = leaves.len() as u64;
    if size1 > size2 {
        return Err(ProofError::SizeDecreased { size1, size2 });
    }
    let mut out = Vec::new();
    if size1 > 0 && size1 < size2 {
        subproof(to_usize(size1)?, leaves, true, &mut out);
    }
    Ok(out)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root_from_leaves(leaves));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, out);
        out.push(root_from_leaves(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root_from_leaves(&leaves[..k]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    const MAX: u64 = 40;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    fn flip(h: &Hash) -> Hash {
        let mut h = *h;
        h[7] ^= 0x20;
        h
    }

    #[test]
    fn inclusion_every_position() {
        let all = leaves(MAX);
        let roots: Vec<Hash> = (0..=MAX)
            .map(|n| root_from_leaves(&all[..n as usize]))
            .collect();
        for size in 1..=MAX {
            let tree = &all[..size as usize];
            let root = root_from_leaves(tree);
            for index in 0..size {
                let leaf = tree[index as usize];
                let proof = inclusion_proof(tree, index).unwrap();
                verify_inclusion(index, size, &leaf, &proof, &root)
                    .unwrap_or_else(|e| panic!("index {index} size {size}: {e}"));

                // Any tampered proof hash.
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i]);
                    assert!(matches!(
                        verify_inclusion(index, size, &leaf, &bad, &root),
                        Err(ProofError::RootMismatch { .. })
                    ));
                }
                // Wrong leaf, wrong root.
                assert!(verify_inclusion(index, size, &flip(&leaf), &proof, &root).is_err());
                assert!(verify_inclusion(index, size, &leaf, &proof, &flip(&root)).is_err());
                // Wrong index: never accepted with the same proof.
                for other in 0..size {
                    if other != index {
                        assert!(verify_inclusion(other, size, &leaf, &proof, &root).is_err());
                    }
                }
                // Wrong size, with that size's genuine root: accepted only if
                // the genuine proof for that size is this very proof (the
                // proof alone cannot pin the size; the signed checkpoint does).
                for other in (index + 1)..=MAX {
                    if other == size {
                        continue;
                    }
                    let other_tree = &all[..other as usize];
                    let res = verify_inclusion(index, other, &leaf, &proof, &roots[other as usize]);
                    if inclusion_proof(other_tree, index).unwrap() != proof {
                        assert!(
                            res.is_err(),
                            "index {index}: proof for size {size} accepted for {other}"
                        );
                    }
                }
                // Extra or missing hashes.
                let mut longer = proof.clone();
                longer.push(root);
                assert!(matches!(
                    verify_inclusion(index, size, &leaf, &longer, &root),
                    Err(ProofError::WrongProofLength { .. })
                ));
                if !proof.is_empty() {
                    assert!(matches!(
                        verify_inclusion(index, size, &leaf, &proof[1..], &root),
                        Err(ProofError::WrongProofLength { .. })
                    ));
                }
            }
            assert_eq!(
                verify_inclusion(size, size, &all[0], &[], &root),
                Err(ProofError::IndexOutOfRange { index: size, size })
            );
        }
    }

    #[test]
    fn consistency_every_pair() {
        let all = leaves(MAX);
        let roots: Vec<Hash> = (0..=MAX)
            .map(|n| root_from_leaves(&all[..n as usize]))
            .collect();
        for size2 in 0..=MAX {
            let tree = &all[..size2 as usize];
            let root2 = roots[size2 as usize];
            for size1 in 0..=size2 {
                let root1 = roots[size1 as usize];
                let proof = consistency_proof(tree, size1).unwrap();
                verify_consistency(size1, size2, &root1, &root2, &proof)
                    .unwrap_or_else(|e| panic!("{size1} -> {size2}: {e}"));

                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i]);
                    assert!(
                        verify_consistency(size1, size2, &root1, &root2, &bad).is_err(),
                        "tampered hash {i} accepted for {size1} -> {size2}"
                    );
                }
                if size1 > 0 {
                    assert!(
                        verify_consistency(size1, size2, &flip(&root1), &root2, &proof).is_err()
                    );
                    assert!(
                        verify_consistency(size1, size2, &root1, &flip(&root2), &proof).is_err()
                    );
                }
                // Wrong sizes, with the genuine roots of those sizes: only
                // accepted where the genuine proof is this very proof.
                for other in 1..=MAX {
                    if other != size1 && other <= size2 && size1 > 0 {
                        let res = verify_consistency(
                            other,
                            size2,
                            &roots[other as usize],
                            &root2,
                            &proof,
                        );
                        if consistency_proof(tree, other).unwrap() != proof {
                            assert!(
                                res.is_err(),
                                "{size1} -> {size2} proof accepted as {other} -> {size2}"
                            );
                        }
                    }
                    if other != size2 && other >= size1 && size1 > 0 {
                        let res = verify_consistency(
                            size1,
                            other,
                            &root1,
                            &roots[other as usize],
                            &proof,
                        );
                        if consistency_proof(&all[..other as usize], size1).unwrap() != proof {
                            assert!(
                                res.is_err(),
                                "{size1} -> {size2} proof accepted as {size1} -> {other}"
                            );
                        }
                    }
                }
                let mut longer = proof.clone();
                longer.push(root1);
                assert!(verify_consistency(size1, size2, &root1, &root2, &longer).is_err());
            }
        }
        assert_eq!(
            verify_consistency(3, 2, &roots[3], &roots[2], &[]),
            Err(ProofError::SizeDecreased { size1: 3, size2: 2 })
        );
    }

    #[test]
    fn reference_roots_match_rfc_vectors() {
        // certificate-transparency-go test vectors: leaves are these byte strings.
        let data: [&[u8]; 8] = [
            &[],
            &[0x00],
            &[0x10],
            &[0x20, 0x21],
            &[0x30, 0x31],
            &[0x40, 0x41, 0x42, 0x43],
            &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            &[
                0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
                0x6e, 0x6f,
            ],
        ];
        let l: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
        assert_eq!(
            hex(&root_from_leaves(&l)),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );
        assert_eq!(
            hex(&root_from_leaves(&l[..3])),
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"
        );
        assert_eq!(hex(&root_from_leaves(&[])), hex(&EMPTY_ROOT));
    }

    #[test]
    fn reference_builders_reject_bad_input() {
        let l = leaves(3);
        assert_eq!(
            inclusion_proof(&l, 3),
            Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
        );
        assert_eq!(
            consistency_proof(&l, 4),
            Err(ProofError::SizeDecreased { size1: 4, size2: 3 })
        );
    }

    #[test]
    fn huge_sizes_do_not_overflow() {
        let leaf = leaf_hash(b"x");
        let proof = vec![leaf; 64];
        // index u64::MAX-1 in a tree of u64::MAX leaves: exact length check only.
        let r = root_from_inclusion_proof(u64::MAX - 1, u64::MAX, &leaf, &proof);
        assert!(matches!(r, Err(ProofError::WrongProofLength { .. })) || r.is_ok());
        let r = verify_consistency(u64::MAX - 2, u64::MAX, &leaf, &leaf, &proof);
        assert!(r.is_err());
        let r = verify_consistency(1, u64::MAX, &leaf, &leaf, &[leaf; 200]);
        assert!(matches!(r, Err(ProofError::WrongProofLength { .. })));
    }
}

//! The compact range `[0, n)` of an RFC 6962 tree: the roots of its
//! perfect subtrees, largest first. Appending leaves to it and folding it
//! gives the tree's root, so a monitor that reads every leaf can check the
//! tiles against the checkpoint without trusting the hash tiles.

use keyless_tlog::{node_hash, Hash};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (height, root), heights strictly decreasing.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    pub fn empty() -> Self {
        Self {
            size: 0,
            nodes: Vec::new(),
        }
    }

    /// From the subtree roots of `[0, size)`, largest first; `None` when
    /// their number does not match `size`'s set bits.
    pub fn from_roots(size: u64, roots: &[Hash]) -> Option<Self> {
        if roots.len() != size.count_ones() as usize {
            return None;
        }
        let heights = (0..64u32).rev().filter(|h| size & (1u64 << h) != 0);
        Some(Self {
            size,
            nodes: heights.zip(roots.iter().copied()).collect(),
        })
    }

    /// The `(start, end)` leaf ranges of the subtrees of `[0, size)`.
    pub fn ranges(size: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut start = 0;
        for h in (0..64u32).rev() {
            if size & (1u64 << h) != 0 {
                out.push((start, start + (1u64 << h)));
                start += 1u64 << h;
            }
        }
        out
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn roots(&self) -> Vec<Hash> {
        self.nodes.iter().map(|(_, h)| *h).collect()
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(h, left)) = self.nodes.last() {
            if h != node.0 {
                break;
            }
            self.nodes.pop();
            node = (h + 1, node_hash(&left, &node.1));
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The tree's root (`None` for the empty tree, whose root the caller
    /// compares against [`keyless_tlog::EMPTY_ROOT`]).
    pub fn root(&self) -> Option<Hash> {
        let mut it = self.nodes.iter().rev();
        let mut acc = it.next()?.1;
        for (_, left) in it {
            acc = node_hash(left, &acc);
        }
        Some(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_tlog::{leaf_hash, root_from_leaves};

    #[test]
    fn matches_the_reference_root_and_ranges() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut f = Frontier::empty();
        for n in 1..=70usize {
            f.push(leaves[n - 1]);
            assert_eq!(f.root(), Some(root_from_leaves(&leaves[..n])), "n={n}");
            let roots: Vec<Hash> = Frontier::ranges(n as u64)
                .into_iter()
                .map(|(a, b)| root_from_leaves(&leaves[a as usize..b as usize]))
                .collect();
            assert_eq!(Frontier::from_roots(n as u64, &roots).as_ref(), Some(&f));
        }
        assert!(Frontier::from_roots(3, &[leaves[0]]).is_none());
    }
}

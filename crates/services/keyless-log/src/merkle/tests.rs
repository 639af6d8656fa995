use std::cell::Cell;

use super::*;
use keyless_tlog::{consistency_proof, inclusion_proof, leaf_hash, root_from_leaves};

fn leaves(n: u32) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

/// Full tiles served from a copy of every leaf, as storage would; counts
/// reads so tests can see the tree really went to its tiles.
struct MemTiles {
    leaves: Vec<Hash>,
    reads: Cell<u64>,
}

impl TileSource for MemTiles {
    fn tile(&self, tile: u64) -> Result<Arc<TileNodes>, StorageError> {
        self.reads.set(self.reads.get() + 1);
        let lo = (tile * TILE_WIDTH) as usize;
        let bytes: Vec<u8> = self.leaves[lo..lo + TILE_WIDTH as usize]
            .iter()
            .flatten()
            .copied()
            .collect();
        Ok(Arc::new(
            TileNodes::from_tile_bytes(&bytes).expect("a full tile"),
        ))
    }
}

/// xorshift64*: deterministic "random" sizes and indices without a
/// dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

#[test]
fn matches_reference_for_every_small_size() {
    let leaves = leaves(70);
    let mut tree = MerkleTree::new();
    for l in &leaves {
        tree.push(*l);
    }
    for n in 0..=leaves.len() {
        let prefix = &leaves[..n];
        assert_eq!(
            tree.root(n as u64, &NoTiles).unwrap(),
            root_from_leaves(prefix),
            "root {n}"
        );
        for i in 0..n as u64 {
            assert_eq!(
                tree.inclusion_proof(i, n as u64, &NoTiles).unwrap(),
                inclusion_proof(prefix, i).unwrap()
            );
        }
        for m in 1..=n as u64 {
            assert_eq!(
                tree.consistency_proof(m, n as u64, &NoTiles).unwrap(),
                consistency_proof(prefix, m).unwrap()
            );
        }
    }
    assert!(tree.root(71, &NoTiles).is_err());
    assert!(tree.inclusion_proof(5, 5, &NoTiles).is_err());
    assert!(tree.consistency_proof(0, 5, &NoTiles).is_err());
    assert!(tree.consistency_proof(6, 5, &NoTiles).is_err());
}

#[test]
fn truncate_undoes_pushes() {
    let leaves = leaves(40);
    let mut tree = MerkleTree::new();
    for l in &leaves[..17] {
        tree.push(*l);
    }
    let root17 = tree.root(17, &NoTiles).unwrap();
    for l in &leaves[17..] {
        tree.push(*l);
    }
    tree.truncate(17);
    assert_eq!(tree.size(), 17);
    assert_eq!(tree.root(17, &NoTiles).unwrap(), root17);
    for l in &leaves[17..] {
        tree.push(*l);
    }
    assert_eq!(tree.root(40, &NoTiles).unwrap(), root_from_leaves(&leaves));
}

#[test]
fn tile_nodes_are_the_subtrees_of_the_tile() {
    let leaves = leaves(256);
    let bytes: Vec<u8> = leaves.iter().flatten().copied().collect();
    let nodes = TileNodes::from_tile_bytes(&bytes).unwrap();
    for h in 0..TILE_HEIGHT {
        let w = 1usize << h;
        for j in 0..(256 >> h) {
            assert_eq!(
                nodes.node(h, j as u64),
                Some(&root_from_leaves(&leaves[j * w..(j + 1) * w])),
                "height {h} node {j}"
            );
        }
    }
    assert!(nodes.node(8, 0).is_none());
    assert!(nodes.node(0, 256).is_none());
    assert!(TileNodes::from_tile_bytes(&bytes[..32 * 255]).is_none());
}

/// The tile-backed tree against the reference for random sizes (tile
/// aligned or not), random leaves and random older sizes, with tiles
/// dropped after "commits" of random lengths and after a rebuild from
/// tiles (what recovery does).
#[test]
fn tile_backed_tree_matches_reference_for_random_sizes() {
    let all = leaves(3000);
    let src = MemTiles {
        leaves: all.clone(),
        reads: Cell::new(0),
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut tree = MerkleTree::new();
    let mut durable = 0u64;
    let check = |tree: &MerkleTree, rng: &mut Rng| {
        let size = tree.size();
        for _ in 0..12 {
            let n = 1 + rng.below(size);
            let prefix = &all[..n as usize];
            assert_eq!(
                tree.root(n, &src).unwrap(),
                root_from_leaves(prefix),
                "root {n}"
            );
            let i = rng.below(n);
            assert_eq!(
                tree.inclusion_proof(i, n, &src).unwrap(),
                inclusion_proof(prefix, i).unwrap(),
                "inclusion of {i} in {n}"
            );
            let m = 1 + rng.below(n);
            assert_eq!(
                tree.consistency_proof(m, n, &src).unwrap(),
                consistency_proof(prefix, m).unwrap(),
                "consistency {m} -> {n}"
            );
            assert_eq!(tree.leaf(i, &src).unwrap(), all[i as usize]);
        }
    };
    while tree.size() < all.len() as u64 {
        // A batch is sequenced (pushed) and only later made durable.
        let batch = 1 + rng.below(700).min(all.len() as u64 - tree.size() - 1);
        for _ in 0..batch {
            tree.push(all[tree.size() as usize]);
        }
        check(&tree, &mut rng);
        let dropped = tree.drop_durable(durable);
        for (t, nodes) in dropped {
            assert_eq!(*nodes, *src.tile(t).unwrap(), "dropped tile {t}");
        }
        durable = tree.size();
        check(&tree, &mut rng);
        // Recovery: upper nodes and the partial tile only.
        let size = tree.size();
        let h8: Vec<Hash> = (0..size / 256)
            .map(|i| root_from_leaves(&all[i as usize * 256..(i as usize + 1) * 256]))
            .collect();
        let partial = &all[(size / 256 * 256) as usize..size as usize];
        let rebuilt = MerkleTree::from_tiles(size, &h8, partial).unwrap();
        check(&rebuilt, &mut rng);
        assert_eq!(rebuilt.level_len(0), size);
        assert_eq!(rebuilt.level_len(8), size / 256);
    }
    assert!(src.reads.get() > 0, "proofs went to the tiles");
    // Only the partial tile's lower nodes stay in memory.
    tree.drop_durable(tree.size());
    assert!(tree.levels[0].len() < 256);
    assert!(MerkleTree::from_tiles(300, &[], &[]).is_none());
}

#[test]
fn truncate_never_undoes_durable_tiles() {
    let all = leaves(600);
    let src = MemTiles {
        leaves: all.clone(),
        reads: Cell::new(0),
    };
    let mut tree = MerkleTree::new();
    for l in &all[..520] {
        tree.push(*l);
    }
    tree.drop_durable(520);
    for l in &all[520..] {
        tree.push(*l);
    }
    tree.truncate(530);
    assert_eq!(tree.size(), 530);
    assert_eq!(tree.root(530, &src).unwrap(), root_from_leaves(&all[..530]));
    tree.truncate(10);
    assert_eq!(tree.size(), 512, "clamped to the durable tiles");
    for l in &all[512..] {
        tree.push(*l);
    }
    assert_eq!(tree.root(600, &src).unwrap(), root_from_leaves(&all));
}

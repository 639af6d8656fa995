//! The log core knows no personality and reaches no storage driver
//! (file-level, through any chain of imports). That no crate of the
//! workspace has a file-level import cycle at all is keyless-testkit's
//! tests/import_cycles.rs; the graph is `keyless_testkit::imports`.

use std::fs;
use std::path::Path;

use keyless_testkit::imports::{code_only, edges, reachable};

/// The log core knows no personality (the CT log will be a second one on
/// the same core): the crate depends neither on `keyless-rekor` nor on
/// `keyless-types` (where Rekor's entry bodies are defined), none of its
/// files names them, and it has no entry kinds, search or HTTP API.
#[test]
fn the_core_knows_no_personality() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = fs::read_to_string(here.join("Cargo.toml")).expect("Cargo.toml");
    for dep in ["keyless-rekor", "keyless-types", "axum"] {
        assert!(!manifest.contains(dep), "the core depends on {dep}");
    }
    let src = here.join("src");
    let graph = edges(&src);
    assert!(graph.len() > 10, "{} holds too few files", src.display());
    for file in graph.keys() {
        let rel = file
            .strip_prefix(&src)
            .unwrap_or(file)
            .display()
            .to_string();
        assert!(
            !(rel.starts_with("entries/") || rel.starts_with("api/") || rel == "search.rs"),
            "personality file {rel} in the core"
        );
        let code = code_only(&fs::read_to_string(file).expect("source"));
        for name in ["keyless_rekor", "keyless_types", "EntryBody"] {
            assert!(!code.contains(name), "core file {rel} names {name}");
        }
    }
}

/// Nor a storage driver (the caller picks the driver): none of the core's
/// files reaches, through any chain of imports, the driver chooser or the
/// files / PostgreSQL drivers.
#[test]
fn the_core_reaches_no_driver() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = edges(&src);
    let core = [
        "log.rs",
        "shared.rs",
        "sequencer.rs",
        "recover.rs",
        "dedup.rs",
        "merkle.rs",
        "index.rs",
        "tile_cache.rs",
        "signer.rs",
        "types.rs",
        "locks.rs",
        "storage/mod.rs",
    ];
    let outside = |p: &Path| {
        let rel = p
            .strip_prefix(&src)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned();
        rel == "drivers.rs" || rel == "storage/files.rs" || rel == "storage/postgres.rs"
    };
    for file in core {
        let path = src.join(file);
        assert!(graph.contains_key(&path), "core file {file} is missing");
        let bad: Vec<String> = reachable(&graph, &path)
            .iter()
            .filter(|p| outside(p))
            .map(|p| p.strip_prefix(&src).unwrap_or(p).display().to_string())
            .collect();
        assert!(bad.is_empty(), "core file {file} reaches {bad:?}");
    }
}

//! No crate of the workspace has a file-level import cycle: every library
//! and binary source tree under `crates/<layer>/<crate>/src` is checked
//! (the graph and the checker are `keyless_testkit::imports`). keyless-log's
//! own tests/import_cycles.rs adds the core's stricter rules (no
//! personality, no driver reached from a core file). There are no
//! exceptions: every crate must be acyclic.

use std::fs;
use std::path::{Path, PathBuf};

use keyless_testkit::imports::{edges, find_cycle};

/// Every `crates/<layer>/<crate>/src` directory of the workspace.
fn crate_sources() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for layer in fs::read_dir(&crates).expect("crates/").flatten() {
        for krate in fs::read_dir(layer.path()).into_iter().flatten().flatten() {
            let src = krate.path().join("src");
            if src.is_dir() && krate.path().join("Cargo.toml").is_file() {
                out.push(src);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn no_crate_has_a_file_level_import_cycle() {
    let sources = crate_sources();
    assert!(
        sources.len() >= 20,
        "found only {} crates: wrong directory?",
        sources.len()
    );
    let mut checked = 0;
    let mut cycles = Vec::new();
    for src in &sources {
        let name = src
            .parent()
            .and_then(|c| c.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let graph = edges(src);
        checked += 1;
        if let Some(cycle) = find_cycle(&graph) {
            let files: Vec<String> = cycle
                .iter()
                .map(|p| p.strip_prefix(src).unwrap_or(p).display().to_string())
                .collect();
            cycles.push(format!("{name}: {}", files.join(" -> ")));
        }
    }
    assert!(
        cycles.is_empty(),
        "file-level import cycles:\n{}",
        cycles.join("\n")
    );
    assert!(checked >= 20, "only {checked} crates checked");
}

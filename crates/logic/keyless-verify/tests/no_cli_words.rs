//! The verifier is a library: its errors say what failed, and the command
//! line that uses it decides which flag to suggest. A flag name inside the
//! library would be wrong for every other caller (the conformance client,
//! `verify-bundles`, a program embedding the crate).

use std::path::Path;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn library_sources_name_no_command_line_flag() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(
        files.len() > 5,
        "found the crate's sources in {}",
        src.display()
    );
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            // A long option inside a string literal: `"… --flag …"`.
            let in_string = code.split('"').skip(1).step_by(2).any(|lit| {
                lit.split_whitespace().any(|w| {
                    w.starts_with("--") && w[2..].starts_with(|c: char| c.is_ascii_lowercase())
                })
            });
            if in_string {
                found.push(format!("{}:{}: {}", file.display(), n + 1, code));
            }
        }
    }
    assert!(
        found.is_empty(),
        "command-line flags in keyless-verify's messages:\n{}",
        found.join("\n")
    );
}

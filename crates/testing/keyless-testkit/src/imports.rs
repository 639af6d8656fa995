//! File-level import graphs of a crate, for the tests that keep every
//! crate free of import cycles (a file-level cycle is how the log core once
//! came to know the Rekor personality and its storage drivers: the old
//! `state.rs` ⇄ `sequencer.rs` ⇄ `storage/*` ⇄ `index.rs` loop). Std only:
//! every `crate::…`, `super::…`, `self::…` path (in `use` lines and inline)
//! and every `use child::…` of a child module is resolved to the file that
//! defines the module it names. `mod x;` declarations are not imports.
//! Inline `mod name { … }` blocks (unit tests) are followed by their braces
//! so that their `super` resolves to the file's own module.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module path (`["storage", "files"]`) of each `.rs` file under `src`,
/// except `bin/` (each binary is a crate of its own).
pub fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<Vec<String>, PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if prefix.is_empty() && name == "bin" {
                    continue;
                }
                let mut next = prefix.to_vec();
                next.push(name);
                walk(&p, &next, out);
            } else if let Some(stem) = name.strip_suffix(".rs") {
                let mut module = prefix.to_vec();
                if !(stem == "mod" || (prefix.is_empty() && stem == "lib")) {
                    module.push(stem.to_string());
                }
                out.insert(module, p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, &[], &mut out);
    out
}

/// The source without comments and string literals (their contents could
/// look like paths or braces).
pub fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '{' (lifetimes have no closing quote).
            i += 3;
            out.push_str("' '");
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            i += 2;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expand a use tree (`a::{b, c::d}`) into its paths.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree);
        return vec![path
            .split("::")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()];
    };
    let prefix: Vec<String> = tree[..open]
        .split("::")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let mut out = Vec::new();
    for part in parts.into_iter().filter(|p| !p.trim().is_empty()) {
        for rest in expand(part) {
            let mut path = prefix.clone();
            path.extend(rest.into_iter().filter(|s| s != "self"));
            out.push(path);
        }
    }
    out
}

/// The file a path names from module `at`: the longest prefix of the
/// resolved path that is a module with a file.
fn resolve(
    path: &[String],
    at: &[String],
    mods: &BTreeMap<Vec<String>, PathBuf>,
    reexports: &Reexports,
) -> Option<PathBuf> {
    let mut segs = path.iter().peekable();
    let mut base: Vec<String> = match segs.peek().map(|s| s.as_str()) {
        Some("crate") => {
            segs.next();
            vec![]
        }
        Some("self") => {
            segs.next();
            at.to_vec()
        }
        Some("super") => at.to_vec(),
        Some(first) => {
            // `use child::…` names a child module; anything else is an
            // external crate or a local item.
            let mut child = at.to_vec();
            child.push(first.to_string());
            if !mods.contains_key(&child) {
                return None;
            }
            at.to_vec()
        }
        None => return None,
    };
    while segs.peek().map(|s| s.as_str()) == Some("super") {
        segs.next();
        base.pop()?;
    }
    let mut best = base.clone();
    let mut item = None;
    for s in segs {
        base.push(s.clone());
        if mods.contains_key(&base) {
            best = base.clone();
        } else {
            item = Some(s.clone());
            break;
        }
    }
    // An inline module resolves to the file that holds it.
    while !mods.contains_key(&best) {
        best.pop()?;
    }
    // A name the module only re-exports (`pub use error::Error;` in
    // lib.rs) is the defining file's: naming `crate::Error` depends on
    // error.rs, not on the code of lib.rs.
    if let Some(target) = item.and_then(|name| reexports.get(&(best.clone(), name))) {
        return Some(target.clone());
    }
    mods.get(&best).cloned()
}

/// The names each module re-exports (`pub use path::Name;`), as
/// (module, name) → the file the path resolves to.
type Reexports = BTreeMap<(Vec<String>, String), PathBuf>;

/// Every `pub use` / `pub(crate) use` of every module, resolved one hop
/// (aliases and glob re-exports are left out: a name they export still
/// resolves to the re-exporting file, which can only add edges).
fn reexports(mods: &BTreeMap<Vec<String>, PathBuf>) -> Reexports {
    let none = Reexports::new();
    let mut out = Reexports::new();
    for (module, file) in mods {
        let code = code_only(&fs::read_to_string(file).expect("read source file"));
        for prefix in ["pub use ", "pub(crate) use "] {
            for (at, _) in code.match_indices(prefix) {
                let start = at + prefix.len();
                let end = code[start..].find(';').map_or(code.len(), |e| start + e);
                let stmt = &code[start..end];
                if stmt.contains(" as ") || stmt.contains('*') {
                    continue;
                }
                for path in expand(stmt) {
                    let Some(name) = path.last().cloned() else {
                        continue;
                    };
                    if let Some(target) = resolve(&path, module, mods, &none) {
                        if &target != file {
                            out.insert((module.clone(), name), target);
                        }
                    }
                }
            }
        }
    }
    out
}

/// Every file each file imports.
pub fn edges(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mods = modules(src);
    let reexports = reexports(&mods);
    let mut graph = BTreeMap::new();
    for (module, file) in &mods {
        let code = code_only(&fs::read_to_string(file).expect("read source file"));
        let mut out = BTreeSet::new();
        // Inline `mod name {` blocks, as (brace depth, name).
        let mut inline: Vec<(usize, String)> = Vec::new();
        let mut depth = 0usize;
        let mut pending_mod: Option<String> = None;
        let chars: Vec<char> = code.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let at_word = i == 0 || !is_ident(chars[i - 1]);
            if c == '{' {
                depth += 1;
                if let Some(name) = pending_mod.take() {
                    inline.push((depth, name));
                }
            } else if c == '}' {
                if inline.last().is_some_and(|(d, _)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            } else if c == ';' {
                pending_mod = None;
            }
            let here: Vec<String> = module
                .iter()
                .cloned()
                .chain(inline.iter().map(|(_, n)| n.clone()))
                .collect();
            let rest: String = chars[i..chars.len().min(i + 200)].iter().collect();
            if at_word && rest.starts_with("mod ") {
                let name: String = rest[4..]
                    .trim_start()
                    .chars()
                    .take_while(|c| is_ident(*c))
                    .collect();
                pending_mod = Some(name);
            }
            if at_word && rest.starts_with("use ") {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == ';')
                    .map_or(chars.len(), |p| i + p);
                let stmt: String = chars[i + 4..end].iter().collect();
                for path in expand(&stmt) {
                    if let Some(f) = resolve(&path, &here, &mods, &reexports) {
                        out.insert(f);
                    }
                }
                i = end;
                continue;
            }
            // `child::item` inline: a child module named without `use`.
            let preceded_by_path = i >= 2 && chars[i - 1] == ':' && chars[i - 2] == ':';
            if at_word && !preceded_by_path && is_ident(c) {
                let word: String = rest.chars().take_while(|c| is_ident(*c)).collect();
                if rest[word.len()..].starts_with("::")
                    && !["crate", "super", "self"].contains(&word.as_str())
                {
                    let mut child = here.clone();
                    child.push(word.clone());
                    if let Some(f) = mods.get(&child) {
                        out.insert(f.clone());
                    }
                }
            }
            // `pub(in crate::a)` is a visibility, not an import.
            let visibility = i >= 3 && chars[i - 3..i].iter().collect::<String>() == "in ";
            if at_word
                && !visibility
                && (rest.starts_with("crate::")
                    || rest.starts_with("super::")
                    || rest.starts_with("self::"))
            {
                let path: String = rest
                    .chars()
                    .take_while(|c| is_ident(*c) || *c == ':')
                    .collect();
                let segs: Vec<String> = path
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if let Some(f) = resolve(&segs, &here, &mods, &reexports) {
                    out.insert(f);
                }
                i += path.len();
                continue;
            }
            i += 1;
        }
        out.remove(file);
        graph.insert(file.clone(), out);
    }
    graph
}

/// One cycle of the graph, if it has any, as the files along it.
pub fn find_cycle(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        n: &PathBuf,
        graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        state: &mut BTreeMap<PathBuf, u8>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, graph, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

/// Panics, naming the files along it, when the crate whose `src` is
/// given has a file-level import cycle.
pub fn assert_acyclic(src: &Path) {
    let graph = edges(src);
    assert!(
        graph.len() > 3,
        "{} holds too few files: wrong directory?",
        src.display()
    );
    if let Some(cycle) = find_cycle(&graph) {
        let names: Vec<String> = cycle
            .iter()
            .map(|p| p.strip_prefix(src).unwrap_or(p).display().to_string())
            .collect();
        panic!(
            "file-level import cycle in {}: {}",
            src.display(),
            names.join(" -> ")
        );
    }
}

/// Every file a file reaches through imports, itself excluded.
pub fn reachable(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>, from: &Path) -> BTreeSet<PathBuf> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<PathBuf> = graph.get(from).into_iter().flatten().cloned().collect();
    while let Some(n) = todo.pop() {
        if seen.insert(n.clone()) {
            todo.extend(graph.get(&n).into_iter().flatten().cloned());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checker itself finds a cycle through a parent module, a `super`
    /// path, inline paths and a braced use tree, and ignores `mod x;`,
    /// comments and an inline test module's `use super::*`.
    #[test]
    fn checker_finds_cycles_and_ignores_declarations() {
        let dir =
            std::env::temp_dir().join(format!("keyless-testkit-cycles-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("a")).expect("temp dir");
        let write = |p: &str, s: &str| fs::write(dir.join(p), s).expect("write");
        write(
            "lib.rs",
            "pub mod a;\npub mod b;\npub mod c;\n// use crate::c::X;\n",
        );
        write(
            "a/mod.rs",
            "mod inner;\npub struct A;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        );
        write("a/inner.rs", "use super::A;\n");
        write("b.rs", "use crate::{a::A, c};\npub struct B;\n");
        write("c.rs", "pub fn f() { let _ = \"crate::b::B\"; }\n");
        assert!(find_cycle(&edges(&dir)).is_none(), "{:?}", edges(&dir));
        write("c.rs", "pub fn f() -> crate::b::B { crate::b::B }\n");
        let cycle = find_cycle(&edges(&dir)).expect("b -> c -> b is a cycle");
        assert_eq!(cycle.len(), 3, "{cycle:?}");
        write("c.rs", "");
        write(
            "a/mod.rs",
            "mod inner;\npub struct A;\nfn g() { inner::h() }\n",
        );
        write("a/inner.rs", "use super::A;\npub fn h() {}\n");
        // `inner::h()` names the child module inline: a cycle as much as a `use`.
        assert!(
            find_cycle(&edges(&dir)).is_some(),
            "a/mod.rs <-> a/inner.rs by an inline path"
        );
        write("a/mod.rs", "mod inner;\npub struct A;\n");
        assert!(
            find_cycle(&edges(&dir)).is_none(),
            "`mod inner;` alone is no import"
        );
        write("a/mod.rs", "mod inner;\nuse inner::h;\npub struct A;\n");
        assert!(
            find_cycle(&edges(&dir)).is_some(),
            "a/mod.rs <-> a/inner.rs"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    /// `use crate::Error;` of a name lib.rs only re-exports depends on the
    /// defining file, so lib.rs re-exporting the user is no cycle; a name
    /// lib.rs defines itself still is one.
    #[test]
    fn reexported_names_resolve_to_their_defining_file() {
        let dir =
            std::env::temp_dir().join(format!("keyless-testkit-reexp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        let write = |p: &str, s: &str| fs::write(dir.join(p), s).expect("write");
        write(
            "lib.rs",
            "pub mod a;\npub mod e;\npub use a::A;\npub use e::Error;\n",
        );
        write("e.rs", "pub struct Error;\n");
        write("a.rs", "use crate::Error;\npub struct A;\n");
        assert!(find_cycle(&edges(&dir)).is_none(), "{:?}", edges(&dir));
        write(
            "lib.rs",
            "pub mod a;\npub mod e;\npub use a::A;\npub struct Error;\n",
        );
        assert!(find_cycle(&edges(&dir)).is_some(), "a.rs <-> lib.rs");
        let _ = fs::remove_dir_all(&dir);
    }
}

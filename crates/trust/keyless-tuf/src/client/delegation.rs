//! Which delegated roles may speak for a target path (specification §4.5
//! "DELEGATIONS": `paths`, `path_hash_prefixes`; TAP 15 `succinct_roles`),
//! used by the preorder depth-first search of §5.6.7.

use crate::metadata::{DelegatedRole, SuccinctRoles};

/// §4.5: a role is trusted for `target` when one of its `paths` patterns
/// matches it, or the hex SHA-256 of the target path starts with one of its
/// `path_hash_prefixes`. A role with neither is trusted for nothing.
pub fn is_delegated_path(role: &DelegatedRole, target: &str) -> bool {
    if let Some(paths) = &role.paths {
        return paths.iter().any(|p| path_pattern_matches(p, target));
    }
    if let Some(prefixes) = &role.path_hash_prefixes {
        let h = keyless_crypto::sha256_hex(target.as_bytes());
        return prefixes.iter().any(|p| h.starts_with(p.as_str()));
    }
    false
}

/// §4.5 "PATHPATTERN": shell-style wildcards where `*` does not match `/`.
/// The pattern and the path must have the same number of `/`-separated
/// segments, and each segment must match (python-tuf's reading).
pub fn path_pattern_matches(pattern: &str, target: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let t: Vec<&str> = target.split('/').collect();
    p.len() == t.len() && p.iter().zip(&t).all(|(p, t)| fnmatch(p, t))
}

/// fnmatch for one segment: `*`, `?`, `[seq]`, `[!seq]`.
fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches_from(&p, &n)
}

fn matches_from(p: &[char], n: &[char]) -> bool {
    // Iterative matcher with backtracking for the last `*`.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(&p[pi..], n[ni]) {
                        if matched {
                            pi += next;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        // Unclosed bracket: literal.
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Match `c` against a `[...]` class at the start of `p`. Returns whether it
/// matched and the class's length, or `None` if the bracket is not closed.
fn class_match(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut matched = false;
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some((matched != negate, i + 1));
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// TAP 15: the hash bin responsible for `target`: the first `bit_length`
/// bits of SHA-256(target), named `{name_prefix}-{bin}` with the bin in
/// lower-case hex, zero-padded to `ceil(bit_length / 4)` digits.
pub fn succinct_role_for(s: &SuccinctRoles, target: &str) -> String {
    let h = keyless_crypto::sha256(target.as_bytes());
    let first = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let bits = s.bit_length.clamp(1, 32);
    let bin = if bits == 32 {
        first
    } else {
        first >> (32 - bits)
    };
    let width = bits.div_ceil(4) as usize;
    format!("{}-{:0width$x}", s.name_prefix, bin, width = width)
}

/// True when `role` is one of the bins of `s`.
pub fn is_succinct_role(s: &SuccinctRoles, role: &str) -> bool {
    let Some(suffix) = role
        .strip_prefix(s.name_prefix.as_str())
        .and_then(|r| r.strip_prefix('-'))
    else {
        return false;
    };
    let bits = s.bit_length.clamp(1, 32);
    let width = bits.div_ceil(4) as usize;
    suffix.len() == width
        && u64::from_str_radix(suffix, 16).is_ok_and(|b| b < (1u64 << bits))
        && suffix.chars().all(|c| !c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn patterns() {
        assert!(path_pattern_matches("*", "a.txt"));
        assert!(!path_pattern_matches("*", "dir/a.txt"));
        assert!(path_pattern_matches("dir/*.txt", "dir/a.txt"));
        assert!(!path_pattern_matches("dir/*.txt", "dir/a.tgz"));
        assert!(path_pattern_matches("dir/?.txt", "dir/a.txt"));
        assert!(path_pattern_matches("f[0-9].bin", "f7.bin"));
        assert!(!path_pattern_matches("f[!0-9].bin", "f7.bin"));
        assert!(path_pattern_matches("a*b*c", "aXXbYYc"));
        assert!(!path_pattern_matches("a*b*c", "aXXbYY"));
        assert!(path_pattern_matches("targets/*/file", "targets/x/file"));
        assert!(path_pattern_matches("exact", "exact"));
        assert!(!path_pattern_matches("exact", "exactly"));
    }

    #[test]
    fn hash_prefixes() {
        let h = keyless_crypto::sha256_hex(b"file.txt");
        let role = DelegatedRole {
            name: "r".into(),
            keyids: vec![],
            threshold: 1,
            terminating: false,
            paths: None,
            path_hash_prefixes: Some(vec![h[..4].to_string()]),
            extra: BTreeMap::new(),
        };
        assert!(is_delegated_path(&role, "file.txt"));
        assert!(!is_delegated_path(&role, "other.txt"));
    }

    #[test]
    fn succinct_bins() {
        let s = SuccinctRoles {
            keyids: vec![],
            threshold: 1,
            bit_length: 8,
            name_prefix: "bin".into(),
            extra: BTreeMap::new(),
        };
        let h = keyless_crypto::sha256(b"x");
        assert_eq!(succinct_role_for(&s, "x"), format!("bin-{:02x}", h[0]));
        assert!(is_succinct_role(&s, "bin-ff"));
        assert!(!is_succinct_role(&s, "bin-1ff"));
        assert!(!is_succinct_role(&s, "other-00"));
    }
}

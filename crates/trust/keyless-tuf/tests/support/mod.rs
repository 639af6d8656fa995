//! Shared by keyless-tuf's test files.

/// The error and its causes, outermost first, joined with ": " (what `{:#}`
/// of anyhow prints), after checking that no cause is printed twice: no
/// segment contains a later one (so no two segments are equal either).
pub fn chain_once(e: &dyn std::error::Error) -> String {
    let mut segs = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        segs.push(c.to_string());
        cur = c.source();
    }
    for (i, s) in segs.iter().enumerate() {
        for later in &segs[i + 1..] {
            assert!(
                !s.contains(later.as_str()),
                "{s:?} repeats its cause {later:?}"
            );
        }
    }
    segs.join(": ")
}

//! The explorer page on the CA's CT log (`GET /` of the CA): the
//! checkpoint verified with the CT key of the CA's trusted root, and the
//! latest certificates decoded, each leaf checked against the tree's
//! hash tile; an entry by index; not-found and malformed queries.

use std::path::Path;

use serde_json::json;

use crate::browser::Browser;
use crate::support::http_get;

pub fn check_ct_pages(b: &Browser, ca: &str, shots: &Path) {
    let note = http_get(&format!("{ca}/ct/checkpoint"));
    let size: u64 = note
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("no size in {note:?}"));
    assert!(size >= 4, "four certificates were issued: {note}");

    b.open(&format!("{ca}/"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    let cp = b.text_of("checkpoint");
    assert!(cp.contains("keyless-ct/"), "{cp}");
    assert!(cp.contains(&format!("Tree size{size}")), "{cp}");
    let latest = b.text_of("latest");
    for who in [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
    ] {
        assert!(latest.contains(who), "{who} not in {latest}");
    }
    let rows = b.script(
        "return [...document.querySelectorAll('#latest tbody tr')].map(r => r.lastChild.textContent)",
        json!([]),
    );
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len() as u64, size.min(10), "{latest}");
    assert!(
        rows.iter().all(|r| r == "\u{2713}"),
        "every leaf is the tree's: {rows:?}"
    );
    // Newest first: dave's attestation certificate was the last issued.
    let first = b.script(
        "return document.querySelector('#latest tbody tr td.identity').textContent",
        json!([]),
    );
    assert_eq!(first, "dave@example.com", "{latest}");
    b.screenshot(shots, "ct-overview.png");

    // The first certificate: alice's, a precertificate entry.
    b.open(&format!("{ca}/?logIndex={}", size - 4));
    assert_eq!(
        b.text_of("identity"),
        "alice@example.com",
        "{}",
        b.page_text()
    );
    let page = b.page_text();
    for needle in ["precert", "Issuer (V2)", "matches the tree's hash tile"] {
        assert!(
            page.contains(needle),
            "{needle:?} not on the CT entry page:\n{page}"
        );
    }
    b.screenshot(shots, "ct-entry.png");

    b.open(&format!("{ca}/?logIndex={}", size + 100));
    assert!(
        b.text_of("error").contains("Not found"),
        "{}",
        b.page_text()
    );
    b.open(&format!("{ca}/?logIndex=x"));
    assert!(
        b.text_of("error").contains("Malformed query"),
        "{}",
        b.page_text()
    );
}

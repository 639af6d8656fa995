//! The explorer page on the CA's CT log (`GET /` of the CA): the
//! checkpoint verified with the CT key of the CA's trusted root, and the
//! latest certificates decoded, each leaf checked against the tree's
//! hash tile and proven into the checkpoint's root through the tiles (and
//! flagged when a proxy alters it); an entry by index; not-found and
//! malformed queries.

use std::path::Path;

use serde_json::json;

use crate::browser::Browser;
use crate::proxy::tampering_proxy;
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
    // The origin is the CA's URL without its scheme (static-ct-api).
    let origin = ca.split_once("://").map_or(ca, |(_, rest)| rest);
    assert!(cp.contains(origin), "{cp}");
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
        rows.iter().all(|r| r == "\u{2713} proven"),
        "every leaf is proven into the checkpoint: {rows:?}"
    );
    let check = b.text_of("tree-check");
    assert!(
        check.starts_with("\u{2713} the hash tiles lead to the checkpoint root"),
        "{check}"
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
    for needle in [
        "precert",
        "Issuer (V2)",
        "matches the tree's hash tile",
        "proven (the hash tiles lead to the checkpoint root)",
    ] {
        assert!(
            page.contains(needle),
            "{needle:?} not on the CT entry page:\n{page}"
        );
    }
    b.screenshot(shots, "ct-entry.png");

    // Through a proxy that alters a byte of the newest leaf in its entry
    // bundle: that leaf no longer hashes to the tree's, the others stand.
    let proxy = tampering_proxy(ca.to_string());
    b.open(&format!("{proxy}/"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    let rows = b.script(
        "return [...document.querySelectorAll('#latest tbody tr')].map(r => r.lastChild.textContent)",
        json!([]),
    );
    let rows = rows.as_array().expect("rows");
    assert_eq!(
        rows[0], "\u{2717} leaf hash differs from the tree",
        "{rows:?}"
    );
    assert!(rows[1..].iter().all(|r| r == "\u{2713} proven"), "{rows:?}");
    b.screenshot(shots, "ct-tampered.png");

    check_root_from_tiles(b);

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

/// The page's root-from-tiles computation on synthetic trees served by a
/// stand-in `fetch`: sizes within one tile, at tile boundaries, and with
/// three levels of tiles, each against the RFC 6962 root computed leaf by
/// leaf; a tree with one altered level-1 hash does not match.
fn check_root_from_tiles(b: &Browser) {
    let out = b.script_async(
        r#"const done = arguments[arguments.length - 1];
        (async () => {
          const app = await import('/explorer/app.js');
          const ct = await import('/explorer/ct.js');
          const results = [];
          const real = window.fetch;
          try {
            for (const [n, alter] of [[1, false], [5, false], [256, false], [257, false], [600, false],
                                      [65536, false], [66309, false], [66309, true]]) {
              const leaves = Array.from({ length: n }, () => crypto.getRandomValues(new Uint8Array(32)));
              const memo = new Map();
              const mth = async (lo, k) => {
                if (k === 1) return leaves[lo];
                const key = lo + ':' + k;
                if (memo.has(key)) return memo.get(key);
                let s = 1; while (s * 2 < k) s *= 2;
                const h = await app.nodeHash(await mth(lo, s), await mth(lo + s, k - s));
                memo.set(key, h);
                return h;
              };
              const root = await mth(0, n);
              window.fetch = async (path) => {
                const m = /^\/ct\/tile\/([0-9])\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([0-9]+))?$/.exec(path);
                if (!m) return new Response('', { status: 404 });
                const level = Number(m[1]), t = Number(m[2].replace(/x/g, '').replace(/\//g, ''));
                const w = m[3] ? Number(m[3]) : 256, span = 256 ** level;
                const out = new Uint8Array(32 * w);
                for (let j = 0; j < w; j++) {
                  const node = t * 256 + j;
                  out.set(level === 0 ? leaves[node] : await mth(node * span, span), 32 * j);
                }
                if (alter && level === 1) out[0] ^= 1;
                return new Response(out);
              };
              const got = await ct.rootFromTiles(n);
              results.push(n + (alter ? ' altered' : '') + ': ' + (app.hex(got.root) === app.hex(root) ? 'match' : 'differ'));
            }
          } finally { window.fetch = real; }
          return results;
        })().then(done, (e) => done({ error: String(e) }));"#,
        json!([]),
    );
    assert_eq!(
        out,
        json!([
            "1: match",
            "5: match",
            "256: match",
            "257: match",
            "600: match",
            "65536: match",
            "66309: match",
            "66309 altered: differ"
        ]),
        "{out}"
    );
}

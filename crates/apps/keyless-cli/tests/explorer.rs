//! The log explorer page in a real browser: `keyless server --dev`, a
//! signed blob, then headless Chromium driven through chromedriver
//! (WebDriver over HTTP/JSON) through the overview, the entry view with
//! its decoded identity and the in-browser "verified" badge, searches, a
//! not-found and a malformed query, and a tampered entry (served by a
//! proxy in this test that flips a byte of the body) that must show
//! "not verified", search by e-mail; then the CA's CT log page and a log
//! with a witness whose cosignature the page verifies (and flags when a
//! proxy alters it). Screenshots go to target/explorer-screenshots/.
//!
//! Needs Debian's `chromium` and `chromium-driver`
//! (scripts/ci/install-chromium.sh). Without them the test says why and
//! passes, except under CI=true where it fails.

#[path = "explorer/browser.rs"]
mod browser;
#[path = "explorer/ct.rs"]
mod ct;
#[path = "explorer/proxy.rs"]
mod proxy;
mod support;
#[path = "explorer/witness.rs"]
mod witness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use browser::{find, Browser};
use proxy::tampering_proxy;
use serde_json::{json, Value};
use support::*;

/// First-load budget of the page (HTML + script + stylesheet), bytes.
const FIRST_LOAD_BUDGET: u64 = 150 * 1024;

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(keyless_crypto::sha256(data))
}

#[test]
fn explorer_in_headless_chromium() {
    let (chromium, chromedriver) = match (find("chromium"), find("chromedriver")) {
        (Some(c), Some(d)) => (c, d),
        missing => {
            let why = format!(
                "SKIPPED explorer browser test: chromium {} and chromedriver {} \
                 (run scripts/ci/install-chromium.sh)",
                if missing.0.is_some() {
                    "found"
                } else {
                    "MISSING"
                },
                if missing.1.is_some() {
                    "found"
                } else {
                    "MISSING"
                },
            );
            // Straight to stderr: the test harness captures eprintln!.
            let _ = writeln!(std::io::stderr(), "{why}");
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
            return;
        }
    };
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../target/explorer-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");

    let dir = temp_dir("explorer");
    let stack = DevStack::start(&dir, free_base_port());
    let issuer = stack.url("oidcIssuer");
    let log = stack.url("logUrl");
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"explorer test artifact\n").unwrap();
    let digest = hex_sha256(b"explorer test artifact\n");
    let token = stack.token("alice@example.com");
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
        .arg(dir.join("artifact.sigstore.json"))
        .arg(&artifact));
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let index: u64 = out
        .split("tlog entry created with index: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no log index in {out}"));
    // The log serves the page, so sign-blob links the entry to it.
    let link = format!("View the entry in the transparency log explorer: {log}/?logIndex={index}");
    assert!(out.contains(&link), "no `{link}` in {out}");
    // Two more entries, so the inclusion proofs the page checks are more
    // than a single leaf (index 0 of 3: two hashes; index 2: the last).
    for (i, who) in ["bob@example.com", "carol@example.com"].iter().enumerate() {
        let more = dir.join(format!("more-{i}.txt"));
        std::fs::write(&more, format!("more {i}\n")).unwrap();
        let token = stack.token(who);
        let o = run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
            .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
            .arg(dir.join(format!("more-{i}.sigstore.json")))
            .arg(&more));
        assert!(o.status.success(), "{}", text(&o));
    }
    let last = index + 2;
    // An in-toto attestation about the artifact (a DSSE entry) by dave.
    let predicate = dir.join("predicate.json");
    std::fs::write(&predicate, br#"{"builder":"test"}"#).unwrap();
    let token = stack.token("dave@example.com");
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args([
            "attest-blob",
            "--yes",
            "--rekor-version",
            "1",
            "--rekor-url",
            &log,
            "--identity-token",
            &token,
        ])
        .args(["--type", "https://example.com/p", "--predicate"])
        .arg(&predicate)
        .arg("--bundle")
        .arg(dir.join("attestation.sigstore.json"))
        .arg(&artifact));
    assert!(o.status.success(), "attest-blob: {}", text(&o));
    let dsse = index + 3;

    // Page weight, as the server sends it.
    let assets: usize = ["/", "/explorer/app.js", "/explorer/app.css"]
        .iter()
        .map(|p| http_get(&format!("{log}{p}")).len())
        .sum();
    assert!(assets > 1000, "the assets are served ({assets} bytes)");

    let b = Browser::start(&chromium, &chromedriver);

    // Overview: the first load, measured by the browser.
    b.open(&format!("{log}/"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    let cp = b.text_of("checkpoint");
    assert!(
        cp.contains(log.trim_start_matches("http://")),
        "origin in {cp}"
    );
    let latest = b.text_of("latest");
    assert!(latest.contains("hashedrekord 0.0."), "{latest}");
    assert!(latest.contains("page 1 of 1"), "{latest}");
    let rows = b.script(
        "return document.querySelectorAll('#latest tbody tr').length",
        json!([]),
    );
    assert_eq!(rows, json!(4), "{latest}");
    // Entries per hour: an inline SVG whose bars count the four entries.
    let chart = b.script(
        "const c = document.querySelector('#latest svg#hour-chart'); \
         if (!c) return null; \
         const bars = [...c.querySelectorAll('rect.bar')]; \
         return [bars.length, bars.reduce((s, r) => s + Number(r.dataset.count), 0), \
                 bars.filter(r => r.getBoundingClientRect().height > 0).length];",
        json!([]),
    );
    assert!(chart.is_array(), "no entries-per-hour chart: {latest}");
    assert!(chart[0].as_u64().unwrap_or(0) >= 1, "{chart}");
    assert_eq!(chart[1], json!(4), "bars count every entry: {chart}");
    assert!(
        chart[2].as_u64().unwrap_or(0) >= 1,
        "a bar is drawn: {chart}"
    );
    assert!(cp.contains("Tree size4"), "{cp}");
    let transferred = b.script(
        "const n = performance.getEntriesByType('navigation')[0]; \
         const r = performance.getEntriesByType('resource').filter(e => e.name.includes('/explorer/app.')); \
         return [n.transferSize, n.encodedBodySize, r.length, \
                 r.reduce((s, e) => s + e.transferSize, 0), r.reduce((s, e) => s + e.encodedBodySize, 0)];",
        json!([]),
    );
    let t: Vec<u64> = transferred
        .as_array()
        .expect("sizes")
        .iter()
        .map(|v| v.as_f64().unwrap_or(0.0) as u64)
        .collect();
    assert_eq!(t[2], 2, "script and stylesheet loaded: {transferred}");
    let first_load = t[0] + t[3];
    eprintln!(
        "explorer first load: {first_load} bytes transferred (bodies {} bytes; assets as served {assets} bytes)",
        t[1] + t[4]
    );
    assert!(
        t[1] + t[4] > 1000,
        "the browser reports real sizes: {transferred}"
    );
    assert!(
        first_load <= FIRST_LOAD_BUDGET,
        "first load {first_load} > {FIRST_LOAD_BUDGET}"
    );
    b.screenshot(&shots, "overview.png");

    // The entry by index: decoded identity and the in-browser verdict.
    b.open(&format!("{log}/?logIndex={index}"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    assert_eq!(b.text_of("identity"), "alice@example.com");
    assert_eq!(b.text_of("digest"), format!("sha256:{digest}"));
    let page = b.page_text();
    for needle in [
        "hashedrekord 0.0.",
        "Issuer (V2)",
        issuer.as_str(),
        "Embedded SCT",
    ] {
        assert!(
            page.contains(needle),
            "{needle:?} not on the entry page:\n{page}"
        );
    }
    // A section the view leaves out is not printed as "null".
    assert!(
        !page.lines().any(|l| l.trim() == "null"),
        "a null section on the entry page:\n{page}"
    );
    let render_ms: u64 = b
        .script("return document.body.dataset.renderMs", json!([]))
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("render time");
    eprintln!("explorer entry view: rendered {render_ms} ms after the log answered");
    assert!(render_ms < 300, "entry view took {render_ms} ms");
    b.screenshot(&shots, "entry.png");
    b.open(&format!("{log}/?logIndex={last}"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    assert_eq!(b.text_of("identity"), "carol@example.com");
    assert!(b.text_of("verification").contains("at size 4"));
    b.open(&format!("{log}/?logIndex={dsse}"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    assert_eq!(b.text_of("identity"), "dave@example.com");
    let page = b.page_text();
    assert!(page.contains("dsse 0.0."), "{page}");
    // A dsse 0.0.1 body names only the payload and envelope hashes, so the
    // page says the statement is not in the log instead of showing one.
    let st = b.text_of("statement");
    assert!(
        st.contains("In-toto statement") && st.contains("only the payload hash"),
        "{st}"
    );
    b.screenshot(&shots, "entry-dsse.png");
    // An intoto 0.0.2 body that still carries its payload (as older Rekor
    // stored it): the log's decoder reads the statement and the page's
    // view lists subjects, predicate type and the predicate in <details>.
    let stmt = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact.txt", "digest": {"sha256": digest}}],
        "predicateType": "https://example.com/p",
        "predicate": {"builder": "test"},
    });
    let b64 = |s: &[u8]| keyless_types::b64::encode(s);
    let intoto = json!({
        "apiVersion": "0.0.2", "kind": "intoto",
        "spec": {"content": {
            "envelope": {
                "payload": b64(b64(stmt.to_string().as_bytes()).as_bytes()),
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"publicKey": b64(b"not a key"), "sig": b64(b"MEUC")}],
            },
            "payloadHash": {"algorithm": "sha256", "value": "cd".repeat(32)},
        }},
    });
    let view = b.script_async(
        r#"const [body, done] = arguments;
        import('/explorer/app.js').then(async (m) => {
          const d = await (await fetch('/explorer/api/decode', { method: 'POST', body })).json();
          const s = m.statementSection(d);
          document.getElementById('main').append(s);
          const det = s.querySelector('details');
          done({ text: s.textContent, open: det.open, pred: s.querySelector('#predicate').textContent,
                 type: s.querySelector('#predicate-type').textContent, rows: s.querySelectorAll('tbody tr').length });
        }, (e) => done({ error: String(e) })).catch((e) => done({ error: String(e) }));"#,
        json!([b64(intoto.to_string().as_bytes())]),
    );
    assert_eq!(view["type"], "https://example.com/p", "{view}");
    assert_eq!(view["rows"], json!(1), "{view}");
    let shown = view["text"].as_str().unwrap_or_default();
    assert!(
        shown.contains("artifact.txt") && shown.contains(&format!("sha256:{digest}")),
        "{view}"
    );
    assert_eq!(view["open"], json!(false), "the predicate is collapsed");
    assert!(
        view["pred"]
            .as_str()
            .unwrap_or_default()
            .contains("\n  \"builder\": \"test\""),
        "{view}"
    );

    // The module's ECDSA signature conversion, on crafted DER.
    let der = b.script_async(
        r#"const done = arguments[arguments.length - 1];
        import('/explorer/app.js').then((m) => {
          const h = (s) => Uint8Array.from(s.match(/../g).map((x) => parseInt(x, 16)));
          const x = (b) => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
          const r = '80' + '01'.repeat(31);
          const out = { ok: x(m.derToRawEcdsa(h('3026' + '022100' + r + '020105'), 32)), bad: [] };
          for (const d of ['3026022100' + r + '02010500', '3006020180020101', '300702020001020101',
                           '3025022101' + '01'.repeat(32) + '020101', '3106020101020101', '30060201010201']) {
            try { m.derToRawEcdsa(h(d), 32); out.bad.push('accepted ' + d); } catch (e) { out.bad.push('ok'); }
          }
          done(out);
        }, (e) => done({ error: String(e) }));"#,
        json!([]),
    );
    assert_eq!(
        der["ok"],
        format!(
            "{}{}05",
            "80".to_string() + &"01".repeat(31),
            "00".repeat(31)
        ),
        "{der}"
    );
    assert_eq!(der["bad"], json!(vec!["ok"; 6]), "{der}");

    // Search by hash finds the signature and the attestation about the
    // artifact; the first link (log order) opens the blob's entry by UUID.
    b.open(&format!("{log}/?hash=sha256:{digest}"));
    let results = b.text_of("results");
    assert!(results.contains("2 entries match"), "{results}");
    let uuid = b
        .script(
            "return document.querySelector('#results a').textContent",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        uuid.len() == 64 && uuid.chars().all(|c| c.is_ascii_hexdigit()),
        "no UUID in {results}"
    );
    b.screenshot(&shots, "search-hash.png");
    b.open(&format!("{log}/?uuid={uuid}"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());

    // Search by signer: alice's certificate, pasted into the one-line
    // search box (which drops the PEM's line breaks), becomes a
    // `publicKey=` deep link and finds her one entry.
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(dir.join("artifact.sigstore.json")).expect("bundle"))
            .expect("bundle JSON");
    let der_b64 = bundle["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .expect("certificate in the bundle");
    let wrapped: Vec<String> = der_b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let pasted = format!(
        "-----BEGIN CERTIFICATE----- {} -----END CERTIFICATE-----",
        wrapped.join(" ")
    );
    let url =
        reqwest::Url::parse_with_params(&format!("{log}/"), [("q", &pasted)]).expect("search URL");
    b.open(url.as_str());
    let results = b.text_of("results");
    assert!(
        results.contains("1 entry match") && results.contains("that certificate"),
        "{results}"
    );
    let search = b.script("return location.search", json!([]));
    assert!(
        search
            .as_str()
            .unwrap_or_default()
            .starts_with("?publicKey="),
        "{search}"
    );
    b.screenshot(&shots, "search-key.png");
    let href = b.script(
        "return document.querySelector('#results a').href",
        json!([]),
    );
    b.open(href.as_str().expect("result link"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    assert_eq!(b.text_of("identity"), "alice@example.com");
    b.open(&format!("{log}/?publicKey=bm90IGEga2V5"));
    assert!(
        b.text_of("error").contains("Malformed query"),
        "{}",
        b.page_text()
    );

    // The search box routes free text to the deep links.
    b.open(&format!("{log}/?q={index}"));
    assert_eq!(b.text_of("badge"), "verified");
    assert!(b
        .script("return location.search", json!([]))
        .as_str()
        .unwrap_or_default()
        .contains("logIndex="));

    // Not found and malformed queries.
    b.open(&format!("{log}/?logIndex=999999"));
    assert!(
        b.text_of("error").contains("Not found"),
        "{}",
        b.page_text()
    );
    b.screenshot(&shots, "not-found.png");
    b.open(&format!("{log}/?hash=sha256:{}", "0".repeat(64)));
    assert!(
        b.text_of("error").contains("No entries match"),
        "{}",
        b.page_text()
    );
    b.open(&format!("{log}/?logIndex=abc"));
    assert!(
        b.text_of("error").contains("Malformed query"),
        "{}",
        b.page_text()
    );
    b.open(&format!("{log}/?email=nobody@example.com"));
    assert!(
        b.text_of("error")
            .contains("No entries match identity nobody@example.com"),
        "{}",
        b.page_text()
    );
    b.open(&format!("{log}/?email=not-an-address"));
    assert!(
        b.text_of("error").contains("Malformed query"),
        "{}",
        b.page_text()
    );

    // Search by e-mail (the certificate's SAN): the deep link finds
    // alice's one entry, whose page shows her identity, verified.
    b.open(&format!("{log}/?email=alice@example.com"));
    let results = b.text_of("results");
    assert!(
        results.contains("1 entry matches identity alice@example.com"),
        "{results}"
    );
    b.screenshot(&shots, "search-email.png");
    let href = b.script(
        "return document.querySelector('#results a').href",
        json!([]),
    );
    b.open(href.as_str().expect("result link"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    assert_eq!(b.text_of("identity"), "alice@example.com");
    assert_eq!(b.text_of("digest"), format!("sha256:{digest}"));
    // Typed into the search box, in another case: dave's attestation (a
    // dsse entry, indexed by its certificate's SAN too).
    b.open(&format!("{log}/?q=Dave%40Example.com"));
    let results = b.text_of("results");
    assert!(results.contains("1 entry matches"), "{results}");
    assert!(b
        .script("return location.search", json!([]))
        .as_str()
        .unwrap_or_default()
        .starts_with("?email="));
    b.open(
        b.script(
            "return document.querySelector('#results a').href",
            json!([]),
        )
        .as_str()
        .expect("result link"),
    );
    assert_eq!(b.text_of("identity"), "dave@example.com");
    assert!(b.page_text().contains("dsse 0.0."), "{}", b.page_text());

    // A tampered entry is flagged.
    let proxy = tampering_proxy(log.clone());
    b.open(&format!("{proxy}/?logIndex={index}"));
    assert_eq!(b.text_of("badge"), "not verified", "{}", b.page_text());
    let v = b.text_of("verification");
    assert!(v.contains("leaf hash") && v.contains("differs"), "{v}");
    b.screenshot(&shots, "tampered.png");

    // Phone width: nothing wider than the viewport.
    b.session_call(
        reqwest::Method::POST,
        "/window/rect",
        Some(json!({"width": 390, "height": 844})),
    );
    b.open(&format!("{log}/?logIndex={index}"));
    assert_eq!(b.text_of("badge"), "verified");
    let overflow = b.script(
        "const w = document.documentElement.clientWidth; \
         const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1) \
           .map(e => e.tagName + '.' + e.className).slice(0, 5); \
         return [document.documentElement.scrollWidth - w, wide];",
        json!([]),
    );
    assert!(
        overflow[0].as_i64().unwrap_or(1) <= 0,
        "page overflows a phone width by {overflow}px"
    );
    b.screenshot(&shots, "entry-phone.png");
    b.open(&format!("{log}/"));
    assert_eq!(b.text_of("badge"), "verified");
    let overflow = b.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        json!([]),
    );
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "overview overflows a phone width by {overflow}px"
    );
    b.screenshot(&shots, "overview-phone.png");
    b.session_call(
        reqwest::Method::POST,
        "/window/rect",
        Some(json!({"width": 1200, "height": 1000})),
    );

    // The CA's CT log: its page, with the four certificates issued above.
    ct::check_ct_pages(&b, &stack.url("caUrl"), &shots);
    // A log with a witness: the overview verifies its cosignature.
    witness::check_cosignatures(&b, &dir, &shots);

    drop(b);
    stack.stop();
}

/// `keyless server log` serves the page and its assets at `/` with the
/// strict policy, next to its API (no browser needed).
#[test]
fn served_by_keyless_server_log() {
    let dir = temp_dir("explorer-server-log");
    let port = free_base_port();
    let mut child = keyless()
        .args([
            "server",
            "log",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyless server log");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http_ok(&format!("{base}/checkpoint")) {
        assert!(
            Instant::now() < deadline,
            "keyless server log never answered"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let head_and_body = |path: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    let page = head_and_body("/");
    assert!(page.starts_with("HTTP/1.0 200"), "{page}");
    let lower = page.to_ascii_lowercase();
    assert!(
        lower.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{page}"
    );
    assert!(page.contains(r#"<script type="module" src="/explorer/app.js"></script>"#));
    for asset in ["/explorer/app.js", "/explorer/app.css"] {
        let r = head_and_body(asset);
        assert!(r.starts_with("HTTP/1.0 200"), "{asset}: {r}");
    }
    // The API is still there, and unknown paths still get its JSON 404.
    assert!(head_and_body("/api/v1/log").contains("\"treeSize\""));
    assert!(head_and_body("/nope").starts_with("HTTP/1.0 404"));
    let _ = child.kill();
    let _ = child.wait();
}

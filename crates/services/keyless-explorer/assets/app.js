// keyless log explorer. Plain ES module, no dependencies, no HTML parsing:
// everything the log returns is untrusted and goes into the page as text.
//
// Verification (all in this browser, WebCrypto only):
//  1. leaf hash = SHA-256(0x00 || body), which must equal the entry UUID;
//  2. the RFC 6962 / RFC 9162 inclusion proof from that leaf must give the
//     root hash of the checkpoint the log returned with the entry;
//  3. that checkpoint (a C2SP signed note) must carry a valid signature by
//     the log key (ECDSA P-256 or Ed25519), and name the same size and root.
// Any failure, or any check that cannot run, shows "not verified".
//
// The overview also verifies witness cosignatures (cosignature/v1,
// Ed25519) with the witness keys the log is configured with
// (/explorer/api/witnesses). On a CA's CT log (<body data-log="ct">) the
// page is ct.js's, which reuses the exports of this module.

const PAGE_SIZE = 10;
const main = document.getElementById("main");
const enc = new TextEncoder();

// ---------------------------------------------------------------- DOM

export function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) n.setAttribute(k, v);
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined) continue;
    n.append(typeof k === "string" || typeof k === "number" ? String(k) : k);
  }
  return n;
}

export function show(...nodes) {
  // A view leaves out a section as null; replaceChildren would print it.
  main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined));
}

export function fields(pairs) {
  return el("dl", {}, pairs.filter((p) => p[1] !== undefined && p[1] !== null && p[1] !== "")
    .map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

export function errorBox(title, message) {
  return el("section", { class: "error", id: "error", role: "alert" },
    el("h2", {}, title), el("p", {}, message));
}

export function link(params, text) {
  return el("a", { href: "/?" + new URLSearchParams(params).toString() }, text);
}

export function time(sec) {
  if (typeof sec !== "number" || !Number.isFinite(sec)) return "";
  return new Date(sec * 1000).toISOString().replace(".000Z", "Z");
}

// ---------------------------------------------------------------- bytes

export function b64decode(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(s) {
  if (typeof s !== "string" || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new Error("not hex: " + String(s).slice(0, 20));
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// ---------------------------------------------------------------- HTTP

const MAX_RESPONSE = 4 * 1024 * 1024;

export async function api(path, init) {
  const resp = await fetch(path, init);
  // Refuse a declared oversized answer before reading it; a chunked one is
  // checked after.
  if (Number(resp.headers.get("Content-Length") || "0") > MAX_RESPONSE) {
    throw new Error("response from " + path + " is too large");
  }
  const text = await resp.text();
  if (text.length > MAX_RESPONSE) throw new Error("response from " + path + " is too large");
  let body = text;
  try { body = JSON.parse(text); } catch (_) { /* plain text (PEM, checkpoint) */ }
  if (!resp.ok) {
    const msg = body && typeof body === "object" && body.message ? body.message : String(text).slice(0, 300);
    const err = new Error(msg);
    err.status = resp.status;
    throw err;
  }
  return body;
}

// ---------------------------------------------------------------- RFC 6962

export async function leafHash(body) {
  return sha256(concat(new Uint8Array([0]), body));
}

export async function nodeHash(l, r) {
  return sha256(concat(new Uint8Array([1]), l, r));
}

/** The root an inclusion proof leads to (RFC 9162 section 2.1.3.2). */
export async function rootFromInclusion(index, size, leaf, proof) {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    throw new Error("index " + index + " is not in a tree of size " + size);
  }
  if (proof.length > 64) throw new Error("inclusion proof is too long");
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (p.length !== 32) throw new Error("proof hash is not 32 bytes");
    if (sn === 0) throw new Error("inclusion proof is too long for the tree");
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("inclusion proof is too short for the tree");
  return r;
}

// ---------------------------------------------------------------- signed notes

/** Split a C2SP signed note into its text, body fields and signature lines. */
export function parseCheckpoint(note) {
  if (typeof note !== "string" || note.length > 64 * 1024) throw new Error("no checkpoint");
  const cut = note.indexOf("\n\n");
  if (cut < 0) throw new Error("checkpoint has no signature block");
  const text = note.slice(0, cut + 1);
  const lines = text.split("\n");
  const size = /^[0-9]{1,16}$/.test(lines[1] || "") ? Number(lines[1]) : NaN;
  if (!lines[0] || !Number.isSafeInteger(size)) throw new Error("checkpoint body is malformed");
  const root = b64decode(lines[2] || "");
  if (root.length !== 32) throw new Error("checkpoint root is not 32 bytes");
  const sigs = [];
  for (const line of note.slice(cut + 2).split("\n")) {
    if (line === "") continue;
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error("malformed signature line");
    const raw = b64decode(m[2]);
    if (raw.length < 5) throw new Error("signature line too short");
    sigs.push({ name: m[1], hint: raw.slice(0, 4), sig: raw.slice(4) });
  }
  return { text, origin: lines[0], size, root, sigs };
}

function pemToDer(pem) {
  const m = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!m) throw new Error("log public key is not a PEM public key");
  return b64decode(m[1].replace(/\s+/g, ""));
}

/** Read one DER length at `i`; returns [length, next offset]. */
function derLen(b, i) {
  if (i >= b.length) throw new Error("truncated DER");
  const first = b[i];
  if (first < 0x80) return [first, i + 1];
  const n = first & 0x7f;
  if (n === 0 || n > 2 || i + n >= b.length) throw new Error("bad DER length");
  let len = 0;
  for (let k = 1; k <= n; k++) len = len * 256 + b[i + k];
  if (len < 0x80) throw new Error("non-minimal DER length");
  return [len, i + 1 + n];
}

/**
 * ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (DER) to the fixed
 * r || s form WebCrypto wants: each integer is stripped of its sign byte
 * and left-padded to the curve size. Anything else is rejected.
 */
export function derToRawEcdsa(der, size) {
  if (der[0] !== 0x30) throw new Error("ECDSA signature is not a DER SEQUENCE");
  let [seqLen, i] = derLen(der, 1);
  if (i + seqLen !== der.length) throw new Error("ECDSA signature has trailing bytes");
  const out = new Uint8Array(2 * size);
  for (let k = 0; k < 2; k++) {
    if (der[i] !== 0x02) throw new Error("ECDSA signature value is not an INTEGER");
    const [len, start] = derLen(der, i + 1);
    let v = der.slice(start, start + len);
    if (v.length !== len || len === 0) throw new Error("truncated ECDSA integer");
    if (v[0] & 0x80) throw new Error("negative ECDSA integer");
    if (v.length > 1 && v[0] === 0 && !(v[1] & 0x80)) throw new Error("non-minimal ECDSA integer");
    if (v[0] === 0) v = v.slice(1);
    if (v.length > size) throw new Error("ECDSA integer larger than the curve");
    out.set(v, k * size + size - v.length);
    i = start + len;
  }
  if (i !== der.length) throw new Error("ECDSA signature has trailing bytes");
  return out;
}

const ED25519_PREFIX = unhex("302a300506032b6570032100");

/** The log key from its PEM, with the note key hint rules of keyless-tlog. */
async function importLogKey(pem) {
  return importSpkiKey(pemToDer(pem), pem.trim());
}

/** The log key from its DER SPKI (`pem` is what the page shows of it). */
export async function importSpkiKey(spki, pem) {
  const keyId = await sha256(spki);
  try {
    const key = await crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    // ECDSA: key ID = SHA-256(SPKI), matched by hint whatever the name.
    return { alg: "ECDSA P-256", key, keyId, pem, hint: () => keyId.slice(0, 4), anyName: true };
  } catch (_) { /* not P-256 */ }
  if (spki.length === 44 && equal(spki.slice(0, 12), ED25519_PREFIX)) {
    const key = await crypto.subtle.importKey("spki", spki, { name: "Ed25519" }, false, ["verify"]);
    const raw = spki.slice(12);
    return {
      alg: "Ed25519", key, keyId, pem, anyName: false,
      hint: async (name) => (await sha256(concat(enc.encode(name + "\n"), new Uint8Array([1]), raw))).slice(0, 4),
    };
  }
  throw new Error("log key is neither ECDSA P-256 nor Ed25519");
}

export async function verifyNote(cp, logKey) {
  const msg = enc.encode(cp.text);
  let tried = 0;
  for (const s of cp.sigs) {
    if (!logKey.anyName && s.name !== cp.origin) continue;
    if (!equal(s.hint, await logKey.hint(s.name))) continue;
    tried++;
    let ok = false;
    try {
      if (logKey.alg === "Ed25519") {
        ok = await crypto.subtle.verify({ name: "Ed25519" }, logKey.key, s.sig, msg);
      } else {
        ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, logKey.key, derToRawEcdsa(s.sig, 32), msg);
      }
    } catch (_) { ok = false; }
    if (ok) return true;
  }
  throw new Error(tried ? "checkpoint signature is invalid" : "no checkpoint signature by the log key");
}

let logKeyPromise = null;
function logKey() {
  if (!logKeyPromise) logKeyPromise = api("/api/v1/log/publicKey").then(importLogKey);
  return logKeyPromise;
}

/** Run every check on a v1 entry; returns [{name, ok, detail}]. */
async function verifyEntry(uuid, entry) {
  const checks = [];
  const run = async (name, fn) => {
    try { checks.push({ name, ok: true, detail: await fn() }); return true; } catch (e) {
      checks.push({ name, ok: false, detail: e.message }); return false;
    }
  };
  const proof = entry.verification && entry.verification.inclusionProof;
  let leaf, root, cp;
  await run("leaf hash matches the entry UUID", async () => {
    leaf = await leafHash(b64decode(entry.body));
    if (hex(leaf) !== String(uuid).slice(-64).toLowerCase()) throw new Error("leaf hash " + hex(leaf) + " differs");
    return hex(leaf);
  });
  await run("inclusion proof leads to the checkpoint root", async () => {
    if (!proof || !leaf) throw new Error("no inclusion proof");
    cp = parseCheckpoint(proof.checkpoint);
    root = await rootFromInclusion(entry.logIndex, proof.treeSize, leaf, proof.hashes.map(unhex));
    if (cp.size !== proof.treeSize) throw new Error("checkpoint size differs from the proof's tree size");
    if (!equal(root, cp.root)) throw new Error("computed root " + hex(root) + " is not the checkpoint root");
    return "root " + hex(root) + " at size " + cp.size;
  });
  await run("checkpoint signed by the log key", async () => {
    if (!cp) cp = parseCheckpoint(proof && proof.checkpoint);
    const k = await logKey();
    await verifyNote(cp, k);
    return k.alg + " key " + hex(k.keyId);
  });
  return checks;
}

export function badge(ok) {
  return el("span", { id: "badge", class: "badge " + (ok ? "ok" : "bad") }, ok ? "verified" : "not verified");
}

function checkList(checks) {
  return el("ul", { class: "checks" }, checks.map((c) =>
    el("li", { class: c.ok ? "" : "fail" }, (c.ok ? "\u2713 " : "\u2717 ") + c.name + ": ", el("span", { class: "mono" }, c.detail || ""))));
}

// ---------------------------------------------------------------- views

function bodyHeader(b64) {
  try {
    const v = JSON.parse(new TextDecoder().decode(b64decode(b64)));
    return (v.kind || "?") + " " + (v.apiVersion || "");
  } catch (_) { return "unreadable body"; }
}

async function overview(page) {
  // The tlog-tiles checkpoint carries witness cosignatures when the log has
  // witnesses; a log without it still answers the v1 tree head.
  let note;
  try {
    note = await api("/checkpoint");
    if (typeof note !== "string") throw new Error("not a checkpoint");
  } catch (_) {
    note = (await api("/api/v1/log")).signedTreeHead;
  }
  const cp = parseCheckpoint(note);
  let verdict;
  try {
    const k = await logKey();
    await verifyNote(cp, k);
    verdict = [badge(true), el("p", { class: "muted" }, "Checkpoint signed by " + k.alg + " key ", el("code", { id: "key-id" }, hex(k.keyId))),
      el("details", {}, el("summary", {}, "Log public key"), el("pre", {}, k.pem))];
  } catch (e) {
    verdict = [badge(false), el("p", {}, e.message)];
  }
  // Other signature lines: witness cosignatures, verified with the keys
  // of the witnesses the log is configured with; any other line is
  // listed by name and key hint, unchecked.
  let others = [];
  try {
    const k = await logKey();
    for (const s of cp.sigs) {
      const mine = (k.anyName || s.name === cp.origin) && equal(s.hint, await k.hint(s.name));
      if (!mine) others.push(s);
    }
  } catch (_) { /* the verdict above already says why */ }
  const cosigned = await cosignatureSection(cp, others);
  if (cosigned) verdict.push(cosigned);
  const size = cp.size;
  const pages = Math.max(1, Math.ceil(size / PAGE_SIZE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const top = size - 1 - p * PAGE_SIZE;
  const idx = [];
  for (let i = top; i >= 0 && i > top - PAGE_SIZE; i--) idx.push(i);
  const times = [];
  const rows = await Promise.all(idx.map(async (i) => {
    try {
      const r = await api("/api/v1/log/entries?logIndex=" + i);
      const [uuid, e] = Object.entries(r)[0];
      times.push(e.integratedTime);
      return el("tr", {}, el("td", {}, link({ logIndex: i }, String(i))), el("td", {}, bodyHeader(e.body)),
        el("td", { class: "hide-narrow" }, time(e.integratedTime)), el("td", { class: "mono hide-narrow" }, uuid.slice(0, 16) + "…"));
    } catch (e) {
      return el("tr", {}, el("td", {}, String(i)), el("td", { colspan: "3" }, e.message));
    }
  }));
  const pager = el("nav", { class: "pager", "aria-label": "pages" },
    p > 0 ? link({ page: p - 1 }, "\u2190 newer") : null,
    el("span", { class: "muted" }, "page " + (p + 1) + " of " + pages),
    p < pages - 1 ? link({ page: p + 1 }, "older \u2192") : null);
  show(
    el("h1", {}, "Log overview"),
    el("section", { id: "checkpoint" }, el("h2", {}, "Current checkpoint"),
      fields([["Origin", cp.origin], ["Tree size", String(size)], ["Root hash", el("code", {}, hex(cp.root))]]),
      ...verdict,
      el("details", {}, el("summary", {}, "Signed checkpoint"), el("pre", {}, note))),
    el("section", { id: "latest" }, el("h2", {}, "Latest entries"),
      hourChart(times),
      size === 0 ? el("p", { class: "muted" }, "The log is empty.") :
        el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Index"), el("th", {}, "Kind"),
          el("th", { class: "hide-narrow" }, "Integrated"), el("th", { class: "hide-narrow" }, "UUID"))), el("tbody", {}, rows)),
      pager));
}

// ---------------------------------------------------------------- witnesses

/**
 * A C2SP vkey of a cosignature/v1 witness key, `name+hex(id)+base64(0x04
 * || Ed25519 key)`, checked: the key ID must be SHA-256(name || "\n" ||
 * 0x04 || key)[:4].
 */
export async function parseWitnessVkey(vkey) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(String(vkey));
  if (!m) throw new Error("malformed witness vkey");
  const raw = b64decode(m[3]);
  if (raw.length !== 33 || raw[0] !== 0x04) throw new Error("not a cosignature/v1 Ed25519 vkey");
  const id = (await sha256(concat(enc.encode(m[1] + "\n"), raw))).slice(0, 4);
  if (hex(id) !== m[2]) throw new Error("vkey key ID does not match its key");
  const key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
  return { name: m[1], id, key };
}

/**
 * Verify a cosignature line by witness `w` over checkpoint `cp`: the
 * line carries an 8-byte big-endian timestamp and an Ed25519 signature of
 * "cosignature/v1\ntime <t>\n" followed by the checkpoint body. Returns
 * the timestamp (seconds).
 */
export async function verifyCosignature(cp, line, w) {
  if (line.name !== w.name || !equal(line.hint, w.id)) throw new Error("not this witness's line");
  if (line.sig.length !== 72) throw new Error("cosignature is not 8 + 64 bytes");
  let t = 0;
  for (let i = 0; i < 8; i++) t = t * 256 + line.sig[i];
  if (!Number.isSafeInteger(t)) throw new Error("cosignature time out of range");
  const msg = enc.encode("cosignature/v1\ntime " + t + "\n" + cp.text);
  if (!await crypto.subtle.verify({ name: "Ed25519" }, w.key, line.sig.slice(8), msg)) {
    throw new Error("cosignature does not verify");
  }
  return t;
}

/**
 * The checkpoint's witness cosignatures, each configured witness checked
 * (verified, invalid, or missing), and any other line listed unchecked;
 * null when the log has no witnesses and the note no other lines.
 */
async function cosignatureSection(cp, others) {
  let configured = [];
  try {
    const r = await api("/explorer/api/witnesses");
    configured = Array.isArray(r && r.witnesses) ? r.witnesses.slice(0, 32) : [];
  } catch (e) {
    if (e.status !== 404) configured = [{ vkey: null, error: e.message }];
  }
  if (configured.length === 0 && others.length === 0) return null;
  const rows = [];
  const used = new Set();
  let good = 0;
  for (const c of configured) {
    let w;
    try { w = await parseWitnessVkey(c.vkey); } catch (e) {
      rows.push(el("li", { class: "fail" }, "\u2717 " + String(c.name || "witness") + ": " + (c.error || e.message)));
      continue;
    }
    let result = "no cosignature on this checkpoint", ok = false;
    for (const line of others) {
      if (line.name !== w.name || !equal(line.hint, w.id)) continue;
      used.add(line);
      try {
        const t = await verifyCosignature(cp, line, w);
        result = "cosigned at " + time(t); ok = true; break;
      } catch (e) { result = e.message; }
    }
    if (ok) good++;
    rows.push(el("li", { class: ok ? "" : "fail", "data-witness": w.name },
      (ok ? "\u2713 " : "\u2717 ") + w.name + ": " + result + " (key ", el("code", {}, hex(w.id)), ")"));
  }
  for (const line of others) {
    if (!used.has(line)) rows.push(el("li", {}, "? " + line.name + " (key hint " + hex(line.hint) + "): not a witness this log names, not checked"));
  }
  const summary = configured.length
    ? good + " of " + configured.length + " witness" + (configured.length === 1 ? "" : "es") + " cosigned this checkpoint"
    : "Other signatures, not checked here";
  return el("div", { id: "cosignatures" }, el("h3", {}, "Witness cosignatures"),
    el("p", { id: "cosigned", "data-good": good, "data-configured": configured.length }, summary),
    el("ul", { class: "checks" }, rows));
}

const SVG = "http://www.w3.org/2000/svg";
const CHART_HOURS = 24;

function svg(tag, attrs, ...kids) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
  n.append(...kids);
  return n;
}

/**
 * Entries per hour among the listed entries, as an SVG bar chart built
 * with DOM calls (no inline script or style, which the CSP refuses):
 * one bar per UTC hour from the oldest listed entry's hour to the newest,
 * at most the last CHART_HOURS hours.
 */
export function hourChart(times) {
  const hours = times.filter((t) => Number.isSafeInteger(t) && t > 0).map((t) => Math.floor(t / 3600));
  if (hours.length === 0) return null;
  const last = Math.max(...hours);
  const first = Math.max(Math.min(...hours), last - CHART_HOURS + 1);
  const counts = new Array(last - first + 1).fill(0);
  for (const h of hours) if (h >= first) counts[h - first]++;
  const max = Math.max(...counts);
  const bw = 16, gap = 4, ch = 60, base = ch + 16;
  const w = counts.length * (bw + gap) + gap;
  const label = counts.length + " hour" + (counts.length === 1 ? "" : "s") + " (UTC) of the latest " + hours.length +
    " entries, most in one hour: " + max;
  const chart = svg("svg", { id: "hour-chart", class: "chart", viewBox: "0 0 " + w + " " + (base + 14), width: w,
    height: base + 14, role: "img", "aria-label": "Entries per hour: " + label },
  svg("title", {}, "Entries per hour: " + label));
  counts.forEach((c, i) => {
    const h = c === 0 ? 0 : Math.max(2, Math.round((c / max) * ch));
    const x = gap + i * (bw + gap);
    const hourStart = new Date((first + i) * 3600 * 1000).toISOString().slice(0, 13) + ":00Z";
    chart.append(svg("rect", { class: "bar", x, y: base - h, width: bw, height: h, "data-count": c },
      svg("title", {}, hourStart + ": " + c + " entr" + (c === 1 ? "y" : "ies"))));
    if (c > 0) chart.append(svg("text", { x: x + bw / 2, y: base - h - 3, "text-anchor": "middle" }, String(c)));
    if (i === 0 || i === counts.length - 1) {
      chart.append(svg("text", { x: x + bw / 2, y: base + 12, "text-anchor": "middle" }, hourStart.slice(11, 13) + "h"));
    }
  });
  return el("figure", { class: "chart-box" }, chart, el("figcaption", { class: "muted" }, "Entries per hour: " + label));
}

export function certSection(c, n) {
  if (c.error && !c.subject) return el("section", {}, el("h2", {}, "Certificate " + n), el("p", {}, "Could not decode: " + c.error));
  return el("section", { class: "cert" }, el("h2", {}, "Certificate " + n),
    fields([
      ["Subject alternative names", c.sans && c.sans.length ? el("span", { id: n === 1 ? "identity" : null }, c.sans.join(", ")) : null],
      ["OIDC issuer", c.oidcIssuer],
      ["Subject", c.subject || "(empty)"],
      ["Issued by", c.issuer],
      ["Valid", time(c.notBefore) + " \u2013 " + time(c.notAfter)],
      ["Embedded SCT", c.hasSct ? "yes" : "no"],
      ["Note", c.error],
    ]),
    c.extensions && c.extensions.length ? el("table", { class: "exts" },
      el("thead", {}, el("tr", {}, el("th", {}, "Fulcio extension"), el("th", {}, "Value"))),
      el("tbody", {}, c.extensions.map((x) => el("tr", {}, el("td", { title: x.oid }, x.name), el("td", {}, x.value))))) : null);
}

/** The in-toto statement of a DSSE entry, or why the log cannot show it. */
export function statementSection(d) {
  const s = d.statement;
  if (!s) {
    return d.statementNote ? el("section", { id: "statement" }, el("h2", {}, "In-toto statement"),
      el("p", { class: "muted" }, d.statementNote)) : null;
  }
  const subjects = (s.subjects || []).map((x) => el("tr", {}, el("td", {}, x.name || "(no name)"),
    el("td", { class: "mono" }, Object.entries(x.digest || {}).map(([a, v]) => a + ":" + v).join(" "))));
  return el("section", { id: "statement" }, el("h2", {}, "In-toto statement"),
    fields([["Statement type", s.statementType], ["Predicate type", el("code", { id: "predicate-type" }, s.predicateType)]]),
    el("table", { class: "subjects" }, el("thead", {}, el("tr", {}, el("th", {}, "Subject"), el("th", {}, "Digest"))),
      el("tbody", {}, subjects)),
    s.subjectsOmitted ? el("p", { class: "muted" }, s.subjectsOmitted + " more subjects not listed.") : null,
    el("details", {}, el("summary", {}, "Predicate" + (s.predicateTruncated ? " (cut at 64 KiB)" : "")),
      el("pre", { id: "predicate" }, s.predicate)));
}

async function entryView(uuid, entry) {
  const verdict = el("section", { id: "verification" }, el("h2", {}, "Verification"), el("span", { class: "badge wait" }, "verifying\u2026"));
  let decoded;
  try {
    decoded = await api("/explorer/api/decode", { method: "POST", headers: { "Content-Type": "text/plain" }, body: entry.body });
  } catch (e) {
    decoded = { error: e.message };
  }
  let raw = "";
  try { raw = JSON.stringify(JSON.parse(new TextDecoder().decode(b64decode(entry.body))), null, 2); } catch (_) { raw = entry.body; }
  show(
    el("h1", {}, "Entry " + entry.logIndex),
    verdict,
    el("section", { id: "entry" }, el("h2", {}, "Entry"),
      fields([
        ["Kind", decoded.kind ? decoded.kind + " " + decoded.apiVersion : bodyHeader(entry.body)],
        ["Log index", String(entry.logIndex)],
        ["UUID", el("code", {}, uuid)],
        ["Integrated time", time(entry.integratedTime)],
        ["Artifact digest", decoded.digest ? el("code", { id: "digest" }, decoded.digest) : null],
        ["Payload type", decoded.payloadType],
        ["Decoding", decoded.error],
      ])),
    statementSection(decoded),
    ...(decoded.certificates || []).map((c, i) => certSection(c, i + 1)),
    ...(decoded.publicKeys || []).map((k) => el("section", {}, el("h2", {}, "Public key"), el("pre", {}, k))),
    el("section", {}, el("details", {}, el("summary", {}, "Raw body"), el("pre", { id: "raw" }, raw))));
  const checks = await verifyEntry(uuid, entry);
  const ok = checks.length === 3 && checks.every((c) => c.ok);
  verdict.replaceChildren(el("h2", {}, "Verification"), badge(ok), checkList(checks));
}

async function showEntry(path) {
  const r = await api(path);
  // Time from the log's answer to the finished view (decoded and
  // verified), for the page-speed check of the browser test.
  const answered = performance.now();
  const first = r && typeof r === "object" ? Object.entries(r)[0] : null;
  if (!first) throw new Error("the log returned no entry");
  await entryView(first[0], first[1]);
  document.body.dataset.renderMs = String(Math.round(performance.now() - answered));
}

async function search(query, label) {
  const uuids = await api("/api/v1/index/retrieve", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(query),
  });
  if (!Array.isArray(uuids)) throw new Error("unexpected search answer");
  if (uuids.length === 0) {
    show(errorBox("Not found", "No entries match " + label + "."));
    return;
  }
  show(el("h1", {}, "Search results"), el("section", { id: "results" },
    el("p", {}, uuids.length + (uuids.length === 1 ? " entry matches " : " entries match ") + label + ":"),
    el("ul", {}, uuids.slice(0, 500).map((u) => el("li", {}, link({ uuid: u }, u))))));
}

// ---------------------------------------------------------------- routing

const MAX_KEY_QUERY = 16 * 1024;

/**
 * A PEM public key or certificate (chain) from what a user pasted: a
 * one-line input drops the PEM's line breaks, so the blocks are found by
 * their BEGIN/END lines and re-wrapped. A deep link carries the PEM
 * base64-encoded, as the log's search API takes it. Returns the PEM, or
 * null when the text holds no PEM block.
 */
export function pemFromQuery(v) {
  if (typeof v !== "string" || v.length > MAX_KEY_QUERY) return null;
  let text = v.trim();
  if (!text.includes("-----BEGIN ")) {
    try { text = new TextDecoder("utf-8", { fatal: true }).decode(b64decode(text.replace(/\s+/g, ""))); } catch (_) { return null; }
  }
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\s]+)-----END \1-----/g;
  const blocks = [];
  for (const m of text.matchAll(re)) {
    const body = m[2].replace(/\s+/g, "");
    if (!body) return null;
    blocks.push("-----BEGIN " + m[1] + "-----\n" + body.match(/.{1,64}/g).join("\n") + "\n-----END " + m[1] + "-----\n");
  }
  return blocks.length ? blocks.join("") : null;
}

function pemLabel(pem) {
  return /CERTIFICATE/.test(pem) ? "that certificate" : "that public key";
}

function canonical(q) {
  q = q.trim();
  if (q.includes("-----BEGIN ")) {
    const pem = pemFromQuery(q);
    return pem ? { publicKey: btoa(pem) } : null;
  }
  if (/^[0-9]+$/.test(q)) return { logIndex: q };
  if (/^([0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/.test(q)) return { uuid: q };
  if (/^sha256:/i.test(q)) return { hash: q };
  if (q.includes("@") || /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(q)) return { email: q };
  return null;
}

async function route() {
  const params = new URLSearchParams(location.search);
  const q = params.get("q");
  if (q !== null) {
    const to = canonical(q);
    if (!to) {
      show(errorBox("Malformed query", "Enter a log index, a 64-hex entry UUID, sha256:<64 hex>, a PEM public key or certificate, or an e-mail address or URI identity."));
      document.body.dataset.ready = "true";
      return;
    }
    location.replace("/?" + new URLSearchParams(to).toString());
    return;
  }
  const input = document.getElementById("q");
  try {
    if (params.has("logIndex")) {
      const v = params.get("logIndex");
      input.value = v;
      if (!/^[0-9]{1,15}$/.test(v)) return show(errorBox("Malformed query", "logIndex must be a non-negative integer, got " + JSON.stringify(v) + "."));
      await showEntry("/api/v1/log/entries?logIndex=" + v);
    } else if (params.has("uuid")) {
      const v = params.get("uuid");
      input.value = v;
      if (!/^([0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/.test(v)) return show(errorBox("Malformed query", "An entry UUID is 64 (or 80) hex characters."));
      await showEntry("/api/v1/log/entries/" + v);
    } else if (params.has("hash")) {
      const v = params.get("hash");
      input.value = v;
      if (!/^sha256:[0-9a-fA-F]{64}$/.test(v)) return show(errorBox("Malformed query", "A hash is sha256: followed by 64 hex characters."));
      await search({ hash: v.toLowerCase() }, v);
    } else if (params.has("publicKey")) {
      const v = params.get("publicKey");
      const pem = pemFromQuery(v);
      if (!pem) return show(errorBox("Malformed query", "publicKey must be a PEM public key or certificate, base64-encoded."));
      input.value = pem.replace(/\n/g, " ").trim();
      await search({ publicKey: { format: "x509", content: btoa(pem) } }, pemLabel(pem));
    } else if (params.has("email")) {
      const v = params.get("email");
      input.value = v;
      if (!/^([^@\s]+@[^@\s]+|[a-z][a-z0-9+.-]*:\/\/\S+)$/i.test(v) || v.length > 1024) {
        return show(errorBox("Malformed query", "That is not an e-mail address or a URI identity."));
      }
      await search({ email: v }, "identity " + v);
    } else {
      const page = Number(params.get("page") || "0");
      await overview(Number.isSafeInteger(page) ? page : 0);
    }
  } catch (e) {
    if (e.status === 404) show(errorBox("Not found", e.message));
    else if (e.status >= 400 && e.status < 500) show(errorBox("The log refused the query", e.message));
    else show(errorBox("Error", e.message));
  } finally {
    document.body.dataset.ready = "true";
  }
}

if (document.body.dataset.log === "ct") {
  import("./ct.js").then((m) => m.route()).catch((e) => {
    show(errorBox("Error", e.message));
    document.body.dataset.ready = "true";
  });
} else {
  route();
}

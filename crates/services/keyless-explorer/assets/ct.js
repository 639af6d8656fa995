// keyless log explorer, CT log pages: a keyless CA serves this page at /
// (marked <body data-log="ct">) for its CT log under /ct. Loaded by
// app.js, whose helpers it uses; no HTML parsing, everything as text.
//
// The overview reads the tlog-tiles checkpoint (/ct/checkpoint) and
// verifies its signature with the CT log key of the CA's
// /trusted_root.json (the key the log's SCTs are signed with), then
// reads the latest entries from the entry bundles (/ct/tile/entries/…),
// checks that each leaf's hash is the one the tree holds at its index
// (level-0 hash tiles) and that the tiles hash to the checkpoint's root
// (the last tile of each level, RFC 6962 subtree hashes), and has the
// certificates decoded by the server (/explorer/api/decode-ct). A leaf is
// "proven" when its hash tile took part in that root computation (the
// last level-0 tile) or its tile's hash is in the last level-1 tile.

import {
  el, show, fields, errorBox, link, time, b64decode, hex, equal, api, leafHash, nodeHash,
  badge, certSection, parseCheckpoint, verifyNote, importSpkiKey,
} from "./app.js";

const TILE = 256;
const LATEST = 10;
const MAX_TILE = 4 * 1024 * 1024;

/** A tlog-tiles index path element: 3-digit groups, all but the last x-prefixed. */
export function tileIndexPath(n) {
  const parts = [];
  do { parts.unshift(String(n % 1000).padStart(3, "0")); n = Math.floor(n / 1000); } while (n > 0);
  return parts.map((p, i) => (i < parts.length - 1 ? "x" : "") + p).join("/");
}

/** The path of tile `index` (of `level`, or the entry bundle) in a tree of `size`. */
function tilePath(kind, index, size) {
  const width = Math.min(TILE, size - index * TILE);
  return "/ct/tile/" + kind + "/" + tileIndexPath(index) + (width < TILE ? ".p/" + width : "");
}

async function fetchBytes(path) {
  const resp = await fetch(path);
  if (!resp.ok) throw new Error(path + " answered " + resp.status);
  if (Number(resp.headers.get("Content-Length") || "0") > MAX_TILE) throw new Error(path + " is too large");
  const buf = new Uint8Array(await resp.arrayBuffer());
  if (buf.length > MAX_TILE) throw new Error(path + " is too large");
  return buf;
}

/** The entries of a tlog-tiles entry bundle: each a big-endian u16 length and its bytes. */
export function splitBundle(b) {
  const out = [];
  for (let i = 0; i < b.length;) {
    if (i + 2 > b.length) throw new Error("truncated entry bundle");
    const len = b[i] * 256 + b[i + 1];
    if (i + 2 + len > b.length) throw new Error("truncated entry bundle");
    out.push(b.slice(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

/** RFC 6962 MTH of `n` (a power of two) consecutive 32-byte hashes of `h` from `at`. */
async function subtree(h, at, n) {
  if (n === 1) return h.slice(32 * at, 32 * at + 32);
  return nodeHash(await subtree(h, at, n / 2), await subtree(h, at + n / 2, n / 2));
}

/**
 * The root of a tree of `size` from its tiles: at each level L the last
 * tile (index floor(size / 256^(L+1))) holds, in its w hashes, the
 * subtrees the size's binary decomposition has at heights 8L..8L+7, left
 * to right; higher levels hold the ones further left. Returns the root
 * and the last tile of levels 0 and 1, as fetched.
 */
export async function rootFromTiles(size) {
  if (!(Number.isSafeInteger(size) && size > 0)) throw new Error("no root for an empty tree");
  const parts = [];
  const last = {};
  for (let level = 0, span = 1; span <= size; level++, span *= TILE) {
    const nodes = Math.floor(size / span);
    const t = Math.floor(nodes / TILE);
    const w = nodes - t * TILE;
    if (w === 0) continue;
    const h = await fetchBytes("/ct/tile/" + level + "/" + tileIndexPath(t) + (w < TILE ? ".p/" + w : ""));
    if (h.length !== 32 * w) throw new Error("hash tile " + level + "/" + t + " is not " + w + " wide");
    if (level < 2) last[level] = { t, h };
    const mine = [];
    for (let at = 0, bit = 128; bit >= 1; bit /= 2) {
      if (w & bit) { mine.push(await subtree(h, at, bit)); at += bit; }
    }
    parts.unshift(...mine);
    if (level > 8) throw new Error("tree too large");
  }
  let root = parts[parts.length - 1];
  for (let i = parts.length - 2; i >= 0; i--) root = await nodeHash(parts[i], root);
  return { root, last };
}

/**
 * Leaves [from, to) of a tree of `size`: each leaf's RFC 6962 hash checked
 * against the level-0 hash tile (`hashed`), and `proven` when that tile is
 * part of `tiles` (from rootFromTiles, whose root matched the checkpoint).
 */
async function leaves(from, to, size, tiles) {
  const out = [];
  for (let t = Math.floor(from / TILE); t * TILE < to; t++) {
    const [bundle, hashes] = await Promise.all([
      fetchBytes(tilePath("entries", t, size)), fetchBytes(tilePath("0", t, size))]);
    const entries = splitBundle(bundle);
    const width = Math.min(TILE, size - t * TILE);
    if (entries.length !== width || hashes.length !== 32 * width) throw new Error("tile " + t + " is not " + width + " wide");
    let tileProven = false;
    if (tiles && tiles[0] && tiles[0].t === t) {
      tileProven = equal(tiles[0].h, hashes);
    } else if (tiles && tiles[1] && width === TILE && Math.floor(t / TILE) === tiles[1].t) {
      const k = t - tiles[1].t * TILE;
      tileProven = 32 * (k + 1) <= tiles[1].h.length && equal(await subtree(hashes, 0, TILE), tiles[1].h.slice(32 * k, 32 * k + 32));
    }
    for (let i = Math.max(from, t * TILE); i < Math.min(to, t * TILE + width); i++) {
      const leaf = entries[i - t * TILE];
      const want = hashes.slice(32 * (i - t * TILE), 32 * (i - t * TILE + 1));
      const hashed = equal(await leafHash(leaf), want);
      out.push({ index: i, leaf, hashed, proven: hashed && tileProven });
    }
  }
  return out;
}

/** The tiles' root against the checkpoint's: the tiles to prove leaves with, or why not. */
async function treeCheck(cp) {
  try {
    const { root, last } = await rootFromTiles(cp.size);
    if (!equal(root, cp.root)) return { ok: false, detail: "the tiles hash to " + hex(root) + ", not the checkpoint root" };
    return { ok: true, tiles: last, detail: "the hash tiles lead to the checkpoint root" };
  } catch (e) {
    return { ok: false, detail: e.message };
  }
}

function inTree(l) {
  if (l.proven) return "\u2713 proven";
  if (!l.hashed) return "\u2717 leaf hash differs from the tree";
  return "\u2717 not proven";
}

function b64encode(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

async function decodeLeaves(list) {
  const views = await api("/explorer/api/decode-ct", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(list.map((l) => b64encode(l.leaf))),
  });
  if (!Array.isArray(views) || views.length !== list.length) throw new Error("unexpected decoder answer");
  return views;
}

/** The CT log keys the CA's trusted root lists, imported. */
async function ctKeys() {
  const root = await api("/trusted_root.json");
  const logs = root && Array.isArray(root.ctlogs) ? root.ctlogs.slice(0, 16) : [];
  const keys = [];
  for (const l of logs) {
    try {
      const spki = b64decode(l.publicKey.rawBytes);
      keys.push(await importSpkiKey(spki, "-----BEGIN PUBLIC KEY-----\n" + l.publicKey.rawBytes.match(/.{1,64}/g).join("\n") + "\n-----END PUBLIC KEY-----"));
    } catch (_) { /* a key this page cannot use */ }
  }
  if (keys.length === 0) throw new Error("the CA's trusted root lists no usable CT log key");
  return keys;
}

async function checkpointVerdict(cp) {
  let last = "no CT log key";
  for (const k of await ctKeys()) {
    try {
      await verifyNote(cp, k);
      return [badge(true), el("p", { class: "muted" }, "Checkpoint signed by the CT log's " + k.alg + " key ", el("code", { id: "key-id" }, hex(k.keyId))),
        el("details", {}, el("summary", {}, "CT log public key"), el("pre", {}, k.pem))];
    } catch (e) { last = e.message; }
  }
  return [badge(false), el("p", {}, last)];
}

function identity(view) {
  const c = view.certificate || {};
  return (c.sans || []).join(", ") || c.subject || view.error || "";
}

async function overview() {
  const note = await api("/ct/checkpoint");
  if (typeof note !== "string") throw new Error("no checkpoint");
  const cp = parseCheckpoint(note);
  let verdict;
  try { verdict = await checkpointVerdict(cp); } catch (e) { verdict = [badge(false), el("p", {}, e.message)]; }
  const from = Math.max(0, cp.size - LATEST);
  const tree = cp.size ? await treeCheck(cp) : { ok: true, detail: "empty tree" };
  const list = cp.size ? (await leaves(from, cp.size, cp.size, tree.tiles)).reverse() : [];
  const views = list.length ? await decodeLeaves(list) : [];
  const rows = list.map((l, i) => {
    const v = views[i] || {};
    return el("tr", {}, el("td", {}, link({ logIndex: l.index }, String(l.index))),
      el("td", { class: "identity" }, identity(v)),
      el("td", { class: "hide-narrow" }, (v.certificate && v.certificate.oidcIssuer) || ""),
      el("td", { class: "hide-narrow" }, typeof v.timestamp === "number" ? time(Math.floor(v.timestamp / 1000)) : ""),
      el("td", {}, inTree(l)));
  });
  show(
    el("h1", {}, "CT log overview"),
    el("section", { id: "checkpoint" }, el("h2", {}, "Current checkpoint"),
      fields([["Origin", cp.origin], ["Tree size", String(cp.size)], ["Root hash", el("code", {}, hex(cp.root))]]),
      ...verdict,
      el("details", {}, el("summary", {}, "Signed checkpoint"), el("pre", {}, note))),
    el("section", { id: "latest" }, el("h2", {}, "Latest certificates"),
      cp.size === 0 ? el("p", { class: "muted" }, "The log is empty.") :
        el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Index"), el("th", {}, "Identity"),
          el("th", { class: "hide-narrow" }, "OIDC issuer"), el("th", { class: "hide-narrow" }, "Logged"),
          el("th", {}, "In tree"))), el("tbody", {}, rows)),
      el("p", { id: "tree-check", class: tree.ok ? "muted" : "fail" }, (tree.ok ? "\u2713 " : "\u2717 ") + tree.detail +
        "; a leaf is proven when its hash tile is part of that computation.")));
}

async function entry(index) {
  const note = await api("/ct/checkpoint");
  const cp = parseCheckpoint(note);
  if (index >= cp.size) {
    const e = new Error("entry " + index + " is not in the log (size " + cp.size + ")");
    e.status = 404;
    throw e;
  }
  const tree = await treeCheck(cp);
  const [l] = await leaves(index, index + 1, cp.size, tree.tiles);
  const [v] = await decodeLeaves([l]);
  show(el("h1", {}, "CT entry " + index),
    el("section", { id: "entry" }, el("h2", {}, "Entry"),
      fields([["Log index", String(index)], ["Entry type", v.entryType],
        ["Logged", typeof v.timestamp === "number" ? time(Math.floor(v.timestamp / 1000)) : null],
        ["Issuer key hash", v.issuerKeyHash ? el("code", {}, v.issuerKeyHash) : null],
        ["Leaf hash", l.hashed ? "matches the tree's hash tile" : "DIFFERS from the tree's hash tile"],
        ["In the checkpoint's tree", l.proven ? "proven (" + tree.detail + ")" : "not proven: " + (tree.ok ? "its tile is not among those checked" : tree.detail)],
        ["Decoding", v.error]])),
    v.certificate ? certSection(v.certificate, 1) : null);
}

export async function route() {
  const params = new URLSearchParams(location.search);
  const input = document.getElementById("q");
  try {
    const v = params.get("logIndex") ?? params.get("q");
    if (v !== null) {
      input.value = v;
      if (!/^[0-9]{1,15}$/.test(v)) return show(errorBox("Malformed query", "A CT log is browsed by log index (a non-negative integer)."));
      await entry(Number(v));
    } else {
      await overview();
    }
  } catch (e) {
    if (e.status === 404) show(errorBox("Not found", e.message));
    else show(errorBox("Error", e.message));
  } finally {
    document.body.dataset.ready = "true";
  }
}

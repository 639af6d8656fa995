#!/usr/bin/env python3
"""Regenerate fuzz/corpus-seed/ from the Sigstore conformance data.

Usage: python3 fuzz/corpus-seed/make-seeds.py [CONFORMANCE_DIR]
(default: testdata/sigstore-conformance in the repository, else
../shared/conformance beside it; both hold the same data).

Every seed is cut out of a conformance bundle or trusted root, or
assembled from its parts (see README.md beside this script); the
hand-written TUF seeds are in tuf_metadata/ and are not regenerated.
"""
import base64
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if len(sys.argv) > 1:
    CONF = sys.argv[1]
elif os.path.isdir(os.path.join(REPO, "testdata", "sigstore-conformance")):
    CONF = os.path.join(REPO, "testdata", "sigstore-conformance")
else:
    CONF = os.path.join(REPO, "..", "shared", "conformance")
CASES = os.path.join(CONF, "assets", "bundle-verify")


def bundle(case):
    with open(os.path.join(CASES, case, "bundle.sigstore.json"), "rb") as f:
        return json.loads(f.read())


def raw(case):
    with open(os.path.join(CASES, case, "bundle.sigstore.json"), "rb") as f:
        return f.read()


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def entry(b):
    return b["verificationMaterial"]["tlogEntries"][0]


def body(b):
    return base64.b64decode(entry(b)["canonicalizedBody"])


def signature(b):
    """The bytes an RFC 3161 timestamp in this bundle covers."""
    if "messageSignature" in b:
        return base64.b64decode(b["messageSignature"]["signature"])
    return base64.b64decode(b["dsseEnvelope"]["signatures"][0]["sig"])


def leaf_der(b):
    vm = b["verificationMaterial"]
    if "certificate" in vm:
        return base64.b64decode(vm["certificate"]["rawBytes"])
    return base64.b64decode(vm["x509CertificateChain"]["certificates"][0]["rawBytes"])


def pem(der):
    text = base64.b64encode(der).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode()


# verify_bundle: whole bundles, one per shape (v0.1-v0.3, DSSE, key, Rekor v2).
for case in ["happy-path-v0.1", "happy-path-v0.3", "happy-path-intoto-in-dsse-v3",
             "managed-key-happy-path", "rekor2-happy-path", "checkpoint-bad-keyhint_fail"]:
    write("verify_bundle", case + ".json", raw(case))

# checkpoint: signed notes (Rekor v1, v2, cosigned), plus one bare body.
for case in ["happy-path-v0.3", "rekor2-happy-path", "rekor2-checkpoint-cosigned",
             "rekor2-checkpoint-multiple-cosigs", "rekor2-checkpoint-origin-not-first"]:
    write("checkpoint", case + ".note", entry(bundle(case))["inclusionProof"]["checkpoint"]["envelope"])
note = entry(bundle("rekor2-happy-path"))["inclusionProof"]["checkpoint"]["envelope"]
write("checkpoint", "body-only.txt", note[: note.index("\n\n") + 1])

# tsp_token: u16 big-endian length, the timestamped signature, the token DER.
for case in ["managed-key-happy-path", "rekor2-happy-path", "rekor2-dsse-happy-path",
             "rekor2-timestamp-with-embedded-cert", "rekor2-timestamp-without-embedded-cert"]:
    b = bundle(case)
    sig = signature(b)
    tok = base64.b64decode(b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"])
    write("tsp_token", case + ".bin", struct.pack(">H", len(sig)) + sig + tok)

# rekor_body: canonicalized bodies of every kind the conformance data has.
for case, kind in [("happy-path-v0.3", "hashedrekord-0.0.1"), ("rekor2-happy-path", "hashedrekord-0.0.2"),
                   ("happy-path-intoto-in-dsse-v3", "dsse-0.0.1"), ("intoto-with-custom-trust-root", "intoto-0.0.2")]:
    write("rekor_body", kind + ".json", body(bundle(case)))

# log_entry: requests the log accepts, rebuilt from the bundles' parts.
write("log_entry", "v1-hashedrekord-cert.json", body(bundle("happy-path-v0.3")))
write("log_entry", "v1-hashedrekord-key.json", body(bundle("managed-key-happy-path")))
write("log_entry", "v1-intoto.json", body(bundle("intoto-with-custom-trust-root")))
b = bundle("happy-path-intoto-in-dsse-v3")
write("log_entry", "v1-dsse.json", json.dumps({
    "apiVersion": "0.0.1", "kind": "dsse",
    "spec": {"proposedContent": {
        "envelope": json.dumps(b["dsseEnvelope"]),
        "verifiers": [base64.b64encode(pem(leaf_der(b))).decode()],
    }},
}))
for case in ["rekor2-happy-path", "rekor2-dsse-happy-path"]:
    hr = json.loads(body(bundle(case)))["spec"]["hashedRekordV002"]
    write("log_entry", "v2-" + case + ".json", json.dumps({
        "hashedRekordRequestV002": {"digest": hr["data"]["digest"], "signature": hr["signature"]},
    }))

# parse_formats: one input per parser it feeds.
b = bundle("rekor2-happy-path")
write("parse_formats", "checkpoint.note", entry(b)["inclusionProof"]["checkpoint"]["envelope"])
write("parse_formats", "timestamp.der",
      base64.b64decode(b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"]))
write("parse_formats", "leaf-cert.der", leaf_der(bundle("happy-path-v0.3")))
with open(os.path.join(CONF, "public-good-trust", "trusted_root.json"), "rb") as f:
    write("parse_formats", "trusted_root.json", f.read())

# tuf_metadata: the production TUF root (v15).
with open(os.path.join(CONF, "public-good-trust", "root.json"), "rb") as f:
    write("tuf_metadata", "public-good-root.v15.json", f.read())

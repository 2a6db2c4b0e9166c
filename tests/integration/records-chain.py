#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""An auditor's tools for signed run records, written from docs/run-record.md alone (no
airlock code): check a record's signature, tamper with records, check a DSSE export.

  records-chain.py check RECORD PEM          the signature, by the documented byte rule
  records-chain.py flip-each STATE NAME AIRLOCK
                                             one byte changed in each line of record NAME
                                             in turn (in a copy of STATE), verified each time
  records-chain.py resign RECORD KEY [ID]    re-signs with private key KEY, key id ID
                                             (default: KEY's own)
  records-chain.py append STATE TEMPLATE KEY a record of a run never made, chained after
                                             the head, signed with KEY (or "-": unsigned)
  records-chain.py dsse ENVELOPE PEM STATE PAE_OUT SIG_OUT
                                             checks the envelope's signature over its PAE,
                                             its statement and subject digests; writes the
                                             PAE and raw signature for openssl
  records-chain.py forge STATE N             N more records after the head, signed with the
                                             node key (for the verify benchmark)
"""
import base64
import hashlib
import json
import os
import re
import sys

import shutil
import subprocess
import tempfile

try:  # only the commands that sign or verify need it (it is slow to import)
    from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat,
                                                              load_pem_private_key,
                                                              load_pem_public_key)
except ImportError:
    pass

SIG_RE = re.compile(rb'(.*),\n  "signature": \{\n    "ed25519": "([A-Za-z0-9+/]{86}==)",\n'
                    rb'    "key_id": "([0-9a-f]{64})"\n  \}\n\}', re.S)


def key_id(pub):
    return hashlib.sha256(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def split(data):
    m = SIG_RE.fullmatch(data)
    if not m:
        raise SystemExit("no signature member")
    return m.group(1) + b"\n}", base64.b64decode(m.group(2)), m.group(3).decode()


def seal(signed, key, kid=None):
    sig = base64.b64encode(key.sign(signed)).decode()
    kid = kid or key_id(key.public_key())
    return (signed[:-2] + b',\n  "signature": {\n    "ed25519": "' + sig.encode() +
            b'",\n    "key_id": "' + kid.encode() + b'"\n  }\n}')


def cmd_check(record, pem):
    signed, sig, kid = split(open(record, "rb").read())
    pub = load_pem_public_key(open(pem, "rb").read())
    if kid != key_id(pub):
        raise SystemExit("key id %s is not the key's %s" % (kid, key_id(pub)))
    pub.verify(sig, signed)  # raises InvalidSignature


def flip(data, line):
    data = bytearray(data)
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0a]
    start = starts[int(line)]
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end
    # The last letter or digit of the line: a value's byte where the line has one.
    for i in range(end - 1, start - 1, -1):
        c = chr(data[i])
        if c.isalnum():
            data[i] = ord("1" if c == "0" else "0" if c.isdigit() else
                          "b" if c == "a" else "a")
            break
    else:
        data[end - 1 if end > start else start] ^= 0x01
    return bytes(data)


def cmd_flip_each(state, name, airlock):
    """For each line of record NAME in a copy of STATE, one byte changed: prints the lines
    whose change `airlock records verify` did not report naming the record."""
    with tempfile.TemporaryDirectory() as tmp:
        st = os.path.join(tmp, "state")
        shutil.copytree(state, st, symlinks=True)
        path = os.path.join(st, "records", name)
        orig = open(path, "rb").read()
        missed = []
        for line in range(orig.count(b"\n") + 1):
            open(path, "wb").write(flip(orig, line))
            v = subprocess.run([airlock, "records", "--state-dir", st, "verify"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if v.returncode != 1 or ("record " + name).encode() not in v.stdout:
                missed.append(str(line))
        print("%d lines; missed: %s" % (orig.count(b"\n") + 1, " ".join(missed) or "none"))


def load_private(path):
    return load_pem_private_key(open(path, "rb").read(), None)


def cmd_resign(record, key, kid=None):
    signed, _, _ = split(open(record, "rb").read())
    open(record, "wb").write(seal(signed, load_private(key), kid))


def head(state):
    lines = open(os.path.join(state, "chain/head")).read().split("\n")
    for line in lines[1:3]:
        m = re.fullmatch(r"seq (\d+) sha256 ([0-9a-f]{64}) run (\S+)", line)
        if not m:
            continue
        path = os.path.join(state, "records", m.group(3) + ".json")
        if os.path.exists(path) and \
                hashlib.sha256(open(path, "rb").read()).hexdigest() == m.group(2):
            return int(m.group(1)), m.group(2), m.group(3)
    raise SystemExit("no head")


def make_events(template, run_id, events):
    """The template run's event log, chained anew for run_id beside it; its record part."""
    state = os.path.dirname(os.path.dirname(template))
    src = os.path.join(state, "events", os.path.basename(template)[:-5] + ".jsonl")
    if not os.path.exists(src):
        return events
    prev, out = hashlib.sha256(run_id.encode()).hexdigest(), []
    for line in open(src, "rb").read().splitlines():
        o = json.loads(line)
        o["prev"] = prev
        out.append(json.dumps(o, separators=(",", ":")).encode())
        prev = hashlib.sha256(out[-1]).hexdigest()
    data = b"".join(line + b"\n" for line in out)
    dst = os.path.join(state, "events", run_id + ".jsonl")
    open(dst, "wb").write(data)
    return dict(events, path=dst, head=prev, lines=len(out), bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest())


def make_record(template, run_id, seq, prev):
    r = json.loads(split(open(template, "rb").read())[0])
    r["run_id"] = run_id
    r["chain"] = {"prev_sha256": prev, "seq": seq}
    if "events" in r:  # verify checks each record's event log
        r["events"] = make_events(template, run_id, r["events"])
    return json.dumps(r, indent=2, sort_keys=True, ensure_ascii=False).encode()


def cmd_append(state, template, key):
    seq, prev, _ = head(state)
    run_id = "20990101T000000Z-%08x" % seq
    signed = make_record(template, run_id, seq + 1, prev)
    data = signed if key == "-" else seal(signed, load_private(key))
    open(os.path.join(state, "records", run_id + ".json"), "wb").write(data)
    print(run_id)


def cmd_dsse(envelope, pem, state, pae_out, sig_out):
    env = json.load(open(envelope))
    payload = base64.b64decode(env["payload"])
    ptype = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
    pub = load_pem_public_key(open(pem, "rb").read())
    [s] = env["signatures"]
    assert s["keyid"] == key_id(pub), "keyid"
    sig = base64.b64decode(s["sig"])
    pub.verify(sig, pae)
    open(pae_out, "wb").write(pae)
    open(sig_out, "wb").write(sig)
    st = json.loads(payload)
    assert ptype == b"application/vnd.in-toto+json", ptype
    assert st["_type"].endswith("/Statement/v1"), st["_type"]
    assert st["predicateType"] == "urn:airlock:predicate:run-record:v1", st["predicateType"]
    run_id = st["predicate"]["run_id"]
    names = []
    for sub in st["subject"]:
        want = hashlib.sha256(open(os.path.join(state, sub["name"]), "rb").read()).hexdigest()
        assert sub["digest"]["sha256"] == want, sub["name"]
        names.append(sub["name"])
    print(run_id, " ".join(sorted(names)))


def cmd_forge(state, n):
    key = load_private(os.path.join(state, "keys/node.key"))
    seq, prev, run_id = head(state)
    template = os.path.join(state, "records", run_id + ".json")
    first = seq
    before = "-"  # the head's line before the latest, as airlock writes it
    for i in range(int(n)):
        if seq:
            before = "seq %d sha256 %s run %s" % (seq, prev, run_id)
        seq += 1
        run_id = "20990101T000000Z-%08x" % seq
        data = seal(make_record(template, run_id, seq, prev), key)
        open(os.path.join(state, "records", run_id + ".json"), "wb").write(data)
        prev = hashlib.sha256(data).hexdigest()
    with open(os.path.join(state, "chain/head"), "w") as f:
        f.write("airlock-chain-head 1\nseq %d sha256 %s run %s\n%s\n" % (seq, prev, run_id, before))
    print("forged seq %d..%d" % (first + 1, seq))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"check": cmd_check, "flip-each": cmd_flip_each, "resign": cmd_resign, "append": cmd_append,
     "dsse": cmd_dsse, "forge": cmd_forge}[cmd](*args)


if __name__ == "__main__":
    main()

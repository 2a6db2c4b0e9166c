#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks an export directory against its manifest, independently of airlock's code.

Usage: check_artifacts.py DIR UID GID [RECORD]

Walks DIR itself (never following a link) and hashes every file; passes (exit 0, prints
"ok") when: DIR holds only directories and regular files; every mode is 0644 or 0755
(directories 0755) and every owner UID:GID; the files and directories are exactly the
manifest's entries (names unescaped from the manifest's form, docs/artifacts.md) with their
sizes and SHA-256; the counts agree; and, with RECORD, the record's
artifacts.manifest_digest is the SHA-256 of manifest.json. Prints what differs otherwise.
"""
import hashlib
import json
import os
import stat
import sys


def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\" and s[i + 1] == "\\":
            out.append(0x5C)
            i += 2
        elif s[i] == "\\" and s[i + 1] == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            assert 0x20 <= ord(s[i]) < 0x7F, "unescaped byte %r in %r" % (s[i], s)
            out.append(ord(s[i]))
            i += 1
    return bytes(out)


def walk(root, uid, gid, problems):
    found = {}
    for top, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = os.path.join(top, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if (st.st_uid, st.st_gid) != (uid, gid):
                problems.append("%r owned by %d:%d" % (rel, st.st_uid, st.st_gid))
            if stat.S_ISDIR(st.st_mode):
                if mode != 0o755:
                    problems.append("directory %r mode %o" % (rel, mode))
                found[rel] = ("directory", None, None)
            elif stat.S_ISREG(st.st_mode):
                if mode not in (0o644, 0o755):
                    problems.append("file %r mode %o" % (rel, mode))
                if st.st_nlink != 1:
                    problems.append("file %r has %d links" % (rel, st.st_nlink))
                h = hashlib.sha256()
                with open(path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                found[rel] = ("file", st.st_size, h.hexdigest())
            else:
                problems.append("%r is neither a file nor a directory (mode %o)" %
                                (rel, st.st_mode))
    return found


def main():
    root, uid, gid = os.fsencode(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    problems = []
    mpath = os.path.join(root, b"manifest.json")
    with open(mpath, "rb") as f:
        mbytes = f.read()
    m = json.loads(mbytes)
    found = walk(root, uid, gid, problems)
    found.pop(b"manifest.json", None)
    want = {}
    for e in m["entries"]:
        p = unescape(e["path"])
        want[p] = (e["type"], e.get("size"), e.get("sha256"))
        if e["type"] == "file" and e["mode"] not in ("0644", "0755"):
            problems.append("manifest mode %s for %r" % (e["mode"], p))
    for p in sorted(set(found) | set(want)):
        if found.get(p) != want.get(p):
            problems.append("%r: on disk %r, manifest %r" % (p, found.get(p), want.get(p)))
    for e in m["skipped"]:
        p = unescape(e["path"])
        if p in found:
            problems.append("skipped %r (%s) is in the export" % (p, e["reason"]))
    c = m["counts"]
    files = sum(1 for v in want.values() if v[0] == "file")
    dirs = sum(1 for v in want.values() if v[0] == "directory")
    if (c["files"], c["directories"]) != (files, dirs):
        problems.append("counts %r, entries %d files %d directories" % (c, files, dirs))
    if sum(v[1] for v in want.values() if v[0] == "file") != c["bytes"]:
        problems.append("counts.bytes %d differs from the sizes" % c["bytes"])
    if len(sys.argv) > 4:
        with open(sys.argv[4]) as f:
            a = json.load(f)["artifacts"]
        if a["manifest_digest"] != "sha256:" + hashlib.sha256(mbytes).hexdigest():
            problems.append("record digest %s is not manifest.json's" % a["manifest_digest"])
        if (a["files"], a["directories"], a["bytes"]) != (c["files"], c["directories"],
                                                         c["bytes"]):
            problems.append("record counts differ from the manifest's")
    for p in problems[:20]:
        print(p)
    if not problems:
        print("ok")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

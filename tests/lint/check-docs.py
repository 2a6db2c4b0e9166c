#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Keeps the docs true to the code, one TAP case per check:

1. every key the run-record writer can emit appears in a table of docs/run-record.md;
2. every key the policy parser accepts appears in docs/policy.md;
3. every key the node configuration parser accepts appears in docs/config.md;
4. docs, examples and tests name only hosts reserved for examples;
5. every option of `airlock run --help` is also in `airlock --help` and README's usage.

Record keys are read from the C sources that build JSON (supervisor/, netfilter/):
the keys of json_pack() formats and of json_object_set*() calls, following a helper
that passes its key parameter on (set_u64(o, "key", v)). A key that is not a string
literal and cannot be followed fails the check: teach this script, do not hide the key.

Usage: check-docs.py [SOURCE_ROOT]
"""
import os
import re
import sys

# Record keys that are data, not names: the object's documentation lists their values
# (syscall_abis: one key per ABI, "x86_64", "i386", "x32", ...; network.dns_unrecorded_verdicts:
# one key per DNS verdict, "not-allowed", "rate-limited", ...; an event line's fields: the
# keys its caller built, found where the caller builds them; a "dns" event's: the record's
# network.dns keys, "type" renamed "qtype").
DYNAMIC_KEYS = {("supervisor/record.c", "s->abis[i].name"),
                ("supervisor/run-net-dns.c", "verdict"),
                ("supervisor/run-redact.c", "redactor_rule_name(r, i)"),
                ("supervisor/run-events.c", "key"),
                ("supervisor/run-events-collect.c", "qkey")}

# Files that build JSON that is not the run record.
# supervisor/artifacts/manifest.c builds manifest.json, changes-json.c changes.json, both
# documented in docs/artifacts.md.
RECORD_EXCLUDED = {"supervisor/cmd-probe.c", "supervisor/records/in-toto.c",
                   "supervisor/artifacts/manifest.c",
                   "supervisor/artifacts/changes-json.c",
                   # the issuers' requests and the revocation state, not the record
                   "supervisor/credentials/credentials-reap.c",
                   "supervisor/credentials/issuer-http-json.c",
                   "supervisor/credentials/issuer-oauth2.c",
                   "supervisor/credentials/issuer-module.c",
                   "supervisor/credentials/issuer-util.c",
                   # the github_app kind's revocation state, kept in the runtime dir
                   "supervisor/credentials/issuer-github.c"}

# Public top-level domains a real service would use. Anything under these must be one of
# the reserved example names (RFC 2606, RFC 6761).
# (Not "sh", "py" and the like: file names would match.)
REAL_TLDS = ("com org net io dev ai co app cloud gov edu info biz us uk de fr nl eu cn ru "
             "jp me xyz tech").split()
RESERVED_SUFFIXES = ("example.com", "example.org", "example.net")
HOST_RE = re.compile(r"(?<![\w.@/-])((?:[A-Za-z0-9*](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\.)+(" +
                     "|".join(REAL_TLDS) + r"))\.?(?![\w-])", re.IGNORECASE)
HOST_SCAN_EXT = (".md", ".json", ".sh", ".py", ".c", ".h", ".txt", ".build")
C_STRING_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"')


class Fail(Exception):
    pass


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        return f.read()


def strip_comments(src):
    """Blanks C comments, keeping string literals and line numbers."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def call_args(src, open_paren):
    """The top-level arguments of the call whose '(' is at open_paren, as strings."""
    args, depth, start, i = [], 0, open_paren + 1, open_paren
    while i < len(src):
        c = src[i]
        if c in "\"'":
            j = i + 1
            while src[j] != c:
                j += 2 if src[j] == "\\" else 1
            i = j
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(src[start:i].strip())
                return args
        elif c == "," and depth == 1:
            args.append(src[start:i].strip())
            start = i + 1
        i += 1
    raise Fail("unbalanced call at offset %d" % open_paren)


def literal(arg):
    """The value of a (possibly concatenated) C string literal, or None."""
    parts = C_STRING_RE.findall(arg)
    if not parts or C_STRING_RE.sub("", arg).strip():
        return None
    return "".join(p[1:-1] for p in parts)


def pack_keys(fmt, args, where):
    """Keys of a json_pack() format; args are the arguments after the format."""
    keys, stack, ai, i = [], [], 0, 0
    expect_key = False
    while i < len(fmt):
        c = fmt[i]
        i += 1
        if c in " \t\n,:":
            continue
        if c == "{":
            stack.append("{")
            expect_key = True
            continue
        if c == "[":
            stack.append("[")
            expect_key = False
            continue
        if c in "}]":
            stack.pop()
            expect_key = bool(stack) and stack[-1] == "{"
            continue
        if expect_key:
            if c != "s" or (i < len(fmt) and fmt[i] in "#%"):
                raise Fail("%s: json_pack key conversion '%s' not understood" % (where, c))
            key = literal(args[ai]) if ai < len(args) else None
            if key is None:
                raise Fail("%s: json_pack key %r is not a string literal" %
                           (where, args[ai] if ai < len(args) else "?"))
            keys.append(key)
            ai += 1
            expect_key = False
            continue
        # A value: consumes its arguments; the next item of an object is a key again.
        if c in "siIbfoO":
            ai += 1
            if c == "s" and i < len(fmt) and fmt[i] in "#%":
                ai += 1
                i += 1
            if i < len(fmt) and fmt[i] in "?*":
                i += 1
        elif c != "n":
            raise Fail("%s: json_pack conversion '%s' not understood" % (where, c))
        expect_key = bool(stack) and stack[-1] == "{"
    return keys


FUNC_RE = re.compile(r"^[A-Za-z_][\w \t*]*?\b(\w+)\s*\(([^;{)]*)\)\s*\{", re.MULTILINE)


def enclosing_function(src, pos):
    best = None
    for m in FUNC_RE.finditer(src, 0, pos):
        best = m
    return best


def record_keys(root):
    """{key: [where, ...]} for every key the record writer can emit."""
    files = []
    for d in ("supervisor", "netfilter"):
        # Subdirectories too: supervisor/credentials/ builds record JSON.
        for top, dirs, names in os.walk(os.path.join(root, d)):
            dirs.sort()
            for name in sorted(names):
                rel = os.path.relpath(os.path.join(top, name), root)
                if name.endswith(".c") and rel not in RECORD_EXCLUDED:
                    files.append(rel)
    keys = {}
    for rel in files:
        src = strip_comments(read(root, rel))
        helpers = {}  # function name -> index of the key parameter

        def add(key, pos):
            line = src.count("\n", 0, pos) + 1
            keys.setdefault(key, []).append("%s:%d" % (rel, line))

        for m in re.finditer(r"\bjson_pack(?:_ex)?\s*\(", src):
            args = call_args(src, m.end() - 1)
            if m.group(0).startswith("json_pack_ex"):
                args = args[2:]
            fmt = literal(args[0])
            where = "%s:%d" % (rel, src.count("\n", 0, m.start()) + 1)
            if fmt is None:
                raise Fail("%s: json_pack format is not a string literal" % where)
            for k in pack_keys(fmt, args[1:], where):
                add(k, m.start())
        # record_json_set(o, "key", v) (supervisor/record-json.h) sets a key like these.
        for m in re.finditer(r"\brecord_json_set\s*\(", src):
            if FUNC_RE.match(src, src.rfind("\n", 0, m.start()) + 1):
                continue  # the definition itself
            args = call_args(src, m.end() - 1)
            key = literal(args[1]) if len(args) > 1 else None
            if key is None and (rel, args[1].strip()) in DYNAMIC_KEYS:
                continue
            if key is None:
                raise Fail("%s:%d: record_json_set() is passed a key that is not a literal" %
                           (rel, src.count("\n", 0, m.start()) + 1))
            add(key, m.start())
        for m in re.finditer(r"\bjson_object_set(?:_new)?(?:_nocheck)?\s*\(", src):
            args = call_args(src, m.end() - 1)
            key = literal(args[1])
            if key is not None:
                add(key, m.start())
                continue
            if (rel, args[1].strip()) in DYNAMIC_KEYS:
                continue
            fn = enclosing_function(src, m.start())
            params = [p.strip() for p in fn.group(2).split(",")] if fn else []
            names = [re.findall(r"\w+", p)[-1] if re.findall(r"\w+", p) else "" for p in params]
            if not fn or args[1] not in names:
                raise Fail("%s:%d: record key %r is neither a literal nor a parameter" %
                           (rel, src.count("\n", 0, m.start()) + 1, args[1]))
            helpers[fn.group(1)] = names.index(args[1])
        for name, idx in helpers.items():
            for m in re.finditer(r"\b%s\s*\(" % re.escape(name), src):
                if FUNC_RE.match(src, src.rfind("\n", 0, m.start()) + 1):
                    continue  # the definition itself
                args = call_args(src, m.end() - 1)
                key = literal(args[idx]) if idx < len(args) else None
                if key is None:
                    raise Fail("%s:%d: %s() is passed a key that is not a literal" %
                               (rel, src.count("\n", 0, m.start()) + 1, name))
                add(key, m.start())
    return keys


def doc_table_tokens(text):
    """Backticked words in table rows, split at dots and brackets."""
    words = set()
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            continue
        for tok in re.findall(r"`([^`]+)`", line):
            for w in re.split(r"[.\[\]\s,()]+", tok):
                if w:
                    words.add(w)
    return words


def check_record(root):
    keys = record_keys(root)
    if len(keys) < 20:
        raise Fail("found only %d record keys: the extraction is broken" % len(keys))
    documented = doc_table_tokens(read(root, "docs/run-record.md"))
    missing = sorted(k for k in keys if k not in documented)
    if missing:
        raise Fail("record keys missing from the tables of docs/run-record.md:\n" +
                   "\n".join("%s (%s)" % (k, ", ".join(keys[k])) for k in missing))


def parser_keys(root, names):
    """{key: where} of the dispatch-table rows in policy/<name> for each name."""
    keys = {}
    for name in names:
        src = strip_comments(read(root, "policy/" + name))
        for m in re.finditer(r'"([A-Za-z_][\w]*)"\s*,\s*POLICY_JSON_[A-Z]+', src):
            keys.setdefault(m.group(1), "policy/%s:%d" % (name, src.count("\n", 0, m.start()) + 1))
    return keys


def documented_tokens(root, doc):
    documented, fenced = set(), False
    for line in read(root, doc).splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        for tok in re.findall(r"`([^`]+)`", line):
            documented.update(w for w in re.split(r"[.\[\]\s,()/]+", tok) if w)
    return documented


def check_keys(root, kind, names, doc, at_least):
    keys = parser_keys(root, names)
    if len(keys) < at_least:
        raise Fail("found only %d %s keys: the extraction is broken" % (len(keys), kind))
    documented = documented_tokens(root, doc)
    missing = sorted(k for k in keys if k not in documented)
    if missing:
        raise Fail("%s keys missing from %s:\n" % (kind, doc) +
                   "\n".join("%s (%s)" % (k, keys[k]) for k in missing))


# The node configuration's parser lives in policy/ too (it shares the dispatcher).
NODE_CONFIG_SOURCES = ("node-config.c", "node-config-issuers.c")


def check_policy(root):
    names = sorted(n for n in os.listdir(os.path.join(root, "policy"))
                   if n.endswith(".c") and n not in NODE_CONFIG_SOURCES)
    check_keys(root, "policy", names, "docs/policy.md", 20)


def check_config(root):
    check_keys(root, "configuration", NODE_CONFIG_SOURCES, "docs/config.md", 5)


def host_files(root):
    yield "README.md"
    for top in ("docs", "tests"):
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(x for x in dirs if not x.startswith("."))
            for f in sorted(files):
                rel = os.path.relpath(os.path.join(d, f), root)
                if f.endswith(HOST_SCAN_EXT) or "/corpus/" in rel:
                    yield rel


def check_hosts(root):
    bad = []
    for rel in host_files(root):
        text = read(root, rel)
        if rel.endswith((".c", ".h")):
            # Only string literals: a member access (a struct field named net) is no host.
            text = "\n".join(" ".join(C_STRING_RE.findall(line)) for line in text.split("\n"))
        for n, line in enumerate(text.split("\n"), 1):
            for m in HOST_RE.finditer(line):
                host = m.group(1).lower()
                if any(host == s or host.endswith("." + s) for s in RESERVED_SUFFIXES):
                    continue
                bad.append("%s:%d: %s" % (rel, n, m.group(1)))
    if bad:
        raise Fail("real host names (use example.com/.org/.net, .example, .test or .invalid):\n" +
                   "\n".join(bad))


def function_text(src, name):
    """The body of C function name in src, from its name to the closing brace."""
    start = src.index(name + "(")
    return src[start:src.index("\n}\n", start)]


def check_run_options(root):
    """Each option of `airlock run --help` is also in `airlock --help` and README's usage."""
    opts = set(re.findall(r"--[a-z][a-z-]*", function_text(read(root, "supervisor/cmd-run.c"),
                                                             "run_usage")))
    if len(opts) < 10:
        raise Fail("found only %s in run_usage() of supervisor/cmd-run.c" % sorted(opts))
    readme = "\n".join(l for l in read(root, "README.md").split("\n")
                       if l.startswith("airlock run "))
    places = {
        "airlock --help (usage() in supervisor/main.c)":
            function_text(read(root, "supervisor/main.c"), "static void usage"),
        "README.md's airlock run lines": readme,
    }
    bad = ["%s lacks %s" % (where, o) for where, text in places.items()
           for o in sorted(opts) if not re.search(re.escape(o) + r"(?![a-z-])", text)]
    if bad:
        raise Fail("\n".join(bad))


CHECKS = [
    ("every run-record key is documented in docs/run-record.md", check_record),
    ("every policy key is documented in docs/policy.md", check_policy),
    ("every node configuration key is documented in docs/config.md", check_config),
    ("docs, examples and tests name only reserved example hosts", check_hosts),
    ("every option of airlock run --help is in airlock --help and the README", check_run_options),
]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    print("1..%d" % len(CHECKS))
    failed = 0
    for i, (desc, fn) in enumerate(CHECKS, 1):
        try:
            fn(root)
            print("ok %d - %s" % (i, desc))
        except Fail as e:
            failed = 1
            print("not ok %d - %s" % (i, desc))
            for line in str(e).splitlines():
                print("# " + line)
    return failed


if __name__ == "__main__":
    sys.exit(main())

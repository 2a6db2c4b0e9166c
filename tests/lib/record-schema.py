#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run records and event logs against docs/run-record.schema.json (python3-jsonschema).

  record-schema.py validate SCHEMA PATH...
      Validates every run record and event log under each PATH (a file or a directory,
      walked): a *.json file whose object has "record_version" is a record (the state
      dirs' records/ and --record copies alike), each line of an events/*.jsonl file is an
      event line (#/$defs/event). Prints one line per problem, "FILE[:LINE]: where: what",
      then "validated N records, M event lines"; exits 1 on any problem. A directory
      holding a file named .airlock-schema-skip is not looked into (a test that forged
      records on purpose marks it so).

  record-schema.py lint SOURCE_ROOT
      TAP: the schema is valid draft 2020-12; every key documented in the key tables of
      docs/run-record.md is a property in the schema; every property of the schema is
      documented there.
"""
import json
import os
import re
import stat
import sys

SKIP_MARK = ".airlock-schema-skip"
# Larger files are no records: a test's big data (the records themselves stay far below).
MAX_BYTES = 64 << 20


def load_validator(schema_path):
    import jsonschema
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    record = cls(schema)
    event = cls({"$ref": "#/$defs/event", "$defs": schema["$defs"]})
    return record, event


def where(err):
    return "/" + "/".join(str(p) for p in err.absolute_path)


def is_small_regular(path):
    """Only regular files are read: a test's FIFO named *.json would block, a symlink
    could lead anywhere."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size <= MAX_BYTES


def candidates(paths):
    for p in paths:
        if not os.path.isdir(p):
            if is_small_regular(p):
                yield p
            continue
        for top, dirs, files in os.walk(p):
            if SKIP_MARK in files:
                dirs[:] = []
                continue
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(top, name)
                if (name.endswith(".json") or (name.endswith(".jsonl") and
                                               os.path.basename(top) == "events")) and \
                        is_small_regular(path):
                    yield path


def check_record(path, validator, problems):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return 0  # not JSON: not a record (a policy, a test's own file)
    if not isinstance(doc, dict) or "record_version" not in doc:
        return 0
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        problems.append("%s: %s: %s" % (path, where(err), err.message[:300]))
    return 1


def check_events(path, validator, problems):
    n = 0
    with open(path, "rb") as f:
        for i, raw in enumerate(f, 1):
            n += 1
            try:
                line = json.loads(raw)
            except ValueError as e:
                problems.append("%s:%d: not JSON: %s" % (path, i, e))
                continue
            for err in validator.iter_errors(line):
                problems.append("%s:%d: %s: %s" % (path, i, where(err), err.message[:300]))
    return n


def validate(schema_path, paths):
    record, event = load_validator(schema_path)
    problems, n_rec, n_ev = [], 0, 0
    for p in candidates(paths):
        if p.endswith(".jsonl"):
            n_ev += check_events(p, event, problems)
        else:
            n_rec += check_record(p, record, problems)
    for p in problems:
        print(p)
    print("validated %d records, %d event lines" % (n_rec, n_ev))
    return 1 if problems else 0


def schema_properties(node, out):
    """Every property name anywhere in the schema."""
    if isinstance(node, dict):
        for k, v in node.get("properties", {}).items():
            out.add(k)
        for v in node.values():
            schema_properties(v, out)
    elif isinstance(node, list):
        for v in node:
            schema_properties(v, out)
    return out


def documented_keys(text):
    """(first-column keys of the tables headed "key" or "field", every backticked word of
    any table row), split at dots, brackets and commas."""
    keys, words, keyed = set(), set(), False
    for line in text.splitlines():
        s = line.strip()
        if not s.startswith("|"):
            keyed = False
            continue
        cells = [c.strip() for c in s.strip("|").split("|")]
        if cells and cells[0] in ("key", "field"):
            keyed = True
            continue
        for tok in re.findall(r"`([^`]+)`", s):
            words.update(w for w in re.split(r"[.\[\]\s,()]+", tok) if w)
        if keyed and cells and not set(cells[0]) <= set("-: "):
            for tok in re.findall(r"`([^`]+)`", cells[0]):
                keys.update(w for w in re.split(r"[.\[\]\s,()]+", tok) if w)
    return keys, words


def lint(root):
    cases = []
    schema_path = os.path.join(root, "docs/run-record.schema.json")
    try:
        load_validator(schema_path)
        cases.append((True, "docs/run-record.schema.json is a valid JSON Schema (2020-12)", []))
    except Exception as e:  # noqa: BLE001 (any failure is the case's failure)
        cases.append((False, "docs/run-record.schema.json is a valid JSON Schema (2020-12)",
                      [str(e)[:500]]))
    with open(schema_path, encoding="utf-8") as f:
        props = schema_properties(json.load(f), set())
    with open(os.path.join(root, "docs/run-record.md"), encoding="utf-8") as f:
        keys, words = documented_keys(f.read())
    missing = sorted(keys - props)
    cases.append((not missing, "every key documented in docs/run-record.md is in the schema",
                  missing))
    undocumented = sorted(props - words)
    cases.append((not undocumented,
                  "every property of the schema is documented in docs/run-record.md",
                  undocumented))
    print("1..%d" % len(cases))
    for i, (ok, desc, detail) in enumerate(cases, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
        for d in detail:
            print("# " + d)
    return 0 if all(c[0] for c in cases) else 1


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "validate":
        return validate(sys.argv[2], sys.argv[3:])
    if len(sys.argv) == 3 and sys.argv[1] == "lint":
        return lint(sys.argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())

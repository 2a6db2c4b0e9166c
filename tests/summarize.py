#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Counts TAP test cases across meson's test log and the vm stage's TAP files.

Prints one line per failed case with the TAP diagnostics that follow it (at most
DIAG_LINES of them), then the closing line "N passed, N failed, N skipped".
Exits 1 when any case failed, a test program failed without a TAP failure (crash,
timeout, bad plan), or nothing ran at all.
"""
import json
import os
import re
import sys

CASE = re.compile(r'^(not ok|ok)\b\s*(\d+)?\s*-?\s*(.*)$')
DIAG_LINES = 40


def count_tap(name, text, totals, failures):
    seen = 0
    diag = None  # the diagnostics of the last failed case, while they follow it
    for line in text.splitlines():
        m = CASE.match(line.strip())
        if not m:
            if diag is not None and line.lstrip().startswith('#') and len(diag) < DIAG_LINES:
                diag.append(line.strip())
            continue
        diag = None
        seen += 1
        desc = m.group(3)
        if re.search(r'#\s*SKIP', desc, re.I):
            totals['skipped'] += 1
        elif m.group(1) == 'ok':
            totals['passed'] += 1
        else:
            totals['failed'] += 1
            diag = []
            failures.append((f'{name}: {line.strip()}', diag))
    return seen


def main(results):
    totals = {'passed': 0, 'failed': 0, 'skipped': 0}
    failures = []
    for log in ('testlog-asan.json', 'testlog.json'):
        path = os.path.join(results, log)
        if os.path.exists(path):
            break
    else:
        path = None
    if path:
        with open(path) as f:
            for line in f:
                t = json.loads(line)
                seen = count_tap(t['name'], t.get('stdout') or '', totals, failures)
                if t['result'] in ('FAIL', 'TIMEOUT', 'ERROR', 'UNEXPECTEDPASS'):
                    if seen == 0 or not any(x.startswith(t['name'] + ':') for x, _ in failures):
                        totals['failed'] += 1
                        failures.append((f"{t['name']}: {t['result']} (exit {t.get('returncode')})", []))
                elif t['result'] == 'SKIP' and seen == 0:
                    totals['skipped'] += 1
    vm = os.path.join(results, 'vm')
    if os.path.isdir(vm):
        for fn in sorted(os.listdir(vm)):
            if fn.endswith('.tap'):
                with open(os.path.join(vm, fn), errors='replace') as f:
                    count_tap('vm/' + fn[:-4], f.read(), totals, failures)
        status_file = os.path.join(vm, 'status')
        if os.path.exists(status_file):
            with open(status_file) as f:
                st = f.read().strip()
            if st != 'ok':
                totals['failed'] += 1
                failures.append((f'vm: stage failed: {st}', []))
    for f, diag in failures:
        print('FAILED ' + f)
        for d in diag:
            print('    ' + d)
    total = totals['passed'] + totals['failed']
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if totals['failed'] or total == 0 else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'build-test/results'))

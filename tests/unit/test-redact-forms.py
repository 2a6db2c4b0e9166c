#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The redactor against the independent checker: random values, every form
tests/lib/secret_forms.py knows (as a task would print them), through redact-filter (the
redactor as airlock runs it) in reads of 1, 7 and 65536 bytes, at each vector level this
CPU runs (redact-filter --levels): no form may be left, and the text around them must come
out unchanged. TAP.

usage: test-redact-forms.py REDACT_FILTER SECRET_FORMS_PY
"""
import importlib.util
import os
import random
import subprocess
import sys
import tempfile


def load(path):
    spec = importlib.util.spec_from_file_location('secret_forms', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(filter_path, forms_path):
    sf = load(forms_path)
    levels = subprocess.run([filter_path, '--levels'], capture_output=True, check=True,
                            text=True).stdout.split()
    rng = random.Random(10)
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        vfile = os.path.join(tmp, 'value')
        for round_ in range(12):
            value = bytes(rng.choice(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                                     b'0123456789-_+/=:@!') for _ in range(rng.randrange(8, 60)))
            with open(vfile, 'wb') as f:
                f.write(value)
            head, tail = b'=== start of output ===\n', b'\n=== end of output ===\n'
            text = head + b' | '.join(sf.emitted(value, round_).values()) + tail
            for chunk, level in ((c, l) for c in (1, 7, 65536) for l in levels):
                out = subprocess.run([filter_path, '--level=' + level, str(chunk),
                                      'tok=' + vfile], input=text, capture_output=True,
                                     check=False)
                found = sf.find(out.stdout, value)
                desc = 'round %d, reads of %d bytes, %s' % (round_, chunk, level)
                cases.append((out.returncode == 0 and not found,
                              desc + ': no form left' + (' (%s)' % found if found else '')))
                cases.append((out.stdout.startswith(head) and out.stdout.endswith(tail) and
                              out.stdout.count(b'[REDACTED:tok]') >= 8,
                              desc + ': the text around is unchanged'))
    print('1..%d' % len(cases))
    for i, (good, desc) in enumerate(cases, 1):
        print('%s %d - %s' % ('ok' if good else 'not ok', i, desc))
    return 0 if all(good for good, _ in cases) else 1


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))

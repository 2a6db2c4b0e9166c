#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The task of test-redaction.sh, run inside the sandbox: prints the credential values it
was given (file /run/secrets/a, environment variable B) in every form secret_forms.py
knows, to stdout and stderr, in pieces with pauses between the writes.

usage: redact-task.py forms | quoted | escapes | tail | tail-unfinished | prompt |
       prompt-slow | partial-quiet | reviewed SEED | reviewed-tail SEED |
       made reviewed|reviewed-tail SEED

quoted prints the value of /run/secrets/a as bash and Python quote it.

reviewed prints keys and tokens of its own making from SEED in forms a review found
leaking, then the value of /run/secrets/a as json.dumps() and repr() write a string holding
it; reviewed-tail ends stdout inside the headers of a flattened key. made prints, a line
each, what those make from SEED (run outside the sandbox, for the test to look for).
"""
import base64
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, '/workspace')
import secret_forms  # noqa: E402

ESCAPES = (b'ESC:\x1b[2J|OSC:\x1b]0;pwned\x07|HIDE:\x1b[8mhidden\x1b[0m|CSI8:\x9b31m|'
           b'C1:\xc2\x9b|NUL:\x00|BEL:\x07|BIDI:\xe2\x80\xae|end\n')


def values():
    with open('/run/secrets/a', 'rb') as f:
        a = f.read()
    return a, os.environb[b'B']


def write(fd, data):
    while data:
        data = data[os.write(fd, data):]


def pieces(rng, data):
    """data cut at 0 to 3 random points."""
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randrange(4))))
    return [data[i:j] for i, j in zip([0] + cuts, cuts + [len(data)])]


def forms():
    rng = random.Random(int(os.environ.get('SEED', '1')))
    for value in values():
        # the raw value split in two writes, with a pause longer than the quiet flush
        for fd in (1, 2):
            half = len(value) // 2
            write(fd, b'split: ' + value[:half])
            time.sleep(0.35)
            write(fd, value[half:] + b'\n')
        for name, form in secret_forms.emitted(value, rng.randrange(1000)).items():
            for fd in (1, 2):
                for piece in pieces(rng, b'%s: ' % name.encode() + form + b' .\n'):
                    write(fd, piece)
                    time.sleep(rng.choice((0, 0.001, 0.01, 0.05)))


def made_key(rng, nbytes, made):
    """The lines (64 characters) of a key's base64 text, recorded in made."""
    text = base64.b64encode(bytes(rng.randrange(256) for _ in range(nbytes))).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    made.extend(line for line in lines if len(line) >= 16)
    return lines


def reviewed(rng, made, out):
    pem = (['-----BEGIN PRIVATE KEY-----'] + made_key(rng, 1200, made) +
           ['-----END PRIVATE KEY-----'])
    # a list of the lines, in JSON inside JSON (a log line holding JSON as a string)
    out(json.dumps(json.dumps({'key': pem, 'user': 'bob'})) + '\n')
    out(json.dumps(json.dumps({'key': pem[:-3], 'user': 'carol'})) + '\n')
    # quotes written \u0022 and \u0027, as System.Text.Json writes them
    for q in ('\\u0022', '\\u0027'):
        tok = base64.urlsafe_b64encode(bytes(rng.randrange(256) for _ in range(24))).decode()
        made.append(tok)
        out('{%sAuthorization%s: %sBearer %s%s, %snext%s: 1}\n' % (q, q, q, tok, q, q, q))
    # a PGP key with subkeys: past 16 KiB
    pgp = made_key(rng, 30000, made)
    out('-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n' + '\n'.join(pgp) +
        '\n=Xj5a\n-----END PGP PRIVATE KEY BLOCK-----\nok after the long key\n')


def reviewed_tail(rng, made, out):
    iv = '%032X' % rng.randrange(1 << 128)
    made.append(iv)
    out('-----BEGIN RSA PRIVATE KEY----- Proc-Type: 4,ENCRYPTED DEK-Info: AES-128-CBC,' + iv)


REVIEWED = {'reviewed': reviewed, 'reviewed-tail': reviewed_tail}


def main(mode):
    if mode in REVIEWED:
        REVIEWED[mode](random.Random(int(sys.argv[2])), [], lambda t: write(1, t.encode()))
        if mode == 'reviewed':
            # the value holding % and \x escapes, as a string in JSON and in Python's repr
            a = values()[0].decode()
            write(1, (json.dumps({'a': a, 'next': 'field'}) + ' ' + repr(a) + '\n').encode())
    elif mode == 'made':
        made = []
        REVIEWED[sys.argv[2]](random.Random(int(sys.argv[3])), made, lambda t: None)
        print('\n'.join(made))
    elif mode == 'forms':
        forms()
    elif mode == 'quoted':
        # the value of a (quotes, $, &, parentheses, spaces) as bash quotes it in its
        # trace, printf %q, ${v@Q} and declare -p, and as Python's repr writes it (the
        # trace stops before ${v@Q}: its trace would quote the quoted value again)
        a = values()[0].decode()
        sys.stdout.flush()
        subprocess.run(['/bin/bash', '-c', 'set -x; : "$PW"; printf "%q\\n" "$PW"; '
                        '{ set +x; } 2>/dev/null; echo "${PW@Q}"; declare -p PW'],
                       env={'PW': a}, check=True)
        print(repr(a))
        print(repr(a + '"'))
    elif mode == 'escapes':
        for fd in (1, 2):
            write(fd, ESCAPES)
    elif mode == 'tail':
        a, b = values()
        write(1, b'last: ' + a[:-2])  # no newline, the stream's last bytes
        write(2, b'last: ' + b[:-3])
    elif mode == 'tail-unfinished':
        a, b = values()
        # the first 12 characters of a value, then the stream ends inside an escape: as C
        # escapes, cut in the next one; and with zero-width spaces between them, cut in
        # the middle of the next one's UTF-8
        write(1, b'last: ' + b''.join(b'\\x%02x' % c for c in a[:12]) + b'\\x')
        write(2, b'last: ' + '\u200b'.encode().join(b[i:i + 1] for i in range(12)) +
              b'\xe2\x80')
    elif mode == 'prompt':
        a, _ = values()
        # ends in the first 3 characters of a value: held back until the task goes quiet
        write(1, b'ready\nenter code ' + a[:3])
        time.sleep(3)
        write(1, b'\n')
    elif mode == 'prompt-slow':
        a, _ = values()
        # the same 3 characters one at a time, 0.15 s apart: still held, since each write
        # keeps the partial match going; quiet only 0.2 s after the last one
        write(1, b'ready\nenter code ' + a[:1])
        at = [time.monotonic()]
        for i in (1, 2):
            time.sleep(0.15)
            write(1, a[i:i + 1])
            at.append(time.monotonic())
        # the gaps as they were: a loaded machine may stretch one past the quiet period
        write(2, b'gaps-ms %d\n' % max(1000 * (y - x) for x, y in zip(at, at[1:])))
        time.sleep(3)
        write(1, b'\n')
    elif mode == 'partial-quiet':
        a, _ = values()
        # 8 characters of a value, then quiet for 3 s: more than a quiet flush lets out
        write(1, b'ready\nheld ' + a[:8])
        time.sleep(3)
        write(1, a[8:] + b'\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))

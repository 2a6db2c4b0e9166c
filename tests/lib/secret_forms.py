#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The forms a secret value can take in task output, known apart from the redactor
(supervisor/output/): a test prints them from inside a task and then checks that none is
left in what came out. docs/logs.md lists the forms the redactor covers; these are the same
ones, written down independently.

usage:
  secret_forms.py emit VALUE_FILE         the forms as a task would print them, separated
                                          by " | " (some contain newlines and escapes)
  secret_forms.py names VALUE_FILE        the names of the forms emit prints, one a line
  secret_forms.py check VALUE_FILE FILE...
                                          exit 1 (naming form and offset, never the value)
                                          when a form is found in a FILE, 0 when none is
  secret_forms.py selftest                TAP self-test

A form is searched for in the file as it is, and in the file with whitespace, controls,
invisible characters (U+200B..U+200D, U+2060, U+FEFF and the like) and terminal escape
sequences taken out, so that one split across lines or interleaved is found too. Only
forms of at least MIN_FORM bytes are searched (shorter ones would match ordinary text).
"""
import base64
import json
import random
import re
import sys
import urllib.parse

MIN_FORM = 8

# Taken out before the second search: terminal escapes (CSI; OSC, DCS, SOS, PM, APC strings
# whole; two-byte and nF sequences; a lone ESC), then invisible characters, then bytes up to
# 0x20 and DEL.
ESCAPES = re.compile(
    rb'\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]'
    rb'|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?'
    rb'|\x1b[\x20-\x2f]*[\x30-\x7e]'
    rb'|\x1b')
INVISIBLE = re.compile('[\u0080-\u00a0\u00ad\u2000-\u200f\u2028-\u202f\u205f-\u206f\ufeff]')
WHITESPACE = re.compile(rb'[\x00-\x20\x7f]')


def strip_interleaving(data):
    """data with escapes, invisible characters, whitespace and controls taken out."""
    data = ESCAPES.sub(b'', data)
    text = data.decode('utf-8', 'surrogateescape')
    text = INVISIBLE.sub('', text)
    return WHITESPACE.sub(b'', text.encode('utf-8', 'surrogateescape'))


def b64_inner(value, align, altchars):
    """The characters of the base64 of value, starting at byte align (0..2) of a group,
    whose six bits all come from value."""
    enc = base64.b64encode(bytes(align) + value + bytes(2), altchars=altchars)
    lo = (8 * align + 5) // 6
    hi = 8 * (align + len(value)) // 6
    return enc[lo:hi]


def rot13(value):
    out = bytearray()
    for c in value:
        if 0x41 <= c <= 0x5a:
            c = 0x41 + (c - 0x41 + 13) % 26
        elif 0x61 <= c <= 0x7a:
            c = 0x61 + (c - 0x61 + 13) % 26
        out.append(c)
    return bytes(out)


def reversed_forms(value):
    yield 'reversed', value[::-1]
    try:
        yield 'reversed-chars', value.decode('utf-8')[::-1].encode('utf-8')
    except UnicodeDecodeError:
        pass


def json_forms(value):
    try:
        text = value.decode('utf-8')
    except UnicodeDecodeError:
        text = value.decode('latin-1')
    yield 'json', json.dumps(text)[1:-1].encode()
    yield 'json-utf8', json.dumps(text, ensure_ascii=False)[1:-1].encode('utf-8')
    yield 'json-u-lower', ''.join('\\u%04x' % ord(c) for c in text).encode()
    yield 'json-u-upper', ''.join('\\u%04X' % ord(c) for c in text).encode()


def forms(value):
    """Every form of value searched for: {name: bytes}."""
    out = {'raw': value, 'rot13': rot13(value),
           'hex': value.hex().encode(), 'hex-upper': value.hex().upper().encode(),
           'percent': ''.join('%%%02X' % c for c in value).encode(),
           'percent-lower': ''.join('%%%02x' % c for c in value).encode(),
           'url': urllib.parse.quote(value, safe='').encode(),
           'url-path': urllib.parse.quote(value).encode(),
           'url-js': urllib.parse.quote(value, safe="-_.!~*'()").encode(),
           'c-hex': ''.join('\\x%02x' % c for c in value).encode()}
    out.update(reversed_forms(value))
    out.update(json_forms(value))
    for align in range(3):
        out['base64-%d' % align] = b64_inner(value, align, None)
        out['base64url-%d' % align] = b64_inner(value, align, b'-_')
    out['base64'] = base64.b64encode(value)
    out['base64url'] = base64.urlsafe_b64encode(value).rstrip(b'=')
    return {k: v for k, v in out.items() if len(v) >= MIN_FORM}


def interleaved(value, rng):
    """The value with whitespace, newlines, invisible characters and escapes between its
    characters: {name: bytes}."""
    gaps = {'spaces': [b' '], 'newlines': [b'\n', b'\r\n'], 'tabs': [b'\t'],
            'zero-width': ['\u200b'.encode(), '\u200c'.encode(), '\u200d'.encode(),
                           '\u2060'.encode(), '\ufeff'.encode()],
            'csi': [b'\x1b[31m', b'\x1b[0m', b'\x1b[1;32m'],
            'osc': [b'\x1b]8;;\x1b\\', b'\x1b]0;\x07'], 'esc2': [b'\x1b7', b'\x1b(B']}
    out = {}
    for name, choices in gaps.items():
        pieces = []
        for i, c in enumerate(value):
            pieces.append(bytes([c]))
            if i + 1 < len(value):
                pieces.append(rng.choice(choices))
        out['interleaved-' + name] = b''.join(pieces)
    half = len(value) // 2
    out['split-lines'] = value[:half] + b'\n' + value[half:]
    return out


def embedded_base64(value, rng):
    """The value inside longer base64 texts, at each alignment, padded or not."""
    out = {}
    for align in range(3):
        blob = base64.b64encode(bytes(rng.randrange(256) for _ in range(align)) + value +
                                bytes(rng.randrange(256) for _ in range(rng.randrange(3))))
        out['in-base64-%d' % align] = blob
        out['in-base64url-%d' % align] = blob.replace(b'+', b'-').replace(b'/', b'_').rstrip(b'=')
    return out


def emitted(value, seed=1):
    """What a task prints to show every form: {name: bytes}."""
    rng = random.Random(seed)
    out = dict(forms(value))
    out.update(interleaved(value, rng))
    out.update(embedded_base64(value, rng))
    return out


def find(data, value):
    """[(form name, offset, 'as is' or 'stripped')] of the forms of value in data."""
    found = []
    stripped = strip_interleaving(data)
    for name, form in forms(value).items():
        for where, hay, needle in (('as is', data, form),
                                   ('stripped', stripped, strip_interleaving(form))):
            if len(needle) < MIN_FORM:
                continue
            at = hay.find(needle)
            if at >= 0:
                found.append((name, at, where))
    return found


def selftest():
    rng = random.Random(7)
    cases = []

    def ok(cond, desc):
        cases.append((bool(cond), desc))

    for round_ in range(40):
        value = bytes(rng.choice(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                                 b'0123456789-_+/=:@!') for _ in range(rng.randrange(8, 48)))
        for name, form in emitted(value, round_).items():
            text = b'before ' + form + b' after\n'
            ok(find(text, value), 'round %d: %s is found' % (round_, name))
        filler = bytes(rng.choice(b'abcdefghijklmnopqrstuvwxyz \n') for _ in range(4000))
        ok(not find(filler, value), 'round %d: ordinary text is clean' % round_)
        ok(not find(b'[REDACTED:tok] x', value), 'round %d: a label is clean' % round_)
    ok(strip_interleaving(b'a\x1b[1;31mb\x1b]0;t\x07c \xe2\x80\x8bd\x1b7e') == b'abcde',
       'escapes, spaces and zero-width characters are taken out')
    print('1..%d' % len(cases))
    for i, (good, desc) in enumerate(cases, 1):
        print('%s %d - %s' % ('ok' if good else 'not ok', i, desc))
    return 0 if all(good for good, _ in cases) else 1


def main(argv):
    if len(argv) == 2 and argv[1] == 'selftest':
        return selftest()
    if len(argv) < 3 or argv[1] not in ('names', 'emit', 'check'):
        sys.stderr.write(__doc__)
        return 2
    with open(argv[2], 'rb') as f:
        value = f.read()
    if argv[1] == 'names':
        print('\n'.join(emitted(value)))
        return 0
    if argv[1] == 'emit':
        sys.stdout.buffer.write(b' | '.join(emitted(value).values()) + b'\n')
        return 0
    status = 0
    for path in argv[3:]:
        with open(path, 'rb') as f:
            data = f.read()
        for name, at, where in find(data, value):
            print('%s: form %s at offset %d (%s)' % (path, name, at, where))
            status = 1
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv))

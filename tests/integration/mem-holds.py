#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Which mappings of a live process hold any of some byte strings (run as root).

    mem-holds.py PID {all|dumped|undumped} NEEDLE...

Prints one line per readable mapping that holds a needle: "<range> <perms> <name> dd" (dd:
left out of core dumps, MADV_DONTDUMP). "dumped" looks only at the mappings a core dump
would hold, "undumped" only at the others. Mappings larger than 4 GiB (an ASan build's
shadow and reservations: no data of the program's own) and those with nothing resident
are skipped.
"""
import os
import re
import sys
import time

CHUNK = 1 << 20
MAX_REGION = 4 << 30


def regions(pid):
    out, cur = [], None
    with open('/proc/%s/smaps' % pid) as f:
        for line in f:
            m = re.match(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$', line)
            if m:
                cur = {'a': int(m.group(1), 16), 'b': int(m.group(2), 16),
                       'perm': m.group(3), 'name': m.group(4), 'rss': 0, 'dd': False}
                out.append(cur)
            elif line.startswith('Rss:') and cur:
                cur['rss'] = int(line.split()[1])
            elif line.startswith('VmFlags:') and cur:
                cur['dd'] = ' dd' in line + ' '
    return out


def holds(mem, r, needles):
    longest = max(len(n) for n in needles)
    prev, off = b'', r['a']
    while off < r['b']:
        try:
            mem.seek(off)
            data = mem.read(min(CHUNK, r['b'] - off))
        except OSError:
            data = b''
        window = prev[-longest:] + data
        if any(n in window for n in needles):
            return True
        prev, off = data, off + CHUNK
    return False


def open_mem(pid):
    """/proc/PID/mem, else /proc/PID/task/PID/mem (another lookup of the same memory); a
    failed open is tried again for 5 s (seen twice in CI: ENOENT for a second on a live
    process, the next scan of it fine), then the error is the result."""
    paths = ('/proc/%s/mem' % pid, '/proc/%s/task/%s/mem' % (pid, pid))
    for _ in range(100):
        for path in paths:
            try:
                return open(path, 'rb', 0)
            except OSError:
                if not os.path.isdir('/proc/%s' % pid):
                    raise
        time.sleep(0.05)
    return open(paths[0], 'rb', 0)


def main():
    pid, which = sys.argv[1], sys.argv[2]
    needles = [n.encode() for n in sys.argv[3:]]
    with open_mem(pid) as mem:
        for r in regions(pid):
            if 'r' not in r['perm'] or r['rss'] == 0 or r['name'].startswith('[v'):
                continue
            if r['b'] - r['a'] > MAX_REGION:
                continue
            if (which == 'dumped' and r['dd']) or (which == 'undumped' and not r['dd']):
                continue
            if holds(mem, r, needles):
                print('%x-%x %s %s%s' % (r['a'], r['b'], r['perm'], r['name'] or '-',
                                          ' dd' if r['dd'] else ''))


main()

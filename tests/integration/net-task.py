#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs inside the sandbox of the network tests: performs the steps named on the command
line and prints one line per step, "<step> <result...>".

steps: resolve:NAME:TYPE[:SERVER]  tcp:ADDR:PORT[:TIMEOUT]  udp:ADDR:PORT  sleep:SECONDS
       burst:N  fresh:N (resolve and at once connect N new *.wild.test names)
       ttcp:ADDR:PORT  tudp:ADDR:PORT (a connect, or a connected UDP send and receive, with
       a 5 s timeout; the result ends with the milliseconds it took)
       names:N:SUFFIX (resolve N distinct names under SUFFIX, twice: answered per pass)
       tsrh:ADDR:PORT:VIA (as ttcp to IPv6 ADDR, its packets carrying a segment routing
       header whose first segment, the destination the ruleset sees, is VIA)
       qcase:NAME:TYPE[:tcp] (one query; prints the rcode and the answer's question name as
       it came back, its case included)
       tcpdns:NAME:TYPE:SERVER[:half] (one query over TCP; "half": the client shuts down its
       sending side once the query is out, as the end of its stream)
ADDR "GW" is the task's default gateway: the host end of its veth, i.e. its resolver;
"GW6" its IPv6 default gateway. ADDR may carry a scope: fe80::1%eth0.
"""
import os
import socket
import struct
import sys
import time

RESOLVER = '8.8.8.8'  # anything on port 53 is redirected to airlock's resolver
TYPES = {'A': 1, 'AAAA': 28, 'TXT': 16, 'ANY': 255, 'MX': 15}
RCODES = {0: 'NOERROR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 5: 'REFUSED', 1: 'FORMERR'}


def query(name, qtype, server=RESOLVER, timeout=2.0, qid=None):
    qid = qid if qid is not None else int.from_bytes(os.urandom(2), 'big')
    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
    q += struct.pack('>HH', TYPES[qtype], 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(q, (server, 53))
    try:
        r = s.recv(4096)
    except socket.timeout:
        return 'TIMEOUT', [], 0
    finally:
        s.close()
    return parse(r)


def skip_name(r, o):
    while True:
        n = r[o]
        if n >= 0xc0:
            return o + 2
        if n == 0:
            return o + 1
        o += 1 + n


def parse(r):
    _, flags, qd, an = struct.unpack('>HHHH', r[:8])
    o = 12
    for _ in range(qd):
        o = skip_name(r, o) + 4
    addrs, ttl = [], 0
    for _ in range(an):
        o = skip_name(r, o)
        t, _, ttl, ln = struct.unpack('>HHIH', r[o:o + 10])
        o += 10
        if t == 1:
            addrs.append(socket.inet_ntop(socket.AF_INET, r[o:o + 4]))
        elif t == 28:
            addrs.append(socket.inet_ntop(socket.AF_INET6, r[o:o + 16]))
        elif t == 5:
            addrs.append('cname')
        else:
            addrs.append(f'type{t}')
        o += ln
    return RCODES.get(flags & 0xf, str(flags & 0xf)), addrs, ttl


def question(r):
    o, labels = 12, []
    while r[o]:
        labels.append(r[o + 1:o + 1 + r[o]].decode())
        o += 1 + r[o]
    return '.'.join(labels)


def qcase(name, qtype, tcp=False):
    q = struct.pack('>HHHHHH', 0x4343, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
    q += struct.pack('>HH', TYPES[qtype], 1)
    try:
        if tcp:
            s = socket.create_connection((gateway(), 53), 2.0)
            s.settimeout(2.0)
            s.sendall(struct.pack('>H', len(q)) + q)
            r = s.recv(4096)[2:]
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2.0)
            s.sendto(q, (RESOLVER, 53))
            r = s.recv(4096)
        s.close()
    except OSError as e:
        return e.__class__.__name__
    return f'{RCODES.get(r[3] & 0xf, str(r[3] & 0xf))} {question(r)}'


def query_tcp(name, qtype, server, half=False):
    q = struct.pack('>HHHHHH', 0x4242, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
    q += struct.pack('>HH', TYPES[qtype], 1)
    try:
        s = socket.create_connection((server, 53), 2.0)
        s.settimeout(2.0)
        s.sendall(struct.pack('>H', len(q)) + q)
        if half:
            s.shutdown(socket.SHUT_WR)
        r = b''
        while len(r) < 2 or len(r) < 2 + struct.unpack('>H', r[:2])[0]:
            chunk = s.recv(4096)
            if not chunk:
                return 'EOF', [], 0
            r += chunk
        s.close()
    except OSError as e:
        return e.__class__.__name__, [], 0
    return parse(r[2:])


def tcp(addr, port, timeout=2.0, via=None):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if via:  # RFC 8754: type 4, segments [final (the kernel fills it in), via], left 1
            srh = bytes([0, 4, 4, 1, 1, 0, 0, 0]) + bytes(16)
            s.setsockopt(socket.IPPROTO_IPV6, 57,  # IPV6_RTHDR
                         srh + socket.inet_pton(socket.AF_INET6, via))
        s.connect((addr, port))
        return 'ok ' + s.recv(100).decode().strip().replace(' ', '_')
    except OSError as e:
        return 'fail ' + (e.__class__.__name__ if e.errno is None else os.strerror(e.errno)).replace(' ', '_')
    finally:
        s.close()


def udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    try:
        s.sendto(b'ping', (addr, port))
        return 'ok ' + s.recv(100).decode().strip().replace(' ', '_')
    except OSError as e:
        return 'fail ' + e.__class__.__name__
    finally:
        s.close()


def timed(fn, *a):
    t = time.monotonic()
    res = fn(*a)
    return f'{res} {int((time.monotonic() - t) * 1000)}'


def udp_connected(addr, port, timeout=5.0):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
        s.send(b'ping')
        return 'ok ' + s.recv(100).decode().strip().replace(' ', '_')
    except OSError as e:
        return 'fail ' + (e.__class__.__name__ if e.errno is None else os.strerror(e.errno)).replace(' ', '_')
    finally:
        s.close()


def gateway6():
    try:
        with open('/proc/net/ipv6_route') as f:
            for line in f:
                fields = line.split()
                if fields[0] == '0' * 32 and fields[1] == '00' and fields[9] != 'lo':
                    return socket.inet_ntop(socket.AF_INET6, bytes.fromhex(fields[4]))
    except OSError:
        pass
    return '::'


def burst(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    for i in range(n):
        q = struct.pack('>HHHHHH', i, 0x0100, 1, 0, 0, 0)
        q += b''.join(bytes([len(p)]) + p.encode() for p in f'b{i}.wild.test'.split('.')) + b'\0'
        s.sendto(q + struct.pack('>HH', 1, 1), (RESOLVER, 53))
    got = 0
    end = time.time() + 3
    while time.time() < end:
        try:
            s.recv(4096)
            got += 1
        except BlockingIOError:
            time.sleep(0.01)
    return f'{got}'


def fresh(n):
    ok, failed = 0, []
    for i in range(n):
        name = f'f{i}-{os.getpid()}.wild.test'
        rc, addrs, _ = query(name, 'A')
        res = tcp(addrs[-1], 443, 0.4) if rc == 'NOERROR' and addrs else rc
        if res.startswith('ok'):
            ok += 1
        else:
            failed.append(f'{name}={res}')
    return f'{ok}/{n}' + ''.join(' ' + f for f in failed)


def names(n, suffix):
    passes = []
    for _ in range(2):
        ok = sum(query(f'n{i}.{suffix}', 'A')[0] == 'NOERROR' for i in range(n))
        passes.append(f'{ok}/{n}')
    return ' '.join(passes)


def gateway():
    with open('/proc/net/route') as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == '00000000':
                return socket.inet_ntop(socket.AF_INET, struct.pack('<I', int(fields[2], 16)))
    return '0.0.0.0'


def main(steps):
    for step in steps:
        kind, *a = step.split(',')
        a = [gateway() if x == 'GW' else gateway6() if x == 'GW6' else x for x in a]
        if kind == 'resolve':
            rc, addrs, ttl = query(a[0], a[1], *(a[2:3]))
            res = f'{rc} {"+".join(addrs) or "-"} {ttl}'
        elif kind == 'qcase':
            res = qcase(a[0], a[1], a[2:3] == ['tcp'])
        elif kind == 'tcpdns':
            rc, addrs, ttl = query_tcp(a[0], a[1], a[2], a[3:4] == ['half'])
            res = f'{rc} {"+".join(addrs) or "-"} {ttl}'
        elif kind == 'tcp':
            res = tcp(a[0], int(a[1]), float(a[2]) if len(a) > 2 else 2.0)
        elif kind == 'ttcp':
            res = timed(tcp, a[0], int(a[1]), 5.0)
        elif kind == 'tsrh':
            res = timed(tcp, a[0], int(a[1]), 5.0, a[2])
        elif kind == 'tudp':
            res = timed(udp_connected, a[0], int(a[1]))
        elif kind == 'udp':
            res = udp(a[0], int(a[1]))
        elif kind == 'sleep':
            time.sleep(float(a[0]))
            res = 'done'
        elif kind == 'burst':
            res = burst(int(a[0]))
        elif kind == 'fresh':
            res = fresh(int(a[0]))
        elif kind == 'names':
            res = names(int(a[0]), a[1])
        else:
            res = 'bad-step'
        print(f'{step} {res}', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])

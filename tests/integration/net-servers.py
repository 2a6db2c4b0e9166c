#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The "internet" of the network tests: a DNS server with fixed test names and TCP/UDP
servers that answer with their own address and port. Runs inside the test's internet
namespace; prints "ready" once every socket is bound. The query log has one line per
query: "name type source-port", and " tcp" after it for a query over TCP. DNS is served
over UDP (answers over 512 bytes go out truncated, TC set, as without EDNS) and TCP.

spoof.test is answered late; before the real answer come forged ones with the right id
from a wrong address (SPOOF_ADDR:53), from a wrong port (DNS_ADDR:5300), and from the right
source with a wrong id or a wrong question: all carry 11.1.0.12, which no one may learn.

usage: net-servers.py DNS_ADDR[,DNS_ADDR...]|- TCP_ADDR:PORT... [--udp ADDR:PORT]... [--log FILE]
("-": no DNS server, e.g. for listeners in the test's host namespace; further DNS
addresses, IPv4 or IPv6, serve the same zone without forgeries; NET_ZONE adds names)
"""
import json
import os
import socket
import struct
import sys
import threading
import time

TTL_SHORT = 2
ZONE = {
    # name: [(type, ttl, value)]
    'allowed.test': [('A', TTL_SHORT, '11.1.0.10'), ('AAAA', TTL_SHORT, '2600:1::10'),
                     ('TXT', 60, 'v=secret')],
    'other.test': [('A', 60, '11.1.0.10')],           # shares allowed.test's address
    'private.test': [('A', 60, '10.9.9.9')],          # an allowed name, private address
    'meta.test': [('A', 60, '169.254.169.254')],      # an allowed name, metadata address
    'hidden.wild.test': [('CNAME', 60, 'private.test')],  # allowed chain, withheld address
    'alias.test': [('CNAME', 60, 'mid.test')],
    'mid.test': [('CNAME', 60, 'final.test')],
    'final.test': [('A', 60, '11.1.0.11')],
    'badalias.test': [('CNAME', 60, 'evil.test')],
    'evil.test': [('A', 60, '11.1.0.12')],
    'udp.test': [('A', 60, '11.1.0.10')],
    'short.test': [('A', TTL_SHORT, '11.1.0.11')],  # final.test's address, shorter TTL
    'wire.test': [('A', 60, '168.63.129.16')],        # an allowed name, Azure WireServer
    'spoof.test': [('A', 60, '11.1.0.20')],           # forged answers first (see above)
    'v6up.test': [('A', 60, '11.1.0.10')],            # asked through the IPv6 upstream
    'six.test': [('AAAA', 60, '2600:1::20')],         # IPv6 only
    'ula.test': [('AAAA', 60, 'fd12:3456::1')],       # an allowed name, ULA address
    'git.test': [('A', 60, '11.1.0.40')],             # an HTTP server (curl, git clone)
    'dnat.wild.test': [('A', 60, '11.0.0.1')],        # the "host" itself (test-net-host)
    # Too large for 512-byte UDP: 40 A records (one of them has a server), 680 bytes.
    'big.test': [('A', 60, '11.1.0.30')] + [('A', 60, f'11.3.0.{i}') for i in range(1, 40)],
}
# A test may add names of its own: NET_ZONE in the environment, a JSON object shaped like
# ZONE, e.g. {"x.evil.test": [["CNAME", 60, "git.test"]]}.
ZONE.update({name: [tuple(r) for r in recs]
             for name, recs in json.loads(os.environ.get('NET_ZONE') or '{}').items()})
UDP_MAX = 512
SPOOF_ADDR = '11.1.0.54'
SPOOF_VALUE = '11.1.0.12'
TYPES = {'A': 1, 'CNAME': 5, 'TXT': 16, 'AAAA': 28}
LOG = None


def encode_name(name):
    return b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'


def decode_name(buf, o):
    labels = []
    while buf[o]:
        n = buf[o]
        labels.append(buf[o + 1:o + 1 + n].decode())
        o += 1 + n
    return '.'.join(labels).lower(), o + 1


def rdata(t, v):
    if t == 'A':
        return socket.inet_pton(socket.AF_INET, v)
    if t == 'AAAA':
        return socket.inet_pton(socket.AF_INET6, v)
    if t == 'CNAME':
        return encode_name(v)
    return bytes([len(v)]) + v.encode()


def answer(q, port=0, tcp=False):
    qid, flags = struct.unpack('>HH', q[:4])
    name, o = decode_name(q, 12)
    qtype, = struct.unpack('>H', q[o:o + 2])
    if LOG and port:
        LOG.write(f'{name} {qtype} {port}{" tcp" if tcp else ""}\n')
        LOG.flush()
    answers = []
    cur = name
    wildcard = name.endswith('.wild.test') or name.endswith('.budget.test')
    for _ in range(10):
        recs = ZONE.get(cur, [('A', 60, '11.1.0.11')] if wildcard else [])
        cname = [r for r in recs if r[0] == 'CNAME']
        if cname:
            answers.append((cur, cname[0]))
            cur = cname[0][2]
            continue
        answers += [(cur, r) for r in recs if TYPES[r[0]] == qtype or qtype == 255]
        break
    rcode = 0 if name in ZONE or wildcard else 3
    out = struct.pack('>HHHHHH', qid, 0x8180 | rcode, 1, len(answers), 0, 0) + q[12:o + 4]
    for owner, (t, ttl, v) in answers:
        d = rdata(t, v)
        out += encode_name(owner) + struct.pack('>HHIH', TYPES[t], 1, ttl, len(d)) + d
    if not tcp and len(out) > UDP_MAX:  # truncated: the question only, TC set
        out = struct.pack('>HHHHHH', qid, 0x8380 | rcode, 1, 0, 0, 0) + q[12:o + 4]
    return out


def forged(q, qid=None, name=None):
    """An answer to q carrying SPOOF_VALUE, optionally under another id or question."""
    qid = struct.unpack('>H', q[:2])[0] if qid is None else qid
    qname, o = decode_name(q, 12)
    question = encode_name(name or qname) + q[o:o + 4]
    d = socket.inet_pton(socket.AF_INET, SPOOF_VALUE)
    return (struct.pack('>HHHHHH', qid, 0x8180, 1, 1, 0, 0) + question + encode_name(name or qname)
            + struct.pack('>HHIH', 1, 1, 60, len(d)) + d)


def spoof(sock, others, q, peer):
    qid = struct.unpack('>H', q[:2])[0]
    for s in others:  # right id and question, wrong source address or port
        s.sendto(forged(q), peer)
    sock.sendto(forged(q, qid=qid ^ 0x5a5a), peer)     # right source, wrong id
    sock.sendto(forged(q, name='other.test'), peer)    # right source, wrong question
    time.sleep(0.3)


def dns_server(sock, others):
    while True:
        q, peer = sock.recvfrom(4096)
        try:
            if others and decode_name(q, 12)[0] == 'spoof.test':
                spoof(sock, others, q, peer)
            sock.sendto(answer(q, peer[1]), peer)
        except Exception:  # noqa: BLE001 - a test server ignores junk
            pass


def recv_exact(c, n):
    b = b''
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            raise EOFError
        b += chunk
    return b


def dns_tcp_conn(c, peer):
    try:
        while True:
            n, = struct.unpack('>H', recv_exact(c, 2))
            a = answer(recv_exact(c, n), peer[1], tcp=True)
            c.sendall(struct.pack('>H', len(a)) + a)
    except (EOFError, OSError, struct.error, IndexError):
        pass
    finally:
        c.close()


def dns_tcp_server(sock):
    while True:
        c, peer = sock.accept()
        threading.Thread(target=dns_tcp_conn, args=(c, peer), daemon=True).start()


def tcp_server(sock, label):
    while True:
        c, _ = sock.accept()
        try:
            c.sendall(f'hello from {label}\n'.encode())
        finally:
            c.close()


def udp_server(sock, label):
    while True:
        _, peer = sock.recvfrom(2048)
        sock.sendto(f'hello from {label}\n'.encode(), peer)


def split(hp):
    h, p = hp.rsplit(':', 1)
    return h.strip('[]'), int(p)


def main(argv):
    global LOG
    threads = []
    fam = lambda h: socket.AF_INET6 if ':' in h else socket.AF_INET  # noqa: E731
    if argv[0] != '-':
        first, *more = argv[0].split(',')
        for a in more:
            s = socket.socket(fam(a), socket.SOCK_DGRAM)
            s.bind((a, 53))
            threads.append(threading.Thread(target=dns_server, args=(s, []), daemon=True))
        dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dns.bind((first, 53))
        others = []
        for addr in ((SPOOF_ADDR, 53), (first, 5300)):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(addr)
                others.append(s)
            except OSError:
                pass  # no such address here: no forgery from it
        threads.append(threading.Thread(target=dns_server, args=(dns, others), daemon=True))
        for a in [first] + more:  # DNS over TCP on every DNS address
            dns_tcp = socket.socket(fam(a), socket.SOCK_STREAM)
            dns_tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            dns_tcp.bind((a, 53))
            dns_tcp.listen(16)
            threads.append(threading.Thread(target=dns_tcp_server, args=(dns_tcp,), daemon=True))
    i = 1
    while i < len(argv):
        if argv[i] == '--udp':
            h, p = split(argv[i + 1])
            s = socket.socket(fam(h), socket.SOCK_DGRAM)
            s.bind((h, p))
            threads.append(threading.Thread(target=udp_server, args=(s, argv[i + 1]), daemon=True))
            i += 2
            continue
        if argv[i] == '--log':
            LOG = open(argv[i + 1], 'a')  # noqa: SIM115 - lives as long as the server
            i += 2
            continue
        h, p = split(argv[i])
        s = socket.socket(fam(h), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((h, p))
        s.listen(64)
        threads.append(threading.Thread(target=tcp_server, args=(s, argv[i]), daemon=True))
        i += 1
    for t in threads:
        t.start()
    print('ready', flush=True)
    if argv[0] == '-':
        threading.Event().wait()  # runs until the test kills us
    sys.stdin.read()  # runs until the test closes our stdin or kills us


if __name__ == '__main__':
    main(sys.argv[1:])

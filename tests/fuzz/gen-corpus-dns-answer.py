#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the seed corpus of fuzz-dns-answer (tests/fuzz/corpus/dns-answer/).

Each file is the harness's 10-byte header (policy, TCP, set-full mask, TTL cap: see
fuzz-dns-answer.c) and then an upstream answer. Two kinds:

  real-*     answers of a real server (dnsmasq) to the proxy's own queries, captured with
             --server: A, AAAA, CNAME chains, private addresses, a UDP answer truncated
             (TC) and the same over TCP, NXDOMAIN. dnsmasq compresses names as resolvers do.
  crafted-*  what a hostile authoritative server could send that dnsmasq never does:
             CNAME loops and over-long chains, records for names outside the chain, the
             wrong address family, pointers into the middle of names, mixed case, more
             records than the proxy keeps, TC with records.

Without --server only the crafted files are written. The real ones were made with
(dnsmasq in a network namespace of its own, never the host's):

  unshare -n sh -c 'ip link set lo up
    dnsmasq -k -u root --pid-file= --no-resolv --no-hosts --bind-interfaces \\
      --listen-address=127.0.0.1 --port=5300 --local=/test/ --local=/example.com/ \\
      --local=/example.org/ --local-ttl=300 --addn-hosts=HOSTS $(CNAMES) &
    sleep 1; tests/fuzz/gen-corpus-dns-answer.py --server 127.0.0.1:5300 OUTDIR; kill $!'

where HOSTS and CNAMES are printed by --zone.

Usage: gen-corpus-dns-answer.py [--server HOST:PORT] OUTDIR | --zone HOSTS_FILE
"""
import os
import socket
import struct
import sys

A, CNAME, AAAA, OPT = 1, 5, 28, 41
# The harness's policies (fuzz-dns-answer.c): 0 "*.test" + example.com; 1 a.test, "*.b.test",
# c.example.com, cidr 10.20.0.0/16 and fd00::/8; 2 "*.test" + every address; 3 a.test only.
P_WILD, P_MIXED, P_ALL, P_EXACT = 0, 1, 2, 3

HOSTS = [("11.0.0.1", "a.test"), ("2a01:4f8::1", "a.test"),
         ("11.0.0.2", "host.b.test"), ("11.0.0.3", "host.b.test"),
         ("2a01:4f8::2", "host.b.test"),
         ("10.20.1.1", "db.b.test"), ("169.254.169.254", "meta.b.test"),
         ("127.0.0.1", "lo.b.test"), ("fd00::53", "ula.b.test"), ("fe80::1", "ll.b.test"),
         ("10.0.0.1", "mixed.b.test"), ("11.0.0.10", "mixed.b.test"),
         ("192.168.1.1", "mixed.b.test"), ("11.0.0.9", "c.example.com"),
         ("11.0.0.66", "x.example.org")]
HOSTS += [("11.0.1.%d" % i, "many.b.test") for i in range(1, 41)]
HOSTS += [("2a01:4f8::1:%x" % i, "many6.b.test") for i in range(1, 21)]
CNAMES = [("www.b.test", "mid.b.test"), ("mid.b.test", "host.b.test"),
          ("alias.b.test", "c.example.com"), ("out.b.test", "a.test"),
          ("evil.b.test", "x.example.org"), ("priv.b.test", "meta.b.test"),
          ("chain6.b.test", "host.b.test")]


def header(policy, tcp=False, full=0, ttl_cap=0):
    return bytes([policy | (4 if tcp else 0)]) + struct.pack("<Q", full) + bytes([ttl_cap])


def query(name, qtype, qid, edns=False):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    q += b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0"
    q += struct.pack(">HH", qtype, 1)
    if edns:
        q += b"\0" + struct.pack(">HHIH", OPT, 1232, 0, 0)
    return q


def capture(server, name, qtype, edns=False, tcp=False):
    host, port = server.rsplit(":", 1)
    q = query(name, qtype, 0x1234, edns)
    if tcp:
        with socket.create_connection((host, int(port)), timeout=3) as s:
            s.sendall(struct.pack(">H", len(q)) + q)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                chunk = s.recv(65536)
                if not chunk:
                    raise SystemExit("short TCP answer for %s" % name)
                buf += chunk
            return buf[2:]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(q, (host, int(port)))
        return s.recv(65536)


REAL = [  # file, policy, header options, name, type, edns, tcp
    ("real-a", P_EXACT, {}, "a.test", A, False, False),
    ("real-aaaa", P_WILD, {}, "a.test", AAAA, True, False),
    ("real-cname-chain", P_MIXED, {}, "www.b.test", A, False, False),
    ("real-cname-chain-aaaa", P_MIXED, {"tcp": True}, "chain6.b.test", AAAA, False, True),
    ("real-cname-exact", P_MIXED, {}, "alias.b.test", A, True, False),
    ("real-cname-denied", P_MIXED, {}, "evil.b.test", A, False, False),
    ("real-cname-to-metadata", P_MIXED, {}, "priv.b.test", A, False, False),
    ("real-private-cidr", P_MIXED, {}, "db.b.test", A, False, False),
    ("real-private-denied", P_WILD, {}, "db.b.test", A, False, False),
    ("real-loopback", P_WILD, {}, "lo.b.test", A, False, False),
    ("real-ula-cidr", P_MIXED, {}, "ula.b.test", AAAA, False, False),
    ("real-link-local", P_ALL, {}, "ll.b.test", AAAA, False, False),
    ("real-mixed", P_WILD, {"full": 0b10}, "mixed.b.test", A, False, False),
    ("real-truncated", P_WILD, {}, "many.b.test", A, False, False),
    ("real-many-tcp", P_WILD, {"tcp": True, "ttl_cap": 7}, "many.b.test", A, False, True),
    ("real-many-edns", P_WILD, {}, "many.b.test", A, True, False),
    ("real-many6-tcp", P_ALL, {"tcp": True}, "many6.b.test", AAAA, False, True),
    ("real-nxdomain", P_WILD, {}, "nope.b.test", A, False, False),
]


class Msg:
    """A hand-made answer, with compression pointers placed by the caller."""

    def __init__(self, qname, qtype, flags=0x8180, qid=0x1234):
        self.flags, self.qid, self.rrs = flags, qid, []
        self.body = self.name(qname) + struct.pack(">HH", qtype, 1)

    @staticmethod
    def name(n):
        return b"".join(bytes([len(x)]) + x.encode() for x in n.split(".") if x) + b"\0"

    def ptr(self, offset, prefix=""):
        """prefix's labels, then a pointer to offset in the message."""
        return self.name(prefix)[:-1] + struct.pack(">H", 0xc000 | offset)

    def rr(self, owner, rtype, rdata, ttl=300, rclass=1):
        self.rrs.append(owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata)
        return self

    def wire(self):
        return struct.pack(">HHHHHH", self.qid, self.flags, 1, len(self.rrs), 0, 0) + \
            self.body + b"".join(self.rrs)


Q = 12  # offset of the question's name


def v4(s):
    return socket.inet_pton(socket.AF_INET, s)


def v6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def crafted():
    out = {}
    m = Msg("a.b.test", A)
    m.rr(m.ptr(Q), CNAME, m.name("c.b.test")).rr(m.name("c.b.test"), CNAME, m.ptr(Q))
    out["crafted-cname-loop"] = (P_MIXED, {}, m)

    m = Msg("h0.b.test", A)
    for i in range(9):
        m.rr(m.name("h%d.b.test" % i), CNAME, m.name("h%d.b.test" % (i + 1)))
    m.rr(m.name("h9.b.test"), A, v4("11.0.0.1"))
    out["crafted-chain-too-long"] = (P_WILD, {}, m)

    m = Msg("h0.b.test", A)
    for i in range(8):
        m.rr(m.name("h%d.b.test" % i), CNAME, m.name("h%d.b.test" % (i + 1)))
    m.rr(m.name("h8.b.test"), A, v4("11.0.0.1"))
    out["crafted-chain-longest"] = (P_WILD, {}, m)

    m = Msg("x.b.test", A)  # the address is not for the query's name: never learned
    m.rr(m.name("other.b.test"), A, v4("11.0.0.7")).rr(m.ptr(Q), A, v4("11.0.0.8"))
    out["crafted-foreign-owner"] = (P_MIXED, {}, m)

    m = Msg("x.b.test", AAAA)
    m.rr(m.ptr(Q), A, v4("11.0.0.7")).rr(m.ptr(Q), AAAA, v6("2a01:4f8::7"))
    out["crafted-wrong-family"] = (P_MIXED, {}, m)

    m = Msg("www.x.b.test", A)  # owner: "x.b.test" + pointer; target: label + pointer
    m.rr(m.ptr(Q), CNAME, m.ptr(Q + 4, "y"))
    m.rr(m.ptr(Q + 4, "y"), A, v4("11.0.0.11")).rr(m.ptr(Q + 4), A, v4("11.0.0.12"))
    out["crafted-pointer-middle"] = (P_MIXED, {}, m)

    m = Msg("MiXeD.B.Test", A)
    m.rr(m.ptr(Q), CNAME, m.name("TaRGet.b.TEST")).rr(m.name("target.B.test"), A,
                                                       v4("11.0.0.13"))
    out["crafted-mixed-case"] = (P_MIXED, {}, m)

    m = Msg("big.b.test", A)
    for i in range(70):
        m.rr(m.ptr(Q), A, v4("11.0.2.%d" % i))
    out["crafted-over-max"] = (P_WILD, {"tcp": True}, m)

    m = Msg("w.b.test", A)  # the chain is allowed, every address is private: withheld
    m.rr(m.ptr(Q), CNAME, m.name("t.b.test"))
    m.rr(m.name("t.b.test"), A, v4("10.1.2.3")).rr(m.name("t.b.test"), A, v4("169.254.169.254"))
    out["crafted-withheld-chain"] = (P_WILD, {}, m)

    m = Msg("t.b.test", A, flags=0x8380)  # TC with records: asked again over TCP
    m.rr(m.ptr(Q), A, v4("11.0.0.14"))
    out["crafted-truncated-records"] = (P_WILD, {}, m)

    m = Msg("t.b.test", A, flags=0x8182)
    m.rr(m.ptr(Q), A, v4("11.0.0.15"))
    out["crafted-servfail-records"] = (P_WILD, {}, m)

    m = Msg("ttl.b.test", A)
    m.rr(m.ptr(Q), A, v4("11.0.0.16"), ttl=0).rr(m.ptr(Q), A, v4("11.0.0.17"), ttl=0xffffffff)
    out["crafted-ttl-extremes"] = (P_WILD, {"full": 1 << 63, "ttl_cap": 1}, m)

    m = Msg("x.b.test", A)  # a CNAME of another class, an unknown type, then the address
    m.rr(m.ptr(Q), CNAME, m.name("y.b.test"), rclass=3).rr(m.ptr(Q), 99, b"txt")
    m.rr(m.ptr(Q), A, v4("11.0.0.18"))
    out["crafted-other-class"] = (P_MIXED, {}, m)

    m = Msg("a.test", A)  # the chain leaves the exact names
    m.rr(m.ptr(Q), CNAME, m.name("b.test")).rr(m.name("b.test"), A, v4("11.0.0.19"))
    out["crafted-exact-leaves"] = (P_EXACT, {}, m)
    return {k: header(p, **h) + m.wire() for k, (p, h, m) in out.items()}


def main(argv):
    if len(argv) == 3 and argv[1] == "--zone":
        with open(argv[2], "w") as f:
            f.writelines("%s %s\n" % h for h in HOSTS)
        print(" ".join("--cname=%s,%s" % c for c in CNAMES))
        return 0
    server = None
    if len(argv) == 4 and argv[1] == "--server":
        server, argv = argv[2], argv[2:]
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    files = crafted()
    for name, policy, opts, qname, qtype, edns, tcp in REAL if server else []:
        files[name] = header(policy, **opts) + capture(server, qname, qtype, edns, tcp)
    os.makedirs(argv[1], exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(argv[1], name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

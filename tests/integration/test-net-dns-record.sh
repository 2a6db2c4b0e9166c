#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The run record's DNS entries against what the kernel does, with real programs in the task
# (python's getaddrinfo and sockets, curl): a CNAME target keeps its own ports, an address
# the deny ranges drop is never recorded "allowed", and a flooding task cannot push its
# later lookups out of the record or make it miscount (issue 15, items 2, 4 and 5).
# Same throw-away "host" and "internet" namespaces as test-net-egress.sh (net-lib.sh).
set -u
SRC=${AIRLOCK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
AIRLOCK=${AIRLOCK:-$SRC/build/airlock}
NET_DIR=$SRC/tests/integration
# shellcheck source=tests/integration/lib.sh
. "$NET_DIR/lib.sh"
# shellcheck source=tests/integration/net-lib.sh
. "$NET_DIR/net-lib.sh"

# check DESCRIPTION RECORD PYTHON: the python code (with rec, net, dns, denied, out) asserts
check() {
	local desc=$1 rec=$2 err
	shift 2
	err=$(python3 - "$rec" "$TMP/out" "$@" 2>&1 <<'PY'
import json, sys
rec = json.load(open(sys.argv[1]))
net = rec['network']
dns, denied = net['dns'], net['denied']
out = dict(l.rstrip('\n').split(' ', 1) for l in open(sys.argv[2]) if ' ' in l)
def entry(name):
    e = [x for x in dns if x['name'] == name and x['type'] == 'A']
    assert len(e) == 1, (name, dns)
    return e[0]
exec(sys.argv[3])
PY
)
	al_ok $? "$desc"
	[ -z "$err" ] || echo "$err" | tail -n 3 | cut -c1-400 | sed 's/^/# /'
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
net_need /usr/bin/python3 curl

TMP=$(mktemp -d /tmp/airlock-dnsrec-XXXXXX)
SERVERS_PID=
cleanup() {
	[ -n "$SERVERS_PID" ] && kill "$SERVERS_PID" 2>/dev/null
	net_world_down
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/ws" "$TMP/state"
chmod 777 "$TMP/ws"

# Names of this test's own, served by the test DNS server beside its fixed zone
# (git.test is 11.1.0.40 there).
export NET_ZONE='{
  "x.evil.test": [["CNAME", 60, "git.test"]],
  "z.evil.test": [["CNAME", 60, "both.test"]],
  "both.test": [["A", 60, "11.1.0.41"]],
  "p.evil.test": [["A", 60, "10.20.1.1"]],
  "db.test": [["A", 60, "10.20.1.2"]],
  "mix.test": [["A", 60, "10.20.1.3"]]
}'
net_world_up "$TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }
for a in 11.1.0.40 11.1.0.41 10.20.1.1 10.20.1.2 10.20.1.3; do
	ip -n "$NET_I" addr add "$a/32" dev lo
done
ip netns exec "$NET_I" python3 "$NET_DIR/net-servers.py" - 11.1.0.40:22 11.1.0.40:443 \
	11.1.0.41:22 11.1.0.41:443 10.20.1.1:443 10.20.1.1:5432 10.20.1.2:5432 10.20.1.3:443 \
	10.20.1.3:5432 </dev/null >"$TMP/servers2.out" 2>&1 &
SERVERS_PID=$!
for _ in $(seq 50); do
	grep -q ready "$TMP/servers2.out" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$TMP/servers2.out" || { echo "Bail out! the test's servers did not start"; exit 1; }

# The task's program: one line per step, "<step> <result>".
#   gai,NAME,PORT   getaddrinfo (libc, through the run's resolver), then connect to the
#                   first address: "ok ADDR", "fail ADDR ERROR" or "noaddr ERROR"
#   tcp,ADDR,PORT   connect: "ok" or "fail ERROR"
#   burst,N         N queries for distinct names not allowed, sent at once; then "answered"
#   names,N,SECS    distinct names not allowed, at the proxy's sustained rate (20/s), until
#                   N were answered or SECS passed: "answered SENT"
#   last,N[,K]      N queries at once, reading no answer: every Kth (4th) for allowed.test,
#                   the others for 6 names not allowed, over and over: "SENT BACKLOG-DROPS"
#                   (the kernel's loopback backlog drops meanwhile, all namespaces':
#                   softnet_stat)
cat >"$TMP/ws/dns-task.py" <<'PY'
import os, socket, struct, sys, time

def query(s, name, qid):
    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
    s.sendto(q + struct.pack('>HH', 1, 1), ('8.8.8.8', 53))  # redirected to the proxy

def connect(addr, port):
    try:
        with socket.create_connection((addr, port), 2) as c:
            c.recv(100)
        return 'ok'
    except OSError as e:
        return 'fail ' + (os.strerror(e.errno) if e.errno else type(e).__name__).replace(' ', '_')

def gai(name, port):
    try:
        addr = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except socket.gaierror as e:
        return 'noaddr ' + e.strerror.replace(' ', '_')
    res = connect(addr, port)
    return f'ok {addr}' if res == 'ok' else f'fail {addr} {res[5:]}'

def burst(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        query(s, f'b{i}.flood.test', i)
    s.settimeout(2)
    got = 0
    try:
        while True:
            s.recv(512)
            got += 1
    except socket.timeout:
        pass
    return str(got)

def softnet_drops():
    return sum(int(l.split()[1], 16) for l in open('/proc/net/softnet_stat'))

def last(n, k):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    before = softnet_drops()
    for i in range(n):
        query(s, 'allowed.test' if i % k == 0 else f'd{i % 6}.flood.test', i)
    return f'{n} {softnet_drops() - before}'

def names(n, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    start, got, sent = time.monotonic(), 0, 0
    while got < n and time.monotonic() - start < secs:
        if sent >= 40:  # past the burst, at the sustained rate
            time.sleep(max(0, start + (sent - 40) / 20 + 0.02 - time.monotonic()))
        query(s, f'n{sent}.flood.test', sent & 0xffff)
        sent += 1
        try:
            got += s.recv(512)[3] & 0xf == 3  # NXDOMAIN
        except socket.timeout:
            pass
    return f'{got} {sent}'

for step in sys.argv[1:]:
    kind, *a = step.split(',')
    if kind == 'gai':
        res = gai(a[0], int(a[1]))
    elif kind == 'tcp':
        res = connect(a[0], int(a[1]))
    elif kind == 'burst':
        res = burst(int(a[0]))
    elif kind == 'last':
        res = last(int(a[0]), int(a[1]) if len(a) > 1 else 4)
    elif kind == 'names':
        res = names(int(a[0]), float(a[1]))
    elif kind == 'sleep':
        time.sleep(float(a[0]))
        res = 'done'
    elif kind == 'touch':
        open(a[0], 'w').close()
        res = 'done'
    print(f'{step} {res}', flush=True)
PY

# run NAME POLICY-EGRESS WALL STEPS...: one airlock run of the task, record in $TMP/NAME.json
run() {
	local name=$1 egress=$2 wall=$3
	shift 3
	cat >"$TMP/$name-policy.json" <<JSON
{
  "version": 1,
  "name": "dns-record-$name",
  "limits": { "wall_time": "$wall" },
  "filesystem": { "workspace": { "mode": "rw" } },
  "network": { "egress": [ $egress ], "dns": { "upstream": ["${UPSTREAM:-11.1.0.53}"] } }
}
JSON
	net_in_host "$AIRLOCK" run --policy "$TMP/$name-policy.json" --workspace "$TMP/ws" \
		--state-dir "$TMP/state" --record "$TMP/$name.json" -- "$@" >"$TMP/out" 2>"$TMP/err"
}

# --- A CNAME target keeps its own ports; the deny ranges are told as they are ----------
# git.test is allowed on port 22 only, *.evil.test on 443; x.evil.test is a CNAME to
# git.test. both.test allows 22 and 443, z.evil.test points to it. A cidr rule opens
# 10.20.0.0/16 on 5432 only; p.evil.test (443) and mix.test (443, 5432) resolve into it,
# db.test (5432) too.
# shellcheck disable=SC2016 # $? is the task shell's
run chain '{ "host": "git.test", "ports": [22] },
    { "host": "*.evil.test", "ports": [443] },
    { "host": "both.test", "ports": [22, 443] },
    { "host": "db.test", "ports": [5432] },
    { "host": "mix.test", "ports": [443, 5432] },
    { "cidr": "10.20.0.0/16", "ports": [5432] }' 60s /bin/sh -c '
	python3 /workspace/dns-task.py gai,x.evil.test,443 tcp,11.1.0.40,443 gai,git.test,22 \
		gai,p.evil.test,443 tcp,10.20.1.1,443 tcp,10.20.1.1,5432 gai,db.test,5432 \
		gai,mix.test,443 tcp,10.20.1.3,443 tcp,10.20.1.3,5432
	curl --http0.9 -sS --max-time 5 -o /dev/null http://z.evil.test:443/ 2>/dev/null
	echo "curl,z.evil.test,443 $?"
	curl --http0.9 -sS --max-time 5 -o /dev/null http://z.evil.test:22/ 2>/dev/null
	echo "curl,z.evil.test,22 $?"'
rc=$?
al_ok $rc "the chain run exits 0 (got $rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/err"
rec=$TMP/chain.json

net_expect "$TMP/out" gai,x.evil.test,443 '^noaddr ' \
	"a CNAME to a name allowed on port 22 gives the task no address for port 443"
net_expect "$TMP/out" tcp,11.1.0.40,443 '^fail ' "the CNAME target's address is not opened on the queried name's port"
net_expect "$TMP/out" gai,git.test,22 '^ok 11\.1\.0\.40$' "the target, asked by its own name, opens its own port"
check "the record names the chain and why the addresses were withheld" "$rec" '
e = entry("x.evil.test")
assert e["verdict"] == "withheld" and e["reason"] == "cname-ports", e
assert e["chain"] == ["git.test"] and e["ports"] == [] and e["withheld"] == ["11.1.0.40"], e
g = entry("git.test")
assert g["verdict"] == "allowed" and g["ports"] == ["22/tcp"] and g["addresses"] == ["11.1.0.40"], g'
# curl's exit status: 7, it could not connect; 0 or 56, it connected and read the test
# server's line (which closes without reading the request: 56, a reset after the data).
net_expect "$TMP/out" curl,z.evil.test,443 '^(0|56)$' "curl reaches a CNAME target on a port both names allow"
net_expect "$TMP/out" curl,z.evil.test,22 '^7$' "curl cannot reach it on a port only the target allows"
check "the record says which ports the chain opened" "$rec" '
e = entry("z.evil.test")
assert e["verdict"] == "allowed" and e["chain"] == ["both.test"], e
assert e["ports"] == ["443/tcp"] and e["addresses"] == ["11.1.0.41"], e'

net_expect "$TMP/out" gai,p.evil.test,443 '^noaddr ' \
	"a name's address in a denied range that a cidr rule opens on other ports only is withheld"
net_expect "$TMP/out" tcp,10.20.1.1,443 '^fail ' "the kernel drops it on the name's port"
net_expect "$TMP/out" tcp,10.20.1.1,5432 '^ok$' "the cidr rule's own port is open (by address)"
net_expect "$TMP/out" gai,db.test,5432 '^ok 10\.20\.1\.2$' "a name whose ports the cidr rule opens resolves and connects"
net_expect "$TMP/out" gai,mix.test,443 '^noaddr ' "a name with a port the cidr rule does not open is withheld"
net_expect "$TMP/out" tcp,10.20.1.3,443 '^fail ' "and the kernel drops that port"
check "the record says withheld, denied-range, where the kernel drops" "$rec" '
for name in ("p.evil.test", "mix.test"):
    e = entry(name)
    assert e["verdict"] == "withheld" and e["reason"] == "denied-range", e
d = {(x["destination"], x["port"]): x["reason"] for x in denied}
assert d[("10.20.1.1", 443)] == "denied-range" and d[("10.20.1.3", 443)] == "denied-range", denied
e = entry("db.test")
assert e["verdict"] == "allowed" and e["addresses"] == ["10.20.1.2"] and e["ports"] == ["5432/tcp"], e'
# The comparison: no address . port the record calls allowed was dropped by the kernel, and
# every one the task tried connected.
check "every address and port the record allows connected, none was denied" "$rec" '
opened = {(a, int(p.split("/")[0])) for x in dns if x["verdict"] == "allowed"
          for a in x["addresses"] for p in x["ports"]}
denied_at = {(x["destination"], x["port"]) for x in denied}
assert not opened & denied_at, opened & denied_at
tried = {}
for step, res in out.items():
    kind, *a = step.split(",")
    if kind == "tcp":
        tried[(a[0], int(a[1]))] = res
    elif kind == "gai" and res.split()[0] in ("ok", "fail"):
        tried[(res.split()[1], int(a[1]))] = res.split()[0]
for k in opened & set(tried):
    assert tried[k].startswith("ok"), (k, tried[k])
assert len(opened & set(tried)) >= 2, (opened, tried)'

# --- The record counts every query of a burst -------------------------------------------
# 3000 queries at once: the rate limit answers 40, the rest are rate-limited. The kernel
# may drop some from the proxy's full socket queue (its "drops": the proxy listens in the
# task's namespace, so the task itself reads them from its /proc/net/udp once the proxy has
# read its queue empty); every other one must be in the record. What the proxy read is the
# namespace's UDP InDatagrams (counted as datagrams are read) less the answers the task
# read: a machine so starved that its softirq work waits for ksoftirqd also drops datagrams
# at the loopback backlog, before the socket, counted for the whole machine only
# (softnet_stat), so "3000 less the socket's drops" overstates what reached the proxy.
# shellcheck disable=SC2016
run burst '{ "host": "allowed.test", "ports": [443] }' 30s /bin/sh -c '
	cat /proc/net/snmp >/workspace/burst-snmp0; cat /proc/net/softnet_stat >/workspace/burst-softnet0
	python3 /workspace/dns-task.py burst,3000
	# until the proxy has read every queued query (slow guests lag); its batched counts
	# come with its final report
	i=0
	while [ $i -lt 100 ] && awk "\$2 ~ /:0035\$/ && \$5 !~ /:00000000\$/ { b = 1 } END { exit !b }" /proc/net/udp; do
		sleep 0.2; i=$((i + 1))
	done
	cat /proc/net/udp >/workspace/burst-udp; cat /proc/net/snmp >/workspace/burst-snmp
	cat /proc/net/softnet_stat >/workspace/burst-softnet'
rc=$?
# the proxy's listening socket, on 127.0.0.1:53 (0100007F:0035)
drops=$(awk '$2 ~ /:0035$/ { d += $NF } END { print d + 0 }' "$TMP/ws/burst-udp")
# the namespace's own count of datagrams dropped for a full receive buffer (the proxy's
# socket is the one that fills): the larger of the two, on kernels that count one only
rcvbuf=$(awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' "$TMP/ws/burst-snmp")
[ "${rcvbuf:-0}" -gt "$drops" ] && drops=$rcvbuf
# UDP datagrams read in the task's namespace during the run, and the machine's backlog drops
indgrams=$(($(awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $2 }' "$TMP/ws/burst-snmp") -
	$(awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $2 }' "$TMP/ws/burst-snmp0")))
softnet() { python3 -c 'import sys; print(sum(int(l.split()[1], 16) for l in open(sys.argv[1])))' "$1"; }
backlog=$(($(softnet "$TMP/ws/burst-softnet") - $(softnet "$TMP/ws/burst-softnet0")))
grep -q ':0035 ' "$TMP/ws/burst-udp" || echo "# no port-53 socket in the task's /proc/net/udp"
al_ok $rc "the burst run exits 0 (got $rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/err"
check "each of 3000 queries the proxy read is in the record ($drops dropped at its socket, $backlog at the machine's backlog)" \
	"$TMP/burst.json" "
counted = sum(x['count'] for x in dns) + net['dns_unrecorded']
answered = int(out['burst,3000'])
assert counted == $indgrams - answered, (counted, $indgrams, answered, [(x['verdict'], x['count']) for x in dns if x['count'] > 1])
# the record counts the socket's drops itself: with them, all 3000 unless the backlog dropped
assert net['dns_proxy']['queries_dropped'] == $drops, (net['dns_proxy'], $drops)
assert 3000 - $backlog <= $drops + counted <= 3000, (counted, $drops, $backlog)
assert $backlog > 0 or $drops + counted == 3000, (counted, $drops)
refused = sum(x['count'] for x in dns if x['verdict'] == 'not-allowed')
# the rate limit (burst 40, 20/s): a slow guest refills it during the burst
assert answered == refused and 0 < answered < 300, (answered, refused)
assert [x['count'] for x in dns if x['verdict'] == 'rate-limited'] == [counted - refused], dns
assert net['dns_final_report'] == 'received', net['dns_final_report']"

# --- The record counts the queries of the task's last moments ----------------------------
# 200 queries sent at once, fewer than the proxy's listener holds, and the task exits at once:
# the rate limit lets 40 through, whose names the proxy reports one by one; the others it
# counts and reports every 100 ms. At the run's end the proxy's final report brings what it
# had not reported yet, the datagrams still queued, and the allowed queries still waiting for
# the upstream ("run-ended"): the record counts every query the task sent.
run last '{ "host": "allowed.test", "ports": [443] }' 30s /usr/bin/python3 \
	/workspace/dns-task.py last,200
rc=$?
al_ok $rc "the last-moments run exits 0 (got $rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/err"
check "the record counts every query the task sent in its last moments" "$TMP/last.json" '
sent, backlog = map(int, out["last,200"].split())
counted = sum(x["count"] for x in dns) + net["dns_unrecorded"]
dropped = net["dns_proxy"]["queries_dropped"]
# the loopback backlog drops of a starved machine (any namespace) never reach the listener
assert sent - backlog <= counted + dropped <= sent, (sent, backlog, counted, dropped,
    [(x["verdict"], x["count"]) for x in dns if x["count"] > 1])
assert backlog > 0 or counted + dropped == sent, (sent, counted, dropped)
assert {x["verdict"] for x in dns} <= {"allowed", "not-allowed", "rate-limited", "run-ended"}, dns'
check "the record says the proxy's final report came whole" "$TMP/last.json" '
assert net["dns_final_report"] == "received", net.get("dns_final_report")'

# The same with an upstream that never answers (11.1.0.40 serves no DNS): the allowed queries
# still wait for it when the run ends.
UPSTREAM=11.1.0.40 run silent '{ "host": "allowed.test", "ports": [443] }' 30s \
	/usr/bin/python3 /workspace/dns-task.py last,12,1
rc=$?
al_ok $rc "the run whose upstream is silent exits 0 (got $rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/err"
check "the record counts the queries still waiting for the upstream: run-ended" \
	"$TMP/silent.json" '
sent, backlog = map(int, out["last,12,1"].split())
ended = [x for x in dns if x["verdict"] == "run-ended"]
assert len(ended) == 1 and ended[0]["name"] == "allowed.test", dns
counted = sum(x["count"] for x in dns) + net["dns_unrecorded"]
assert backlog > 0 or (counted == sent and ended[0]["count"] == sent), (sent, dns)
assert net["dns_final_report"] == "received", net.get("dns_final_report")'

# --- A flood of refused names cannot push a later lookup out of the record ---------------
# 1030 distinct names not allowed, at the rate the proxy answers (about 50 s), would fill
# the 1024 entries; then (the rate limit's bucket full again) an allowed lookup, a
# connection and a denied one.
run flood '{ "host": "allowed.test", "ports": [443] }' 120s /usr/bin/python3 \
	/workspace/dns-task.py names,1030,90 sleep,2.5 gai,allowed.test,443 tcp,11.1.0.10,8080
rc=$?
al_ok $rc "the flood run exits 0 (got $rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/err"
net_expect "$TMP/out" names,1030,90 '^1030 ' "the task's 1030 refused names were answered"
net_expect "$TMP/out" gai,allowed.test,443 '^ok 11\.1\.0\.10$' "then an allowed name resolves and connects"
check "the allowed lookup after the flood is in the record" "$TMP/flood.json" '
e = entry("allowed.test")
assert e["verdict"] == "allowed" and e["addresses"] == ["11.1.0.10"], e'
check "and so is the denied connection after it" "$TMP/flood.json" '
assert any(x["destination"] == "11.1.0.10" and x["port"] == 8080 for x in denied), denied'
check "the record says how many refused names found no room" "$TMP/flood.json" '
answered, sent = map(int, out["names,1030,90"].split())
kept = sum(x["count"] for x in dns if x["verdict"] == "not-allowed")
lost = net["dns_unrecorded_verdicts"].get("not-allowed", 0)
limited = sum(x["count"] for x in dns if x["verdict"] == "rate-limited")
assert lost > 0 and kept + lost == answered, (kept, lost, answered)
assert limited == sent - answered, (limited, sent, answered)
assert net["dns_unrecorded"] == sum(net["dns_unrecorded_verdicts"].values()), net
assert len(dns) <= 1024, len(dns)'

schema=$(python3 "$SRC/tests/lib/record-schema.py" validate "$SRC/docs/run-record.schema.json" "$TMP" 2>&1)
al_ok $? "records and event logs validate against docs/run-record.schema.json"
echo "$schema" | tail -n 20 | sed 's/^/# /'
echo "1..$AL_N"
[ "$AL_FAILED" -eq 0 ]

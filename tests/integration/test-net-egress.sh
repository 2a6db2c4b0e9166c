#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Network egress end to end: airlock runs in a throw-away "host" namespace connected to a
# throw-away "internet"; a task inside the sandbox tries what the policy allows and what it
# does not, and the test checks the outcome, the run record, stderr and the host after.
set -u
SRC=${AIRLOCK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
AIRLOCK=${AIRLOCK:-$SRC/build/airlock}
NET_DIR=$SRC/tests/integration
# shellcheck source=tests/integration/lib.sh
. "$NET_DIR/lib.sh"
# shellcheck source=tests/integration/net-lib.sh
. "$NET_DIR/net-lib.sh"

# fast STEP DESCRIPTION [ERRORS]: a ttcp/tudp step failed with a refusal or an unreachable
# error, at once (under a second: the ruleset rejects, it does not drop). A UDP send that the
# output chain rejects fails in the send itself: EPERM.
fast() {
	local line errs=${3:-Connection_refused|No_route_to_host|Permission_denied}
	line=$(grep -F -- "$1 " "$TMP/out" | head -n1)
	line=${line#"$1 "}
	if [[ "$line" =~ ^fail\ ($errs)\ ([0-9]+)$ ]] &&
		[ "${BASH_REMATCH[2]}" -lt 1000 ]; then
		al_ok 0 "$2"
	else
		al_ok 1 "$2"
		echo "# step $1: got '$line'"
	fi
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
net_need /usr/bin/python3

TMP=$(mktemp -d /tmp/airlock-net-XXXXXX)
cleanup() {
	[ -n "${sup:-}" ] && kill -9 "$sup" 2>/dev/null
	# the stand-in for an older airlock's live run: flock, and its sleep that holds the lock
	[ -n "${legacy_pid:-}" ] && kill "$(ps -o pid= --ppid "$legacy_pid" | tr -d ' ')" "$legacy_pid" 2>/dev/null
	[ -n "${legacy:-}" ] && rm -rf "$legacy"
	net_world_down
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/ws" "$TMP/state"
cp "$NET_DIR/net-task.py" "$TMP/ws/"
net_world_up "$TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }
# The host's own services a task must never reach: a resolver (think dnsmasq) and others.
net_host_listen "$TMP" 0.0.0.0:53 0.0.0.0:2222 0.0.0.0:2223 '[::]:2224' ||
	{ echo "Bail out! the host's listeners did not start"; cat "$TMP/host-servers.out"; exit 1; }
NET_INO=$(net_dir_name) # the key of its runtime directory

cat >"$TMP/policy.json" <<'JSON'
{
  "version": 1,
  "name": "net-test",
  "limits": { "wall_time": "60s" },
  "network": {
    "egress": [
      { "host": "allowed.test", "ports": [443] },
      { "host": "private.test", "ports": [443] },
      { "host": "meta.test", "ports": [80] },
      { "host": "alias.test", "ports": [443] },
      { "host": "mid.test", "ports": [443] },
      { "host": "final.test", "ports": [443] },
      { "host": "badalias.test", "ports": [443] },
      { "host": "*.wild.test", "ports": [443] },
      { "host": "udp.test", "ports": [5353], "protocol": "udp" },
      { "host": "short.test", "ports": [443] },
      { "host": "wire.test", "ports": [80] },
      { "host": "spoof.test", "ports": [443] },
      { "host": "ula.test", "ports": [443] },
      { "host": "big.test", "ports": [443] },
      { "host": "gone.test", "ports": [443] },
      { "host": "*.budget.test", "ports": [443], "names": 5 },
      { "cidr": "11.1.0.16/28", "ports": [9000, 9002] },
      { "cidr": "11.1.0.20/32", "ports": [9000] },
      { "cidr": "2600:1::20/128", "ports": [8080] }
    ],
    "dns": { "upstream": ["11.1.0.53"] }
  }
}
JSON

# A table of the host's own that airlock must not touch.
ip netns exec "$NET_H" nft add table inet canary
ip netns exec "$NET_H" nft add chain inet canary cfwd '{ type filter hook forward priority 10; policy accept; }'
ip netns exec "$NET_H" nft add rule inet canary cfwd counter
# A host link that merely carries a slot's name: airlock must leave it alone.
ip -n "$NET_H" link add al0 type bridge
before=$(net_host_state | sed 's/counter packets [0-9]* bytes [0-9]*/counter/')

long=$(printf 'x%.0s' $(seq 60)).$(printf 'y%.0s' $(seq 50)).wild.test
wide=$(printf 'z%.0s' $(seq 40)).$(printf 'z%.0s' $(seq 30)).wild.test # a "*" part of 71 bytes: over the default 63
# shellcheck disable=SC2054 # the steps are comma-separated on purpose
# The proxy answers at most 20 queries a second (bursts of 40): "sleep,2" refills the
# bucket before the steps that count answers.
steps=(
	resolve,allowed.test,A tcp,11.1.0.10,443,0.5 tcp,11.1.0.10,8080
	resolve,other.test,A resolve,other.test,A,11.1.0.53 tcp,11.1.0.12,443
	tcp,11.1.0.20,9000 tcp,11.1.0.20,9001 tcp,GW,53,1 tcp,1.2.3.4,53,1
	resolve,private.test,A resolve,hidden.wild.test,A tcp,10.9.9.9,443 resolve,meta.test,A
	tcp,169.254.169.254,80
	resolve,wire.test,A resolve,spoof.test,A tcp,11.1.0.12,443,0.6
	resolve,alias.test,A tcp,11.1.0.11,443,0.5 resolve,badalias.test,A
	resolve,allowed.test,TXT resolve,allowed.test,ANY resolve,allowed.test,MX
	"resolve,$long,A"
	resolve,allowed.test,AAAA tcp,2600:1::10,443 tcp,::ffff:11.1.0.12,443
	tcp,2600:1::20,8080 tcp,2600:1::10,8080 resolve,ula.test,AAAA
	ttcp,fd00:ec2::254,80 ttcp,fd12:3456::1,443 ttcp,fe80::1%eth0,443 ttcp,64:ff9b::b01:a,443
	ttcp,::ffff:11.1.0.12,443 ttcp,GW6,2224 ttcp,GW,2222 ttcp,11.1.0.12,443 ttcp,10.9.9.9,443
	ttcp,2600:1::10,8080 tudp,11.1.0.12,5353 tudp,2600:1::10,5353
	resolve,udp.test,A udp,11.1.0.10,5353
	resolve,gone.test,A resolve,udp.test,A names,8,budget.test "resolve,$wide,A"
	sleep,2 fresh,15
	resolve,short.test,A sleep,3.5 tcp,11.1.0.10,443,1 tcp,11.1.0.11,443,1
	burst,300
)

# The node configuration (not the environment) sets the DNS TTL floor: 1s keeps the
# expiry step short. Root-owned, not writable by others, as airlock requires.
cat >"$TMP/airlock.json" <<'JSON'
{ "version": 1, "network": { "dns": { "ttl_min": "1s" } } }
JSON
chmod 644 "$TMP/airlock.json"
net_in_host env AIRLOCK_DNS_TTL_MIN=60 AIRLOCK_NET_POOL=bogus "$AIRLOCK" run \
	--config "$TMP/airlock.json" --policy "$TMP/policy.json" \
	--workspace "$TMP/ws" --state-dir "$TMP/state" --record "$TMP/record.json" \
	-- /usr/bin/python3 /workspace/net-task.py "${steps[@]}" >"$TMP/out" 2>"$TMP/err"
rc=$?
al_ok $rc "networked run exits 0 (got $rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/err"

net_expect "$TMP/out" resolve,allowed.test,A '^NOERROR 11\.1\.0\.10 [12]$' "allowed name resolves, TTL clamped"
grep -q '"task_address": "10\.231\.' "$TMP/record.json"
al_ok $? "AIRLOCK_NET_POOL and AIRLOCK_DNS_TTL_MIN in the environment change nothing (pool and TTL floor come from --config)"
net_expect "$TMP/out" tcp,11.1.0.10,443,0.5 '^ok hello' "allowed name+port connects at once after the answer"
net_expect "$TMP/out" tcp,11.1.0.10,8080 '^fail' "same address, other port is blocked"
net_expect "$TMP/out" resolve,other.test,A '^NXDOMAIN -' "a name not allowed gets NXDOMAIN though it shares an address"
net_expect "$TMP/out" resolve,other.test,A,11.1.0.53 '^NXDOMAIN -' "queries to another server are redirected to the proxy"
net_expect "$TMP/out" tcp,11.1.0.12,443 '^fail' "an address literal no rule covers is blocked"
net_expect "$TMP/out" tcp,11.1.0.20,9000 '^ok hello' "a cidr rule allows its address and port"
net_expect "$TMP/out" tcp,11.1.0.20,9001 '^fail' "a cidr rule allows only its ports"
net_expect "$TMP/out" tcp,GW,53,1 '^fail (TimeoutError|timeout)' "TCP/53 to the resolver reaches the proxy, never the host's own DNS"
net_expect "$TMP/out" tcp,1.2.3.4,53,1 '^fail Connection_refused' "TCP/53 to elsewhere is refused, not redirected to the host"
net_expect "$TMP/out" resolve,private.test,A '^NOERROR - ' "a private address in an answer is withheld"
net_expect "$TMP/out" resolve,hidden.wild.test,A '^NOERROR - ' "a CNAME chain whose every address is withheld gets an empty answer"
net_expect "$TMP/out" tcp,10.9.9.9,443 '^fail' "private range blocked"
net_expect "$TMP/out" tcp,169.254.169.254,80 '^fail' "metadata address blocked"
net_expect "$TMP/out" resolve,wire.test,A '^NOERROR - ' "the Azure WireServer address in an answer is withheld"
net_expect "$TMP/out" resolve,spoof.test,A '^NOERROR 11\.1\.0\.20 ' "forged answers (wrong source, port, id or question) are ignored"
net_expect "$TMP/out" tcp,11.1.0.12,443,0.6 '^fail' "a forged answer's address is not learned"
net_expect "$TMP/out" resolve,alias.test,A '^NOERROR cname\+cname\+11\.1\.0\.11 ' "CNAME chain within allowed names is followed"
net_expect "$TMP/out" tcp,11.1.0.11,443,0.5 '^ok hello' "the chain's final address is reachable"
net_expect "$TMP/out" resolve,badalias.test,A '^NXDOMAIN -' "a chain leaving the allowed names gets NXDOMAIN"
net_expect "$TMP/out" resolve,allowed.test,TXT '^REFUSED -' "TXT gets nothing"
net_expect "$TMP/out" resolve,allowed.test,ANY '^REFUSED -' "ANY gets nothing"
net_expect "$TMP/out" "resolve,$long,A" '^REFUSED -' "an over-long name is refused"
net_expect "$TMP/out" resolve,allowed.test,AAAA '^NOERROR 2600:1::10 [12]$' "an allowed name's AAAA answer is passed on"
net_expect "$TMP/out" tcp,2600:1::10,443 '^ok hello' "an allowed name's IPv6 address connects over IPv6 (NAT66)"
net_expect "$TMP/out" tcp,::ffff:11.1.0.12,443 '^fail' "v4-mapped IPv6 cannot bypass"
net_expect "$TMP/out" tcp,2600:1::20,8080 '^ok hello' "an IPv6 cidr rule allows its address and port"
net_expect "$TMP/out" tcp,2600:1::10,8080 '^fail' "IPv6 cannot bypass: a learned address, another port"
net_expect "$TMP/out" resolve,ula.test,AAAA '^NOERROR - ' "a ULA address in an AAAA answer is withheld"
fast ttcp,fd00:ec2::254,80 "IPv6 metadata fd00:ec2::254 is rejected at once"
fast ttcp,fd12:3456::1,443 "an IPv6 ULA address is rejected at once"
# eth0 has no link-local address: the kernel refuses a link-local destination itself
fast ttcp,fe80::1%eth0,443 "an IPv6 link-local address is refused at once" 'Invalid_argument|Connection_refused'
fast ttcp,64:ff9b::b01:a,443 "a NAT64 address is rejected at once"
fast ttcp,::ffff:11.1.0.12,443 "a v4-mapped address is rejected at once"
fast ttcp,GW6,2224 "the host's end of the veth (airlock's IPv6 pool) is rejected at once"
fast ttcp,GW,2222 "the host's end of the veth (airlock's IPv4 pool) is rejected at once"
fast ttcp,11.1.0.12,443 "a TCP connection no rule allows is refused at once"
fast ttcp,10.9.9.9,443 "a TCP connection to a denied range is refused at once"
fast ttcp,2600:1::10,8080 "an IPv6 TCP connection no rule allows is refused at once"
fast tudp,11.1.0.12,5353 "UDP no rule allows fails at once" 'Operation_not_permitted|No_route_to_host'
fast tudp,2600:1::10,5353 "IPv6 UDP no rule allows fails at once" 'Operation_not_permitted|Permission_denied'
net_expect "$TMP/out" udp,11.1.0.10,5353 '^ok hello' "a udp rule allows udp"
net_expect "$TMP/out" resolve,gone.test,A '^NXDOMAIN -' "an allowed name the upstream does not know gets its NXDOMAIN"
net_expect "$TMP/out" names,8,budget.test '^5/8 5/8$' "a wildcard rule's name budget (5) answers 5 new names, and them again"
net_expect "$TMP/out" "resolve,$wide,A" '^NXDOMAIN -' "a wildcard match over 63 bytes gets NXDOMAIN"
net_expect "$TMP/out" fresh,15 '^15/15' "answers arrive only after the sets hold the addresses"
net_expect "$TMP/out" tcp,11.1.0.10,443,1 '^fail' "an allowed address stops being reachable after its DNS timeout"
net_expect "$TMP/out" resolve,short.test,A '^NOERROR 11\.1\.0\.11 [12]$' "a second name for a learned address answers with its own TTL"
net_expect "$TMP/out" tcp,11.1.0.11,443,1 '^ok hello' "a shorter TTL for a shared address does not cut a longer one short"
burst=$(grep -F 'burst,300 ' "$TMP/out" | awk '{print $2}')
[ -n "$burst" ] && [ "$burst" -lt 120 ]
al_ok $? "a query burst is cut off by the rate limit (answered: ${burst:-none} of 300)"

nb=$(grep -E '^n[0-9]+\.budget\.test ' "$TMP/dns-queries.log" | awk '{print $1}' | sort -u | wc -l)
[ "$nb" -eq 5 ]
al_ok $? "only the budget's 5 names under *.budget.test reach the upstream (got $nb)"
! grep -q '^z' "$TMP/dns-queries.log"
al_ok $? "a name over a wildcard's match_length never reaches the upstream"
n=$(grep -c 'wildcard \*\.budget\.test: name budget of 5 spent, further new names get NXDOMAIN' "$TMP/err")
[ "$n" = 1 ]
al_ok $? "one stderr line when a wildcard's name budget is spent (got $n)"

! grep -qE '^(other\.test|evil\.test|x+\.)' "$TMP/dns-queries.log" && ! grep -qE ' (16|255|15) [0-9]+$' "$TMP/dns-queries.log"
al_ok $? "not-allowed names, over-long names and TXT/ANY never reach the upstream"
# Each upstream query leaves from a socket of its own: a fresh random source port (a port
# may come round again by chance, rarely).
nq=$(wc -l <"$TMP/dns-queries.log")
np=$(awk '{print $3}' "$TMP/dns-queries.log" | sort -u | wc -l)
[ "$nq" -ge 20 ] && [ $((np * 10)) -ge $((nq * 9)) ]
al_ok $? "upstream queries use a fresh source port each ($np distinct ports over $nq queries)"

n=$(grep -c 'denied tcp connection to 11.1.0.10:8080' "$TMP/err")
[ "$n" = 1 ]
al_ok $? "one stderr line per denied destination (got $n)"

python3 - "$TMP/record.json" <<'PY'
import json, sys
rec = json.load(open(sys.argv[1]))
net = rec.get('network') or rec.get('egress') or {}
def find(obj, key):
    if isinstance(obj, dict):
        if key in obj: return obj[key]
        for v in obj.values():
            r = find(v, key)
            if r is not None: return r
    return None
denied = find(rec, 'denied') or []
dns = find(rec, 'dns') or []
d = {(x['destination'], x['port']): x for x in denied}
assert ('11.1.0.10', 8080) in d and d[('11.1.0.10', 8080)]['count'] >= 1, denied
assert d[('169.254.169.254', 80)]['reason'] == 'denied-range', denied
assert ('11.1.0.12', 443) in d, denied
assert ('1.2.3.4', 53) in d and d[('1.2.3.4', 53)]['protocol'] == 'tcp', denied
assert d[('fd00:ec2::254', 80)]['reason'] == 'denied-range', denied
assert d[('2600:1::10', 8080)]['reason'] == 'not-allowed', denied
assert d[('11.1.0.12', 5353)]['protocol'] == 'udp', denied
six = rec['network'].get('task_address6', '')
assert six.startswith('fd61:6972:6c6b:') and six.endswith('::2'), six
gw = rec['network']['resolver']
assert d[(gw, 2222)]['reason'] == 'denied-range', denied
assert any(k[0].startswith('fd61:6972:6c6b:') and k[1] == 2224 and x['reason'] == 'denied-range'
           for k, x in d.items()), denied
v = {(x['name'], x.get('type')): x['verdict'] for x in dns}
assert v[('other.test', 'A')] == 'not-allowed', v
assert v[('allowed.test', 'TXT')] == 'type-refused', v
assert v[('allowed.test', 'A')] == 'allowed', v
assert any(x['verdict'] == 'rate-limited' for x in dns), v
# An allowed answer carries its own rcode, never the one of a decision before it.
bad = [x for x in dns if x['verdict'] in ('allowed', 'withheld') and x.get('rcode') != 'NOERROR']
assert not bad, bad
g = [x for x in dns if x['name'] == 'gone.test']
assert len(g) == 1 and g[0]['verdict'] == 'upstream-rcode' and g[0]['rcode'] == 'NXDOMAIN', g
# Repeated queries are one entry with a count.
u = [x for x in dns if x['name'] == 'udp.test' and x['type'] == 'A']
assert len(u) == 1 and u[0]['count'] == 2 and u[0]['first_ms'] <= u[0]['last_ms'], u
# An answer whose addresses were all withheld says so, and what and why.
p = [x for x in dns if x['name'] == 'private.test']
assert len(p) == 1 and p[0]['verdict'] == 'withheld', p
assert p[0]['withheld'] == ['10.9.9.9'] and p[0]['reason'] == 'denied-range', p
w = {x['host']: x for x in net['wildcards']}
assert w['*.budget.test']['names'] == 5 and w['*.budget.test']['refused_budget'] == 6, w
assert w['*.wild.test']['names'] == 128 and w['*.wild.test']['refused_length'] == 1, w
assert w['*.wild.test']['match_length'] == 63, w
assert v[('n7.budget.test', 'A')] == 'wildcard-budget', v
print('# record ok')
PY
al_ok $? "the record holds DNS decisions and denied attempts"
! ip netns exec "$NET_H" nft list tables | grep -q airlock
al_ok $? "no airlock table remains in the host namespace"
net_wait_veths_gone
al_ok $? "no veth remains (the kernel destroys it with the task namespace)"
[ ! -e "/run/airlock/net/$NET_INO" ]
al_ok $? "the last networked run leaves no slot directory behind"
after=$(net_host_state | sed 's/counter packets [0-9]* bytes [0-9]*/counter/')
[ "$before" = "$after" ]
al_ok $? "host tables, routes and links are as before"
ip -n "$NET_H" -o link show al0 type bridge | grep -q al0
al_ok $? "a host link named like a slot (al0) is not deleted"
# Names the way ordinary programs resolve them: libc's resolver reads /etc/resolv.conf
# (no fixed address, no redirect), through getent and python's getaddrinfo, then connects.
net_in_host "$AIRLOCK" run --policy "$TMP/policy.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" --record "$TMP/record-libc.json" -- /bin/sh -c '
	echo "conf $(grep -c "^nameserver" /etc/resolv.conf) $(grep "^nameserver" /etc/resolv.conf | cut -d" " -f2)"
	echo "getent $(getent ahostsv4 allowed.test | awk "NR == 1 { print \$1 }")"
	echo "big $(getent ahosts big.test | awk "{ print \$1 }" | sort -u | wc -l) $(getent ahostsv4 big.test | grep -c "^11\.1\.0\.30 .*STREAM")"
	getent hosts other.test >/dev/null; echo "denied-getent $?"
	python3 -c "
import socket
a = socket.getaddrinfo(\"allowed.test\", 443, socket.AF_INET, socket.SOCK_STREAM)
print(\"gai\", a[0][4][0])
b = [x[4][0] for x in socket.getaddrinfo(\"big.test\", 443, socket.AF_INET, socket.SOCK_STREAM)]
print(\"big-gai\", len(b))
s = socket.create_connection((b[b.index(\"11.1.0.30\")], 443), timeout=5)
print(\"big-connect\", s.recv(64).decode().split()[0])
s = socket.create_connection((\"allowed.test\", 443), timeout=5)
print(\"connect\", s.recv(64).decode().split()[0])
try:
    socket.getaddrinfo(\"other.test\", 443)
    print(\"denied-gai resolved\")
except socket.gaierror as e:
    print(\"denied-gai\", e.errno == socket.EAI_NONAME)
"' >"$TMP/out-libc" 2>"$TMP/err-libc"
al_ok $? "a task resolving names with libc's resolver exits 0"
resolver=$(grep -o '"resolver": "[0-9.]*"' "$TMP/record.json" | cut -d'"' -f4)
grep -qx "conf 1 ${resolver:-none}" "$TMP/out-libc"
al_ok $? "/etc/resolv.conf names the run's resolver ($resolver) as the only nameserver"
grep -qx 'getent 11.1.0.10' "$TMP/out-libc"
al_ok $? "getent ahosts resolves an allowed name through resolv.conf"
grep -qx 'denied-getent 2' "$TMP/out-libc"
al_ok $? "getent does not resolve a name the policy does not allow"
grep -qx 'gai 11.1.0.10' "$TMP/out-libc" && grep -qx 'connect hello' "$TMP/out-libc"
al_ok $? "python getaddrinfo resolves an allowed name and connects to it by name"
grep -qx 'denied-gai True' "$TMP/out-libc"
al_ok $? "python getaddrinfo fails with EAI_NONAME for a name the policy does not allow"
# 40 A records do not fit 512-byte UDP: the proxy answers truncated, glibc asks over TCP.
grep -qx 'big 40 1' "$TMP/out-libc"
al_ok $? "getent ahosts resolves a name with 40 addresses (truncated UDP, then TCP)"
grep -qx 'big-gai 40' "$TMP/out-libc" && grep -qx 'big-connect hello' "$TMP/out-libc"
al_ok $? "python getaddrinfo resolves it too, and one of its addresses connects"
grep -qE '^big\.test 1 [0-9]+ tcp$' "$TMP/dns-queries.log"
al_ok $? "the proxy asks the upstream over TCP when its UDP answer is truncated"
python3 - "$TMP/record-libc.json" <<'PY'
import json, sys
dns = json.load(open(sys.argv[1]))['network']['dns']
t = [x for x in dns if x['name'] == 'big.test' and x['type'] == 'A' and x['transport'] == 'tcp']
assert t and t[0]['verdict'] == 'allowed' and len(t[0]['addresses']) == 40, dns
PY
al_ok $? "the record shows the TCP query and its 40 allowed addresses"
grep -q . "$TMP/err-libc" && sed 's/^/# err: /' "$TMP/err-libc" | head -5
sed 's/^/# out: /' "$TMP/out-libc"

# The node configuration's wildcard defaults: a rule that sets no "names" or "match_length"
# (*.wild.test) gets the configuration's, one that sets them (*.budget.test: 5) keeps its own.
cat >"$TMP/wild.json" <<'JSON'
{ "version": 1, "network": { "dns": { "wildcard_names": 3, "wildcard_match_length": 20 } } }
JSON
chmod 644 "$TMP/wild.json"
c20=$(printf 'c%.0s' $(seq 20)) c21=$(printf 'd%.0s' $(seq 21))
net_in_host "$AIRLOCK" run --config "$TMP/wild.json" --policy "$TMP/policy.json" \
	--workspace "$TMP/ws" --state-dir "$TMP/state" --record "$TMP/record-wild.json" \
	-- /usr/bin/python3 /workspace/net-task.py names,5,cfg.wild.test "resolve,$c20.wild.test,A" \
	"resolve,$c21.wild.test,A" names,8,budget.test >"$TMP/out" 2>"$TMP/err-wild"
al_ok $? "a run with the node configuration's wildcard defaults exits 0"
net_expect "$TMP/out" names,5,cfg.wild.test '^3/5 3/5$' \
	"a wildcard rule without \"names\" gets the configuration's budget (3 of 5 new names)"
nb=$(grep -E '^n[0-9]\.cfg\.wild\.test ' "$TMP/dns-queries.log" | awk '{print $1}' | sort -u | wc -l)
[ "$nb" -eq 3 ] && ! grep -qE "^($c20|$c21)\." "$TMP/dns-queries.log"
al_ok $? "only those 3 names reach the upstream, and no name past the budget or the length (got $nb)"
net_expect "$TMP/out" names,8,budget.test '^5/8 5/8$' "a rule with its own \"names\" (5) keeps it"
grep -q 'wildcard \*\.wild\.test: name budget of 3 spent' "$TMP/err-wild"
al_ok $? "stderr names the configuration's budget"
python3 - "$TMP/record-wild.json" <<'PY'
import json, sys
w = {x['host']: x for x in json.load(open(sys.argv[1]))['network']['wildcards']}
assert (w['*.wild.test']['names'], w['*.wild.test']['match_length']) == (3, 20), w
assert w['*.wild.test']['refused_length'] == 1 and w['*.wild.test']['refused_budget'] >= 3, w
assert (w['*.budget.test']['names'], w['*.budget.test']['match_length']) == (5, 20), w
PY
al_ok $? "the record shows each rule's bounds in force and a name over the configuration's match_length (20)"

# curl and git, by name, from a real HTTP server in the test internet (git.test, port 80).
ip -n "$NET_I" addr add 11.1.0.40/32 dev lo
mkdir -p "$TMP/www" && echo "hello over http" >"$TMP/www/hello.txt"
git init -q "$TMP/src" && echo content >"$TMP/src/file" && git -C "$TMP/src" add file &&
	git -C "$TMP/src" -c user.name=t -c user.email=t@example.com commit -qm "first commit" &&
	git clone -q --bare "$TMP/src" "$TMP/www/repo.git" && git -C "$TMP/www/repo.git" update-server-info
ip netns exec "$NET_I" python3 -m http.server 80 --bind 11.1.0.40 --directory "$TMP/www" \
	>/dev/null 2>&1 &
http_pid=$!
for _ in $(seq 50); do
	ip netns exec "$NET_I" python3 -c 'import socket; socket.create_connection(("11.1.0.40", 80), 1)' \
		2>/dev/null && break
	sleep 0.1
done
cat >"$TMP/policy-http.json" <<'JSON'
{ "version": 1, "name": "net-http", "limits": { "wall_time": "60s" },
  "filesystem": { "workspace": { "mode": "rw" } },
  "network": { "egress": [ { "host": "git.test", "ports": [80] } ],
               "dns": { "upstream": ["11.1.0.53"] } } }
JSON
net_in_host "$AIRLOCK" run --policy "$TMP/policy-http.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" -- /bin/sh -c '
	echo "curl $(curl -sS --max-time 10 http://git.test/hello.txt)"
	git clone -q http://git.test/repo.git /tmp/repo && echo "git $(git -C /tmp/repo log --format=%s)"
	curl -sS --max-time 5 http://allowed.test/ >/dev/null 2>&1; echo "curl-name $?"
	curl -sS --max-time 5 http://git.test:8080/ >/dev/null 2>&1; echo "curl-port $?"' \
	>"$TMP/out-http" 2>"$TMP/err-http"
al_ok $? "a task fetches with curl and clones with git over HTTP by name"
grep -qx 'curl hello over http' "$TMP/out-http"
al_ok $? "curl gets the file from http://git.test/ (resolved through resolv.conf)"
grep -qx 'git first commit' "$TMP/out-http"
al_ok $? "git clone http://git.test/repo.git works inside the sandbox"
grep -qx 'curl-name 6' "$TMP/out-http"
al_ok $? "curl cannot resolve a name the policy does not allow"
grep -qx 'curl-port 7' "$TMP/out-http"
al_ok $? "curl to an allowed name on another port fails at once (connection refused)"
kill "$http_pid" 2>/dev/null
wait "$http_pid" 2>/dev/null
grep -q . "$TMP/err-http" && sed 's/^/# err: /' "$TMP/err-http" | head -5
sed 's/^/# out: /' "$TMP/out-http"

# A second, live run with broad cidr rules: it must still not reach the host itself.
cat >"$TMP/policy2.json" <<'JSON'
{
  "version": 1,
  "name": "net-test-broad",
  "limits": { "wall_time": "60s" },
  "network": {
    "egress": [
      { "host": "allowed.test", "ports": [443] },
      { "cidr": "10.0.0.0/8", "ports": [2222] },
      { "cidr": "0.0.0.0/0", "ports": [2223] }
    ],
    "dns": { "upstream": ["11.1.0.53"] }
  }
}
JSON
net_in_host "$AIRLOCK" run --policy "$TMP/policy2.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" -- /usr/bin/python3 /workspace/net-task.py resolve,allowed.test,A \
	tcp,GW,2222,1 tcp,11.0.0.1,2223,1 tcp,GW,2223,1 tcp,11.1.0.10,2223,1 sleep,40 \
	>"$TMP/out2" 2>"$TMP/err3" &
run_pid=$!   # nsenter; the supervisor is its child
for _ in $(seq 60); do
	grep -q '^tcp,11.1.0.10,2223,1 ' "$TMP/out2" && break
	sleep 0.1
done
cp "$TMP/out2" "$TMP/out"
sup=$(ps -o pid= --ppid "$run_pid" | tr -d ' ')
net_expect "$TMP/out" resolve,allowed.test,A '^NOERROR 11\.1\.0\.10' "DNS to the task's own resolver passes the host input chain"
net_expect "$TMP/out" tcp,GW,2222,1 '^fail' "a cidr 10.0.0.0/8 rule does not open the host via the task's gateway"
net_expect "$TMP/out" tcp,11.0.0.1,2223,1 '^fail' "a cidr 0.0.0.0/0 rule does not open the host's other addresses"
net_expect "$TMP/out" tcp,GW,2223,1 '^fail' "a cidr 0.0.0.0/0 rule does not open the gateway"
ip netns exec "$NET_H" nft list table inet airlock-host 2>/dev/null | grep -q 'chain input'
al_ok $? "the host table has an input chain while a run lives"

# What the host table's input chain rejects is recorded too, and each run records only its
# own: two more runs beside the live one, at the same time, each knocking on its own port of
# the host's other address (a cidr 0.0.0.0/0 rule lets both past the task's ruleset).
cat >"$TMP/policy-host.json" <<'JSON'
{ "version": 1, "name": "net-host", "limits": { "wall_time": "30s" },
  "network": { "egress": [ { "cidr": "0.0.0.0/0", "ports": [2223, 2226] } ],
               "dns": { "upstream": ["11.1.0.53"] } } }
JSON
host_pids=()
for port in 2223 2226; do
	net_in_host "$AIRLOCK" run --policy "$TMP/policy-host.json" --workspace "$TMP/ws" \
		--state-dir "$TMP/state" --record "$TMP/record-host-$port.json" -- /usr/bin/python3 \
		/workspace/net-task.py sleep,0.5 "ttcp,11.0.0.1,$port" sleep,1 "ttcp,11.0.0.1,$port" \
		ttcp,GW,2222 >"$TMP/out-host-$port" 2>"$TMP/err-host-$port" &
	host_pids+=($!)
done
wait "${host_pids[0]}" && wait "${host_pids[1]}"
al_ok $? "two networked runs side by side knock on the host's other address"
for port in 2223 2226; do
	cp "$TMP/out-host-$port" "$TMP/out"
	fast "ttcp,11.0.0.1,$port" "the host's other address is refused at once (port $port)"
	python3 - "$TMP/record-host-$port.json" "$port" <<'PY'
import json, sys
denied = json.load(open(sys.argv[1]))['network']['denied']
port = int(sys.argv[2])
host = [d for d in denied if d['reason'] == 'host']
assert [(d['destination'], d['port'], d['protocol'], d['count'] >= 2) for d in host] == \
    [('11.0.0.1', port, 'tcp', True)], denied
gw = [d for d in denied if d['port'] == 2222]
assert len(gw) == 1 and gw[0]['reason'] != 'host', denied  # the task's own ruleset's
PY
	al_ok $? "the record lists the connection to the host with reason host, its own only (port $port)"
	grep -q "denied tcp connection to 11.0.0.1:$port (the host itself)" "$TMP/err-host-$port"
	al_ok $? "and stderr names it once (port $port)"
done

# The DNS proxy of a live run: nobody, no capabilities, no_new_privs, seccomp filter.
proxy=
for st in /proc/[0-9]*/status; do
	grep -q '^Name:.*airlock' "$st" 2>/dev/null && grep -q "^PPid:.${sup:-none}\$" "$st" 2>/dev/null &&
		grep -q "^Uid:.65534" "$st" 2>/dev/null && proxy=$st && break
done
[ -n "$proxy" ] && grep -q '^Seccomp:.2' "$proxy" && grep -q '^NoNewPrivs:.1' "$proxy" &&
	grep -q '^CapEff:.0000000000000000' "$proxy" && grep -q '^CapPrm:.0000000000000000' "$proxy" &&
	grep -q '^Gid:.65534.65534.65534' "$proxy"
al_ok $? "the DNS proxy runs as nobody with no capabilities, no_new_privs and seccomp"
# A compromised proxy must not send anywhere: sendto() only to connected peers, or on the
# listening socket, which is in the task's namespace bound to its lo (test-net-proxy.sh);
# recvmsg only from the guard, no sendmsg.
[ -z "$(ip netns exec "$NET_H" ss -Huan 'sport = :53')" ]
al_ok $? "the proxy's listening socket is not in the host's namespace"
if [ "$(uname -m)" != x86_64 ]; then
	al_skip "the proxy's seccomp filter checks sendto, recvmsg and close" "x86-64 syscall numbers, this is $(uname -m)"
elif [ -n "$proxy" ]; then
	ppid=${proxy#/proc/}; ppid=${ppid%/status}
	python3 - "$ppid" <<'PY'
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
pid = int(sys.argv[1])
buf = ctypes.create_string_buffer(8 * 512)
assert libc.ptrace(16, pid, None, None) == 0, 'attach'          # PTRACE_ATTACH
os.waitpid(pid, 0)
n = libc.ptrace(0x420c, pid, None, buf)                          # PTRACE_SECCOMP_GET_FILTER
libc.ptrace(17, pid, None, None)                                 # PTRACE_DETACH
assert n > 0, 'get filter'
insns = [struct.unpack_from('<HBBI', buf.raw, 8 * i) for i in range(n)]
assert (0x20, 0, 0, 48) in insns, 'sendto dest_addr is not checked'
assert not any(c == 0x15 and k == 46 for c, _, _, k in insns), 'sendmsg allowed'
def guarded(nr, op, fd):  # nr's only match is followed by a check of args[0] against fd
    i = [j for j, (c, _, _, k) in enumerate(insns) if c == 0x15 and k == nr
         and not (insns[j - 1][0] == 0x20 and insns[j - 1][3] >= 16)]  # not an argument check
    return len(i) == 1 and insns[i[0] + 1] == (0x20, 0, 0, 16) and insns[i[0] + 2][0] == op and insns[i[0] + 2][3] == fd
assert guarded(47, 0x15, 4), 'recvmsg is not limited to the guard socket'
assert guarded(288, 0x15, 5), 'accept4 is not limited to the TCP listener'
assert guarded(3, 0x25, 5), 'close may free a listening socket'
PY
	al_ok $? "the proxy's seccomp filter checks sendto's destination, recvmsg's, accept4's and close's fd, denies sendmsg"
fi
[ -n "$proxy" ] || { echo "# no proxy (supervisor ${sup:-none})"; ps -eo pid,ppid,user,comm | grep -E "airlock|python" | sed 's/^/# /'; }

# Another pool while runs of the first one live would be left without a host table.
cat >"$TMP/pool2.json" <<'JSON'
{ "version": 1, "network": { "pool": "10.232.0.0/16" } }
JSON
chmod 644 "$TMP/pool2.json"
net_in_host "$AIRLOCK" run --config "$TMP/pool2.json" --policy "$TMP/policy2.json" \
	--workspace "$TMP/ws" --state-dir "$TMP/state" -- /bin/true >/dev/null 2>"$TMP/err4"
rc=$?
[ $rc -eq 125 ] && grep -q 'configured pools (/network/pool 10.232.0.0/16, /network/pool6) differ' "$TMP/err4"
al_ok $? "a run with another configured pool is refused while the first pool is in use (exit $rc)"
cat >"$TMP/pool6.json" <<'JSON'
{ "version": 1, "network": { "pool6": "fd77:1::/48" } }
JSON
chmod 644 "$TMP/pool6.json"
net_in_host "$AIRLOCK" run --config "$TMP/pool6.json" --policy "$TMP/policy2.json" \
	--workspace "$TMP/ws" --state-dir "$TMP/state" -- /bin/true >/dev/null 2>"$TMP/err4b"
rc=$?
[ $rc -eq 125 ] && grep -q 'configured pools (/network/pool .*, /network/pool6) differ' "$TMP/err4b"
al_ok $? "so is a run with another configured IPv6 pool (exit $rc)"

# The supervisor dies: the next run of any kind reaps what it left.
[ -n "$sup" ] && kill -9 "$sup"
wait "$run_pid" 2>/dev/null
# A run in another network namespace (here the machine's own; it sets up no network)
# must leave the dead run's files alone while its namespace lives: only runs there can
# remove its host table and veth, and they need those files to know what to remove.
"$AIRLOCK" run --workspace "$TMP/ws" --state-dir "$TMP/state" -- /bin/true >/dev/null \
	2>"$TMP/err-foreign"
compgen -G "/run/airlock/net/$NET_INO/slot-*" >/dev/null
al_ok $? "a run in another namespace leaves a live namespace's leftovers to the runs there"
net_in_host "$AIRLOCK" run --workspace "$TMP/ws" --state-dir "$TMP/state" -- /bin/true \
	>/dev/null 2>"$TMP/err5"
al_ok $? "a run after a killed networked run succeeds"
! ip netns exec "$NET_H" nft list tables | grep -q airlock
al_ok $? "the killed run's host table is reaped"
net_wait_veths_gone
al_ok $? "the killed run's veth is reaped"
[ ! -e "/run/airlock/net/$NET_INO" ]
al_ok $? "the killed run's slot lock and directory are reaped"

# An older airlock kept the host namespace's slots in net/<inode>, without the cookie: its
# live runs share the host table and the al<n> names with ours, but hold no slot we can see.
# One of them lives (slot 5 held by flock; its veth, its pool file in the old one-line form,
# and its host table): a networked run must refuse, and touch nothing of it.
legacy=/run/airlock/net/${NET_INO%%-*}
if [ "$legacy" = "/run/airlock/net/$NET_INO" ]; then
	al_skip "runs beside an older airlock's live runs" "no SO_NETNS_COOKIE: the keys are one"
else
	mkdir -p "$legacy" && echo 10.231.0.0/16 >"$legacy/pool" && : >"$legacy/.lock"
	flock "$legacy/slot-5.lock" sleep 300 &
	legacy_pid=$!
	for _ in $(seq 50); do
		flock -n "$legacy/slot-5.lock" true || break
		sleep 0.1
	done
	ip -n "$NET_H" link add al5 type veth peer name al5-peer
	ip -n "$NET_H" addr add 10.231.0.21/30 dev al5
	ip netns exec "$NET_H" nft add table inet airlock-host
	ip netns exec "$NET_H" nft add chain inet airlock-host legacy
	net_in_host "$AIRLOCK" run --policy "$TMP/policy2.json" --workspace "$TMP/ws" \
		--state-dir "$TMP/state" -- /bin/true >/dev/null 2>"$TMP/err-legacy"
	rc=$?
	[ $rc -eq 125 ] && [ "$(cat "$TMP/err-legacy")" = "airlock: refusing run: networked runs of an older airlock are live in this network namespace; wait for them to end" ]
	al_ok $? "a networked run refuses in one line beside a live run of an older airlock (exit $rc)"
	[ $rc -eq 125 ] || sed 's/^/# /' "$TMP/err-legacy"
	ip netns exec "$NET_H" nft list chain inet airlock-host legacy >/dev/null 2>&1 &&
		ip -n "$NET_H" link show al5 >/dev/null 2>&1 && [ -e "$legacy/slot-5.lock" ] &&
		[ ! -e "/run/airlock/net/$NET_INO" ]
	al_ok $? "it leaves that run's host table, veth and slot lock alone, and no directory of its own"
	kill "$(ps -o pid= --ppid "$legacy_pid" | tr -d ' ')" 2>/dev/null
	wait "$legacy_pid" 2>/dev/null
	legacy_pid=
	net_in_host "$AIRLOCK" run --policy "$TMP/policy2.json" --workspace "$TMP/ws" \
		--state-dir "$TMP/state" -- /bin/true >/dev/null 2>"$TMP/err-legacy2"
	al_ok $? "once the older airlock's run is gone, the next networked run starts"
	[ ! -e "$legacy" ] && ! ip -n "$NET_H" link show al5 >/dev/null 2>&1 &&
		! ip netns exec "$NET_H" nft list tables | grep -q airlock
	al_ok $? "and reaps its directory, its veth and its host table"
	sed 's/^/# /' "$TMP/err-legacy2"
fi
# A policy whose only DNS upstream is IPv6: its queries go there, over the host's IPv6 route.
cat >"$TMP/policy3.json" <<'JSON'
{
  "version": 1,
  "name": "net-test-v6up",
  "limits": { "wall_time": "30s" },
  "network": {
    "egress": [ { "host": "v6up.test", "ports": [443] } ],
    "dns": { "upstream": ["2600:1::53"] }
  }
}
JSON
net_in_host "$AIRLOCK" run --policy "$TMP/policy3.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" --record "$TMP/record3.json" -- /usr/bin/python3 \
	/workspace/net-task.py resolve,v6up.test,A >"$TMP/out" 2>"$TMP/err6"
net_expect "$TMP/out" resolve,v6up.test,A '^NOERROR 11\.1\.0\.10 ' "a name resolves through an IPv6-only upstream"
grep -q '^v6up.test 1 ' "$TMP/dns-queries.log" && grep -q '"dns_upstream": "2600:1::53"' "$TMP/record3.json"
al_ok $? "the IPv6 upstream the policy names gets the query, and the record says so"
ip netns exec "$NET_H" sysctl -qw net.ipv6.conf.all.forwarding=0
net_in_host "$AIRLOCK" run --policy "$TMP/policy3.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" -- /bin/true >/dev/null 2>"$TMP/err7"
rc=$?
ip netns exec "$NET_H" sysctl -qw net.ipv6.conf.all.forwarding=1
[ $rc -eq 125 ] && grep -q 'net.ipv6.conf.all.forwarding' "$TMP/err7" && [ "$(wc -l <"$TMP/err7")" -eq 1 ]
al_ok $? "refuses in one line when IPv6 forwarding is off on a host with an IPv6 route (exit $rc)"

# A host without an IPv6 default route: IPv6 destinations are refused, names get no AAAA.
ip -n "$NET_H" -6 route del default
net_in_host "$AIRLOCK" run --policy "$TMP/policy.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" -- /bin/true >/dev/null 2>"$TMP/err8"
rc=$?
[ $rc -eq 125 ] && grep -Eq '/network/egress/[0-9]+: cidr 2600:1::20/128 is IPv6' "$TMP/err8" &&
	[ "$(wc -l <"$TMP/err8")" -eq 1 ]
al_ok $? "without an IPv6 route a policy with an IPv6 cidr rule is refused in one line (exit $rc)"
net_in_host "$AIRLOCK" run --policy "$TMP/policy3.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" -- /bin/true >/dev/null 2>"$TMP/err9"
rc=$?
[ $rc -eq 125 ] && grep -q '/network/dns/upstream' "$TMP/err9" && [ "$(wc -l <"$TMP/err9")" -eq 1 ]
al_ok $? "without an IPv6 route an IPv6-only DNS upstream is refused in one line (exit $rc)"
net_in_host "$AIRLOCK" run --policy "$TMP/policy2.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" --record "$TMP/record4.json" -- /usr/bin/python3 \
	/workspace/net-task.py resolve,allowed.test,AAAA resolve,allowed.test,A >"$TMP/out" 2>"$TMP/err10"
net_expect "$TMP/out" resolve,allowed.test,AAAA '^NOERROR - 0$' "without an IPv6 route AAAA gets an empty answer"
net_expect "$TMP/out" resolve,allowed.test,A '^NOERROR 11\.1\.0\.10 ' "without an IPv6 route A still resolves"
! grep -q task_address6 "$TMP/record4.json" && grep -q '"ipv6-off"' "$TMP/record4.json"
al_ok $? "without an IPv6 route the task has no IPv6 address, and the record says why AAAA was empty"
ip -n "$NET_H" -6 route add default via 2600:ffff::2

# ---- what a policy names inside the node's address pools ----
# The pools' addresses are the runs' own (the veths): a cidr rule or DNS upstream inside one
# is never reachable, so the run is refused before anything exists; a rule holding a whole
# pool is reached but for the pool, which the run says once and records. The pool here is
# 11.1.1.0/24, beside the "internet's" 11.1.0.0/24.
cat >"$TMP/poolnet.json" <<'JSON'
{ "version": 1, "network": { "pool": "11.1.1.0/24" } }
JSON
chmod 644 "$TMP/poolnet.json"
pool_policy() { # pool_policy NAME EGRESS-RULES UPSTREAM: writes $TMP/NAME.json
	cat >"$TMP/$1.json" <<JSON
{ "version": 1, "name": "$1", "limits": { "wall_time": "30s" },
  "network": { "egress": [ $2 ], "dns": { "upstream": ["$3"] } } }
JSON
}
pool_refused() { # pool_refused NAME CONFIG EXPECTED-LINE DESCRIPTION
	net_in_host "$AIRLOCK" run --config "$2" --policy "$TMP/$1.json" --workspace "$TMP/ws" \
		--state-dir "$TMP/state" --record "$TMP/record-$1.json" -- /bin/true \
		>/dev/null 2>"$TMP/err-$1"
	local rc=$?
	[ $rc -eq 125 ] && [ "$(cat "$TMP/err-$1")" = "airlock: refusing run: $3" ] &&
		grep -q '"reason": "egress_unreachable"' "$TMP/record-$1.json"
	al_ok $? "$4 (exit $rc)"
	[ $rc -eq 125 ] || sed 's/^/# /' "$TMP/err-$1"
	al_diag <"$TMP/err-$1"
}
pool_before=$(net_host_state | sed 's/counter packets [0-9]* bytes [0-9]*/counter/')
pool_policy in-pool '{ "cidr": "11.1.1.64/26", "ports": [443] }' 11.1.0.53
pool_refused in-pool "$TMP/poolnet.json" \
	"/network/egress/0: cidr 11.1.1.64/26 lies in the address pool 11.1.1.0/24 (/network/pool of $TMP/poolnet.json), the runs' own addresses: no task can reach it; allow an address outside the pool, or choose another pool" \
	"a cidr rule inside the address pool refuses the run in one line naming the rule, the range and the pool"
net_in_host "$AIRLOCK" policy check "$TMP/in-pool.json" --host --workspace "$TMP/ws" \
	--config "$TMP/poolnet.json" >"$TMP/pc-in-pool" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -qF "in-pool.json: on this host a run would be refused: /network/egress/0: cidr 11.1.1.64/26 lies in the address pool 11.1.1.0/24 (/network/pool of $TMP/poolnet.json)" "$TMP/pc-in-pool"
al_ok $? "policy check --host says so beforehand (exit $rc)"
al_diag <"$TMP/pc-in-pool"
pool_policy up-in-pool '{ "host": "allowed.test", "ports": [443] }' 11.1.1.53
pool_refused up-in-pool "$TMP/poolnet.json" \
	"/network/dns/upstream/0: 11.1.1.53 lies in the address pool 11.1.1.0/24 (/network/pool of $TMP/poolnet.json), the runs' own addresses: the run's DNS proxy cannot reach it; name an upstream outside the pool, or choose another pool" \
	"a DNS upstream inside the address pool refuses the run in one line"
pool_policy in-pool6 '{ "cidr": "fd61:6972:6c6b:5::/64", "ports": [443] }' 11.1.0.53
pool_refused in-pool6 "$TMP/airlock.json" \
	"/network/egress/0: cidr fd61:6972:6c6b:5::/64 lies in the address pool fd61:6972:6c6b::/48 (/network/pool6 of $TMP/airlock.json), the runs' own addresses: no task can reach it; allow an address outside the pool, or choose another pool" \
	"an IPv6 cidr rule inside the IPv6 pool refuses the run, on a host with IPv6"
# Neither the policy nor the configuration names an upstream: the host's nameserver is
# asked, and one inside the pool refuses the run too. /etc/resolv.conf is replaced in a
# mount namespace of the test's own, never the machine's.
printf 'nameserver 11.1.1.53\n' >"$TMP/resolv-in-pool.conf"
cat >"$TMP/no-upstream.json" <<'JSON'
{ "version": 1, "name": "no-upstream",
  "network": { "egress": [ { "host": "allowed.test", "ports": [443] } ] } }
JSON
with_resolv() { # with_resolv FILE COMMAND...: COMMAND in the host namespace, FILE as /etc/resolv.conf
	local f=$1
	shift
	net_in_host unshare -m --propagation private sh -c \
		'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$f" "$@"
}
with_resolv "$TMP/resolv-in-pool.conf" "$AIRLOCK" run --config "$TMP/poolnet.json" \
	--policy "$TMP/no-upstream.json" --workspace "$TMP/ws" --state-dir "$TMP/state" -- /bin/true \
	>/dev/null 2>"$TMP/err-resolv"
rc=$?
[ $rc -eq 125 ] && [ "$(cat "$TMP/err-resolv")" = "airlock: refusing run: /network/dns/upstream: no DNS upstream in the policy or the configuration, and the first IPv4 nameserver of /etc/resolv.conf, 11.1.1.53, lies in the address pool 11.1.1.0/24 (/network/pool of $TMP/poolnet.json), the runs' own addresses: the run's DNS proxy cannot reach it; name an upstream outside the pool, or choose another pool" ]
al_ok $? "the host's nameserver inside the pool, as the last resort upstream, refuses the run in one line (exit $rc)"
al_diag <"$TMP/err-resolv"
with_resolv "$TMP/resolv-in-pool.conf" "$AIRLOCK" policy check "$TMP/no-upstream.json" --host \
	--workspace "$TMP/ws" --config "$TMP/poolnet.json" >"$TMP/pc-resolv" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -qF "would be refused: /network/dns/upstream: no DNS upstream in the policy or the configuration, and the first IPv4 nameserver of /etc/resolv.conf, 11.1.1.53, lies in the address pool 11.1.1.0/24" "$TMP/pc-resolv"
al_ok $? "policy check --host says so too (exit $rc)"
al_diag <"$TMP/pc-resolv"
[ "$pool_before" = "$(net_host_state | sed 's/counter packets [0-9]* bytes [0-9]*/counter/')" ] &&
	! ip netns exec "$NET_H" nft list tables | grep -q airlock && [ ! -e "/run/airlock/net/$NET_INO" ]
al_ok $? "the refused runs left no table, veth, route or slot behind"

# The controls: a rule just beside the pool is reached, and one holding the pool is
# reached everywhere but in the pool.
pool_policy beside-pool '{ "cidr": "11.1.0.0/24", "ports": [443] }' 11.1.0.53
net_in_host "$AIRLOCK" run --config "$TMP/poolnet.json" --policy "$TMP/beside-pool.json" \
	--workspace "$TMP/ws" --state-dir "$TMP/state" --record "$TMP/record-beside.json" -- \
	/usr/bin/python3 /workspace/net-task.py tcp,11.1.0.10,443,2 >"$TMP/out" 2>"$TMP/err-beside"
rc=$?
[ $rc -eq 0 ] && grep -q '"task_address": "11\.1\.1\.' "$TMP/record-beside.json" &&
	! grep -q pool_excluded "$TMP/record-beside.json" && ! grep -q 'address pool' "$TMP/err-beside"
al_ok $? "control: a run with a cidr rule just beside the pool starts from the pool, without a warning (exit $rc)"
net_expect "$TMP/out" tcp,11.1.0.10,443,2 '^ok hello' "control: the task connects to an address just beside the pool"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/err-beside"
pool_policy holds-pool '{ "cidr": "11.0.0.0/8", "ports": [443] }' 11.1.0.53
net_in_host "$AIRLOCK" run --config "$TMP/poolnet.json" --policy "$TMP/holds-pool.json" \
	--workspace "$TMP/ws" --state-dir "$TMP/state" --record "$TMP/record-holds.json" -- \
	/usr/bin/python3 /workspace/net-task.py tcp,11.1.0.12,443,2 ttcp,11.1.1.200,443 \
	>"$TMP/out" 2>"$TMP/err-holds"
rc=$?
al_is "$rc" 0 "a run with a cidr rule holding the pool (11.0.0.0/8) starts"
net_expect "$TMP/out" tcp,11.1.0.12,443,2 '^ok hello' "its task reaches the rule's range outside the pool"
fast ttcp,11.1.1.200,443 "and is refused at once inside the pool"
[ "$(grep -c 'address pool' "$TMP/err-holds")" -eq 1 ] &&
	grep -qF "airlock: /network/egress/0: cidr 11.0.0.0/8 holds the address pool 11.1.1.0/24 (/network/pool of $TMP/poolnet.json), the runs' own addresses: tasks reach the rest of the range, never the pool" "$TMP/err-holds"
al_ok $? "the run warns once, naming the rule, its range and the pool"
python3 - "$TMP/record-holds.json" <<'PY'
import json, sys
net = json.load(open(sys.argv[1]))['network']
assert net['pool_excluded'] == [{'rule': '/network/egress/0', 'cidr': '11.0.0.0/8',
                                 'pool': '11.1.1.0/24'}], net.get('pool_excluded')
assert any(d['destination'] == '11.1.1.200' and d['port'] == 443 for d in net['denied']), net['denied']
PY
al_ok $? "the record lists the rule under pool_excluded, and the denied connection into the pool"
net_in_host "$AIRLOCK" policy check "$TMP/holds-pool.json" --host --workspace "$TMP/ws" \
	--config "$TMP/poolnet.json" >"$TMP/pc-holds" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -qF "holds-pool.json: on this host a run would warn: /network/egress/0: cidr 11.0.0.0/8 holds the address pool 11.1.1.0/24" "$TMP/pc-holds" &&
	grep -q 'ok on this host' "$TMP/pc-holds"
al_ok $? "policy check --host prints the warning and still says ok (exit $rc)"
al_diag <"$TMP/pc-holds"

[ "$AL_FAILED" -eq 0 ] || { sed 's/^/# /' "$TMP/err3" "$TMP/err5"; ls -la "/run/airlock/net/$NET_INO" 2>&1 | sed 's/^/# /'; ip netns exec "$NET_H" nft list tables | sed 's/^/# /'; }
ip netns exec "$NET_H" sysctl -qw net.ipv4.ip_forward=0
net_in_host "$AIRLOCK" run --policy "$TMP/policy.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" -- /bin/true >/dev/null 2>"$TMP/err2"
rc=$?
[ $rc -eq 125 ] && grep -q ip_forward "$TMP/err2"
al_ok $? "refuses clearly when forwarding is off (exit $rc)"
[ -z "$(ip netns exec "$NET_H" nft list tables | grep airlock)" ] && [ "$before" = "$(net_host_state | sed 's/counter packets [0-9]* bytes [0-9]*/counter/')" ]
al_ok $? "a refused run leaves nothing behind"
schema=$(python3 "$SRC/tests/lib/record-schema.py" validate "$SRC/docs/run-record.schema.json" "$TMP" 2>&1)
al_ok $? "records and event logs validate against docs/run-record.schema.json"
echo "$schema" | tail -n 20 | sed 's/^/# /'
echo "1..$AL_N"
exit $((AL_FAILED > 0))

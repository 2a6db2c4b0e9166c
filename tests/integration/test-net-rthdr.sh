#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# IPv6 source routing out of the task (issue 9, network review): any program may put a
# segment routing header on its socket (IPV6_RTHDR, no privilege), and then the destination
# the ruleset sees is only the first segment. With an allowed address there, and a node that
# processes segment routing (the test's "internet" does, seg6_enabled), the packet would go
# on to the next segment: an address the policy denies (fd12:3456::1, a ULA). No packet with
# a routing header may leave the task. Same throw-away namespaces as test-net-egress.sh.
set -u
SRC=${AIRLOCK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
AIRLOCK=${AIRLOCK:-$SRC/build/airlock}
NET_DIR=$SRC/tests/integration
# shellcheck source=tests/integration/lib.sh
. "$NET_DIR/lib.sh"
# shellcheck source=tests/integration/net-lib.sh
. "$NET_DIR/net-lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
net_need /usr/bin/python3

TMP=$(mktemp -d /tmp/airlock-rthdr-XXXXXX)
cleanup() {
	net_world_down
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/ws" "$TMP/state"
cp "$NET_DIR/net-task.py" "$TMP/ws/"
net_world_up "$TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }

# The "internet" processes segment routing headers, and counts what arrives with one.
ip netns exec "$NET_I" sysctl -qw net.ipv6.conf.all.seg6_enabled=1 \
	net.ipv6.conf.uplink-i.seg6_enabled=1 net.ipv6.conf.lo.seg6_enabled=1 ||
	al_skip_all "the kernel lacks IPv6 segment routing (net.ipv6.conf.*.seg6_enabled)"
ip netns exec "$NET_I" nft -f - <<'NFT' || { echo "Bail out! cannot add the counters"; exit 1; }
table inet count {
	chain pre {
		type filter hook prerouting priority raw;
		exthdr rt exists counter
		ip6 daddr fd12:3456::1 tcp dport 443 counter
	}
}
NFT

cat >"$TMP/policy.json" <<'JSON'
{
  "version": 1,
  "name": "net-rthdr",
  "limits": { "wall_time": "60s" },
  "network": {
    "egress": [ { "host": "allowed.test", "ports": [443] } ],
    "dns": { "upstream": ["11.1.0.53"] }
  }
}
JSON

# shellcheck disable=SC2054 # the steps are comma-separated on purpose
steps=(
	resolve,allowed.test,AAAA tcp,2600:1::10,443 ttcp,fd12:3456::1,443
	tsrh,fd12:3456::1,443,2600:1::10
)
net_in_host "$AIRLOCK" run --policy "$TMP/policy.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" --record "$TMP/record.json" \
	-- /usr/bin/python3 /workspace/net-task.py "${steps[@]}" >"$TMP/out" 2>"$TMP/err"
rc=$?
al_ok $rc "networked run exits 0 (got $rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/err"

net_expect "$TMP/out" resolve,allowed.test,AAAA '^NOERROR 2600:1::10 ' "an allowed name's AAAA answer"
net_expect "$TMP/out" tcp,2600:1::10,443 '^ok hello' "its address connects on the allowed port"
net_expect "$TMP/out" ttcp,fd12:3456::1,443 '^fail Connection_refused [0-9]+$' \
	"a ULA address is refused"
line=$(grep -F 'tsrh,fd12:3456::1,443,2600:1::10 ' "$TMP/out")
# Rejected, but the reset (or ICMP error) names the first segment, not the socket's peer:
# the connect waits for its timeout.
ok=1
[[ "$line" =~ \ fail\ [A-Za-z_]+\ [0-9]+$ ]] && ok=0
al_ok $ok "so is it through a segment routing header via the allowed address"
[ $ok -eq 0 ] || echo "# got '$line'"
counters=$(ip netns exec "$NET_I" nft list table inet count)
echo "$counters" | grep -q 'exthdr rt exists counter packets 0 '
al_ok $? "no packet with a routing header leaves the task"
ok=1
echo "$counters" | grep -q 'tcp dport 443 counter packets 0 ' && ok=0
al_ok $ok "nothing reaches the ULA address on the allowed port"
[ $ok -eq 0 ] || echo "$counters" | sed 's/^/# /'
grep -q 'denied tcp connection to \[2600:1::10\]:443$' "$TMP/err"
al_ok $? "stderr names the denied attempt: TCP to the first segment, its port past the header"
python3 - "$TMP/record.json" <<'PY'
import json, sys
denied = json.load(open(sys.argv[1]))['network']['denied']
assert any(d['destination'] == '2600:1::10' and d['protocol'] == 'tcp' and d['port'] == 443
           for d in denied), denied
PY
al_ok $? "and so does the record"

schema=$(python3 "$SRC/tests/lib/record-schema.py" validate "$SRC/docs/run-record.schema.json" "$TMP" 2>&1)
al_ok $? "records validate against docs/run-record.schema.json"
echo "$schema" | tail -n 20 | sed 's/^/# /'
echo "1..$AL_N"
exit $((AL_FAILED > 0))

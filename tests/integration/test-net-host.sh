#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What a networked run can do to the host it runs on (docs/network.md, "The host side"), in
# throw-away namespaces:
#  - the host's own DNAT rules (a Docker-like "-p 8080:80" to a container behind the host,
#    and a ClusterIP-like address it rewrites) are no way past the host: neither a DNS
#    answer naming a host address under an allowed wildcard nor a cidr rule 0.0.0.0/0 takes
#    a task through them, and the record names each attempt with reason "host".
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
al_init
# shellcheck source=tests/integration/net-lib.sh
. "$(dirname "$0")/net-lib.sh"
al_need "${NET_TOOLS[@]}"
lacks=$(net_kernel_lacks | tr '\n' ' ')
[ -z "$lacks" ] || al_skip_all "the kernel lacks: $lacks"

NET_S=al-s-$$ # the "container" behind the host
SVC_PID=
finish() {
	local rc=$?
	[ -n "$SVC_PID" ] && kill "$SVC_PID" 2>/dev/null
	ip netns del "$NET_S" 2>/dev/null
	net_world_down
	(exit "$rc")
	al_finish
}
trap finish EXIT
net_world_up "$AL_TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }
cp "$NET_DIR/net-task.py" "$AL_WS/"

# The container: 172.30.0.2:80 on a bridge-like link of the host's (172.30.0.1).
ip netns add "$NET_S"
ip -n "$NET_H" link add svc0 type veth peer name svc0-s netns "$NET_S"
ip -n "$NET_H" addr add 172.30.0.1/24 dev svc0
ip -n "$NET_S" addr add 172.30.0.2/24 dev svc0-s
ip -n "$NET_H" link set svc0 up
ip -n "$NET_S" link set svc0-s up
ip -n "$NET_S" link set lo up
ip -n "$NET_S" route add default via 172.30.0.1
ip netns exec "$NET_S" python3 "$NET_DIR/net-servers.py" - 172.30.0.2:80 \
	</dev/null >"$AL_TMP/svc.out" 2>&1 &
SVC_PID=$!
al_wait_for "$AL_TMP/svc.out" ready 5 || { echo "Bail out! the container's server did not start"; exit 1; }
# The host's own port forwards, in a table of its own as Docker's and kube-proxy's are:
# any host address's ports 8080 and 8081 to the container (also for the host's own
# connections), and a service address that is no host address (like a ClusterIP).
ip netns exec "$NET_H" nft -f - <<'NFT'
table ip dockerish {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local tcp dport { 8080, 8081 } dnat to 172.30.0.2:80
		ip daddr 11.9.9.9 tcp dport 80 dnat to 172.30.0.2:80
	}
	chain out {
		type nat hook output priority -100; policy accept;
		fib daddr type local tcp dport { 8080, 8081 } dnat to 172.30.0.2:80
	}
}
NFT
ip -n "$NET_I" route add 11.9.9.9/32 via 11.0.0.1
ip -n "$NET_I" route add 172.30.0.0/24 via 11.0.0.1

hello() { # hello NETNS ADDR PORT: what a TCP connection from NETNS reads, or "fail"
	ip netns exec "$1" python3 -c 'import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    print(s.recv(64).decode().strip())
except OSError:
    print("fail")' "$2" "$3"
}
for dest in 11.0.0.1:8080 172.30.0.1:8081 11.9.9.9:80; do
	al_is "$(hello "$NET_I" "${dest%:*}" "${dest#*:}")" "hello from 172.30.0.2:80" \
		"control: the host forwards $dest to the container for others (the internet)"
done
al_is "$(hello "$NET_H" 11.0.0.1 8080)" "hello from 172.30.0.2:80" \
	"control: and for its own connections"

# ---- the host's DNAT rules ----
pol=$(al_policy dnat <<'JSON'
{ "version": 1, "limits": { "wall_time": "60s" },
  "network": { "egress": [ { "host": "*.wild.test", "ports": [8080] },
                           { "cidr": "0.0.0.0/0", "ports": [80, 8081] } ],
               "dns": { "upstream": ["11.1.0.53"] } } }
JSON
)
net_in_host "$AIRLOCK" run --policy "$pol" --workspace "$AL_WS" --state-dir "$AL_STATE" \
	--record "$AL_TMP/dnat.json" -- /usr/bin/python3 /workspace/net-task.py \
	resolve,dnat.wild.test,A ttcp,11.0.0.1,8080 ttcp,172.30.0.1,8081 ttcp,11.0.0.1,8081 \
	ttcp,11.9.9.9,80 ttcp,172.30.0.2,80 >"$AL_TMP/out" 2>"$AL_TMP/err"
al_is "$?" 0 "a run with a wildcard and a cidr 0.0.0.0/0 rule exits 0"
step() { sed -n "s/^$1 //p" "$AL_TMP/out"; }
al_ok "$(step 'resolve,dnat.wild.test,A' | grep -q '^NOERROR 11\.0\.0\.1 '; echo $?)" \
	"the wildcard's answer names the host's address, and the task gets it"
for s in ttcp,11.0.0.1,8080 ttcp,172.30.0.1,8081 ttcp,11.0.0.1,8081 ttcp,11.9.9.9,80; do
	line=$(step "$s")
	al_ok "$([[ "$line" =~ ^fail\ (Connection_refused|No_route_to_host)\ ([0-9]+)$ ]] &&
		[ "${BASH_REMATCH[2]}" -lt 1000 ]; echo $?)" \
		"${s#ttcp,}: the host's port forward does not take the task to the container; refused at once"
	[[ "$line" =~ ^fail ]] || echo "$s: $line" | al_diag
done
al_ok "$(step ttcp,172.30.0.2,80 | grep -q '^ok hello_from_172.30.0.2:80 '; echo $?)" \
	"control: the container's own address, which the cidr rule allows, is reached"
python3 - "$AL_TMP/dnat.json" <<'PY'
import json, sys
denied = json.load(open(sys.argv[1]))['network']['denied']
got = sorted((d['destination'], d['port'], d['protocol'], d['reason']) for d in denied)
want = sorted([('11.0.0.1', 8080, 'tcp', 'host'), ('172.30.0.1', 8081, 'tcp', 'host'),
               ('11.0.0.1', 8081, 'tcp', 'host'), ('172.30.0.2', 80, 'tcp', 'host')])
assert got == want, got
PY
al_ok $? "the record names each attempt with reason host (the redirected service by the address the host rewrote it to)"
grep -q 'denied tcp connection to 11.0.0.1:8080 (the host itself)' "$AL_TMP/err"
al_ok $? "stderr names the first attempt"

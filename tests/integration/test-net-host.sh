#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What a networked run can do to the host it runs on (docs/network.md, "The host side"), in
# throw-away namespaces:
#  - the host's own DNAT rules (a Docker-like "-p 8080:80" to a container behind the host,
#    and a ClusterIP-like address it rewrites) are no way past the host: neither a DNS
#    answer naming a host address under an allowed wildcard nor a cidr rule 0.0.0.0/0 takes
#    a task through them, and the record names each attempt with reason "host";
#  - one run's flows, its conntrack entries, stay bounded in the host namespace: a UDP flood
#    from the task, and one injected past the task's own ruleset;
#  - an address pool that holds an address or a route of the host refuses the run (a slot
#    would shadow it for the host);
#  - the task's namespace forwards nothing and has no IPv6 link-local address.
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
FLOOD_PID=
finish() {
	local rc=$?
	if [ -n "$FLOOD_PID" ]; then # a run still waiting for the test: let it end
		touch "$AL_WS/stop"
		wait "$FLOOD_PID"
	fi
	[ -n "$SVC_PID" ] && kill "$SVC_PID" 2>/dev/null
	ip netns del "$NET_S" 2>/dev/null
	net_world_down
	(exit "$rc")
	al_finish
}
trap finish EXIT
net_world_up "$AL_TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }
cp "$NET_DIR/net-task.py" "$AL_WS/"
[ -r /proc/net/nf_conntrack ] || al_skip_all "the kernel has no /proc/net/nf_conntrack (CONFIG_NF_CONNTRACK_PROCFS)"

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

# ---- flow limits ----
# flood.py N SECONDS PREFIX NAME: sends one UDP datagram to each of N addresses PREFIX.x.y,
# port 9 (new flows), for at most SECONDS, prints "flood SENT REFUSED", then waits (at most
# 60 s) for the test to create /workspace/NAME.done, so that the test looks at the host
# while the run lives.
cat >"$AL_WS/flood.py" <<'PY'
import os, socket, sys, time
n, secs, prefix, name = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = refused = 0
end = time.monotonic() + secs
for i in range(n):
    if time.monotonic() > end:
        break
    try:
        s.sendto(b'x', (f'{prefix}.{i >> 8 & 255}.{i & 255}', 9))
        sent += 1
    except OSError:
        refused += 1
print(f'flood {sent} {refused}', flush=True)
end = time.monotonic() + 60
while not os.path.exists(f'/workspace/{name}.done') and not os.path.exists('/workspace/stop') \
        and time.monotonic() < end:
    time.sleep(0.1)
PY
flows_pol=$(al_policy flows <<'JSON'
{ "version": 1, "limits": { "wall_time": "60s" },
  "network": { "egress": [ { "cidr": "11.0.0.0/8", "ports": [9], "protocol": "udp" } ],
               "dns": { "upstream": ["11.1.0.53"] } } }
JSON
)
host_entries() { # host_entries PREFIX: the host namespace's conntrack entries to PREFIX.*
	ip netns exec "$NET_H" grep -c " dst=${1//./\\.}\." /proc/net/nf_conntrack
}
flood() { # flood NAME CONFIG PREFIX N SECONDS: runs flood.py in the background until done
	net_in_host "$AIRLOCK" run --config "$2" --policy "$flows_pol" --workspace "$AL_WS" \
		--state-dir "$AL_STATE" --record "$AL_TMP/$1.json" -- /usr/bin/python3 \
		/workspace/flood.py "$4" "$5" "$3" "$1" >"$AL_TMP/$1.out" 2>"$AL_TMP/$1.err" &
	FLOOD_PID=$!
	al_wait_for "$AL_TMP/$1.out" '^flood ' 30 || echo "$1: the task did not report" | al_diag
}
done_flood() { # done_flood NAME: lets the task of flood NAME end, and waits for the run
	touch "$AL_WS/$1.done"
	wait "$FLOOD_PID"
	local rc=$?
	FLOOD_PID=
	return "$rc"
}
config() { # config NAME JSON: a node configuration file, root-owned, 0644
	echo "$2" >"$AL_TMP/$1.conf"
	chmod 644 "$AL_TMP/$1.conf"
	echo "$AL_TMP/$1.conf"
}
default_conf=$(config default '{ "version": 1 }')
count_conf=$(config count '{ "version": 1, "network": { "flows": { "max": 64, "rate": 100000 } } }')

# The default limits: 4096 open flows, 100 new ones a second (bursts of 1000).
flood default "$default_conf" 11.4 20000 2
n=$(host_entries 11.4)
read -r _ sent refused <"$AL_TMP/default.out"
al_ok "$([ "$n" -le 4096 ] && [ "$n" -ge 100 ]; echo $?)" \
	"a UDP flood of new flows leaves at most 4096 conntrack entries in the host namespace (got $n; the task sent $sent, $refused refused)"
al_ok "$([ "$n" -le 1300 ]; echo $?)" "the rate bounds them first: 1000 at once, then 100 a second (got $n)"
done_flood default
al_is "$?" 0 "the flooding run exits 0"
python3 - "$AL_TMP/default.json" <<'PY'
import json, sys
net = json.load(open(sys.argv[1]))['network']
fl = [d for d in net['denied'] if d['reason'] == 'flow-limit']
assert fl and all(d['protocol'] == 'udp' and d['port'] == 9 for d in fl), net['denied'][:5]
PY
al_ok $? "the record lists the refused flows with reason flow-limit"
grep -q "(over the run's flow limits)" "$AL_TMP/default.err"
al_ok $? "stderr says the run is over its flow limits"

# The count: with max 64 (and a rate that never bites), 64 flows stay open at most.
flood count "$count_conf" 11.5 2000 2
n=$(host_entries 11.5)
al_ok "$([ "$n" -le 64 ] && [ "$n" -ge 32 ]; echo $?)" \
	"with flows.max 64, the host holds at most 64 of the run's flows (got $n)"
done_flood count

# The host's own bound, whatever the task's namespace lets out: frames injected on the
# task's eth0 with a raw socket (root in its namespace, which the task is not) bypass the
# task's ruleset; the host table's flow limits still hold.
task_pid=
find_task() { # find_task NAME: sets task_pid to the live task of flood NAME
	task_pid=$(python3 - "$1" <<'PY'
import os, sys
want = ['/usr/bin/python3', '/workspace/flood.py', '1', '1']
for p in filter(str.isdigit, os.listdir('/proc')):
    try:
        a = open(f'/proc/{p}/cmdline', 'rb').read().decode(errors='replace').split('\0')
    except OSError:
        continue
    if a[:4] == want and a[5:6] == [sys.argv[1]]:
        print(p)
        break
PY
)
	[ -n "$task_pid" ] || echo "the task of $1 was not found" | al_diag
}
in_task() { nsenter --net="/proc/$task_pid/ns/net" "$@"; }
flood inject "$count_conf" 11.6 1 1
find_task inject
veth=$(ip -n "$NET_H" -o link show type veth | grep -o ' al[0-9]*@' | tr -d ' @' | head -n1)
gw_mac=$(ip -n "$NET_H" -o link show "$veth" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
task_addr=$(in_task ip -4 -o addr show eth0 | grep -o 'inet [0-9.]*' | cut -d' ' -f2)
in_task python3 - "$gw_mac" "$task_addr" 11.7 2000 <<'PY'
import fcntl, socket, struct, sys
gw, src, prefix, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
own = fcntl.ioctl(s.fileno(), 0x8927, struct.pack('256s', b'eth0'))[18:24]  # SIOCGIFHWADDR
eth = bytes.fromhex(gw.replace(':', '')) + own + b'\x08\x00'
def csum(b):
    t = sum(struct.unpack('!10H', b))
    t = (t >> 16) + (t & 0xffff)
    return ~(t + (t >> 16)) & 0xffff
for i in range(n):
    dst = socket.inet_aton(f'{prefix}.{i >> 8 & 255}.{i & 255}')
    udp = struct.pack('!HHHH', 40000, 9, 9, 0) + b'x'
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     socket.inet_aton(src), dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    s.send(eth + ip + udp)
PY
al_is "$?" 0 "2000 UDP flows injected on the task's eth0, past its ruleset"
sleep 0.5
n=$(host_entries 11.7)
al_ok "$([ "$n" -le 64 ] && [ "$n" -ge 32 ]; echo $?)" \
	"the host table alone holds the run to 64 flows in the host namespace (got $n)"

done_flood inject
python3 - "$AL_TMP/inject.json" <<'PY'
import json, sys
net = json.load(open(sys.argv[1]))['network']
fl = [d for d in net['denied'] if d['reason'] == 'flow-limit' and d['destination'].startswith('11.7.')]
assert fl, net['denied'][:5]
PY
al_ok $? "the record lists what the host table refused with reason flow-limit"

# ---- a pool that collides with the host's own addresses or routes ----
# A slot's /30 inside a subnet of the host is more specific than the host's own route to
# it: while the run lived, the host's traffic to that subnet (here the container) went into
# the run's veth. Such a pool refuses the run, in one line naming the pool and what it hits.
pool_pol=$(al_policy pool <<'JSON'
{ "version": 1, "limits": { "wall_time": "30s" },
  "network": { "egress": [ { "host": "allowed.test", "ports": [443] } ],
               "dns": { "upstream": ["11.1.0.53"] } } }
JSON
)
routes_before=$(ip -n "$NET_H" route show; ip -n "$NET_H" -6 route show)
pool_refused() { # pool_refused NAME CONFIG WHAT DESCRIPTION
	net_in_host "$AIRLOCK" run --config "$2" --policy "$pool_pol" --workspace "$AL_WS" \
		--state-dir "$AL_STATE" -- /bin/true >"$AL_TMP/$1.out" 2>"$AL_TMP/$1.err"
	local rc=$?
	al_ok "$([ $rc -eq 125 ] && [ "$(wc -l <"$AL_TMP/$1.err")" -eq 1 ] &&
		grep -qF "refusing run: the address pool $3" "$AL_TMP/$1.err"; echo $?)" "$4 (exit $rc)"
	al_diag <"$AL_TMP/$1.err"
}
pool_refused svcpool "$(config svcpool '{ "version": 1, "network": { "pool": "172.30.0.0/16" } }')" \
	"172.30.0.0/16 (/network/pool of $AL_TMP/svcpool.conf) overlaps 172.30.0.1/24 on svc0, an address of this host" \
	"a pool holding an address of the host (its container bridge) is refused"
al_is "$(hello "$NET_H" 172.30.0.2 80)" "hello from 172.30.0.2:80" "and the host still reaches its container"
net_in_host "$AIRLOCK" policy check "$pool_pol" --host --config "$AL_TMP/svcpool.conf" >"$AL_TMP/pc.out" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q '/network/pool: the address pool 172.30.0.0/16 .* overlaps 172.30.0.1/24 on svc0' "$AL_TMP/pc.out"; echo $?)" \
	"policy check --host says so beforehand"
al_diag <"$AL_TMP/pc.out"
ip -n "$NET_H" route add 10.231.8.0/24 via 11.0.0.2
pool_refused route4 "$default_conf" \
	"10.231.0.0/16 (/network/pool of $default_conf) overlaps 10.231.8.0/24 on uplink, a route of this host" \
	"a pool holding a route of the host is refused"
ip -n "$NET_H" route del 10.231.8.0/24
ip -n "$NET_H" -6 route add fd61:6972:6c6b:7::/64 via 2600:ffff::2
pool_refused route6 "$default_conf" \
	"fd61:6972:6c6b::/48 (/network/pool6 of $default_conf) overlaps fd61:6972:6c6b:7::/64 on uplink, a route of this host" \
	"an IPv6 pool holding a route of the host is refused"
ip -n "$NET_H" -6 route del fd61:6972:6c6b:7::/64
ip -n "$NET_H" route add 10.0.0.0/8 via 11.0.0.2
net_in_host "$AIRLOCK" run --config "$default_conf" --policy "$pool_pol" --workspace "$AL_WS" \
	--state-dir "$AL_STATE" -- /usr/bin/python3 /workspace/net-task.py resolve,allowed.test,A \
	tcp,11.1.0.10,443,2 >"$AL_TMP/out" 2>"$AL_TMP/err"
al_ok "$([ $? -eq 0 ] && step tcp,11.1.0.10,443,2 | grep -q '^ok hello'; echo $?)" \
	"a route containing the whole pool (10.0.0.0/8) is no collision: the run starts and connects"
al_diag <"$AL_TMP/err"
ip -n "$NET_H" route del 10.0.0.0/8
net_wait_veths_gone
al_is "$(ip -n "$NET_H" route show; ip -n "$NET_H" -6 route show)" "$routes_before" \
	"the host's routes are as before"
al_ok "$(! ip netns exec "$NET_H" nft list tables | grep -q airlock; echo $?)" "and no airlock table is left"

# ---- the task's namespace: no forwarding, no link-local address ----
flood netns "$default_conf" 11.8 1 1
find_task netns
al_is "$(ip netns exec "$NET_H" sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding | tr '\n' ' ')" \
	"1 1 " "control: the host forwards IPv4 and IPv6"
al_is "$(in_task cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding | tr '\n' ' ')" \
	"0 0 " "the task's namespace forwards neither IPv4 nor IPv6"
in_task nft list chain inet airlock forward 2>&1 | grep -q 'type filter hook forward priority filter; policy drop;'
al_ok $? "the task's ruleset has a forward chain with policy drop"
in_task cat /proc/net/if_inet6 >"$AL_TMP/if_inet6"
al_ok "$(! grep -q '^fe80.* eth0$' "$AL_TMP/if_inet6"; echo $?)" "eth0 has no IPv6 link-local address"
grep -q '^fd6169726c6b[0-9a-f]\{4\}0\{15\}2 .* eth0$' "$AL_TMP/if_inet6"
al_ok $? "eth0 has its IPv6 address from the pool, <pool6>:<slot>::2"
al_diag <"$AL_TMP/if_inet6"
done_flood netns

# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The world of the network tests, built from scratch and removed afterwards:
#   netns NET_H ("host"): airlock runs here, ip_forward on, default route to the internet
#   netns NET_I ("internet"): DNS 11.1.0.53 (11.1.0.54 forges answers) and 2600:1::53,
#     servers on 11.1.0.10/.11/.12/.20/.30, 169.254.169.254, 10.9.9.9, 2600:1::10/::20 and
#     IPv6 addresses a task must not reach: fd00:ec2::254 (metadata), fd12:3456::1 (ULA)
#     (net-servers.py)
# Nothing touches the machine's own namespace. Names carry the test's pid.

# The tools the network tests use (setup.sh installs them all: a missing one fails).
# shellcheck disable=SC2034 # used by the tests
NET_TOOLS=(ip nft sysctl nsenter ss ps python3)

# Prints the kernel features the test world needs and this kernel lacks (empty: none):
# network namespaces, veth, nf_tables. Tried in a namespace of its own, removed at once.
net_kernel_lacks() {
	local ns=al-k-$$
	if [ ! -e /proc/self/ns/net ]; then
		echo "network namespaces"
		return
	fi
	ip netns add "$ns" || return # not a missing feature: the world's setup will fail
	ip -n "$ns" link add k0 type veth peer name k1 2>/dev/null || echo "veth"
	ip netns exec "$ns" nft add table inet al-k 2>/dev/null || echo "nf_tables"
	ip netns del "$ns"
}

# net_need [COMMAND...]: fails the test (al_need) when a network tool or COMMAND is not
# installed; skips the whole test (al_skip_all) when the kernel lacks what the world needs.
# Needs lib.sh.
net_need() {
	local lacks
	al_need "${NET_TOOLS[@]}" "$@"
	lacks=$(net_kernel_lacks | tr '\n' ' ')
	[ -z "$lacks" ] || al_skip_all "the kernel lacks: $lacks"
}

# net_expect OUT STEP PATTERN DESCRIPTION: the task's line for STEP in file OUT (net-task.py's
# "STEP RESULT" lines) matches the regex PATTERN. Needs lib.sh.
net_expect() {
	local line
	line=$(grep -F -- "$2 " "$1" | head -n1)
	line=${line#"$2 "}
	if [[ "$line" =~ $3 ]]; then al_ok 0 "$4"; else al_ok 1 "$4"; echo "# step $2: got '$line'"; fi
}

NET_H=al-h-$$
NET_I=al-i-$$
NET_SERVERS_PID=
NET_DIR=${NET_DIR:-$(dirname "${BASH_SOURCE[0]}")}

net_world_up() { # net_world_up TMPDIR
	local tmp=$1
	ip netns add "$NET_H" && ip netns add "$NET_I" || return 1
	ip -n "$NET_H" link add uplink type veth peer name uplink-i netns "$NET_I" || return 1
	ip -n "$NET_H" link set lo up
	ip -n "$NET_I" link set lo up
	ip -n "$NET_H" addr add 11.0.0.1/30 dev uplink
	ip -n "$NET_I" addr add 11.0.0.2/30 dev uplink-i
	ip -n "$NET_H" link set uplink up
	ip -n "$NET_I" link set uplink-i up
	ip -n "$NET_H" route add default via 11.0.0.2
	ip -n "$NET_H" -6 addr add 2600:ffff::1/64 dev uplink nodad
	ip -n "$NET_I" -6 addr add 2600:ffff::2/64 dev uplink-i nodad
	ip -n "$NET_H" -6 route add default via 2600:ffff::2
	local a
	for a in 11.1.0.53 11.1.0.54 11.1.0.10 11.1.0.11 11.1.0.12 11.1.0.20 11.1.0.30 169.254.169.254 10.9.9.9; do
		ip -n "$NET_I" addr add "$a/32" dev lo
	done
	for a in 2600:1::10 2600:1::20 2600:1::53 fd00:ec2::254 fd12:3456::1; do
		ip -n "$NET_I" -6 addr add "$a/128" dev lo nodad
	done
	ip netns exec "$NET_H" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$NET_H" sysctl -qw net.ipv6.conf.all.forwarding=1
	mkfifo "$tmp/servers.in"
	ip netns exec "$NET_I" python3 "$NET_DIR/net-servers.py" 11.1.0.53,2600:1::53 \
		11.1.0.10:443 11.1.0.10:8080 11.1.0.11:443 11.1.0.12:443 11.1.0.20:9000 \
		11.1.0.20:9001 11.1.0.30:443 169.254.169.254:80 10.9.9.9:443 '[2600:1::10]:443' \
		'[2600:1::10]:8080' '[2600:1::20]:8080' '[fd00:ec2::254]:80' '[fd12:3456::1]:443' \
		--udp 11.1.0.10:5353 --udp 11.1.0.12:5353 --log "$tmp/dns-queries.log" \
		<"$tmp/servers.in" >"$tmp/servers.out" 2>&1 &
	NET_SERVERS_PID=$!
	exec {NET_SERVERS_FD}>"$tmp/servers.in"
	local _
	for _ in $(seq 50); do
		grep -q ready "$tmp/servers.out" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$tmp/servers.out" >&2
	return 1
}

# net_host_listen TMPDIR ADDR:PORT...: TCP services of the "host" itself (what a task must
# not reach), e.g. a resolver on 0.0.0.0:53. Stopped by net_world_down.
NET_HOST_PID=
net_host_listen() {
	local tmp=$1 _
	shift
	ip netns exec "$NET_H" python3 "$NET_DIR/net-servers.py" - "$@" \
		</dev/null >"$tmp/host-servers.out" 2>&1 &
	NET_HOST_PID=$!
	for _ in $(seq 50); do
		grep -q ready "$tmp/host-servers.out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

net_world_down() {
	[ -n "$NET_HOST_PID" ] && kill "$NET_HOST_PID" 2>/dev/null
	[ -n "${NET_SERVERS_FD:-}" ] && exec {NET_SERVERS_FD}>&-
	[ -n "$NET_SERVERS_PID" ] && kill "$NET_SERVERS_PID" 2>/dev/null
	wait "$NET_SERVERS_PID" 2>/dev/null || true
	ip netns del "$NET_H" 2>/dev/null
	ip netns del "$NET_I" 2>/dev/null
	true
}

# The name of the host namespace's directory in airlock's runtime directory (net/):
# "<inode>-<netns cookie>", or "<inode>" where the kernel has no SO_NETNS_COOKIE (< 5.14).
net_dir_name() {
	local ino cookie
	ino=$(stat -L -c %i "/run/netns/$NET_H")
	cookie=$(ip netns exec "$NET_H" python3 -c 'import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), "little"))' 2>/dev/null)
	echo "$ino${cookie:+-$cookie}"
}

# Runs a command in the host namespace. Unlike `ip netns exec`, nsenter keeps the mount
# namespace, so /sys/fs/cgroup stays visible to airlock.
net_in_host() {
	nsenter --net="/run/netns/$NET_H" "$@"
}

# Waits (up to 10 s) until no veth of a finished run is left: the kernel destroys a task's
# namespace, and with it its veth pair, shortly after the run (docs/network.md).
net_wait_veths_gone() {
	local _
	for _ in $(seq 100); do
		ip -n "$NET_H" -o link show | grep -qE ': al[0-9]+@' || return 0
		sleep 0.1
	done
	return 1
}

# The host state a run must leave as it found it: tables other than airlock's, routes, links.
net_host_state() {
	net_wait_veths_gone
	ip netns exec "$NET_H" nft list ruleset
	ip -n "$NET_H" route show
	ip -n "$NET_H" -6 route show
	ip -n "$NET_H" -o link show | awk '{print $2}'
}

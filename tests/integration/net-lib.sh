# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The world of the network tests, built from scratch and removed afterwards:
#   netns NET_H ("host"): airlock runs here, ip_forward on, default route to the internet
#   netns NET_I ("internet"): DNS 11.1.0.53 (11.1.0.54 forges answers) and servers on
#     11.1.0.10/.11/.12/.20/.30,
#     169.254.169.254, 10.9.9.9 and 2600:1::10 (net-servers.py)
# Nothing touches the machine's own namespace. Names carry the test's pid.

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
	ip -n "$NET_I" -6 addr add 2600:1::10/128 dev lo nodad
	ip netns exec "$NET_H" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$NET_H" sysctl -qw net.ipv6.conf.all.forwarding=1
	mkfifo "$tmp/servers.in"
	ip netns exec "$NET_I" python3 "$NET_DIR/net-servers.py" 11.1.0.53 \
		11.1.0.10:443 11.1.0.10:8080 11.1.0.11:443 11.1.0.12:443 11.1.0.20:9000 \
		11.1.0.20:9001 11.1.0.30:443 169.254.169.254:80 10.9.9.9:443 '[2600:1::10]:443' \
		--udp 11.1.0.10:5353 --log "$tmp/dns-queries.log" \
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

# Runs a command in the host namespace. Unlike `ip netns exec`, nsenter keeps the mount
# namespace, so /sys/fs/cgroup stays visible to airlock.
net_in_host() {
	nsenter --net="/run/netns/$NET_H" "$@"
}

# The host state a run must leave as it found it: tables other than airlock's, routes, links.
net_host_state() {
	ip netns exec "$NET_H" nft list ruleset
	ip -n "$NET_H" route show
	ip -n "$NET_H" -6 route show
	ip -n "$NET_H" -o link show | awk '{print $2}'
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Forwarding on a fresh host (docs/config.md, "Forwarding"), in throw-away namespaces: the
# "host" forwards nothing. "require" (the default) refuses a networked run with one line
# naming both remedies; "manage" turns forwarding on for the run's own traffic only (a
# bystander network behind the same host stays cut off), and the last run, or the next
# start after a killed one, turns it off again and removes the guard table.
. "$(dirname "$0")/lib.sh"
al_init
# shellcheck source=tests/integration/net-lib.sh
. "$(dirname "$0")/net-lib.sh"

for t in ip nft nsenter python3; do
	command -v "$t" >/dev/null || { echo "Bail out! $t is missing (setup.sh installs it)"; exit 1; }
done
NET_B=al-b-$$
finish() {
	local rc=$?
	ip netns del "$NET_B" 2>/dev/null
	net_world_down
	(exit "$rc")
	al_finish
}
trap finish EXIT
net_world_up "$AL_TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }
KEY=$(net_dir_name)

# A bystander network behind the host: 172.31.7.0/30, routed (not masqueraded) through it.
ip netns add "$NET_B"
ip -n "$NET_H" link add bys type veth peer name bys-b netns "$NET_B"
ip -n "$NET_H" addr add 172.31.7.1/30 dev bys
ip -n "$NET_B" addr add 172.31.7.2/30 dev bys-b
ip -n "$NET_H" link set bys up
ip -n "$NET_B" link set bys-b up
ip -n "$NET_B" link set lo up
ip -n "$NET_B" route add default via 172.31.7.1
ip -n "$NET_I" route add 172.31.7.0/30 via 11.0.0.1

fwd() { ip netns exec "$NET_H" sysctl -n net.ipv4.ip_forward; }
fwd6() { ip netns exec "$NET_H" sysctl -n net.ipv6.conf.all.forwarding; }
bystander() { # exit 0 when the bystander reaches the internet's server through the host
	ip netns exec "$NET_B" python3 -c 'import socket
socket.create_connection(("11.1.0.10", 443), timeout=1).close()' 2>/dev/null
}
guard_exists() { ip netns exec "$NET_H" nft list table inet airlock-forward >/dev/null 2>&1; }

ip netns exec "$NET_H" sysctl -qw net.ipv4.ip_forward=1
bystander
al_ok $? "control: with forwarding on, the bystander reaches the internet through the host"
ip netns exec "$NET_H" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
bystander
al_ok "$([ $? -ne 0 ]; echo $?)" "control: with forwarding off, it does not"

pol=$(al_policy net <<'JSON'
{ "version": 1, "limits": { "wall_time": "60s" },
  "network": { "egress": [ { "cidr": "11.1.0.10/32", "ports": [443] } ],
               "dns": { "upstream": ["11.1.0.53"] } } }
JSON
)
task=(/usr/bin/python3 -c 'import socket, sys, time
s = socket.create_connection(("11.1.0.10", 443), timeout=5)
print("task", s.recv(64).decode().split()[0], flush=True)
time.sleep(float(sys.argv[1]))')

# require (the default): refused, one line, both remedies named.
net_in_host "$AIRLOCK" run --policy "$pol" --workspace "$AL_WS" --state-dir "$AL_STATE" \
	-- /bin/true >/dev/null 2>"$AL_TMP/err"
rc=$?
al_ok "$([ $rc -eq 125 ] && [ "$(wc -l <"$AL_TMP/err")" -eq 1 ] &&
	grep -q 'sysctl net.ipv4.ip_forward=1' "$AL_TMP/err" &&
	grep -q '"forwarding": "manage"' "$AL_TMP/err"; echo $?)" \
	"require: a networked run on a host that does not forward is refused in one line naming both remedies (exit $rc)"
net_in_host "$AIRLOCK" policy check "$pol" --host --workspace "$AL_WS" >"$AL_TMP/o" 2>&1
al_ok "$(grep -q 'would be refused: /network: .*ip_forward is off' "$AL_TMP/o"; echo $?)" \
	"require: policy check --host says so beforehand"

cat >"$AL_TMP/manage.json" <<'JSON'
{ "version": 1, "network": { "forwarding": "manage" } }
JSON
chmod 644 "$AL_TMP/manage.json"
net_in_host "$AIRLOCK" policy check "$pol" --host --workspace "$AL_WS" \
	--config "$AL_TMP/manage.json" >"$AL_TMP/o" 2>&1
al_is "$?" 0 "manage: policy check --host --config sees no refusal"
# A run given its configuration by --config is told to change that file, not the default.
cat >"$AL_TMP/require.json" <<'JSON'
{ "version": 1, "network": { "forwarding": "require" } }
JSON
chmod 644 "$AL_TMP/require.json"
net_in_host "$AIRLOCK" run --config "$AL_TMP/require.json" --policy "$pol" --workspace "$AL_WS" \
	--state-dir "$AL_STATE" -- /bin/true >/dev/null 2>"$AL_TMP/err"
al_ok "$(grep -qF "\"manage\" } in $AL_TMP/require.json)" "$AL_TMP/err"; echo $?)" \
	"require with --config FILE: the refusal names FILE as the place to say manage"
net_in_host "$AIRLOCK" policy check "$pol" --host --workspace "$AL_WS" \
	--config "$AL_TMP/require.json" >"$AL_TMP/o" 2>&1
al_ok "$(grep -qF "\"manage\" } in $AL_TMP/require.json)" "$AL_TMP/o"; echo $?)" \
	"... and so does policy check --host --config FILE"

# manage: forwarding on during the run, the guard in place, the bystander still cut off.
net_in_host "$AIRLOCK" run --config "$AL_TMP/manage.json" --policy "$pol" \
	--workspace "$AL_WS" --state-dir "$AL_STATE" -- "${task[@]}" 3 \
	>"$AL_TMP/out" 2>"$AL_TMP/err" &
run=$!
for _ in $(seq 50); do
	grep -q '^task ' "$AL_TMP/out" && break
	sleep 0.1
done
al_is "$(cat "$AL_TMP/out")" "task hello" "manage: the run reaches its allowed destination"
al_is "$(fwd) $(fwd6)" "1 1" "manage: IPv4 and IPv6 forwarding are on while the run lives (the host has an IPv6 route)"
guard_exists
al_ok $? "manage: the guard table inet airlock-forward is in place"
bystander
al_ok "$([ $? -ne 0 ]; echo $?)" "manage: the bystander is still not forwarded"
wait "$run"
al_is "$?" 0 "manage: the run exits 0"
al_is "$(fwd) $(fwd6)" "0 0" "manage: both are off again after the last run"
guard_exists
al_ok "$([ $? -ne 0 ]; echo $?)" "manage: the guard table is gone"
al_ok "$([ ! -e "/run/airlock/net/$KEY/forwarding" ]; echo $?)" "manage: no state file is left"

# Two runs overlapping: forwarding stays on until the second ends.
net_in_host "$AIRLOCK" run --config "$AL_TMP/manage.json" --policy "$pol" \
	--workspace "$AL_WS" --state-dir "$AL_STATE" -- "${task[@]}" 1 >/dev/null 2>&1 &
first=$!
sleep 0.5
net_in_host "$AIRLOCK" run --config "$AL_TMP/manage.json" --policy "$pol" \
	--workspace "$AL_WS" --state-dir "$AL_STATE" -- "${task[@]}" 3 >"$AL_TMP/out2" 2>&1 &
second=$!
wait "$first"
sleep 0.3
al_is "$(fwd)" 1 "manage: with a second run live, the first run's end leaves forwarding on"
wait "$second"
al_is "$?" 0 "manage: the second run reached its destination too"
al_is "$(fwd)" 0 "manage: the second run's end turns forwarding off"

# A supervisor killed mid-run: the next start in that namespace restores the host.
net_in_host "$AIRLOCK" run --config "$AL_TMP/manage.json" --policy "$pol" \
	--workspace "$AL_WS" --state-dir "$AL_STATE" -- "${task[@]}" 30 >"$AL_TMP/out3" 2>&1 &
nsenter_pid=$!
for _ in $(seq 50); do
	grep -q '^task ' "$AL_TMP/out3" && break
	sleep 0.1
done
sup=$(ps -o pid= --ppid "$nsenter_pid" | tr -d ' ')
[ -n "$sup" ] && kill -KILL "$sup"
wait "$nsenter_pid" 2>/dev/null
al_is "$(fwd)" 1 "a killed supervisor leaves forwarding on (nothing could undo it yet)"
net_in_host "$AIRLOCK" run --workspace "$AL_WS" --state-dir "$AL_STATE" -- /bin/true \
	>/dev/null 2>"$AL_TMP/err4"
al_is "$?" 0 "the next start (a run without network) succeeds"
al_is "$(fwd)" 0 "and it turned the dead run's forwarding off"
guard_exists
al_ok "$([ $? -ne 0 ]; echo $?)" "and removed its guard table"
bystander
al_ok "$([ $? -ne 0 ]; echo $?)" "the bystander is not forwarded afterwards"

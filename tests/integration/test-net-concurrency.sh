#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Networked runs started and ended in every interleaving (docs/network.md, "Ownership"):
# batches of 2-16 concurrent runs that end together or apart must all start (exit 0), and
# supervisors SIGKILLed during setup or teardown are reaped by the next start. Afterwards
# the test's host namespace holds no table inet airlock-host, no al* link, no task
# namespace and no slot directory (slot locks, pool file).
#
# AIRLOCK_NET_CONCURRENCY_RUNS sets the number of runs (default 200; 40 in the cgroup v2
# guest, AIRLOCK_VM=1, where everything is 3-4x slower). All runs happen inside a
# throw-away "host" namespace with forwarding on, never in the machine's own.
. "$(dirname "$0")/lib.sh"
al_init
# shellcheck source=tests/integration/net-lib.sh
. "$(dirname "$0")/net-lib.sh"

if ! command -v ip >/dev/null || ! command -v nft >/dev/null; then
	al_skip_all "needs ip and nft"
fi

finish() {
	local rc=$?
	ip netns del "$NET_H" 2>/dev/null
	(exit "$rc")
	al_finish
}
trap finish EXIT

ip netns add "$NET_H" || al_skip_all "cannot create a network namespace"
ip -n "$NET_H" link set lo up
ip netns exec "$NET_H" sysctl -qw net.ipv4.ip_forward=1
KEY=$(net_dir_name)

netpol=$(al_policy net <<'JSON'
{
  "version": 1,
  "limits": { "wall_time": "60s" },
  "network": {
    "egress": [ { "host": "allowed.test", "ports": [443] } ],
    "dns": { "upstream": ["11.1.0.53"] }
  }
}
JSON
)

RUNS=${AIRLOCK_NET_CONCURRENCY_RUNS:-200}
if [ -z "${AIRLOCK_NET_CONCURRENCY_RUNS:-}" ] && [ "${AIRLOCK_VM:-}" = 1 ]; then
	RUNS=40
	echo "# cgroup v2 guest (AIRLOCK_VM=1): scaled down to $RUNS runs"
fi

# start_run ID CMD...: one networked run in the host namespace, in the background.
start_run() {
	local id=$1
	shift
	mkdir -p "$AL_TMP/st$id"
	nsenter --net="/run/netns/$NET_H" "$AIRLOCK" run --policy "$netpol" --workspace "$AL_WS" \
		--state-dir "$AL_TMP/st$id" -- "$@" >/dev/null 2>"$AL_TMP/err$id" </dev/null &
	PIDS+=($!)
}

# Batches of 2-16 runs. "together": same task length, started at once, so they end
# within milliseconds of each other; "apart": staggered lengths; "mixed": the issue's
# reproducer, a long run, then a short one that ends with it.
sizes=(2 16 5 11 3 8 14 2 7 16 4 12 9 6 15 10 3 13 2 16)
done_runs=0 failed=0 leaked=0 batch=0 t0=$SECONDS
while [ "$done_runs" -lt "$RUNS" ]; do
	size=${sizes[$((batch % ${#sizes[@]}))]}
	[ $((done_runs + size)) -gt "$RUNS" ] && size=$((RUNS - done_runs))
	PIDS=()
	for i in $(seq 0 $((size - 1))); do
		case $((batch % 3)) in
		0) start_run "$i" /bin/sleep 0.2 ;;
		1) start_run "$i" /bin/sleep "0.$((i % 4))$((i % 10))" ;;
		2) [ "$i" -gt 0 ] && sleep 0.05
		   start_run "$i" /bin/sleep "0.$((3 - i % 3))" ;;
		esac
	done
	for i in "${!PIDS[@]}"; do
		if ! wait "${PIDS[$i]}"; then
			failed=$((failed + 1))
			[ "$failed" -le 3 ] && head -n 3 "$AL_TMP/err$i" | al_diag
		fi
	done
	done_runs=$((done_runs + size))
	batch=$((batch + 1))
	# A table left here would be recreated, and so hidden, by the next networked start.
	if ip netns exec "$NET_H" nft list tables | grep -q airlock; then
		leaked=$((leaked + 1))
	fi
done
al_is "$failed" 0 "$done_runs networked runs in $batch batches of 2-16 all start and exit 0 ($((SECONDS - t0)) s)"
al_is "$leaked" 0 "no batch leaves table inet airlock-host behind"

# Supervisors SIGKILLed at random points of setup, of the task and of teardown.
PIDS=()
for i in $(seq 0 7); do
	start_run "k$i" /bin/sleep 0.0$((i % 3))
done
for i in "${!PIDS[@]}"; do
	sleep "0.0$((RANDOM % 10))"
	kill -KILL "${PIDS[$i]}" 2>/dev/null
done
wait "${PIDS[@]}" 2>/dev/null
start_run last /bin/true
wait "${PIDS[-1]}"
al_is "$?" 0 "the start after 8 killed supervisors succeeds and reaps them"

# Task namespaces and their veths are destroyed by the kernel after a run: give it time.
for _ in $(seq 100); do
	! ip -n "$NET_H" -o link show | grep -qE ': al[0-9]+[@:]' &&
		[ -z "$(ip -n "$NET_H" netns list-id)" ] && break
	sleep 0.1
done
al_is "$(ip netns exec "$NET_H" nft list tables | grep airlock)" "" \
	"no table inet airlock-host remains"
al_is "$(ip -n "$NET_H" -o link show | grep -oE ': al[0-9]+[@:]' | tr '\n' ' ')" "" \
	"no al* link remains (within 10 s)"
al_is "$(ip -n "$NET_H" netns list-id | tr '\n' ' ')" "" "no task namespace remains"
al_is "$(find "/run/airlock/net/$KEY" 2>/dev/null)" "" \
	"no slot directory, slot lock or pool file remains"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault injection (issue 14, "Keep it proven"): airlock is SIGKILLed at randomised points
# of setup, of the task and of teardown, with and without a network policy, and each kill
# lands on the start that reaps the previous one as often as not. After one more run
# nothing of those runs may remain: no process (the runs' cgroups are gone, and no
# supervisor), no cgroup, mount, task netns, veth, nft table, lock, temp or runtime file,
# and every record they left is final (never `running`).
#
# The runs use a cgroup parent of their own (node config `cgroup_parent`), so what is
# counted is theirs even while other builds test on the machine; networked runs live in a
# throw-away "host" namespace with forwarding on, never in the machine's own.
# AIRLOCK_FAULT_RUNS sets the number of killed runs (default 60; 16 in the cgroup v2 guest).
. "$(dirname "$0")/lib.sh"
al_init
# shellcheck source=tests/integration/net-lib.sh
. "$(dirname "$0")/net-lib.sh"
al_need ip nft python3

RUNTIME=/run/airlock
finish() {
	local rc=$?
	ip netns del "$NET_H" 2>/dev/null
	al_own_cgroup_remove
	(exit "$rc")
	al_finish
}
trap finish EXIT

ip netns add "$NET_H" || al_skip_all "cannot create a network namespace"
ip -n "$NET_H" link set lo up
ip netns exec "$NET_H" sysctl -qw net.ipv4.ip_forward=1
KEY=$(net_dir_name)

al_own_cgroup_parent "airlock-fault-$$"
netpol=$(al_policy net <<'JSON'
{ "version": 1, "limits": { "wall_time": "60s", "pids": 64, "memory": "256M" },
  "network": { "egress": [ { "host": "allowed.test", "ports": [443] } ],
               "dns": { "upstream": ["11.1.0.53"] } } }
JSON
)
plainpol=$(al_policy plain <<'JSON'
{ "version": 1, "limits": { "wall_time": "60s", "pids": 64, "memory": "256M" } }
JSON
)

RUNS=${AIRLOCK_FAULT_RUNS:-60}
if [ -z "${AIRLOCK_FAULT_RUNS:-}" ] && [ "${AIRLOCK_VM:-}" = 1 ]; then
	RUNS=16
	echo "# cgroup v2 guest (AIRLOCK_VM=1): scaled down to $RUNS runs"
fi

# run_one POLICY TASK...: one run in the test host namespace; prints its exit code.
run_one() {
	local pol=$1
	shift
	nsenter --net="/run/netns/$NET_H" "$AIRLOCK" run --config "$AL_TMP/airlock.json" \
		--policy "$pol" --workspace "$AL_WS" --state-dir "$AL_STATE" -- "$@" \
		>/dev/null 2>>"$AL_TMP/err" </dev/null
	echo $?
}

# How long a whole run takes here (ASan build, shared machine): the kill points spread
# over setup, task and teardown, and a little past the end.
span_ms() {
	local t0 rc
	t0=$(date +%s%N)
	rc=$(run_one "$1" /bin/sleep 0.05)
	[ "$rc" = 0 ] || echo "# a clean run exited $rc" >&2
	echo $((($(date +%s%N) - t0) * 13 / 10000000))
}
# The smaller of two: the first run of a kind pays for cold caches (in the CI's guest a
# first networked run took three times the next), and a span too long puts most kill
# points after the runs' end.
span_min() {
	local a b
	a=$(span_ms "$1")
	b=$(span_ms "$1")
	echo $((a < b ? a : b))
}
span_net=$(span_min "$netpol")
span_plain=$(span_min "$plainpol")
echo "# kill points: 0-${span_net} ms (networked), 0-${span_plain} ms (plain)"

# Mounts, records and run ids of this test, before anything is killed.
mounts_before=$(al_our_mounts)
records_before=$(find "$AL_STATE/records" -name '*.json' | wc -l)
killed=0
for i in $(seq 1 "$RUNS"); do
	if [ $((i % 2)) -eq 0 ]; then
		pol=$netpol span=$span_net
	else
		pol=$plainpol span=$span_plain
	fi
	nsenter --net="/run/netns/$NET_H" "$AIRLOCK" run --config "$AL_TMP/airlock.json" \
		--policy "$pol" --workspace "$AL_WS" --state-dir "$AL_STATE" -- \
		/bin/sh -c "sleep 0.0$((RANDOM % 10)); $PROBE daemon 30" \
		>/dev/null 2>>"$AL_TMP/err" </dev/null &
	pid=$!
	delay=$((RANDOM % (span + 1)))
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -KILL "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
done
echo "# $killed of $RUNS supervisors were still running when SIGKILLed"
al_ok "$([ "$killed" -ge $((RUNS / 2)) ]; echo $?)" \
	"most kills land while airlock runs ($killed of $RUNS)"

# One more run of each kind reaps whatever the killed ones left.
al_is "$(run_one "$plainpol" /bin/true)" 0 "a plain run after $RUNS kills starts and exits 0"
al_is "$(run_one "$netpol" /bin/true)" 0 "a networked run after them starts and exits 0"

# The kernel destroys task namespaces and their veths shortly after a run.
for _ in $(seq 100); do
	! ip -n "$NET_H" -o link show | grep -qE ': al[0-9]+[@:]' &&
		[ -z "$(ip -n "$NET_H" netns list-id)" ] && break
	sleep 0.1
done

# Run ids this test made: every record in its state dir.
ids=()
for f in "$AL_STATE"/records/*.json; do
	[ -f "$f" ] && ids+=("$(basename "$f" .json)")
done
echo "# $((${#ids[@]} - records_before)) records were written by the killed runs"

al_is "$(al_own_cgroup_dirs | xargs -r -I{} find {} -mindepth 1 -type d | head -5)" "" \
	"no cgroup of a killed run remains below $AL_PARENT"
al_is "$(al_own_cgroup_dirs | xargs -r -I{} cat {}/cgroup.procs | head -5 | tr '\n' ' ')" "" \
	"no process remains in $AL_PARENT"
al_is "$(pgrep -f "^$AIRLOCK run --config $AL_TMP/" | tr '\n' ' ')" "" \
	"no supervisor of this test is alive"
al_is "$(al_our_mounts)" "$mounts_before" "no mount of a killed run remains"
al_is "$(ip netns exec "$NET_H" nft list tables | grep airlock)" "" \
	"no table inet airlock-host remains"
al_is "$(ip -n "$NET_H" -o link show | grep -oE ': al[0-9]+[@:]' | tr '\n' ' ')" "" \
	"no al* veth remains"
al_is "$(ip -n "$NET_H" netns list-id | tr '\n' ' ')" "" "no task namespace remains"
al_is "$(find "$RUNTIME/net/$KEY" 2>/dev/null)" "" \
	"no network slot, lock or pool file remains"

left=()
for id in "${ids[@]}"; do
	for f in "$RUNTIME/runs/$id.lock" "$RUNTIME/runs/.$id.new"; do
		[ -e "$f" ] && left+=("$f")
	done
done
al_is "${left[*]}" "" "no run lock or new-lock file of a recorded run remains"
# Runs killed before their first record have no id here: any stale dot-file in the runs
# dir (older than this test's last run) is one of ours or an older leftover, either way
# a file the sweep missed.
al_is "$(find "$RUNTIME/runs" -maxdepth 1 -name '.*' -type f ! -newer "$AL_TMP/err" \
	-newer "$AL_TMP/airlock.json" | head -5 | tr '\n' ' ')" "" \
	"no temporary file of a killed run remains in $RUNTIME/runs"
al_is "$(find "$AL_STATE" -name '.*' -type f | head -5 | tr '\n' ' ')" "" \
	"no temporary record file remains in the state dir"

running=()
for f in "$AL_STATE"/records/*.json; do
	[ "$(al_json "$f" 'r["exit"]["cause"]' 2>/dev/null)" = running ] && running+=("$(basename "$f")")
done
al_is "${running[*]}" "" "every record of a killed run is final (none says running)"
al_ok "$(! grep -qE 'AddressSanitizer|runtime error:' "$AL_TMP/err"; echo $?)" \
	"no sanitizer report from any run"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Soak (issue 14, "Keep it proven"): 2 000 runs, 2 at a time, every eighth one networked,
# and afterwards the host holds what it held before: open files, mounts, network
# namespaces, unreclaimable kernel memory, the runs' cgroups, run locks and id leases.
# Every run exits 0 and leaves one final record. Prints runs/s (docs/performance.md).
#
# AIRLOCK_SOAK_RUNS sets the number of runs (default 2000; 200 in the cgroup v2 guest,
# AIRLOCK_VM=1, where everything is 3-4x slower). The runs use a cgroup parent of their
# own; networked ones live in a throw-away "host" namespace, never in the machine's own.
. "$(dirname "$0")/lib.sh"
al_init
# shellcheck source=tests/integration/net-lib.sh
. "$(dirname "$0")/net-lib.sh"
al_need ip nft lsns

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

al_own_cgroup_parent "airlock-soak-$$"
netpol=$(al_policy net <<'JSON'
{ "version": 1, "limits": { "wall_time": "60s", "pids": 64 },
  "network": { "egress": [ { "host": "allowed.test", "ports": [443] } ],
               "dns": { "upstream": ["11.1.0.53"] } } }
JSON
)
plainpol=$(al_policy plain <<'JSON'
{ "version": 1, "limits": { "wall_time": "60s", "pids": 64 } }
JSON
)

RUNS=${AIRLOCK_SOAK_RUNS:-2000}
if [ -z "${AIRLOCK_SOAK_RUNS:-}" ] && [ "${AIRLOCK_VM:-}" = 1 ]; then
	RUNS=200
	echo "# cgroup v2 guest (AIRLOCK_VM=1): scaled down to $RUNS runs"
fi

# What the host holds, one "name value" per line. Unreclaimable slab and per-CPU memory
# are where leaked namespaces, mounts, nft objects and cgroups would pile up.
snapshot() {
	local kb
	echo "files $(cut -f1 /proc/sys/fs/file-nr)"
	echo "mounts $(wc -l </proc/self/mountinfo)"
	echo "netns $(lsns -n -t net | wc -l)"
	echo "cgroups $(al_own_cgroup_dirs | xargs -r -I{} find {} -mindepth 1 -type d | wc -l)"
	echo "task_netns $(ip -n "$NET_H" netns list-id | wc -l)"
	echo "veths $(ip -n "$NET_H" -o link show | grep -cE ': al[0-9]+[@:]')"
	echo "tables $(ip netns exec "$NET_H" nft list tables | grep -c airlock)"
	echo "locks $(find /run/airlock/runs -maxdepth 1 -type f 2>/dev/null | wc -l)"
	echo "ids $(find /run/airlock/ids -type f 2>/dev/null | wc -l)"
	kb=$(awk '/^(SUnreclaim|Percpu):/ { s += $2 } END { print s }' /proc/meminfo)
	echo "kmem_kb $kb"
}
value() { awk -v k="$2" '$1 == k { print $2 }' <<<"$1"; }

# worker N FIRST: runs N runs; each eighth one (by global index) networked.
worker() {
	local n=$1 first=$2 i pol fails=0
	for ((i = first; i < first + n; i++)); do
		pol=$plainpol
		[ $((i % 8)) -eq 7 ] && pol=$netpol
		if ! nsenter --net="/run/netns/$NET_H" "$AIRLOCK" run --config "$AL_TMP/airlock.json" \
			--policy "$pol" --workspace "$AL_WS" --state-dir "$AL_STATE" -- /bin/true \
			>/dev/null 2>>"$AL_TMP/err.$first" </dev/null; then
			fails=$((fails + 1))
		fi
	done
	echo "$fails" >"$AL_TMP/fails.$first"
}

# One warm-up run of each kind, so that first-use state (the id pool, the network
# runtime directory) is in "before".
worker 1 7 && worker 1 0
sleep 1
before=$(snapshot)
t0=$(date +%s%N)
half=$((RUNS / 2))
worker "$half" 1000000 &
w1=$!
worker $((RUNS - half)) 2000000 &
w2=$!
wait "$w1" "$w2"
ms=$((($(date +%s%N) - t0) / 1000000))
fails=$(($(cat "$AL_TMP/fails.1000000") + $(cat "$AL_TMP/fails.2000000")))
rate=$((RUNS * 1000000 / ms))
printf '# %d runs in %d ms: %d.%03d runs/s\n' "$RUNS" "$ms" $((rate / 1000)) $((rate % 1000))
al_is "$fails" 0 "$RUNS runs, 2 at a time, all exit 0"
if [ "$fails" -ne 0 ]; then
	sort "$AL_TMP"/err.* | uniq -c | sort -rn | head -5 | al_diag
fi

# The kernel frees task namespaces (and networked runs' veths) after the run, and
# slab memory through RCU: give it time.
for _ in $(seq 50); do
	after=$(snapshot)
	[ "$(value "$after" netns)" -le "$(value "$before" netns)" ] &&
		[ "$(value "$after" task_netns)" = 0 ] && [ "$(value "$after" veths)" = 0 ] &&
		[ "$(value "$after" files)" -le $(($(value "$before" files) + 64)) ] && break
	sleep 0.2
done
printf '%s\n' "before: $(tr '\n' ' ' <<<"$before")" "after:  $(tr '\n' ' ' <<<"$after")" | al_diag

al_is "$(find "$AL_STATE/records" -name '*.json' | wc -l)" $((RUNS + 2)) \
	"one record per run"
al_is "$(grep -l '"cause": "running"' "$AL_STATE"/records/*.json 2>/dev/null | wc -l)" 0 \
	"every record is final"
for k in cgroups task_netns veths tables; do
	al_is "$(value "$after" "$k")" "$(value "$before" "$k")" "the runs left no $k"
done
# Host-wide counts move with other programs on the machine: what is asserted is ours
# (mounts naming this test's tree or a run id of its records, run locks of those ids).
al_is "$(al_our_mounts | head -5)" "" "no mount of a run remains"
left=$(find "$AL_STATE/records" -name '*.json' -printf '%f\n' | sed 's/\.json$/.lock/' |
	(cd /run/airlock/runs 2>/dev/null && xargs -r ls 2>/dev/null) | head -5)
al_is "$left" "" "no run lock of a run remains"
# the id leases are a pool of 1024 lock files (supervisor/idpool.h), made as first needed
al_ok "$([ "$(value "$after" ids)" -le 1024 ]; echo $?)" \
	"the id leases stay within their pool ($(value "$before" ids) before, $(value "$after" ids) after)"
al_ok "$([ "$(value "$after" netns)" -le "$(value "$before" netns)" ]; echo $?)" \
	"no network namespace is left ($(value "$before" netns) before, $(value "$after" netns) after)"
# Other programs on the machine open and close files meanwhile: allow them a little.
al_ok "$([ "$(value "$after" files)" -le $(($(value "$before" files) + 64)) ]; echo $?)" \
	"open files: $(value "$before" files) before, $(value "$after" files) after (slack 64)"
# A leaked namespace, mount or cgroup costs more than 32 KiB per run.
grow=$(($(value "$after" kmem_kb) - $(value "$before" kmem_kb)))
al_ok "$([ "$grow" -le $((RUNS * 64 / 2)) ]; echo $?)" \
	"unreclaimable kernel memory grew $grow KiB over $RUNS runs (bound: 32 KiB per run)"
al_ok "$(! cat "$AL_TMP"/err.* | grep -qE 'AddressSanitizer|runtime error:'; echo $?)" \
	"no sanitizer report from any run"

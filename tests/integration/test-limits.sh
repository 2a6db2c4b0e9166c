#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Resource limits through `airlock run` (issue 3): what the kernel's own cgroup accounting
# says ends up as the exit cause, the stderr line and the record's resources; concurrent
# runs stay apart; a killed supervisor's cgroups are reaped by the next start.
. "$(dirname "$0")/lib.sh"
al_init
# Every case sets a limit; without the controllers airlock refuses them (test-policy and
# test-cgroup-module check that refusal).
for c in memory pids cpu; do
	al_host_has_controller "$c" || al_skip_all "the kernel offers no $c cgroup controller"
done
# A private runtime directory and cgroup parent (lib.sh): the supervisor killed below is
# reaped by this test's next start, never first by another airlock on the host.
al_isolate limits

# Where this host keeps airlock's run cgroups (v2: below airlock.slice; v1: per hierarchy).
run_cgroup_dirs() { # run_cgroup_dirs RUN_ID
	find /sys/fs/cgroup -maxdepth 4 -type d -name "$1" 2>/dev/null
}
last_record() {
	ls -t "$AL_STATE"/records/*.json | head -n 1
}

# A memory bomb is OOM-killed and reported as such.
pol=$(al_policy mem <<'JSON'
{ "version": 1, "limits": { "memory": "64M", "wall_time": "60s" } }
JSON
)
al_run --policy "$pol" --record "$AL_TMP/rec-mem.json" -- \
	python3 -c 'b = []
while True: b.append(bytearray(8 << 20))'
al_is "$AL_RC" 137 "a memory bomb under a 64M limit dies of SIGKILL (137)"
al_is "$(al_json "$AL_TMP/rec-mem.json" 'r["exit"]["cause"]')" "oom_killed" \
	"the record's exit cause is oom_killed"
al_ok "$(echo "$AL_ERR" | grep -q '^airlock: task killed: memory limit 64M reached'; echo $?)" \
	"airlock prints one line naming the memory limit"
peak=$(al_json "$AL_TMP/rec-mem.json" 'r["resources"]["memory_peak_bytes"]')
al_ok "$([ "$peak" -le $((64 << 20)) ] && [ "$peak" -ge $((32 << 20)) ]; echo $?)" \
	"the kernel's peak memory stayed at the limit ($peak bytes)"
al_is "$(al_json "$AL_TMP/rec-mem.json" 'r["resources"]["oom_kills"] >= 1')" "True" \
	"the record counts the OOM kill"

# A fork bomb stops at pids.max and the host is unaffected.
pol=$(al_policy pids <<'JSON'
{ "version": 1, "limits": { "pids": 32, "wall_time": "60s" } }
JSON
)
al_run --policy "$pol" --record "$AL_TMP/rec-pids.json" -- /bin/sh -c \
	'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done 2>/dev/null; echo forked; kill 0'
al_is "$(al_json "$AL_TMP/rec-pids.json" 'r["exit"]["cause"]')" "pids_limit_hit" \
	"a fork bomb under pids 32 ends with cause pids_limit_hit"
al_is "$(al_json "$AL_TMP/rec-pids.json" 'r["resources"]["pids_limit_hits"] > 0')" "True" \
	"the record counts refused forks"
al_ok "$(echo "$AL_ERR" | grep -q '^airlock: task hindered: pids limit 32 reached'; echo $?)" \
	"airlock prints one line naming the pids limit"
al_ok "$(/bin/true && echo ok | grep -q ok; echo $?)" "the host still forks after the bomb"

# A CPU hog is held to its quota, by the cgroup's own accounting.
pol=$(al_policy cpu <<'JSON'
{ "version": 1, "limits": { "cpu": 0.2, "wall_time": "60s" } }
JSON
)
al_run --policy "$pol" --record "$AL_TMP/rec-cpu.json" -- /bin/sh -c \
	'timeout 3 sh -c "while :; do :; done" & timeout 3 sh -c "while :; do :; done"; wait'
usage=$(al_json "$AL_TMP/rec-cpu.json" 'r["resources"]["cpu_usage_usec"]')
wall=$(al_json "$AL_TMP/rec-cpu.json" 'r["duration_ms"]')
# Unlimited, two spinners use 2 CPUs for the whole run (about 6 s of CPU). Held to 0.2
# cores they may use 0.2 x the run's own wall time (in microseconds: wall_ms x 200); allow
# twice that for CFS period slop (and emulated guests, where the 3 s window stretches).
al_ok "$([ "$usage" -le $((wall * 400)) ] && [ "$usage" -ge 200000 ]; echo $?)" \
	"two CPU spinners under cpu 0.2 used ${usage} us of CPU in ${wall} ms (at most $((wall * 200)) by quota)"
al_is "$(al_json "$AL_TMP/rec-cpu.json" 'r["resources"]["cpu_throttled_usec"] > 0')" "True" \
	"the record shows throttled time"

# Concurrent runs stay separate: each has its own cgroup and its own limit.
pol_a=$(al_policy conc-a <<'JSON'
{ "version": 1, "limits": { "memory": "96M", "wall_time": "60s" } }
JSON
)
al_run_bg a --policy "$pol_a" -- /bin/sh -c 'sleep 3'
pid_a=$AL_BG_PID
al_run --policy "$pol" -- /bin/sh -c 'cat /proc/self/cgroup | grep -c ":/$"'
cg_lines=$AL_OUT
wait "$pid_a"
al_is "$?" 0 "a run with its own memory limit finished beside another"
al_ok "$([ "$cg_lines" -ge 1 ]; echo $?)" "the concurrent task sees only its own cgroup (root of its namespace)"
ids=$(python3 -c 'import json,glob
print(len({json.load(open(f))["run_id"] for f in glob.glob("'"$AL_STATE"'/records/*.json")}))')
al_ok "$([ "$ids" -ge 5 ]; echo $?)" "every run got its own run id and record ($ids)"

# A supervisor killed mid-run: its task dies with it and the next start reaps its cgroups.
al_run_bg killed --policy "$pol_a" -- /bin/sh -c 'sleep 60'
al_wait_for "$AL_TMP/bg-killed.err" '.' 1 || true
sleep 1
rec=$(last_record)
run_id=$(al_json "$rec" 'r["run_id"]')
al_ok "$([ -n "$(run_cgroup_dirs "$run_id")" ]; echo $?)" "the running task has a cgroup ($run_id)"
al_ok "$([ -f "$AL_STATE/records/.airlock-record-$run_id.tmp" ]; echo $?)" \
	"the running supervisor prepared its final record's file"
kill -9 "$AL_BG_PID"
wait "$AL_BG_PID" 2>/dev/null
al_run --diagnostics-file "$AL_TMP/reap.diag" -- /bin/true
al_is "$(run_cgroup_dirs "$run_id" | wc -l)" 0 "the next start removed the killed run's cgroups"
al_is "$(al_json "$AL_STATE/records/$run_id.json" 'r["exit"]["cause"]')" "aborted" \
	"the killed run's record is marked aborted"
al_is "$(find "$AL_STATE/records" -name '.airlock-record-*' | wc -l)" 0 \
	"the killed run's prepared record file is gone, and no other is left"
al_ok "$(grep -q 'removed the cgroups of' "$AL_TMP/reap.diag"; echo $?)" \
	"the next start says it reaped a dead run, in its diagnostics"
al_ok "$(! echo "$AL_ERR" | grep -q 'removed the cgroups of\|marked the record'; echo $?)" \
	"and not on the caller's stderr: that run was not the caller's"

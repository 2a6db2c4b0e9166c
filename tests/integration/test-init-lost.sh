#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A sandbox init that ends without reporting its task's status: airlock names how it ended
# (init's own wait status, on stderr and in the record).
. "$(dirname "$0")/lib.sh"
al_init
al_need pgrep
# A private runtime directory and cgroup parent (lib.sh).
al_isolate initlost

# The sandbox init of the airlock whose pid is $1 (airlock-init, its child).
init_of() {
	pgrep -P "$1" -x airlock-init
}

# ---- init killed from outside: named, on stderr and in the record ----
al_run_bg killed --record "$AL_TMP/rec-killed.json" -- /bin/sh -c 'echo started; exec sleep 30'
al_wait_for "$AL_TMP/bg-killed.out" started 20
init=$(init_of "$AL_BG_PID")
al_ok "$([ -n "$init" ]; echo $?)" "the run's sandbox init is found (pid ${init:-none})"
[ -n "$init" ] && kill -KILL "$init"
wait "$AL_BG_PID"
rc=$?
err=$(cat "$AL_TMP/bg-killed.err")
al_is "$rc" 125 "a run whose init was killed exits 125"
line="sandbox init ended without reporting the task's status: init was killed by signal 9 (SIGKILL)"
al_is "$(grep -c -F -- "$line" "$AL_TMP/bg-killed.err")" 1 "stderr names init's own end: $line"
if [ "$rc" -ne 125 ] || ! echo "$err" | grep -q -F -- "$line"; then
	echo "$err" | al_diag
fi
al_is "$(al_json "$AL_TMP/rec-killed.json" '(r["exit"]["reason"], r["exit"].get("init_signal"))')" \
	"('task_lost', 9)" "the record says task_lost and init_signal 9"
al_is "$(al_json "$AL_TMP/rec-killed.json" 'r["exit"]["message"]')" "$line" \
	"the record's message is that line"

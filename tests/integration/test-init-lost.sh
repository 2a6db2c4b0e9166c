#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A sandbox init that ends without reporting its task's status: airlock names how it ended
# (init's own wait status, on stderr and in the record), and a start of airlock with another
# runtime directory on the same cgroup parent no longer takes a live run's cgroup for a dead
# run's leftovers and kills its init (the "sandbox init ended without reporting the task's
# status" flake: its run lock is in a runtime directory that start does not see).
. "$(dirname "$0")/lib.sh"
al_init
al_need pgrep
# World 1: al_isolate's private runtime directory and cgroup parent. World 2 (AIRLOCK2):
# another private runtime directory on the same cgroup parent, as a second airlock
# installation, a container or a test with a runtime directory of its own has.
al_isolate initlost
mkdir -p "$AL_TMP/run2"
AIRLOCK2=$AL_TMP/airlock2
cat >"$AIRLOCK2" <<EOS
#!/bin/sh
[ "\$1" = run ] && shift && set -- run --config "$AL_TMP/iso.json" "\$@"
exec unshare -m --propagation private -- /bin/sh -c \\
	'mount --bind "$AL_TMP/run2" /run/airlock && exec "\$0" "\$@"' "$REAL_AIRLOCK" "\$@"
EOS
chmod 755 "$AIRLOCK2"

# The cgroup directories of a run (v2: one; v1: one per hierarchy) below the test's parent.
run_cgroup_dirs() { # run_cgroup_dirs RUN_ID
	find /sys/fs/cgroup -maxdepth 5 -type d -path "*/$ISO_PARENT/*" -name "$1" 2>/dev/null
}
# The sandbox init of the airlock whose pid is $1 (airlock-init, its child).
init_of() {
	pgrep -P "$1" -x airlock-init
}
running_id() { # running_id STATE_DIR: the run id of its one record
	local f
	for f in "$1"/records/*.json; do
		[ -f "$f" ] && basename "$f" .json && return
	done
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

# ---- a start with another runtime directory leaves a live run alone ----
st1=$AL_TMP/st-live
al_run_bg live --state-dir "$st1" --record "$AL_TMP/rec-live.json" -- \
	/bin/sh -c 'echo started; sleep 6; exit 3'
al_wait_for "$AL_TMP/bg-live.out" started 20
id=$(running_id "$st1")
al_ok "$([ -n "$(run_cgroup_dirs "$id")" ]; echo $?)" "the live run's cgroup is there ($id)"
"$AIRLOCK2" run --state-dir "$AL_TMP/st-other" --workspace "$AL_WS" -- /bin/true \
	</dev/null >"$AL_TMP/other.out" 2>"$AL_TMP/other.err"
al_is "$?" 0 "a start in another runtime directory runs beside it"
al_ok "$([ -n "$(run_cgroup_dirs "$id")" ]; echo $?)" "and leaves the live run's cgroup in place"
al_ok "$(kill -0 "$AL_BG_PID" 2>/dev/null; echo $?)" "the run was still running when that start ended"
wait "$AL_BG_PID"
rc=$?
al_is "$rc" 3 "the live run ends as its task did (exit 3), not killed"
[ "$rc" -eq 3 ] || sed 's/^/bg: /' "$AL_TMP/bg-live.err" | al_diag
al_is "$(al_json "$AL_TMP/rec-live.json" 'r["exit"]["cause"]')" exited "its record says exited"

# ---- ... and still reaps a dead run's ----
st2=$AL_TMP/st-dead
al_run_bg dead --state-dir "$st2" -- /bin/sh -c 'echo started; exec sleep 30'
al_wait_for "$AL_TMP/bg-dead.out" started 20
id=$(running_id "$st2")
kill -KILL "$AL_BG_PID"
wait "$AL_BG_PID" 2>/dev/null
al_ok "$([ -n "$(run_cgroup_dirs "$id")" ]; echo $?)" "a killed supervisor leaves its run's cgroup ($id)"
"$AIRLOCK2" run --state-dir "$AL_TMP/st-other" --workspace "$AL_WS" -- /bin/true \
	</dev/null >"$AL_TMP/other.out" 2>"$AL_TMP/other.err"
al_is "$?" 0 "a start in another runtime directory runs"
al_is "$(run_cgroup_dirs "$id")" "" "and reaps the dead run's cgroup"

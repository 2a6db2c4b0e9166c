#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# No record, no run; no record in the wrong place; nothing of airlock's own left behind when
# it is killed. Faults are injected with strace (a signal or an error at a chosen syscall),
# so each case hits the same point every time.
. "$(dirname "$0")/lib.sh"
al_init
al_need strace flock unshare
# LeakSanitizer cannot run under ptrace: an ASan build would fail every traced run at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# Every airlock of this test runs in a world of its own: a private runtime directory (a
# bind over /run/airlock in a mount namespace of its own) and a private cgroup parent. No
# other airlock on the host reaps the dead runs these cases make (nor is reaped by them),
# so a fault injected at the n-th syscall always hits the same point.
RUNS=$AL_TMP/run/runs
al_isolate records

# own_lines: stderr without the notices of a start that reaped this test's dead runs.
own_lines() {
	echo "$AL_ERR" | grep -v -e '^airlock: removed the cgroups of ' -e '^airlock: marked the record of run '
}

# causes_in STATE_DIR: the causes of the records STATE_DIR/records holds, sorted.
causes_in() {
	local f
	for f in "$1"/records/*.json; do
		[ -f "$f" ] && al_json "$f" 'r["exit"]["cause"]'
	done | sort | tr '\n' ' '
}

# ---- signals before the run's own handling is ready ----

# SIGTERM at the run lock's flock (after the run id, before the loop): blocked from main() on,
# it stays pending until the loop reads it, so the run ends with a record, not by the
# default action of the signal.
st=$AL_TMP/st-term
strace -o "$AL_TMP/strace-term" -e trace=flock -e inject=flock:signal=TERM:when=1 \
	"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- "$PROBE" sleep 5 \
	</dev/null >/dev/null 2>"$AL_TMP/term.err"
al_ok "$(! grep -q 'killed by SIGTERM' "$AL_TMP/strace-term"; echo $?)" \
	"a SIGTERM during setup does not kill airlock by its default action"
al_ok "$(causes_in "$st" | grep -Eq '^(signaled|exited|interrupted) $'; echo $?)" \
	"the run it stopped has a final record ($(causes_in "$st"))"

# ---- usage and limit hits on every ending ----

# A contained fork bomb: forks until refused, ignoring SIGTERM, says when it was refused.
bomb='import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
said = False
while True:
    try:
        if os.fork() == 0:
            time.sleep(100)
            os._exit(0)
    except OSError:
        if not said:
            print("refused", flush=True)
            said = True
        time.sleep(0.01)'
if al_host_has_controller pids; then
	pol=$(al_policy bomb <<'JSON'
{ "version": 1, "limits": { "pids": 16, "wall_time": "2s" } }
JSON
)
	al_run --policy "$pol" --record "$AL_TMP/bomb-wall.json" -- python3 -c "$bomb"
	al_is "$(al_json "$AL_TMP/bomb-wall.json" 'r["exit"]["cause"]' 2>&1)" wall_time \
		"a fork bomb ended by the wall time: cause wall_time"
	al_ok "$(al_json "$AL_TMP/bomb-wall.json" 'r["resources"]["pids_limit_hits"] > 0' 2>&1 | grep -qx True; echo $?)" \
		"its record counts the refused forks (resources.pids_limit_hits)"
	al_ok "$(echo "$AL_ERR" | grep -q '^airlock: task hindered: pids limit 16 reached'; echo $?)" \
		"and stderr says the pids limit was reached"
	[ "$AL_RC" -eq 124 ] || al_show

	pol=$(al_policy bomb-long <<'JSON'
{ "version": 1, "limits": { "pids": 16, "wall_time": "60s" } }
JSON
)
	al_run_bg bomb --policy "$pol" --record "$AL_TMP/bomb-int.json" -- python3 -c "$bomb"
	if al_wait_for "$AL_TMP/bg-bomb.out" '^refused' 20; then
		kill -TERM "$AL_BG_PID"
		sleep 0.2
		kill -TERM "$AL_BG_PID"
		wait "$AL_BG_PID"
		al_is "$(al_json "$AL_TMP/bomb-int.json" 'r["exit"]["cause"]' 2>&1)" interrupted \
			"a fork bomb ended by two SIGTERMs: cause interrupted"
		al_ok "$(al_json "$AL_TMP/bomb-int.json" 'r["resources"]["pids_limit_hits"] > 0' 2>&1 | grep -qx True; echo $?)" \
			"its record counts the refused forks"
		al_ok "$(grep -q '^airlock: task hindered: pids limit 16 reached' "$AL_TMP/bg-bomb.err"; echo $?)" \
			"and stderr says the pids limit was reached"
	else
		al_ok 1 "the fork bomb was refused a fork"
		al_diag <"$AL_TMP/bg-bomb.err"
	fi
else
	al_skip "fork bomb ended by the wall time or a signal" "no pids cgroup controller"
fi

# ---- the task's standard streams ----

# Scripts write to /dev/stdout and /dev/stderr, which reopen /proc/self/fd/1 and 2: the
# task's ends of airlock's pipes must be the task's own.
al_run -- /bin/sh -c 'echo out >/dev/stdout && echo err >/dev/stderr'
al_ok "$([ "$AL_RC" -eq 0 ] && [ "$AL_OUT" = out ] && [ "$(echo "$AL_ERR" | tail -n 1)" = err ]; echo $?)" \
	"a task can write to /dev/stdout and /dev/stderr"
[ "$AL_RC" -eq 0 ] || al_show
got=$(echo in | "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- \
	/bin/sh -c 'cat /dev/stdin; stat -L -c "%u %a" /proc/self/fd/1' 2>&1)
al_is "$(echo "$got" | tr '\n' ' ')" "in 1000 600 " \
	"a piped stdin reads through /dev/stdin; the pipes are the task's (uid 1000), mode 0600"

# ---- no record, no run ----

# strace makes the n-th rename of airlock itself fail: the first is the "running" record's,
# the second the final record's (strace without -f: the sandbox is not traced).
fail_rename() { # fail_rename N ERRNO STATE_DIR [RUN OPTIONS] -- CMD...
	local n=$1 err=$2 st=$3
	shift 3
	strace -o /dev/null -e trace=renameat,renameat2 \
		-e "inject=renameat,renameat2:error=$err:when=$n" \
		"$AIRLOCK" run --state-dir "$st" --workspace "$AL_RWWS" "$@" \
		</dev/null >"$AL_TMP/out" 2>"$AL_TMP/err"
	AL_RC=$?
	AL_OUT=$(cat "$AL_TMP/out") AL_ERR=$(cat "$AL_TMP/err")
}
rwpol=$(al_policy rw <<'JSON'
{ "version": 1, "filesystem": { "workspace": { "mode": "rw" } } }
JSON
)

st=$AL_TMP/st-first
fail_rename 1 ENOSPC "$st" --policy "$rwpol" -- /bin/sh -c 'echo ran; touch /workspace/ran'
al_is "$AL_RC" 125 "the first record cannot be written: exit 125"
al_ok "$([ -z "$AL_OUT" ] && [ ! -e "$AL_RWWS/ran" ]; echo $?)" "and the task never ran"
al_ok "$([ "$(own_lines | grep -c .)" -eq 1 ] &&
	echo "$AL_ERR" | grep -q "^airlock: refusing run: cannot write its record '$st/records/[^']*\.json': No space left on device$"
	echo $?)" "one line says why"
[ "$AL_RC" -eq 125 ] || al_show
al_is "$(ls -A "$st/records" | wc -l)" 0 "no record or temporary file is left"

# The lock of a run whose final record failed stays, so that the next start marks its
# "running" record aborted.
st=$AL_TMP/st-final
want=
for rc in 0 3; do
	fail_rename 2 EIO "$st" -- /bin/sh -c "exit $rc"
	al_is "$AL_RC" 125 "the final record cannot be written: exit 125 though the task exited $rc"
	al_ok "$([ "$(own_lines | grep -c .)" -eq 1 ] &&
		echo "$AL_ERR" | grep -q "^airlock: Failed to write run record '$st/records/.*\.json': Input/output error$"
		echo $?)" "one line says so, naming the record"
	[ "$AL_RC" -eq 125 ] || al_show
	al_is "$(causes_in "$st")" "${want}running " "the record left says running, for now"
	al_run -- "$PROBE" true
	want="${want}aborted "
	al_is "$(causes_in "$st")" "$want" "the next start marks it aborted"
done

# ---- where records go ----

# waits_running STATE_DIR: until a "running" record appears there (10 s).
wait_running() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ " $(causes_in "$1")" == *" running "* ]] && return 0
		sleep 0.1
	done
	return 1
}

# A relative --state-dir is stored absolute in the run lock: a reaper started elsewhere
# marks the killed run's record aborted where it is, and creates nothing where it runs.
mkdir -p "$AL_TMP/cwd1" "$AL_TMP/cwd2"
(cd "$AL_TMP/cwd1" && exec "$AIRLOCK" run --state-dir relstate --workspace "$AL_WS" -- \
	"$PROBE" sleep 60 </dev/null >/dev/null 2>&1) &
pid=$!
AL_PIDS+=("$pid")
if wait_running "$AL_TMP/cwd1/relstate"; then
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	(cd "$AL_TMP/cwd2" && "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- \
		"$PROBE" true </dev/null >/dev/null 2>&1)
	al_is "$(causes_in "$AL_TMP/cwd1/relstate")" "aborted " \
		"a relative --state-dir: a start from elsewhere marks the killed run's record aborted"
	al_ok "$([ ! -e "$AL_TMP/cwd2/relstate" ]; echo $?)" "and creates no state directory where it runs"
else
	al_ok 1 "a run with a relative --state-dir started"
fi

# --record FILE: only a new file or a regular file of airlock's own (root's), never through
# a symbolic link.
mkdir -m 1777 "$AL_TMP/shared"
# A device node of our own stands for /dev/null, which a build without the check replaces.
mknod "$AL_TMP/shared/null" c 1 3
touch "$AL_TMP/shared/theirs.json"
chown nobody "$AL_TMP/shared/theirs.json"
ln -s "$AL_TMP/shared/theirs.json" "$AL_TMP/shared/link.json"
ln -s "$AL_TMP/shared" "$AL_TMP/shared-link"
for rec in "$AL_TMP/shared/null" "$AL_TMP/shared/theirs.json" "$AL_TMP/shared/link.json" \
	"$AL_TMP/shared-link/new.json" "$AL_TMP/shared/"; do
	al_run --record "$rec" -- "$PROBE" true
	al_ok "$([ "$AL_RC" -eq 125 ] && [ "$(own_lines | grep -c .)" -eq 1 ] &&
		echo "$AL_ERR" | grep -q "^airlock: refusing run: --record '$rec'"; echo $?)" \
		"--record $rec is refused in one line"
	[ "$AL_RC" -eq 125 ] || al_show
done
al_is "$(stat -c '%F %U %s' "$AL_TMP/shared/null" "$AL_TMP/shared/theirs.json" | tr '\n' ' ')" \
	"character special file root 0 regular empty file nobody 0 " "neither the device node nor their file was touched"
al_check "--record replaces a record of its own" --record "$AL_TMP/shared/mem.json" -- "$PROBE" true
al_check "--record replaces a record of its own (again)" --record "$AL_TMP/shared/mem.json" -- "$PROBE" true

# The task of a read-write workspace could swap the record's directory for a symlink while
# it runs (root would then write where it points): a --record or state directory the task
# can write is refused before it starts.
mkdir -p "$AL_RWWS/out" "$AL_TMP/elsewhere"
al_run --policy "$rwpol" --workspace "$AL_RWWS" --record "$AL_RWWS/out/record.json" -- \
	/bin/sh -c 'mv /workspace/out /workspace/out.old && ln -s '"$AL_TMP/elsewhere"' /workspace/out'
al_ok "$([ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -q "^airlock: refusing run: --record '$AL_RWWS/out/record.json' lies in the read-write workspace"; echo $?)" \
	"a --record in a read-write workspace is refused"
[ "$AL_RC" -eq 125 ] || al_show
al_is "$(ls -A "$AL_TMP/elsewhere")" "" "no record was written through the task's symlink"
rm -rf "$AL_RWWS/out.old" "$AL_RWWS/out"
bindpol=$(al_policy rw-bind <<JSON
{ "version": 1, "filesystem": { "binds": [ { "source": "$AL_TMP/elsewhere", "target": "/data", "mode": "rw" } ] } }
JSON
)
al_run --policy "$bindpol" --state-dir "$AL_TMP/elsewhere/state" -- "$PROBE" true
al_ok "$([ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -q "^airlock: refusing run: /filesystem/binds/0/source '$AL_TMP/elsewhere' holds or lies in the state directory"; echo $?)" \
	"a state directory in a read-write bind is refused"
al_run --policy "$bindpol" --record "$AL_TMP/elsewhere/record.json" -- "$PROBE" true
al_ok "$([ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -q "^airlock: refusing run: --record '$AL_TMP/elsewhere/record.json' lies in /filesystem/binds/0/source"; echo $?)" \
	"a --record in a read-write bind is refused"
ln -s "$AL_TMP/elsewhere" "$AL_TMP/state-link"
al_run --state-dir "$AL_TMP/state-link" -- "$PROBE" true
al_ok "$([ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -q "^airlock: refusing run: state directory '$AL_TMP/state-link' passes through a symbolic link"; echo $?)" \
	"a state directory through a symbolic link is refused"

# ---- nothing left behind by a killed airlock ----

# A run killed -9 leaves its "running" record for the next start to mark aborted. A start
# killed at the marking's fsync left its temporary file, which the start after it removes.
# One run before it makes the chain's head, whose first write would be the first fsync.
st=$AL_TMP/st-reap
al_run --state-dir "$st" -- "$PROBE" true
al_run_bg reap --state-dir "$st" -- "$PROBE" sleep 60
if wait_running "$st"; then
	kill -KILL "$AL_BG_PID"
	wait "$AL_BG_PID" 2>/dev/null
	strace -o /dev/null -e trace=fsync -e inject=fsync:signal=KILL:when=1 \
		"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- "$PROBE" true \
		</dev/null >/dev/null 2>&1
	al_ok "$(compgen -G "$st/records/.airlock-record-*" >/dev/null; echo $?)" \
		"a start killed while it marked the dead run left a temporary file"
	al_run -- "$PROBE" true
	al_is "$(find "$st/records" -name '.airlock-record-*' | wc -l)" 0 "the next start removes it"
	al_is "$(causes_in "$st")" "aborted exited " "and marks the record aborted"
else
	al_ok 1 "the run to kill started"
fi

# A start killed at its first flock (the run lock's) leaves no half-made lock file.
before=$(find "$RUNS" -maxdepth 1 -name '.*.new' | sort)
strace -o /dev/null -e trace=flock -e inject=flock:signal=KILL:when=1 \
	"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- "$PROBE" true \
	</dev/null >/dev/null 2>&1
al_run -- "$PROBE" true
al_is "$(comm -13 <(echo "$before") <(find "$RUNS" -maxdepth 1 -name '.*.new' | sort))" "" \
	"a start killed while taking its run lock leaves no .new file in $RUNS"
# Those an older airlock left are removed once nobody holds them and they are a minute old;
# a held or a fresh one stays.
old=$RUNS/.airlock-test-$$-old.new fresh=$RUNS/.airlock-test-$$-fresh.new held=$RUNS/.airlock-test-$$-held.new
touch -d '2 minutes ago' "$old" "$held"
touch "$fresh"
flock "$held" sleep 30 &
AL_PIDS+=("$!")
sleep 0.2
al_run -- "$PROBE" true
al_is "$([ -e "$old" ] && echo old) $([ -e "$fresh" ] && echo fresh) $([ -e "$held" ] && echo held)" \
	" fresh held" "a stale .new lock file is swept; a fresh or held one stays"
rm -f "$old" "$fresh" "$held"

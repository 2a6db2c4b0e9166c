#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# No record, no run; no record in the wrong place; nothing of airlock's own left behind when
# it is killed. Faults are injected with strace (a signal or an error at a chosen syscall),
# so each case hits the same point every time.
. "$(dirname "$0")/lib.sh"
al_init
al_need strace

# records_in DIR: how many final records DIR/records holds, and their causes.
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

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

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a run killed with `--export DIR` leaves (docs/artifacts.md): the next start removes
# the empty DIR and the .DIR.partial the dead run made (killed while its task ran, or in
# the middle of its export), and nothing else: not a DIR the caller made since, not one
# with content the run did not write, not an export already in place.
. "$(dirname "$0")/lib.sh"
al_init
al_need strace unshare
# LeakSanitizer cannot run under ptrace: an ASan build would fail every traced run at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# Private runtime directory and cgroup parent: the runs this test kills are reaped by its
# own starts only (whose diagnostics it reads), and it reaps no one else's.
al_isolate reap

POL=$(al_policy reap <<'JSON'
{ "version": 1, "name": "reap",
  "filesystem": { "tmpfs": [ { "target": "/out", "size": "64M" } ] },
  "artifacts": { "scan": "off" } }
JSON
)
# The task: 40 files in /out, then a long sleep (killed before it ends) or none.
TASK='import os, sys, time
for i in range(40):
    open("/out/f%02d.txt" % i, "w").write("bytes %d\n" % i)
time.sleep(float(sys.argv[1]))'

# cause_of RUN_ID: the exit.cause of its record.
cause_of() {
	al_json "$AL_STATE/records/$1.json" 'r["exit"]["cause"]' 2>&1
}

# reap: a start (an ordinary run, no export) that reaps the dead runs; sets REAPED to
# what it told its diagnostics sink (where the reaper's lines go).
reap() {
	"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --diagnostics-fd 3 \
		-- "$PROBE" true 3>"$AL_TMP/diag" >/dev/null 2>"$AL_TMP/err" </dev/null
	REAPED=$(cat "$AL_TMP/diag")
	[ -n "$REAPED" ] || al_diag <"$AL_TMP/err"
}

# last_lock: the run id of the newest run lock in the private runtime directory (the
# run just started, or just killed: a dead run's lock stays until a start reaps it).
last_lock() {
	find "$AL_TMP/run/runs" -name '*.lock' -printf '%T@ %f\n' | sort -n | tail -n 1 |
		sed 's/^[^ ]* //; s/\.lock$//'
}

# started NAME: waits until the background run has made .exp-NAME.partial and its
# running record.
started() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ -d "$AL_TMP/.exp-$1.partial" ] &&
			grep -lq '"cause": "running"' "$AL_STATE"/records/*.json 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- killed while its task runs ----

D=$AL_TMP/exp-a
al_run_bg a --policy "$POL" --export "$D" -- python3 -c "$TASK" 60
started a
id_a=$(last_lock)
al_ok "$([ -d "$D" ] && [ -d "$AL_TMP/.exp-a.partial" ]; echo $?)" \
	"a run with --export DIR has made DIR and .DIR.partial before its task"
kill -KILL "$AL_BG_PID"
wait "$AL_BG_PID" 2>/dev/null
reap
al_ok "$([ ! -e "$D" ] && [ ! -e "$AL_TMP/.exp-a.partial" ]; echo $?)" \
	"killed while its task ran: the next start removes its empty DIR and its .DIR.partial"
al_ok "$(echo "$REAPED" | grep -qF "removed '$AL_TMP/exp-a', the empty export directory of dead run $id_a"; echo $?)" \
	"and says so"
al_is "$(cause_of "$id_a")" aborted "the dead run's record is marked aborted"
al_is "$(al_json "$AL_STATE/records/$id_a.json" 'r["artifacts"]["error"]' 2>&1)" \
	"the run was aborted (its supervisor died): nothing was exported" \
	"and says nothing was exported"

# ---- killed in the middle of its export ----

# strace -P: the export's file creations are openat2() calls relative to the partial
# directory's fd; the 5th is killed (SIGKILL, the call not made).
D=$AL_TMP/exp-b
strace -f -o "$AL_TMP/strace-b" -P "$AL_TMP/.exp-b.partial" -e trace=openat2 \
	-e inject=openat2:error=EIO:signal=KILL:when=5 \
	"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --policy "$POL" \
	--export "$D" -- python3 -c "$TASK" 0 >/dev/null 2>"$AL_TMP/b.err" </dev/null
id_b=$(last_lock)
al_ok "$(grep -q 'killed by SIGKILL' "$AL_TMP/strace-b" && [ -d "$D" ] &&
	[ "$(find "$AL_TMP/.exp-b.partial" -type f | wc -l)" -ge 1 ]; echo $?)" \
	"a run killed in its export leaves an empty DIR and part of the export in .DIR.partial"
[ -d "$AL_TMP/.exp-b.partial" ] || al_diag <"$AL_TMP/b.err"
reap
al_ok "$([ ! -e "$D" ] && [ ! -e "$AL_TMP/.exp-b.partial" ]; echo $?)" \
	"killed in its export: the next start removes DIR and the partial export"
al_ok "$(echo "$REAPED" | grep -qF "removed '$AL_TMP/.exp-b.partial', the partial export of dead run $id_b"; echo $?)" \
	"and says so"
al_is "$(cause_of "$id_b")" aborted "the dead run's record is marked aborted"

# ---- what stays ----

# DIR removed by the caller after the kill and made again (empty, and with a file): the
# caller's; so is a DIR the dead run made that the caller has put a file in.
for c in c-empty c-file d-content; do
	D=$AL_TMP/exp-$c
	al_run_bg "$c" --policy "$POL" --export "$D" -- python3 -c "$TASK" 60
	started "$c"
	kill -KILL "$AL_BG_PID"
	wait "$AL_BG_PID" 2>/dev/null
	case $c in
	c-empty) rmdir "$D" && mkdir "$D" ;;
	c-file) rmdir "$D" && mkdir "$D" && echo mine >"$D/mine.txt" ;;
	d-content) echo mine >"$D/mine.txt" ;;
	esac
done
reap
al_ok "$([ -d "$AL_TMP/exp-c-empty" ] && [ ! -e "$AL_TMP/.exp-c-empty.partial" ]; echo $?)" \
	"an empty DIR the caller made again after the kill stays (the dead run's partial goes)"
al_is "$(cat "$AL_TMP/exp-c-file/mine.txt" 2>&1)" mine "a DIR the caller made again with a file stays, whole"
al_is "$(cat "$AL_TMP/exp-d-content/mine.txt" 2>&1)" mine \
	"the dead run's DIR with a file the caller put in stays, whole"

# A DIR the caller made before: the run is refused, and the next start leaves it.
D=$AL_TMP/exp-e
mkdir "$D"
al_run --policy "$POL" --export "$D" -- "$PROBE" true
al_is "$AL_RC" 125 "a run whose --export DIR exists is refused"
reap
al_ok "$([ -d "$D" ]; echo $?)" "and the caller's DIR stays"

# A whole export in place whose supervisor was killed right after the rename, as it marked
# the export's note in its run lock ended (its 2nd ftruncate, after the note's write): DIR,
# whole, is the caller's, and the aborted record says the export had ended.
D=$AL_TMP/exp-f
strace -f -o "$AL_TMP/strace-f" -e trace=ftruncate \
	-e inject=ftruncate:error=EIO:signal=KILL:when=2 \
	"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --policy "$POL" \
	--export "$D" -- python3 -c "$TASK" 0 >/dev/null 2>"$AL_TMP/f.err" </dev/null
id_f=$(last_lock)
al_ok "$(grep -q 'killed by SIGKILL' "$AL_TMP/strace-f" && [ "$(find "$D" -name 'f*.txt' | wc -l)" = 40 ]; echo $?)" \
	"a run killed at the rename of its whole export into place (made: 40 files in DIR)"
reap
al_is "$(find "$D" -name 'f*.txt' | wc -l)" 40 "after the next start, the export stays whole"
al_is "$(cause_of "$id_f") $(al_json "$AL_STATE/records/$id_f.json" 'r["artifacts"]["error"]' 2>&1)" \
	"aborted the run was aborted (its supervisor died) after its export had ended: the export directory's manifest.json is not in this record" \
	"its record is marked aborted, saying the export had ended (not that nothing was exported)"

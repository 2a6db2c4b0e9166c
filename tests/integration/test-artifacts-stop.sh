#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A stop signal while airlock works without its task (docs/artifacts.md, "Stopping it"):
# during the export of a large /out, after the task ended (SIGINT inside a file of 300 MiB,
# SIGTERM between thousands of small files), airlock ends within a second or two, removes
# what it wrote, leaves DIR empty, exits 128+N and its record says the export was
# interrupted and by which signal; nothing of the run is left. So does SIGTERM while an
# overlay workspace's change set is computed (a file compared whole). During the next start's
# reaping of a dead run's huge partial export, SIGTERM refuses that start at once (125, one
# line) and leaves the rest to the start after it, which removes it and marks the record.
. "$(dirname "$0")/lib.sh"
al_init
al_need stat python3

# Private runtime directory and cgroup parent: this test kills a supervisor and reads the
# reaper's lines, which must be about its own runs only.
al_isolate stop

POL=$(al_policy stop <<'JSON'
{ "version": 1, "name": "stop",
  "filesystem": { "tmpfs": [ { "target": "/out", "size": "512M" } ] },
  "artifacts": { "scan": "redact", "max_files": 20000, "max_size": "1G",
                 "max_file_size": "400M" } }
JSON
)
# The task: N small files a00000..., then (BIG MiB > 0) one large file z-big, written
# whole (no hole: every byte is read, scanned, hashed and written), in /out or DIR.
TASK='import os, sys
n, big = int(sys.argv[1]), int(sys.argv[2])
top = sys.argv[3] if len(sys.argv) > 3 else "/out"
for i in range(n):
    with open("%s/a%05d" % (top, i), "w") as f:
        f.write("line %d\n" % i)
if big:
    chunk = b"0123456789abcdef" * 65536
    with open(top + "/z-big", "wb") as f:
        for _ in range(big):
            f.write(chunk)
print("task-done", flush=True)'

# ms_since START_NS: milliseconds since a `date +%s%N`.
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# left_behind NAME: what of run NAME's is still there: its cgroup, a mount, a process.
left_behind() {
	local cg
	cg=$(find /sys/fs/cgroup/"$ISO_PARENT" -mindepth 1 -type d 2>/dev/null | head -3)
	[ -n "$cg" ] && echo "cgroup: $cg"
	al_our_mounts
	pgrep -f "$AL_TMP/ws" | grep -v "^$$\$" || true
}

# interrupt NAME SIG FILES BIG WAIT_FOR [RUN OPTIONS -- TASK ARGS]: a run exporting to
# $AL_TMP/exp-NAME, signalled with SIG once the task has ended and the export has written
# WAIT_FOR in its partial directory. Sets RC, MS (from the signal to airlock's end) and
# REC (its record).
interrupt() {
	local name=$1 sig=$2 d=$AL_TMP/exp-$1 part=$AL_TMP/.exp-$1.partial i start
	local files=$3 big=$4 wait_for=$5
	local opts=(--policy "$POL")
	shift 5
	if [ $# -gt 0 ]; then
		opts=()
		while [ "$1" != -- ]; do
			opts+=("$1")
			shift
		done
		shift
	fi
	REC=$AL_TMP/$name.json
	al_run_bg "$name" --export "$d" --record "$REC" "${opts[@]}" \
		-- python3 -c "$TASK" "$files" "$big" "$@"
	RC=999 MS=999999
	for ((i = 0; i < 1200; i++)); do
		[ -e "$part/$wait_for" ] && break
		sleep 0.05
	done
	if [ ! -e "$part/$wait_for" ]; then
		al_diag <"$AL_TMP/bg-$name.err"
		return 1
	fi
	start=$(date +%s%N)
	kill -s "$sig" "$AL_BG_PID"
	al_wait_gone "$AL_BG_PID" 20
	MS=$(ms_since "$start")
	wait "$AL_BG_PID"
	RC=$?
}

# checks NAME SIG: what an interrupted export must leave.
checks() {
	local name=$1 sig=$2 num d=$AL_TMP/exp-$1
	num=$(kill -l "$sig")
	al_ok "$(grep -qx task-done "$AL_TMP/bg-$name.out"; echo $?)" \
		"$name: the task ended on its own before the signal"
	al_ok "$([ "$MS" -le 2000 ]; echo $?)" \
		"$name: SIG$sig during the export ends airlock within 2 s (${MS} ms)"
	al_is "$RC" "$((128 + num))" "$name: airlock exits 128+$num, as for a stop of its task"
	al_ok "$([ ! -e "$AL_TMP/.exp-$name.partial" ]; echo $?)" \
		"$name: what the export wrote is removed (no .DIR.partial)"
	al_is "$(find "$d" -mindepth 1 2>&1 | wc -l)" 0 "$name: DIR stays empty, as after a failed export"
	al_is "$(al_json "$REC" '"%s %s %s" % (r["exit"]["cause"], r["exit"]["code"], r["artifacts"].get("interrupted_by"))' 2>&1)" \
		"exited $((128 + num)) SIG$sig" \
		"$name: the record: the task exited, airlock $((128 + num)), the export interrupted by SIG$sig"
	al_ok "$(al_json "$REC" 'r["artifacts"]["error"]' 2>&1 | grep -q "^interrupted by SIG$sig: the export was cut short"; echo $?)" \
		"$name: artifacts.error says the export was interrupted"
	al_ok "$(grep -q "^airlock: the export to '$d' was interrupted by SIG$sig: what it wrote is removed" \
		"$AL_TMP/bg-$name.err"; echo $?)" "$name: one line on stderr says so" ||
		al_diag <"$AL_TMP/bg-$name.err"
	al_is "$(left_behind)" "" "$name: no cgroup, mount or process of the run is left"
}

# ---- a stop signal during the export ----

# SIGINT (^C) inside the copy of a 300 MiB file: cut short within a chunk.
if interrupt big INT 3000 300 z-big; then
	checks big INT
else
	al_ok 1 "big: the export of z-big started"
fi

# SIGTERM between files: 12000 small ones, signalled once the first are written.
if interrupt many TERM 12000 0 a00100; then
	checks many TERM
	al_ok "$([ "$(al_json "$AL_TMP/many.json" 'r["artifacts"].get("files", 0)')" = 0 ]; echo $?)" \
		"many: the record counts no exported file (nothing is in place)"
else
	al_ok 1 "many: the export of the small files started"
fi

# The overlay workspace's export (DIR/workspace/files/), after /out's: SIGINT inside its
# 300 MiB file.
if al_overlay_host_ok; then
	OVL=$(al_policy stop-overlay <<'JSON'
{ "version": 1, "name": "stop-overlay",
  "filesystem": { "workspace": { "mode": "overlay", "size": "512M" } },
  "artifacts": { "scan": "redact", "max_files": 20000, "max_size": "1G",
                 "max_file_size": "400M" } }
JSON
)
	mkdir -p "$AL_TMP/ovl"
	chmod 755 "$AL_TMP/ovl"
	if interrupt ovl INT 2000 300 workspace/files/z-big \
		--policy "$OVL" --workspace "$AL_TMP/ovl" -- /workspace; then
		checks ovl INT
		al_is "$(al_json "$REC" 'r["workspace_changes"]["error"]' 2>&1)" \
			"interrupted by a stop signal (artifacts.error)" \
			"ovl: workspace_changes.error says the workspace's export was interrupted"
		al_is "$(find "$AL_TMP/ovl" -mindepth 1 | wc -l)" 0 "ovl: the host workspace is untouched"
	else
		al_ok 1 "ovl: the export of the workspace's z-big started"
	fi
else
	al_skip "a stop signal during the overlay workspace's export" \
		"this kernel cannot build the overlay workspace (Linux 6.15 or later)"
fi

# The overlay workspace's change set, before any export: its walk compares a file changed
# in place with the host's whole. Here a 64 GiB sparse file on a tmpfs of the test's (its
# holes read as zeros, nothing is allocated) whose last byte the task changes: the walk
# reads 128 GiB. SIGTERM while it compares ends airlock within 2 s, while the walk, at the
# pace it had just before the signal, had more than 4 s left (else the check proves
# nothing, and fails).
# lower_fd PID: the fd of airlock PID that has the host's big file open (the walk compares
# it), or nothing.
lower_fd() {
	find -L /proc/"$1"/fd -maxdepth 1 -samefile "$AL_TMP/walk/big" -printf '%f\n' 2>/dev/null |
		head -n 1
}
# fd_pos PID FD: the offset of airlock's fd in the file (0 once it is gone).
fd_pos() {
	sed -n 's/^pos:[[:space:]]*//p' /proc/"$1"/fdinfo/"$2" 2>/dev/null || echo 0
}
if al_overlay_host_ok; then
	mkdir -p "$AL_TMP/walk"
	if mount -t tmpfs -o size=1m,mode=755 airlock-it-walk "$AL_TMP/walk" &&
		truncate -s 64G "$AL_TMP/walk/big"; then
		REC=$AL_TMP/walk.json
		al_run_bg walk --policy "$OVL" --workspace "$AL_TMP/walk" --export "$AL_TMP/exp-walk" \
			--record "$REC" -- python3 -c 'f = open("/workspace/big", "r+b")
f.seek((64 << 30) - 1); f.write(b"x"); f.close(); print("task-done", flush=True)'
		fd=
		for ((i = 0; i < 1200; i++)); do
			fd=$(lower_fd "$AL_BG_PID")
			[ -n "$fd" ] && break
			sleep 0.02
		done
		p1=$(fd_pos "$AL_BG_PID" "$fd")
		sleep 0.5
		p2=$(fd_pos "$AL_BG_PID" "$fd")
		kill -TERM "$AL_BG_PID"
		start=$(date +%s%N)
		al_wait_gone "$AL_BG_PID" 120
		MS=$(ms_since "$start")
		wait "$AL_BG_PID"
		RC=$?
		# Bytes left in the host's file over bytes per second compared just before.
		left_ms=$(((64 << 30) - p2))
		[ "$p2" -gt "$p1" ] && left_ms=$((left_ms / ((p2 - p1) * 2) * 1000))
		al_ok "$([ -n "$fd" ] && [ "$p2" -gt "$p1" ] && [ "$left_ms" -gt 4000 ] && [ "$MS" -le 2000 ]; echo $?)" \
			"walk: SIGTERM while the change set is computed ends airlock within 2 s (${MS} ms; the walk had about ${left_ms} ms left)"
		al_is "$RC" 143 "walk: airlock exits 143"
		al_is "$(al_json "$REC" '"%s %s" % (r["exit"]["code"], r["workspace_changes"]["error"])' 2>&1)" \
			"143 interrupted by a stop signal (artifacts.error)" \
			"walk: the record says the workspace's export was interrupted"
		al_is "$(find "$AL_TMP/exp-walk" -mindepth 1 2>&1 | wc -l)" 0 "walk: DIR stays empty"
		umount "$AL_TMP/walk"
		al_is "$(left_behind)" "" "walk: no cgroup, mount or process of the run is left"
	else
		al_ok 1 "walk: a tmpfs with a 64 GiB sparse file for the host workspace"
	fi
	umount "$AL_TMP/walk" 2>/dev/null
else
	al_skip "a stop signal during the overlay workspace's change-set walk" \
		"this kernel cannot build the overlay workspace (Linux 6.15 or later)"
fi

# Control: the same task unsignalled exports everything into place, exit 0.
al_run --policy "$POL" --export "$AL_TMP/exp-whole" -- python3 -c "$TASK" 3000 300
al_is "$AL_RC $(find "$AL_TMP/exp-whole" -type f | wc -l) $(stat -c %s "$AL_TMP/exp-whole/z-big" 2>&1)" \
	"0 3002 314572800" "control: unsignalled, the whole export (3000 files, z-big, manifest) is in place"
rm -rf "$AL_TMP/exp-whole"

# ---- a stop signal while the next start reaps a dead run's huge partial export ----

# last_lock: the run id of the newest run lock in the private runtime directory.
last_lock() {
	find "$AL_TMP/run/runs" -name '*.lock' -printf '%T@ %f\n' | sort -n | tail -n 1 |
		sed 's/^[^ ]* //; s/\.lock$//'
}

D=$AL_TMP/exp-dead
P=$AL_TMP/.exp-dead.partial
al_run_bg dead --policy "$POL" --export "$D" -- python3 -c 'import time; time.sleep(60)'
for ((i = 0; i < 300; i++)); do
	[ -d "$P" ] && grep -lq '"cause": "running"' "$AL_STATE"/records/*.json 2>/dev/null && break
	sleep 0.1
done
id=$(last_lock)
kill -KILL "$AL_BG_PID"
wait "$AL_BG_PID" 2>/dev/null
# What a supervisor killed in the middle of a huge export leaves: 200 000 files, or half
# the free inodes of the test's filesystem when that is fewer (the CI's guest has ~100 000).
ndirs=$(($(stat -f -c %d "$AL_TMP") / 2 / 501))
[ "$ndirs" -gt 400 ] && ndirs=400
python3 - "$P" "$ndirs" <<'EOF'
import os, sys
for d in range(int(sys.argv[2])):
    dd = os.path.join(sys.argv[1], "d%03d" % d)
    os.mkdir(dd)
    for f in range(500):
        os.close(os.open(os.path.join(dd, "f%03d" % f), os.O_CREAT | os.O_WRONLY, 0o644))
EOF
links=$(stat -c %h "$P")
al_is "$links" $((ndirs + 2)) "a dead run's partial export of $ndirs directories of 500 files each"

"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --diagnostics-fd 3 \
	-- "$PROBE" true 3>"$AL_TMP/diag-reap" >"$AL_TMP/reap.out" 2>"$AL_TMP/reap.err" </dev/null &
pid=$!
AL_PIDS+=("$pid")
# The reaping has started once the partial directory lost a directory.
for ((i = 0; i < 600; i++)); do
	[ "$(stat -c %h "$P" 2>/dev/null || echo 0)" -lt "$links" ] && break
	sleep 0.05
done
start=$(date +%s%N)
kill -TERM "$pid"
al_wait_gone "$pid" 30
ms=$(ms_since "$start")
wait "$pid"
rc=$?
al_ok "$([ "$ms" -le 2000 ]; echo $?)" "SIGTERM during the reaping ends the start within 2 s (${ms} ms)"
al_is "$rc" 125 "the start is refused (125)"
al_ok "$(grep -qx "airlock: refusing run: interrupted by SIGTERM while removing the partial export of a dead run (the rest is the next start's)" \
	"$AL_TMP/reap.err"; echo $?)" "one line says why" || al_diag <"$AL_TMP/reap.err"
al_ok "$(grep -q "stopped removing '$P', the partial export of dead run $id, at SIGTERM" \
	"$AL_TMP/diag-reap"; echo $?)" "the diagnostics say the removal stopped" ||
	al_diag <"$AL_TMP/diag-reap"
al_ok "$([ -d "$P" ] && [ -d "$D" ] && [ -e "$AL_TMP/run/runs/$id.lock" ]; echo $?)" \
	"the rest of the partial export, DIR and the dead run's lock stay for the next start"
al_is "$(al_json "$AL_STATE/records/$id.json" 'r["exit"]["cause"]' 2>&1)" running \
	"the dead run's record is not marked yet"
al_ok "$([ ! -e "$AL_TMP/reap.out" ] || ! grep -q . "$AL_TMP/reap.out"; echo $?)" \
	"the refused start ran no task"

"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --diagnostics-fd 3 \
	-- "$PROBE" true 3>"$AL_TMP/diag-reap2" >/dev/null 2>"$AL_TMP/reap2.err" </dev/null
al_is "$?" 0 "the next start runs"
al_ok "$([ ! -e "$P" ] && [ ! -e "$D" ] && [ ! -e "$AL_TMP/run/runs/$id.lock" ]; echo $?)" \
	"and removes the rest of the partial export, the empty DIR and the lock"
al_ok "$(grep -qF "removed '$P', the partial export of dead run $id" "$AL_TMP/diag-reap2"; echo $?)" \
	"and says so" || al_diag <"$AL_TMP/diag-reap2"
al_is "$(al_json "$AL_STATE/records/$id.json" 'r["exit"]["cause"]' 2>&1)" aborted \
	"the dead run's record is marked aborted"

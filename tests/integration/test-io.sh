#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The supervisor's I/O against hostile or stalled callers: a reader of airlock's output that
# never reads cannot delay the wall time deadline or SIGTERM, nor keep airlock alive past
# a bounded drain; back-pressure, the output limit and the byte counts still work; stdin
# gives the task only what the caller's fd 0 may read; --record is safe in a shared
# directory another user can write to.
. "$(dirname "$0")/lib.sh"
al_init

wall=$(al_policy wall <<'JSON'
{ "version": 1, "limits": { "wall_time": "1s" } }
JSON
)
flood='head -c 2000000 /dev/zero; sleep 100'

# Makes $AL_TMP/NAME.fifo with a reader that holds it open and never reads; sets FIFO.
stalled_fifo() { # stalled_fifo NAME
	FIFO=$AL_TMP/$1.fifo
	mkfifo "$FIFO"
	# shellcheck disable=SC2217 # it only holds the FIFO open
	sleep 60 <"$FIFO" &
	AL_PIDS+=("$!")
}

# Waits up to SECONDS for a background airlock PID; sets RC (999: it had to be killed)
# and MS, the time since T0.
wait_rc() { # wait_rc PID SECONDS
	if al_wait_gone "$1" "$2"; then
		wait "$1"
		RC=$?
	else
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		RC=999
	fi
	MS=$((($(date +%s%N) - T0) / 1000000))
}

airlock_run() {
	"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" "$@"
}

# Starts airlock in the background (not through a function: $! must be airlock itself).
airlock_bg() {
	"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" "$@" &
	BG=$!
	AL_PIDS+=("$BG")
}

# ---- A: a stalled reader delays neither the deadline nor SIGTERM ----

stalled_fifo a1
T0=$(date +%s%N)
airlock_bg --policy "$wall" --record "$AL_TMP/a1.json" -- sh -c "$flood" \
	>"$FIFO" 2>"$AL_TMP/a1.err" </dev/null
wait_rc "$BG" 8
al_is "$RC" 124 "wall time ends a task whose stdout reader stalled (${MS}ms)"
al_ok "$([ "$MS" -lt 5000 ]; echo $?)" \
	"deadline 1s + 2s drain: airlock is gone within 5s (${MS}ms)"
al_is "$(al_json "$AL_TMP/a1.json" 'r["exit"]["cause"]' 2>&1)" wall_time "record cause wall_time"
al_ok "$(al_json "$AL_TMP/a1.json" 'int(r["output"]["stdout_bytes"] >= 65536)' | grep -qx 1; echo $?)" \
	"the record counts what the task wrote before it was stopped"
al_ok "$(grep -q 'Gave up forwarding' "$AL_TMP/a1.err"; echo $?)" \
	"airlock says it gave up on the stalled reader"
[ "$RC" -eq 124 ] || al_diag <"$AL_TMP/a1.err"

# stdout and stderr into the same stalled pipe, the task flooding stderr: the
# supervisor's own log lines must not block on it either.
stalled_fifo a2
T0=$(date +%s%N)
airlock_bg --policy "$wall" -- sh -c "$flood >&2" >"$FIFO" 2>&1 </dev/null
wait_rc "$BG" 8
al_is "$RC" 124 "wall time ends a task flooding a stalled 2>&1 pipe (${MS}ms)"
al_ok "$([ "$MS" -lt 5000 ]; echo $?)" "airlock is gone within 5s (${MS}ms)"

# SIGTERM while the reader stalls.
stalled_fifo a3
airlock_bg -- sh -c "$flood" >"$FIFO" 2>"$AL_TMP/a3.err" </dev/null
# Signal it once the task runs (its record says "running") and the pipe is full.
for ((i = 0; i < 100; i++)); do
	grep -qs '"running"' "$AL_STATE"/records/*.json && break
	sleep 0.1
done
sleep 0.5
T0=$(date +%s%N)
kill -TERM "$BG"
wait_rc "$BG" 10
al_ok "$([ "$RC" -ne 999 ] && [ "$MS" -lt 8000 ]; echo $?)" \
	"SIGTERM ends a run whose stdout reader stalled (exit $RC, ${MS}ms)"
al_ok "$(grep -q 'received SIGTERM, stopping the task' "$AL_TMP/a3.err"; echo $?)" "airlock handled the SIGTERM"

# A socket on stdout whose peer never reads (written with MSG_DONTWAIT).
sock=$(python3 - "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --policy "$wall" \
	-- sh -c "$flood" <<'PY'
import socket, subprocess, sys, time
a, b = socket.socketpair()
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=a, stderr=subprocess.DEVNULL)
a.close()
try:
    rc = p.wait(timeout=8)
except subprocess.TimeoutExpired:
    p.kill()
    p.wait()
    rc = 999
print(rc, int((time.monotonic() - t0) * 1000))
PY
)
read -r rc ms <<<"$sock"
al_ok "$([ "$rc" = 124 ] && [ "$ms" -lt 5000 ]; echo $?)" \
	"wall time ends a task whose stdout socket peer stalled (exit $rc, ${ms}ms)"

# Back-pressure: a slow reader still gets every byte, in order, and the task waits for it.
T0=$(date +%s%N)
n=$(airlock_run --record "$AL_TMP/a5.json" -- "$PROBE" output 3000000 </dev/null 2>/dev/null |
	(sleep 1.5; cat) | wc -c)
al_is "$n" 3000000 "a reader that starts late gets all 3000000 bytes"
al_is "$(al_json "$AL_TMP/a5.json" 'r["exit"]["cause"], r["output"]["stdout_bytes"]' 2>&1)" \
	"('exited', 3000000)" "record: exited, 3000000 stdout bytes"

# A task that ended before its deadline is not reported as timed out while a late
# reader drains its last output.
n=$(airlock_run --policy "$wall" --record "$AL_TMP/a6.json" -- "$PROBE" output 100000 \
	</dev/null 2>/dev/null | (sleep 1.5; cat) | wc -c)
al_is "$n" 100000 "the last output reaches a reader that is 1.5s late"
al_is "$(al_json "$AL_TMP/a6.json" 'r["exit"]["cause"]' 2>&1)" exited \
	"the deadline passing during the drain does not make it a timeout"

# The output limit and its marker with both streams on pipes (the non-blocking path).
out=$(al_policy output <<'JSON'
{ "version": 1, "limits": { "output": "64K" } }
JSON
)
(airlock_run --policy "$out" --record "$AL_TMP/a7.json" -- "$PROBE" output 1000000 </dev/null |
	cat >"$AL_TMP/a7.out") 2>&1 | cat >"$AL_TMP/a7.err"
al_is "$(wc -c <"$AL_TMP/a7.out")" 65536 "output through a pipe is cut at 64K"
al_ok "$(grep -qx '\[airlock: output truncated at 65536 bytes\]' "$AL_TMP/a7.err"; echo $?)" \
	"the truncation marker reaches stderr through a pipe"
al_is "$(al_json "$AL_TMP/a7.json" 'r["output"]["truncated"], r["output"]["stdout_bytes"]' 2>&1)" \
	"(True, 1000000)" "record: truncated, and counts every byte the task wrote"

# Cut in the middle of a stdout line, after a whole stderr line: stdout gets the newline it
# lacks, stderr no blank line before the marker.
out2=$(al_policy output2 <<'JSON'
{ "version": 1, "limits": { "output": "2K" } }
JSON
)
airlock_run --policy "$out2" -- sh -c 'echo before >&2; sleep 0.5; head -c 3000 /dev/zero | tr "\0" x' \
	</dev/null >"$AL_TMP/a8.out" 2>"$AL_TMP/a8.err"
al_is "$(cat "$AL_TMP/a8.err")" "before
[airlock: output truncated at 2048 bytes]" "no blank line on stderr before the marker"
al_is "$(wc -c <"$AL_TMP/a8.out")|$(tail -c 2 "$AL_TMP/a8.out" | od -An -c | tr -d ' ')" \
	"2042|x\n" "stdout: its 2041 bytes within the limit, then the newline it lacked"
airlock_run --policy "$out2" -- sh -c 'printf half >&2; sleep 0.5; head -c 3000 /dev/zero | tr "\0" x' \
	</dev/null >/dev/null 2>"$AL_TMP/a9.err"
al_is "$(cat "$AL_TMP/a9.err")" "half
[airlock: output truncated at 2048 bytes]" "a stderr line left open gets its newline before the marker"

# ---- B: stdin gives the task only what the caller's fd 0 may read ----

secret=$AL_TMP/secret
echo "top secret" >"$secret"
chmod 600 "$secret"
airlock_run -- cat 0>>"$secret" >"$AL_TMP/b1.out" 2>&1
al_ok "$(! grep -q secret "$AL_TMP/b1.out"; echo $?)" "a write-only stdin is not read for the task"
python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_PATH)
os.dup2(fd, 0)
os.execv(sys.argv[2], sys.argv[2:])' "$secret" "$AIRLOCK" run --state-dir "$AL_STATE" \
	--workspace "$AL_WS" -- cat >"$AL_TMP/b2.out" 2>&1
al_ok "$(! grep -q secret "$AL_TMP/b2.out"; echo $?)" "an O_PATH stdin is not read for the task"
printf 'line1\nline2\nline3\n' >"$AL_TMP/lines"
{
	read -r _
	airlock_run -- cat >"$AL_TMP/b3.out" 2>&1
} <"$AL_TMP/lines"
al_is "$(tr '\n' ' ' <"$AL_TMP/b3.out")" "line2 line3 " "a readable stdin file keeps the caller's offset"
airlock_run -- sh -c 'echo pwned >&0' 0<>"$secret" >/dev/null 2>&1
al_is "$(cat "$secret")" "top secret" "a read-write stdin file is read-only for the task"

# A terminal as the caller's stdin, stdout and controlling tty never reaches the task. CI
# has no terminal: the test makes its own pty (python3's pty module) and proves with a
# control run without airlock that the same command does see it there.
cat >"$AL_TMP/on-a-pty.py" <<'PY'
import fcntl, os, pty, subprocess, sys, termios
m, s = pty.openpty()
def ctty():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen(sys.argv[1:], stdin=s, stdout=s, stderr=subprocess.DEVNULL,
                     preexec_fn=ctty)
os.close(s)
out = b""
while True:
    try:
        d = os.read(m, 4096)
    except OSError:  # EIO once the last holder of the pty's other end is gone
        break
    if not d:
        break
    out += d
print(" ".join(out.decode(errors="replace").split()), p.wait())
PY
tty_check='[ -t 0 ] && echo in-tty || echo in-notty; [ -t 1 ] && echo out-tty || echo out-notty
	(exec 3</dev/tty) 2>/dev/null && echo ctty || echo no-ctty'
al_is "$(timeout 20 python3 "$AL_TMP/on-a-pty.py" /bin/sh -c "$tty_check")" "in-tty out-tty ctty 0" \
	"control: on a pty the command sees a terminal on stdin, stdout and /dev/tty"
al_is "$(timeout 20 python3 "$AL_TMP/on-a-pty.py" "$AIRLOCK" run --state-dir "$AL_STATE" \
	--workspace "$AL_WS" -- /bin/sh -c "$tty_check")" "in-notty out-notty no-ctty 0" \
	"a caller's terminal is never handed to the task (stdin, stdout, controlling tty)"

# ---- C: --record in a directory other users can write to ----

shared=$AL_TMP/shared
mkdir -m 1777 "$shared"
mkfifo "$shared/fifo.json.tmp"
touch "$shared/theirs.json.tmp"
chmod 666 "$shared/theirs.json.tmp"
chown nobody "$shared/fifo.json.tmp" "$shared/theirs.json.tmp"
timeout -s KILL 5 "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" \
	--record "$shared/fifo.json" -- true </dev/null >/dev/null 2>&1
al_is "$?" 0 "a FIFO planted at the old temporary name does not hang the record"
timeout -s KILL 5 "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" \
	--record "$shared/theirs.json" -- true </dev/null >/dev/null 2>&1
al_is "$?" 0 "a file planted at the old temporary name does not fail the record"
al_is "$(stat -c '%F %U %a' "$shared/fifo.json" "$shared/theirs.json" 2>&1 | tr '\n' ' ')" \
	"regular file root 640 regular file root 640 " "records are root's own regular files, 0640"
al_is "$(stat -c '%U %s' "$shared/theirs.json.tmp")" "nobody 0" "the planted file was not written"
al_is "$(al_json "$shared/theirs.json" 'r["exit"]["cause"]' 2>&1)" exited "the record is complete"
al_is "$(find "$shared" -name '.airlock-record-*' | wc -l)" 0 "no temporary file is left behind"

# The final record's file is made while the task runs and renamed by name at the end: a
# file swapped in under that name meanwhile must not become the record. The task lives long
# enough for the swap to land before its end even in the slow cgroup v2 guest.
al_run_bg swap -- sh -c 'sleep 6'
swap_pid=$AL_BG_PID
draft=
for _ in $(seq 50); do
	draft=$(find "$AL_STATE/records" -name '.airlock-record-*.tmp' | head -n 1)
	[ -n "$draft" ] && break
	sleep 0.1
done
if [ -n "$draft" ]; then
	run_id=${draft##*/.airlock-record-}
	run_id=${run_id%.tmp}
	echo '{"forged": true}' >"$draft.new"
	mv -f "$draft.new" "$draft"
	wait "$swap_pid"
	rc=$?
	al_is "$rc" 125 "a swapped final-record file fails the run's record (exit 125)"
	al_ok "$(! grep -q forged "$AL_STATE/records/$run_id.json" 2>/dev/null; echo $?)" \
		"the swapped file did not become the record"
	rm -f "$draft"
else
	wait "$swap_pid"
	al_ok 1 "the running supervisor prepared its final record's file"
fi

# ---- the caller's pipe ----

# A caller's stdout pipe of 64 KiB is grown to 1 MiB: a fast task waits for its reader 16
# times less often. The reader asks its own end, after airlock has run.
size=$("$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- "$PROBE" true </dev/null |
	python3 -c 'import fcntl, sys; sys.stdin.read(); print(fcntl.fcntl(0, 1032))') # F_GETPIPE_SZ
al_is "$size" 1048576 "the caller's stdout pipe holds 1 MiB once airlock ran"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Nothing outlives a run: no process, namespace or mount, whether the task exits, leaves a
# daemon behind, or airlock itself is stopped by SIGTERM or killed with SIGKILL.
. "$(dirname "$0")/lib.sh"
al_init

mounts_before=$(al_our_mounts)

# expect_gone DESCRIPTION FILE: the namespaces the probe printed into FILE are all gone.
expect_gone() {
	local ns holders i
	mapfile -t ns < <(al_ns_from_probe <"$2")
	if [ ${#ns[@]} -lt 7 ]; then
		al_ok 1 "$1 (the probe did not report its namespaces)"
		sed 's/^/out: /' "$2" | head -20 | al_diag
		return
	fi
	for ((i = 0; i < 30; i++)); do
		holders=$(al_ns_holders "${ns[@]}")
		[ -z "$holders" ] && break
		sleep 0.1
	done
	al_is "$holders" "" "$1"
}

# A task that leaves a detached daemon behind.
al_run -- /bin/sh -c "$PROBE ns; $PROBE daemon 60; echo daemon-started"
al_ok "$(echo "$AL_OUT" | grep -qx daemon-started; echo $?)" "a task can start a daemon"
echo "$AL_OUT" >"$AL_TMP/daemon.ns"
expect_gone "the daemon and every namespace are gone when the task exits" "$AL_TMP/daemon.ns"

# SIGTERM to airlock ends the task and airlock.
al_run_bg term -- /bin/sh -c "$PROBE ns; exec $PROBE sleep 60"
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-term.out" '^ns cgroup' 10; then
	start=$(date +%s%N)
	kill -TERM "$pid"
	al_wait_gone "$pid" 5
	al_ok $? "SIGTERM ends airlock within 5s ($((($(date +%s%N) - start) / 1000000))ms)"
	wait "$pid"
	rc=$?
	al_ok "$([ "$rc" -ne 0 ]; echo $?)" "airlock reports the interrupted run as a failure (exit $rc)"
	expect_gone "after SIGTERM no task process or namespace remains" "$AL_TMP/bg-term.out"
else
	al_ok 1 "the task started (for SIGTERM)"
	sed 's/^/err: /' "$AL_TMP/bg-term.err" | al_diag
fi

# SIGINT as well.
al_run_bg int -- /bin/sh -c "$PROBE ns; exec $PROBE sleep 60"
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-int.out" '^ns cgroup' 10; then
	kill -INT "$pid"
	al_wait_gone "$pid" 5
	al_ok $? "SIGINT ends airlock within 5s"
	wait "$pid"
	al_is "$?" 130 "the task got the SIGINT itself and died of it: exit 130, as without airlock"
	expect_gone "after SIGINT no task process or namespace remains" "$AL_TMP/bg-int.out"
else
	al_ok 1 "the task started (for SIGINT)"
fi

# A task that handles ^C sees SIGINT (not SIGTERM) and decides its own exit.
al_run_bg int-trap -- /bin/sh -c 'trap "echo got-INT; exit 7" INT; trap "echo got-TERM; exit 8" TERM
	echo ready; while :; do sleep 0.05; done'
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-int-trap.out" '^ready' 10; then
	kill -INT "$pid"
	al_wait_gone "$pid" 5
	wait "$pid"
	rc=$?
	al_is "$rc $(tr '\n' ' ' <"$AL_TMP/bg-int-trap.out")" "7 ready got-INT " \
		"a task trapping INT and TERM gets SIGINT for a SIGINT to airlock, exits as it chose"
else
	al_ok 1 "the task started (for a trapped SIGINT)"
fi

# A task that ignores ^C is killed after the grace period; the warning names the signal it
# was given, SIGINT, not SIGTERM.
al_run_bg int-ignored -- /bin/sh -c 'trap "" INT; echo ready; while :; do sleep 0.05; done'
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-int-ignored.out" '^ready' 10; then
	kill -INT "$pid"
	al_wait_gone "$pid" 10
	wait "$pid"
	rc=$?
	al_is "$rc $(grep -c 'task did not end within 5000 ms of SIGINT, killing it' \
		"$AL_TMP/bg-int-ignored.err")" "137 1" \
		"a task ignoring SIGINT is killed after the grace period, and the warning names SIGINT"
else
	al_ok 1 "the task started (for an ignored SIGINT)"
fi

# ^C typed on a real terminal: the terminal sends SIGINT to airlock (its foreground
# process group); the task, which never holds that terminal, gets it from airlock.
cat >"$AL_TMP/ctrl-c.py" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, sent, end = b"", False, time.time() + 20
while time.time() < end:
    if not sent and b"ready" in out:
        time.sleep(0.2)
        os.write(fd, b"\x03")  # ^C: the line discipline's VINTR
        sent = True
    if select.select([fd], [], [], 0.1)[0]:
        try:
            d = os.read(fd, 4096)
        except OSError:  # EIO: the last holder of the other end is gone
            break
        if not d:
            break
        out += d
st = os.waitpid(pid, 0)[1]
print(" ".join(l for l in out.decode(errors="replace").split("\r\n") if l.startswith("got-")),
      os.waitstatus_to_exitcode(st))
PY
al_is "$(timeout 30 python3 "$AL_TMP/ctrl-c.py" "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" \
	-- /bin/sh -c 'trap "echo got-INT; exit 5" INT; echo ready; while :; do sleep 0.05; done')" "got-INT 5" \
	"^C on the caller's terminal reaches the task as SIGINT, and its exit code is airlock's"

# ---- other signals are passed on, and stop nothing by themselves ----

# SIGUSR1 reaches the task, which goes on; airlock keeps running and ends with the task.
al_run_bg usr1 --record "$AL_TMP/usr1.json" -- /bin/sh -c 'trap "touch /tmp/usr1" USR1
	echo ready; while [ ! -e /tmp/usr1 ]; do sleep 0.05; done; sleep 0.3; echo after-USR1; exit 3'
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-usr1.out" '^ready' 10; then
	kill -USR1 "$pid"
	al_wait_gone "$pid" 10
	wait "$pid"
	rc=$?
	al_is "$rc $(tr '\n' ' ' <"$AL_TMP/bg-usr1.out")" "3 ready after-USR1 " \
		"SIGUSR1 to airlock reaches the task, which handles it and exits on its own (3)"
	al_is "$(al_json "$AL_TMP/usr1.json" 'r["exit"]["cause"]')" exited \
		"the record says the task exited, not that the run was interrupted"
else
	al_ok 1 "the task started (for SIGUSR1)"
	sed 's/^/err: /' "$AL_TMP/bg-usr1.err" | al_diag
fi

# A signal the task does not handle ends it as it would without airlock (128 + N), and
# airlock cleans up: before, SIGUSR2, SIGALRM or a real-time signal killed airlock itself
# and left the sandbox's cgroup and records behind.
for sig in USR2 ALRM RTMIN+3; do
	num=$(kill -l "$sig")
	al_run_bg "sig$num" --record "$AL_TMP/sig$num.json" -- /bin/sh -c "$PROBE ns; exec $PROBE sleep 60"
	pid=$AL_BG_PID
	if al_wait_for "$AL_TMP/bg-sig$num.out" '^ns cgroup' 10; then
		kill -s "$sig" "$pid"
		al_wait_gone "$pid" 5
		wait "$pid"
		rc=$?
		al_is "$rc $(al_json "$AL_TMP/sig$num.json" '"%s %s" % (r["exit"]["cause"], r["exit"].get("signal"))')" \
			"$((128 + num)) signaled $num" "SIG$sig: the task died of it, airlock exits $((128 + num)) and records it"
		expect_gone "after SIG$sig no task process or namespace remains" "$AL_TMP/bg-sig$num.out"
	else
		al_ok 1 "the task started (for SIG$sig)"
		sed 's/^/err: /' "$AL_TMP/bg-sig$num.err" | al_diag
	fi
done

# kill -9 of airlock mid-run: its children must not survive it.
al_run_bg kill -- /bin/sh -c "$PROBE ns; $PROBE daemon 60; exec $PROBE sleep 60"
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-kill.out" '^ns cgroup' 10; then
	sleep 0.3
	pidns=$(al_ns_from_probe <"$AL_TMP/bg-kill.out" | grep '^pid:')
	inside=$(al_pids_in_ns "$pidns" | wc -l)
	al_ok "$([ "$inside" -ge 3 ]; echo $?)" "the host sees the sandbox processes ($inside)"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	expect_gone "after kill -9 of airlock no task process or namespace remains" \
		"$AL_TMP/bg-kill.out"
	al_pids_in_ns "$pidns" | while read -r p; do
		echo "survivor: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done | al_diag
else
	al_ok 1 "the task started (for kill -9)"
fi

al_is "$(al_our_mounts)" "$mounts_before" "no mount of any run is left on the host"
al_run -- "$PROBE" true
al_is "$AL_RC" 0 "airlock still runs tasks after a killed run"

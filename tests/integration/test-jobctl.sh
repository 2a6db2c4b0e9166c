#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Job control: ^Z on the caller's terminal, or SIGTSTP to airlock, stops the whole job, the
# task included (it runs in a session of its own and never gets the terminal's signals); fg
# or SIGCONT resumes it. A stopped run still ends cleanly on SIGTERM and at its wall time.
. "$(dirname "$0")/lib.sh"
al_init
al_need unshare
# Runs here are stopped, killed and checked for leftovers: in a runtime directory and a
# cgroup parent of the test's own, no other airlock reaps them or is reaped.
al_isolate jobctl

pol=$(al_policy rw <<'JSON'
{ "version": 1, "name": "rw", "filesystem": { "workspace": { "mode": "rw" } } }
JSON
)
# A task that appends a counter to /workspace/count every 0.1 s, 40 times, then exits 3.
COUNTER='i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo $i >>/workspace/count; sleep 0.1; done; exit 3'
count() { wc -l <"$AL_RWWS/count" 2>/dev/null || echo 0; }

# The run's cgroup directories, below the test's own parent (one run at a time).
run_cgroups() { find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path "*/$ISO_PARENT/*"; }

# held: how the run's freezer holds it: "FROZEN" (v1 freezer.state), "frozen 1" (v2), or
# "no freezer".
held() {
	local d
	# A v1 freezer directory first: a hybrid host's unified directory has cgroup.freeze too.
	for d in $(run_cgroups); do
		[ -f "$d/freezer.state" ] && { cat "$d/freezer.state"; return; }
	done
	for d in $(run_cgroups); do
		[ -f "$d/cgroup.freeze" ] && { grep '^frozen' "$d/cgroup.events"; return; }
	done
	echo "no freezer"
}

# proc_state PID: the one-letter state of PID ("T": stopped).
proc_state() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1; }

# (Under set -m, bash turns a function's status to 1 while a job is stopped: the callers
# check the state itself afterwards.)
wait_state() { # wait_state PID STATE SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(proc_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

wait_count() { # wait_count N SECONDS: until the counter reaches N
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(count)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- ^Z and fg typed in an interactive shell on a real terminal ----

# The shell runs airlock as a foreground job; ^Z goes to airlock's process group only.
cat >"$AL_TMP/job.py" <<'PY'
import os, pty, re, select, shlex, sys, time
mode, count, cmd = sys.argv[1], sys.argv[2], shlex.join(sys.argv[3:])
pid, fd = pty.fork()
if pid == 0:
    os.environ["PS1"] = "$ "
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
out = b""
def pump(t):
    global out
    end = time.time() + t
    while time.time() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
def lines():
    try:
        return sum(1 for _ in open(count))
    except FileNotFoundError:
        return 0
def wait(cond, t):
    end = time.time() + t
    while time.time() < end:
        if cond():
            return True
        pump(0.1)
    return False
if mode == "ctrl-z":  # a foreground job, stopped with ^Z
    os.write(fd, (cmd + "\n").encode())
    print("started", wait(lambda: lines() >= 3, 20))
    os.write(fd, b"\x1a")  # ^Z: the line discipline's VSUSP
else:  # a background job that reads the terminal: stopped by SIGTTIN
    # posix: the shell names the stop signal ("Stopped(SIGTTIN)")
    os.write(fd, ("set -b -o posix; " + cmd + " &\n").encode())
    print("started", wait(lambda: lines() >= 3, 20))
    # Input typed while a foreground command that does not read runs: it waits in the
    # terminal, readable for airlock, whose read is refused there (background).
    os.write(fd, b"sleep 2\n")
    pump(0.5)
    os.write(fd, b":\n")
print("shell-says-stopped", wait(lambda: b"Stopped" in out, 10))
pump(0.3)
a = lines()
pump(1.5)
b = lines()
print("counter-held", a == b, a, b)
os.write(fd, b"fg; echo rc=$?\n")  # fg waits for the job, then its status
print("counter-resumed", wait(lambda: lines() > b, 10))
if mode == "bg-read":
    pump(0.3)
    os.write(fd, b"hello\n")  # airlock now reads its terminal in the foreground
wait(lambda: re.search(rb"rc=\d+", out), 30)
m = re.search(rb"rc=(\d+)", out)
print("rc", m.group(1).decode() if m else "none")
print("task-read", "got-hello" in out.decode(errors="replace"))
print("shell-said", " ".join(sorted(set(re.findall(r"Stopped\(\w+\)|Stopped", out.decode(errors="replace"))))))
os.write(fd, b"exit\n")
pump(0.5)
os.kill(pid, 9)
os.waitpid(pid, 0)
PY
rm -f "$AL_RWWS/count"
res=$(timeout 90 python3 "$AL_TMP/job.py" ctrl-z "$AL_RWWS/count" "$AIRLOCK" run --state-dir "$AL_STATE" \
	--policy "$pol" --workspace "$AL_RWWS" --record "$AL_TMP/ctrl-z.json" -- /bin/sh -c "$COUNTER")
echo "$res" | al_diag
al_is "$(echo "$res" | grep -E '^(started|shell-says-stopped)' | tr '\n' ' ')" \
	"started True shell-says-stopped True " "^Z on the terminal: the shell reports the job stopped"
al_is "$(echo "$res" | awk '/^counter-held/ { print $2 }')" True \
	"^Z stops the task too: its counter does not advance while the job is stopped"
al_is "$(echo "$res" | awk '/^counter-resumed/ { print $2 }')" True "fg resumes the task"
al_is "$(echo "$res" | awk '/^rc/ { print $2 }')" 3 "the task ends as it chose: exit 3, airlock's status"
al_is "$(al_json "$AL_TMP/ctrl-z.json" '"%s %s %s" % (r["exit"]["cause"], r["job_control"]["stops"],
	r["job_control"]["stopped_ms"] >= 1500)' 2>&1)" "exited 1 True" \
	"the record counts the stop and its length (at least the 1.5 s held)"

# A background job whose airlock reads the terminal (its stdin) stops as `cat &` does
# (SIGTTIN), the task held too; fg lets it read what is typed. airlock gets
# EIO there (SIGTTIN is blocked) and stops the job itself.
rm -f "$AL_RWWS/count"
res=$(timeout 90 python3 "$AL_TMP/job.py" bg-read "$AL_RWWS/count" "$AIRLOCK" run --state-dir "$AL_STATE" \
	--policy "$pol" --workspace "$AL_RWWS" --record "$AL_TMP/bg-read.json" -- /bin/sh -c \
	'(while :; do echo x >>/workspace/count; sleep 0.1; done) & read -r x; echo "got-$x"; kill $!; exit 4')
echo "$res" | al_diag
al_is "$(echo "$res" | awk '/^shell-says-stopped/ { print $2 } /^shell-said/ { $1 = ""; print }' | tr '\n' ' ')" \
	"True  Stopped(SIGTTIN) " "a background run reading the terminal stops as SIGTTIN stops a job"
al_is "$(echo "$res" | awk '/^counter-held|^counter-resumed/ { print $2 }' | tr '\n' ' ')" "True True " \
	"its task is held meanwhile, and goes on after fg"
al_is "$(echo "$res" | awk '/^rc|^task-read/ { print $2 }' | tr '\n' ' ')" "4 True " \
	"in the foreground the task reads what was typed, and ends as it chose (4)"
al_is "$(al_json "$AL_TMP/bg-read.json" 'r["job_control"]["stops"]' 2>&1)" 1 "the record counts that stop"

# ---- SIGTSTP and SIGCONT sent with kill ----

# A job of its own (set -m): its process group is not orphaned, so a stop signal stops it.
set -m
rm -f "$AL_RWWS/count"
al_run_bg tstp --policy "$pol" --workspace "$AL_RWWS" --record "$AL_TMP/tstp.json" \
	-- /bin/sh -c "$COUNTER"
pid=$AL_BG_PID
if wait_count 3 20; then
	kill -TSTP "$pid"
	wait_state "$pid" T 5
	al_is "$(proc_state "$pid")" T "kill -TSTP stops airlock"
	state=$(held)
	case "$state" in FROZEN | "frozen 1") rc=0 ;; *) rc=1 ;; esac
	al_ok $rc "the task is held by the run's cgroup freezer ($state)"
	sleep 0.3
	a=$(count)
	sleep 1.5
	b=$(count)
	al_is "$b" "$a" "the task's counter does not advance while airlock is stopped"
	kill -CONT "$pid"
	wait_count $((b + 1)) 10
	al_ok "$([ "$(count)" -gt "$b" ]; echo $?)" "kill -CONT resumes the task ($(count) > $b)"
	al_is "$(held)" "$([ "$state" = FROZEN ] && echo THAWED || echo 'frozen 0')" \
		"the run's cgroup is thawed"
	al_wait_gone "$pid" 30
	wait "$pid"
	al_is "$?" 3 "the run ends as the task chose (exit 3)"
	al_is "$(al_json "$AL_TMP/tstp.json" '"%s %s" % (r["job_control"]["stops"], r["job_control"]["held_by"])')" \
		"1 freezer" "the record says the task was held once, by the freezer"
else
	al_ok 1 "the task started (for SIGTSTP)"
	sed 's/^/err: /' "$AL_TMP/bg-tstp.err" | al_diag
fi

# ---- SIGTERM while stopped: the run ends, nothing stays frozen ----

al_run_bg term --record "$AL_TMP/term.json" -- /bin/sh -c "$PROBE ns; exec $PROBE sleep 60"
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-term.out" '^ns cgroup' 10; then
	kill -TSTP "$pid"
	wait_state "$pid" T 5
	state=$(held)
	# What the shell's `kill %1` does for a stopped job: the signal, then SIGCONT.
	kill -TERM "$pid"
	kill -CONT "$pid"
	al_wait_gone "$pid" 10
	al_ok "$(! kill -0 "$pid" 2>/dev/null; echo $?)" "SIGTERM to the stopped job ends it (task held: $state)"
	wait "$pid"
	al_is "$?" 143 "the task got the SIGTERM and died of it (exit 143)"
	al_is "$(run_cgroups)" "" "no cgroup of the run is left, frozen or not"
	pidns=$(al_ns_from_probe <"$AL_TMP/bg-term.out" | grep '^pid:')
	al_is "$(al_ns_holders "$pidns")" "" "no process of the task is left"
else
	al_ok 1 "the task started (for SIGTERM while stopped)"
	sed 's/^/err: /' "$AL_TMP/bg-term.err" | al_diag
fi

# ---- the wall time counts while stopped ----

wall=$(al_policy wall <<'JSON'
{ "version": 1, "name": "wall", "limits": { "wall_time": "3s" } }
JSON
)
al_run_bg wall --policy "$wall" --record "$AL_TMP/wall.json" -- /bin/sh -c "echo ready; exec $PROBE sleep 60"
pid=$AL_BG_PID
start=$(date +%s%N)
if al_wait_for "$AL_TMP/bg-wall.out" '^ready' 10; then
	kill -TSTP "$pid"
	wait_state "$pid" T 5
	al_is "$(proc_state "$pid")" T "the job is stopped before its wall time"
	# Nobody continues it: the deadline itself must end the run.
	al_wait_gone "$pid" 15
	al_ok "$(! kill -0 "$pid" 2>/dev/null; echo $?)" "a stopped run still ends at its wall time ($((($(date +%s%N) - start) / 1000000)) ms)"
	# Still stopped (the case failed): end it cleanly, so that its cgroups go with it.
	kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" && kill -CONT "$pid" && al_wait_gone "$pid" 10
	wait "$pid"
	al_is "$?" 124 "exit 124, as at any wall time"
	al_is "$(al_json "$AL_TMP/wall.json" '"%s %s %s" % (r["exit"]["cause"], r["job_control"]["stops"],
		r["job_control"]["stopped_ms"] >= 1500)' 2>&1)" "wall_time 1 True" \
		"the record: wall_time, and the stop that lasted until the deadline"
	al_is "$(run_cgroups)" "" "no cgroup of the run is left"
else
	al_ok 1 "the task started (for the wall time)"
	sed 's/^/err: /' "$AL_TMP/bg-wall.err" | al_diag
fi
set +m

al_run -- "$PROBE" true
al_is "$AL_RC" 0 "airlock still runs tasks afterwards"

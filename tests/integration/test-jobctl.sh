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
# Modes: ctrl-z, kill (^Z, then `kill %1`), setup (^Z while airlock waits for a credential
# the caller writes to the FIFO only later), bg-read, bg-write (a background job, tostop).
cp "$AIRLOCK_SRC/tests/integration/pty_drive.py" "$AL_TMP/"
cat >"$AL_TMP/job.py" <<'PY'
import glob, os, re, shlex, sys, time
import pty_drive
mode, count, fifo, cmd = sys.argv[1], sys.argv[2], sys.argv[3], shlex.join(sys.argv[4:])
started_file = os.path.join(os.path.dirname(count), "started")
term = pty_drive.spawn(["bash", "--norc", "--noprofile", "-i"], {"PS1": "$ "},
                       transcript=os.environ.get("JOB_TRANSCRIPT"))
def lines():
    try:
        with open(count) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0
if mode in ("ctrl-z", "kill"):  # a foreground job, stopped with ^Z
    term.send(cmd + "\n")
    print("started", term.wait(lambda: lines() >= 3, 20))
    term.send(b"\x1a")  # ^Z: the line discipline's VSUSP
elif mode in ("setup", "setup-kill"):  # ^Z while airlock waits for the caller's credential
    term.send(cmd + "\n")
    term.pump(1.5)
    print("started", lines() == 0)
    term.send(b"\x1a")
    term.pump(0.5)
    with open(fifo, "w") as f:  # the caller has the value now
        f.write("value-of-the-caller")
elif mode.startswith("bg-write"):  # a background job writing to the terminal, with tostop
    term.send("stty tostop; set -b -o posix; " + cmd + " &\n")
    print("started", term.wait(lambda: lines() >= 3, 20))
else:  # a background job that reads the terminal: stopped by SIGTTIN
    # posix: the shell names the stop signal ("Stopped(SIGTTIN)")
    term.send("set -b -o posix; " + cmd + " &\n")
    print("started", term.wait(lambda: lines() >= 3, 20))
    # Input typed while a foreground command that does not read runs: it waits in the
    # terminal, readable for airlock, whose read is refused there (background).
    term.send(b"sleep 2\n")
    term.pump(0.5)
    term.send(b":\n")
print("shell-says-stopped", bool(term.expect(rb"Stopped", 15)))
term.pump(0.3)
a = lines()
term.pump(1.5)
b = lines()
print("counter-held", a == b, a, b)
print("task-not-started", not os.path.exists(started_file))
print("output-held", not term.said(rb"said-42"))
# The processes in the run's cgroups (JOB_CGROUPS: the test's cgroup parent).
parent = os.environ["JOB_CGROUPS"]
members = set()
for pat in ("/sys/fs/cgroup/*/%s/**/cgroup.procs", "/sys/fs/cgroup/%s/**/cgroup.procs"):
    for f in glob.glob(pat % parent, recursive=True):
        members |= set(open(f).read().split())
print("members", len(members))
# The status the shell reports for a job that ended: "Exit 143" ("Done(143)" in posix mode).
EXIT = rb"(?:Exit |Done\()(\d+)"
if mode in ("kill", "setup-kill", "bg-write-kill"):
    # What `kill %1` does for a stopped job: SIGTERM, then SIGCONT. set -b: the shell
    # reports the job's end at once ("Exit 143": airlock exits with the task's 128+N).
    term.send(b"set -b; kill %1\n")
    m = term.expect(EXIT, 30)
    print("shell-says-exit", m.group(1).decode() if m else "none")
    term.pump(0.5)
    print("after-kill", lines() == b, lines())
elif mode == "bg-write-wait":  # nobody continues it: only its wall time can end it
    m = term.expect(EXIT, 30)
    print("shell-says-exit", m.group(1).decode() if m else "none")
else:
    fg_at = time.time()
    term.send(b"fg; echo rc=$?\n")  # fg waits for the job, then its status
    print("counter-resumed", term.wait(lambda: lines() > b, 10))
    if os.path.exists(started_file):
        print("started-after-fg", float(open(started_file).read()) >= fg_at)
if mode == "bg-read":
    term.pump(0.3)
    term.send(b"hello\n")  # airlock now reads its terminal in the foreground
if mode in ("ctrl-z", "bg-read", "setup", "bg-write"):
    term.expect(rb"rc=\d+", 30)
m = term.said(rb"rc=(\d+)")
out = term.out.decode(errors="replace")
print("rc", m.group(1).decode() if m else "none")
print("task-read", "got-hello" in out)
print("output-after", "said-42" in out)
print("shell-said", " ".join(sorted(set(re.findall(r"Stopped\(\w+\)|Stopped", out)))))
term.send(b"exit\n")
term.pump(0.5)
term.close()
PY
# job MODE NAME -- CMD...: runs airlock in the rw workspace through job.py, record NAME.json;
# with JOB_POL as its policy (default $pol), and JOB_CRED as a --credential when set.
job() {
	local mode=$1 name=$2
	shift 3
	rm -f "$AL_RWWS/count" "$AL_RWWS/started"
	JOB_CGROUPS=$ISO_PARENT JOB_TRANSCRIPT=$AL_TMP/$name.pty timeout 90 python3 "$AL_TMP/job.py" "$mode" "$AL_RWWS/count" "$AL_TMP/cred.fifo" \
		"$AIRLOCK" run --state-dir "$AL_STATE" --policy "${JOB_POL:-$pol}" --workspace "$AL_RWWS" \
		--record "$AL_TMP/$name.json" ${JOB_CRED:+--credential "$JOB_CRED"} -- "$@"
}
# field RES KEY: the value(s) job.py printed after KEY.
field() { echo "$1" | awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print }'; }

res=$(job ctrl-z ctrl-z -- /bin/sh -c "$COUNTER")
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
res=$(job bg-read bg-read -- /bin/sh -c \
	'(while :; do echo x >>/workspace/count; sleep 0.1; done) & read -r x; echo "got-$x"; kill $!; exit 4')
echo "$res" | al_diag
al_is "$(echo "$res" | awk '/^shell-says-stopped/ { print $2 } /^shell-said/ { $1 = ""; print }' | tr '\n' ' ')" \
	"True  Stopped(SIGTTIN) " "a background run reading the terminal stops as SIGTTIN stops a job"
al_is "$(echo "$res" | awk '/^counter-held|^counter-resumed/ { print $2 }' | tr '\n' ' ')" "True True " \
	"its task is held meanwhile, and goes on after fg"
al_is "$(echo "$res" | awk '/^rc|^task-read/ { print $2 }' | tr '\n' ' ')" "4 True " \
	"in the foreground the task reads what was typed, and ends as it chose (4)"
al_is "$(al_json "$AL_TMP/bg-read.json" 'r["job_control"]["stops"]' 2>&1)" 1 "the record counts that stop"

# `kill %1` on a stopped job: the shell sends SIGTERM, then SIGCONT. The task gets the
# SIGTERM while still held and dies of it before it runs again: a task that writes as fast
# as it can adds no line after the stop (it used to be let go first, then signalled).
BUSY='exec >>/workspace/count; while :; do echo x; done'
res=$(job kill kill -- /bin/sh -c "$BUSY")
echo "$res" | al_diag
al_is "$(field "$res" shell-says-stopped) $(field "$res" counter-held | cut -d' ' -f1)" "True True" \
	"kill %1: the job was stopped, its busy task held"
al_is "$(field "$res" after-kill | cut -d' ' -f1)" True \
	"the task runs no code between the stop and the SIGTERM (no line written after the stop)"
al_is "$(field "$res" shell-says-exit) $(al_json "$AL_TMP/kill.json" \
	'"%s %s %s" % (r["exit"]["code"], r["exit"]["cause"], r["job_control"]["stops"])' 2>&1)" \
	"143 143 signaled 1" "it died of that SIGTERM: the job ends with 143, after one stop"

# ^Z typed while airlock starts (here it waits for a credential its caller writes to a FIFO
# only after the ^Z): the job stops once the sandbox is ready, before the task starts; the
# task starts only after fg.
credpol=$(al_policy cred <<'JSON'
{ "version": 1, "name": "cred", "filesystem": { "workspace": { "mode": "rw" } },
  "credentials": [ { "name": "tok", "source": "caller", "deliver": { "file": "/run/secrets/tok" } } ] }
JSON
)
rm -f "$AL_TMP/cred.fifo"
mkfifo "$AL_TMP/cred.fifo"
res=$(JOB_POL=$credpol JOB_CRED="tok=@$AL_TMP/cred.fifo" job setup setup -- \
	/bin/sh -c "date +%s.%N >/workspace/started; $COUNTER")
echo "$res" | al_diag
al_is "$(field "$res" started) $(field "$res" shell-says-stopped)" "True True" \
	"^Z during the start: the shell reports the job stopped"
al_is "$(field "$res" task-not-started) $(field "$res" members)" "True 1" \
	"the task has not started while the job is stopped (the run holds only its sandbox's init)"
al_is "$(field "$res" started-after-fg) $(field "$res" rc)" "True 3" \
	"the task starts after fg, and ends as it chose (3)"

# `kill %1` on a job stopped during the start: the SIGTERM waits in the sandbox's init (the
# only process yet) and reaches the task as it starts; it used to be lost, the task started
# and ran until the grace's SIGKILL (137).
res=$(JOB_POL=$credpol JOB_CRED="tok=@$AL_TMP/cred.fifo" job setup-kill setup-kill -- \
	/bin/sh -c "date +%s.%N >/workspace/started; $COUNTER")
echo "$res" | al_diag
al_is "$(field "$res" shell-says-stopped) $(field "$res" task-not-started)" "True True" \
	"^Z during the start, then kill %1: the job was stopped before its task started"
al_is "$(field "$res" shell-says-exit) $(al_json "$AL_TMP/setup-kill.json" \
	'"%s %s" % (r["exit"]["code"], r["exit"]["cause"])' 2>&1)" "143 143 signaled" \
	"the SIGTERM sent while stopped reaches the task: the job ends with 143"

# A background job with `stty tostop` that writes to the terminal stops with SIGTTOU, as
# bash expects of any job (its output is held until fg); the task is held meanwhile.
res=$(job bg-write bg-write -- /bin/sh -c 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo $i >>/workspace/count; [ $i = 5 ] && echo "said-$((6*7))"; sleep 0.1; done; exit 5')
echo "$res" | al_diag
al_is "$(field "$res" shell-says-stopped) $(field "$res" shell-said)" "True Stopped(SIGTTOU)" \
	"tostop: a background run writing to the terminal stops as SIGTTOU stops a job"
al_is "$(field "$res" output-held) $(field "$res" counter-held | cut -d' ' -f1)" "True True" \
	"its output waits, its task is held"
al_is "$(field "$res" counter-resumed) $(field "$res" output-after) $(field "$res" rc)" "True True 5" \
	"after fg the output comes, the task goes on and ends as it chose (5)"

# The same job, stopped by its output, then `kill %1`: the task dies of the SIGTERM and the
# run ends without fg (airlock used to stop again at its next write, until fg).
TOSTOP_TASK='i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo $i >>/workspace/count; [ $i -ge 5 ] && echo "said-$i"; sleep 0.1; done; exit 5'
res=$(job bg-write-kill bg-write-kill -- /bin/sh -c "$TOSTOP_TASK")
echo "$res" | al_diag
al_is "$(field "$res" shell-says-stopped) $(field "$res" shell-says-exit)" "True 143" \
	"tostop: kill %1 on a job stopped by its output ends it (143) without fg"
al_is "$(al_json "$AL_TMP/bg-write-kill.json" '"%s %s" % (r["exit"]["code"], r["exit"]["cause"])' 2>&1)" \
	"143 signaled" "its final record is written: the task died of the SIGTERM"

# ... and one that nobody continues ends at its wall time (124).
wall4=$(al_policy wall4 <<'JSON'
{ "version": 1, "name": "wall4", "filesystem": { "workspace": { "mode": "rw" } },
  "limits": { "wall_time": "4s" } }
JSON
)
res=$(JOB_POL=$wall4 job bg-write-wait bg-write-wait -- /bin/sh -c "$TOSTOP_TASK")
echo "$res" | al_diag
al_is "$(field "$res" shell-says-stopped) $(field "$res" shell-says-exit)" "True 124" \
	"tostop: a job stopped by its output still ends at its wall time (124), nobody continuing it"
al_is "$(al_json "$AL_TMP/bg-write-wait.json" '"%s %s" % (r["exit"]["code"], r["exit"]["cause"])' 2>&1)" \
	"124 wall_time" "its final record says wall_time"
al_is "$(run_cgroups)" "" "no cgroup of those runs is left"

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

# A task that handles SIGTERM gets it while held, and acts on it once let go.
rm -f "$AL_RWWS/trap"
al_run_bg trap --policy "$pol" --workspace "$AL_RWWS" --record "$AL_TMP/trap.json" -- /bin/sh -c \
	'trap "echo handled >>/workspace/trap; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-trap.out" '^ready' 10; then
	kill -TSTP "$pid"
	wait_state "$pid" T 5
	kill -TERM "$pid"
	kill -CONT "$pid"
	al_wait_gone "$pid" 10
	wait "$pid"
	al_is "$? $(cat "$AL_RWWS/trap" 2>&1)" "7 handled" \
		"a task that traps SIGTERM handles the one sent while it was stopped (exit 7)"
	al_is "$(run_cgroups)" "" "no cgroup of the run is left"
else
	al_ok 1 "the task started (for its SIGTERM trap)"
	sed 's/^/err: /' "$AL_TMP/bg-trap.err" | al_diag
fi

# The grace after SIGINT goes on while stopped: a task that ignores SIGINT is killed 5 s
# after it, the job stopped meanwhile and nobody continuing it (137, interrupted).
al_run_bg grace --record "$AL_TMP/grace.json" -- /bin/sh -c \
	'trap "" INT; echo ready; while :; do sleep 0.1; done'
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-grace.out" '^ready' 10; then
	kill -INT "$pid"
	sleep 0.5
	kill -TSTP "$pid"
	wait_state "$pid" T 5
	al_is "$(proc_state "$pid")" T "the job is stopped after SIGINT, within its grace"
	al_wait_gone "$pid" 20
	al_ok "$(! kill -0 "$pid" 2>/dev/null; echo $?)" "the grace's SIGKILL ends the stopped job without fg"
	kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" && kill -CONT "$pid" && al_wait_gone "$pid" 10
	wait "$pid"
	al_is "$? $(al_json "$AL_TMP/grace.json" 'r["exit"]["cause"]' 2>&1)" "137 interrupted" \
		"exit 137, interrupted, as after any grace"
	al_is "$(run_cgroups)" "" "no cgroup of the run is left"
else
	al_ok 1 "the task started (for the grace)"
	sed 's/^/err: /' "$AL_TMP/bg-grace.err" | al_diag
fi

# ---- the wall time counts while stopped ----

wall=$(al_policy wall <<'JSON'
{ "version": 1, "name": "wall", "filesystem": { "workspace": { "mode": "rw" } },
  "limits": { "wall_time": "3s" } }
JSON
)
rm -f "$AL_RWWS/count"
al_run_bg wall --policy "$wall" --workspace "$AL_RWWS" --record "$AL_TMP/wall.json" -- /bin/sh -c "$BUSY"
pid=$AL_BG_PID
start=$(date +%s%N)
if wait_count 3 10; then
	kill -TSTP "$pid"
	wait_state "$pid" T 5
	al_is "$(proc_state "$pid")" T "the job is stopped before its wall time"
	sleep 0.3
	a=$(count)
	# Nobody continues it: the deadline itself must end the run.
	al_wait_gone "$pid" 15
	al_ok "$(! kill -0 "$pid" 2>/dev/null; echo $?)" "a stopped run still ends at its wall time ($((($(date +%s%N) - start) / 1000000)) ms)"
	al_is "$(count)" "$a" "its task is killed still held: it wrote nothing after the stop"
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

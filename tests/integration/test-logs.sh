#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Captured logs (docs/logs.md): each run keeps its task's stdout and stderr beside
# its record, root-only, cut at logs.max_size with a marker line, with size and SHA-256 in
# the record; `airlock records logs` prints them; they keep what the task writes after the
# caller's reader went away, and what a killed supervisor had written. And airlock's own
# messages apart from the task's (docs/diagnostics.md): --diagnostics-fd/-file, JSON lines,
# nothing on the caller's terminal about runs that are not the caller's.
. "$(dirname "$0")/lib.sh"
al_init
al_need sha256sum stat unshare

# Runs airlock on the test's workspace and state dir (the caller sets up the pipes).
airlock_run() {
	"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" "$@"
}

# The path of a run's log: log_of ID stdout|stderr
log_of() {
	echo "$AL_STATE/logs/$1.$2"
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# rec_is RECORD EXPR WANT DESCRIPTION: a value of the record (al_json) is WANT.
rec_is() {
	al_is "$(al_json "$1" "$2" 2>&1)" "$3" "$4"
}

# ---- A: what a log holds, where it is, what the record says ----

al_run --record "$AL_TMP/a1.json" -- sh -c 'printf "out1\nout2"; printf "err1\n" >&2; exit 3'
id=$(al_json "$AL_TMP/a1.json" 'r["run_id"]')
al_is "$AL_RC" 3 "a run with output exits with its task's status"
printf 'out1\nout2' >"$AL_TMP/a1.want-out"
printf 'err1\n' >"$AL_TMP/a1.want-err"
al_ok "$(cmp -s "$(log_of "$id" stdout)" "$AL_TMP/a1.want-out"; echo $?)" \
	"the stdout log holds what the task wrote to stdout, byte for byte"
al_ok "$(cmp -s "$(log_of "$id" stderr)" "$AL_TMP/a1.want-err"; echo $?)" \
	"the stderr log holds what it wrote to stderr"
al_is "$(stat -c '%a %u %g' "$AL_STATE/logs" "$(log_of "$id" stdout)" "$(log_of "$id" stderr)" | tr '\n' ' ')" \
	"700 0 0 600 0 0 600 0 0 " "root's: the directory 0700, each log 0600"
for s in stdout stderr; do
	f=$(log_of "$id" $s)
	rec_is "$AL_TMP/a1.json" "r['logs']['$s']['path']" "$f" "record: logs.$s.path names the file"
	rec_is "$AL_TMP/a1.json" "r['logs']['$s']['size']" "$(stat -c %s "$f")" \
		"record: logs.$s.size is the file's size"
	rec_is "$AL_TMP/a1.json" "r['logs']['$s']['sha256']" "$(sha "$f")" \
		"record: logs.$s.sha256 is sha256sum of the file"
	rec_is "$AL_TMP/a1.json" "r['logs']['$s']['truncated']" False "record: logs.$s is whole"
done
rec_is "$AL_TMP/a1.json" "r['logs']['max_size']" 16M "record: logs.max_size is the policy's default"

"$AIRLOCK" records --state-dir "$AL_STATE" logs "$id" >"$AL_TMP/a1.rl-out" 2>"$AL_TMP/a1.rl-err"
al_ok "$([ $? -eq 0 ] && cmp -s "$AL_TMP/a1.rl-out" "$AL_TMP/a1.want-out" &&
	cmp -s "$AL_TMP/a1.rl-err" "$AL_TMP/a1.want-err"; echo $?)" \
	"records logs ID: the stdout log to stdout, the stderr log to stderr, as stored"
"$AIRLOCK" records --state-dir "$AL_STATE" logs "$id" --stream stderr >"$AL_TMP/a1.rl-one"
al_ok "$(cmp -s "$AL_TMP/a1.rl-one" "$AL_TMP/a1.want-err"; echo $?)" \
	"records logs ID --stream stderr: that log to stdout"
"$AIRLOCK" records --state-dir "$AL_STATE" logs "$id" --stream stdin >/dev/null 2>"$AL_TMP/a1.bad"
al_ok "$([ $? -eq 2 ] && grep -q "expected stdout or stderr" "$AL_TMP/a1.bad"; echo $?)" \
	"records logs: an unknown stream is refused"
"$AIRLOCK" records --state-dir "$AL_STATE" logs "$id" --stream stdout --stream stderr >"$AL_TMP/a1.two" \
	2>"$AL_TMP/a1.bad"
al_ok "$([ $? -eq 2 ] && [ ! -s "$AL_TMP/a1.two" ] && grep -q "^airlock: records logs: --stream given twice" "$AL_TMP/a1.bad"; echo $?)" \
	"records logs: --stream given twice is refused, nothing printed"
"$AIRLOCK" records --state-dir "$AL_STATE" logs 20000101T000000Z-00000000 2>"$AL_TMP/a1.bad"
al_ok "$([ $? -eq 1 ] && grep -q "no run '20000101T000000Z-00000000'" "$AL_TMP/a1.bad"; echo $?)" \
	"records logs: an unknown run is named"

# Written as the output comes: the log has the first line while the task still runs, and
# the "running" record names the logs.
airlock_run -- sh -c 'echo started; sleep 3; echo later' >/dev/null 2>&1 </dev/null &
bg=$!
AL_PIDS+=("$bg")
seen=1
for _ in $(seq 50); do
	f=$(grep -lx started "$AL_STATE"/logs/*.stdout 2>/dev/null | head -n 1)
	[ -n "$f" ] && ! grep -q later "$f" && { seen=0; break; }
	sleep 0.1
done
al_ok "$seen" "the log holds the first line while the task still runs"
id=$(basename "${f:-x}" .stdout)
rec_is "$AL_STATE/records/$id.json" \
	"r['exit']['cause'], r['logs']['stdout']['path'], 'size' in r['logs']['stdout']" \
	"('running', '$(log_of "$id" stdout)', False)" "the running record names the logs, without sizes yet"
wait "$bg"
al_is "$(cat "$(log_of "$id" stdout)")" "started
later" "and the final log holds the rest"

# A logs directory that is a symbolic link, not a directory, or another user's refuses the
# run with one line saying which, and nothing is written through it.
for kind in symlink file other-user; do
	st=$AL_TMP/state-$kind
	mkdir -p "$st" "$AL_TMP/elsewhere"
	case $kind in
	symlink) ln -s "$AL_TMP/elsewhere" "$st/logs"; why="it is a symbolic link, which is not followed" ;;
	file) : >"$st/logs"; why="it is not a directory" ;;
	other-user) mkdir -m 700 "$st/logs"; chown 65534 "$st/logs"; why="it is not root's" ;;
	esac
	"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- echo hi \
		>"$AL_TMP/ld.out" 2>"$AL_TMP/ld.err" </dev/null
	al_is "$?|$(cat "$AL_TMP/ld.out")|$(cat "$AL_TMP/ld.err")" \
		"125||airlock: refusing run: cannot create its logs in '$st/logs': $why" \
		"a logs directory that is wrong ($kind) refuses the run, saying why"
done
al_is "$(ls -A "$AL_TMP/elsewhere" "$AL_TMP/state-other-user/logs")" "$AL_TMP/elsewhere:

$AL_TMP/state-other-user/logs:" "nothing was written through the link or into the other user's directory"

# ---- B: the cap and the marker lines ----

cap=$(al_policy cap <<'JSON'
{ "version": 1, "logs": { "max_size": "1K" } }
JSON
)
al_run --policy "$cap" --record "$AL_TMP/b1.json" -- sh -c 'head -c 3000 /dev/zero | tr "\0" x'
id=$(al_json "$AL_TMP/b1.json" 'r["run_id"]')
al_is "${#AL_OUT}" 3000 "logs.max_size cuts the log, not what the caller gets"
{
	head -c 1024 /dev/zero | tr '\0' x
	printf '\n[airlock: log truncated at logs.max_size (1K)]\n'
} >"$AL_TMP/b1.want"
al_ok "$(cmp -s "$(log_of "$id" stdout)" "$AL_TMP/b1.want"; echo $?)" \
	"the log keeps 1K, then its marker on a line of its own"
rec_is "$AL_TMP/b1.json" "r['logs']['stdout']['truncated'], r['logs']['stdout']['truncated_by']" \
	"(True, 'max_size')" "record: truncated by max_size"
rec_is "$AL_TMP/b1.json" "r['logs']['stdout']['size'], r['logs']['stdout']['sha256']" \
	"($(stat -c %s "$(log_of "$id" stdout)"), '$(sha "$(log_of "$id" stdout)")')" \
	"record: size and sha256 are the file's, marker included"
rec_is "$AL_TMP/b1.json" "r['logs']['stderr']['truncated']" False "the other stream is whole"

# Kept output that ends a line: the marker follows at once, no blank line.
al_run --policy "$cap" --record "$AL_TMP/b2.json" -- sh -c 'yes abc | head -c 4096'
id=$(al_json "$AL_TMP/b2.json" 'r["run_id"]')
{
	yes abc | head -c 1024
	printf '[airlock: log truncated at logs.max_size (1K)]\n'
} >"$AL_TMP/b2.want"
al_ok "$(cmp -s "$(log_of "$id" stdout)" "$AL_TMP/b2.want"; echo $?)" \
	"a log cut at a line's end gets the marker as its next line"

# The output limit cuts the caller's output and the log alike.
out=$(al_policy out <<'JSON'
{ "version": 1, "limits": { "output": "2K" } }
JSON
)
al_run --policy "$out" --record "$AL_TMP/b3.json" -- sh -c 'head -c 5000 /dev/zero | tr "\0" y'
id=$(al_json "$AL_TMP/b3.json" 'r["run_id"]')
{
	head -c 2048 /dev/zero | tr '\0' y
	printf '\n[airlock: log truncated: the output limit was reached (limits.output)]\n'
} >"$AL_TMP/b3.want"
al_ok "$(cmp -s "$(log_of "$id" stdout)" "$AL_TMP/b3.want"; echo $?)" \
	"past limits.output the log has what the caller got, then its marker"
rec_is "$AL_TMP/b3.json" "r['logs']['stdout']['truncated_by'], r['output']['truncated']" \
	"('output_limit', True)" "record: truncated by the output limit"

# The task ended and its caller's reader takes nothing: the rest is dropped, and said so.
wall=$(al_policy wall1 <<'JSON'
{ "version": 1, "limits": { "wall_time": "1s" } }
JSON
)
mkfifo "$AL_TMP/b4.fifo"
# shellcheck disable=SC2217 # it only holds the FIFO open
sleep 30 <"$AL_TMP/b4.fifo" &
AL_PIDS+=("$!")
airlock_run --policy "$wall" --record "$AL_TMP/b4.json" -- \
	sh -c 'head -c 2000000 /dev/zero; sleep 100' >"$AL_TMP/b4.fifo" 2>/dev/null </dev/null
id=$(al_json "$AL_TMP/b4.json" 'r["run_id"]')
rec_is "$AL_TMP/b4.json" "r['exit']['cause'], r['logs']['stdout']['truncated_by']" \
	"('wall_time', 'reader_stalled')" "a stalled reader at the end: truncated, by reader_stalled"
al_is "$(tail -n 1 "$(log_of "$id" stdout)")" \
	"[airlock: log truncated: the end of the output was dropped, its reader did not take it in time]" \
	"the log says so in its last line"
al_ok "$([ "$(stat -c %s "$(log_of "$id" stdout)")" -ge 65536 ]; echo $?)" \
	"and holds what airlock read before the reader stalled (ahead of the caller)"

# ---- C: the caller's reader goes away ----

airlock_run --record "$AL_TMP/c1.json" -- sh -c 'echo a; sleep 1; echo b; echo done >&2' \
	2>"$AL_TMP/c1.err" </dev/null | head -n 1 >/dev/null
rc=${PIPESTATUS[0]}
id=$(al_json "$AL_TMP/c1.json" 'r["run_id"]')
al_ok "$([ "$rc" -eq 141 ] && ! grep -qx 'done' "$AL_TMP/c1.err"; echo $?)" \
	"with a log too, a task whose reader left dies at its next write, as without airlock (exit $rc)"
al_is "$(cat "$(log_of "$id" stdout)")" "a" "the log keeps what it wrote before the reader left"

yes1m=$(al_policy yes1m <<'JSON'
{ "version": 1, "limits": { "wall_time": "20s" }, "logs": { "max_size": "1M" } }
JSON
)
T0=$(date +%s%N)
airlock_run --policy "$yes1m" --record "$AL_TMP/c2.json" -- yes 2>"$AL_TMP/c2.err" </dev/null |
	head -c 10 >/dev/null
rc=${PIPESTATUS[0]}
ms=$((($(date +%s%N) - T0) / 1000000))
id=$(al_json "$AL_TMP/c2.json" 'r["run_id"]')
al_ok "$([ "$rc" -eq 141 ] && [ "$ms" -lt 10000 ]; echo $?)" \
	"'airlock run -- yes | head -c 10' ends by SIGPIPE at once (exit $rc, ${ms}ms)"
size=$(stat -c %s "$(log_of "$id" stdout)")
marker='[airlock: log truncated at logs.max_size (1M)]'
# What yes wrote until the pipe closed: up to the log's cap, then its marker line.
al_ok "$([ "$size" -ge 10 ] && [ "$size" -le $((1048576 + ${#marker} + 1)) ] &&
	! grep -vxF -e y -e "$marker" "$(log_of "$id" stdout)" | grep -q .; echo $?)" \
	"the log holds what yes wrote before it died ($size bytes of y lines)"
al_is "$(cat "$AL_TMP/c2.err")" "" "nothing is said about it"

nolog=$(al_policy nolog <<'JSON'
{ "version": 1, "logs": { "max_size": "0" } }
JSON
)
al_run --policy "$nolog" --record "$AL_TMP/c3.json" -- echo hi
id=$(al_json "$AL_TMP/c3.json" 'r["run_id"]')
al_ok "$([ "$AL_OUT" = hi ] && ! ls "$AL_STATE/logs/$id".* >/dev/null 2>&1; echo $?)" \
	"logs.max_size \"0\": no log files"
rec_is "$AL_TMP/c3.json" "'logs' in r" False "and no logs in the record"
"$AIRLOCK" records --state-dir "$AL_STATE" logs "$id" >/dev/null 2>"$AL_TMP/c3.err"
al_ok "$([ $? -eq 1 ] && grep -q 'has no captured stdout log' "$AL_TMP/c3.err"; echo $?)" \
	"records logs says the run has none"

# ---- D: airlock's own messages ----

airlock_run --record "$AL_TMP/d1.json" --diagnostics-fd 3 --diagnostics-format json \
	-- sh -c 'echo out; exit 3' 3>"$AL_TMP/d1.diag" >"$AL_TMP/d1.out" 2>"$AL_TMP/d1.err" </dev/null
id=$(al_json "$AL_TMP/d1.json" 'r["run_id"]')
al_is "$(cat "$AL_TMP/d1.out")|$(cat "$AL_TMP/d1.err")" "out|" \
	"--diagnostics-fd: the task's output as ever, nothing of airlock's on the terminal"
al_is "$(python3 - "$AL_TMP/d1.diag" "$id" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
msgs = []
for l in lines:
    o = json.loads(l)
    assert sorted(o) == ["level", "message", "run", "ts"], o
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["ts"]), o
    assert o["run"] == sys.argv[2], o
    msgs.append(o["level"] + " " + o["message"].split(":")[0])
print(" / ".join(msgs[-2:]), "/", "run ended: exited, exit status 3" in lines[-1])
PY
)" "info run started / info run ended / True" \
	"--diagnostics-format json: one object per line (ts, level, run, message), this run's id"

pol=$(al_policy onlytrue <<'JSON'
{ "version": 1, "command": { "allow": ["true"] } }
JSON
)
for _ in 1 2; do
	al_run --policy "$pol" --diagnostics-file "$AL_TMP/d2.diag" -- ls
done
al_ok "$([ "$AL_RC" -eq 125 ] &&
	[ "$(echo "$AL_ERR" | grep -c "^airlock: refusing run: command 'ls' is not allowed")" -eq 1 ]
	echo $?)" "a refusal is still said on the terminal, in one line"
al_is "$(grep -Ec "^[0-9TZ:.-]+ error: refusing run: command 'ls' is not allowed" "$AL_TMP/d2.diag")" 2 \
	"--diagnostics-file: and in the file, as text, appended run after run"
al_is "$(stat -c %a "$AL_TMP/d2.diag")" 600 "a diagnostics file airlock creates is 0600"

al_run --diagnostics-fd 1 -- true
al_ok "$([ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -q "fd 1 is the task's standard output"; echo $?)" \
	"--diagnostics-fd 1 is refused"
"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --diagnostics-fd 3 -- true \
	3</dev/null </dev/null >/dev/null 2>"$AL_TMP/d7.err"
al_is "$?|$(cat "$AL_TMP/d7.err")" "125|airlock: run: --diagnostics-fd 3: not open for writing" \
	"a read-only --diagnostics-fd is refused, the number unquoted like every other message"
al_run --diagnostics-fd 2 --diagnostics-file "$AL_TMP/x" -- true
al_ok "$([ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -q "give one"; echo $?)" \
	"--diagnostics-fd and --diagnostics-file together are refused"
al_run --diagnostics-file "$AL_TMP/x" --diagnostics-format xml -- true
al_ok "$([ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -q "expected text or json"; echo $?)" \
	"an unknown --diagnostics-format is refused"

# A refusal of the command line is said on the sink too, whichever option it is about and
# wherever the sink's options are (the sink is opened first): as a JSON line in JSON.
cpol=$(al_policy cred <<'JSON'
{ "version": 1, "credentials": [
    { "name": "npm", "source": "caller", "deliver": { "env": "NPM_TOKEN" } } ] }
JSON
)
rm -f "$AL_TMP/d5.diag"
al_run --policy "$cpol" --credential npm=xx --diagnostics-file "$AL_TMP/d5.diag" \
	--diagnostics-format json -- true
al_run --policy "$cpol" --diagnostics-file "$AL_TMP/d5.diag" --diagnostics-format json \
	--no-such-option -- true
al_is "$AL_RC|$(python3 - "$AL_TMP/d5.diag" <<'PY'
import json, sys
for l in open(sys.argv[1]).read().splitlines():
    o = json.loads(l)
    print(o["level"], o["message"].split(":")[0] + ":" + o["message"].split(":")[1])
PY
)" "125|error run: --credential npm=...
error run: unknown or incomplete option '--no-such-option'" \
	"refusals of the command line (--credential, an unknown option) reach the JSON sink as JSON lines"
"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --policy "$cpol" \
	--credential npm=xx --diagnostics-fd 2 --diagnostics-format json -- true \
	>/dev/null 2>"$AL_TMP/d6.err" </dev/null
al_is "$?|$(python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["level"])' <"$AL_TMP/d6.err" 2>&1)" \
	"125|error" "with --diagnostics-fd 2 --diagnostics-format json, a --credential refusal is one JSON line on stderr"

# Bytes the caller gave (a path, a command), quoted in airlock's own messages, reach the
# terminal and a text sink as visible text: an escape sequence there would act on the
# caller's terminal (retitle it, clear it). The JSON sink escapes them as JSON.
rm -f "$AL_TMP/d8.diag"
al_run --policy "$cpol" --credential $'npm=@\e]0;x\a/nonexist' \
	--diagnostics-file "$AL_TMP/d8.diag" -- true
al_run --diagnostics-file "$AL_TMP/d8.diag" -- $'x\e[2J\xc2\x9b\xe2\x80\xae'
al_ok "$(! LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80\xae' "$AL_TMP/err" "$AL_TMP/d8.diag" &&
	grep -qF "cannot execute 'x\\x1b[2J\\u009b\\u202e'" "$AL_TMP/err" &&
	grep -qF "cannot execute 'x\\x1b[2J\\u009b\\u202e'" "$AL_TMP/d8.diag" &&
	grep -qF "cannot open '\\x1b]0;x\\x07/nonexist'" "$AL_TMP/d8.diag"; echo $?)" \
	"controls in a path or command airlock quotes are escaped on the terminal and the text sink"
[ "$AL_RC" -ne 0 ] || al_show

# Throttling by the cpu limit is the limit at work: not on the terminal.
if al_host_has_controller cpu; then
	pol=$(al_policy cpu <<'JSON'
{ "version": 1, "limits": { "cpu": 0.05, "wall_time": "30s" } }
JSON
)
	al_run --policy "$pol" --diagnostics-file "$AL_TMP/d4.diag" -- \
		sh -c 'timeout 0.5 sh -c "while :; do :; done"; true'
	al_ok "$(grep -q ' info run=[^:]*: task hindered: cpu limit 0\.050* cores, throttled for' "$AL_TMP/d4.diag" &&
		! echo "$AL_ERR" | grep -q 'hindered'; echo $?)" \
		"'task hindered: cpu limit ...' goes to the diagnostics (info), not to the terminal"
else
	al_skip "cpu throttling is not said on the terminal" "the host has no cpu cgroup controller"
fi

# ---- E: a killed supervisor's logs, and its reaping, which is not the next caller's ----
# These runs live in a world of their own (a private runtime directory and cgroup parent,
# as in test-records-safety.sh): no other airlock on the host reaps the killed run first.

al_isolate logs

"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- sh -c 'echo before-kill; sleep 30' >/dev/null 2>&1 </dev/null &
bg=$!
AL_PIDS+=("$bg")
dead=
for _ in $(seq 100); do
	f=$(grep -lx before-kill "$AL_STATE"/logs/*.stdout 2>/dev/null | head -n 1)
	[ -n "$f" ] && dead=$(basename "$f" .stdout) && break
	sleep 0.1
done
al_ok "$([ -n "$dead" ]; echo $?)" "a running task's output is in its log at once (${dead:-none})"
kill -KILL "$bg"
wait "$bg" 2>/dev/null
"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --diagnostics-fd 3 --diagnostics-format json -- true \
	3>"$AL_TMP/e1.diag" >"$AL_TMP/e1.out" 2>"$AL_TMP/e1.err" </dev/null
al_is "$?|$(cat "$AL_TMP/e1.err")" "0|" \
	"the next run reaps the killed one and says nothing about it on its caller's terminal"
al_is "$(python3 - "$AL_TMP/e1.diag" "$dead" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["message"].startswith("marked the record of run"):
        print(o["level"], o["run"] == sys.argv[2], o["message"] == "marked the record of run %s aborted: its supervisor died" % sys.argv[2])
PY
)" "notice True True" "the reaper's line goes to the diagnostics, with the dead run's id as its run"
rec_is "$AL_STATE/records/$dead.json" \
	"r['exit']['cause'], r['logs']['stdout']['size'], r['logs']['stdout']['sha256']" \
	"('aborted', 12, '$(printf 'before-kill\n' | sha256sum | cut -d' ' -f1)')" \
	"the aborted record has the size and sha256 of what the killed run's log holds"
al_is "$(cat "$AL_STATE/logs/$dead.stdout")" "before-kill" "and the log stays as it was written"

# The same without a diagnostics sink: the caller's terminal is just as quiet.
"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- sh -c 'echo again; sleep 30' >/dev/null 2>&1 </dev/null &
bg=$!
AL_PIDS+=("$bg")
sleep 1
kill -KILL "$bg"
wait "$bg" 2>/dev/null
"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- true >/dev/null 2>"$AL_TMP/e2.err" </dev/null
al_is "$?|$(cat "$AL_TMP/e2.err")" "0|" "without --diagnostics-fd, nothing about the reaped run either"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The per-run event log (docs/run-record.md, "Event log"): a networked run with a
# credential resolves an allowed name, a name not allowed and one whose address is
# withheld, connects where it may and where it may not, and is killed at its wall time.
# Its log holds each decision with the right fields, in a chain that verifies (here in
# python, independently of airlock, and by `airlock records events`) and whose head the
# record holds; a line removed, edited or moved is then found and named.
# Networked runs happen only in the throw-away namespaces of net-lib.sh.
. "$(dirname "$0")/lib.sh"
al_init
# shellcheck source=tests/integration/net-lib.sh
. "$(dirname "$0")/net-lib.sh"

finish() {
	local rc=$?
	net_world_down
	(exit "$rc")
	al_finish
}
trap finish EXIT

al_need "${NET_TOOLS[@]}"
lacks=$(net_kernel_lacks | tr '\n' ' ')
[ -z "$lacks" ] || al_skip_all "the kernel lacks: $lacks"
net_world_up "$AL_TMP" || {
	al_ok 1 "the test namespaces are built"
	exit 1
}
cp "$AIRLOCK_SRC/tests/integration/net-task.py" "$AL_WS/"
printf %s 'tok-0123456789abcdef-value' >"$AL_TMP/tok"
chmod 600 "$AL_TMP/tok"

pol=$(al_policy events <<'JSON'
{
  "version": 1,
  "name": "events-test",
  "limits": { "wall_time": "4s" },
  "credentials": [
    { "name": "tok", "source": "caller", "deliver": { "file": "/run/secrets/tok" } }
  ],
  "network": {
    "egress": [
      { "host": "allowed.test", "ports": [443] },
      { "host": "private.test", "ports": [443] }
    ],
    "dns": { "upstream": ["11.1.0.53"] }
  }
}
JSON
)

# ---- the run ----

# shellcheck disable=SC2054 # the steps are comma-separated on purpose
# (Two arguments the task ignores: a backslash, and a terminal escape for records events.)
steps=(resolve,allowed.test,A tcp,11.1.0.10,443,0.5 resolve,other.test,A
	resolve,private.test,A tcp,11.1.0.12,443,0.5 'back\slash' $'\e[31mred' sleep,30)
net_in_host "$AIRLOCK" run --policy "$pol" --workspace "$AL_WS" --state-dir "$AL_STATE" \
	--credential "tok=@$AL_TMP/tok" --record "$AL_TMP/record.json" \
	-- /usr/bin/python3 /workspace/net-task.py "${steps[@]}" >"$AL_TMP/out" 2>"$AL_TMP/err"
rc=$?
al_is "$rc" 124 "the networked run is killed at its wall time (exit 124)"
[ "$rc" -eq 124 ] || sed 's/^/err: /' "$AL_TMP/err" | al_diag
rec=$AL_TMP/record.json
id=$(al_json "$rec" 'r["run_id"]')
log=$AL_STATE/events/$id.jsonl

al_is "$(stat -c '%a %U' "$AL_STATE/events" "$log" 2>&1 | tr '\n' ' ')" "700 root 600 root " \
	"the event log is root's, 0600 in a 0700 directory"
al_is "$(al_json "$rec" 'r["events"]["path"]')" "$log" "the record names the event log"

# check DESCRIPTION PYTHON: the python code asserts on rec (the record), ev (the parsed
# lines), raw (their bytes) and of(type) (the events of a type).
check() {
	local err
	err=$(python3 - "$rec" "$log" "$2" 2>&1 <<'PY'
import hashlib, json, sys
rec = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], 'rb').read().split(b'\n')
assert raw[-1] == b'', 'no newline at the end'
raw = raw[:-1]
ev = [json.loads(l) for l in raw]
def of(t):
    return [e for e in ev if e['type'] == t]
def dns(name):
    e = [x for x in of('dns') if x['name'] == name and x['qtype'] == 'A']
    assert len(e) == 1, (name, of('dns'))
    return e[0]
exec(sys.argv[3])
PY
)
	al_ok $? "$1"
	[ -z "$err" ] || echo "$err" | tail -n 4 | cut -c1-400 | al_diag
}

check "run_start: the policy's digest, the command and the workspace" '
s = ev[0]
assert s["type"] == "run_start", s
assert s["policy"] == {k: rec["policy"][k] for k in ("name", "digest")}, (s["policy"], rec["policy"])
assert s["command"] == rec["command"], s["command"]
assert s["workspace"] == rec["workspace"], s["workspace"]'
check "credential: name, delivery and fingerprint, never the value" '
c = of("credential")
assert len(c) == 1, c
assert (c[0]["name"], c[0]["delivery"], c[0]["file"]) == ("tok", "file", "/run/secrets/tok"), c
assert c[0]["fingerprint"] == "sha256:" + hashlib.sha256(b"tok-0123456789abcdef-value").hexdigest()
assert b"tok-0123456789abcdef-value" not in b"\n".join(raw)'
check "dns: an allowed answer with its addresses" '
d = dns("allowed.test")
assert d["verdict"] == "allowed" and d["addresses"] == ["11.1.0.10"], d
assert d["rcode"] == "NOERROR" and d["ports"] == ["443/tcp"], d'
check "dns: a name not allowed is refused" '
d = dns("other.test")
assert d["verdict"] == "not-allowed" and d["rcode"] == "NXDOMAIN", d
assert "addresses" not in d, d'
check "dns: a withheld address and why" '
d = dns("private.test")
assert d["verdict"] == "withheld", d
assert d["withheld"] == ["10.9.9.9"] and d["reason"] == "denied-range", d'
check "denied: the connection no rule allows" '
d = [x for x in of("denied") if x["destination"] == "11.1.0.12"]
assert len(d) == 1, of("denied")
assert (d[0]["port"], d[0]["protocol"], d[0]["reason"]) == (443, "tcp", "not-allowed"), d'
check "limit_hit: the wall time, and task_exit last with the record's exit" '
l = of("limit_hit")
assert [(x["limit"], x["value"]) for x in l] == [("wall_time", "4s")], l
assert ev[-1]["type"] == "task_exit", ev[-1]
x = {k: v for k, v in ev[-1].items() if k not in ("seq", "time", "type", "prev")}
assert x == rec["exit"], (x, rec["exit"])
assert x["cause"] == "wall_time" and x["code"] == 124, x'
check "the chain verifies: seq, prev of each line, the record's head, count and digest" '
prev = hashlib.sha256(rec["run_id"].encode()).hexdigest()
for i, (e, l) in enumerate(zip(ev, raw), 1):
    assert e["seq"] == i, (i, e)
    assert e["prev"] == prev, (i, e["prev"], prev)
    assert list(e)[:3] == ["seq", "time", "type"] and list(e)[-1] == "prev", list(e)
    prev = hashlib.sha256(l).hexdigest()
r = rec["events"]
assert r["head"] == prev and r["lines"] == len(raw) and r["dropped"] == 0, r
data = open(sys.argv[2], "rb").read()
assert r["sha256"] == hashlib.sha256(data).hexdigest() and r["bytes"] == len(data), r'

# ---- records events ----

"$AIRLOCK" records --state-dir "$AL_STATE" events "$id" --json >"$AL_TMP/ev.json" 2>"$AL_TMP/ev.err"
rc=$?
cmp -s "$AL_TMP/ev.json" "$log" && [ "$rc" -eq 0 ] && [ ! -s "$AL_TMP/ev.err" ]
al_ok $? "records events --json prints the stored lines and finds nothing wrong (exit $rc)"
"$AIRLOCK" records --state-dir "$AL_STATE" events "$id" >"$AL_TMP/ev.txt" 2>&1
rc=$?
grep -Eq '^ +[0-9]+ [0-9T:.-]+Z dns name=private\.test verdict=withheld .*withheld=\["10\.9\.9\.9"\] reason=denied-range' "$AL_TMP/ev.txt" &&
	[ "$rc" -eq 0 ]
al_ok $? "records events prints one readable line per event (exit $rc)"
[ "$rc" -eq 0 ] || head -n 20 "$AL_TMP/ev.txt" | al_diag
grep -q 'back\\\\slash' "$AL_TMP/ev.json" && ! LC_ALL=C grep -q $'\e' "$AL_TMP/ev.json" "$AL_TMP/ev.txt"
al_ok $? "records events keeps a backslash of the stored lines and prints no terminal escape"

# tampered EDIT DESCRIPTION PATTERN: the log edited by the python code (lines: a list of
# byte lines) fails `records events` with a line matching PATTERN; the log is restored.
tampered() {
	local rc
	cp "$log" "$AL_TMP/saved.jsonl"
	python3 - "$log" "$1" <<'PY'
import sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
exec(sys.argv[2])
open(sys.argv[1], 'wb').write(b''.join(l + b'\n' for l in lines))
PY
	"$AIRLOCK" records --state-dir "$AL_STATE" events "$id" >/dev/null 2>"$AL_TMP/t.err"
	rc=$?
	[ "$rc" -eq 1 ] && grep -Eq -- "$3" "$AL_TMP/t.err"
	al_ok $? "$2 (exit $rc)"
	[ "$rc" -eq 1 ] || sed 's/^/err: /' "$AL_TMP/t.err" | al_diag
	cp "$AL_TMP/saved.jsonl" "$log"
}

tampered 'del lines[2]' "a removed line is found and named" \
	"line 3: seq 4 follows seq 2"
tampered 'lines[1] = lines[1].replace(b"\"bytes\":26", b"\"bytes\":27", 1)' \
	"an edited line is found and named (by the line after it)" \
	"line 3: prev is not the hash of line 2: line 2 was changed"
tampered 'lines[2], lines[3] = lines[3], lines[2]' "two swapped lines are found and named" \
	"line 3: seq 4 follows seq 2"
tampered 'lines[-1] = lines[-1].replace(b"\"code\":124", b"\"code\":0")' \
	"an edited last line is found against the record's head" \
	"line [0-9]+: the hash of the last line is not the record's head"
tampered 'del lines[-1]' "a removed last line is found against the record's count" \
	"the log has [0-9]+ lines, its record says [0-9]+: lines were removed"
"$AIRLOCK" records --state-dir "$AL_STATE" events "$id" >/dev/null 2>&1
al_ok $? "the restored log verifies again"

# ---- the cgroup limits a run hits ----

# limit_case NAME PYTHON: the python code asserts on the events (ev, of(type)) of the run
# whose record is $AL_TMP/rec-NAME.json.
limit_case() {
	local desc=$1 r=$AL_TMP/rec-$2.json err
	err=$(python3 - "$r" "$3" 2>&1 <<'PY'
import json, sys
rec = json.load(open(sys.argv[1]))
ev = [json.loads(l) for l in open(rec["events"]["path"], "rb")]
def of(t):
    return [e for e in ev if e["type"] == t]
exec(sys.argv[2])
PY
)
	al_ok $? "$desc"
	[ -z "$err" ] || echo "$err" | tail -n 4 | cut -c1-400 | al_diag
}

if al_host_has_controller memory; then
	pol=$(al_policy mem <<'JSON'
{ "version": 1, "limits": { "memory": "64M", "wall_time": "60s" } }
JSON
)
	al_run --policy "$pol" --record "$AL_TMP/rec-mem.json" -- \
		python3 -c 'b = []
while True: b.append(bytearray(8 << 20))'
	limit_case "limit_hit: memory, with the OOM kills, before task_exit oom_killed" mem '
l = of("limit_hit")
assert [(x["limit"], x["value"]) for x in l] == [("memory", "64M")], l
assert l[0]["oom_kills"] >= 1, l
assert ev[-1]["type"] == "task_exit" and ev[-1]["cause"] == "oom_killed", ev[-1]'
else
	al_skip "limit_hit: memory" "the kernel offers no memory cgroup controller"
fi
if al_host_has_controller pids; then
	pol=$(al_policy pids <<'JSON'
{ "version": 1, "limits": { "pids": 32, "wall_time": "60s" } }
JSON
)
	al_run --policy "$pol" --record "$AL_TMP/rec-pids.json" -- /bin/sh -c \
		'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done 2>/dev/null; kill 0'
	limit_case "limit_hit: pids, with the forks refused" pids '
l = of("limit_hit")
assert [(x["limit"], x["value"]) for x in l] == [("pids", 32)], l
assert l[0]["pids_limit_hits"] > 0, l
assert ev[-1]["type"] == "task_exit" and ev[-1]["cause"] == "pids_limit_hit", ev[-1]'
else
	al_skip "limit_hit: pids" "the kernel offers no pids cgroup controller"
fi

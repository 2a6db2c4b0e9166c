#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every attempt leaves a record that says exactly what was asked (docs/run-record.md,
# "Refused attempts", "Byte strings", "Reading records"): each kind of refusal leaves one
# naming its cause; bytes that are not UTF-8 in argv, the workspace path and file names
# are recorded exactly; `records list` orders runs of one second, filters, prints JSON and
# escapes what would act on a terminal; `records show` refuses a corrupt file.
. "$(dirname "$0")/lib.sh"
al_init
# shellcheck source=tests/integration/net-lib.sh
. "$(dirname "$0")/net-lib.sh"
al_need unshare ip nsenter

# A world of this test's own: a private runtime directory (a bind over /run/airlock in a
# mount namespace of its own) and a private cgroup parent, as test-records-safety does.
ISO_PARENT=airlock-it-attempts-$$
mkdir -p /run/airlock "$AL_TMP/run"
printf '{ "version": 1, "cgroup_parent": "%s" }\n' "$ISO_PARENT" >"$AL_TMP/iso.json"
chmod 644 "$AL_TMP/iso.json"
REAL_AIRLOCK=$AIRLOCK
AIRLOCK=$AL_TMP/airlock
cat >"$AIRLOCK" <<EOF
#!/bin/sh
[ "\$1" = run ] && shift && set -- run --config "$AL_TMP/iso.json" "\$@"
exec unshare -m --propagation private -- /bin/sh -c \\
	'mount --bind "$AL_TMP/run" /run/airlock && exec "\$0" "\$@"' "$REAL_AIRLOCK" "\$@"
EOF
chmod 755 "$AIRLOCK"
finish() {
	local rc=$? d
	net_world_down
	for d in /sys/fs/cgroup/*/"$ISO_PARENT" /sys/fs/cgroup/"$ISO_PARENT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	(exit "$rc")
	al_finish
}
trap finish EXIT

# newest_record STATE_DIR: the record file written last.
newest_record() {
	find "$1/records" -maxdepth 1 -name '*.json' -printf '%T@ %p\n' 2>/dev/null |
		sort -n | tail -n 1 | cut -d' ' -f2-
}

# refused_case NAME REASON [RUN OPTIONS] -- CMD...: the attempt exits 125 and leaves one
# record, cause "refused" with REASON, whose message is airlock's own stderr line. Runs
# $RUN_PREFIX (e.g. a namespace's nsenter) before airlock when set. Sets REC.
refused_case() {
	local name=$1 reason=$2 st=$AL_TMP/st-$1
	shift 2
	mkdir -p "$st"
	# shellcheck disable=SC2086 # RUN_PREFIX is a command line, split on purpose
	${RUN_PREFIX:-} "$AIRLOCK" run --state-dir "$st" "$@" >/dev/null 2>"$AL_TMP/err-$name" </dev/null
	AL_RC=$?
	REC=$(newest_record "$st")
	al_is "$AL_RC $(find "$st/records" -name '*.json' 2>/dev/null | wc -l)" "125 1" \
		"$name: refused (exit 125) and one record left"
	if [ -z "$REC" ]; then
		REC=/nonexistent
		sed 's/^/err: /' "$AL_TMP/err-$name" | al_diag
		return
	fi
	al_is "$(al_json "$REC" 'r["exit"]["cause"], r["exit"]["reason"], r["record_version"]')" \
		"('refused', '$reason', 2)" "$name: the record names cause refused, reason $reason"
	al_is "airlock: $(al_json "$REC" 'r["exit"]["message"]')" "$(head -n 1 "$AL_TMP/err-$name")" \
		"$name: its message is the line airlock printed"
}

# ---- each kind of refusal ----

printf '{ "version": 1, "limits": { "wall_time": }' >"$AL_TMP/bad.json"
refused_case bad-policy policy_invalid --policy "$AL_TMP/bad.json" --workspace "$AL_WS" -- /bin/true
al_is "$(al_json "$REC" '"digest" in r["policy"], r["policy"]["file"], r["command"], r["workspace"]')" \
	"(False, '$AL_TMP/bad.json', ['/bin/true'], '$AL_WS')" \
	"bad-policy: the record has the file, the command and the workspace as asked, no digest"

pol=$(al_policy cmd <<'JSON'
{ "version": 1, "name": "only-true", "command": { "allow": ["/bin/true"] } }
JSON
)
SUDO_UID=4242 SUDO_USER=someone refused_case command command_not_allowed --policy "$pol" \
	--workspace "$AL_WS" -- /bin/echo hi
"$REAL_AIRLOCK" policy show "$pol" >"$AL_TMP/effective.json"
al_is "$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); e = json.load(open(sys.argv[2]))
print(r["policy"]["effective"] == e, r["policy"]["name"], r["policy"]["digest"][:7])' "$REC" "$AL_TMP/effective.json")" \
	"True only-true sha256:" "command: the record holds the effective policy itself and its digest"
al_is "$(al_json "$REC" 'r["caller"]["uid"], r["caller"]["euid"], r["caller"]["user"], r["caller"]["sudo"]')" \
	"(0, 0, 'root', {'uid': 4242, 'user': 'someone'})" "command: the record names the caller, and SUDO_UID"
al_is "$(al_json "$REC" 'r["checks"]')" "['policy']" "command: checks lists what passed before"

# A cidr rule inside the node's address pool is never reachable: refused before anything
# of the run exists (docs/network.md, "Host requirements").
printf '{ "version": 1, "network": { "pool": "10.240.0.0/16" } }\n' >"$AL_TMP/pool.conf"
chmod 644 "$AL_TMP/pool.conf"
pol=$(al_policy egress <<'JSON'
{ "version": 1, "network": { "egress": [ { "cidr": "10.240.3.0/24", "ports": [443] } ],
                             "dns": { "upstream": ["192.0.2.53"] } } }
JSON
)
refused_case egress egress_unreachable --config "$AL_TMP/pool.conf" --policy "$pol" \
	--workspace "$AL_WS" -- /bin/true
al_is "$(al_json "$REC" 'r["checks"]')" "['policy', 'command', 'kernel']" \
	"egress: checked before the credentials, the workspace and everything after"

pol=$(al_policy cred <<'JSON'
{ "version": 1, "credentials": [ { "name": "tok", "source": "caller", "deliver": { "env": "TOK" } } ] }
JSON
)
refused_case credential credentials_refused --policy "$pol" --workspace "$AL_WS" -- /bin/true

refused_case workspace workspace_refused --workspace / -- /bin/true

pol=$(al_policy bind <<JSON
{ "version": 1, "filesystem": { "binds": [ { "source": "$AL_TMP/no-such-dir", "target": "/opt/x" } ] } }
JSON
)
refused_case bind-source mounts_refused --policy "$pol" --workspace "$AL_WS" -- /bin/true
al_ok "$(al_json "$REC" 'r["exit"]["message"]' | grep -q 'no-such-dir'; echo $?)" \
	"bind-source: the message names the missing source"
al_is "$(al_json "$REC" 'r["features"], "syscall_abis" in r')" "([], False)" \
	"bind-source: no task ran, so the record names no mechanism that confined one"

pol=$(al_policy exec <<'JSON'
{ "version": 1, "filesystem": { "exec": ["/usr", "/no/such/dir"] } }
JSON
)
if [ -n "$(al_host_landlock_abi)" ]; then
	refused_case exec exec_refused --policy "$pol" --workspace "$AL_WS" -- /bin/true
	al_skip "kernel: a filesystem.exec policy without Landlock leaves a kernel_unsupported record" \
		"this kernel has Landlock: nothing to refuse"
else
	refused_case kernel kernel_unsupported --policy "$pol" --workspace "$AL_WS" -- /bin/true
fi

# A task whose exec failed went through every step before it: what confined it is recorded,
# and Landlock is what refused a command outside filesystem.exec.
features() {
	al_json "$1" '" ".join(r["features"]), r["exit"]["cause"], r["exit"]["code"], "syscall_abis" in r'
}
st=$AL_TMP/st-exec-failed
mkdir -p "$st"
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- /no/such/command >/dev/null 2>&1 </dev/null
REC=$(newest_record "$st")
al_ok "$(features "$REC" | grep -q "^('user-namespace .* no-new-privs seccomp.*', 'exec_failed', 127, True)$"; echo $?)" \
	"exec failed (not found): the record lists the mechanisms that confined the task ($(features "$REC"))"
pol=$(al_policy exec-usr <<'JSON'
{ "version": 1, "filesystem": { "exec": ["/usr"] } }
JSON
)
if [ -n "$(al_host_landlock_abi)" ]; then
	"$AIRLOCK" run --state-dir "$st" --policy "$pol" --workspace "$AL_WS" -- "$PROBE" true \
		>/dev/null 2>&1 </dev/null
	REC=$(newest_record "$st")
	al_ok "$(features "$REC" | grep -q "^('.* seccomp landlock-exec.*', 'exec_failed', 126, True)$"; echo $?)" \
		"exec refused by Landlock: the record says landlock-exec confined it ($(features "$REC"))"
else
	al_skip "exec refused by Landlock: the record says landlock-exec" "this kernel has no Landlock"
fi

# A limit this host cannot hold (a missing controller or io weights), as `airlock probe` says.
pol=$(al_policy iow <<'JSON'
{ "version": 1, "limits": { "io_weight": 200 } }
JSON
)
if "$REAL_AIRLOCK" probe | grep -q '^io-weight: no'; then
	refused_case controller limits_refused --policy "$pol" --workspace "$AL_WS" -- /bin/true
else
	al_skip "controller: a limit the host cannot hold leaves a limits_refused record" \
		"this host has io weights: nothing to refuse"
fi

# Forwarding off, in throw-away namespaces (test-net-forwarding builds the same).
if net_world_up "$AL_TMP"; then
	ip netns exec "$NET_H" sysctl -qw net.ipv4.ip_forward=0
	pol=$(al_policy net <<'JSON'
{ "version": 1, "network": { "egress": [ { "cidr": "11.1.0.10/32", "ports": [443] } ],
                             "dns": { "upstream": ["11.1.0.53"] } } }
JSON
)
	RUN_PREFIX="nsenter --net=/run/netns/$NET_H" refused_case forwarding network_refused \
		--policy "$pol" --workspace "$AL_WS" -- /bin/true
	al_ok "$(al_json "$REC" 'r["exit"]["message"]' | grep -q 'ip_forward'; echo $?)" \
		"forwarding: the message names ip_forward"
else
	al_ok 1 "forwarding: cannot build the test namespaces"
fi

# ---- every byte ----

# decode FILE EXPR: the bytes a record value stands for (string or {"base64": ...}), as hex.
decode() {
	python3 -c 'import base64, json, sys
r = json.load(open(sys.argv[1])); v = eval(sys.argv[2])
b = v.encode() if isinstance(v, str) else base64.b64decode(v["base64"], validate=True)
print(b.hex())' "$1" "$2"
}
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

st=$AL_TMP/st-bytes
mkdir -p "$st"
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" --record "$AL_TMP/bytes.json" -- \
	sh -c $'echo hidden #\xff' 'echo hello' >"$AL_TMP/out" 2>"$AL_TMP/err"
al_is "$? $(cat "$AL_TMP/out")" "0 hidden" "argv: the script with a \\xff byte ran"
al_is "$(al_json "$AL_TMP/bytes.json" 'len(r["command"])')" 4 "argv: no argument is dropped"
al_is "$(decode "$AL_TMP/bytes.json" 'r["command"][2]')" "$(hex $'echo hidden #\xff')" \
	"argv: the script's exact bytes are in the record (base64 form)"
al_is "$(al_json "$AL_TMP/bytes.json" 'r["command"][2]')" "{'base64': 'ZWNobyBoaWRkZW4gI/8='}" \
	"argv: in the documented form"

ws=$AL_TMP/$'ws-\xff\xfe'
mkdir -p "$ws"
chmod 755 "$ws"
"$AIRLOCK" run --state-dir "$st" --workspace "$ws" --record "$AL_TMP/ws.json" -- /bin/true \
	>/dev/null 2>"$AL_TMP/err"
al_is "$?" 0 "workspace: a path with \\xff runs and its record is written"
al_is "$(decode "$AL_TMP/ws.json" 'r["workspace"]')" "$(hex "$ws")" \
	"workspace: the exact path is in the record"

# File names: a state directory and a --record file whose names are not UTF-8.
st2=$AL_TMP/$'state-\xff'
mkdir -p "$st2"
rec2=$AL_TMP/$'rec-\xff.json'
"$AIRLOCK" run --state-dir "$st2" --workspace "$AL_WS" --record "$rec2" -- /bin/true \
	>/dev/null 2>"$AL_TMP/err"
al_is "$? $([ -f "$rec2" ]; echo $?)" "0 0" "file names: a --record FILE named with \\xff is written"
al_is "$(decode "$rec2" 'r["logs"]["stdout"]["path"]')" \
	"$(hex "$st2/logs/$(al_json "$rec2" 'r["run_id"]').stdout")" \
	"file names: the log path under a state directory named with \\xff is recorded exactly"
"$REAL_AIRLOCK" records list --state-dir "$st2" >"$AL_TMP/list2" 2>&1
al_is "$? $(grep -c /bin/true "$AL_TMP/list2")" "0 1" "file names: records list reads that state directory"

# ---- listing ----

# Many runs in one second: refusals are fast, each names its place in the sequence.
st=$AL_TMP/st-list
mkdir -p "$st"
pol=$(al_policy none <<'JSON'
{ "version": 1, "command": { "allow": ["/bin/true"] } }
JSON
)
for i in $(seq -w 1 12); do
	"$REAL_AIRLOCK" run --state-dir "$st" --policy "$pol" --workspace "$AL_WS" -- "/c$i" 2>/dev/null
done
"$REAL_AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- /bin/true 2>/dev/null
"$REAL_AIRLOCK" records list --state-dir "$st" >"$AL_TMP/list" 2>&1
al_is "$(awk 'NR > 1 { print $NF }' "$AL_TMP/list" | tr '\n' ' ')" \
	"$(printf '/c%s ' $(seq -w 1 12))/bin/true " "list: runs in time order, within a second too"
al_ok "$(python3 -c 'import json, sys, glob, collections
secs = collections.Counter(json.load(open(f))["started_at"][:19] for f in glob.glob(sys.argv[1] + "/records/*.json"))
sys.exit(0 if max(secs.values()) > 1 else 1)' "$st"; echo $?)" "list: (several of them started in the same second)"

"$REAL_AIRLOCK" records list --json --state-dir "$st" --cause refused >"$AL_TMP/json" 2>&1
al_is "$(python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(len(rows), {r["cause"] for r in rows}, {r["reason"] for r in rows}, rows[0]["command"])' "$AL_TMP/json")" \
	"12 {'refused'} {'command_not_allowed'} ['/c01']" "list --json --cause: JSON lines, only refused ones"
digest=$(al_json "$(newest_record "$st")" 'r["policy"]["digest"]')
al_is "$("$REAL_AIRLOCK" records list --state-dir "$st" --exit 0 --policy-digest "$digest" | awk 'NR > 1 { print $NF }')" \
	/bin/true "list --exit --policy-digest: the one run"
al_is "$("$REAL_AIRLOCK" records list --state-dir "$st" --limit 2 | awk 'NR > 1 { print $NF }' | tr '\n' ' ')" \
	"/c12 /bin/true " "list --limit: the last ones"
first_ns=$(python3 -c 'import json, sys, glob
print(sorted(json.load(open(f))["started_ns"] for f in glob.glob(sys.argv[1] + "/records/*.json"))[3])' "$st")
since="@$((first_ns / 1000000000)).$(printf '%09d' $((first_ns % 1000000000)))"
al_is "$("$REAL_AIRLOCK" records list --state-dir "$st" --since "$since" --until @4000000000 | awk 'NR > 1 { print $NF }' | head -n 1)" \
	/c04 "list --since: from that start on, to the nanosecond"
"$REAL_AIRLOCK" records list --state-dir "$st" --since yesterday >/dev/null 2>"$AL_TMP/err"
al_is "$? $(grep -c -- '--since' "$AL_TMP/err")" "2 1" "list --since: a bad time is refused in one line"
"$REAL_AIRLOCK" records list --state-dir "$st" --cause bogus >"$AL_TMP/out" 2>"$AL_TMP/err"
al_is "$? $(grep -c -- "--cause 'bogus': not a cause" "$AL_TMP/err") $(wc -c <"$AL_TMP/out")" "2 1 0" \
	"list --cause: a cause no record holds is refused in one line (a typo listed nothing)"
# A state directory that is not there is named, not listed as empty; one without runs is.
"$REAL_AIRLOCK" records list --state-dir "$AL_TMP/no-such-state" >"$AL_TMP/out" 2>"$AL_TMP/err"
al_is "$? $(cat "$AL_TMP/err")" "1 airlock: records: no state directory '$AL_TMP/no-such-state'" \
	"list: a state directory that does not exist is refused in one line"
"$REAL_AIRLOCK" records verify --state-dir "$AL_TMP/no-such-state" >"$AL_TMP/out" 2>"$AL_TMP/err"
al_is "$? $(cat "$AL_TMP/err")" \
	"1 airlock: Failed to open state directory '$AL_TMP/no-such-state': No such file or directory" \
	"verify: a state directory that does not exist is named (as head and pubkey name it), not its keyring"
mkdir "$AL_TMP/empty-state"
"$REAL_AIRLOCK" records list --state-dir "$AL_TMP/empty-state" >"$AL_TMP/out" 2>"$AL_TMP/err"
al_is "$? $(wc -c <"$AL_TMP/out") $(wc -c <"$AL_TMP/err")" "0 0 0" \
	"list: a state directory without runs lists nothing"
# A run in progress: its record's code 0 is no exit status, so neither shown nor matched.
st3=$AL_TMP/st-running
mkdir -p "$st3"
"$REAL_AIRLOCK" run --state-dir "$st3" --workspace "$AL_WS" -- /bin/sleep 4 2>/dev/null &
bg=$!
for _ in $(seq 60); do
	grep -rqs '"cause": "running"' "$st3" && break
	sleep 0.1
done
"$REAL_AIRLOCK" records list --state-dir "$st3" >"$AL_TMP/list" 2>&1
al_is "$(awk 'NR > 1 { print $4, $5, $6 }' "$AL_TMP/list")" "- running /bin/sleep" \
	"list: a run in progress shows '-', not 0, as its exit code"
al_is "$("$REAL_AIRLOCK" records list --state-dir "$st3" --exit 0 | wc -l)" 1 \
	"list --exit 0: a run in progress is not one that exited 0 (only the header)"
wait "$bg"
al_is "$("$REAL_AIRLOCK" records list --state-dir "$st3" --exit 0 | awk 'NR > 1 { print $5 }')" exited \
	"list --exit 0: the same run once it exited 0"
# A verb without its run ID, or with arguments it does not take, says which in one line.
verb_refused() { # verb_refused WANT ARG...
	local want=$1
	shift
	"$REAL_AIRLOCK" records --state-dir "$st" "$@" >/dev/null 2>"$AL_TMP/err"
	al_is "$? $(head -1 "$AL_TMP/err")" "2 airlock: records: $want" \
		"records $*: the reason first, then the usage"
}
verb_refused "'logs' needs a run ID" logs
verb_refused "'events' needs a run ID" events
verb_refused "'head' takes no arguments" head extra
verb_refused "'show' takes one run ID" show a b
verb_refused "unknown verb 'bogus'" bogus
verb_refused "--state-dir needs a value (DIR)" verify --state-dir
verb_refused "--state-dir needs a value (DIR)" head --state-dir
verb_refused "'export' needs a run ID" export --format in-toto
"$REAL_AIRLOCK" records export "$(basename "$(newest_record "$st")" .json)" --state-dir "$st" \
	>/dev/null 2>"$AL_TMP/err"
al_is "$? $(cat "$AL_TMP/err")" "2 airlock: records export: no --format: expected --format in-toto" \
	"records export ID without --format says so"
# export's options in any order, as list's: the envelope of the run asked for.
"$REAL_AIRLOCK" records export --format in-toto "$(basename "$(newest_record "$st")" .json)" \
	--state-dir "$st" >"$AL_TMP/env" 2>"$AL_TMP/err"
al_is "$? $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["payloadType"])' "$AL_TMP/env" 2>&1)" \
	"0 application/vnd.in-toto+json" "records export --format in-toto ID --state-dir DIR: exported"
al_diag <"$AL_TMP/err"

# Escape sequences in command[0] cannot reach the terminal.
"$REAL_AIRLOCK" run --state-dir "$st" --policy "$pol" --workspace "$AL_WS" -- \
	$'/x\e]0;owned\a\e[2J\x9b\xe2\x80\xaeevil\nnext' 2>/dev/null
"$REAL_AIRLOCK" records list --state-dir "$st" --limit 1 >"$AL_TMP/list" 2>&1
al_is "$(LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f\x9b]' "$AL_TMP/list") $(wc -l <"$AL_TMP/list")" "0 2" \
	"list: no control byte in the listing, one line per record"
al_is "$(tail -n 1 "$AL_TMP/list" | awk '{ print $NF }')" \
	'/x\x1b]0;owned\x07\x1b[2J\x9b\u202eevil\x0anext' "list: the command is shown escaped"
"$REAL_AIRLOCK" records list --state-dir "$st" --limit 1 --json >"$AL_TMP/list" 2>&1
al_is "$(LC_ALL=C grep -c $'[\x01-\x1f\x7f-\xff]' "$AL_TMP/list")" 0 "list --json: ASCII only, escaped"

# ---- show ----

id=$(al_json "$(newest_record "$st")" 'r["run_id"]')
"$REAL_AIRLOCK" records show "$id" --state-dir "$st" >"$AL_TMP/show" 2>&1
al_is "$? $(al_json "$AL_TMP/show" 'r["run_id"]')" "0 $id" "show: a record, --state-dir after the verb"
bad=20260101T000000Z-0badf11e
printf '{"record_version": 2, "run_id": "%s", "exit": {"code": 0, ' "$bad" >"$st/records/$bad.json"
"$REAL_AIRLOCK" records show --state-dir "$st" "$bad" >"$AL_TMP/show" 2>"$AL_TMP/err"
rc=$?
al_ok "$([ $rc -ne 0 ] && [ ! -s "$AL_TMP/show" ] && [ "$(wc -l <"$AL_TMP/err")" -eq 1 ] &&
	grep -q "$bad.json: not a valid run record" "$AL_TMP/err"; echo $?)" \
	"show: a truncated record exits non-zero ($rc) with one line naming the file"
echo '{"run_id": "x"}' >"$st/records/$bad.json"
"$REAL_AIRLOCK" records show --state-dir "$st" "$bad" >/dev/null 2>"$AL_TMP/err"
rc=$?
al_ok "$([ $rc -ne 0 ] && grep -q 'not a valid run record: no integer record_version' "$AL_TMP/err"; echo $?)" \
	"show: a JSON object that is not a record exits non-zero, naming what it lacks"
"$REAL_AIRLOCK" records show --state-dir "$st" 20000101T000000Z-00000000 >/dev/null 2>"$AL_TMP/err"
al_is "$? $(cat "$AL_TMP/err")" "1 airlock: records: no run '20000101T000000Z-00000000' in '$st'" \
	"show: an unknown run is named as records logs and events name it"
"$REAL_AIRLOCK" records list --state-dir "$st" --limit 1 >"$AL_TMP/list" 2>&1
al_is "$? $(grep -c "$bad.json (unreadable record" "$AL_TMP/list")" "1 1" \
	"list: a corrupt file is listed as such (exit 1), whatever --limit says"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# airlock run with the default policy: exit codes, output streams, identity, environment,
# the run record, and `airlock probe` / `airlock policy show`.
. "$(dirname "$0")/lib.sh"
al_init

al_expect_rc 0 "true exits 0" -- "$PROBE" true
al_expect_rc 3 "the task's own status is returned" -- "$PROBE" exit 3
al_expect_rc $((128 + 9)) "death by SIGKILL is 128+9" -- "$PROBE" kill 9
al_expect_rc $((128 + 15)) "death by SIGTERM is 128+15" -- "$PROBE" kill 15
al_expect_rc 127 "a missing command is 127" -- /usr/bin/no-such-command-$$
echo 'echo hi' >"$AL_WS/not-executable"
chmod 644 "$AL_WS/not-executable"
al_expect_rc 126 "a non-executable file is 126" -- /workspace/not-executable

al_run -- /bin/sh -c 'echo to-stdout; echo to-stderr >&2; exit 0'
al_is "$AL_OUT" "to-stdout" "task stdout is streamed to stdout"
al_ok "$(grep -qx 'to-stderr' "$AL_TMP/err"; echo $?)" "task stderr is streamed to stderr"
al_run -- "$PROBE" output 1000000
al_is "$(wc -c <"$AL_TMP/out")" 1000000 "1 MB of output arrives intact"

al_check "uid and gid are 1000 inside" -- "$PROBE" ids 1000 1000
al_check "hostname is airlock" -- "$PROBE" hostname airlock
al_check "cwd is /workspace" -- "$PROBE" cwd /workspace
al_check "environment is exactly the default" -- "$PROBE" env \
	PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/tmp USER=airlock
al_check "open_files default is 1024" -- "$PROBE" rlimit 1024
al_run -- /usr/bin/id -un
al_is "$AL_OUT" "airlock" "the generated /etc/passwd names the task user"

# The run record.
rec=$AL_TMP/record.json
al_run --record "$rec" -- "$PROBE" exit 5
al_ok "$([ -s "$rec" ]; echo $?)" "--record writes the record"
if [ -s "$rec" ]; then
	al_is "$(al_json "$rec" 'r["record_version"]')" 2 "record_version is 2"
	al_is "$(al_json "$rec" 'r["exit"]["code"], r["exit"]["cause"]')" "(5, 'exited')" \
		"record exit code and cause"
	al_is "$(al_json "$rec" 'r["command"]')" "['$PROBE', 'exit', '5']" "record command"
	al_ok "$(al_json "$rec" 'r["policy"]["digest"]' | grep -Eqx 'sha256:[0-9a-f]{64}'; echo $?)" \
		"record policy digest is sha256:<hex>"
	id=$(al_json "$rec" 'r["run_id"]')
	al_ok "$(cmp -s "$rec" "$AL_STATE/records/$id.json"; echo $?)" \
		"the record is kept in <state-dir>/records/<run-id>.json"
	al_ok "$(al_json "$rec" 'all(k in r for k in ("started_at","ended_at","duration_ms","host","airlock_version","limits","features","output","workspace"))' | grep -qx True; echo $?)" \
		"record has every contract field"
fi
al_run --record "$rec" -- "$PROBE" kill 6
al_is "$(al_json "$rec" 'r["exit"]["cause"], r["exit"]["signal"]' 2>&1)" "('signaled', 6)" \
	"record of a signaled task"

# Other subcommands.
"$AIRLOCK" probe >"$AL_TMP/probe.txt" 2>&1
al_ok "$(grep -Eq '^[a-z0-9_-]+: (yes|no)' "$AL_TMP/probe.txt"; echo $?)" \
	"airlock probe lists features as 'name: yes|no'"
"$AIRLOCK" probe --json >"$AL_TMP/probe.json" 2>&1
al_ok "$(python3 -m json.tool "$AL_TMP/probe.json" >/dev/null 2>&1; echo $?)" \
	"airlock probe --json is JSON"
"$AIRLOCK" policy show >"$AL_TMP/show.json" 2>&1
al_is "$(al_json "$AL_TMP/show.json" 'r["identity"]["uid"], r["limits"]["wall_time"]' 2>&1)" \
	"(1000, '10m')" "policy show prints the default policy"

# Without root: `run` refuses at once in one line, before it touches any state; the
# policy commands need no privilege.
if ! command -v setpriv >/dev/null; then
	al_skip "airlock run refuses a non-root caller" "setpriv not installed"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$AIRLOCK"; then
	al_skip "airlock run refuses a non-root caller" "uid 65534 cannot execute $AIRLOCK"
else
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	mkdir -p "$AL_TMP/nobody-state"
	chown 65534:65534 "$AL_TMP/nobody-state"
	(cd "$AL_WS" && "${nobody[@]}" "$AIRLOCK" run --state-dir "$AL_TMP/nobody-state" \
		-- /bin/true) >"$AL_TMP/out" 2>"$AL_TMP/err" </dev/null
	AL_RC=$?
	al_is "$AL_RC" 125 "airlock run as uid 65534 exits 125"
	al_is "$(wc -l <"$AL_TMP/err") $(grep -c 'must run as root' "$AL_TMP/err")" "1 1" \
		"... with one line on stderr saying it must run as root"
	al_is "$(find "$AL_TMP/nobody-state" -mindepth 1 | wc -l)" 0 \
		"... before it creates any state"
	[ "$AL_RC" -eq 125 ] || al_show
	"${nobody[@]}" "$AIRLOCK" policy show >"$AL_TMP/show.json" 2>"$AL_TMP/err"
	al_ok $? "airlock policy show works without root"
	"${nobody[@]}" "$AIRLOCK" policy check "$AL_TMP/show.json" >/dev/null 2>"$AL_TMP/err"
	al_ok $? "airlock policy check works without root"
fi

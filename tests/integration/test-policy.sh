#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Policies and refusals: exit 125 with one "airlock: " line naming the cause (and the JSON
# path of a bad policy), wall time 124, the output limit marker, policy check.
. "$(dirname "$0")/lib.sh"
al_init

# expect_refusal DESCRIPTION PATTERN [RUN OPTIONS] -- CMD...
expect_refusal() {
	local desc=$1 pat=$2
	shift 2
	al_run "$@"
	al_is "$AL_RC" 125 "$desc: exit 125"
	al_ok "$(echo "$AL_ERR" | grep -E '^airlock: ' | grep -Eq -- "$pat"; echo $?)" \
		"$desc: stderr names the cause ($pat)"
	[ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -Eq -- "$pat" || al_show
}

bad_key=$(al_policy bad-key <<'JSON'
{ "version": 1, "limits": { "wall_time": "1m", "colour": "blue" } }
JSON
)
expect_refusal "unknown key" 'policy: /limits/colour' --policy "$bad_key" -- "$PROBE" true
bad_type=$(al_policy bad-type <<'JSON'
{ "version": 1, "identity": { "uid": "root" } }
JSON
)
expect_refusal "wrong type" 'policy: /identity/uid' --policy "$bad_type" -- "$PROBE" true
bad_ver=$(al_policy bad-version <<'JSON'
{ "version": 2 }
JSON
)
expect_refusal "unsupported version" 'policy: /version' --policy "$bad_ver" -- "$PROBE" true
printf '{ "version": 1, ' >"$AL_TMP/truncated.json"
expect_refusal "truncated JSON" 'policy: ' --policy "$AL_TMP/truncated.json" -- "$PROBE" true
expect_refusal "missing policy file" 'airlock: .*nonexistent' \
	--policy "$AL_TMP/nonexistent.json" -- "$PROBE" true
# jansson alone calls a NUL byte after the JSON "end of file expected near end of file".
printf '{ "version": 1 }\n\0' >"$AL_TMP/nul.json"
expect_refusal "a NUL byte after the JSON" 'policy: / \(line 2, column 1\): a NUL byte at byte offset 17' \
	--policy "$AL_TMP/nul.json" -- "$PROBE" true
# Input files: a regular file, or a pipe or FIFO that delivers within 10 s; nothing else.
expect_refusal "a directory as the policy" "Failed to read '$AL_TMP': Is a directory" \
	--policy "$AL_TMP" -- "$PROBE" true
expect_refusal "a device as the policy" "Failed to read '/dev/zero': not a regular file, pipe or FIFO" \
	--policy /dev/zero -- "$PROBE" true
mkfifo "$AL_TMP/fifo.json"
start=$(date +%s)
timeout -s KILL 40 "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" \
	--policy "$AL_TMP/fifo.json" -- "$PROBE" true </dev/null >/dev/null 2>"$AL_TMP/fifo.err"
rc=$? took=$(($(date +%s) - start))
al_ok "$([ "$rc" -eq 125 ] && [ "$took" -le 20 ]; echo $?)" \
	"a FIFO nobody writes is given up on (exit $rc after ${took}s, want 125 within 20s)"
al_ok "$(grep -q "^airlock: Failed to read '$AL_TMP/fifo.json': it is a pipe or FIFO and nothing wrote it to the end within 10 s$" \
	"$AL_TMP/fifo.err"; echo $?)" "the FIFO's refusal says so in one line"
echo '{ "version": 1 }' >"$AL_TMP/plain.json"
(sleep 1; cat "$AL_TMP/plain.json") >"$AL_TMP/fifo.json" &
al_check "a FIFO whose writer comes later is read" --policy "$AL_TMP/fifo.json" -- "$PROBE" true
wait
al_check "a pipe (process substitution) is read" --policy <(cat "$AL_TMP/plain.json") -- "$PROBE" true
# An empty path would be read as the current directory or the root (--state-dir "" wrote
# records to /records).
for opt in --policy --workspace --state-dir --record --config; do
	expect_refusal "$opt ''" "^airlock: $opt: the path is an empty string$" "$opt" "" -- "$PROBE" true
done
al_ok "$([ ! -e /records ]; echo $?)" "no /records directory was created"
# A path option whose value was forgotten takes the next word: "--export -- CMD" made a
# directory named "--" in the current directory and ran CMD. From a directory of the test's.
mkdir "$AL_TMP/cwd"
cd "$AL_TMP/cwd" || exit 1
for opt in --policy --workspace --state-dir --record --export --config --diagnostics-file; do
	expect_refusal "$opt --" "^airlock: $opt: '--' is an option, not a path" "$opt" -- "$PROBE" true
done
art=$(al_policy artifacts <<'JSON'
{ "version": 1, "artifacts": {} }
JSON
)
expect_refusal "--export -- under a policy with artifacts" "^airlock: --export: '--' is an option" \
	--policy "$art" --export -- "$PROBE" true
al_ok "$([ ! -e ./-- ] && [ ! -e "$AL_WS/--" ]; echo $?)" \
	"no directory named '--' was made in the current directory or the workspace"
cd - >/dev/null || exit 1
"$AIRLOCK" records --state-dir "" list >/dev/null 2>&1
al_is "$?" 2 "records --state-dir '' is refused"
"$AIRLOCK" policy check "" >/dev/null 2>&1
al_is "$?" 1 "policy check '' is refused"
mem=$(al_policy memory <<'JSON'
{ "version": 1, "limits": { "memory": "512M" } }
JSON
)
al_run --policy "$mem" --record "$AL_TMP/mem.json" -- "$PROBE" true
if ! al_host_has_controller memory; then
	# No memory controller to enforce it with: refusing is the contract.
	al_is "$AL_RC" 125 "a memory limit the host cannot enforce is refused (125)"
	al_ok "$(echo "$AL_ERR" | grep -Eq '^airlock: .*memory'; echo $?)" \
		"a memory limit that cannot be enforced is refused, naming memory"
else
	al_is "$AL_RC" 0 "a policy with a memory limit runs"
	al_is "$(al_json "$AL_TMP/mem.json" 'r["limits"]["memory"]' 2>&1)" "512M" \
		"the record carries the memory limit"
	small=$(al_policy small-memory <<'JSON'
{ "version": 1, "limits": { "memory": "64M" } }
JSON
)
	al_run --policy "$small" -- python3 -c \
		'b = bytearray(256 << 20); b[::4096] = b"x" * len(b[::4096]); print("allocated")'
	al_ok "$([ "$AL_RC" -ne 0 ] && [ "$AL_OUT" != allocated ]; echo $?)" \
		"a 64M memory limit stops a 256M allocation (exit $AL_RC)"
fi
allow=$(al_policy allow <<'JSON'
{ "version": 1, "command": { "allow": [ "/usr/bin/true", "echo" ] } }
JSON
)
expect_refusal "command not allowed" 'not allowed|allow' --policy "$allow" -- /bin/cat /etc/hostname
al_expect_rc 0 "an allowed command (by path) runs" --policy "$allow" -- /usr/bin/true
al_expect_rc 0 "an allowed command (by basename) runs" --policy "$allow" -- echo hi

expect_refusal "a bare name allowed only by path" "lists '/usr/bin/true': invoke it by that path" \
	--policy "$allow" -- true

# Host-dependent refusals name the policy entry at fault, at run time and in
# `policy check --host`, which prints every refusal a run from that workspace would meet.
missing=$(al_policy missing-bind <<JSON
{ "version": 1, "filesystem": { "binds": [
    { "source": "$AL_TMP", "target": "/data/one" },
    { "source": "$AL_TMP/no-such-dir", "target": "/data/two" } ],
  "rootfs": "$AL_TMP/no-such-root" } }
JSON
)
expect_refusal "a missing rootfs" "/filesystem/rootfs: '$AL_TMP/no-such-root' does not exist" \
	--policy "$missing" -- "$PROBE" true
"$AIRLOCK" policy check "$missing" --host --workspace "$AL_WS" >"$AL_TMP/host.out" 2>&1
al_is "$?" 1 "policy check --host of a policy this host cannot run exits 1"
al_ok "$(grep -q "would be refused: /filesystem/rootfs: '$AL_TMP/no-such-root' does not exist" \
	"$AL_TMP/host.out"; echo $?)" "policy check --host names /filesystem/rootfs"
nobind=$(al_policy missing-bind-only <<JSON
{ "version": 1, "filesystem": { "binds": [
    { "source": "$AL_TMP", "target": "/data/one" },
    { "source": "$AL_TMP/no-such-dir", "target": "/data/two" } ] } }
JSON
)
expect_refusal "a missing bind source" "/filesystem/binds/1/source: '$AL_TMP/no-such-dir' does not exist" \
	--policy "$nobind" -- "$PROBE" true
"$AIRLOCK" policy check "$nobind" --host --workspace "$AL_WS" >"$AL_TMP/host.out" 2>&1
al_ok "$(grep -q "would be refused: /filesystem/binds/1/source: '$AL_TMP/no-such-dir'" \
	"$AL_TMP/host.out"; echo $?)" "policy check --host names /filesystem/binds/1/source"
"$AIRLOCK" policy check "$nobind" --host --workspace /usr >"$AL_TMP/host.out" 2>&1
al_ok "$(grep -q "would be refused: workspace '/usr' is a system directory" "$AL_TMP/host.out"; echo $?)" \
	"policy check --host also names a system directory as workspace"
# One rule for system directories: the shared temporary directories alike.
for d in /tmp /var/tmp; do
	expect_refusal "workspace $d" "workspace '$d' is a system directory" --workspace "$d" -- "$PROBE" true
done
# The state directory holds the records: a task must not be able to write it.
mkdir -p "$AL_TMP/proj/state"
al_run --workspace "$AL_TMP/proj" --state-dir "$AL_TMP/proj/state" -- "$PROBE" true
al_ok "$([ "$AL_RC" -eq 125 ] && echo "$AL_ERR" | grep -q "workspace '$AL_TMP/proj' holds or lies in the state directory"; echo $?)" \
	"a workspace that holds the state directory is refused"
# A workspace that is a file: its errno after a colon ("workspace 'F' Not a directory" read
# as a sentence fragment).
echo x >"$AL_TMP/a-file"
expect_refusal "a file as workspace" "refusing run: workspace '$AL_TMP/a-file': Not a directory$" \
	--workspace "$AL_TMP/a-file" -- "$PROBE" true
"$AIRLOCK" policy check "$allow" --host --workspace "$AL_WS" >"$AL_TMP/host.out" 2>&1
al_is "$?" 0 "policy check --host of a policy this host can run exits 0"
al_ok "$(grep -q ': ok on this host$' "$AL_TMP/host.out"; echo $?)" "and says so"
"$AIRLOCK" policy check --host >/dev/null 2>&1
al_is "$?" 2 "policy check --host without a file is a usage error"
# A usage error names what is wrong in its first line, then the usage.
policy_usage() { # policy_usage WANT ARG...
	local want=$1
	shift
	"$AIRLOCK" policy "$@" >/dev/null 2>"$AL_TMP/err"
	al_is "$? $(head -n 1 "$AL_TMP/err")" "2 airlock: $want" "policy $*: the reason first"
}
policy_usage "policy check: the policy FILE is missing" check --host
policy_usage "policy check: unknown option '--bogus'" check "$allow" --bogus
policy_usage "policy check: one FILE only, 'extra.json' is a second" check "$allow" extra.json
policy_usage "policy check: --workspace needs a value (DIR)" check "$allow" --host --workspace
policy_usage "policy check: --workspace and --config go with --host" check "$allow" --workspace "$AL_WS"
policy_usage "policy show: at most one FILE, 'b.json' is a second" show a.json b.json
policy_usage "policy: a verb is needed (check, show)"
policy_usage "policy: unknown verb 'chek' (check, show)" chek "$allow"

exec_pol=$(al_policy exec-missing <<'JSON'
{ "version": 1, "filesystem": { "exec": [ "/bin", "/opt/airlock-no-such-dir" ],
  "etc": [ "airlock-no-such-entry" ] } }
JSON
)
"$AIRLOCK" policy check "$exec_pol" --host --workspace "$AL_WS" >"$AL_TMP/host.out" 2>&1
al_ok "$(grep -q "would be refused: /filesystem/exec/1: '/opt/airlock-no-such-dir' does not exist in the sandbox's root" \
	"$AL_TMP/host.out"; echo $?)" "policy check --host resolves exec entries (/bin passes, a missing one is named)"
exec_pol=$(al_policy etc-missing <<'JSON'
{ "version": 1, "filesystem": { "exec": [ "/bin", "/usr" ], "etc": [ "airlock-no-such-entry" ] } }
JSON
)
"$AIRLOCK" policy check "$exec_pol" --host --workspace "$AL_WS" >"$AL_TMP/host.out" 2>&1
al_ok "$(grep -q "would be refused: /filesystem/etc/0: 'airlock-no-such-entry' does not exist" \
	"$AL_TMP/host.out"; echo $?)" "policy check --host names a missing /filesystem/etc entry"
# A grant whose issuer the node configuration does not define refuses every run.
grant=$(al_policy grant <<'JSON'
{ "version": 1, "credentials": [ { "name": "api", "source": "issuer:idp", "ttl": "1m",
    "deliver": { "file": "/run/secrets/api" } } ] }
JSON
)
echo '{ "version": 1 }' >"$AL_TMP/no-issuers.json"
chmod 644 "$AL_TMP/no-issuers.json"
"$AIRLOCK" policy check "$grant" --host --workspace "$AL_WS" --config "$AL_TMP/no-issuers.json" \
	>"$AL_TMP/host.out" 2>&1
al_is "$?" 1 "policy check --host of a grant from an undefined issuer exits 1"
al_ok "$(grep -q "would be refused: /credentials/0: credential 'api' names issuer 'idp', which the node configuration does not define$" \
	"$AL_TMP/host.out"; echo $?)" "policy check --host names the grant and its undefined issuer" ||
	sed 's/^/# /' "$AL_TMP/host.out"

# io_weight: one truth for `airlock probe`, `policy check --host` and the run.
iow=$(al_policy io-weight <<'JSON'
{ "version": 1, "limits": { "io_weight": 200 } }
JSON
)
"$AIRLOCK" policy check "$iow" --host --workspace "$AL_WS" >"$AL_TMP/host.out" 2>&1
check_rc=$?
al_run --policy "$iow" -- "$PROBE" true
if "$AIRLOCK" probe | grep -q '^io-weight: yes'; then
	al_is "$AL_RC" 0 "io-weight: yes in airlock probe, and an io_weight policy runs"
	al_is "$check_rc" 0 "policy check --host agrees"
else
	al_is "$AL_RC" 125 "io-weight: no in airlock probe, and an io_weight policy is refused"
	al_ok "$(echo "$AL_ERR" | grep -q '^airlock: refusing run: /limits/io_weight needs io weights'; echo $?)" \
		"the refusal names /limits/io_weight"
	al_ok "$(grep -q 'would be refused: /limits/io_weight' "$AL_TMP/host.out"; echo $?)" \
		"policy check --host names /limits/io_weight too"
fi

"$AIRLOCK" policy check "$bad_key" >"$AL_TMP/check.out" 2>&1
rc=$?
al_is "$rc" 1 "policy check of a bad policy exits 1"
al_ok "$(grep -q '/limits/colour' "$AL_TMP/check.out"; echo $?)" "policy check names the JSON path"
"$AIRLOCK" policy check "$allow" >/dev/null 2>&1
al_is "$?" 0 "policy check of a good policy exits 0"

wall=$(al_policy wall <<'JSON'
{ "version": 1, "limits": { "wall_time": "2s" } }
JSON
)
start=$(date +%s%N)
al_expect_rc 124 "wall_time 2s ends a sleeping task with 124" --policy "$wall" --record "$AL_TMP/wall.json" -- "$PROBE" sleep 30
ms=$((($(date +%s%N) - start) / 1000000))
al_ok "$([ "$ms" -ge 1900 ] && [ "$ms" -lt 6000 ]; echo $?)" "it ended after about 2s (${ms}ms)"
al_is "$(al_json "$AL_TMP/wall.json" 'r["exit"]["cause"]' 2>&1)" "wall_time" "record cause is wall_time"

out=$(al_policy output <<'JSON'
{ "version": 1, "limits": { "output": "64K" } }
JSON
)
al_run --policy "$out" --record "$AL_TMP/out.json" -- "$PROBE" output 1000000
al_ok "$([ "$(wc -c <"$AL_TMP/out")" -le 65536 ]; echo $?)" \
	"output past 64K is cut ($(wc -c <"$AL_TMP/out") bytes arrived)"
al_ok "$(grep -qx '\[airlock: output truncated at 65536 bytes\]' "$AL_TMP/err"; echo $?)" \
	"the truncation marker is written to stderr"
al_is "$(al_json "$AL_TMP/out.json" 'r["output"]["truncated"]' 2>&1)" "True" "record says truncated"

envp=$(al_policy env <<'JSON'
{ "version": 1, "environment": { "FOO": "bar baz", "LANG": "C" },
  "identity": { "uid": 4242, "gid": 4343, "hostname": "box-1" } }
JSON
)
al_run --policy "$envp" -- "$PROBE" env
al_ok "$(echo "$AL_OUT" | grep -qx 'env: FOO=bar baz'; echo $?)" "policy environment reaches the task"
al_ok "$(echo "$AL_OUT" | grep -Eq '(OLDPWD|SHELL|TERM|SSH|SUDO)' && echo 1 || echo 0)" \
	"nothing of the caller's environment leaks in"
al_check "policy identity sets uid/gid" --policy "$envp" -- "$PROBE" ids 4242 4343
al_check "policy identity sets the hostname" --policy "$envp" -- "$PROBE" hostname box-1

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Credential slots filled by the caller: file delivery (mode, owner, content, mount flags,
# templates, a path in a tmpfs mount), env delivery, the record's grants, the value
# nowhere else (state and runtime dirs, airlock's stderr, a core dump of airlock), every
# refusal (exit 125, one line, no record), --credential-fd, the source read once, and
# nothing left on the host after the run, also after kill -9 of airlock.
. "$(dirname "$0")/lib.sh"
al_init
# A private runtime directory and cgroup parent (lib.sh): the kill -9 case below leaves a
# dead run that no other airlock on the host may reap first, nor this test's runs theirs.
al_isolate credentials

SRC=$AL_TMP/src # the caller's secret files: the only place the values may be
mkdir -m 700 "$SRC"
rand() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
V_NPM=npm-$(rand)
V_GH=gh-$(rand)
V_RC=rc-$(rand)
V_PIP=pip-$(rand)
printf %s "$V_NPM" >"$SRC/npm"
printf %s "$V_GH" >"$SRC/gh"
printf %s "$V_RC" >"$SRC/rc"
printf %s "$V_PIP" >"$SRC/pip"
VALUES=("$V_NPM" "$V_GH" "$V_RC" "$V_PIP")

pol=$(al_policy creds <<'JSON'
{ "version": 1, "name": "creds",
  "credentials": [
    { "name": "npm", "source": "caller", "deliver": { "file": "/run/secrets/npm" } },
    { "name": "gh", "source": "caller", "deliver": { "env": "GH_TOKEN" } },
    { "name": "npmrc", "source": "caller",
      "deliver": { "file": "/home/airlock/.npmrc",
                   "template": "//registry.example.com/:_authToken={{value}}\n" } },
    { "name": "pip", "source": "caller", "deliver": { "file": "/tmp/pip/pip.conf" } } ] }
JSON
)
ALL=(--policy "$pol" --credential "npm=@$SRC/npm" --credential "gh=@$SRC/gh"
	--credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip")

# The task's output is redacted (docs/logs.md): a task shows a value by its SHA-256.
h() { printf %s "$1" | sha256sum | cut -c1-64; }
H_TASK='sha256sum | cut -c1-64'

# holds_value FILE...: 0 when any of the files holds any value (binary files too).
holds_value() {
	local v
	for v in "${VALUES[@]}"; do
		grep -aqF -- "$v" "$@" 2>/dev/null && return 0
	done
	return 1
}

# ---- file delivery ----

al_run "${ALL[@]}" --record "$AL_TMP/copy.json" -- /bin/sh -c '
	stat -c "%a %U %G %s" /run/secrets/npm /home/airlock/.npmrc /tmp/pip/pip.conf
	for f in /run/secrets/npm /tmp/pip/pip.conf /home/airlock/.npmrc; do
		cat "$f" | '"$H_TASK"'
	done
	printf %s "$GH_TOKEN" | '"$H_TASK"
al_is "$AL_RC" 0 "a run with every slot filled succeeds"
[ "$AL_RC" -eq 0 ] || al_show
al_is "$(sed -n 1,3p "$AL_TMP/out")" "400 airlock airlock ${#V_NPM}
400 airlock airlock $((${#V_RC} + 36))
400 airlock airlock ${#V_PIP}" "each file is 0400, owned by the task user, with the value's size"
al_is "$(sed -n 4p "$AL_TMP/out")" "$(h "$V_NPM")" "the file holds the value exactly"
al_is "$(sed -n 5p "$AL_TMP/out")" "$(h "$V_PIP")" "a file in a tmpfs mount of the policy holds its value"
al_is "$(sed -n 6p "$AL_TMP/out")" "$(h "//registry.example.com/:_authToken=$V_RC
")" "a template is rendered into its file"
al_is "$(sed -n 7p "$AL_TMP/out")" "$(h "$V_GH")" "env delivery sets the variable to the value"
al_is "$(grep -c . "$AL_TMP/err")" 0 "airlock prints nothing on stderr for a good run"

# The mounts as the task sees them: each file its own read-only, nosuid, nodev, noexec
# bind of one tmpfs, whose root (0700) is attached nowhere.
al_run "${ALL[@]}" -- /bin/sh -c '
	for f in /run/secrets/npm /home/airlock/.npmrc /tmp/pip/pip.conf; do
		awk -v f="$f" '"'"'$5 == f { n = split($0, p, " - "); split(p[2], fs, " ");
			print f, $6, fs[1], fs[2], fs[3] }'"'"' /proc/self/mountinfo
	done
	grep -c airlock-secrets /proc/self/mountinfo
	ls -a / | grep -c airlock; exit 0'
while read -r f opts fstype src super; do
	case "$f" in /*) ;; *) continue ;; esac
	ok=0
	for o in ro nosuid nodev noexec; do
		echo ",$opts," | grep -q ",$o," || ok=1
	done
	al_ok "$ok" "$f: mount options $opts (ro, nosuid, nodev, noexec)"
	al_is "$fstype $src" "tmpfs airlock-secrets" "$f: on the run's own tmpfs"
	al_ok "$(echo ",$super," | grep -q ',mode=700,'; echo $?)" "$f: the tmpfs's root is 0700 ($super)"
done <"$AL_TMP/out"
al_is "$(tail -n 2 "$AL_TMP/out" | tr '\n' ' ')" "3 0 " \
	"exactly the three files are mounted; no staging directory is left in the root"
[ "$AL_RC" -eq 0 ] || al_show

al_run "${ALL[@]}" -- /bin/sh -c '
	for f in /run/secrets/npm /home/airlock/.npmrc /tmp/pip/pip.conf; do
		(echo x >"$f") 2>/dev/null && echo "wrote $f"
		chmod 600 "$f" 2>/dev/null && echo "chmod $f"
		rm -f "$f" 2>/dev/null && echo "removed $f"
		mv "$f" "$f.x" 2>/dev/null && echo "moved $f"
		touch "$f.new" 2>/dev/null && [ "$f" != /tmp/pip/pip.conf ] && echo "created $f.new"
	done
	cat /run/secrets/npm >/dev/null && echo readable'
al_is "$AL_OUT" "readable" "the task can read its files but not write, chmod, remove or replace them"
[ "$AL_RC" -eq 0 ] || al_show

# ---- the record ----

rec=$(ls "$AL_STATE"/records/*.json | head -n 1)
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
al_is "$(al_json "$rec" '[(g["name"], g["source"], g["delivery"], g.get("file", g.get("env")),
	g.get("template"), g["weak"], g["bytes"]) for g in r["credentials"]]')" \
	"[('gh', 'caller', 'env', 'GH_TOKEN', None, True, ${#V_GH}), ('npm', 'caller', 'file', '/run/secrets/npm', False, False, ${#V_NPM}), ('npmrc', 'caller', 'file', '/home/airlock/.npmrc', True, False, ${#V_RC}), ('pip', 'caller', 'file', '/tmp/pip/pip.conf', False, False, ${#V_PIP})]" \
	"the record lists each grant: name, source, delivery, weak for env, bytes"
al_is "$(al_json "$rec" '" ".join(g["fingerprint"] for g in r["credentials"])')" \
	"sha256:$(sha "$V_GH") sha256:$(sha "$V_NPM") sha256:$(sha "$V_RC") sha256:$(sha "$V_PIP")" \
	"each grant's fingerprint is the SHA-256 of its value"
al_is "$(al_json "$AL_TMP/copy.json" 'len(r["credentials"])')" 4 "the --record copy has the grants"

# No value in the state dir, the runtime dir, the --record copy or airlock's stderr.
leaks=$(grep -rlaF -D skip -e "${VALUES[0]}" -e "${VALUES[1]}" -e "${VALUES[2]}" \
	-e "${VALUES[3]}" "$AL_STATE" "$AL_TMP/run" "$AL_TMP/copy.json" 2>/dev/null)
al_is "$leaks" "" "no value in the state dir, the runtime dir or the record"
al_run "${ALL[@]}" -- /bin/sh -c 'cat /run/secrets/npm /home/airlock/.npmrc /tmp/pip/pip.conf
	echo "$GH_TOKEN"; exit 3'
al_is "$AL_RC" 3 "a failing task's status passes through"
al_ok "$(holds_value "$AL_TMP/err"; [ $? -ne 0 ]; echo $?)" \
	"airlock's stderr holds no value (the task printed each to stdout)"
al_ok "$(holds_value "$AL_TMP/out"; [ $? -ne 0 ]; echo $?)" \
	"nor the caller's stdout: the task printed each, airlock redacted them"
al_is "$(cat "$AL_TMP/out")" "[REDACTED:npm]//registry.example.com/:_authToken=[REDACTED:npmrc]
[REDACTED:pip][REDACTED:gh]" "each value is replaced with its slot's label"

# ---- --credential-fd and the read-once source ----

al_run --policy "$pol" --credential "npm=@$SRC/npm" --credential-fd gh=3 \
	--credential "npmrc=@$SRC/rc" --credential-fd pip=4 \
	-- /bin/sh -c 'printf %s "$GH_TOKEN" | '"$H_TASK"'; cat /tmp/pip/pip.conf | '"$H_TASK" \
	3< <(printf %s "$V_GH") 4<"$SRC/pip"
al_is "$AL_OUT" "$(h "$V_GH")
$(h "$V_PIP")" "--credential-fd reads values from a pipe and from a file"
[ "$AL_RC" -eq 0 ] || al_show
# Standard input as the source, a regular file: the task must not get it again as its stdin.
"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --policy "$pol" \
	--credential "npm=@$SRC/npm" --credential-fd gh=0 --credential "npmrc=@$SRC/rc" \
	--credential "pip=@$SRC/pip" -- /bin/sh -c 'printf %s "$GH_TOKEN" | '"$H_TASK"'; cat; echo end' \
	<"$SRC/gh" >"$AL_TMP/out" 2>"$AL_TMP/err"
al_is "$(cat "$AL_TMP/out")" "$(h "$V_GH")
end" "--credential-fd NAME=0 reads standard input, and the task's stdin is then empty"

# A FIFO gives its contents once: a second open would wait for a writer forever.
mkfifo "$SRC/fifo"
(printf %s "$V_NPM" >"$SRC/fifo") &
writer=$!
AL_PIDS+=("$writer")
al_run --policy "$pol" --credential "npm=@$SRC/fifo" --credential "gh=@$SRC/gh" \
	--credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip" \
	-- /bin/sh -c "cat /run/secrets/npm | $H_TASK" &
runner=$!
AL_PIDS+=("$runner")
al_wait_gone "$runner" 60
al_ok $? "a FIFO as --credential source: airlock opens it once and finishes"
wait "$runner" 2>/dev/null
al_is "$(cat "$AL_TMP/out")" "$(h "$V_NPM")" "the value read from the FIFO reaches the task"
if al_wait_gone "$writer" 5; then
	al_ok 0 "the FIFO's writer is done: airlock read it to its end"
else
	kill "$writer" 2>/dev/null
	al_ok 1 "the FIFO's writer is done: airlock read it to its end"
fi
wait "$writer" 2>/dev/null

# ---- refusals: exit 125, one line, no record, no value echoed ----

records_before=$(ls "$AL_STATE/records" | tr "\n" " ")
printf 'a\0b' >"$SRC/nul"
: >"$SRC/empty"
head -c 65537 /dev/zero | tr '\0' x >"$SRC/big"
head -c 65536 /dev/zero | tr '\0' y >"$SRC/max"
issuer=$(al_policy issuer <<'JSON'
{ "version": 1, "name": "issuer", "credentials": [
    { "name": "gh", "source": "issuer:github", "ttl": "5m", "deliver": { "env": "GH_TOKEN" } } ] }
JSON
)

# refuse DESCRIPTION PATTERN [RUN OPTIONS]: the run exits 125 with one stderr line matching
refuse() {
	local desc=$1 pattern=$2
	shift 2
	al_run "$@" -- /bin/true
	al_ok "$([ "$AL_RC" -eq 125 ] && [ "$(grep -c . "$AL_TMP/err")" -eq 1 ] &&
		grep -q -- "$pattern" "$AL_TMP/err"; echo $?)" "refused: $desc"
	[ "$AL_RC" -eq 125 ] || al_show
	[ "$(grep -c . "$AL_TMP/err")" -eq 1 ] || al_show
	if holds_value "$AL_TMP/err"; then
		al_ok 1 "the refusal of '$desc' echoes no value"
	fi
}
refuse "a slot left empty" "credential slot 'pip' of policy 'creds' has no value" \
	--policy "$pol" --credential "npm=@$SRC/npm" --credential "gh=@$SRC/gh" \
	--credential "npmrc=@$SRC/rc"
refuse "a value for an undeclared name" "credential 'other' is not a slot of policy 'creds'" \
	"${ALL[@]}" --credential "other=@$SRC/npm"
refuse "a credential with a policy that declares none" "it declares none" \
	--credential "npm=@$SRC/npm"
refuse "an empty value" "the value from '$SRC/empty' is empty" \
	--policy "$pol" --credential "npm=@$SRC/empty" --credential "gh=@$SRC/gh" \
	--credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip"
refuse "a value over 64 KiB" "is larger than 64 KiB" \
	--policy "$pol" --credential "npm=@$SRC/big" --credential "gh=@$SRC/gh" \
	--credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip"
refuse "a name given twice" "credential 'npm' is given twice" \
	"${ALL[@]}" --credential "npm=@$SRC/rc"
refuse "a value on the command line" "expected @FILE" \
	--policy "$pol" --credential "npm=$V_NPM"
refuse "a bare value" "expects NAME=@FILE" --policy "$pol" --credential "$V_NPM"
# A mistyped option (or command) quotes only what precedes its first '=': what follows may
# be the value (credentials.md: a refusal never echoes it).
for opt in --credentials --cred --credential-file; do
	al_run --policy "$pol" "$opt=npm=$V_NPM" -- /bin/true
	al_ok "$([ "$AL_RC" -eq 125 ] &&
		grep -q -- "unknown or incomplete option '$opt'\$" "$AL_TMP/err" &&
		! holds_value "$AL_TMP/err"; echo $?)" "a mistyped $opt=npm=VALUE is refused, naming $opt, not the value"
	[ "$AL_RC" -eq 125 ] || al_show
done
for words in "records --state-dir $AL_STATE list --sinse=$V_NPM" \
	"records --state-dir $AL_STATE verify --pubkeys=$V_NPM" \
	"policy check --host=$V_NPM" "--credential=npm=$V_NPM"; do
	# shellcheck disable=SC2086 # words: one command line
	"$AIRLOCK" $words >/dev/null 2>"$AL_TMP/err" </dev/null
	d=${words%%=*}
	al_ok "$([ -s "$AL_TMP/err" ] && ! holds_value "$AL_TMP/err"; echo $?)" \
		"airlock ${d/--state-dir $AL_STATE /}=...: refused without echoing what follows the '='"
done
refuse "a file that does not exist" "cannot open '$SRC/none'" \
	--policy "$pol" --credential "npm=@$SRC/none" --credential "gh=@$SRC/gh" \
	--credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip"
refuse "a descriptor that is not open" "fd 9 is not open" --policy "$pol" --credential-fd gh=9
refuse "airlock's own stderr as a source" "fd 2 is airlock's own output" \
	--policy "$pol" --credential-fd gh=2
# One descriptor for two slots, or for a slot and airlock's own lines: it is read to its
# end and closed, so the second would read (or write) what airlock opened at that number
# since (the run waited for a signal on its own signalfd).
exec 7<"$SRC/gh"
refuse "one descriptor for two slots" "credential-fd npmrc=7: fd 7 is given for credential 'gh' too" \
	--policy "$pol" --credential "npm=@$SRC/npm" --credential-fd gh=7 --credential-fd npmrc=7 \
	--credential "pip=@$SRC/pip"
refuse "a credential's descriptor as --diagnostics-fd" \
	"diagnostics-fd 7: fd 7 is the source of --credential-fd gh=7" \
	--policy "$pol" --credential "npm=@$SRC/npm" --credential-fd gh=7 \
	--credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip" --diagnostics-fd 7
exec 7<&-
# The sink is the source by another name: the value's own file (its lines would be appended
# to the token), or the pipe a --credential-fd reads (the read would wait forever).
cp "$SRC/gh" "$SRC/ghcopy"
refuse "a credential's file as --diagnostics-file" \
	"diagnostics-file '$SRC/ghcopy': the same file as the source of credential 'gh'" \
	"${ALL[@]/#gh=@$SRC\/gh/gh=@$SRC/ghcopy}" --diagnostics-file "$SRC/ghcopy"
al_is "$(cat "$SRC/ghcopy")" "$V_GH" "and the credential's file is left as it was"
exec 7>>"$SRC/ghcopy"
refuse "a credential's file as --diagnostics-fd" \
	"diagnostics-fd 7: the same file as the source of credential 'gh'" \
	"${ALL[@]/#gh=@$SRC\/gh/gh=@$SRC/ghcopy}" --diagnostics-fd 7
exec 7>&-
al_is "$(cat "$SRC/ghcopy")" "$V_GH" "and the credential's file is left as it was"
exec 7< <(printf %s "$V_GH")
refuse "a --credential-fd pipe as --diagnostics-file /dev/fd/N" \
	"diagnostics-file '/dev/fd/7': the same file as the source of credential 'gh'" \
	--policy "$pol" --credential "npm=@$SRC/npm" --credential-fd gh=7 \
	--credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip" --diagnostics-file /dev/fd/7
exec 7<&-
# --policy - reads standard input to its end first: fd 0 holds no value for a credential.
"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" --policy - --credential-fd gh=0 \
	--credential "npm=@$SRC/npm" --credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip" \
	-- /bin/true <"$pol" >/dev/null 2>"$AL_TMP/err"
al_is "$?|$(cat "$AL_TMP/err")" \
	"125|airlock: run: --credential-fd gh=0: fd 0 is the policy's source (--policy -)" \
	"--credential-fd NAME=0 with --policy - is refused while the command line is read"
refuse "a NUL byte in an env value" "holds a NUL byte" \
	--policy "$pol" --credential "npm=@$SRC/npm" --credential "gh=@$SRC/nul" \
	--credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip"
refuse "a value for a grant (minted by an issuer)" \
	"credential 'gh' of policy 'issuer' is minted by issuer 'github': the caller gives it no value" \
	--policy "$issuer" --credential "gh=@$SRC/gh"
# A refusal after the command line was read leaves a "refused" record (run-record.md,
# "Refused attempts"); none of them holds a value.
new_records=$(comm -13 <(echo "$records_before" | tr ' ' '\n' | sort) <(ls "$AL_STATE/records" | sort))
al_is "$(for f in $new_records; do al_json "$AL_STATE/records/$f" 'r["exit"]["cause"], r["exit"]["reason"]'; done | sort | uniq -c | awk '{ $1 = $1; print }' | tr '\n' ';')" \
	"8 ('refused', 'credentials_refused');" \
	"each refusal past the command line left a refused record naming its reason"
for f in $new_records; do
	if holds_value "$AL_STATE/records/$f"; then
		al_ok 1 "the record $f of a refusal holds no value"
	fi
done
al_run --policy "$pol" --credential "npm=@$SRC/max" --credential "gh=@$SRC/gh" \
	--credential "npmrc=@$SRC/rc" --credential "pip=@$SRC/pip" -- /bin/sh -c 'wc -c </run/secrets/npm'
al_is "$AL_OUT" 65536 "a value of exactly 64 KiB is accepted"

# ---- nothing on the host, during and after the run, also after kill -9 ----

# secrets_mounts: every mountinfo line of a secrets tmpfs seen by the host (pid 1 and this
# shell) or by any process left in this test's cgroup parent, where every process of its
# runs was born. Other airlock runs on the host (other tests, other users) are not this
# test's business, and a leftover of its own runs cannot be anywhere else.
secrets_mounts() {
	local pids
	pids=$(find /sys/fs/cgroup/*/"$ISO_PARENT" /sys/fs/cgroup/"$ISO_PARENT" \
		-name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
	for p in 1 self $pids; do
		grep -h ' airlock-secrets ' /proc/"$p"/mountinfo 2>/dev/null
	done
}
al_is "$(secrets_mounts)" "" "no secrets tmpfs is mounted anywhere once the runs ended"

al_run_bg kill "${ALL[@]}" -- /bin/sh -c \
	"$PROBE ns; grep ' /run/secrets/npm ' /proc/self/mountinfo; exec $PROBE sleep 60"
pid=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-kill.out" ' /run/secrets/npm ' 10; then
	dev=$(awk '$5 == "/run/secrets/npm" { print $3 }' "$AL_TMP/bg-kill.out")
	al_is "$(grep -c ' airlock-secrets ' /proc/self/mountinfo)" 0 \
		"while the task runs, the host's mount namespace has no secrets tmpfs"
	al_ok "$(holds_value /proc/"$pid"/cmdline /proc/"$pid"/environ; [ $? -ne 0 ]; echo $?)" \
		"airlock's argv and environment hold no value"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	mapfile -t ns < <(al_ns_from_probe <"$AL_TMP/bg-kill.out" | grep '^mnt:')
	for ((i = 0; i < 50; i++)); do
		left=$(al_ns_holders "${ns[@]}"; grep -l " $dev .* airlock-secrets " \
			/proc/[0-9]*/mountinfo 2>/dev/null)
		[ -z "$left" ] && break
		sleep 0.1
	done
	al_is "$left" "" "after kill -9 of airlock its task's mount namespace and the tmpfs ($dev) are gone"
else
	al_ok 1 "the task started (for kill -9)"
	al_diag <"$AL_TMP/bg-kill.err"
fi
rm -f "$AL_TMP/out" # the last task's stdout (tasks print values on purpose above)
leaks=$(grep -rlaF -D skip -e "${VALUES[0]}" -e "${VALUES[1]}" -e "${VALUES[2]}" \
	-e "${VALUES[3]}" /run /dev/shm "$AL_TMP" 2>/dev/null | grep -v "^$SRC/")
al_is "$leaks" "" "no file on the host's tmpfs trees or the test's tree holds a value"

# ---- while the task runs: no value in the sandbox's init, none in airlock's dumped memory ----
# init is a clone of airlock that lives as long as the task (its pid 1, the task's uid): what
# airlock holds when it clones must not be copied there. airlock holds the values only in
# memory left out of core dumps (the positive control: the scan does find them there).
HOLDS=$AIRLOCK_SRC/tests/integration/mem-holds.py
al_run_bg mem "${ALL[@]}" -- /bin/sh -c 'echo started; exec sleep 60'
if al_wait_for "$AL_TMP/bg-mem.out" started 20; then
	init=$(pgrep -P "$AL_BG_PID" -x airlock-init)
	al_is "$(python3 "$HOLDS" "${init:-0}" all "${VALUES[@]}" 2>&1)" "" \
		"the sandbox's init (pid ${init:-none}) holds no value while the task runs"
	al_is "$(python3 "$HOLDS" "$AL_BG_PID" dumped "${VALUES[@]}" 2>&1)" "" \
		"airlock holds no value in memory a core dump would hold"
	held=$(python3 "$HOLDS" "$AL_BG_PID" undumped "${VALUES[@]}" 2>&1)
	al_ok "$([ -n "$held" ]; echo $?)" "the scan finds the values in airlock's undumped memory"
else
	al_ok 1 "the task started (for the memory scan)"
	al_diag <"$AL_TMP/bg-mem.err"
fi
kill -TERM "$AL_BG_PID" 2>/dev/null
al_wait_gone "$AL_BG_PID" 20

# ---- a core dump of airlock holds no value ----

pattern=$(cat /proc/sys/kernel/core_pattern)
case "$pattern" in
'|'* | */*)
	al_skip "a core dump of airlock holds no value" \
		"core_pattern '$pattern' does not dump into the process's directory"
	;;
*)
	mkdir "$AL_TMP/core"
	(
		cd "$AL_TMP/core" || exit 1
		ulimit -c unlimited
		# An ASan build turns core dumps off unless told.
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0
		exec "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" "${ALL[@]}" \
			-- /bin/sh -c 'echo started; exec sleep 60'
	) >"$AL_TMP/core.out" 2>"$AL_TMP/core.err" </dev/null &
	pid=$!
	AL_PIDS+=("$pid")
	if al_wait_for "$AL_TMP/core.out" started 10; then
		kill -ABRT "$pid"
		wait "$pid" 2>/dev/null
		core=$(ls "$AL_TMP"/core/core* 2>/dev/null | head -n 1)
		if [ -n "$core" ] && grep -aqF "$SRC/npm" "$core"; then
			al_ok "$(holds_value "$core"; [ $? -ne 0 ]; echo $?)" \
				"a core dump of airlock ($(du -h "$core" | cut -f1)) holds no value"
		else
			al_ok 1 "airlock dumped a core with its own memory (core: '${core:-none}')"
		fi
	else
		al_ok 1 "the task started (for the core dump)"
		al_diag <"$AL_TMP/core.err"
	fi
	;;
esac

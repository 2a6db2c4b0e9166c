#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The record signer (supervisor/records/signer.h): a program (airlock-signer) a run starts
# to load libcrypto and the node key beside it. Nothing of it outlives the run, also when the supervisor is
# killed; a run whose signer was killed still gets a signed record, and says why; a key
# error is reported as when the key is loaded in-process; nobody else can start one.
. "$(dirname "$0")/lib.sh"
al_init
al_need unshare setpriv

# A private runtime directory and cgroup parent, as test-records-chain.sh: this test kills
# a supervisor, whose run no other airlock on the host must reap (nor this one theirs).
al_isolate signer

verify() {
	V_OUT=$("$REAL_AIRLOCK" records --state-dir "$AL_STATE" verify 2>&1)
	V_RC=$?
}

# signer_of PID: the pid of the signer child of the supervisor PID, waiting up to 5 s.
signer_of() {
	local i c kids
	for ((i = 0; i < 50; i++)); do
		read -ra kids < <(cat /proc/"$1"/task/*/children 2>/dev/null)
		for c in "${kids[@]}"; do
			if tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q "^airlock-signer $1 \$"; then
				echo "$c"
				return 0
			fi
		done
		sleep 0.1
	done
	return 1
}
# gone PID: 0 when no process PID exists, not even a zombie (1 s at most).
gone() {
	local i
	for ((i = 0; i < 10; i++)); do
		[ -e "/proc/$1" ] || return 0
		sleep 0.1
	done
	return 1
}
# wait_running: the background run's task runs (its "running" record is there).
wait_running() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -lq '"cause": "running"' "$AL_STATE"/records/*.json 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# fds_of PID: its open fds, once the state directory (fd 4) is closed (5 s at most).
fds_of() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -e "/proc/$1/fd/4" ] || break
		sleep 0.1
	done
	find "/proc/$1/fd" -mindepth 1 -printf '%f\n' | sort -n | tr '\n' ' '
}

# ---- a run's signer: started with it, gone with it ----

al_run_bg plain -- "$PROBE" sleep 2
sup=$AL_BG_PID
signer=$(signer_of "$sup")
al_ok "$([ -n "$signer" ]; echo $?)" "a run starts a signer process, its child"
if [ -n "$signer" ]; then
	al_is "$(grep -E '^(PPid|TracerPid):' "/proc/$signer/status" | tr -s '\t ' ' ' | tr '\n' ' ')" \
		"PPid: $sup TracerPid: 0 " "the supervisor's child, not traced"
	al_is "$(fds_of "$signer")" "0 1 2 3 " \
		"it holds only stdio and its socket (the state directory closed once the key is read)"
	al_is "$(readlink "/proc/$signer/fd/0") $(readlink "/proc/$signer/fd/1")" \
		"/dev/null /dev/null" "its stdin and stdout are /dev/null"
	al_is "$(readlink "/proc/$signer/exe")" "$(realpath "$(dirname "$REAL_AIRLOCK")/airlock-signer")" \
		"it is the airlock-signer program beside airlock"
	al_is "$(tr -d '\0' <"/proc/$signer/environ" | wc -c)" 0 \
		"it runs with an empty environment (none of the caller's)"
	al_is "$(cat "/proc/$signer/comm")" airlock-signer \
		"ps names it airlock-signer (not the fd number execveat() gives it)"
fi
wait "$sup"
al_is "$?" 0 "the run ends as usual"
al_ok "$(gone "$signer"; echo $?)" "its signer is gone when the run ended (reaped, no zombie)"
verify
al_ok "$V_RC" "its record is signed and verifies"
al_is "$(grep -c signer "$AL_TMP/bg-plain.err")" 0 "and nothing is said of the signer"

# ---- a signer killed during the run ----

al_run_bg killed -- "$PROBE" sleep 2
sup=$AL_BG_PID
signer=$(signer_of "$sup")
if [ -n "$signer" ] && wait_running; then
	kill -KILL "$signer"
	wait "$sup"
	al_is "$?" 0 "a run whose signer was killed still ends as usual"
	al_ok "$(grep -q 'Record signer process died; signing the run record in-process' \
		"$AL_TMP/bg-killed.err"; echo $?)" "and says its signer died"
	sed 's/^/err: /' "$AL_TMP/bg-killed.err" | al_diag
	rec=$(find "$AL_STATE/records" -name '*.json' -printf '%T@ %p\n' | sort -n | tail -n 1 |
		cut -d' ' -f2)
	al_is "$(al_json "$rec" 'r["exit"]["cause"], "signature" in r')" "('exited', True)" \
		"its record is written and signed in-process"
	verify
	al_ok "$V_RC" "and the chain verifies"
	echo "$V_OUT" | al_diag
else
	al_ok 1 "the run whose signer is to be killed started"
fi

# ---- a supervisor killed: its signer dies with it ----

al_run_bg supkill -- "$PROBE" sleep 60
sup=$AL_BG_PID
signer=$(signer_of "$sup")
if [ -n "$signer" ] && wait_running; then
	kill -KILL "$sup"
	wait "$sup" 2>/dev/null
	al_ok "$(al_wait_gone "$signer" 5; echo $?)" "a killed supervisor's signer dies with it"
else
	al_ok 1 "the run whose supervisor is to be killed started"
fi
al_run -- "$PROBE" true # marks the killed run aborted, with the in-process key

# ---- a key error: reported as it always was ----

chmod 644 "$AL_STATE/keys/node.key"
al_run -- "$PROBE" true
al_ok "$([ "$AL_RC" -ne 0 ] &&
	grep -q "keys/node.key' is not an Ed25519 private key of airlock's own, mode 0600" \
		"$AL_TMP/err"; echo $?)" "a key anyone can read: the run fails, naming the key"
al_is "$(grep -c 'Record signer process' "$AL_TMP/err")" 0 \
	"the signer's own failure with it is not said twice"
al_show
chmod 600 "$AL_STATE/keys/node.key"

# ---- nobody else starts one ----

"$(dirname "$REAL_AIRLOCK")/airlock-signer" 1 </dev/null >"$AL_TMP/by-hand.out" 2>&1
al_is "$?" 2 "airlock-signer run by hand refuses"
al_ok "$(grep -q 'started by airlock run only' "$AL_TMP/by-hand.out"; echo $?)" \
	"saying who starts it"
"$REAL_AIRLOCK" __signer 1 </dev/null >"$AL_TMP/by-hand.out" 2>&1
al_is "$?" 2 "airlock has no __signer command any more (it is not airlock itself)"

# ---- its program missing or writable by others: the record is signed in-process ----

# A copy of airlock in a directory of its own: the signer is looked for beside it only.
bin=$AL_TMP/bin
mkdir -p "$bin"
chmod 755 "$bin"
cp "$REAL_AIRLOCK" "$bin/airlock"
# The isolating wrapper (al_isolate), running the copy.
sed "s|$REAL_AIRLOCK|$bin/airlock|g" "$AIRLOCK" >"$AL_TMP/airlock-copy"
chmod 755 "$AL_TMP/airlock-copy"
AIRLOCK=$AL_TMP/airlock-copy al_run -- "$PROBE" true
al_is "$AL_RC" 0 "a run without its signer program still runs"
al_ok "$(grep -q "Record signer program '$bin/airlock-signer' .*; signing the run record in-process" \
	"$AL_TMP/err"; echo $?)" "and says which program is missing"
al_show
cp "$(dirname "$REAL_AIRLOCK")/airlock-signer" "$bin/"
chmod 775 "$bin/airlock-signer"
AIRLOCK=$AL_TMP/airlock-copy al_run -- "$PROBE" true
al_ok "$([ "$AL_RC" -eq 0 ] &&
	grep -q "Record signer program '$bin/airlock-signer' .*writable.*; signing the run record in-process" \
		"$AL_TMP/err"; echo $?)" "a signer program others can write is not run (said so)"
al_show
# Opened and checked but not executable: the child says why its execveat() failed.
chmod 644 "$bin/airlock-signer"
AIRLOCK=$AL_TMP/airlock-copy al_run -- "$PROBE" true
al_ok "$([ "$AL_RC" -eq 0 ] &&
	grep -q "Record signer program '$bin/airlock-signer' cannot be executed: Permission denied; signing the run record in-process" \
		"$AL_TMP/err"; echo $?)" "a signer program without x bits: the run says it cannot be executed"
al_is "$(grep -c 'Record signer process died' "$AL_TMP/err")" 0 "not that a signer died"
# (A sanitizer build: its child, on a stack not its thread's, is not instrumented.)
al_is "$(grep -c 'WARNING: ASan' "$AL_TMP/err")" 0 "and no sanitizer warning of its child's stack"
al_show
printf '#!/bin/sh\nexit 0\n' >"$bin/airlock-signer"
chmod 755 "$bin/airlock-signer"
AIRLOCK=$AL_TMP/airlock-copy al_run -- "$PROBE" true
al_ok "$([ "$AL_RC" -eq 0 ] &&
	grep -q "Record signer program '$bin/airlock-signer' cannot be executed: No such file or directory (a script" \
		"$AL_TMP/err"; echo $?)" "a script in its place is not run (said so)"
al_show
verify
al_ok "$V_RC" "the records signed in-process verify"
echo "$V_OUT" | al_diag

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The chain head and the node key through a failure half-way (docs/run-record.md, "The
# chain"; docs/audit.md, "Keys"): a head write cut short by the kernel (RLIMIT_FSIZE: a
# real short write, not a faked return) leaves the old head whole, and `records rotate-key`
# killed before each of its renames and links leaves verify's verdicts right.
. "$(dirname "$0")/lib.sh"
al_init
al_need strace prlimit unshare sha256sum
python3 -c 'import cryptography' 2>/dev/null || { echo "Bail out! python3-cryptography missing (setup.sh installs it)"; exit 1; }
TOOL=$(dirname "$0")/records-chain.py
# LeakSanitizer cannot run under ptrace: an ASan build would fail every traced run at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# Private runtime directory and cgroup parent: the runs this test breaks are reaped by its
# own starts only, and it reaps no one else's.
al_isolate crash

# run_in STATE: one run into STATE; sets AL_RC and AL_ERR.
run_in() {
	"$AIRLOCK" run --state-dir "$1" --workspace "$AL_WS" -- "$PROBE" true \
		>/dev/null 2>"$AL_TMP/err" </dev/null
	AL_RC=$?
	AL_ERR=$(cat "$AL_TMP/err")
}

# verify STATE: sets V_RC and V_OUT.
verify() {
	V_OUT=$("$REAL_AIRLOCK" records --state-dir "$1" verify 2>&1)
	V_RC=$?
}

# ---- a head write the kernel cuts short ----

# limited_run STATE BYTES: a run whose supervisor may write no file past BYTES from the
# moment it holds the chain lock for its final record (stopped there by strace, its
# RLIMIT_FSIZE set, continued; SIGXFSZ ignored, so a write past it fails with EFBIG or
# comes out short). Its head write is what the limit hits first.
limited_run() {
	local st=$1 bytes=$2 pid="" i
	: >"$AL_TMP/strace"
	strace -f -o "$AL_TMP/strace" -P "$st/chain/lock" -e trace=flock \
		-e inject=flock:signal=STOP:when=1 env --ignore-signal=XFSZ \
		"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- "$PROBE" true \
		>/dev/null 2>"$AL_TMP/limited.err" </dev/null &
	local spid=$!
	for ((i = 0; i < 300; i++)); do
		pid=$(grep -m1 -- '--- stopped by SIGSTOP' "$AL_TMP/strace" | cut -d' ' -f1)
		[ -n "$pid" ] && grep -q '^State:.*t' "/proc/$pid/status" 2>/dev/null && break
		pid=""
		sleep 0.1
	done
	if [ -z "$pid" ]; then
		kill "$spid" 2>/dev/null
		wait "$spid"
		return 1
	fi
	prlimit --pid "$pid" --fsize="$bytes"
	kill -CONT "$pid"
	wait "$spid"
	return 0
}

# last_record STATE: the file of the record with the highest chain.seq.
last_record() {
	python3 - "$1" <<'PY'
import glob, json, sys
recs = [(json.load(open(f)).get("chain", {}).get("seq", 0), f)
        for f in glob.glob(sys.argv[1] + "/records/*.json")]
print(max(recs)[1])
PY
}

# head_ok STATE WHAT: the next run appends, `records head` and verify work.
head_ok() {
	local st=$1 what=$2 last
	run_in "$st"
	al_ok "$AL_RC" "$what: the next run appends to the chain"
	[ "$AL_RC" -eq 0 ] || echo "$AL_ERR" | al_diag
	last=$(last_record "$st")
	al_is "$("$REAL_AIRLOCK" records --state-dir "$st" head 2>&1)" \
		"seq $(al_json "$last" 'r["chain"]["seq"]') sha256 $(sha256sum <"$last" | cut -d' ' -f1) run $(basename "$last" .json)" \
		"$what: records head names its record, as ever"
	verify "$st"
	al_ok "$V_RC" "$what: the chain verifies unbroken"
	[ "$V_RC" -eq 0 ] && echo "$V_OUT" | tail -n 1 | al_diag
	[ "$V_RC" -eq 0 ] || echo "$V_OUT" | al_diag
}

st=$AL_TMP/st-head
run_in "$st"
al_is "$(stat -c %s "$st/chain/head")" 512 "the first head file is made at its full size, 512 bytes"
if limited_run "$st" "$(stat -c %s "$st/chain/head")"; then
	al_diag <"$AL_TMP/limited.err"
	al_is "$(stat -c %s "$st/chain/head")" 512 "its head write stayed within the file"
	head_ok "$st" "after a run cut off at the head's size"
else
	al_ok 1 "strace stopped the run at its chain lock"
fi

# A head an older airlock wrote (cut to its text): grown once, before the first write in
# place; a growth the limit refuses (150 bytes: a write in place would come out cut in its
# third line) leaves the old head whole.
st=$AL_TMP/st-old
run_in "$st"
run_in "$st"
text=$(tr -d '\0' <"$st/chain/head" | wc -c)
truncate -s "$text" "$st/chain/head"
if limited_run "$st" 150; then
	al_ok "$(tr -d '\0' <"$st/chain/head" | grep -c '^seq ' | grep -qx 2; echo $?)" \
		"a head file of the old length, its growth refused: the old two lines stay whole"
	head_ok "$st" "after an old head's growth was refused"
	al_is "$(stat -c %s "$st/chain/head")" 512 "the old head file is grown to 512 bytes"
else
	al_ok 1 "strace stopped the run at its chain lock"
fi

# ---- rotate-key killed at each step ----

base=$AL_TMP/st-rot
run_in "$base"
run_in "$base"
old_id=$("$REAL_AIRLOCK" records --state-dir "$base" pubkey | sed -n 's/^key id //p')
cp "$base/keys/node.key" "$AL_TMP/old.key"

# killed_rotation SYSCALLS K: a copy of $base whose rotate-key was killed (SIGKILL, the
# syscall not made) at its K-th call of SYSCALLS; then one run. Prints the copy's path,
# or nothing when rotate-key made fewer calls (it ended).
killed_rotation() {
	local st=$AL_TMP/rot-$1-$2
	rm -rf "$st"
	cp -a "$base" "$st"
	strace -o "$AL_TMP/strace-rot" -e trace="$1" \
		-e inject="$1":error=EIO:signal=KILL:when="$2" \
		"$REAL_AIRLOCK" records --state-dir "$st" rotate-key >/dev/null 2>&1
	grep -q 'killed by SIGKILL' "$AL_TMP/strace-rot" || return 0
	run_in "$st"
	[ "$AL_RC" -eq 0 ] || echo "$AL_ERR" | al_diag
	echo "$st"
}

# check_rotation STATE WHAT: verify's verdicts after a rotation killed somewhere.
check_rotation() {
	local st=$1 what=$2 cur last sha
	cur=$("$REAL_AIRLOCK" records --state-dir "$st" pubkey 2>&1 | sed -n 's/^key id //p')
	last=$(last_record "$st")
	al_is "$(al_json "$last" 'r["signature"]["key_id"]')" "$cur" \
		"$what: the next run is signed with the node key"
	verify "$st"
	al_ok "$V_RC" "$what: the chain verifies"
	[ "$V_RC" -eq 0 ] || echo "$V_OUT" | al_diag
	if [ "$cur" = "$old_id" ]; then
		al_ok "$([ ! -e "$st/keys/trusted/$old_id.retired" ]; echo $?)" \
			"$what: the old key is still the node key, not retired"
		return
	fi
	al_is "$(cat "$st/keys/trusted/$old_id.retired" 2>&1)" "seq 2" \
		"$what: the new node key came only with the old one's retirement after seq 2"
	# The record after the rotation re-signed with the old key (one that leaked), the
	# head made to match: verify must name it.
	python3 "$TOOL" resign "$last" "$AL_TMP/old.key"
	sha=$(sha256sum "$last" | cut -d' ' -f1)
	sed -i "2s/sha256 [0-9a-f]* /sha256 $sha /" "$st/chain/head"
	verify "$st"
	al_ok "$([ "$V_RC" -eq 1 ] && echo "$V_OUT" | grep -q "signed by key $old_id after it was retired (after seq 2)\$"; echo $?)" \
		"$what: a record signed with the old key after it is named by verify"
}

for sc in linkat renameat; do
	for k in 1 2 3 4 5; do
		st=$(killed_rotation "$sc" "$k")
		[ -n "$st" ] || break
		check_rotation "$st" "rotate-key killed at its $sc #$k"
	done
done
st=$AL_TMP/rot-whole
cp -a "$base" "$st"
"$REAL_AIRLOCK" records --state-dir "$st" rotate-key >/dev/null 2>&1
al_ok $? "an uninterrupted rotate-key"
al_ok "$([ ! -e "$st/keys/node.key.next" ]; echo $?)" "leaves no node.key.next behind"
run_in "$st"
check_rotation "$st" "an uninterrupted rotation"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Tamper evidence of the run records (docs/audit.md): the chain and signatures that
# `airlock records verify` checks, each kind of tampering it names, concurrent appends, a
# killed supervisor's record, key rotation, the in-toto export checked with openssl and
# python3-cryptography, and the head said to journald.
. "$(dirname "$0")/lib.sh"
al_init
al_need unshare openssl sha256sum setpriv
python3 -c 'import cryptography' 2>/dev/null || { echo "Bail out! python3-cryptography missing (setup.sh installs it)"; exit 1; }
TOOL=$(dirname "$0")/records-chain.py

# Every airlock here runs with a private runtime directory (a bind over /run/airlock in a
# mount namespace of its own) and a private cgroup parent: no other airlock on the host
# reaps the run this test kills, and this test's starts reap no one else's.
al_isolate chain

# verify STATE [ARGS]: sets V_RC and V_OUT.
verify() {
	local st=$1
	shift
	V_OUT=$("$REAL_AIRLOCK" records --state-dir "$st" verify "$@" 2>&1)
	V_RC=$?
}
# expect_problem STATE DESCRIPTION PATTERN [ARGS]: verify [ARGS] fails with a line
# matching PATTERN.
expect_problem() {
	verify "$1" "${@:4}"
	al_ok "$([ "$V_RC" -eq 1 ] && echo "$V_OUT" | grep -Eq -- "$3"; echo $?)" "$2"
	if [ "$V_RC" -ne 1 ] || ! echo "$V_OUT" | grep -Eq -- "$3"; then
		echo "$V_OUT" | al_diag
	fi
}
# record_of STATE SEQ: the file of the record with chain.seq SEQ.
record_of() {
	python3 - "$@" <<'PY'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/records/*.json")):
    if json.load(open(f)).get("chain", {}).get("seq") == int(sys.argv[2]):
        print(f)
        break
PY
}
# copy STATE NAME: a copy of a state directory to tamper with.
copy() {
	rm -rf "${AL_TMP:?}/$2"
	cp -a "$1" "$AL_TMP/$2"
	echo "$AL_TMP/$2"
}

# ---- chained, signed records that verify ----

for i in 1 2 3; do
	al_run -- /bin/sh -c "echo 'run $i'"
	[ "$i" = 1 ] && head_ino=$(stat -c %i "$AL_STATE/chain/head")
	[ "$i" = 2 ] && cp "$AL_STATE/chain/head" "$AL_TMP/head.2" # put back below
done
al_is "$(stat -c %i "$AL_STATE/chain/head")" "$head_ino" \
	"the head file is rewritten in place (one inode), not replaced per record"
al_is "$(find "$AL_STATE" -name '.*' -type f | tr '\n' ' ')" "" \
	"no temporary file remains in the state dir"
verify "$AL_STATE"
al_ok "$V_RC" "three runs' records verify"
echo "$V_OUT" | al_diag
al_ok "$(echo "$V_OUT" | grep -q '^verified 3 records (seq 1\.\.3)'; echo $?)" "as seq 1..3"
last=$(record_of "$AL_STATE" 3)
al_is "$("$AIRLOCK" records --state-dir "$AL_STATE" head)" \
	"seq 3 sha256 $(sha256sum <"$last" | cut -d' ' -f1) run $(basename "$last" .json)" \
	"records head names the last record and the SHA-256 of its bytes"
al_is "$(al_json "$(record_of "$AL_STATE" 2)" 'r["chain"]["prev_sha256"]')" \
	"$(sha256sum <"$(record_of "$AL_STATE" 1)" | cut -d' ' -f1)" \
	"each record holds the SHA-256 of the previous one's bytes"
# A head rewritten shorter and killed before its truncation: what follows its three
# lines is ignored, and the next append goes on from it.
st=$(copy "$AL_STATE" tail)
printf 'seq 99 sha256 %064d run left-over\n' 0 >>"$st/chain/head"
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- "$PROBE" true >/dev/null 2>&1 </dev/null
al_is "$?" 0 "a head with bytes past its third line: the next run appends"
verify "$st"
al_ok "$(echo "$V_OUT" | grep -q '^verified 4 records (seq 1\.\.4)'; echo $?)" \
	"and its record follows on: seq 1..4 verify ($(echo "$V_OUT" | tail -n 1))"
al_is "$(wc -l <"$st/chain/head")" 3 "the head is cut back to its three lines"
"$AIRLOCK" records --state-dir "$AL_STATE" pubkey >"$AL_TMP/pubkey.out"
sed -n '/BEGIN/,/END/p' "$AL_TMP/pubkey.out" >"$AL_TMP/node.pem"
al_is "$(head -n 1 "$AL_TMP/pubkey.out")" "key id $(al_json "$last" 'r["signature"]["key_id"]')" \
	"records pubkey prints the key id the records carry"
al_is "$(openssl pkey -in "$AL_STATE/keys/node.key" -pubout)" "$(cat "$AL_TMP/node.pem")" \
	"and the public half of the node key, which openssl reads"
al_is "$(stat -c '%a %U' "$AL_STATE/keys/node.key")" "600 root" "the node key is root's, 0600"
# A node key others can read is named as a run names it, not as a bare errno.
chmod 644 "$AL_STATE/keys/node.key"
for verb in pubkey "export $(basename "$last" .json) --format in-toto"; do
	# shellcheck disable=SC2086 # the verb's words
	"$AIRLOCK" records --state-dir "$AL_STATE" $verb >/dev/null 2>"$AL_TMP/err"
	al_is "$? $(cat "$AL_TMP/err")" \
		"1 airlock: records ${verb%% *}: '$AL_STATE/keys/node.key' is not an Ed25519 private key of airlock's own, mode 0600" \
		"records ${verb%% *} names a node key others can read"
done
# A run refuses before its task starts: it could not sign the task's record.
n_before=$(find "$AL_STATE/records" -name '*.json' | wc -l)
"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- "$PROBE" echo ran \
	>"$AL_TMP/out" 2>"$AL_TMP/err"
al_is "$? $(grep -c . "$AL_TMP/err") $(grep -c "refusing run: '$AL_STATE/keys/node.key' is not an Ed25519 private key of airlock's own, mode 0600" "$AL_TMP/err")" \
	"125 1 1" "a run with a node key others can read is refused in one line"
al_is "$(cat "$AL_TMP/out") $(find "$AL_STATE/records" -name '*.json' | wc -l)" \
	" $n_before" "... before its task ran, and with no record it could not sign"
chmod 600 "$AL_STATE/keys/node.key"
# A keyring directory others may write: they could add a key verify trusts, or swap ours.
for d in keys keys/trusted; do
	chmod g+w "$AL_STATE/$d"
	"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- "$PROBE" echo ran \
		>"$AL_TMP/out" 2>"$AL_TMP/err"
	al_is "$? $(cat "$AL_TMP/out")$(grep -c . "$AL_TMP/err") $(grep -c "refusing run: '$AL_STATE/$d' is not a directory of airlock's own that only it may write" "$AL_TMP/err")" \
		"125 1 1" "a run with $d/ writable by its group is refused in one line, before its task"
	# The verbs that load the node key name the directory too, not the node key.
	for verb in pubkey "export $(basename "$last" .json) --format in-toto"; do
		# shellcheck disable=SC2086 # the verb's words
		"$AIRLOCK" records --state-dir "$AL_STATE" $verb >/dev/null 2>"$AL_TMP/err"
		al_is "$? $(cat "$AL_TMP/err")" \
			"1 airlock: records ${verb%% *}: '$AL_STATE/$d' is not a directory of airlock's own that only it may write: the node key and the keys records are trusted by live there" \
			"records ${verb%% *} names $d/ writable by its group, not the node key"
	done
	chmod g-w "$AL_STATE/$d"
done
chown 65534 "$AL_STATE/keys/trusted"
"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- "$PROBE" echo ran \
	>"$AL_TMP/out" 2>"$AL_TMP/err"
al_is "$? $(grep -c "refusing run: '$AL_STATE/keys/trusted' is not a directory of airlock's own" "$AL_TMP/err")" \
	"125 1" "a run with keys/trusted/ owned by another user is refused"
chown 0 "$AL_STATE/keys/trusted"
al_ok "$(python3 "$TOOL" check "$last" "$AL_TMP/node.pem" 2>&1 | al_diag; echo "${PIPESTATUS[0]}")" \
	"python3-cryptography verifies a record by the documented byte rule"
verify "$AL_STATE" --pubkey "$AL_TMP/node.pem"
al_ok "$V_RC" "verify --pubkey FILE with the printed key"
cp -a "$AL_STATE" "$AL_TMP/audit-copy"
chmod -R a+rX "$AL_TMP/audit-copy"
chmod 644 "$AL_TMP/node.pem"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$REAL_AIRLOCK" records \
	--state-dir "$AL_TMP/audit-copy" verify --pubkey "$AL_TMP/node.pem" 2>&1)
al_ok $? "an auditor (not root) verifies a copy of the records with the public key alone"
echo "$out" | al_diag
chmod 600 "$AL_TMP/audit-copy/chain/lock"
al_is "$(setpriv --reuid 65534 --regid 65534 --clear-groups "$REAL_AIRLOCK" records \
	--state-dir "$AL_TMP/audit-copy" head 2>&1)" "$("$AIRLOCK" records --state-dir "$AL_STATE" head)" \
	"... and reads its head, though it may not open the copy's chain lock"

# ---- each kind of tampering is named ----

mid=$(basename "$(record_of "$AL_STATE" 2)")
out=$(python3 "$TOOL" flip-each "$AL_STATE" "$mid" "$REAL_AIRLOCK")
al_ok "$(echo "$out" | grep -q 'missed: none$'; echo $?)" \
	"one byte changed on any line of a record: verify names it ($out)"

st=$(copy "$AL_STATE" code)
sed -Ei 's/"code": ([0-9]+)/"code": 1\1/' "$st/records/$mid"
expect_problem "$st" "the exit code changed: bad signature" "^verify: record $mid \(seq 2\): bad signature"

st=$(copy "$AL_STATE" deleted)
rm "$st/records/$mid"
expect_problem "$st" "a record deleted: its seq is missing" "^verify: seq 2: missing"

st=$(copy "$AL_STATE" deleted-last)
rm "$st/records/$(basename "$last")"
expect_problem "$st" "the last record deleted: missing against the head" \
	"^verify: seq 3: missing: the head names run $(basename "$last" .json)"

st=$(copy "$AL_STATE" swapped)
first=$(basename "$(record_of "$AL_STATE" 1)")
mv "$st/records/$first" "$st/tmp.json"
mv "$st/records/$mid" "$st/records/$first"
mv "$st/tmp.json" "$st/records/$mid"
expect_problem "$st" "two records swapped: named" "^verify: record ($first|$mid) \(seq [12]\): holds run"

# The captured logs (verify --logs): run 2 printed "run 2" to its stdout log.
verify "$AL_STATE" --logs
al_ok "$V_RC" "verify --logs: untouched logs match their records ($(echo "$V_OUT" | tail -n 1))"
log=logs/${mid%.json}.stdout
st=$(copy "$AL_STATE" log-edited)
sed -i 's/run 2/run X/' "$st/$log"
verify "$st"
al_ok "$V_RC" "a log edited in place: verify without --logs does not read logs"
expect_problem "$st" "verify --logs names a log edited in place" \
	"^verify: record $mid: its stdout log $log: changed \(its sha256 is not the record's\)$" --logs
st=$(copy "$AL_STATE" log-appended)
echo "appended later" >>"$st/$log"
expect_problem "$st" "... a log appended to, with its size" \
	"^verify: record $mid: its stdout log $log: changed \(21 bytes, the record says 6\)$" --logs
st=$(copy "$AL_STATE" log-removed)
rm "$st/$log"
expect_problem "$st" "... a log removed" "^verify: record $mid: its stdout log $log: missing \(deleted\)$" \
	--logs
st=$(copy "$AL_STATE" log-fifo)
rm "$st/$log"
mkfifo "$st/$log"
expect_problem "$st" "... a FIFO where a log was, not waited on" \
	"^verify: record $mid: its stdout log $log: not a regular file$" --logs

openssl genpkey -algorithm ed25519 -out "$AL_TMP/other.key" 2>/dev/null
st=$(copy "$AL_STATE" otherkey)
python3 "$TOOL" resign "$st/records/$mid" "$AL_TMP/other.key"
expect_problem "$st" "a signature from another key: unknown key" "^verify: record $mid \(seq 2\): unknown key"
st=$(copy "$AL_STATE" otherkey-id)
python3 "$TOOL" resign "$st/records/$mid" "$AL_TMP/other.key" \
	"$(al_json "$last" 'r["signature"]["key_id"]')"
expect_problem "$st" "another key's signature under the node key's id: bad signature" \
	"^verify: record $mid \(seq 2\): bad signature"

st=$(copy "$AL_STATE" appended)
added=$(python3 "$TOOL" append "$st" "$last" "$AL_TMP/other.key")
expect_problem "$st" "a record appended by hand, signed by another key" \
	"^verify: record $added.json \(seq 4\): unknown key"
st=$(copy "$AL_STATE" appended-unsigned)
added=$(python3 "$TOOL" append "$st" "$last" -)
touch "$st/.airlock-schema-skip" # chain without signature: forged on purpose
expect_problem "$st" "a record appended by hand, unsigned" "^verify: record $added.json: not signed"

# The head file edited, or put back to an older copy while the records stay: every line of
# it names a record, and none may come after it (an append writes the head first).
st=$(copy "$AL_STATE" head-put-back)
cp "$AL_TMP/head.2" "$st/chain/head"
expect_problem "$st" "the head put back to an older copy: the record after it is named" \
	"^verify: record $(basename "$last") \(seq 3\): after the head \(seq 2, run ${mid%.json}\): the head was put back \(1 record after it\)$"
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- "$PROBE" true >/dev/null 2>&1 </dev/null
expect_problem "$st" "... and a run appended after it takes seq 3 again: named" \
	"^verify: record .* \(seq 3\): seq taken twice, also by"
st=$(copy "$AL_STATE" head-run-id)
sed -i "2s/ run [^ ]*\$/ run ${first%.json}/" "$st/chain/head"
expect_problem "$st" "the head's run id edited: the record of its seq named" \
	"^verify: seq 3: the head names run ${first%.json}: not record $(basename "$last"), whose sha256 it holds \(the head was edited\)$"
st=$(copy "$AL_STATE" head-before)
sed -i "3s/ sha256 [0-9a-f]* / sha256 $(sha256sum <"$st/records/$first" | cut -d' ' -f1) /" \
	"$st/chain/head"
expect_problem "$st" "the head's line before edited: the record of its seq named" \
	"^verify: seq 2: the head's line before names run ${mid%.json} with sha256 [0-9a-f]{64}: not record $mid "
st=$(copy "$AL_STATE" head-before-none)
sed -i '3s/.*/-/' "$st/chain/head"
expect_problem "$st" "the head's line before made \"-\": named" \
	'^verify: chain/head: the line before seq 3 is "-" \(none\), not seq 2 \(the head was edited\)$'
st=$(copy "$AL_STATE" head-garbage)
echo "edited by hand" >"$st/chain/head"
sed -Ei 's/"code": ([0-9]+)/"code": 1\1/' "$st/records/$mid"
expect_problem "$st" "a head that does not read as one is named ..." \
	'^verify: chain/head: changed: not a head airlock writes'
expect_problem "$st" "... and the records are checked all the same" \
	"^verify: record $mid \(seq 2\): bad signature"
"$AIRLOCK" records --state-dir "$st" head >"$AL_TMP/out" 2>&1
al_is "$? $(cat "$AL_TMP/out")" \
	"1 airlock: records head: '$st/chain/head' is not a head airlock writes (changed): run records verify" \
	"records head names a head that does not read as one"

verify "$AL_STATE"
al_ok "$V_RC" "the untouched records still verify"
verify "$AL_STATE" --since 3
al_ok "$(echo "$V_OUT" | grep -q '^verified'; echo $?)" "verify --since 3"
al_ok "$(echo "$V_OUT" | grep -q '^verified 1 record (seq 3\.\.3),'; echo $?)" \
	"and its summary counts only seq 3, whose signature it checked"
for opt in --pubkey --since; do
	"$AIRLOCK" records --state-dir "$AL_STATE" verify "$opt" >/dev/null 2>"$AL_TMP/err"
	al_is "$? $(cat "$AL_TMP/err")" "2 airlock: records verify: $opt needs a value ($([ "$opt" = --pubkey ] && echo FILE || echo SEQ))" \
		"verify $opt without its value says so (not 'unknown argument')"
done
st=$(copy "$AL_STATE" since)
sed -Ei 's/"code": ([0-9]+)/"code": 1\1/' "$st/records/$first"
verify "$st" --since 2
al_ok "$(! echo "$V_OUT" | grep -q 'bad signature'; echo $?)" \
	"--since 2 does not check the signature of seq 1"
al_ok "$([ "$V_RC" -eq 1 ] && echo "$V_OUT" | grep -q "(seq 2): prev_sha256 is not record $first"; echo $?)" \
	"but the link of seq 2 to it: a changed seq 1 still shows"
verify "$AL_STATE" --since 2
al_ok "$([ "$V_RC" -eq 0 ] && echo "$V_OUT" | grep -q '^verified 2 records (seq 2\.\.3),'; echo $?)" \
	"the summary of --since 2 does not claim seq 1: verified 2 records (seq 2..3)"
verify "$AL_STATE" --since 4
al_ok "$([ "$V_RC" -eq 0 ] && echo "$V_OUT" | grep -q '^verified 0 records (none from seq 4 on),'; echo $?)" \
	"--since past the head: none claimed ($(echo "$V_OUT" | tail -n 1))"

# ---- concurrent runs ----

pids=()
for i in $(seq 10); do
	"$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- "$PROBE" true \
		</dev/null >/dev/null 2>"$AL_TMP/conc-$i.err" &
	pids+=("$!")
done
bad=0
for p in "${pids[@]}"; do
	wait "$p" || bad=$((bad + 1))
done
al_is "$bad" 0 "10 concurrent runs succeed"
verify "$AL_STATE"
al_ok "$(echo "$V_OUT" | grep -q '^verified 13 records (seq 1\.\.13)'; echo $?)" \
	"and leave an unbroken chain, seq 1..13"
echo "$V_OUT" | al_diag

# ---- a supervisor killed mid-run ----

wait_running() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -lq '"cause": "running"' "$AL_STATE"/records/*.json 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
al_run_bg kill -- "$PROBE" sleep 60
if wait_running; then
	killed=$(grep -l '"cause": "running"' "$AL_STATE"/records/*.json | head -n 1)
	kill -KILL "$AL_BG_PID"
	wait "$AL_BG_PID" 2>/dev/null
	verify "$AL_STATE"
	al_ok "$(echo "$V_OUT" | grep -q '1 in progress'; echo $?)" \
		"the killed run's record is in progress, not in the chain"
	al_run -- "$PROBE" true
	al_is "$(al_json "$killed" 'r["exit"]["cause"], r["chain"]["seq"], "signature" in r')" \
		"('aborted', 14, True)" "the next start marks it aborted, chained and signed"
	verify "$AL_STATE"
	al_ok "$V_RC" "and the chain verifies (seq 1..15)"
	echo "$V_OUT" | al_diag
	al_is "$(al_json "$killed" '"reason" in r["exit"]')" False \
		"its running record was the one the run wrote: no reason in its exit"
else
	al_ok 1 "the run to kill started"
fi

# The running record is not signed while the run lives: one changed in the state directory
# (its command rewritten), then the run's supervisor dead, must not be signed as airlock's.
# A state directory of its own: the seqs above stay as they are.
st=$AL_TMP/st-changed-running
mkdir -p "$st"
env --default-signal=INT,QUIT "$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- \
	"$PROBE" sleep 60 >/dev/null 2>&1 </dev/null &
pid=$!
AL_PIDS+=("$pid")
for ((i = 0; i < 100; i++)); do
	grep -lq '"cause": "running"' "$st"/records/*.json 2>/dev/null && break
	sleep 0.1
done
changed=$(grep -l '"cause": "running"' "$st"/records/*.json | head -n 1)
if [ -n "$changed" ]; then
	sed -i 's/"sleep",/"harmless",/' "$changed"
	grep -q '"harmless",' "$changed"
	al_ok $? "the running record's command is rewritten in the state directory"
	edited=$(sha256sum "$changed" | cut -d' ' -f1)
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- "$PROBE" true >/dev/null 2>&1 </dev/null
	# The run lock kept the running record as written: the aborted record is made from it,
	# the command as the run had it, and still says the state directory's was changed.
	al_is "$(al_json "$changed" 'r["exit"]["cause"], r["exit"]["reason"], r["command"][1:3], "signature" in r')" \
		"('aborted', 'running_record_changed', ['sleep', '60'], True)" \
		"a running record changed while its run lived is marked aborted as changed, with the fields as written"
	al_ok "$(al_json "$changed" 'r["exit"]["message"]' | grep -q "^its running record was changed after airlock wrote it (sha256 $edited found, not [0-9a-f]\{64\} as written): this record is made from the copy its run lock kept, as airlock wrote it$"; echo $?)" \
		"... its message gives the digest found (the edited file's) and the one written"
	expect_problem "$st" "... and verify names it" \
		"^verify: record $(basename "$changed") \(seq 1\): its running record was changed in the state directory before it was marked aborted"
else
	al_ok 1 "the run whose running record is changed started"
fi

# A running record deleted, or replaced by bytes that are not a record, then the run's
# supervisor SIGKILLed: the run lock kept the running record as written (root's, beside it
# in the runtime directory) and pinned its SHA-256, so the next start still writes the run's
# aborted record, from that copy, saying why; verify names it and the chain stays whole.
# Each in a state directory of its own: the seqs above stay as they are.
# lost_running STATE HOW: starts `sleep 60`, waits for its pin, does HOW to its running
# record and kills its supervisor; sets LOST to the record's file name.
lost_running() {
	local st=$1 how=$2 pid id i
	LOST=
	mkdir -p "$st"
	env --default-signal=INT,QUIT "$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- \
		"$PROBE" sleep 60 >/dev/null 2>&1 </dev/null &
	pid=$!
	AL_PIDS+=("$pid")
	for ((i = 0; i < 200; i++)); do
		id=$(grep -l '"cause": "running"' "$st"/records/*.json 2>/dev/null | head -n 1)
		id=$(basename "$id" .json)
		[ -n "$id" ] && grep -qa running-sha256 "$AL_TMP/run/runs/$id.lock" 2>/dev/null &&
			[ -s "$AL_TMP/run/runs/$id.running" ] && break
		id=
		sleep 0.1
	done
	if [ -z "$id" ]; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		return 1
	fi
	case $how in
	delete) rm "$st/records/$id.json" ;;
	garbage) printf '{"run_id": "%s", "exit": {"cause": ' "$id" >"$st/records/$id.json" ;;
	esac
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	LOST=$id.json
}
al_is "$(find "$AL_TMP/run/runs" -name '*.lock' -o -name '*.running' | wc -l)" 0 \
	"no run lock nor running record copy outlives the runs so far"
for how in delete garbage; do
	st=$AL_TMP/st-$how-running
	reason=$([ "$how" = delete ] && echo missing || echo unreadable)
	if ! lost_running "$st" "$how"; then
		al_ok 1 "$how: the run whose running record goes started and pinned it"
		continue
	fi
	al_ok "$([ -s "$AL_TMP/run/runs/${LOST%.json}.running" ]; echo $?)" \
		"$how: its supervisor killed, the running record's copy is in the runtime directory"
	"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" --diagnostics-fd 3 -- \
		"$PROBE" true >/dev/null 2>&1 3>"$AL_TMP/lost.diag" </dev/null
	al_is "$?" 0 "$how: the next start runs"
	al_ok "$([ -f "$st/records/$LOST" ]; echo $?)" \
		"$how: the next start writes the killed run's record all the same"
	al_is "$(al_json "$st/records/$LOST" 'r["run_id"], r["exit"]["cause"], r["exit"]["code"], r["exit"]["reason"], r["command"][1:], r["chain"]["seq"], "signature" in r')" \
		"('${LOST%.json}', 'aborted', 125, 'running_record_$reason', ['sleep', '60'], 1, True)" \
		"$how: aborted, exit.reason running_record_$reason, its command, chained (seq 1), signed"
	next=$(record_of "$st" 2)
	al_is "$(al_json "$st/records/$LOST" 'r["policy"]["digest"]')" \
		"$(al_json "$next" 'r["policy"]["digest"]')" \
		"$how: it names the policy digest (the default policy's, as the next run's)"
	al_ok "$(al_json "$st/records/$LOST" 'r["exit"]["message"]' | grep -q "made from the copy its run lock kept (sha256 [0-9a-f]\{64\}, as airlock wrote it)$"; echo $?)" \
		"$how: its message says it is the copy its run lock kept"
	[ "$how" = garbage ] &&
		al_ok "$(al_json "$st/records/$LOST" 'r["exit"]["message"]' | grep -q '(not a JSON run record)'; echo $?)" \
			"$how: ... and what was found instead"
	al_ok "$(grep -q "Run record '$st/records/$LOST' is .*: marked aborted from the copy its run lock kept" "$AL_TMP/lost.diag"; echo $?)" \
		"$how: the start that marked it says so in its diagnostics"
	verify "$st"
	al_ok "$([ "$V_RC" -eq 1 ] && echo "$V_OUT" | grep -q "^verify: record $LOST (seq 1): its running record was $([ "$how" = delete ] && echo deleted from || echo replaced in) the state directory"; echo $?)" \
		"$how: verify names it"
	al_is "$(echo "$V_OUT" | grep -c '^verify:')" 1 \
		"$how: ... and nothing else: the chain is unbroken (seq 1..2)"
	echo "$V_OUT" | al_diag
	al_is "$(find "$AL_TMP/run/runs" -name "${LOST%.json}.*" | wc -l)" 0 \
		"$how: its lock and the copy are gone"
done

# ---- key rotation ----

old_id=$(al_json "$last" 'r["signature"]["key_id"]')
"$AIRLOCK" records --state-dir "$AL_STATE" rotate-key >"$AL_TMP/rotate.out"
new_id=$(sed -n 's/^key id //p' "$AL_TMP/rotate.out")
al_ok "$([ -n "$new_id" ] && [ "$new_id" != "$old_id" ]; echo $?)" "rotate-key makes a new key"
al_run -- "$PROBE" true
al_run -- "$PROBE" true
al_run -- "$PROBE" true
newest=$(record_of "$AL_STATE" 16)
al_is "$(al_json "$newest" 'r["signature"]["key_id"]')" "$new_id" "new records carry the new key id"
verify "$AL_STATE"
al_ok "$V_RC" "old and new records verify against the keyring"
al_is "$(find "$AL_STATE/keys/trusted" -name '*.pem' -printf '%f\n' | sort | tr '\n' ' ')" \
	"$(printf '%s.pem\n' "$old_id" "$new_id" | sort | tr '\n' ' ')" "the keyring keeps both keys"
verify "$AL_STATE" --pubkey "$AL_TMP/node.pem"
al_ok "$(echo "$V_OUT" | grep -q "record $(basename "$newest") (seq 16): unknown key"; echo $?)" \
	"--pubkey with the old key alone: the new records' key is unknown"
seqs=$(echo "$V_OUT" | sed -n 's/.*(seq \([0-9]*\)): unknown key.*/\1/p' | tr '\n' ' ')
al_is "$seqs" "16 17 18 " "verify names the problems in the records' order"

# ---- in-toto export ----

al_run -- "$PROBE" echo exported
id=$(basename "$(record_of "$AL_STATE" 19)" .json)
"$AIRLOCK" records --state-dir "$AL_STATE" pubkey | sed -n '/BEGIN/,/END/p' >"$AL_TMP/new.pem"
"$AIRLOCK" records --state-dir "$AL_STATE" export "$id" --format in-toto >"$AL_TMP/env.json"
al_ok $? "records export ID --format in-toto"
out=$(python3 "$TOOL" dsse "$AL_TMP/env.json" "$AL_TMP/new.pem" "$AL_STATE" "$AL_TMP/pae" \
	"$AL_TMP/sig" 2>&1)
al_ok $? "python3-cryptography verifies the DSSE signature over the PAE, and the subject digests"
echo "$out" | al_diag
al_ok "$(echo "$out" | grep -q "^$id events/$id.jsonl logs/$id.stderr logs/$id.stdout"
	echo $?)" "the subjects are the run's event log and captured logs"
openssl pkeyutl -verify -pubin -inkey "$AL_TMP/new.pem" -rawin -in "$AL_TMP/pae" \
	-sigfile "$AL_TMP/sig" >"$AL_TMP/openssl.out" 2>&1
al_ok $? "openssl pkeyutl -verify -rawin verifies it too"
printf 'x' >>"$AL_TMP/pae"
al_ok "$(! openssl pkeyutl -verify -pubin -inkey "$AL_TMP/new.pem" -rawin -in "$AL_TMP/pae" \
	-sigfile "$AL_TMP/sig" >/dev/null 2>&1; echo $?)" "and refuses a changed PAE"

# ---- the head, said to journald ----

# A journald of our own: a socket at /run/systemd/journal/socket in a mount namespace whose
# /run is a fresh tmpfs, where the test's runtime directory is bound at /run/airlock.
cat >"$AL_TMP/journal.sh" <<EOS
set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/airlock /run/systemd/journal
mount --bind "$AL_TMP/run" /run/airlock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
s.settimeout(20)
print("ready", flush=True)
sys.stdout.write(s.recv(65536).decode())
' >"$AL_TMP/journal.out" &
for i in \$(seq 50); do grep -q ready "$AL_TMP/journal.out" && break; sleep 0.1; done
"$REAL_AIRLOCK" run --config "$AL_TMP/iso.json" --state-dir "$AL_STATE" --workspace "$AL_WS" \
	-- "$PROBE" true </dev/null >/dev/null 2>&1
wait
EOS
unshare -m --propagation private -- /bin/bash "$AL_TMP/journal.sh"
h=$("$AIRLOCK" records --state-dir "$AL_STATE" head)
al_is "$(sed -n 's/^AIRLOCK_CHAIN_SEQ=//p; s/^AIRLOCK_CHAIN_SHA256=//p' "$AL_TMP/journal.out" | tr '\n' ' ')" \
	"$(echo "$h" | cut -d' ' -f2,4) " "a run sends the new head to journald (native protocol)"
al_ok "$(grep -q '^SYSLOG_IDENTIFIER=airlock$' "$AL_TMP/journal.out"; echo $?)" \
	"as SYSLOG_IDENTIFIER=airlock"


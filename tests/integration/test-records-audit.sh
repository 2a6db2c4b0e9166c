#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An auditor's review of the records (docs/audit.md), each case a tampering or a step of the
# guide that airlock once got wrong: the in-toto export attests only the logs and event log
# its signed record pins, and only the run it was asked for; the guide's "verify --state-dir
# COPY --pubkey KEYS.pem" works as written; verify sees the head file removed, and with
# --since SEQ the record SEQ-1 gone;
# records events escapes the keys of a changed log; verify, show, list, events and export
# name a FIFO in a copy, never wait on it; a key rotated out signs no record after its retirement, and verify sees one
# that is; records show escapes what jansson quotes of a corrupt record; the reaper signs a
# dead run's record only as that run.
. "$(dirname "$0")/lib.sh"
al_init
python3 -c 'import cryptography' 2>/dev/null || { echo "Bail out! python3-cryptography missing (setup.sh installs it)"; exit 1; }
TOOL=$(dirname "$0")/records-chain.py

al_check "a first run" -- "$PROBE" output 10
al_check "a second run" -- "$PROBE" output 20
# by_seq N: the record file of the state directory whose chain.seq is N (run ids of one
# second do not sort in run order).
by_seq() {
	grep -l "^    \"seq\": $1\$" "$AL_STATE"/records/*.json
}
first=$(by_seq 1)
first_id=$(basename "$first" .json)
last=$(by_seq 2)
id=$(basename "$last" .json)
"$AIRLOCK" records --state-dir "$AL_STATE" verify >"$AL_TMP/v.out" 2>&1
al_ok $? "the records verify"
al_diag <"$AL_TMP/v.out"

# forged NAME: a copy of the state directory whose files the test changes on purpose.
forged() {
	rm -rf "${AL_TMP:?}/$1"
	cp -a "$AL_STATE" "$AL_TMP/$1"
	touch "$AL_TMP/$1/.airlock-schema-skip"
}

# export_refused STATE ID PATTERN DESCRIPTION: the export fails, prints no envelope, and
# says PATTERN (grep -E) on stderr.
export_refused() {
	local rc
	"$AIRLOCK" records --state-dir "$1" export "$2" --format in-toto >"$AL_TMP/x.out" \
		2>"$AL_TMP/x.err"
	rc=$?
	al_ok "$([ "$rc" -ne 0 ] && [ ! -s "$AL_TMP/x.out" ] && grep -Eq -- "$3" "$AL_TMP/x.err"
		echo $?)" "$4"
	[ "$rc" -ne 0 ] || { head -c 300 "$AL_TMP/x.out"; echo; } | al_diag
	al_diag <"$AL_TMP/x.err"
}

# ---- the in-toto export attests only what the signed record pins ----

"$AIRLOCK" records --state-dir "$AL_STATE" pubkey | sed -n '/BEGIN/,/END/p' >"$AL_TMP/node.pem"
"$AIRLOCK" records --state-dir "$AL_STATE" export "$id" --format in-toto >"$AL_TMP/env.json" \
	2>"$AL_TMP/env.err"
al_ok $? "an untouched run exports"
out=$(python3 "$TOOL" dsse "$AL_TMP/env.json" "$AL_TMP/node.pem" "$AL_STATE" "$AL_TMP/pae" \
	"$AL_TMP/sig" 2>&1)
al_ok $? "its envelope verifies, every subject's digest is its file's"
echo "$out" | al_diag

forged log
echo "a line the task never wrote" >>"$AL_TMP/log/logs/$id.stdout"
export_refused "$AL_TMP/log" "$id" "refusing run '$id': 'logs/$id.stdout' is not the file its signed record holds" \
	"a captured log changed after the run is refused, not attested with a fresh signature"

forged events
python3 - "$AL_TMP/events/events/$id.jsonl" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().splitlines(keepends=True)
open(p, "wb").write(b"".join(lines[:-1]))  # the last event removed
PY
export_refused "$AL_TMP/events" "$id" "'events/$id.jsonl' is not the file its signed record holds" \
	"an event log cut after the run is refused"

forged swapped
cp "$AL_TMP/swapped/records/$first_id.json" "$AL_TMP/swapped/records/$id.json"
export_refused "$AL_TMP/swapped" "$id" "refusing record 'records/$id.json': it holds another run" \
	"a record copied over another run's file is refused (not exported as that run)"

# ---- each exported file is a subject of its own ----

# An in-toto verifier looks an artifact up by its digest: each file of the export is a
# subject, by the SHA-256 the manifest the signed record pins lists. Its own state directory:
# the seqs this test counts on stay as they are.
st=$AL_TMP/st-art
mkdir -p "$st"
pol=$(al_policy art <<'JSON'
{ "version": 1, "name": "art", "filesystem": { "tmpfs": [ { "target": "/out", "size": "16M" } ] },
  "artifacts": { "scan": "off" } }
JSON
)
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" --policy "$pol" -- sh -c \
	"echo one >/out/a.txt; mkdir /out/d; echo two >/out/d/b; echo 3 >'/out/"$'\xc3\xa9'"'; echo 4 >'/out/"$'\xff'"'" \
	>/dev/null 2>"$AL_TMP/art.err" </dev/null
al_ok $? "a run exporting four files"
al_diag <"$AL_TMP/art.err"
aid=$(basename "$(ls "$st"/records/*.json)" .json)
dir=$st/artifacts/$aid
"$AIRLOCK" records --state-dir "$st" pubkey | sed -n '/BEGIN/,/END/p' >"$AL_TMP/art.pem"
"$AIRLOCK" records --state-dir "$st" export "$aid" --format in-toto >"$AL_TMP/art-env.json"
out=$(python3 "$TOOL" dsse "$AL_TMP/art-env.json" "$AL_TMP/art.pem" "$st" "$AL_TMP/art-pae" \
	"$AL_TMP/art-sig" 2>&1)
al_ok $? "its envelope verifies, every subject's digest is its file's"
al_is "$(echo "$out" | tr ' ' '\n' | grep "^$dir/" | LC_ALL=C sort | tr '\n' ' ')" \
	"$dir/a.txt $dir/d/b $dir/manifest.json $dir/"$'\xc3\xa9'" " \
	"each exported file is a subject (one named by bytes that are not UTF-8 only through the manifest)"
echo "$out" | al_diag
echo '{}' >>"$dir/manifest.json"
export_refused "$st" "$aid" "'$dir/manifest.json' is not the manifest its signed record holds" \
	"a manifest changed after the run is refused: its files' digests are not attested"

# ---- the auditor's guide, as written ----

# "Verifying on another machine: copy records/, events/, chain/head and the public keys
# ..., and run verify --state-dir COPY --pubkey KEYS.pem there".
copy=$AL_TMP/copy
mkdir -p "$copy/chain"
cp -r "$AL_STATE/records" "$AL_STATE/events" "$copy/"
cp "$AL_STATE/chain/head" "$copy/chain/"
"$AIRLOCK" records verify --state-dir "$copy" --pubkey "$AL_TMP/node.pem" >"$AL_TMP/g.out" 2>&1
al_ok "$([ $? -eq 0 ] && grep -q '^verified 2 records (seq 1..2)' "$AL_TMP/g.out"; echo $?)" \
	"records verify --state-dir COPY --pubkey KEYS.pem (the option after the verb) verifies the copy"
al_diag <"$AL_TMP/g.out"
"$AIRLOCK" records head --state-dir="$copy" >"$AL_TMP/g.out" 2>&1
al_ok "$(grep -q "^seq 2 sha256 [0-9a-f]\{64\} run $id\$" "$AL_TMP/g.out"; echo $?)" \
	"records head --state-dir=COPY prints the copy's head"
al_diag <"$AL_TMP/g.out"

# The head file removed (and with it what showed a record removed from the end).
forged nohead
rm "$AL_TMP/nohead/chain/head" "$AL_TMP/nohead/records/$id.json"
"$AIRLOCK" records --state-dir "$AL_TMP/nohead" verify >"$AL_TMP/g.out" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q '^verify: chain/head: missing, while 1 records are chained: removed (with any records after seq 1)$' \
	"$AL_TMP/g.out"; echo $?)" "verify names a head file removed from under chained records"
al_diag <"$AL_TMP/g.out"

# ---- verify --since SEQ: the record verified last time is still there ----

al_check "a third run" -- "$PROBE" output 30
third=$(by_seq 3)
"$AIRLOCK" records --state-dir "$AL_STATE" verify --since 3 >"$AL_TMP/s.out" 2>&1
al_ok $? "verify --since 3 passes on untouched records"
al_diag <"$AL_TMP/s.out"

# The auditor verified up to seq 2 last time and now checks from 3 on: record 2 removed
# leaves record 3's link to it unchecked, and must show.
forged since
rm "$AL_TMP/since/records/$id.json"
"$AIRLOCK" records --state-dir "$AL_TMP/since" verify --since 3 >"$AL_TMP/s.out" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q "^verify: seq 2: missing (before record $(basename "$third"))" \
	"$AL_TMP/s.out"; echo $?)" "verify --since 3 names seq 2 missing when the record verified last time is gone"
al_diag <"$AL_TMP/s.out"

# The chain cut back to seq 2 (record 3 removed, the head rewritten to name seq 2): an
# auditor who verified up to 3 and asks --since 4 must not be told all is well.
forged cut
rm "$AL_TMP/cut/records/$(basename "$third")"
printf 'airlock-chain-head 1\n%s\nseq 1 sha256 %s run %s\n' "$(sed -n 3p "$AL_STATE/chain/head")" \
	"$(sha256sum <"$first" | cut -d' ' -f1)" "$first_id" >"$AL_TMP/cut/chain/head"
"$AIRLOCK" records --state-dir "$AL_TMP/cut" verify >"$AL_TMP/s.out" 2>&1
al_ok $? "(a chain cut back with its head rewritten verifies in full: only a pinned head shows it)"
"$AIRLOCK" records --state-dir "$AL_TMP/cut" verify --since 4 >"$AL_TMP/s.out" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q "^verify: seq 3: missing (--since 4; the last record is $id.json, seq 2)" \
	"$AL_TMP/s.out"; echo $?)" "verify --since 4 names seq 3 missing when the chain was cut back to seq 2"
al_diag <"$AL_TMP/s.out"

# ---- records events prints no byte of a changed log that could act on a terminal ----

forged evkeys
python3 - "$AL_TMP/evkeys/events/$id.jsonl" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().splitlines(keepends=True)
# A key of the first line with an escape sequence and a newline (JSON escapes: the line
# stays one line of JSON).
lines[0] = lines[0].replace(b'"type":', b'"\\u001b]2;owned\\u0007\\nkey":1,"type":', 1)
open(p, "wb").write(b"".join(lines))
PY
"$AIRLOCK" records --state-dir "$AL_TMP/evkeys" events "$id" >"$AL_TMP/ev.out" 2>"$AL_TMP/ev.err"
al_is "$?" 1 "records events fails on a changed event log"
al_ok "$(! LC_ALL=C grep -q '[^[:print:]]' "$AL_TMP/ev.out"; echo $?)" \
	"and prints no control byte of a key it holds"
al_ok "$(grep -qF '\x1b]2;owned\x07\x0akey=1' "$AL_TMP/ev.out"; echo $?)" "the key is shown escaped"
LC_ALL=C sed 's/[^[:print:]]/?/g' "$AL_TMP/ev.out" | al_diag

# ---- verify reads a copy as it came: a FIFO among its files is named, never waited on ----

forged fifo
mkfifo "$AL_TMP/fifo/records/zz-fifo.json"
rm "$AL_TMP/fifo/events/$first_id.jsonl"
mkfifo "$AL_TMP/fifo/events/$first_id.jsonl"
timeout 20 "$AIRLOCK" records --state-dir "$AL_TMP/fifo" verify >"$AL_TMP/f.out" 2>&1
rc=$?
al_is "$rc" 1 "verify of a copy holding FIFOs ends (status 1, not a hang)"
al_ok "$(grep -q '^verify: record zz-fifo.json: unreadable: not a regular file$' "$AL_TMP/f.out" &&
	grep -q "^verify: record $first_id.json: its event log events/$first_id.jsonl: not a regular file\$" \
		"$AL_TMP/f.out"
	echo $?)" "naming the record and the event log that are not regular files"
al_diag <"$AL_TMP/f.out"
# The other readers of the state directory read it the same way: never wait on a FIFO.
timeout 60 "$AIRLOCK" records --state-dir "$AL_TMP/fifo" show zz-fifo >/dev/null 2>"$AL_TMP/f.err"
al_ok "$([ $? -eq 1 ] && grep -qx "airlock: records: $AL_TMP/fifo/records/zz-fifo.json: not a valid run record: not a regular file" \
	"$AL_TMP/f.err"; echo $?)" "records show of a FIFO names it, never waits on it"
al_diag <"$AL_TMP/f.err"
timeout 60 "$AIRLOCK" records --state-dir "$AL_TMP/fifo" list >"$AL_TMP/f.out" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q '^zz-fifo.json  *(unreadable record: not a regular file)$' "$AL_TMP/f.out"; echo $?)" \
	"records list names the FIFO as not a regular file"
al_diag <"$AL_TMP/f.out"
timeout 60 "$AIRLOCK" records --state-dir "$AL_TMP/fifo" events "$first_id" >/dev/null 2>"$AL_TMP/f.err"
al_ok "$([ $? -eq 1 ] && grep -q "^airlock: records: event log of run $first_id: .*/events/$first_id.jsonl': not a regular file\$" \
	"$AL_TMP/f.err"; echo $?)" "records events of a FIFO event log names it, never waits on it"
al_diag <"$AL_TMP/f.err"
export_refused "$AL_TMP/fifo" "$first_id" "'events/$first_id.jsonl' is not a regular file" \
	"records export refuses a FIFO event log, naming it"
forged fifo-record
rm "$AL_TMP/fifo-record/records/$first_id.json"
mkfifo "$AL_TMP/fifo-record/records/$first_id.json"
timeout 60 "$AIRLOCK" records --state-dir "$AL_TMP/fifo-record" events "$first_id" >/dev/null 2>"$AL_TMP/f.err"
al_is "$?" 0 "records events of a run whose record is a FIFO ends (not a hang): its log's chain holds"
al_diag <"$AL_TMP/f.err"
export_refused "$AL_TMP/fifo-record" "$first_id" "record 'records/$first_id.json' is not a regular file" \
	"records export refuses a FIFO record, naming it"
rm "$AL_TMP/fifo/records/zz-fifo.json"
rm "$AL_TMP/fifo/chain/head"
mkfifo "$AL_TMP/fifo/chain/head"
timeout 20 "$AIRLOCK" records --state-dir "$AL_TMP/fifo" verify >"$AL_TMP/f.out" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q "chain/head.: not a regular file$" "$AL_TMP/f.out"; echo $?)" \
	"verify of a copy whose chain/head is a FIFO ends (status 1, not a hang), naming it"
al_diag <"$AL_TMP/f.out"

# ---- key rotation: the retired key signs nothing after its retirement ----

cp "$AL_STATE/keys/node.key" "$AL_TMP/old.key"
old_id=$("$AIRLOCK" records --state-dir "$AL_STATE" pubkey | sed -n 's/^key id //p')
al_run_bg rot -- "$PROBE" sleep 3
for _ in $(seq 100); do
	grep -lq '"cause": "running"' "$AL_STATE"/records/*.json 2>/dev/null && break
	sleep 0.1
done
"$AIRLOCK" records --state-dir "$AL_STATE" rotate-key >"$AL_TMP/rot.out" 2>&1
al_ok $? "records rotate-key while a run is in progress"
new_id=$(sed -n 's/^key id //p' "$AL_TMP/rot.out")
wait "$AL_BG_PID"
al_ok $? "the run in progress ends"
rot=$(by_seq 4)
al_is "$(al_json "$rot" 'r["signature"]["key_id"]')" "$new_id" \
	"the run that started before the rotation is signed with the new key, not the retired one"
al_is "$(cat "$AL_STATE/keys/trusted/$old_id.retired" 2>&1)" "seq 3" \
	"the keyring marks the old key retired after the head (seq 3)"
"$AIRLOCK" records --state-dir "$AL_STATE" verify >"$AL_TMP/r.out" 2>&1
al_ok $? "the records verify after the rotation"
al_diag <"$AL_TMP/r.out"

# A copy whose records after the rotation were re-signed with the retired key (a key that
# leaked, the reason to rotate), the head made to match: only the mark shows it.
forged retired
python3 "$TOOL" resign "$AL_TMP/retired/records/$(basename "$rot")" "$AL_TMP/old.key"
sha=$(sha256sum "$AL_TMP/retired/records/$(basename "$rot")" | cut -d' ' -f1)
sed -i "2s/sha256 [0-9a-f]* /sha256 $sha /" "$AL_TMP/retired/chain/head"
"$AIRLOCK" records --state-dir "$AL_TMP/retired" verify >"$AL_TMP/r.out" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q "^verify: record $(basename "$rot") (seq 4): signed by key $old_id after it was retired (after seq 3)\$" \
	"$AL_TMP/r.out"; echo $?)" "verify names a record signed by the retired key after its retirement"
al_diag <"$AL_TMP/r.out"
export_refused "$AL_TMP/retired" "$(basename "$rot" .json)" "signed by a key after it was retired" \
	"nor does the export sign it anew with the node key"

# ---- records show quotes no byte of a corrupt record ----

forged corrupt
printf '{"run_id": 1\033]2;owned\007}' >"$AL_TMP/corrupt/records/$id.json"
"$AIRLOCK" records --state-dir "$AL_TMP/corrupt" show "$id" >"$AL_TMP/c.out" 2>&1
al_ok "$([ $? -eq 1 ] && ! LC_ALL=C grep -q '[^[:print:]]' "$AL_TMP/c.out" &&
	grep -qF "expected near '\\x1b'" "$AL_TMP/c.out"; echo $?)" \
	"records show of a corrupt record prints jansson's quote of its bytes escaped"
LC_ALL=C sed 's/[^[:print:]]/?/g' "$AL_TMP/c.out" | al_diag

# ---- the reaper signs a dead run's record only as that run ----

# A dead run (its lock file, nobody holding it) whose "running" record holds another run's
# id: marked aborted, it was signed as that other run, and the head named a record that was
# not there, so the next append took its seq again. Own runtime directory (al_isolate): no
# other airlock reaps this dead run, nor this test theirs.
al_isolate records-audit
st=$AL_TMP/st-reap
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- "$PROBE" true >/dev/null 2>&1
al_ok $? "a run in a state directory of its own"
real=$(basename "$(ls "$st"/records/*.json)" .json)
fake=20261206T000000Z-0000beef
python3 - "$st/records/$real.json" "$st/records/$fake.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("chain", "signature"):
    r.pop(k, None)
r["exit"] = {"cause": "running", "code": 0}
json.dump(r, open(sys.argv[2], "w"), indent=2, sort_keys=True)  # run_id: the real run's
PY
mkdir -p "$AL_TMP/run/runs"
printf '%s\0\0' "$st" >"$AL_TMP/run/runs/$fake.lock"
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- "$PROBE" true >/dev/null 2>"$AL_TMP/reap.err"
al_ok $? "the next run starts (and reaps the dead one)"
al_ok "$([ ! -e "$AL_TMP/run/runs/$fake.lock" ]; echo $?)" "the dead run was reaped"
al_is "$(al_json "$st/records/$fake.json" 'r["exit"]["cause"]' 2>&1)" running \
	"its record, which holds another run, is not marked aborted and signed as that run"
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- "$PROBE" true >/dev/null 2>&1
"$AIRLOCK" records --state-dir "$st" verify >"$AL_TMP/reap.out" 2>&1
al_ok "$(! grep -q 'taken twice' "$AL_TMP/reap.out"; echo $?)" "the chain after it has no seq taken twice"
al_diag <"$AL_TMP/reap.out"
rm -f "$st/records/$fake.json"

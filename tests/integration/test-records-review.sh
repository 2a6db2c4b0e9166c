#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a review of the records found (docs/audit.md): the in-toto export signs only a
# record whose own signature still verifies (never one changed, or re-signed with another
# key, after the fact); `records verify` and `records head` print no byte of a hostile
# file name, run id or head that could act on a terminal or print a line of its own.
. "$(dirname "$0")/lib.sh"
al_init
al_need openssl
python3 -c 'import cryptography' 2>/dev/null || { echo "Bail out! python3-cryptography missing (setup.sh installs it)"; exit 1; }
TOOL=$(dirname "$0")/records-chain.py

al_check "a first run" -- "$PROBE" true
al_check "a second run" -- "$PROBE" true
newest=$(ls -t "$AL_STATE"/records/*.json | head -n 1)
id=$(basename "$newest" .json)
"$AIRLOCK" records --state-dir "$AL_STATE" verify >"$AL_TMP/v.out" 2>&1
al_ok $? "the records verify"

# ---- the in-toto export signs only what verifies ----

"$AIRLOCK" records --state-dir "$AL_STATE" export "$id" --format in-toto >"$AL_TMP/env.json" \
	2>"$AL_TMP/env.err"
al_ok $? "an untouched record exports"

# forged COPY: a copy of the state directory whose records the test changes on purpose.
forged() {
	rm -rf "${AL_TMP:?}/$1"
	cp -a "$AL_STATE" "$AL_TMP/$1"
	touch "$AL_TMP/$1/.airlock-schema-skip"
}
# export_refused STATE DESCRIPTION: the export fails, says why, and prints no envelope.
export_refused() {
	local rc
	"$AIRLOCK" records --state-dir "$1" export "$id" --format in-toto >"$AL_TMP/x.out" \
		2>"$AL_TMP/x.err"
	rc=$?
	al_ok "$([ "$rc" -ne 0 ] && [ ! -s "$AL_TMP/x.out" ] &&
		grep -q "signature does not verify" "$AL_TMP/x.err"
		echo $?)" "$2"
	[ "$rc" -ne 0 ] || head -c 300 "$AL_TMP/x.out" | al_diag
	al_diag <"$AL_TMP/x.err"
}

forged changed
sed -i 's/"code": 0,/"code": 1,/' "$AL_TMP/changed/records/$id.json"
al_ok "$(! cmp -s "$newest" "$AL_TMP/changed/records/$id.json"; echo $?)" "exit code changed by hand"
export_refused "$AL_TMP/changed" "a record changed after it was signed is not exported (signed anew)"

forged resigned
sed -i 's/"code": 0,/"code": 1,/' "$AL_TMP/resigned/records/$id.json"
openssl genpkey -algorithm ed25519 -out "$AL_TMP/other.key" 2>/dev/null
python3 "$TOOL" resign "$AL_TMP/resigned/records/$id.json" "$AL_TMP/other.key"
al_ok "$(python3 "$TOOL" check "$AL_TMP/resigned/records/$id.json" <(openssl pkey \
	-in "$AL_TMP/other.key" -pubout 2>/dev/null) >/dev/null 2>&1; echo $?)" \
	"the changed record carries a valid signature of another key"
export_refused "$AL_TMP/resigned" "a record re-signed with a key not in the keyring is not exported"

forged unsigned
python3 - "$AL_TMP/unsigned/records/$id.json" <<'PY'
import re, sys
p = sys.argv[1]
t = open(p).read()
open(p, "w").write(re.sub(r',\n  "signature": \{.*\}\n\}$', "\n}", t, flags=re.S))
PY
"$AIRLOCK" records --state-dir "$AL_TMP/unsigned" export "$id" --format in-toto \
	>"$AL_TMP/x.out" 2>&1
al_ok "$([ $? -ne 0 ]; echo $?)" "an unsigned record is not exported"

# ---- verify checks each record's event log ----

forged events
python3 - "$AL_TMP/events/events/$id.jsonl" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().splitlines(keepends=True)
open(p, "wb").write(b"".join(lines[1:]))  # the first event removed
PY
"$AIRLOCK" records --state-dir "$AL_TMP/events" verify >"$AL_TMP/e.out" 2>&1
al_is "$?" 1 "verify fails when an event line was removed"
al_ok "$(grep -q "^verify: record $id.json: its event log, line 1: " "$AL_TMP/e.out"; echo $?)" \
	"naming the record and the line"
al_diag <"$AL_TMP/e.out"
rm "$AL_TMP/events/events/$id.jsonl"
"$AIRLOCK" records --state-dir "$AL_TMP/events" verify >"$AL_TMP/e.out" 2>&1
al_ok "$([ $? -eq 1 ] && grep -q "^verify: record $id.json: its event log events/$id.jsonl: missing" \
	"$AL_TMP/e.out"; echo $?)" "and when the event log was deleted"

# ---- no hostile byte reaches the terminal ----

# no_control FILE: the file holds no control byte but newline, no byte past ASCII.
no_control() {
	! LC_ALL=C grep -q '[^[:print:]]' "$1"
}

forged names
name=$'\e]2;owned\a\nverified 9 records (seq 1..9), 0 in progress\e[2K.json'
echo '{}' >"$AL_TMP/names/records/$name"
"$AIRLOCK" records --state-dir "$AL_TMP/names" verify >"$AL_TMP/n.out" 2>&1
al_is "$?" 1 "verify fails on a record by hand"
al_ok "$(no_control "$AL_TMP/n.out"; echo $?)" "verify prints no control byte of a file name"
al_ok "$(! grep -q '^verified' "$AL_TMP/n.out"; echo $?)" \
	"a newline in a file name prints no line of its own"
grep -F 'record \x1b]2;owned\x07\x0averified 9' "$AL_TMP/n.out" >/dev/null
al_ok $? "the name is shown escaped"
LC_ALL=C sed 's/[^[:print:]]/?/g' "$AL_TMP/n.out" | al_diag

forged head
seq=$(sed -n 2p "$AL_STATE/chain/head" | cut -d' ' -f2)
sha=$(sed -n 2p "$AL_STATE/chain/head" | cut -d' ' -f4)
printf 'airlock-chain-head 1\nseq %s sha256 %s run \e[31m%s\n-\n' "$seq" "$sha" "$id" \
	>"$AL_TMP/head/chain/head"
"$AIRLOCK" records --state-dir "$AL_TMP/head" head >"$AL_TMP/h.out" 2>&1
al_is "$?" 1 "records head refuses a head file naming a run id with control bytes"
al_ok "$(no_control "$AL_TMP/h.out"; echo $?)" "and prints none of them"
"$AIRLOCK" records --state-dir "$AL_TMP/head" verify >"$AL_TMP/h.out" 2>&1
al_ok "$([ $? -ne 0 ] && no_control "$AL_TMP/h.out"; echo $?)" \
	"verify fails on it, printing no control byte"
LC_ALL=C sed 's/[^[:print:]]/?/g' "$AL_TMP/h.out" | al_diag

# ---- the record says where the export went, every byte of it ----

pol=$(al_policy artifacts <<'JSON'
{ "version": 1, "name": "artifacts",
  "filesystem": { "tmpfs": [ { "target": "/out", "size": "16M" } ] },
  "artifacts": { "scan": "off" } }
JSON
)
exp=$AL_TMP/$'exp\xff\x1b'
al_check "a run exports to a directory whose name is not UTF-8" --policy "$pol" --export "$exp" \
	-- "$PROBE" true
rec=$(ls -t "$AL_STATE"/records/*.json | head -n 1)
al_is "$(python3 - "$rec" <<'PY'
import base64, json, sys
a = json.load(open(sys.argv[1])).get("artifacts", {}).get("path", {})
print(base64.b64decode(a["base64"]).decode("latin-1") if isinstance(a, dict) and "base64" in a
      else repr(a))
PY
)" "$(printf '%s' "$exp" | iconv -f latin1 -t utf-8)" \
	"the record holds the export's path, byte for byte (not left out)"
al_ok "$([ -f "$exp/manifest.json" ]; echo $?)" "and the export is there"

# The in-toto export's subjects cover the artifacts: the manifest, which lists each file.
al_check "a run exports its /out" --policy "$pol" -- "$PROBE" true
art=$(ls -t "$AL_STATE"/records/*.json | head -n 1)
art_id=$(basename "$art" .json)
"$AIRLOCK" records --state-dir "$AL_STATE" pubkey | sed -n '/BEGIN/,/END/p' >"$AL_TMP/node.pem"
"$AIRLOCK" records --state-dir "$AL_STATE" export "$art_id" --format in-toto \
	>"$AL_TMP/art.json" 2>"$AL_TMP/art.err"
al_ok $? "its record exports"
out=$(python3 "$TOOL" dsse "$AL_TMP/art.json" "$AL_TMP/node.pem" "$AL_STATE" "$AL_TMP/pae" \
	"$AL_TMP/sig" 2>&1)
al_ok $? "the envelope verifies, and every subject's digest is its file's"
echo "$out" | al_diag
al_ok "$(echo "$out" | tr ' ' '\n' | grep -qx "$AL_STATE/artifacts/$art_id/manifest.json"
	echo $?)" "the export's manifest is a subject"

st=$AL_TMP/$'st\xff'
al_check "a run with a state directory whose name is not UTF-8" --state-dir "$st" -- "$PROBE" true
rec=$(ls -t "$st"/records/*.json | head -n 1)
al_is "$(python3 - "$rec" <<'PY'
import base64, json, os, sys
p = json.load(open(sys.argv[1])).get("events", {}).get("path", {})
p = base64.b64decode(p["base64"]) if isinstance(p, dict) and "base64" in p else repr(p).encode()
print(os.path.isfile(p) and p.startswith(os.path.dirname(os.path.dirname(sys.argv[1].encode(
    "utf-8", "surrogateescape")))))
PY
)" True "the record names its event log, byte for byte (not left out)"

# ---- a killed supervisor's export directory ----

# airlock with a private runtime directory (a bind over /run/airlock in a mount namespace
# of its own) and cgroup parent, as test-records-safety does: no other airlock reaps the
# run this case kills, and its starts reap no one else's.
al_isolate review

st=$AL_TMP/st-kill
mkdir -p "$st"
env --default-signal=INT,QUIT "$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" --policy "$pol" \
	-- "$PROBE" sleep 60 </dev/null >/dev/null 2>"$AL_TMP/kill.err" &
pid=$!
AL_PIDS+=("$pid")
for _ in $(seq 100); do
	compgen -G "$st/artifacts/*" >/dev/null && grep -qs '"running"' "$st"/records/*.json && break
	sleep 0.1
done
dead=$(basename "$(compgen -G "$st/artifacts/*" | head -n 1)")
al_ok "$([ -n "$dead" ] && [ -d "$st/artifacts/$dead" ]; echo $?)" \
	"a run with artifacts has its export directory while it runs"
# The supervisor is $pid itself: the wrapper and unshare exec it.
kill -KILL "$pid"
wait "$pid" 2>/dev/null
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- "$PROBE" true </dev/null >/dev/null \
	2>"$AL_TMP/reap.err"
al_is "$(al_json "$st/records/$dead.json" 'r["exit"]["cause"]' 2>&1)" aborted \
	"the next start marks the killed run aborted"
al_ok "$([ -n "$dead" ] && [ ! -e "$st/artifacts/$dead" ]; echo $?)" \
	"and removes its empty export directory"
al_ok "$([ -n "$dead" ] && [ ! -e "$st/artifacts/.$dead.partial" ]; echo $?)" \
	"and the (empty) partial directory beside it"

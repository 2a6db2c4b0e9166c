#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a review of the records found (docs/audit.md): the in-toto export signs only a
# record whose own signature still verifies (never one changed, or re-signed with another
# key, after the fact).
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

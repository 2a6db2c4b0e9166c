#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Redaction and neutralisation on the task's output path (docs/logs.md): a task given one
# credential by file and one by environment prints them in every form to stdout and
# stderr, in pieces with pauses; neither the caller's output nor the captured logs hold
# any form (checked by tests/lib/secret_forms.py, which knows the forms apart from the
# redactor). Terminal escapes arrive neutralised on the caller's stream and in the logs,
# raw on the caller's stream with logs.terminal "raw" (still redacted; the logs still
# neutralised). A partial secret at the very end of a stream is redacted; a prompt
# without a newline is not held back; the record counts the redactions; nothing of the
# values is left in the state directory, and no mount after the run.
. "$(dirname "$0")/lib.sh"
al_init
al_need sha256sum

FORMS=$AIRLOCK_SRC/tests/lib/secret_forms.py
cp "$FORMS" "$AL_WS/secret_forms.py"
cp "$AIRLOCK_SRC/tests/integration/redact-task.py" "$AL_WS/redact-task.py"
chmod 644 "$AL_WS/secret_forms.py" "$AL_WS/redact-task.py"

SRC=$AL_TMP/src # the caller's secret files: the only place the values may be
mkdir -m 700 "$SRC"
rand() { head -c 30 /dev/urandom | base64 | tr -d '+/=\n' | head -c 24; }
printf 'A%s' "$(rand)" >"$SRC/a"
printf 'B%s' "$(rand)" >"$SRC/b"

policy() { # policy NAME TERMINAL
	al_policy "$1" <<JSON
{ "version": 1, "name": "$1",
  "credentials": [
    { "name": "a", "source": "caller", "deliver": { "file": "/run/secrets/a" } },
    { "name": "b", "source": "caller", "deliver": { "env": "B" } } ],
  "logs": { "terminal": "$2", "redact_patterns": [ "sk-live-[0-9]{6}" ] } }
JSON
}
NEUTRAL=$(policy neutral neutral)
RAW=$(policy raw raw)
CREDS=(--credential "a=@$SRC/a" --credential "b=@$SRC/b")

log_of() { # log_of RECORD stdout|stderr
	al_json "$1" "r['logs']['$2']['path']"
}

# Undoes the neutraliser's escapes (\xHH, \uHHHH), so that the checker sees a form
# interleaved with escapes as the terminal would have: strictly more to find, not less.
unescape() { # unescape IN OUT
	python3 - "$1" "$2" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
data = re.sub(rb'\\x([0-9a-f]{2})', lambda m: bytes([int(m.group(1), 16)]), data)
data = re.sub(rb'\\u([0-9a-f]{4})', lambda m: chr(int(m.group(1), 16)).encode(), data)
open(sys.argv[2], 'wb').write(data)
PY
}

# no_form DESCRIPTION FILE...: no form of either value in the files, as they are and
# unescaped.
no_form() {
	local desc=$1 f found=
	shift
	for f in "$@"; do
		[ -s "$f" ] || found+="$f: missing or empty; "
		[ -s "$f" ] || continue
		unescape "$f" "$f.unescaped"
		for v in a b; do
			found+=$(python3 "$FORMS" check "$SRC/$v" "$f" "$f.unescaped")
		done
	done
	al_is "$found" "" "$desc"
}

# ---- every form, both streams, pieces and pauses ----

for mode in neutral raw; do
	pol=$NEUTRAL
	[ $mode = raw ] && pol=$RAW
	al_run --policy "$pol" "${CREDS[@]}" --record "$AL_TMP/forms-$mode.json" \
		-- /usr/bin/python3 /workspace/redact-task.py forms
	al_is "$AL_RC" 0 "$mode: the task printing every form of both values ends well"
	[ "$AL_RC" -eq 0 ] || al_show
	cp "$AL_TMP/out" "$AL_TMP/forms-$mode.out"
	cp "$AL_TMP/err" "$AL_TMP/forms-$mode.err"
	n=$(python3 "$FORMS" names "$SRC/a" | wc -l)
	al_ok "$([ "$(grep -c ' \.$' "$AL_TMP/forms-$mode.out")" -ge "$((2 * n))" ]; echo $?)" \
		"$mode: every form's line reached the caller ($((2 * n)) lines or more)"
	no_form "$mode: no form of either value in the caller's stdout and stderr" \
		"$AL_TMP/forms-$mode.out" "$AL_TMP/forms-$mode.err"
	no_form "$mode: no form of either value in the captured logs" \
		"$(log_of "$AL_TMP/forms-$mode.json" stdout)" "$(log_of "$AL_TMP/forms-$mode.json" stderr)"
	al_ok "$(grep -q '^split: \[REDACTED:a\]$' "$AL_TMP/forms-$mode.out"; echo $?)" \
		"$mode: a value written in two pieces, 350 ms apart, is one label"
	for k in a b; do
		c=$(al_json "$AL_TMP/forms-$mode.json" "r['redactions']['credentials']['$k']")
		al_ok "$([ "$c" -ge "$((2 * n))" ]; echo $?)" \
			"$mode: the record counts the redactions of '$k' ($c, at least $((2 * n)))"
	done
done

# ---- escapes: neutralised, or raw on the caller's stream only ----

NEUTRALISED='ESC:\x1b[2J|OSC:\x1b]0;pwned\x07|HIDE:\x1b[8mhidden\x1b[0m|CSI8:\x9b31m|C1:\u009b|NUL:\x00|BEL:\x07|BIDI:\u202e|end'
printf 'ESC:\033[2J|OSC:\033]0;pwned\007|HIDE:\033[8mhidden\033[0m|CSI8:\23331m|C1:\302\233|NUL:\000|BEL:\007|BIDI:\342\200\256|end\n' \
	>"$AL_TMP/escapes.raw"
for mode in neutral raw; do
	pol=$NEUTRAL
	[ $mode = raw ] && pol=$RAW
	al_run --policy "$pol" "${CREDS[@]}" --record "$AL_TMP/esc-$mode.json" \
		-- /usr/bin/python3 /workspace/redact-task.py escapes
	for s in stdout stderr; do
		f=$AL_TMP/out
		[ $s = stderr ] && f=$AL_TMP/err
		if [ $mode = neutral ]; then
			al_is "$(cat "$f")" "$NEUTRALISED" \
				"neutral: ESC, CSI, OSC, hidden text, 0x9b, UTF-8 C1, NUL, bidi reach the caller's $s as visible escapes"
		else
			al_ok "$(cmp -s "$f" "$AL_TMP/escapes.raw"; echo $?)" \
				"raw: the caller's $s gets the task's bytes as they are"
		fi
		al_is "$(cat "$(log_of "$AL_TMP/esc-$mode.json" $s)")" "$NEUTRALISED" \
			"$mode: the captured $s log is neutralised"
	done
done

# ---- a partial secret as the stream's last bytes ----

al_run --policy "$RAW" "${CREDS[@]}" --record "$AL_TMP/tail.json" \
	-- /usr/bin/python3 /workspace/redact-task.py tail
a=$(cat "$SRC/a") b=$(cat "$SRC/b")
al_is "$(cat "$AL_TMP/out")|$(cat "$AL_TMP/err")" "last: [REDACTED:a]|last: [REDACTED:b]" \
	"a value cut short at the very end of stdout and stderr, without newline, is redacted"
al_ok "$(grep -rqF -e "${a:0:12}" -e "${b:0:12}" "$AL_TMP/out" "$AL_TMP/err" \
	"$(log_of "$AL_TMP/tail.json" stdout)" "$(log_of "$AL_TMP/tail.json" stderr)"; [ $? -eq 1 ]; echo $?)" \
	"... in the caller's streams and the logs alike"

# The stream ends inside an escape (C escapes of the value, cut in the next one) or a UTF-8
# character (zero-width spaces between the value's characters, the next one cut short)
# after 12 characters of the value: the partial goes, with the unfinished bytes after it.
al_run --policy "$RAW" "${CREDS[@]}" --record "$AL_TMP/tail-unf.json" \
	-- /usr/bin/python3 /workspace/redact-task.py tail-unfinished
al_is "$(cat "$AL_TMP/out")|$(cat "$AL_TMP/err")" "last: [REDACTED:a]|last: [REDACTED:b]" \
	"a partial value cut inside an escape or a UTF-8 character at the end of stdout and stderr is redacted"
al_is "$(cat "$(log_of "$AL_TMP/tail-unf.json" stdout)")|$(cat "$(log_of "$AL_TMP/tail-unf.json" stderr)")" \
	"last: [REDACTED:a]|last: [REDACTED:b]" "... in the logs too"

# ---- a value with a newline at its end, used without it ----

# A file written with echo: the newline is part of the value, and $(cat FILE) takes it off
# before the task encodes what is left. Basic auth is base64 of "user:" and the value.
# It ends with the letter it starts with: its reverse on the last line starts with the
# bits the newline would have in the base64 line before it (a form must not take those in).
echo "C$(rand)C" >"$SRC/c"
printf %s "$(cat "$SRC/c")" >"$SRC/c.trimmed"
al_run --policy "$NEUTRAL" --credential "a=@$SRC/c" --credential "b=@$SRC/b" \
	-- /bin/sh -c 'v=$(cat /run/secrets/a); printf %s "$v" | base64;
		printf %s "$v" | od -An -tx1 | tr -d " \n"; echo
		printf "user:%s" "$v" | base64; printf "%s\n" "$v" | rev'
al_is "$AL_RC" 0 "a task encoding a value from a file written with echo ends well"
cp "$AL_TMP/out" "$AL_TMP/trimmed.out"
al_is "$(python3 "$FORMS" check "$SRC/c.trimmed" "$AL_TMP/trimmed.out")" "" \
	"its base64, hex, Basic auth and reversed forms without the newline are redacted"
al_is "$(grep -c '\[REDACTED:a\]' "$AL_TMP/trimmed.out")" 4 "... each under the slot's name"

# ---- a user pattern that does not compile, or matches the empty string, is refused ----

for pat in 'token-(' '(?=token)'; do
	bad=$(al_policy bad-pattern <<JSON
{ "version": 1, "name": "bad-pattern", "logs": { "redact_patterns": [ "ok-[0-9]+", "$pat" ] } }
JSON
)
	al_run --policy "$bad" -- /bin/true
	al_ok "$([ "$AL_RC" -eq 125 ] && [ "$(grep -c . "$AL_TMP/err")" -eq 1 ] &&
		grep -q '^airlock: refusing run: logs.redact_patterns\[1\] at offset [0-9]*: ' "$AL_TMP/err"; echo $?)" \
		"the pattern '$pat' is refused: exit 125, one line naming logs.redact_patterns[1] ($(cat "$AL_TMP/err"))"
done

# ---- a prompt without a newline is not held back ----

# prompt_ms MODE: ms from "enter code " reaching the caller to the first character of the
# value after it, and to all three of them ("FIRST ALL"), or "never".
prompt_ms() {
	python3 - "$AIRLOCK" "$AL_STATE" "$AL_WS" "$RAW" "$SRC" "$1" <<'PY'
import os, subprocess, sys, time
airlock, state, ws, pol, src, mode = sys.argv[1:]
p = subprocess.Popen([airlock, 'run', '--state-dir', state, '--workspace', ws, '--policy', pol,
                      '--credential', 'a=@%s/a' % src, '--credential', 'b=@%s/b' % src, '--',
                      '/usr/bin/python3', '/workspace/redact-task.py', mode],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
a = open(src + '/a', 'rb').read()
got, at = b'', {}
while True:
    chunk = os.read(p.stdout.fileno(), 4096)
    if not chunk:
        break
    got += chunk
    for name, want in (('enter', b'ready\nenter code '), ('first', b'enter code ' + a[:1]),
                       ('all', b'enter code ' + a[:3])):
        if name not in at and want in got:
            at[name] = time.monotonic()
err = p.stderr.read().decode(errors='replace')
p.wait()
gap = max([int(l.split()[1]) for l in err.splitlines() if l.startswith('gaps-ms ')] or [0])
if len(at) == 3:
    print('%d %d %d' % (1000 * (at['first'] - at['enter']), 1000 * (at['all'] - at['enter']),
                        gap))
else:
    print('never')
PY
}
read -r first all _ < <(prompt_ms prompt)
al_ok "$([ "$first" != never ] && [ "$all" -lt 1000 ]; echo $?)" \
	"a prompt ending in what could start a value reaches the caller within 1 s ($all ms; the task then sleeps 3 s)"
# Written one character at a time, 0.15 s apart: the held bytes go out 0.2 s after the
# last write (0.5 s), not 0.2 s after the first (the quiet timer is armed once and re-armed when it
# fires early: run-io-filter.c).
# The premise is the task's: a gap between its writes that the machine stretched past 0.2 s
# was a quiet period (the task says how long its gaps were), so such a try is made again.
for try in 1 2 3; do
	read -r first all gap < <(prompt_ms prompt-slow)
	[ "$first" = never ] || [ "$gap" -lt 190 ] && break
done
al_ok "$([ "$first" != never ] && [ "$first" -ge 380 ] && [ "$all" -lt 2000 ]; echo $?)" \
	"a prompt completed 0.15 s apart goes out once the task is quiet for 0.2 s ($first ms, all $all ms; >= 380, < 2000; longest gap $gap ms, try $try)"

# 8 characters of a value, then 3 s quiet: a quiet flush lets out nothing of them (a partial
# of 4 or more waits for the next write), so the timer is not re-armed after it: the
# supervisor sleeps until the task writes again (it woke every 0.2 s).
wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"; }
al_run_bg partial --policy "$RAW" "${CREDS[@]}" -- /usr/bin/python3 /workspace/redact-task.py \
	partial-quiet
sup=$AL_BG_PID
if al_wait_for "$AL_TMP/bg-partial.out" '^ready$' 20; then
	sleep 0.6 # the first quiet flush (0.2 s after the write) is past
	w0=$(wakeups "$sup")
	sleep 1.5
	w1=$(wakeups "$sup")
	wait "$sup"
	al_is "$?" 0 "a run holding a partial value while its task is quiet ends as usual"
	al_ok "$([ $((w1 - w0)) -le 3 ]; echo $?)" \
		"the supervisor sleeps while the task is quiet with a partial value held ($((w1 - w0)) wakeups in 1.5 s; <= 3)"
	al_ok "$(grep -qF "${a:0:8}" "$AL_TMP/bg-partial.out"; [ $? -eq 1 ] &&
		grep -q '^held ' "$AL_TMP/bg-partial.out"; echo $?)" "and the value, written across the pause, is redacted"
else
	al_ok 1 "the task holding a partial value started"
	wait "$sup"
fi

# ---- user pattern, counts ----

al_run --policy "$NEUTRAL" "${CREDS[@]}" --record "$AL_TMP/pat.json" \
	-- /bin/sh -c 'echo "key sk-live-123456 token ghp_abcdefghijklmnopqrstuvwxyz0123456789"'
al_is "$AL_OUT" "key [REDACTED:redact_patterns.0] token [REDACTED:github-token]" \
	"a policy pattern and a built-in token pattern are redacted under their names"
al_is "$(al_json "$AL_TMP/pat.json" 'r["redactions"]')" \
	"{'credentials': {'a': 0, 'b': 0}, 'patterns': {'github-token': 1, 'redact_patterns.0': 1}}" \
	"the record counts them per pattern, and every credential (0 here)"

# ---- built-in patterns end where the secret ends ----
# bash's xtrace quotes a header argument; a key cut short is followed by a build's output.
# What follows the secret stays readable, the secret does not.

al_run --policy "$NEUTRAL" "${CREDS[@]}" -- /bin/bash -c '
	set -x; : -H "Authorization: Bearer tok.123456789abcdef" https://git.test/org/app.git
	{ set +x; } 2>/dev/null
	printf "%s\n" "-----BEGIN PRIVATE KEY-----" MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIB \
		AQC7VJTUt9Us8cKjMzEfYyjiWA4R4 "make: *** [Makefile:12: all] Error 2" "Traceback (most recent call last):"'
al_is "$(cat "$AL_TMP/err")" \
	"+ : -H 'Authorization: Bearer [REDACTED:authorization]' https://git.test/org/app.git" \
	"xtrace of a quoted Authorization header: the token is redacted, the URL after it is not"
al_is "$AL_OUT" "[REDACTED:private-key]
make: *** [Makefile:12: all] Error 2
Traceback (most recent call last):" \
	"a private key cut short is redacted to its last line; the build's output after it is not"

# ---- forms a review found leaking ----
# A python task prints keys and tokens of its own making (from a seed: `made` lists them) as a list
# of a key's lines in JSON inside JSON, whole and cut short; Authorization with quotes
# written \u0022 and \u0027; a PGP key past 16 KiB; and the value of a, holding % and a
# \x escape, as json.dumps() and repr() print it. Then a flattened key whose headers end
# stdout. None of it may come out; the text around it must.

printf 'ab%%cd\\x41ef%s' "$(rand)" >"$SRC/pct"
for mode in reviewed reviewed-tail; do
	seed=$RANDOM made=$AL_TMP/$mode.made
	al_run --policy "$NEUTRAL" --credential "a=@$SRC/pct" --credential "b=@$SRC/b" \
		--record "$AL_TMP/$mode.json" -- /usr/bin/python3 /workspace/redact-task.py "$mode" "$seed"
	al_is "$AL_RC" 0 "$mode: the task ends well"
	python3 "$AL_WS/redact-task.py" made "$mode" "$seed" >"$made"
	al_ok "$([ "$(grep -c . "$made")" -ge 1 ]; echo $?)" "$mode: what the task made is known"
	for f in "$AL_TMP/out" "$(log_of "$AL_TMP/$mode.json" stdout)"; do
		al_is "$([ -s "$f" ] || echo "$f empty"; grep -oFf "$made" "$f" | head -3)" "" \
			"$mode: nothing the task made is in $(basename "$f")"
	done
done
pct=$(cat "$SRC/pct")
al_is "$(python3 - "$AL_TMP/reviewed.json" "$pct" "$(log_of "$AL_TMP/reviewed.json" stdout)" <<'PY'
import json, sys
rec, value, log = sys.argv[1:]
out = open(log).read()
for form in (json.dumps(value)[1:-1], repr(value)[1:-1], value):
    if form in out:
        print('found %r' % form)
PY
)" "" "the value holding % and \\x is found as json.dumps() and repr() print it"
al_is "$(grep -c -e '"user\\": \\"bob\\"}"$' -e '"user\\": \\"carol\\"}"$' \
	-e '^{\\u0022Authorization\\u0022: \\u0022Bearer \[REDACTED:authorization\]\\u0022, \\u0022next\\u0022: 1}$' \
	-e '^{\\u0027Authorization\\u0027: \\u0027Bearer \[REDACTED:authorization\]\\u0027, \\u0027next\\u0027: 1}$' \
	-e '^\[REDACTED:private-key\]$' -e '^ok after the long key$' \
	-e '^{"a": "\[REDACTED:a\]", "next": "field"} .\[REDACTED:a\].$' "$(log_of "$AL_TMP/reviewed.json" stdout)")" 7 \
	"... and what is around them stays: the next JSON field, the schemes, the line after the long key"
al_is "$(al_json "$AL_TMP/reviewed.json" 'r["redactions"]["patterns"]')" \
	"{'authorization': 2, 'private-key': 3}" "... each key one redaction, the long one too"
al_is "$(cat "$AL_TMP/out")" "[REDACTED:private-key]" \
	"a flattened key whose stdout ends in its DEK-Info: header is redacted to the end"

# ---- values quoted by shells and Python ----
# A value with quotes, $, &, parentheses and spaces, as bash's trace, printf %q, ${v@Q},
# declare -p and Python's repr quote it: the forms are made here by the host's bash and
# python (not by the redactor); none may come out, nor the value's random middle.

qrand=$(rand)
printf "O'Br\$en (%s) & it's!" "$qrand" >"$SRC/q"
quoted_forms() { # the value's quoted forms, a line each, without their outer quotes
	PW=$(cat "$SRC/q") bash -c 'set -x; : "$PW"' 2>&1 | sed "s/^+ : '//; s/'\$//"
	PW=$(cat "$SRC/q") bash -c 'printf "%q\n" "$PW"; echo "${PW@Q}"; declare -p PW' |
		sed "s/^declare -x PW=\"//; s/^declare -- PW=\"//; s/\"\$//; s/^'//; s/'\$//"
	python3 -c 'import sys; v = open(sys.argv[1]).read(); print(repr(v)[1:-1]); print(repr(v + "\"")[1:-1])' "$SRC/q"
}
quoted_forms >"$AL_TMP/quoted.forms"
al_ok "$([ "$(sort -u "$AL_TMP/quoted.forms" | grep -c .)" -ge 4 ] &&
	grep -qF "'\\''" "$AL_TMP/quoted.forms" && grep -qF "\\ " "$AL_TMP/quoted.forms"; echo $?)" \
	"the host's bash and python quote the value in 4 ways or more (a '\\'' splice, a \\ space)"
al_run --policy "$NEUTRAL" --credential "a=@$SRC/q" --credential "b=@$SRC/b" \
	--record "$AL_TMP/quoted.json" -- /usr/bin/python3 /workspace/redact-task.py quoted
al_is "$AL_RC" 0 "quoted: the task ends well"
[ "$AL_RC" -eq 0 ] || al_show
for f in "$AL_TMP/out" "$AL_TMP/err" "$(log_of "$AL_TMP/quoted.json" stdout)" \
	"$(log_of "$AL_TMP/quoted.json" stderr)"; do
	al_is "$([ -s "$f" ] || echo "$f empty"; grep -oF -e "$qrand" -f "$AL_TMP/quoted.forms" "$f" | head -3)" "" \
		"quoted: no quoted form of the value, nor its middle, in $(basename "$f")"
done
al_ok "$(c=$(al_json "$AL_TMP/quoted.json" "r['redactions']['credentials']['a']"); [ "$c" -ge 7 ]; echo $?)" \
	"quoted: the record counts a redaction for each of the 7 prints (2 trace lines, printf %q, @Q, declare -p, 2 reprs)"

# ---- a key in a diff ----
# A task commits two keys (EC; RSA encrypted, with headers) to a git repository of its own
# in /tmp, removes them, commits after them, and prints the history as git does: every
# line of a key behind "+" or "-", with git's colours around each line too. No line of a
# key's body may come out; the commit after them must. The same script on the host first
# shows that git prints the body lines.

al_need git openssl
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$AL_WS/diff-key.pem" 2>/dev/null
openssl genrsa -traditional -aes128 -passout pass:x -out "$AL_WS/diff-rsa.pem" 2048 2>/dev/null
cat >"$AL_WS/diff-task.sh" <<'SH'
set -e
cd "$2" && rm -rf g && mkdir g && cd g
git init -q && git config user.email t@example.test && git config user.name t
cp "$1/diff-key.pem" ec.pem && cp "$1/diff-rsa.pem" rsa.pem && git add . && git commit -qm "add keys"
git rm -q ec.pem rsa.pem && git commit -qm "remove keys"
echo "after the keys" >notes && git add notes && git commit -qm "notes after the keys"
for c in never always; do
	git log -p --color=$c
	git show --color=$c HEAD~2
	git diff --color=$c HEAD~2 HEAD~1
done
SH
chmod 644 "$AL_WS/diff-key.pem" "$AL_WS/diff-rsa.pem" "$AL_WS/diff-task.sh"
grep -hv -e '^-----' -e ':' -e '^$' "$AL_WS/diff-key.pem" "$AL_WS/diff-rsa.pem" >"$AL_TMP/diff.body"
mkdir "$AL_TMP/diff-host"
bash "$AL_WS/diff-task.sh" "$AL_WS" "$AL_TMP/diff-host" >"$AL_TMP/diff-host.out" 2>&1
al_is "$(grep -cFf "$AL_TMP/diff.body" "$AL_TMP/diff-host.out")" \
	$((8 * $(grep -c . "$AL_TMP/diff.body"))) \
	"a key in a diff, on the host: git prints each body line 8 times, behind + or -"
al_run --policy "$NEUTRAL" "${CREDS[@]}" --record "$AL_TMP/diff.json" \
	-- /bin/bash /workspace/diff-task.sh /workspace /tmp
al_is "$AL_RC" 0 "a key in a diff: the task ends well"
[ "$AL_RC" -eq 0 ] || al_show
for f in "$AL_TMP/out" "$(log_of "$AL_TMP/diff.json" stdout)"; do
	al_is "$([ -s "$f" ] || echo "$f empty"; grep -oFf "$AL_TMP/diff.body" "$f" | head -3)" "" \
		"a key in a diff: no line of its body in $(basename "$f")"
	al_is "$(grep -c -e '^+after the keys$' -e '+\\x1b\[m\\x1b\[32mafter the keys\\x1b\[m$' "$f")" 2 \
		"a key in a diff: the commit after it stays, plain and coloured, in $(basename "$f")"
done
al_is "$(al_json "$AL_TMP/diff.json" 'r["redactions"]["patterns"]')" "{'private-key': 16}" \
	"a key in a diff: the record counts each of the 16 keys printed"

# ---- a value too short to redact refuses the run ----

# refused_short VALUE WHAT DESCRIPTION: the run is refused, exit 125, with one line that
# says the value is too short and WHAT was counted.
refused_short() {
	printf '%s' "$1" >"$SRC/short"
	al_run --policy "$NEUTRAL" --credential "a=@$SRC/short" --credential "b=@$SRC/b" -- /bin/true
	al_ok "$([ "$AL_RC" -eq 125 ] && [ "$(grep -c . "$AL_TMP/err")" -eq 1 ] &&
		grep -q "credential 'a' is too short to be redacted.*: $2.*at least 8 needed" \
			"$AL_TMP/err"; echo $?)" "$3"
}
refused_short 'abc 12' '5 bytes besides whitespace' \
	"a value of fewer than 8 bytes besides whitespace is refused: exit 125, one line saying 5"
# 12 bytes, which the value matcher reads (and matches) as the 4 they encode
refused_short '%41%42%43%44' 'it decodes to 4 bytes besides whitespace' \
	"a value of 12 bytes that decodes to 4 (%41%42%43%44) is refused with what was counted"
# 8 bytes, but also looked for without its last backslash (a space after it in the text
# joins it): 7
refused_short 'Pa55wd!\' 'it decodes to 7 bytes besides whitespace .*a backslash at its end not counted' \
	"a value of 8 bytes ending in a backslash is refused: 7 without it"

# ---- nothing left ----

al_ok "$(grep -rqF -e "$a" -e "$b" -e "$(cat "$SRC/c.trimmed")" "$AL_STATE"; [ $? -eq 1 ]; echo $?)" \
	"no value anywhere in the state directory (records, logs)"
al_is "$(al_our_mounts)" "" "no mount of the runs is left"
al_is "$(grep -c airlock-secrets /proc/self/mountinfo)" 0 "no secrets tmpfs is left"


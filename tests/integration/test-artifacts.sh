#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The checked export of /out (docs/artifacts.md) against the attack set: links to
# /etc/shadow, /, a host canary and the destination; ".." names and loops; write-through
# links named manifest.json or like exported files; a hard link; a FIFO and a socket;
# set-id files; a 1 TiB sparse file; a path past PATH_MAX; names with newlines, control
# bytes and invalid UTF-8; a process renaming (RENAME_EXCHANGE) in /out while the task
# lives; 20 000 files; a link planted at the destination. The export is checked by
# tests/lib/check_artifacts.py, which walks and hashes the tree itself.
. "$(dirname "$0")/lib.sh"
al_init
al_need sha256sum stat
CHECK=$(dirname "$0")/../lib/check_artifacts.py
cp "$(dirname "$0")/artifacts-task.py" "$AL_WS/task.py"
chmod 644 "$AL_WS/task.py"

# The caller's ids, as sudo passes them: the export must be theirs, not the task's.
export SUDO_UID=4321 SUDO_GID=4322

TOK=artifact-secret-0123456789abcdef
printf %s "$TOK" >"$AL_TMP/tok"
CANARY=$AL_TMP/canary
printf 'canary-bytes\n' >"$CANARY"
chmod 644 "$CANARY"
canary_before=$(stat -c '%s %Y %i' "$CANARY")
RACER=al-racer-$$

policy() { # policy NAME SCAN [MAX_FILES]
	al_policy "$1" <<JSON
{ "version": 1, "name": "$1",
  "filesystem": { "tmpfs": [ { "target": "/out", "size": "256M" } ] },
  "credentials": [ { "name": "tok", "source": "caller", "deliver": { "env": "TOK" } } ],
  "artifacts": { "scan": "$2", "max_files": ${3:-10000}, "max_file_size": "1M" } }
JSON
}

# reason_of DEST PATH: the manifest's reason for a skipped (escaped) path, or "exported".
reason_of() {
	python3 - "$1/manifest.json" "$2" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
r = [e.get("reason", "exported") for e in m["skipped"] + m["entries"] if e["path"] == sys.argv[2]]
print(r[0] if r else "absent")
EOF
}

# ---- A: the attack set, scan "redact" ----

DEST=$AL_TMP/export-a
al_run --policy "$(policy art-redact redact)" --credential "tok=@$AL_TMP/tok" \
	--export "$DEST" --record "$AL_TMP/a.json" \
	-- python3 /workspace/task.py attack "$CANARY" "$DEST" "$RACER"
al_is "$AL_RC" 0 "the attack run exits 0"
[ "$AL_RC" -eq 0 ] || al_show
out=$(python3 "$CHECK" "$DEST" 4321 4322 "$AL_TMP/a.json" 2>&1)
al_is "$out" ok "the export is exactly its manifest: files, sizes, digests, modes, owner, record digest"
al_is "$(stat -c '%s %Y %i' "$CANARY"):$(cat "$CANARY")" "$canary_before:canary-bytes" \
	"the host canary is unchanged"
al_is "$(grep -rlF -e canary-bytes -e 'root:' "$DEST" | wc -l)" 0 \
	"neither the canary's nor /etc/shadow's bytes are in the export"
al_is "$(find "$DEST" ! -type f ! -type d | wc -l)" 0 "the export holds no link, FIFO, socket or device"
al_is "$(find "$DEST" -perm /7000 | wc -l)" 0 "no set-uid, set-gid or sticky bit in the export"
for p in shadow root canary dest dest-manifest up loop1 loop2 self data2.txt a/up a/data.txt; do
	al_is "$(reason_of "$DEST" "$p")" type "link '$p' is skipped, not followed"
done
al_is "$(reason_of "$DEST" fifo):$(reason_of "$DEST" sock)" type:type "FIFO and socket are skipped"
al_is "$(reason_of "$DEST" sparse)" max_file_size "the 1 TiB sparse file is skipped by max_file_size"
al_is "$(reason_of "$DEST" manifest.json)" reserved_name "the task's manifest.json (a link) is not the manifest"
al_is "$(al_json "$DEST/manifest.json" 'r["manifest_version"]')" 1 "manifest.json is airlock's"
al_is "$(reason_of "$DEST" suid):$(stat -c %a "$DEST/suid")" exported:755 "set-uid file exported 0755"
al_is "$(cmp -s "$DEST/hard.txt" "$DEST/data.txt" && stat -c %h "$DEST/hard.txt")" 1 \
	"a hard link is exported as a copy of its own"
al_is "$(reason_of "$DEST" 'new\x0aline'):$(cat "$DEST/new"$'\n'"line")" "exported:new"$'\n'"line" \
	"a name with a newline is exported as bytes and escaped in the manifest"
al_is "$(reason_of "$DEST" 'bad\xff\xfeutf8'):$(reason_of "$DEST" 'ctl\x01\x1b[31m')" exported:exported \
	"invalid UTF-8 and control bytes in names are exported, escaped"
al_is "$(reason_of "$DEST" 'back\\slash')" exported "a backslash is escaped as two"
long=$(python3 -c 'print("/".join(["L" * 200] * 21))') # 4220 bytes
al_is "$(reason_of "$DEST" "$long")" path_length "a path past 4095 bytes is skipped (path_length)"
al_is "$(find "$DEST" -name deep.txt | wc -l)" 0 "nothing below it is exported"
al_is "$(cat "$DEST/sticky/in.txt"):$(stat -c %a "$DEST/sticky")" "in sticky:755" \
	"a sticky directory is exported 0755 with its contents"
race=$(cat "$DEST/race-file" "$DEST/race-link" 2>/dev/null)
al_is "$race" RACE-OK "of the racing file and link, the file is exported and the link skipped"
al_is "$(pgrep -cx "$RACER")" 0 "the renaming process did not outlive the task"
al_is "$(cat "$DEST/leak.txt")" "token=[REDACTED:tok]" \
	"scan redact: the credential written into an artifact is redacted"
al_is "$(grep -rlF "$TOK" "$DEST" | wc -l)" 0 "the credential's value is nowhere in the export"
al_is "$(al_json "$AL_TMP/a.json" '(r["artifacts"]["complete"], r["artifacts"]["files_redacted"], r["artifacts"]["path"])')" \
	"(True, 1, '$DEST')" "the record: complete, one file redacted, the export's path"
al_is "$(stat -c '%u:%g %a' "$DEST")" "4321:4322 755" "the export directory is the caller's"

# ---- B, C: scan "reject" and "off" ----

DEST=$AL_TMP/export-b
# shellcheck disable=SC2016 # $TOK is the task's
al_run --policy "$(policy art-reject reject)" --credential "tok=@$AL_TMP/tok" \
	--export "$DEST" --record "$AL_TMP/b.json" \
	-- sh -c 'printf "token=%s\n" "$TOK" >/out/leak.txt; echo clean >/out/clean.txt'
al_is "$AL_RC:$(reason_of "$DEST" leak.txt):$(reason_of "$DEST" clean.txt)" 0:secret:exported \
	"scan reject: the file with the credential is left out, the clean one exported"
al_ok "$([ ! -e "$DEST/leak.txt" ]; echo $?)" "scan reject: no leak.txt in the export"
al_is "$(al_json "$AL_TMP/b.json" 'r["artifacts"]["files_rejected"]')" 1 "the record counts it"
al_is "$(python3 "$CHECK" "$DEST" 4321 4322 "$AL_TMP/b.json")" ok "scan reject: export matches its manifest"

DEST=$AL_TMP/export-c
# shellcheck disable=SC2016 # $TOK is the task's
al_run --policy "$(policy art-off off)" --credential "tok=@$AL_TMP/tok" \
	--export "$DEST" --record "$AL_TMP/c.json" \
	-- sh -c 'printf "token=%s\n" "$TOK" >/out/leak.txt'
al_is "$AL_RC:$(cat "$DEST/leak.txt")" "0:token=$TOK" "scan off: the file is copied as it is"
al_is "$(al_json "$AL_TMP/c.json" '(r["artifacts"]["redactions"], r["artifacts"]["files_redacted"])')" \
	"(1, 0)" "scan off: the match is only counted"

# ---- max_file_size below a block: a small file takes a whole block of the tmpfs ----
# A 9-byte file has 4 KiB allocated: its blocks are compared with the cap rounded up to a
# block, so that only what passes the cap by size or by whole blocks beyond it is skipped.
pol_small=$(al_policy art-small <<'JSON'
{ "version": 1, "name": "art-small", "artifacts": { "scan": "off", "max_file_size": "1000" } }
JSON
)
DEST=$AL_TMP/export-small
al_run --policy "$pol_small" --export "$DEST" -- sh -c 'echo small >/out/small
	head -c 1000 /dev/zero >/out/at-cap; head -c 1001 /dev/zero >/out/past-cap
	fallocate -n -l 64K /out/prealloc 2>/dev/null || head -c 70000 /dev/zero >/out/prealloc'
al_is "$AL_RC:$(reason_of "$DEST" small):$(reason_of "$DEST" at-cap):$(reason_of "$DEST" past-cap)" \
	0:exported:exported:max_file_size \
	"max_file_size 1000: files of 6 and 1000 bytes are exported, one of 1001 skipped"
al_is "$(reason_of "$DEST" prealloc)" max_file_size \
	"an empty file with 64K preallocated (blocks past the cap) is skipped"

# ---- a configured owner: the node configuration's artifacts.owner, not the caller ----
cat >"$AL_TMP/owner.json" <<'JSON'
{ "version": 1, "artifacts": { "owner": "2345:2346" } }
JSON
chmod 644 "$AL_TMP/owner.json"
DEST=$AL_TMP/export-owner
al_run --config "$AL_TMP/owner.json" --policy "$pol_small" --export "$DEST" \
	--record "$AL_TMP/owner-rec.json" -- sh -c 'mkdir /out/d; echo x >/out/d/f'
al_is "$AL_RC:$(stat -c '%u:%g' "$DEST" "$DEST/d" "$DEST/d/f" "$DEST/manifest.json" | sort -u)" \
	0:2345:2346 "artifacts.owner in the node configuration owns the export (SUDO_UID is 4321)"
al_is "$(python3 "$CHECK" "$DEST" 2345 2346 "$AL_TMP/owner-rec.json")" ok \
	"and the export matches its manifest"

# ---- D: 20 000 files against max_files 10 000; the default destination ----

al_run --policy "$(policy art-many redact 10000)" --credential "tok=@$AL_TMP/tok" \
	--record "$AL_TMP/d.json" -- python3 /workspace/task.py many 20000
id=$(al_json "$AL_TMP/d.json" 'r["run_id"]')
DEST=$AL_STATE/artifacts/$id
al_is "$AL_RC:$(al_json "$AL_TMP/d.json" '(r["artifacts"]["complete"], r["artifacts"]["stopped_by"], r["artifacts"]["files"] + r["artifacts"]["directories"])')" \
	"0:(False, 'max_files', 10000)" "20 000 files: the export stops cleanly at max_files, and says so"
al_is "$(al_json "$DEST/manifest.json" 'r["stopped_at"]')" many/09999 \
	"the manifest names the entry it stopped at (sorted walk: all after it left out)"
al_is "$(python3 "$CHECK" "$DEST" 4321 4322 "$AL_TMP/d.json")" ok \
	"the default destination <state>/artifacts/<id> matches its manifest"

# ---- E: the destination ----

mkdir "$AL_TMP/victim"
ln -s "$AL_TMP/victim" "$AL_TMP/planted"
al_run --policy "$(policy art-planted redact)" --credential "tok=@$AL_TMP/tok" \
	--export "$AL_TMP/planted" -- sh -c 'echo x >/out/f; touch /workspace/ran 2>/dev/null; true'
al_is "$AL_RC" 125 "a link planted at --export DIR refuses the run"
al_is "$(echo "$AL_ERR" | grep -c "export directory '$AL_TMP/planted' exists")" 1 \
	"in one line naming it"
al_is "$(find "$AL_TMP/victim" | wc -l)" 1 "the link's target is untouched"

mkdir "$AL_TMP/existing"
al_run --policy "$(policy art-exists redact)" --credential "tok=@$AL_TMP/tok" \
	--export "$AL_TMP/existing" -- true
al_is "$AL_RC" 125 "an existing --export DIR refuses the run (airlock makes it fresh)"

al_run --export "$AL_TMP/none" -- true
al_is "$AL_RC:$(echo "$AL_ERR" | grep -c 'no "artifacts" section')" 125:1 \
	"--export with a policy without artifacts is refused"
al_ok "$([ ! -e "$AL_TMP/none" ]; echo $?)" "and makes nothing"

# A task that never ran leaves no export directory behind.
al_run --policy "$(policy art-noexec redact)" --credential "tok=@$AL_TMP/tok" \
	--export "$AL_TMP/noexec" --record "$AL_TMP/e.json" -- /nonexistent
al_is "$AL_RC:$(al_json "$AL_TMP/e.json" 'r["artifacts"]["error"]')" "127:the task did not run" \
	"a task that cannot exec: the record says there is no export"
al_ok "$([ ! -e "$AL_TMP/noexec" ]; echo $?)" "and its empty directory is removed"

# ---- a supervisor killed during its export ----
# The export writes into ".<name>.partial" beside DIR and renames it over DIR at the end:
# a supervisor killed in the middle leaves DIR empty (never a part that looks whole), and
# the next start removes the partial export of the default destination. This case kills a
# supervisor: a private runtime directory and cgroup parent (lib.sh), so that only this
# test's next start reaps it.
al_isolate artifacts
pol_big=$(al_policy art-big <<'JSON'
{ "version": 1, "name": "art-big",
  "filesystem": { "tmpfs": [ { "target": "/out", "size": "400M" } ] },
  "artifacts": { "scan": "redact", "max_file_size": "1M" } }
JSON
)
st=$AL_TMP/st-exportkill
mkdir -p "$st"
# 300 MiB in 4800 files: long enough an export to be caught in the middle of it.
env --default-signal=INT,QUIT "$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" \
	--policy "$pol_big" -- python3 -c 'import os
for i in range(4800):
    with open("/out/f%05d" % i, "wb") as f:
        f.write(os.urandom(64) * 1024)' </dev/null >/dev/null 2>"$AL_TMP/exportkill.err" &
pid=$!
AL_PIDS+=("$pid")
caught=
for _ in $(seq 3000); do
	if compgen -G "$st/artifacts/.*.partial/f0*" >/dev/null ||
		compgen -G "$st/artifacts/*/f0*" >/dev/null; then
		kill -KILL "$pid" # the supervisor itself: the wrapper and unshare exec it
		caught=1
		break
	fi
	sleep 0.02
done
wait "$pid" 2>/dev/null
dead=$(basename "$(compgen -G "$st/records/*.json" | head -n 1)" .json)
partial=$st/artifacts/.$dead.partial
al_ok "$([ -n "$caught" ] && [ -d "$partial" ]; echo $?)" \
	"a supervisor killed during its export (run ${dead}) leaves its partial export beside DIR ($(find "$partial" "$st/artifacts/$dead" -type f 2>/dev/null | wc -l) of 4800 files written)"
[ -n "$caught" ] || al_diag <"$AL_TMP/exportkill.err"
al_is "$(find "$st/artifacts/$dead" -mindepth 1 2>&1 | wc -l)" 0 \
	"and DIR empty: no file, no manifest a reader could take for a complete export"
al_is "$(find "$partial" -maxdepth 1 -name manifest.json | wc -l)" 0 \
	"the partial export has no manifest"
"$AIRLOCK" run --state-dir "$st" --workspace "$AL_WS" -- /bin/true </dev/null >/dev/null \
	2>"$AL_TMP/exportkill-reap.err"
al_is "$(al_json "$st/records/$dead.json" 'r["exit"]["cause"]' 2>&1)" aborted \
	"the next start marks the killed run aborted"
al_is "$(al_json "$st/records/$dead.json" 'r["artifacts"]["error"]' 2>&1)" \
	"the run was aborted (its supervisor died): nothing was exported" \
	"its record says the export was cut off by the abort, not that the task did not run"
al_is "$(find "$st/artifacts" -mindepth 1 | wc -l)" 0 \
	"and removes its partial export and its empty DIR"

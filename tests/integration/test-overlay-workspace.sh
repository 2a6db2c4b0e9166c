#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An overlay workspace: the task edits, adds, deletes (a file, a directory, a directory
# replaced whole) and chmods in /workspace; the host workspace stays byte-identical; the
# change set's changes.patch, applied by `git apply` to a copy of the original, gives
# exactly the tree the task saw; whiteouts and opaque directories read as deletions;
# workspace.size holds (ENOSPC); links, FIFOs and devices never leave; nothing is left.
. "$(dirname "$0")/lib.sh"
al_init
al_need git sha256sum find sort xargs

# ---- the host first: can this kernel build the overlay airlock builds? ----
# Where it cannot, the run must be refused with one line naming the feature (not skipped).
host_ok=1
al_overlay_host_ok || host_ok=0

WS=$AL_TMP/ovl
mkdir -p "$WS/sub" "$WS/opq" "$WS/keepdir"
printf 'line1\nline2\nline3\n' >"$WS/mod.txt"
printf 'unchanged\n' >"$WS/keep.txt"
printf 'bye\n' >"$WS/del.txt"
printf 'a\n' >"$WS/sub/a.txt"
printf 'b\n' >"$WS/sub/b.txt"
printf 'x\n' >"$WS/opq/x"
printf 'y\n' >"$WS/opq/y"
printf 'k\n' >"$WS/keepdir/k"
printf '#!/bin/sh\necho hi\n' >"$WS/mode.sh"
printf 'no newline at the end' >"$WS/nonl.txt"
printf '\000\001old binary' >"$WS/bin.dat"
printf '\000gone binary' >"$WS/delbin.dat"
chmod 644 "$WS/mode.sh"
chmod 755 "$WS"
# Links of the workspace the task replaces by a file and deletes: the patch must delete
# them, or `git apply` refuses it whole ("lnk: already exists in working directory").
ln -s keep.txt "$WS/lnk"
ln -s keep.txt "$WS/gone"

# tree_hash DIR: names, types, modes, sizes, mtimes, owners and contents of DIR's tree.
tree_hash() {
	(cd "$1" && LC_ALL=C find . -printf '%p %y %m %s %T@ %U:%G %l\n' | LC_ALL=C sort &&
		LC_ALL=C find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
		sha256sum | cut -c1-64
}
before=$(tree_hash "$WS")

pol=$(al_policy overlay <<'JSON'
{ "version": 1, "name": "overlay",
  "filesystem": { "workspace": { "mode": "overlay", "size": "4M" } },
  "artifacts": { "scan": "off" } }
JSON
)

if [ "$host_ok" -eq 0 ]; then
	al_run --policy "$pol" --workspace "$WS" --export "$AL_TMP/refused" -- /bin/true
	al_is "$AL_RC" 125 "a kernel without what the overlay needs refuses the run"
	al_ok "$(echo "$AL_ERR" | grep -q '/filesystem/workspace/mode: overlay: '; echo $?)" \
		"with one line naming the missing feature"
	al_is "$(tree_hash "$WS")" "$before" "the host workspace is untouched"
	al_finish
fi

# The task's listing of a tree: one "sha256 x|- path" line per regular file (the modes git
# keeps: executable or not), binary files too (git binary patches).
# shellcheck disable=SC2016 # expanded by the task's shell
LISTING='cd "$1" && LC_ALL=C find . -type f -print0 | LC_ALL=C sort -z |
	xargs -0 sh -c '\''for f; do if [ -x "$f" ]; then x=x; else x=-; fi;
	printf "%s %s %s\n" "$(sha256sum <"$f" | cut -c1-64)" "$x" "$f"; done'\'' sh'

# shellcheck disable=SC2016 # expanded by the task's shell
task='set -e
cd /workspace
readlink /proc/self/ns/mnt >/out/mntns
printf "line1\nCHANGED\nline3\nline4\n" >mod.txt
echo added >new.txt
rm del.txt
rm -r sub
rm lnk gone && echo now-a-file >lnk
chmod 755 mode.sh
rm -rf opq && mkdir opq && echo y2 >opq/y
mkdir -p deep/er && echo deep >deep/er/f.txt
printf "no newline at the end, now with one\n" >nonl.txt
printf "a\000b" >new.bin
printf "\000\003new binary, longer than one line of base85: 0123456789abcdefghijklmnop" >bin.dat
rm delbin.dat
head -c 150000 /dev/urandom >big.bin
echo tab >"$(printf "tab\there.txt")"
echo space >"with space.txt"
printf "\303\251\n" >"$(printf "\303\251.txt")"
echo "not the manifest" >manifest.json
ln keep.txt hardlink.txt
ln -s /etc/shadow evil-shadow
ln -s / evil-root
ln -s ../../../.. evil-up
mkfifo fifo
python3 -c "import socket; socket.socket(socket.AF_UNIX).bind(\"sock\")"
mknod dev c 1 3 2>/dev/null && echo "mknod allowed" >&2
mknod wh c 0 0 2>/dev/null && echo "whiteout mknod allowed" >&2
sh -c "$1" sh /workspace >/out/view.txt
'
al_run --policy "$pol" --workspace "$WS" --export "$AL_TMP/exp" -- /bin/sh -c "$task" sh "$LISTING"
al_ok "$AL_RC" "the task edits, adds, deletes and chmods in an overlay workspace"
[ "$AL_RC" -eq 0 ] || al_show
EXP=$AL_TMP/exp
W=$EXP/workspace

al_is "$(tree_hash "$WS")" "$before" "the host workspace is byte-identical afterwards"
al_ok "$(! echo "$AL_ERR" | grep -q 'mknod allowed'; echo $?)" \
	"the task could create no device node, nor a whiteout of its own"

# The in-toto export pins the export and the change set: the subjects' digests are those of
# the files (the manifests, the change set, and each file the export's manifest lists).
id=$("$AIRLOCK" records --state-dir "$AL_STATE" list --json --limit 1 |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["run_id"])')
"$AIRLOCK" records --state-dir "$AL_STATE" pubkey | sed -n '/BEGIN/,/END/p' >"$AL_TMP/node.pem"
"$AIRLOCK" records --state-dir "$AL_STATE" export "$id" --format in-toto >"$AL_TMP/env.json"
out=$(python3 "$AIRLOCK_SRC/tests/integration/records-chain.py" dsse "$AL_TMP/env.json" \
	"$AL_TMP/node.pem" "$AL_STATE" "$AL_TMP/pae" "$AL_TMP/sig" 2>&1)
al_ok $? "the in-toto export verifies, every subject's digest that of its file" ||
	echo "$out" | al_diag
al_ok "$(echo "$out" | tr ' ' '\n' | grep -c -e "^$EXP/manifest.json$" \
	-e "^$W/manifest.json$" -e "^$W/changes.json$" -e "^$W/changes.patch$" | grep -qx 4
	echo $?)" "its subjects include both manifests, changes.json and changes.patch" ||
	echo "$out" | al_diag

# ---- the change set ----
kinds=$(python3 - "$W/changes.json" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1]))["changes"]:
    print(c["kind"], c["type"], c["path"], c.get("patch", "-"), c.get("skipped", "-"))
PY
)
# Exactly these, in changes.json's order (by path bytes): a whiteout read as a device, or
# an opaque directory read as merged, would add or lose a line.
want_kinds='added file big.bin included -
modified file bin.dat included -
added dir deep - -
added dir deep/er - -
added file deep/er/f.txt included -
deleted file del.txt included -
deleted file delbin.dat included -
added symlink evil-root - not a regular file
added symlink evil-shadow - not a regular file
added symlink evil-up - not a regular file
added fifo fifo - not a regular file
deleted symlink gone included not a regular file
added file hardlink.txt included -
deleted symlink lnk included not a regular file
added file lnk included -
added file manifest.json included -
modified file mod.txt included -
mode file mode.sh included -
added file new.bin included -
added file new.txt included -
modified file nonl.txt included -
deleted file opq/x included -
modified file opq/y included -
added socket sock - not a regular file
deleted dir sub - -
deleted file sub/a.txt included -
deleted file sub/b.txt included -
added file tab\x09here.txt included -
added file with space.txt included -
added file \xc3\xa9.txt included -'
al_is "$kinds" "$want_kinds" "changes.json lists each change with its kind (whiteouts and the opaque directory as deletions)"
al_ok "$(! echo "$kinds" | grep -Eq ' (keep\.txt|keepdir|keepdir/k|opq) '; echo $?)" \
	"unchanged entries and a recreated directory's own entry are not listed"

# ---- git apply reproduces the task's view ----
COPY=$AL_TMP/copy
cp -a "$WS" "$COPY"
(cd "$COPY" && git apply --whitespace=nowarn "$W/changes.patch") >"$AL_TMP/apply.log" 2>&1
al_ok $? "git apply accepts changes.patch on a copy of the original workspace"
sed 's/^/# /' "$AL_TMP/apply.log" | head -20
got=$(sh -c "$LISTING" sh "$COPY")
al_is "$got" "$(cat "$EXP/view.txt")" "the patched copy is exactly the task's view (contents and exec bits)"
al_ok "$([ ! -e "$COPY/sub" ] && [ ! -e "$COPY/del.txt" ] && [ ! -e "$COPY/opq/x" ]; echo $?)" \
	"deleted files and directories are gone from the patched copy"
al_ok "$([ ! -L "$COPY/gone" ] && [ ! -L "$COPY/lnk" ] && [ "$(cat "$COPY/lnk")" = now-a-file ]
	echo $?)" "a deleted link is gone, a link replaced by a file is that file"

# ---- what was exported ----
al_is "$(find "$W/files" \( -type l -o -type p -o -type s -o -type c -o -type b \) | wc -l)" 0 \
	"no link, FIFO, socket or device (nor whiteout) is exported"
al_is "$(cat "$W/files/opq/y")" "y2" "a changed file is exported with its new contents"
al_is "$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read() == b"a\0b")' \
	"$W/files/new.bin")" True "a binary file is exported whole"
al_ok "$(grep -q 'not the manifest' "$W/files/manifest.json" && [ -f "$W/manifest.json" ]; echo $?)" \
	"a workspace file named manifest.json is exported, beside the export's own manifest"
al_is "$(python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(" ".join(sorted(e["path"] for e in m["skipped"] if not e["path"].startswith("files/"))))' \
	"$W/manifest.json")" "" "the manifest lists only the workspace's files (nothing of overlayfs's work directory)"
rec=$(find "$AL_STATE/records" -name '*.json' | head -n1) # the only run so far
al_is "$(al_json "$rec" 'r["workspace_changes"]["changes_digest"]')" \
	"sha256:$(sha256sum <"$W/changes.json" | cut -c1-64)" "the record holds changes.json's digest"
al_is "$(al_json "$rec" 'r["workspace_changes"]["patch_digest"]')" \
	"sha256:$(sha256sum <"$W/changes.patch" | cut -c1-64)" "and changes.patch's"

# ---- nothing left ----
mntns=$(cat "$EXP/mntns")
al_is "$(al_ns_holders "$mntns")" "" "the task's mount namespace (and the overlay in it) is gone"
al_is "$(grep -l airlock-workspace /proc/[0-9]*/mountinfo 2>/dev/null | head -n 3)" "" \
	"no mount namespace shows an overlay workspace"
al_is "$(al_our_mounts)" "" "no mount of the run is left on the host"

# ---- the upper layer's size ----
al_run --policy "$pol" --workspace "$WS" --export "$AL_TMP/exp-full" -- /bin/sh -c \
	'dd if=/dev/zero of=/workspace/big bs=64k count=128 2>&1; echo "dd: $?"'
al_ok "$(echo "$AL_OUT" | grep -q 'No space left on device'; echo $?)" \
	"a task writing past workspace.size (4M) gets ENOSPC"
[ "$AL_RC" -eq 0 ] || al_show
al_is "$(tree_hash "$WS")" "$before" "and the host workspace is untouched"

# ---- a secret written into the workspace is scanned like /out ----
pol_scan=$(al_policy overlay-scan <<'JSON'
{ "version": 1, "name": "overlay-scan",
  "filesystem": { "workspace": { "mode": "overlay" } },
  "logs": { "redact_patterns": [ "OVLSECRET-[0-9]+" ] },
  "artifacts": { "scan": "redact" } }
JSON
)
al_run --policy "$pol_scan" --workspace "$WS" --export "$AL_TMP/exp-scan" -- /bin/sh -c \
	'echo "token OVLSECRET-4242" >>/workspace/mod.txt'
al_ok "$AL_RC" "a run writing a secret into the workspace"
al_ok "$(! grep -rq 'OVLSECRET-4242' "$AL_TMP/exp-scan"; echo $?)" \
	"the secret is in neither the exported file nor changes.patch"

# A secret the workspace already held: the patch's old side (its context and removed
# lines) comes from the workspace, so a file whose old side matches is left out of the
# patch ("patch": "secret"); scan "off" only counts, and keeps it.
SWS=$AL_TMP/sws
mkdir "$SWS"
printf 'a\ntoken OVLSECRET-77\nb\n' >"$SWS/ctx.txt"
printf 'old OVLSECRET-78\n' >"$SWS/gone.txt"
printf 'clean\n' >"$SWS/clean.txt"
# shellcheck disable=SC2016 # the task's
edit='cd /workspace && sed -i "s/^b\$/B/" ctx.txt && rm gone.txt && echo more >>clean.txt'
al_run --policy "$pol_scan" --workspace "$SWS" --export "$AL_TMP/exp-oldsecret" \
	--record "$AL_TMP/oldsecret.json" -- /bin/sh -c "$edit"
al_ok "$AL_RC" "a run editing next to (and deleting) a secret the workspace held"
al_is "$(grep -rl 'OVLSECRET-7' "$AL_TMP/exp-oldsecret" | wc -l)" 0 \
	"the workspace's secret is nowhere in the export, not in changes.patch's old side"
al_is "$(python3 -c 'import json, sys
print(" ".join("%s:%s" % (c["path"], c.get("patch")) for c in json.load(open(sys.argv[1]))["changes"]))' \
	"$AL_TMP/exp-oldsecret/workspace/changes.json")" \
	"clean.txt:included ctx.txt:secret gone.txt:secret" \
	"changes.json says which files the patch leaves out for a secret on their old side"
al_is "$(al_json "$AL_TMP/oldsecret.json" 'r["workspace_changes"]["not_in_patch"]')" 2 \
	"the record counts them as not in the patch"
COPY=$AL_TMP/copy-oldsecret
cp -a "$SWS" "$COPY"
(cd "$COPY" && git apply "$AL_TMP/exp-oldsecret/workspace/changes.patch")
al_ok $? "git apply still accepts the rest of the patch"
al_is "$(cat "$COPY/clean.txt")" "clean"$'\n'"more" "which it applies"
pol_off=$(al_policy overlay-off <<'JSON'
{ "version": 1, "name": "overlay-off",
  "filesystem": { "workspace": { "mode": "overlay" } },
  "logs": { "redact_patterns": [ "OVLSECRET-[0-9]+" ] },
  "artifacts": { "scan": "off" } }
JSON
)
al_run --policy "$pol_off" --workspace "$SWS" --export "$AL_TMP/exp-oldsecret-off" -- \
	/bin/sh -c "$edit"
al_is "$AL_RC:$(grep -c 'OVLSECRET-7' "$AL_TMP/exp-oldsecret-off/workspace/changes.patch")" 0:2 \
	"scan off: the patch keeps its old sides as they are"

# ---- a name /out takes ----
al_run --policy "$pol" --workspace "$WS" --export "$AL_TMP/exp-taken" -- /bin/sh -c \
	'mkdir /out/workspace; echo x >/workspace/new.txt'
al_is "$AL_RC" 125 "an /out entry named 'workspace' fails the run"
al_ok "$(echo "$AL_ERR" | grep -q "Failed to export the workspace's changes: .* exists"; echo $?)" \
	"with one line saying so"

# ---- fail closed where the overlay cannot be built, also on a kernel that has overlayfs ----
# A workspace on ramfs, which cannot be idmapped: the lower layer the overlay needs cannot be
# made, so the run is refused with one line naming why, before anything runs or is made.
RWS=$AL_TMP/ramws
mkdir "$RWS"
out=$(unshare -m --propagation private -- /bin/sh -c 'mount -t ramfs none "$1" || exit 77
	echo x >"$1/f" && shift && exec "$@" </dev/null' sh "$RWS" "$AIRLOCK" run \
	--state-dir "$AL_STATE" --policy "$pol" --workspace "$RWS" --export "$AL_TMP/exp-ram" \
	-- /bin/sh -c 'echo ran >/out/ran' 2>&1)
rc=$?
if [ "$rc" -eq 77 ]; then
	al_skip "an overlay on a workspace that cannot be idmapped is refused" "cannot mount a ramfs"
else
	al_is "$rc:$(echo "$out" | grep -c '^airlock: refusing run: /filesystem/workspace/mode: overlay: .*idmap')" \
		125:1 "a workspace whose filesystem cannot be idmapped refuses an overlay run, in one line"
	al_ok "$([ ! -e "$AL_TMP/exp-ram" ]; echo $?)" "and makes no export directory"
fi

# ---- one budget: /out and the workspace's changes share max_files and max_size ----
pol_cap=$(al_policy overlay-cap <<'JSON'
{ "version": 1, "name": "overlay-cap",
  "filesystem": { "workspace": { "mode": "overlay" } },
  "artifacts": { "scan": "off", "max_files": 10, "max_size": "1M" } }
JSON
)
# /out takes 6 of the 10 entries: the workspace's export has 4 (its files/ directory and 3
# files), where each once had 10.
al_run --policy "$pol_cap" --workspace "$WS" --export "$AL_TMP/exp-cap" \
	--record "$AL_TMP/cap.json" -- /bin/sh -c \
	'for i in 0 1 2 3 4 5; do echo $i >/out/o$i; done
	for i in 0 1 2 3 4 5 6 7; do echo $i >/workspace/w$i; done'
al_ok "$AL_RC" "a run filling /out and the workspace past max_files together"
[ "$AL_RC" -eq 0 ] || al_show
al_is "$(al_json "$AL_TMP/cap.json" '(r["artifacts"]["files"], r["artifacts"]["complete"],
	r["workspace_changes"]["exported_files"], r["workspace_changes"]["complete"],
	r["workspace_changes"].get("stopped_by"))' 2>&1)" "(6, True, 3, False, 'max_files')" \
	"max_files is one budget: the workspace's export gets what /out left, and says it stopped"
al_is "$(find "$AL_TMP/exp-cap" -type f ! -name '*.json' ! -name '*.patch' | wc -l)" 9 \
	"and the export directory holds 6 + 3 files"

# /out takes 700K of the 1M: a 500K workspace file does not fit, nor does the patch pass it.
al_run --policy "$pol_cap" --workspace "$WS" --export "$AL_TMP/exp-cap-size" \
	--record "$AL_TMP/cap-size.json" -- /bin/sh -c \
	'head -c 700000 /dev/zero >/out/big
	head -c 500000 /dev/zero | tr "\0" a >/workspace/w.txt'
al_ok "$AL_RC" "a run filling /out and the workspace past max_size together"
[ "$AL_RC" -eq 0 ] || al_show
al_is "$(al_json "$AL_TMP/cap-size.json" '(r["artifacts"]["bytes"],
	r["workspace_changes"]["exported_bytes"], r["workspace_changes"].get("stopped_by"))' 2>&1)" \
	"(700000, 0, 'max_size')" \
	"max_size is one budget: the workspace file past what /out left is not exported"
total=$(find "$AL_TMP/exp-cap-size" -type f ! -name manifest.json ! -name changes.json \
	-printf '%s\n' | awk '{ t += $1 } END { print t }')
al_ok "$([ "$total" -le 1048576 ]; echo $?)" \
	"the files and changes.patch of the whole export hold at most max_size bytes ($total)"

al_finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The mount tree: read-only system paths and workspace, a writable workspace visible on
# the host, tmpfs sizes enforced, policy binds and tmpfs, generated /etc.
. "$(dirname "$0")/lib.sh"
al_init
echo "host file" >"$AL_WS/file.txt"

al_check "/, /usr, /etc, /workspace (ro) and merged-usr dirs are read-only" -- "$PROBE" ro \
	/ /usr /usr/bin /etc /etc/passwd /etc/ssl /workspace /workspace/file.txt /bin /lib
al_run -- /bin/sh -c 'echo x > /workspace/new-file'
al_ok "$([ "$AL_RC" -ne 0 ] && [ ! -e "$AL_WS/new-file" ]; echo $?)" \
	"writing into a ro workspace fails and nothing appears on the host"

pol=$(al_policy rw <<'JSON'
{ "version": 1, "name": "rw", "filesystem": { "workspace": { "mode": "rw" } } }
JSON
)
al_run --policy "$pol" --workspace "$AL_RWWS" -- "$PROBE" write /workspace/out.txt "made inside"
al_ok "$AL_RC" "a rw workspace is writable"
[ "$AL_RC" -eq 0 ] || al_show
al_is "$(cat "$AL_RWWS/out.txt" 2>/dev/null)" "made inside" "the write is visible on the host"
echo "# host owner of the file: $(stat -c %u:%g "$AL_RWWS/out.txt" 2>/dev/null)"
al_check "a rw workspace still leaves / and /usr read-only" --policy "$pol" \
	--workspace "$AL_RWWS" -- "$PROBE" ro / /usr /etc

al_check "/tmp is limited to 256M (ENOSPC)" -- "$PROBE" tmpfs-fill /tmp 256M
al_check "/out is limited to 64M (ENOSPC)" -- "$PROBE" tmpfs-fill /out 64M
al_run -- /bin/sh -c 'echo a >/tmp/a && echo b >/out/b && cat /tmp/a /out/b'
al_is "$(echo "$AL_OUT" | tr '\n' ' ')" "a b " "/tmp and /out are writable"

src=$AL_TMP/bindsrc
mkdir -p "$src/ro" "$src/rw"
chmod -R 777 "$src"
echo bound >"$src/ro/file"
pol=$(al_policy binds <<JSON
{ "version": 1, "name": "binds",
  "filesystem": {
    "binds": [ { "source": "$src/ro", "target": "/data", "mode": "ro" },
               { "source": "$src/rw", "target": "/scratch", "mode": "rw" } ],
    "tmpfs": [ { "target": "/tmp", "size": "8M" }, { "target": "/big", "size": "16M" } ] } }
JSON
)
al_run --policy "$pol" -- /bin/cat /data/file
al_is "$AL_OUT" "bound" "a ro bind shows the host file"
[ "$AL_RC" -eq 0 ] || al_show
al_check "the ro bind is read-only" --policy "$pol" -- "$PROBE" ro /data /data/file
al_check "the rw bind is writable" --policy "$pol" -- "$PROBE" write /scratch/w "from task"
al_is "$(cat "$src/rw/w" 2>/dev/null)" "from task" "the rw bind write reaches the host"
al_check "a policy tmpfs of 8M fills at 8M" --policy "$pol" -- "$PROBE" tmpfs-fill /tmp 8M
al_check "an extra tmpfs of 16M fills at 16M" --policy "$pol" -- "$PROBE" tmpfs-fill /big 16M

al_run -- /bin/sh -c 'grep "^airlock:" /etc/passwd | cut -d: -f3,4,6; grep -c . /etc/group;
	ls /etc/hosts /etc/resolv.conf /etc/nsswitch.conf /etc/ld.so.cache /etc/ssl >/dev/null && echo present'
al_is "$(echo "$AL_OUT" | sed -n '1p;$p' | tr '\n' ' ')" "1000:1000:/tmp present " \
	"generated /etc has the task user and the expected files"
[ "$AL_RC" -eq 0 ] || al_show
al_run -- /bin/sh -c 'test -e /etc/shadow || test -e /root || test -e /home; echo $?'
al_is "$AL_OUT" "1" "no host /etc/shadow, /root or /home in the sandbox"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host paths the privileged supervisor opens for the task: every one is resolved once,
# without following symlinks a less trusted user could plant or swap, and the task only
# ever reaches the trees the policy names.
. "$(dirname "$0")/lib.sh"
al_init

# A hostile rootfs: /etc entries that are symlinks to the host root must resolve inside
# the sandbox, never on the host.
root=$AL_TMP/hostile-root
busybox=$(command -v busybox)
mkdir -p "$root/usr/bin" "$root/etc"
cp "$busybox" "$root/usr/bin/busybox"
for app in sh cat ls readlink; do ln -s busybox "$root/usr/bin/$app"; done
ln -s usr/bin "$root/bin"
ln -s / "$root/etc/ssl"
ln -s /etc "$root/etc/alternatives"
chmod -R a+rX "$root"
echo "host-secret-$$" >"$AL_TMP/host-secret"
chmod 644 "$AL_TMP/host-secret"
pol=$(al_policy hostile <<JSON
{ "version": 1, "filesystem": { "rootfs": "$root" } }
JSON
)
al_run --policy "$pol" -- /bin/sh -c "cat /etc/ssl$AL_TMP/host-secret 2>&1; cat /etc/ssl/etc/hostname"
case "$AL_OUT" in
*host-secret-$$*) al_ok 1 "a rootfs symlink /etc/ssl -> / does not reach the host's files" ;;
*) al_ok 0 "a rootfs symlink /etc/ssl -> / does not reach the host's files" ;;
esac
al_is "$(echo "$AL_OUT" | tail -n 1)" "airlock" "/etc/ssl -> / resolves to the sandbox's own root"
al_run --policy "$pol" -- /bin/readlink /etc/ssl
al_is "$AL_OUT" "/" "rootfs /etc symlinks are recreated as symlinks"

# A bind source containing a symlink is refused: its owner could swap it.
mkdir -p "$AL_TMP/tools-real"
ln -s "$AL_TMP/tools-real" "$AL_TMP/tools-link"
pol=$(al_policy bindlink <<JSON
{ "version": 1, "filesystem": { "binds": [ { "source": "$AL_TMP/tools-link",
  "target": "/opt/tools", "mode": "ro" } ] } }
JSON
)
al_expect_rc 125 "a bind source that is a symlink is refused" --policy "$pol" -- true
case "$AL_ERR" in
*"contains a symbolic link"*) al_ok 0 "the refusal names the symlink" ;;
*) al_ok 1 "the refusal names the symlink"; al_show ;;
esac

# System directories are never a workspace.
for ws in / /etc /usr /tmp; do
	al_expect_rc 125 "workspace $ws is refused" --workspace "$ws" -- true
done
al_expect_rc 0 "a symlink to a project directory is a fine workspace (resolved first)" \
	--workspace "$(ln -s "$AL_WS" "$AL_TMP/ws-link" && echo "$AL_TMP/ws-link")" -- true

# A workspace only its owner may enter is idmapped, so the task can read it.
mkdir -p "$AL_TMP/private"
echo private-data >"$AL_TMP/private/f"
chmod 700 "$AL_TMP/private"
al_run --workspace "$AL_TMP/private" -- cat /workspace/f
al_is "$AL_OUT" "private-data" "a 0700 workspace is readable by the task (idmapped, read-only)"

# The sandbox's init holds no fd of the supervisor: stdin reaches EOF.
out=$(echo eof-test | timeout 20 "$AIRLOCK" run --state-dir "$AL_STATE" --workspace "$AL_WS" -- cat)
rc=$?
al_is "$rc:$out" "0:eof-test" "a piped stdin reaches EOF in the task (cat ends, airlock exits 0)"

al_run -- /bin/sh -c 'cat /proc/interrupts | wc -c'
al_is "$AL_OUT" "0" "/proc/interrupts is masked"

# A read-write workspace on tmpfs: idmapped where the kernel can (tmpfs: Linux 6.3+),
# otherwise refused with a line naming the missing feature, never silently unwritable.
tws=$AL_TMP/tmpfs-ws
mkdir -p "$tws"
rwpol=$(al_policy rwtmpfs <<'JSON'
{ "version": 1, "filesystem": { "workspace": { "mode": "rw" } } }
JSON
)
out=$(unshare -m sh -c "mount -t tmpfs -o mode=0755 none '$tws' && \
	'$AIRLOCK' run --state-dir '$AL_STATE' --policy '$rwpol' --workspace '$tws' -- \
	sh -c 'echo x > /workspace/f && echo wrote'" 2>&1)
rc=$?
kv=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
if [ "$kv" -ge 6003 ]; then
	al_is "$rc:$out" "0:wrote" "a rw workspace on tmpfs is writable (idmapped tmpfs, 6.3+)"
else
	case "$rc:$out" in
	125:*"tmpfs needs Linux 6.3"*) al_ok 0 "a rw workspace on tmpfs is refused clearly before 6.3" ;;
	*) al_ok 1 "a rw workspace on tmpfs is refused clearly before 6.3"; echo "# $rc: $out" ;;
	esac
fi

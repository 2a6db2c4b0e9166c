#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# filesystem.rootfs: a tiny busybox tree as the system; filesystem.exec: the Landlock
# execute allowlist.
. "$(dirname "$0")/lib.sh"
al_init

al_need busybox
busybox=$(command -v busybox)
root=$AL_TMP/rootfs
mkdir -p "$root/usr/bin"
cp "$busybox" "$root/usr/bin/busybox"
for app in sh ls cat echo id hostname true; do
	ln -s busybox "$root/usr/bin/$app"
done
for l in bin sbin; do ln -s usr/bin "$root/$l"; done
chmod -R a+rX "$root"
pol=$(al_policy rootfs <<JSON
{ "version": 1, "name": "tiny", "filesystem": { "rootfs": "$root" } }
JSON
)
al_run --policy "$pol" -- /bin/sh -c 'ls /usr/bin | tr "\n" " "; echo; id -u; hostname'
al_is "$(echo "$AL_OUT" | tr '\n' '|')" \
	"busybox cat echo hostname id ls sh true |1000|airlock|" \
	"the task sees the busybox rootfs as its /usr"
[ "$AL_RC" -eq 0 ] || al_show
al_run --policy "$pol" -- /bin/sh -c 'test -e /usr/bin/python3 || test -e /usr/bin/gcc; echo $?'
al_is "$AL_OUT" "1" "host /usr is not visible with a rootfs"
al_check "the rootfs is read-only" --policy "$pol" -- "$PROBE" ro / /usr /usr/bin
al_check "the static probe runs on the rootfs and caps are dropped" --policy "$pol" -- \
	"$PROBE" caps

# Landlock exec allowlist. Without Landlock (asked of the kernel, not of airlock) the
# contract is a refusal naming it; the allowlist itself can only be tested with it.
pol=$(al_policy exec <<'JSON'
{ "version": 1, "name": "exec", "filesystem": { "exec": [ "/usr", "/workspace" ] } }
JSON
)
host_landlock=$(al_host_landlock_abi)
al_is "$("$AIRLOCK" probe 2>/dev/null | sed -n 's/^landlock: \([a-z]*\).*/\1/p')" \
	"$([ -n "$host_landlock" ] && echo yes || echo no)" \
	"airlock probe says what the kernel says about Landlock (ABI ${host_landlock:-none})"
if [ -z "$host_landlock" ]; then
	al_run --policy "$pol" -- /usr/bin/true
	al_is "$AL_RC" 125 "without Landlock a policy with filesystem.exec is refused (125)"
	al_ok "$([ "$(echo "$AL_ERR" | grep -c .)" -eq 1 ] &&
		echo "$AL_ERR" | grep -q '^airlock: refusing run: .*Landlock'; echo $?)" \
		"the refusal is one line naming Landlock"
	al_skip "Landlock exec allowlist" "the kernel has no Landlock (not built or not enabled)"
	exit 0
fi
al_check "exec inside the allowlist works (/usr, /workspace)" --policy "$pol" -- \
	/bin/sh -c "/usr/bin/true && $PROBE true"
al_check "exec of a copy in /tmp is denied (EACCES)" --policy "$pol" -- \
	"$PROBE" noexec /tmp/copied-probe
al_run --policy "$pol" -- /bin/sh -c 'cp /usr/bin/true /tmp/t && /tmp/t; echo $?'
al_is "$AL_OUT" "126" "the shell cannot run a binary copied to /tmp"
al_check "without filesystem.exec a copy in /tmp runs" -- /bin/sh -c \
	'cp /usr/bin/true /tmp/t && /tmp/t'

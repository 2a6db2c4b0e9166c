#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# filesystem.exec, the Landlock execute allowlist, against the ways around it: binaries of
# the workspace, anonymous files (memfd, O_TMPFILE) run with execveat or the dynamic
# loader, a copy in /tmp run by the loader, and a symlink planted to widen the list.
. "$(dirname "$0")/lib.sh"
al_init

# Asked of the kernel, not of airlock (test-rootfs checks the refusal without Landlock).
[ -n "$(al_host_landlock_abi)" ] || al_skip_all "the kernel has no Landlock"
al_need /usr/bin/python3

mkdir -p "$AL_WS/bin" "$AL_WS/other"
cp /usr/bin/true "$AL_WS/bin/true"
cp /usr/bin/true "$AL_WS/other/true"
cat >"$AL_WS/anon-exec.py" <<'PY'
"""Inside an airlock run: try to execute a copy of /usr/bin/true from an anonymous file.

anon-exec.py memfd|memfd-sealed|tmpfile DIR|path FILE prints one line: how the file was
made ("made" or the errno name), then for execveat(fd, "", AT_EMPTY_PATH) and for the
dynamic loader on /proc/self/fd/N (or FILE) whether the copy "ran" or was "refused".
"""
import errno
import os
import subprocess
import sys

MFD_NOEXEC_SEAL = 0x0008
LDSO = "/lib64/ld-linux-x86-64.so.2"
EXECVEAT = "import os, sys; os.execve(int(sys.argv[1]), ['payload'], {})"


def outcome(argv, fd):
    r = subprocess.run(argv, pass_fds=(fd,) if fd >= 0 else (),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return "ran" if r.returncode == 0 else "refused"


def make(kind, where):
    if kind == "memfd":
        return os.memfd_create("payload", 0)
    if kind == "memfd-sealed":
        return os.memfd_create("payload", MFD_NOEXEC_SEAL)
    if kind == "tmpfile":
        return os.open(where, os.O_TMPFILE | os.O_RDWR, 0o755)
    return os.open(where, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o755)


def main():
    kind, where = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    with open("/usr/bin/true", "rb") as f:
        payload = f.read()
    try:
        fd = make(kind, where)
    except OSError as e:
        print(f"{kind}: {errno.errorcode[e.errno]}")
        return
    os.write(fd, payload)
    target = where if kind == "path" else f"/proc/self/fd/{fd}"
    if kind == "path":
        os.close(fd)
        fd = os.open(where, os.O_RDONLY)
    ex = outcome([sys.executable, "-c", EXECVEAT, str(fd)], fd)
    ld = outcome([LDSO, target], fd)
    print(f"{kind}: made, execveat {ex}, ld.so {ld}")


main()
PY
chmod -R a+rX "$AL_WS"
ANON=(/usr/bin/python3 /workspace/anon-exec.py)

pol=$(al_policy exec <<'JSON'
{ "version": 1, "name": "exec", "filesystem": { "exec": [ "/usr", "/workspace/bin" ] } }
JSON
)

# What the allowlist lets through.
al_check "/usr binaries run (/usr/bin/true, /bin/sh through the merged-usr link)" \
	--policy "$pol" -- /bin/sh -c '/usr/bin/true && /usr/bin/env true'
al_check "a workspace binary under a listed path runs" --policy "$pol" -- /workspace/bin/true

# Direct exec of anything else.
al_run --policy "$pol" -- /workspace/other/true
al_is "$AL_RC" "126" "direct exec of a workspace binary outside the list is refused (126)"
al_run --policy "$pol" -- /bin/sh -c 'cp /usr/bin/true /tmp/t && /tmp/t; echo $?'
al_is "$AL_OUT" "126" "direct exec of a copy in /tmp is refused"

# Anonymous files: without an exec list they run (the checks can tell), with one they do not.
al_run -- "${ANON[@]}" memfd
al_is "$AL_OUT" "memfd: made, execveat ran, ld.so ran" \
	"control: without filesystem.exec a memfd copy runs (execveat and ld.so)"
[ "$AL_RC" -eq 0 ] || al_show
al_run --policy "$pol" -- "${ANON[@]}" memfd
al_is "$AL_OUT" "memfd: EPERM" "memfd_create is refused with an exec list (no execveat, no ld.so)"
[ "$AL_RC" -eq 0 ] || al_show
al_run --policy "$pol" -- "${ANON[@]}" memfd-sealed
al_is "$AL_OUT" "memfd-sealed: EPERM" "memfd_create(MFD_NOEXEC_SEAL) is refused too"
al_run --policy "$pol" -- "${ANON[@]}" tmpfile /tmp
al_is "$AL_OUT" "tmpfile: made, execveat refused, ld.so refused" \
	"an O_TMPFILE copy in /tmp runs neither by execveat nor by ld.so"
[ "$AL_RC" -eq 0 ] || al_show

# The dynamic loader maps files itself: Landlock does not see it, noexec mounts do.
al_run --policy "$pol" -- "${ANON[@]}" path /tmp/t
al_is "$AL_OUT" "path: made, execveat refused, ld.so refused" \
	"ld.so of a copy in /tmp is refused (and execveat of it)"
al_run -- "${ANON[@]}" path /tmp/t
al_is "$AL_OUT" "path: made, execveat ran, ld.so ran" \
	"control: without filesystem.exec ld.so of a copy in /tmp runs"

# ld.so of a workspace binary outside the list: the workspace is mounted noexec and only
# the listed subtree is re-bound executable.
al_run --policy "$pol" -- /bin/sh -c '/lib64/ld-linux-x86-64.so.2 /workspace/other/true; echo $?'
al_ok "$([ "$AL_OUT" != "0" ] && echo 0 || echo 1)" \
	"ld.so of a workspace binary outside the list is refused"
al_run --policy "$pol" -- /bin/sh -c '/lib64/ld-linux-x86-64.so.2 /workspace/bin/true; echo $?'
al_is "$AL_OUT" "0" "ld.so of a binary in the listed workspace subtree still runs"

# A symlink planted by an earlier run in a rw workspace must not widen the list.
rw=$(al_policy rw <<'JSON'
{ "version": 1, "name": "rw", "filesystem": { "workspace": { "mode": "rw" } } }
JSON
)
rwexec=$(al_policy rwexec <<'JSON'
{ "version": 1, "name": "rwexec",
  "filesystem": { "workspace": { "mode": "rw" }, "exec": [ "/usr", "/workspace/bin" ] } }
JSON
)
al_check "a task plants bin -> /workspace in its rw workspace" --policy "$rw" \
	--workspace "$AL_RWWS" -- /bin/ln -s /workspace /workspace/bin
al_run --policy "$rwexec" --workspace "$AL_RWWS" -- /workspace/airlock-probe true
al_is "$AL_RC" "125" "the next run with exec [/workspace/bin] is refused (125), not widened"
echo "$AL_ERR" | grep -qF "refusing run: /filesystem/exec/1: '/workspace/bin' passes through a symbolic link"
al_ok $? "the refusal names the policy entry and the workspace link"
[ "$AL_RC" -eq 125 ] || al_show
rm -f "$AL_RWWS/bin"
mkdir -m 755 "$AL_RWWS/bin"
al_run --policy "$rwexec" --workspace "$AL_RWWS" -- /workspace/airlock-probe true
al_is "$AL_RC" "126" "with a real bin/ the probe outside it is refused again (126)"

# Entries that are links in the root the task sees mean their targets: /bin and /lib on a
# merged-/usr host. The record says which real paths were allowed.
links=$(al_policy links <<'JSON'
{ "version": 1, "name": "links", "filesystem": { "exec": [ "/bin", "/lib", "/lib64" ] } }
JSON
)
al_run --policy "$links" --record "$AL_TMP/rec-links.json" -- /bin/sh -c '/bin/true && echo ran'
al_is "$AL_RC:$AL_OUT" "0:ran" "exec [/bin, /lib, /lib64] runs /bin/sh (links resolved)"
[ "$AL_RC" -eq 0 ] || al_show
al_is "$(al_json "$AL_TMP/rec-links.json" \
	'" ".join(e["entry"] + "=" + e["path"] for e in r["sandbox"]["exec_paths"])')" \
	"/bin=$(readlink -f /bin) /lib=$(readlink -f /lib) /lib64=$(readlink -f /lib64)" \
	"the record lists the real path each entry allowed"
al_run --policy "$links" -- /bin/sh -c 'cp /usr/bin/true /tmp/t && /tmp/t; echo $?'
al_is "$AL_OUT" "126" "a resolved /bin allows nothing more (a copy in /tmp is refused)"
[ "$AL_OUT" = 126 ] || al_show

# A missing entry is refused before the run, naming the entry.
missing=$(al_policy missing <<'JSON'
{ "version": 1, "filesystem": { "exec": [ "/usr", "/opt/airlock-no-such-dir" ] } }
JSON
)
al_expect_rc 125 "an exec entry that does not exist is refused (125)" --policy "$missing" -- true
al_is "$AL_ERR" \
	"airlock: refusing run: /filesystem/exec/1: '/opt/airlock-no-such-dir' does not exist in the sandbox's root" \
	"the refusal is one line naming /filesystem/exec/1"

# Links inside a rootfs resolve inside the rootfs: an absolute target and ".." stay there.
busybox=$(command -v busybox || true)
if [ -z "$busybox" ]; then
	al_ok 1 "busybox is installed for the rootfs cases (setup.sh installs busybox-static)"
	exit 0
fi
root=$AL_TMP/exec-root
mkdir -p "$root/usr/bin" "$root/usr/libexec" "$AL_TMP/host-bin"
cp "$busybox" "$root/usr/bin/busybox"
for app in sh true cp; do ln -s busybox "$root/usr/bin/$app"; done
ln -s usr/bin "$root/bin"
cp "$busybox" "$AL_TMP/host-bin/busybox" # exists on the host only
ln -s /usr/bin "$root/usr/libexec/abs"                     # absolute: the rootfs's /usr/bin
ln -s ../../../../../../../../usr/bin "$root/usr/libexec/up" # ".." stops at the root
ln -s "$AL_TMP/host-bin" "$root/usr/libexec/host"           # a host path, absent inside
ln -s "../../../../../../../..$AL_TMP/host-bin" "$root/usr/libexec/escape"
chmod -R a+rX "$root" "$AL_TMP/host-bin"
for l in abs up; do
	pol=$(al_policy "rootfs-$l" <<JSON
{ "version": 1, "filesystem": { "rootfs": "$root", "exec": [ "/usr/libexec/$l" ] } }
JSON
	)
	al_run --policy "$pol" --record "$AL_TMP/rec-rootfs-$l.json" -- /usr/bin/sh -c \
		'/usr/bin/true && echo ran; cp /usr/bin/busybox /tmp/b && /tmp/b true; echo $?'
	al_is "$AL_RC:$(echo "$AL_OUT" | tr '\n' ' ')" "0:ran 126 " \
		"rootfs link $l -> $(readlink "$root/usr/libexec/$l" | cut -c1-20)... allows the rootfs's /usr/bin only"
	[ "$AL_RC" -eq 0 ] || al_show
	al_is "$(al_json "$AL_TMP/rec-rootfs-$l.json" 'r["sandbox"]["exec_paths"][0]["path"]')" \
		"/usr/bin" "the record shows /usr/libexec/$l allowed /usr/bin"
done
for l in host escape; do
	pol=$(al_policy "rootfs-$l" <<JSON
{ "version": 1, "filesystem": { "rootfs": "$root", "exec": [ "/usr/bin", "/usr/libexec/$l" ] } }
JSON
	)
	al_expect_rc 125 "rootfs link $l to a host-only directory is refused (125)" \
		--policy "$pol" -- /usr/bin/true
	case "$AL_ERR" in
	*"refusing run: /filesystem/exec/1: '/usr/libexec/$l' does not exist in the sandbox's root"*)
		al_ok 0 "the refusal names /filesystem/exec/1 ($l does not resolve on the host)" ;;
	*) al_ok 1 "the refusal names /filesystem/exec/1 ($l does not resolve on the host)"; al_show ;;
	esac
done

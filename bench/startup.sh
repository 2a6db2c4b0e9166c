#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Start-to-exit latency of `airlock run -- /bin/true` against its peers, interleaved
# round-robin in one run (issues 2 and 3). Not part of the test suite. Run as root from a
# release build configured with -Dbench=true:
#
#   meson setup build-bench --buildtype=release -Dbench=true && ninja -C build-bench
#   bench/startup.sh [BUILDDIR] [ROUNDS] [WARMUP]
#
# Two passes of ROUNDS (default 200) rounds: back to back, then with BENCH_GAP ms (default
# 25) of idle before each start. BENCH_RAW=PREFIX keeps the samples as PREFIX.gapN (CSV).
#
# Commands (the first is the floor every median is divided by):
#   true             /bin/true
#   unshare          unshare -Urmnpf --mount-proc /bin/true
#   bwrap            bwrap --unshare-all, minimal filesystem, --cap-drop ALL
#   bwrap-seccomp    the same with --seccomp and airlock's own default filter
#   crun             crun run of a bundle with the host /usr, no cgroup
#   crun-cgroup      the same with memory/pids/cpu limits (cgroupfs manager)
#   airlock          airlock run, built-in default policy
#   airlock-limits   airlock run, default policy plus memory/pids/cpu limits
# A peer that is not installed is left out. Everything lives in one temp dir (state dir,
# bundles, filter) and in cgroups below airlock-bench-$$, all removed on exit.
#
# On a pure cgroup v2 host (the vm stage's guest, bench/vm-startup.sh) it first checks
# that both cgroup rows really run limited: it reads memory.max, pids.max and cpu.max of
# a live airlock run and of a created crun container, prints them as '#' lines, and stops
# if either has no cgroup or no limit (a start without its cgroup is not the one we time).
set -euo pipefail

build=${1:-build-bench}
rounds=${2:-200}
warmup=${3:-20}
airlock=$(realpath "$build/airlock")
driver=$(realpath "$build/bench/startup")
exporter=$(realpath "$build/bench/filter-export")
tmp=$(mktemp -d /tmp/airlock-bench.XXXXXX)
cg_parent=airlock-bench-$$

cleanup() {
	local d
	for d in /sys/fs/cgroup/*/"$cg_parent" /sys/fs/cgroup/"$cg_parent"; do
		[ -d "$d" ] || continue
		find "$d" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null || true
		rmdir "$d" 2>/dev/null || echo "startup.sh: could not remove $d" >&2
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -z "${BENCH_KEEP:-}" ] || trap - EXIT

if [ "$(id -u)" != 0 ]; then
	echo "startup.sh: run as root (airlock and the peers need it)" >&2
	exit 1
fi

# bwrap's --seccomp and the airlock filter: the same BPF program for both.
"$exporter" "$tmp/filter.bpf" >"$tmp/filter.len"

# A minimal rootfs with the host /usr: crun binds /usr over rootfs/usr.
make_bundle() { # dir, with-cgroup-limits(0/1)
	local dir=$1 resources='{}' cgpath=''
	mkdir -p "$dir/rootfs"/{usr,proc,dev,tmp}
	for l in bin lib lib64 sbin; do ln -s "usr/$l" "$dir/rootfs/$l"; done
	if [ "$2" = 1 ]; then
		resources='{ "memory": { "limit": 268435456 }, "pids": { "limit": 512 },
			     "cpu": { "quota": 100000, "period": 100000 } }'
		cgpath="\"cgroupsPath\": \"/$cg_parent/crun\","
	fi
	cat >"$dir/config.json" <<-EOF
	{
	  "ociVersion": "1.0.0",
	  "process": {
	    "terminal": false, "user": { "uid": 0, "gid": 0 }, "args": [ "/bin/true" ],
	    "env": [ "PATH=/usr/bin:/bin" ], "cwd": "/",
	    "capabilities": { "bounding": [], "effective": [], "permitted": [] },
	    "noNewPrivileges": true
	  },
	  "root": { "path": "rootfs", "readonly": true },
	  "hostname": "bench",
	  "mounts": [
	    { "destination": "/usr", "type": "bind", "source": "/usr",
	      "options": [ "rbind", "ro", "nosuid", "nodev" ] },
	    { "destination": "/proc", "type": "proc", "source": "proc" },
	    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
	      "options": [ "nosuid", "mode=755", "size=65536k" ] },
	    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
	      "options": [ "nosuid", "nodev", "mode=1777" ] }
	  ],
	  "linux": {
	    $cgpath
	    "resources": $resources,
	    "namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
			    { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" } ]
	  }
	}
	EOF
}

# The built-in default policy with cgroup limits added (memory, pids, cpu).
cat >"$tmp/limits.json" <<-'EOF'
{
  "version": 1,
  "name": "bench-limits",
  "environment": { "LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin" },
  "filesystem": {
    "workspace": { "mode": "ro" },
    "tmpfs": [ { "target": "/tmp", "size": "256M" }, { "target": "/out", "size": "64M" } ]
  },
  "identity": { "uid": 1000, "gid": 1000, "hostname": "airlock" },
  "limits": { "open_files": 1024, "output": "16M", "wall_time": "10m",
	      "memory": "256M", "pids": 512, "cpu": 1 },
  "seccomp": { "profile": "default" }
}
EOF
"$airlock" policy check "$tmp/limits.json" >/dev/null

mkdir -p "$tmp/state" "$tmp/workspace" "$tmp/crun-root"
cd "$tmp/workspace" # airlock's default /workspace is the current directory, kept empty

bwrap_fs=(--unshare-all --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib
	  --symlink usr/lib64 /lib64 --symlink usr/sbin /sbin --proc /proc --dev /dev
	  --tmpfs /tmp --die-with-parent --new-session --cap-drop ALL)
cmds=(true /bin/true)
pairs=()
hides=()
add() { cmds+=(:: "$@"); }
add airlock "$airlock" run --state-dir "$tmp/state" -- /bin/true
add airlock-limits "$airlock" run --state-dir "$tmp/state" --policy "$tmp/limits.json" -- /bin/true
if command -v unshare >/dev/null; then
	add unshare "$(command -v unshare)" -Urmnpf --mount-proc /bin/true
fi
if command -v bwrap >/dev/null; then
	add bwrap "$(command -v bwrap)" "${bwrap_fs[@]}" /bin/true
	# The driver opens the filter as fd 9 in every child (-i below).
	add bwrap-seccomp "$(command -v bwrap)" "${bwrap_fs[@]}" --seccomp 9 /bin/true
	pairs+=(-r airlock/bwrap -r airlock/bwrap-seccomp -r airlock-limits/bwrap-seccomp)
fi
if command -v crun >/dev/null; then
	make_bundle "$tmp/bundle" 0
	make_bundle "$tmp/bundle-cg" 1
	crun_bin=$(command -v crun)
	add crun "$crun_bin" --root "$tmp/crun-root" --cgroup-manager=disabled run \
		--bundle "$tmp/bundle" bench-$$
	add crun-cgroup "$crun_bin" --root "$tmp/crun-root" --cgroup-manager=cgroupfs run \
		--bundle "$tmp/bundle-cg" bench-cg-$$
	pairs+=(-r airlock/crun -r airlock-limits/crun-cgroup)
	# crun 1.8 refuses a hybrid host whose cgroup2 mount holds controllers.
	if [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
		hides+=(-U crun:/sys/fs/cgroup/unified -U crun-cgroup:/sys/fs/cgroup/unified)
	fi
fi
pairs+=(-r airlock-limits/airlock)

# Prints the v2 limits of the cgroup pid $2 is in as one '#' line, labelled $1; fails
# when the process is still in our own cgroup or a limit is "max".
v2_limits_of() { # label, pid
	local cg dir k v line
	cg=$(sed -n 's/^0:://p' "/proc/$2/cgroup")
	dir=/sys/fs/cgroup$cg
	if [ -z "$cg" ] || [ "$cg" = "$(sed -n 's/^0:://p' /proc/self/cgroup)" ]; then
		echo "startup.sh: $1 runs in no cgroup of its own ('$cg')" >&2
		return 1
	fi
	line="# cgroup v2 check: $1 in $cg:"
	for k in memory.max pids.max cpu.max; do
		v=$(cat "$dir/$k") || return 1
		case "$v" in
		max | "max "*) echo "startup.sh: $1 has no $k" >&2; return 1 ;;
		esac
		line+=" $k=${v/ //}"
	done
	echo "$line"
}

# The child of pid $1, waiting up to 10 s for it to appear.
first_child() {
	local c _
	for _ in $(seq 100); do
		c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || return 1
		[ -z "$c" ] || { echo "${c%% *}"; return 0; }
		sleep 0.1
	done
	return 1
}

# Pure cgroup v2 only: airlock's sandbox init is cloned into its run cgroup, crun's
# container init is moved into the bundle's cgroupsPath.
check_cgroups_v2() {
	local pid init r=0
	"$airlock" run --state-dir "$tmp/state" -- /bin/sleep 3 &
	pid=$!
	init=$(first_child "$pid") && v2_limits_of "airlock (default policy)" "$init" || r=1
	wait "$pid" || r=1
	[ $r = 0 ] || return 1
	command -v crun >/dev/null || return 0
	"$crun_bin" --root "$tmp/crun-root" --cgroup-manager=cgroupfs create \
		--bundle "$tmp/bundle-cg" check-$$ </dev/null >/dev/null
	pid=$("$crun_bin" --root "$tmp/crun-root" state check-$$ |
		sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p')
	v2_limits_of "crun-cgroup" "$pid" || r=1
	"$crun_bin" --root "$tmp/crun-root" delete -f check-$$
	return $r
}
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
	check_cgroups_v2 || { echo "startup.sh: the cgroup v2 check failed" >&2; exit 1; }
fi

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r) $(nproc) CPU" \
	"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# airlock $("$airlock" --version 2>/dev/null || echo '?'), filter" \
	"$(cat "$tmp/filter.len") insns; $(bwrap --version 2>/dev/null || true);" \
	"$(crun --version 2>/dev/null | head -1 || true)"
# Pass 1 back to back; pass 2 with the kernel idle before each start (see startup.c -g).
for gap in 0 "${BENCH_GAP:-25}"; do
	echo
	raw=()
	[ -z "${BENCH_RAW:-}" ] || raw=(-o "$BENCH_RAW.gap$gap")
	"$driver" -n "$rounds" -w "$warmup" -g "$gap" "${raw[@]}" -i "9:$tmp/filter.bpf" \
		"${pairs[@]}" "${hides[@]}" -- "${cmds[@]}"
done

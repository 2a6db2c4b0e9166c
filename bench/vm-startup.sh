#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The start-up benchmark (bench/startup.sh) on cgroup v2: inside the vm stage's QEMU guest
# (Debian's 6.1 kernel, a pure cgroup v2 hierarchy), where airlock clones the task straight
# into its run cgroup (CLONE_INTO_CGROUP) and crun moves its container into a cgroup by a
# cgroup.procs write. Not part of the test suite. Run as root on the host:
#
#   bench/vm-startup.sh [BUILDDIR] [ROUNDS] [WARMUP]
#
# BUILDDIR (default build-v2bench) must be a release build with -Dbench=true. ROUNDS
# (default 60) and WARMUP (default 6) are per pass; the guest runs code 3-4.5x slower
# under TCG (process start-up far more), so the default takes about 6 minutes. The output
# (also in OUT/exec.log, OUT=$BENCH_VM_OUT or /tmp/airlock-vm-bench) carries the host load
# before and after, the cgroup v2 check of startup.sh, both passes and a count of the
# guest kernel's cgroup_mkdir and cgroup_attach_task trace events per parent cgroup: a
# migration (cgroup.procs write) shows up as an attach, a CLONE_INTO_CGROUP start does not;
# one deliberate migration below /airlock-tests.service is the positive control.
#
# TCG distorts absolute times; compare ratios of one interleaved run only.
#
#   bench/vm-startup.sh --guest ROUNDS WARMUP     (what the guest runs; needs AIRLOCK_VM=1)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tracing=/sys/kernel/tracing
events=(cgroup/cgroup_mkdir cgroup/cgroup_attach_task)

# Enables the cgroup trace events on an empty ring buffer; 1 if tracefs is missing.
trace_start() {
	local e
	[ -d "$tracing/events/cgroup" ] || return 1
	echo 0 >"$tracing/tracing_on"
	: >"$tracing/trace"
	for e in "${events[@]}"; do echo 1 >"$tracing/events/$e/enable"; done
	echo 1 >"$tracing/tracing_on"
}

# Prints "event top-level-cgroup count" for what the events recorded, then disables them.
trace_stop() {
	local e
	echo 0 >"$tracing/tracing_on"
	for e in "${events[@]}"; do echo 0 >"$tracing/events/$e/enable"; done
	echo "# guest cgroup events during the benchmark (event, first path component, count):"
	awk '$0 !~ /^#/ {
		ev = ""; path = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^cgroup_(mkdir|attach_task):$/) ev = substr($i, 1, length($i) - 1)
			if ($i ~ /^(dst_)?path=/) { path = $i; sub(/^[a-z_]*=/, "", path) }
		}
		if (ev == "") next
		split(path, c, "/")
		n[ev " /" c[2]]++
	}
	END { for (k in n) printf "#   %s %d\n", k, n[k] }' "$tracing/trace" | sort
	grep -q 'LOST\|lost' "$tracing/trace" && echo "#   (the ring buffer lost events)"
	: >"$tracing/trace"
}

# The positive control: one deliberate cgroup.procs migration, next to the runner's leaf,
# must show up as one cgroup_attach_task event.
control_migration() {
	local own dir
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	dir=/sys/fs/cgroup$(dirname "$own")/vm-bench-control
	mkdir "$dir"
	sh -c 'echo $$ >"$1/cgroup.procs"' sh "$dir"
	rmdir "$dir"
}

guest_main() { # rounds, warmup
	local build r=0
	if [ "${AIRLOCK_VM:-}" != 1 ] || [ -z "${AIRLOCK:-}" ]; then
		echo "vm-startup.sh: --guest runs only inside the vm stage's guest" >&2
		exit 2
	fi
	build=$(dirname "$AIRLOCK")
	echo "# guest: $(uname -r), $(nproc) vCPU (TCG), cgroup $(stat -fc %T /sys/fs/cgroup)," \
		"runner in $(sed -n 's/^0:://p' /proc/self/cgroup)"
	"$AIRLOCK" probe | grep '^cgroups:' | sed 's/^/# /'
	if trace_start; then
		control_migration
	else
		echo "# no tracefs: the cgroup events are not counted"
	fi
	bash "$here/startup.sh" "$build" "$1" "$2" || r=$?
	[ ! -d "$tracing/events/cgroup" ] || trace_stop
	return $r
}

host_load() {
	echo "# host $(date -u +%Y-%m-%dT%H:%M:%SZ): load $(cut -d' ' -f1-3 /proc/loadavg)," \
		"$(nproc) CPU, $(pgrep -c -x qemu-system-x86 || true) QEMU running"
}

host_main() { # [builddir] [rounds] [warmup]
	local build=${1:-build-v2bench} rounds=${2:-60} warmup=${3:-6} out r=0
	out=${BENCH_VM_OUT:-/tmp/airlock-vm-bench}
	if [ ! -x "$build/bench/startup" ] || [ ! -x "$build/airlock" ]; then
		echo "vm-startup.sh: '$build' has no airlock or bench/startup (-Dbench=true)" >&2
		exit 1
	fi
	if ! grep -q '"name": "buildtype", "value": "release"' \
		"$build/meson-info/intro-buildoptions.json" 2>/dev/null; then
		echo "vm-startup.sh: warning: '$build' is not a release build" >&2
	fi
	host_load
	# two passes of rounds+warmup rounds, about 2.5 s each under TCG, plus boot
	"$here/../tests/vm/run.sh" --build "$build" --out "$out" \
		--timeout $((180 + (rounds + warmup) * 12)) \
		--exec "bash \$AIRLOCK_SRC/bench/vm-startup.sh --guest $rounds $warmup" || r=$?
	host_load
	echo "# guest output: $out/exec.log, console: $out/console.log"
	return $r
}

if [ "${1:-}" = --guest ]; then
	guest_main "${2:?rounds}" "${3:?warmup}"
else
	host_main "$@"
fi

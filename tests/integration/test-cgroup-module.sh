#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The cgroup module for real on this host's layout (v1/hybrid on the development
# machines, pure v2 in the vm stage): layout detection, a memory bomb OOM-killed and
# reported, a fork bomb stopped at pids.max, a cpu hog held to its quota by the cgroup's
# own accounting, concurrent runs kept apart, refusals naming the controller, and the
# leftovers of a SIGKILLed supervisor reaped. Everything lives below airlock-test-$$ in
# each hierarchy and is removed at the end.
#
# Environment: AIRLOCK (to find the build tree) or AIRLOCK_CGROUP_CHECK (the
# cgroup-check program).
. "$(dirname "$0")/lib.sh"
al_find_binaries
if [ "$(id -u)" -ne 0 ]; then
	al_skip_all "needs root"
fi
CHECK=${AIRLOCK_CGROUP_CHECK:-$(dirname "$AIRLOCK")/tests/integration/cgroup-check}
if [ ! -x "$CHECK" ]; then
	echo "Bail out! cgroup-check not found at '$CHECK'"
	exit 1
fi
parent=airlock-test-$$
cg=/sys/fs/cgroup
tmp=$(mktemp -d /tmp/airlock-cgroup.XXXXXX) || exit 1

# The test parent in every hierarchy (one directory on v2).
parent_dirs() {
	local d
	for d in "$cg/$parent" "$cg"/*/"$parent"; do
		[ -d "$d" ] && echo "$d"
	done
}

# Kills whatever a failed case left and removes the test parents, deepest first.
cleanup() {
	local d p
	for d in $(parent_dirs); do
		while read -r p; do
			xargs -r kill -KILL <"$p/cgroup.procs" 2>/dev/null
		done < <(find "$d" -mindepth 1 -type d)
		find "$d" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
}
trap 'cleanup; rm -rf "$tmp"; al_finish' EXIT

expected_mode() {
	if [ -f "$cg/cgroup.controllers" ]; then
		echo v2
	elif grep -qE ' - cgroup ' /proc/self/mountinfo; then
		if grep -qE ' - cgroup2 ' /proc/self/mountinfo; then echo hybrid; else echo v1; fi
	else
		echo none
	fi
}

layout=$("$CHECK" layout)
al_ok $? "cgroup-check layout runs"
echo "$layout" | al_diag
mode=$(sed -n 's/^mode=//p' <<<"$layout")
want=$(expected_mode)
al_is "$mode" "$want" "the layout is detected as $want"
if [ "$mode" = none ]; then
	al_skip_all "no cgroup hierarchy"
fi
if [ "$mode" = v2 ]; then
	ctl=$(sed -n 's/^controller\.\(memory\|pids\|cpu\)=v2$/\1/p' <<<"$layout" | sort | tr '\n' ' ')
	al_is "$ctl" "cpu memory pids " "v2: memory, pids and cpu are available to runs"
else
	# mountinfo's optional fields (shared:N, ...) vary by mount: find the type after " - ".
	al_is "$(sed -n 's/^controller\.memory=//p' <<<"$layout")" "$(awk -F ' - ' \
		'split($2, t, " ") && t[1] == "cgroup" && t[3] ~ /(^|,)memory(,|$)/ {
			split($1, f, " "); print f[5]; exit }' /proc/self/mountinfo)" \
		"v1: the memory hierarchy is found where mountinfo has it"
fi

run_case() { # run_case CASE DESCRIPTION
	local out rc
	# Into a file, not $(...): a failed case must not hang on a child holding the pipe.
	timeout -k 5 120 "$CHECK" "$1" "$parent" >"$tmp/$1.out" 2>&1
	rc=$?
	out=$(cat "$tmp/$1.out")
	if [ "$rc" -eq 77 ]; then
		al_skip "$2" "$(echo "$out" | tail -n 1)"
		return
	fi
	al_ok "$rc" "$1: $2"
	[ -n "$out" ] && echo "$out" | sed "s/^# //" | al_diag
}

run_case memory "a memory bomb is OOM-killed at 64M and reported as such"
run_case pids "a fork bomb stops at pids.max=16 and the host can still fork"
run_case cpu "two spinners are held to 0.2 cores by the cgroup's own accounting"
run_case concurrent "concurrent runs see and kill only their own cgroup; ids are exclusive"
run_case refuse "limits the host cannot enforce are refused, naming the controller"
run_case stale "a SIGKILLed supervisor's run is reaped, a live run is kept"
run_case placement "a child is born inside the run cgroup; the caller's thread is back in its own"
run_case latency "placement latency after idle and back-to-back run cost (measured)"
run_case cpuset "v1: a run's cpuset has its parent's cpus, or the run goes without it"
run_case freeze "the freezer, or SIGSTOP to each process, holds a whole run and lets it go on; a frozen run is killed whole"

left=$(for d in $(parent_dirs); do find "$d" -mindepth 1 -type d; done)
al_is "$left" "" "no run directory is left below the test parent"
for d in $(parent_dirs); do
	rmdir "$d"
done
al_is "$(parent_dirs)" "" "the test parent is removed from every hierarchy"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The vm stage's self-check, run inside the guest as the test runner would be (in the
# leaf "runner" of the delegated service cgroup). Checks that the guest offers what the
# integration suite relies on: a pure cgroup v2 hierarchy with nsdelegate, and memory,
# pids and cpu controllers that are enabled and actually enforce their limits.
# Prints TAP. Every cgroup it creates is removed again.

cg=/sys/fs/cgroup
service=$cg/airlock-tests.service
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
	[ -n "${2:-}" ] && echo "# $2"
}

check() { # description, command...
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else not_ok "$what"; fi
}

has_word() { # file, word
	tr ' ' '\n' <"$1" | grep -qx "$2"
}

knob() { # cgroup, file -> value of "key value" line $3, or whole file
	if [ -n "${3:-}" ]; then
		awk -v k="$3" '$1 == k { print $2 }' "$1/$2"
	else
		cat "$1/$2"
	fi
}

# Runs "$@" as a member of cgroup $1 and returns its exit status.
run_in() {
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$@"
}

new_cgroup() {
	rmdir "$service/$1" 2>/dev/null
	mkdir "$service/$1" && echo "$service/$1"
}

test_hierarchy() {
	check "cgroup2 is mounted on $cg" sh -c "awk '\$2 == \"$cg\" { print \$3 }' /proc/mounts | grep -qx cgroup2"
	check "cgroup2 is mounted with nsdelegate" grep -q " $cg cgroup2 .*nsdelegate" /proc/mounts
	check "no cgroup v1 hierarchy is mounted" sh -c "! awk '\$3 == \"cgroup\"' /proc/mounts | grep -q ."
	check "the runner sits in the leaf airlock-tests.service/runner" \
		grep -qx '0::/airlock-tests.service/runner' /proc/self/cgroup
	for c in memory pids cpu io; do
		check "controller $c is available at the root" has_word $cg/cgroup.controllers $c
		check "controller $c is delegated to the service" \
			has_word $service/cgroup.subtree_control $c
	done
}

test_memory() {
	m=$(new_cgroup selftest-memory) || { not_ok "memory cgroup created"; return; }
	echo $((32 * 1024 * 1024)) >"$m/memory.max"
	echo 0 >"$m/memory.swap.max" 2>/dev/null
	run_in "$m" python3 -c 'b = b"x" * (256 << 20)' 2>/dev/null
	rc=$?
	kills=$(knob "$m" memory.events oom_kill)
	if [ "$rc" -ne 0 ] && [ "${kills:-0}" -ge 1 ]; then
		ok "memory.max 32M ends a 256M allocation with an OOM kill"
	else
		not_ok "memory.max 32M ends a 256M allocation with an OOM kill" \
			"exit $rc, oom_kill ${kills:-none}"
	fi
	peak=$(knob "$m" memory.peak 2>/dev/null)
	if [ -z "$peak" ] || [ "$peak" -le $((32 * 1024 * 1024)) ]; then
		ok "memory usage stayed within memory.max"
	else
		not_ok "memory usage stayed within memory.max" "memory.peak $peak"
	fi
	rmdir "$m"
}

test_pids() {
	p=$(new_cgroup selftest-pids) || { not_ok "pids cgroup created"; return; }
	echo 8 >"$p/pids.max"
	out=$(run_in "$p" python3 -c '
import os, time
kids, failed = [], 0
for i in range(20):
    try:
        pid = os.fork()
    except OSError:
        failed += 1
        continue
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    kids.append(pid)
print(len(kids), failed)
for k in kids:
    os.kill(k, 9)
    os.waitpid(k, 0)
' 2>/dev/null)
	kids=${out%% *}
	refused=${out##* }
	events=$(knob "$p" pids.events max)
	if [ "${kids:-99}" -le 7 ] && [ "${refused:-0}" -ge 1 ] && [ "${events:-0}" -ge 1 ]; then
		ok "pids.max 8 holds 20 forks ($kids forked, $refused refused)"
	else
		not_ok "pids.max 8 holds 20 forks" "output '$out', max events ${events:-none}"
	fi
	rmdir "$p"
}

test_cpu() {
	c=$(new_cgroup selftest-cpu) || { not_ok "cpu cgroup created"; return; }
	echo "10000 100000" >"$c/cpu.max"
	run_in "$c" timeout 2 sh -c 'while :; do :; done'
	thr=$(knob "$c" cpu.stat nr_throttled)
	usage=$(knob "$c" cpu.stat usage_usec)
	# 10% of one cpu over 2 s is 200 ms; allow generous slack for an emulated clock
	if [ "${thr:-0}" -ge 1 ] && [ "${usage:-0}" -le 800000 ]; then
		ok "cpu.max 10% throttles a busy loop (throttled $thr, usage ${usage}us)"
	else
		not_ok "cpu.max 10% throttles a busy loop" "throttled ${thr:-?}, usage ${usage:-?}us"
	fi
	rmdir "$c"
}

test_kill() {
	k=$(new_cgroup selftest-kill) || { not_ok "kill cgroup created"; return; }
	run_in "$k" sh -c 'sleep 60 & sleep 60 & wait' &
	i=0
	while [ "$(wc -l <"$k/cgroup.procs")" -lt 3 ] && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	echo 1 >"$k/cgroup.kill"
	wait
	check "cgroup.kill empties the cgroup" grep -qx 'populated 0' "$k/cgroup.events"
	rmdir "$k"
}

test_nested() {
	d=$(new_cgroup selftest-delegate) || { not_ok "nested cgroup created"; return; }
	check "a delegated child can enable memory pids cpu below itself" \
		sh -c "echo '+memory +pids +cpu' >$d/cgroup.subtree_control"
	mkdir "$d/leaf" && check "its leaf has memory.max, pids.max and cpu.max" \
		test -f "$d/leaf/memory.max" -a -f "$d/leaf/pids.max" -a -f "$d/leaf/cpu.max"
	rmdir "$d/leaf" "$d"
}

test_hierarchy
test_memory
test_pids
test_cpu
test_kill
test_nested
echo "1..$n"
exit $failed

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# PID 1 of the vm stage's guest, on the real root (dash). Sets up what a systemd host
# would (kernel filesystems, loopback, a pure cgroup v2 hierarchy with nsdelegate and the
# memory/pids/cpu/io controllers, the test runner in a delegated leaf), runs the
# self-check and, in suite mode, tests/integration/run-all.sh, then writes the results
# as a tar archive onto the raw results disk (vdc), reports "exit <status>" on the status
# port (ttyS1) and powers off.
#
# The run disk (/opt/airlock-vm) holds: config (MODE=suite|selftest), build/ (the
# airlock binaries), src/ (the source tree), guest/ (these scripts) and sysroot/ (shared
# libraries the binaries need that the cached root image lacks).

vm=/opt/airlock-vm
cg=/sys/fs/cgroup
service=$cg/airlock-tests.service
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

say() {
	read -r up _ </proc/uptime
	echo "airlock-vm: [$up] $*" >/dev/console
}

mount_kernel_fs() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mkdir -p /dev/pts /dev/shm /dev/mqueue
	mount -t devpts -o newinstance,ptmxmode=0666,gid=5,mode=0620 devpts /dev/pts
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
	mount -t mqueue mqueue /dev/mqueue
	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
	[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
	[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
	[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
	[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
}

# The unified hierarchy as a systemd host with Delegate=yes lays it out: PID 1 in a leaf,
# the controllers enabled from the root down to the service, the runner in a leaf of
# the delegated service so that the service itself may enable its subtree_control.
setup_cgroup() {
	mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $cg 2>/dev/null ||
		mount -t cgroup2 -o nsdelegate cgroup2 $cg || return 1
	mkdir -p $cg/init.scope $service/runner
	echo $$ >$cg/init.scope/cgroup.procs || return 1
	controllers=$(sed 's/\([a-z_]*\)/+\1/g' $cg/cgroup.controllers)
	echo "$controllers" >$cg/cgroup.subtree_control || return 1
	echo "$controllers" >$service/cgroup.subtree_control || return 1
	say "cgroup v2: $(cat $service/cgroup.subtree_control)"
}

# Runs "$@" with the runner's cgroup as its own.
in_runner() {
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$service/runner" "$@"
}

in_runner_env() {
	in_runner env AIRLOCK=$vm/build/airlock \
		AIRLOCK_PROBE=$vm/build/tests/probe/airlock-probe \
		AIRLOCK_SRC=$vm/src AIRLOCK_VM=1 AIRLOCK_VM_CGROUP=$service "$@"
}

install_run_files() {
	if [ -n "$(ls -A $vm/sysroot 2>/dev/null)" ]; then
		cp -a $vm/sysroot/. / && ldconfig
	fi
	hostname airlock-vm
	ip link set lo up
}

run_suite() {
	runner=$vm/src/tests/integration/run-all.sh
	[ -f "$runner" ] || finish "no runner: tests/integration/run-all.sh is missing"
	say "running $runner"
	in_runner_env timeout -k 10 "$SUITE_TIMEOUT" bash "$runner" --out /tmp/out </dev/null
	rc=$?
	# a hung test: keep the partial results, name the test that was running
	[ $rc -eq 124 ] || [ $rc -eq 137 ] || return $rc
	t=$(cd /tmp/out && ls -t -- *.tap 2>/dev/null | head -n 1)
	finish "timeout: the suite ran longer than ${SUITE_TIMEOUT}s (last test: ${t%.tap})"
}

# Debugging aid (run.sh --exec CMD): runs the command like the suite, output to exec.log.
run_exec() {
	say "running $(cat $vm/exec.sh)"
	in_runner_env bash $vm/exec.sh >/tmp/out/exec.log 2>&1 </dev/null
	rc=$?
	cat /tmp/out/exec.log >/dev/console
	return $rc
}

finish() {
	say "$1; writing results"
	tar -C /tmp/out -cf /dev/vdc . || say "cannot write the results disk"
	sync
	echo "$1" >/dev/ttyS1
	sync
	busybox poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 60
}

mount_kernel_fs
say "started"
# shellcheck source=/dev/null
. $vm/config
install_run_files
rm -rf /tmp/out && mkdir -p /tmp/out
setup_cgroup || say "cgroup v2 setup failed"

case "$MODE" in
exec)
	run_exec
	rc=$?
	;;
*)
	say "self-check"
	in_runner sh $vm/guest/selftest.sh >/tmp/out/vm-selftest.tap </dev/null
	rc=$?
	if [ "$MODE" = suite ]; then
		run_suite
		rc=$?
	fi
	;;
esac
finish "exit $rc"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the task can see: no host processes, no host interfaces, no inherited fds, no /sys,
# masked /proc files, a minimal /dev.
. "$(dirname "$0")/lib.sh"
al_init

al_check "only sandbox processes are visible" -- "$PROBE" procs 4
al_check "only the loopback interface exists, and it works" -- "$PROBE" net

exec 7</etc/passwd 8>"$AL_TMP/extra-fd" 9<>"$AL_TMP/extra-fd"
al_check "no inherited fds beyond 0-2 (test shell holds 7, 8, 9)" -- "$PROBE" fds
exec 7<&- 8>&- 9>&-

al_check "/sys is absent" -- "$PROBE" absent /sys
al_check "sensitive /proc files are masked or closed to the task" -- "$PROBE" masked \
	/proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/sysrq-trigger \
	/proc/kallsyms /proc/kpagecount /proc/kpageflags /proc/kpagecgroup /proc/config.gz \
	/proc/vmallocinfo /proc/interrupts /proc/latency_stats
al_check "/proc/sys is read-only" -- "$PROBE" ro /proc/sys /proc/sys/kernel/hostname
al_run -- /bin/sh -c 'ls -A /dev | sort | tr "\n" " "'
for n in null zero full random urandom tty pts shm; do
	al_ok "$(echo " $AL_OUT" | grep -q " $n "; echo $?)" "/dev/$n exists"
done
extra=$(echo "$AL_OUT" | tr ' ' '\n' |
	grep -Evx 'null|zero|full|random|urandom|tty|pts|shm|ptmx|stdin|stdout|stderr|fd|core|console|mqueue|' || true)
al_is "$extra" "" "/dev holds nothing else (no disks, no host devices)"
al_run -- /bin/sh -c 'echo data >/dev/null && head -c 4 /dev/zero | wc -c && head -c 16 /dev/urandom | wc -c'
al_is "$(echo "$AL_OUT" | tr '\n' ' ')" "4 16 " "/dev/null, /dev/zero and /dev/urandom work"
al_run -- /bin/sh -c 'ls /proc/1/root/ >/dev/null 2>&1 && echo reachable || echo denied'
al_is "$AL_OUT" "denied" "the task cannot enter the init's root through /proc/1/root"

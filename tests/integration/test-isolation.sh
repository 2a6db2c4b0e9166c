#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the task can see: no host processes, no host interfaces, no inherited fds, of /sys
# only its own cgroup (test-cgroup-view.sh), masked /proc files, a minimal /dev.
. "$(dirname "$0")/lib.sh"
al_init

al_check "only sandbox processes are visible" -- "$PROBE" procs 4
al_check "only the loopback interface exists, and it works" -- "$PROBE" net

exec 7</etc/passwd 8>"$AL_TMP/extra-fd" 9<>"$AL_TMP/extra-fd"
al_check "no inherited fds beyond 0-2 (test shell holds 7, 8, 9)" -- "$PROBE" fds
exec 7<&- 8>&- 9>&-

al_run -- /bin/sh -c 'ls -A /sys; ls -A /sys/fs'
al_is "$(echo "$AL_OUT" | tr '\n' ' ')" "fs cgroup " "/sys holds nothing but fs/cgroup"
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

# The sandbox's init is a fork of the supervisor: it must not show the supervisor's
# command line (state dir, policy path, options) or environment to the task.
pol=$(al_policy host-words <<'JSON'
{ "version": 1, "name": "host-words",
  "environment": { "PATH": "/usr/bin:/bin", "TASK_VAR": "task-value" } }
JSON
)
export AL_HOST_MARKER=host-marker-3f9c
al_run --policy "$pol" -- /bin/sh -c 'tr "\000" "|" </proc/1/cmdline; echo
	cat /proc/1/comm; sed -n "s/^Name:[[:space:]]*//p" /proc/1/status
	if tr "\000" "\n" </proc/1/environ 2>/dev/null | grep -q .; then echo environ: readable
	else echo environ: closed; fi'
cmdline=$(echo "$AL_OUT" | sed -n 1p)
al_is "$cmdline" "airlock-init|" "/proc/1/cmdline names the init and nothing else"
leak=
for w in "$AL_STATE" "$AL_TMP" "$pol" host-words.json --state-dir --policy --workspace run \
	"$AL_HOST_MARKER"; do
	case "$cmdline" in *"$w"*) leak="$leak $w" ;; esac
done
al_is "$leak" "" "/proc/1/cmdline holds no word of the airlock command line"
al_is "$(echo "$AL_OUT" | sed -n 2,3p | tr '\n' ' ')" "airlock-init airlock-init " \
	"/proc/1/comm and the Name in /proc/1/status name the init"
al_is "$(echo "$AL_OUT" | sed -n 4p)" "environ: closed" \
	"/proc/1/environ shows the task nothing of the host's environment"
al_run --policy "$pol" -- /usr/bin/env
al_is "$(echo "$AL_OUT" | sort | tr '\n' ' ')" \
	"HOME=/tmp PATH=/usr/bin:/bin TASK_VAR=task-value USER=airlock " \
	"the task's environment is the policy's plus HOME and USER, none of the supervisor's"
unset AL_HOST_MARKER

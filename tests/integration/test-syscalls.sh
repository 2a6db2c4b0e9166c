#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The seccomp profile: every blocked family fails with EPERM, ordinary work succeeds.
. "$(dirname "$0")/lib.sh"
al_init

# Sanity: outside the sandbox the same probe must see the calls allowed, or it proves nothing.
"$AIRLOCK_PROBE" syscalls mount bpf setns >/dev/null 2>&1
al_ok "$([ $? -ne 0 ]; echo $?)" "probe control: on the host mount/bpf/setns are not EPERM"

al_run -- "$PROBE" syscalls
al_ok "$AL_RC" "every blocked syscall family is blocked, allowed ones work"
echo "$AL_OUT" | grep -E '#|succeeded|allowed|kernel' | al_diag
syscalls_out=$AL_OUT

# The foreign ABIs. Whether this kernel runs them is decided outside the sandbox first:
# a kernel without the i386 ABI (ia32_emulation=off, CONFIG_IA32_EMULATION_DEFAULT_DISABLED)
# faults on int $0x80 before seccomp sees it, so only a kernel that runs i386 can show the
# filter's block. x32 syscalls always pass seccomp first (the kernel refuses them only
# afterwards, with ENOSYS), so the filter's kill is asserted on every x86-64 kernel.
abi_line() { # abi_line NAME: the sandboxed probe's line for NAME_getpid
	echo "$syscalls_out" | sed -n "s/^blocked $1_getpid: //p"
}
if [ "$(uname -m)" = x86_64 ]; then
	for abi in i386 x32; do
		host=$("$AIRLOCK_PROBE" abi "$abi" 2>&1)
		rc=$?
		echo "host: $host" | al_diag
		case "$rc" in
		0) host_runs=yes ;;
		1) host_runs=no ;;
		*) al_ok 1 "probe control: the host answers $abi getpid (rc $rc)"; continue ;;
		esac
		got=$(abi_line "$abi")
		if [ "$host_runs" = yes ] || [ "$abi" = x32 ]; then
			al_is "$got" "killed by signal 31" \
				"$abi getpid is killed by the seccomp filter (SIGSYS; host kernel runs $abi: $host_runs)"
		else
			case "$got" in
			"blocked by the kernel: i386 ABI not enabled"*) al_ok 0 \
				"without the i386 ABI the probe reports int \$0x80 as blocked by the kernel" ;;
			*) al_ok 1 "without the i386 ABI the probe reports int \$0x80 as blocked by the kernel"
			   echo "got: $got" | al_diag ;;
			esac
			al_skip "i386 getpid is killed by the seccomp filter (SIGSYS)" \
				"the kernel does not run the i386 ABI (int \$0x80 faults outside the sandbox too)"
		fi
		# What the product says about the ABI agrees with the host's own answer.
		al_is "$("$AIRLOCK" probe | sed -n "s/^abi-$abi: \([a-z]*\).*/\1/p")" "$host_runs" \
			"airlock probe: abi-$abi says whether the kernel runs it ($host_runs)"
	done
	al_run --record "$AL_TMP/abi.json" -- "$PROBE" true
	want=$("$AIRLOCK_PROBE" abi i386 >/dev/null 2>&1 && echo runs || echo off)
	want=$want,$("$AIRLOCK_PROBE" abi x32 >/dev/null 2>&1 && echo runs || echo off)
	al_is "$(al_json "$AL_TMP/abi.json" \
		'r["syscall_abis"]["x86_64"], r["syscall_abis"]["i386"] + "," + r["syscall_abis"]["x32"]' 2>&1)" \
		"('native', '$want')" "the run record's syscall_abis agrees with the host ($want)"
	# The child that tried the ABIs is reaped at once: no zombie of airlock's while it runs.
	al_run_bg abi -- "$PROBE" sleep 3
	for ((i = 0; i < 50; i++)); do # until its task runs (its "running" record is there)
		grep -lq '"cause": "running"' "$AL_STATE"/records/*.json 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.3
	al_is "$(ps --ppid "$AL_BG_PID" -o stat=,comm= | grep -c '^Z')" 0 \
		"a running airlock has no zombie child (the ABI probe's child is reaped at once)"
	ps --ppid "$AL_BG_PID" -o pid=,stat=,comm= | al_diag
	wait "$AL_BG_PID"
else
	al_skip "foreign syscall ABIs" "the i386/x32 checks are x86-64 only (this is $(uname -m))"
fi

# Ordinary work: a C compiler, python, git.
cat >"$AL_RWWS/hello.c" <<'C'
#include <stdio.h>
int main(void) { printf("hello from c\n"); return 0; }
C
pol=$(al_policy rw <<'JSON'
{ "version": 1, "name": "rw", "filesystem": { "workspace": { "mode": "rw" } } }
JSON
)
al_run --policy "$pol" --workspace "$AL_RWWS" -- /bin/sh -c \
	'gcc -O2 -o /tmp/hello hello.c && /tmp/hello'
al_is "$AL_OUT" "hello from c" "gcc compiles and runs a C program"
[ "$AL_RC" -eq 0 ] || al_show
al_run -- python3 -c 'import json, hashlib, subprocess; print(json.dumps({"h": hashlib.sha256(b"x").hexdigest()[:8], "p": subprocess.run(["true"]).returncode}))'
al_is "$AL_OUT" '{"h": "2d711642", "p": 0}' "python3 runs (json, hashlib, subprocess)"
[ "$AL_RC" -eq 0 ] || al_show
al_run --policy "$pol" --workspace "$AL_RWWS" -- /bin/sh -c \
	'git init -q repo && cd repo && echo a >a && git add a &&
	 git -c user.name=t -c user.email=t@e commit -qm one && git log --oneline | wc -l'
al_is "$AL_OUT" "1" "git init + commit in a rw workspace"
[ "$AL_RC" -eq 0 ] || al_show
al_ok "$([ -d "$AL_RWWS/repo/.git" ]; echo $?)" "the git repository is visible on the host"
al_run -- /bin/sh -c 'cd /tmp && git init -q r && cd r && echo b >b && git add b &&
	git -c user.name=t -c user.email=t@e commit -qm one && echo committed'
al_is "$AL_OUT" "committed" "git commit in /tmp"
[ "$AL_RC" -eq 0 ] || al_show

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which syscall ABIs the kernel runs, found by trying them (bubblewrap's try-syscall
 * technique, as in tests/probe). On x86-64 a kernel without the i386 ABI has no gate for
 * int $0x80: the instruction faults (SIGSEGV) before any syscall entry, so seccomp never
 * sees it. x32 syscalls do reach syscall entry (and seccomp) and then fail with ENOSYS.
 */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "macro.h"
#include "syscall-abi.h"

static const char *const state_names[_SYSCALL_ABI_STATE_MAX] = {
	[SYSCALL_ABI_NATIVE] = "native",  [SYSCALL_ABI_RUNS] = "runs",
	[SYSCALL_ABI_OFF] = "off",	  [SYSCALL_ABI_UNKNOWN] = "unknown",
	[SYSCALL_ABI_NOT_TESTED] = "n/a",
};

const char *syscall_abi_state_to_string(enum syscall_abi_state s)
{
	if (s < 0 || s >= _SYSCALL_ABI_STATE_MAX)
		return NULL;
	return state_names[s];
}

#if defined(__x86_64__)

#define X32_SYSCALL_BIT 0x40000000L
#define X32_NR_GETPID 39
#define I386_NR_GETPID 20

/* The child's exit code: the x32 state in bits 0-2, the i386 state in bits 3-5. */
static volatile int child_x32_state = SYSCALL_ABI_UNKNOWN;

static void on_fault(int sig)
{
	_exit(child_x32_state | SYSCALL_ABI_OFF << 3);
}

static enum syscall_abi_state answer(long r, long pid, int error, int off_errno)
{
	if (r == pid)
		return SYSCALL_ABI_RUNS;
	return r < 0 && error == off_errno ? SYSCALL_ABI_OFF : SYSCALL_ABI_UNKNOWN;
}

static _noreturn_ void try_foreign_abis(void)
{
	struct sigaction sa = { .sa_handler = on_fault };
	long pid = getpid(), r;

	/*
	 * A fault of ours is an answer, not a crash: caught, so no core dump and no kernel
	 * log line. The handler table is the child's own copy (no CLONE_SIGHAND).
	 */
	(void)sigaction(SIGSEGV, &sa, NULL);

	r = syscall(X32_SYSCALL_BIT | X32_NR_GETPID);
	child_x32_state = answer(r, pid, errno, ENOSYS);

	r = I386_NR_GETPID;
	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
	_exit(child_x32_state | answer(r, pid, r < 0 && r > -4096 ? (int)-r : 0, ENOSYS) << 3);
}

int syscall_abi_detect_start(void)
{
	siginfo_t si = {};
	pid_t pid;
	int k;

	/*
	 * vfork(), as posix_spawn() and sandbox/init.c do: no page tables to copy, and the
	 * child runs at once while we are suspended, instead of waiting to be scheduled
	 * beside the task (fork() + wait cost 1.3-6 ms on a loaded 2-core VM). The child only
	 * makes syscalls and _exit()s; it never returns here.
	 */
	pid = vfork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		try_foreign_abis();
	/* It has exited (vfork() resumes us then): reaped now, not left a zombie for the run. */
	do
		k = waitid(P_PID, (id_t)pid, &si, WEXITED);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	/* Killed (say, by the SIGSYS of a filter airlock itself runs under): unknown. */
	if (si.si_code != CLD_EXITED)
		return -ECHILD;
	return si.si_status & 077;
}

size_t syscall_abi_detect_finish(int answer, struct syscall_abi abis[static SYSCALL_ABI_MAX])
{
	enum syscall_abi_state x32 = SYSCALL_ABI_UNKNOWN, i386 = SYSCALL_ABI_UNKNOWN;

	if (answer >= 0) {
		x32 = answer & 7;
		i386 = answer >> 3 & 7;
	}
	abis[0] = (struct syscall_abi){ "x86_64", SYSCALL_ABI_NATIVE };
	abis[1] = (struct syscall_abi){ "i386", i386 };
	abis[2] = (struct syscall_abi){ "x32", x32 };
	return 3;
}

#else

int syscall_abi_detect_start(void)
{
	return -EBADF; /* nothing to try in a child */
}

size_t syscall_abi_detect_finish(int answer, struct syscall_abi abis[static SYSCALL_ABI_MAX])
{
#if defined(__aarch64__)
	/* The compat arm32 ABI needs a 32-bit process to try it: not tested. */
	abis[0] = (struct syscall_abi){ "aarch64", SYSCALL_ABI_NATIVE };
	abis[1] = (struct syscall_abi){ "arm", SYSCALL_ABI_NOT_TESTED };
	return 2;
#else
	abis[0] = (struct syscall_abi){ "native", SYSCALL_ABI_NATIVE };
	return 1;
#endif
}

#endif

size_t syscall_abi_detect(struct syscall_abi abis[static SYSCALL_ABI_MAX])
{
	return syscall_abi_detect_finish(syscall_abi_detect_start(), abis);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Which syscall ABIs the running kernel executes. The seccomp profile allows only the
 * native one; a foreign ABI is either run by the kernel (then the filter is what blocks
 * it) or refused by the kernel itself (x86-64 built without IA32 emulation, booted with
 * ia32_emulation=off or CONFIG_IA32_EMULATION_DEFAULT_DISABLED; x32 not enabled).
 */

#include <errno.h>
#include <stddef.h>

enum syscall_abi_state {
	SYSCALL_ABI_NATIVE, /* the ABI of this build: allowed by the seccomp profile */
	SYSCALL_ABI_RUNS, /* the kernel runs it: airlock's filter kills a task using it */
	SYSCALL_ABI_OFF, /* the kernel refuses it by itself (a fault or ENOSYS) */
	SYSCALL_ABI_UNKNOWN, /* the check gave another answer, e.g. an outer seccomp filter */
	SYSCALL_ABI_NOT_TESTED, /* no check for this architecture */
	_SYSCALL_ABI_STATE_MAX,
	_SYSCALL_ABI_STATE_INVALID = -EINVAL,
};

struct syscall_abi {
	const char *name; /* "x86_64", "i386", "x32", "aarch64", "arm", ... (static) */
	enum syscall_abi_state state;
};

#define SYSCALL_ABI_MAX 3

/*
 * Tries each foreign ABI of this architecture in a vfork()ed child (on x86-64: getpid
 * through int $0x80 and through the x32 syscall bit) and fills abis[0] with the native ABI
 * and the rest with the foreign ones. The child catches its own fault, so a kernel
 * without the ABI leaves neither a core dump nor a kernel log line. About 40 us.
 * Returns the number of entries (>= 1). Does not log.
 */
size_t syscall_abi_detect(struct syscall_abi abis[static SYSCALL_ABI_MAX]);

/*
 * The same in two halves, so that a caller can try early and decode the answer late:
 * _start() runs the child and reaps it (it has exited when vfork() returns) and returns
 * its answer (>= 0), -EBADF on architectures without a child, or another -errno.
 * _finish() fills abis from that answer; a negative one gives unknown foreign ABIs.
 * Returns the count.
 */
int syscall_abi_detect_start(void);
size_t syscall_abi_detect_finish(int answer, struct syscall_abi abis[static SYSCALL_ABI_MAX]);

/* "native", "runs", "off", "unknown", "n/a"; NULL for a value out of range. */
const char *syscall_abi_state_to_string(enum syscall_abi_state s);

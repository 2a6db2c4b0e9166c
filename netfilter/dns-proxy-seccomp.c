/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS proxy's syscall allowlist as a classic BPF program. libseccomp belongs to
 * sandbox/ (STYLE.md), and a dozen syscalls need no library: the uapi headers suffice.
 * Anything else, any other architecture and the x32 ABI kill the process.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "dns-proxy.h"
#include "macro.h"

#if defined(__x86_64__)
#define PROXY_AUDIT_ARCH AUDIT_ARCH_X86_64
#define PROXY_X32_BIT 0x40000000
#elif defined(__aarch64__)
#define PROXY_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define PROXY_AUDIT_ARCH AUDIT_ARCH_I386
#else
#error "dns-proxy-seccomp: unsupported architecture"
#endif

/* sendto is not here: it is allowed only as filtered below. */
static const unsigned allowed[] = {
	SYS_read, SYS_write, SYS_recvfrom,
#ifdef SYS_poll
	SYS_poll,
#endif
	SYS_ppoll, SYS_clock_gettime, SYS_getrandom, SYS_close, SYS_exit, SYS_exit_group,
	SYS_rt_sigreturn, SYS_restart_syscall,
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	/* Test builds only: the sanitizer runtimes map memory and set up signal stacks. */
	SYS_sigaltstack, SYS_mmap, SYS_munmap, SYS_madvise, SYS_mprotect, SYS_getpid, SYS_gettid,
	SYS_sched_yield, SYS_futex, SYS_rt_sigprocmask, SYS_rt_sigaction,
#endif
};

#define ALLOWED_MAX 48
#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define JEQ(v, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), (t), (f))
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
#define SENDTO_LEN 7

/*
 * sendto(fd, buf, len, flags, dest_addr, addrlen): with dest_addr NULL only (send() on a
 * connected socket: the upstream, the guard), except on the listening socket, which is
 * bound to the task's veth (SO_BINDTODEVICE) and so reaches nothing but the task.
 * Jumps land on the KILL and ALLOW that follow the block.
 */
static size_t add_sendto(struct sock_filter *f, size_t n)
{
	f[n++] = (struct sock_filter)JEQ(SYS_sendto, 0, 6);
	f[n++] = (struct sock_filter)LOAD(ARG_LO(0));
	f[n++] = (struct sock_filter)JEQ(DNS_PROXY_FD_LISTEN, 5, 0);
	f[n++] = (struct sock_filter)LOAD(ARG_LO(4));
	f[n++] = (struct sock_filter)JEQ(0, 0, 2);
	f[n++] = (struct sock_filter)LOAD(ARG_HI(4));
	f[n++] = (struct sock_filter)JEQ(0, 1, 0);
	return n;
}

int dns_proxy_seccomp_load(void)
{
	struct sock_filter f[8 + SENDTO_LEN + ALLOWED_MAX];
	struct sock_fprog prog = { .filter = f };
	size_t n = 0, n_allowed = ELEMENTSOF(allowed);

	_Static_assert(ELEMENTSOF(allowed) <= ALLOWED_MAX, "allowlist too long");
	f[n++] = (struct sock_filter)LOAD(offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROXY_AUDIT_ARCH, 1, 0);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)LOAD(offsetof(struct seccomp_data, nr));
#ifdef PROXY_X32_BIT
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, PROXY_X32_BIT,
					       (uint8_t)(n_allowed + SENDTO_LEN), 0);
#endif
	/* Each match jumps to the ALLOW at the end; the fall-through kills. */
	for (size_t i = 0; i < n_allowed; i++)
		f[n++] = (struct sock_filter)JEQ(allowed[i], (uint8_t)(n_allowed - i + SENDTO_LEN), 0);
	n = add_sendto(f, n);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return 0;
}

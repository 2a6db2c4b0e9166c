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

/* sendto, recvmsg and close are not here: they are allowed only as filtered below. */
static const unsigned allowed[] = {
	SYS_read,
	SYS_write,
	SYS_recvfrom,
#ifdef SYS_poll
	SYS_poll,
#endif
	SYS_ppoll,
	SYS_clock_gettime,
	SYS_getrandom,
	SYS_exit,
	SYS_exit_group,
	SYS_rt_sigreturn,
	SYS_restart_syscall,
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	/* Test builds only: the sanitizer runtimes map memory and set up signal stacks. */
	SYS_sigaltstack,
	SYS_mmap,
	SYS_munmap,
	SYS_madvise,
	SYS_mprotect,
	SYS_getpid,
	SYS_gettid,
	SYS_sched_yield,
	SYS_futex,
	SYS_rt_sigprocmask,
	SYS_rt_sigaction,
#endif
};

#define PROG_MAX 96
/* Jump targets resolved when the program is complete. */
#define TO_ALLOW 0xfe
#define TO_KILL 0xff
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)

struct prog {
	struct sock_filter f[PROG_MAX];
	size_t n;
};

static void load(struct prog *p, uint32_t off)
{
	p->f[p->n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off);
}

/* jt, jf: an offset, TO_ALLOW or TO_KILL. */
static void jump(struct prog *p, uint16_t op, uint32_t k, uint8_t jt, uint8_t jf)
{
	p->f[p->n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, jt, jf);
}

static void ret(struct prog *p, uint32_t v)
{
	p->f[p->n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, v);
}

/*
 * sendto(fd, buf, len, flags, dest_addr, addrlen): with dest_addr NULL only (send() on a
 * connected socket: the query sockets, the guard), except on the UDP listener, which lives
 * in the task's namespace bound to its lo (SO_BINDTODEVICE) and so reaches nothing but the
 * task's namespace.
 */
static void add_sendto(struct prog *p)
{
	jump(p, BPF_JEQ, SYS_sendto, 0, 6);
	load(p, ARG_LO(0));
	jump(p, BPF_JEQ, DNS_PROXY_FD_LISTEN, TO_ALLOW, 0);
	load(p, ARG_LO(4));
	jump(p, BPF_JEQ, 0, 0, TO_KILL);
	load(p, ARG_HI(4));
	jump(p, BPF_JEQ, 0, TO_ALLOW, TO_KILL);
}

/*
 * recvmsg only on the guard's socketpair (fresh query sockets come as SCM_RIGHTS); accept4
 * only on the TCP listener (the task's DNS over TCP, in the task's namespace); close only
 * above the fixed fds, so that the listening socket's number, the one sendto() may give a
 * destination on, can never be taken by a received socket that is not bound to the veth.
 */
static void add_fd_filters(struct prog *p)
{
	jump(p, BPF_JEQ, SYS_recvmsg, 0, 2);
	load(p, ARG_LO(0));
	jump(p, BPF_JEQ, DNS_PROXY_FD_IPC, TO_ALLOW, TO_KILL);
	jump(p, BPF_JEQ, SYS_accept4, 0, 2);
	load(p, ARG_LO(0));
	jump(p, BPF_JEQ, DNS_PROXY_FD_LISTEN_TCP, TO_ALLOW, TO_KILL);
	jump(p, BPF_JEQ, SYS_close, 0, 2);
	load(p, ARG_LO(0));
	jump(p, BPF_JGT, DNS_PROXY_FD_LAST, TO_ALLOW, TO_KILL);
}

/* Turns TO_ALLOW and TO_KILL into offsets to the final two instructions. */
static void resolve_jumps(struct prog *p)
{
	size_t kill = p->n - 2, allow = p->n - 1;

	for (size_t i = 0; i < p->n; i++) {
		struct sock_filter *f = &p->f[i];

		if (BPF_CLASS(f->code) != BPF_JMP)
			continue;
		if (f->jt >= TO_ALLOW)
			f->jt = (uint8_t)((f->jt == TO_ALLOW ? allow : kill) - i - 1);
		if (f->jf >= TO_ALLOW)
			f->jf = (uint8_t)((f->jf == TO_ALLOW ? allow : kill) - i - 1);
	}
}

int dns_proxy_seccomp_load(void)
{
	static struct prog p;
	struct sock_fprog prog = { .filter = p.f };

	_Static_assert(ELEMENTSOF(allowed) + 27 <= PROG_MAX, "allowlist too long");
	p.n = 0;
	load(&p, offsetof(struct seccomp_data, arch));
	jump(&p, BPF_JEQ, PROXY_AUDIT_ARCH, 0, TO_KILL);
	load(&p, offsetof(struct seccomp_data, nr));
#ifdef PROXY_X32_BIT
	jump(&p, BPF_JGE, PROXY_X32_BIT, TO_KILL, 0);
#endif
	for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
		jump(&p, BPF_JEQ, allowed[i], TO_ALLOW, 0);
	add_sendto(&p);
	add_fd_filters(&p);
	ret(&p, SECCOMP_RET_KILL_PROCESS);
	ret(&p, SECCOMP_RET_ALLOW);
	resolve_jumps(&p);
	prog.len = (unsigned short)p.n;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * airlock-probe's "syscalls" subcommand: the table of syscall families the default seccomp
 * profile blocks or allows, each tried in a child with bad pointers or flags (bubblewrap's
 * try-syscall technique). A blocked call fails with EPERM (ENOSYS for clone3) or kills
 * the child with SIGSYS; an allowed one succeeds or fails with another error (EFAULT,
 * EBADF, EINVAL).
 *
 * The foreign ABIs (i386, x32) may also be refused by the kernel itself, sandbox or not:
 * without i386 emulation int $0x80 faults (SIGSEGV) before seccomp could see it, without
 * x32 the syscall fails with ENOSYS after seccomp let it through. That counts as blocked
 * but is reported as "blocked by the kernel: ... ABI not enabled", never as the filter's.
 */

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "macro.h"
#include "probe.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#define X32_SYSCALL_BIT 0x40000000
#define X32_NR_GETPID 39
#define I386_NR_GETPID 20

/* An address that is never mapped: an allowed syscall fails with EFAULT on it. */
#define BAD_PTR ((void *)(uintptr_t)0x8)

/* Runs fn in a child; returns its exit code, or 1000+N if it died of signal N. */
static int run_in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(fn(arg) & 0xff);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static long try_clone_flags(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long try_clone3_newuser(void)
{
	struct clone_args a = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
	long r = syscall(SYS_clone3, &a, sizeof(a));

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long personality_linux32(void)
{
	int old = personality(0xffffffff);
	long r = personality(PER_LINUX32);

	if (r >= 0)
		personality((unsigned long)old);
	return r;
}

static long try_socket(int family, int type)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static long i386_getpid(void)
{
	long r;

	/* Without the i386 ABI this faults: no core dump for an expected answer. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	__asm__ volatile("int $0x80" : "=a"(r) : "a"((long)I386_NR_GETPID) : "memory");
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

struct syscall_check {
	const char *name;
	long (*call)(void);
	const char *abi; /* a foreign ABI: the kernel itself may refuse it */
	int kernel_refusal; /* how it does: the result (errno, or 1000+signal) */
};

/* Each call would succeed or fail with a non-EPERM error (mostly EFAULT/EBADF) if allowed. */
#define CHECK(n, expr)            \
	static long try_##n(void) \
	{                         \
		return (expr);    \
	}
CHECK(clone_newuser, try_clone_flags(CLONE_NEWUSER))
CHECK(clone_newns, try_clone_flags(CLONE_NEWNS))
CHECK(clone_newnet, try_clone_flags(CLONE_NEWNET))
CHECK(clone3, try_clone3_newuser())
CHECK(unshare_newuser, unshare(CLONE_NEWUSER))
CHECK(unshare_newns, unshare(CLONE_NEWNS))
CHECK(unshare_newnet, unshare(CLONE_NEWNET))
CHECK(setns, setns(-1, 0))
CHECK(mount, syscall(SYS_mount, BAD_PTR, BAD_PTR, BAD_PTR, 0, BAD_PTR))
CHECK(umount2, syscall(SYS_umount2, BAD_PTR, 0))
CHECK(pivot_root, syscall(SYS_pivot_root, BAD_PTR, BAD_PTR))
CHECK(open_tree, syscall(SYS_open_tree, -1, BAD_PTR, 0))
CHECK(move_mount, syscall(SYS_move_mount, -1, BAD_PTR, -1, BAD_PTR, 0))
CHECK(fsopen, syscall(SYS_fsopen, BAD_PTR, 0))
CHECK(io_uring_setup, syscall(SYS_io_uring_setup, 1, BAD_PTR))
CHECK(bpf, syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, BAD_PTR, 128))
CHECK(userfaultfd, syscall(SYS_userfaultfd, ~0U))
CHECK(perf_event_open, syscall(SYS_perf_event_open, BAD_PTR, 0, -1, -1, 0))
CHECK(keyctl, syscall(SYS_keyctl, 11 /* KEYCTL_READ */, 0, BAD_PTR, 0, 0))
CHECK(add_key, syscall(SYS_add_key, BAD_PTR, BAD_PTR, BAD_PTR, 0, 0))
CHECK(ptrace, syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 0, 0, 0))
CHECK(process_vm_readv, syscall(SYS_process_vm_readv, getpid(), BAD_PTR, 1, BAD_PTR, 1, 0))
CHECK(kexec_load, syscall(SYS_kexec_load, 0, 0, BAD_PTR, ~0UL))
CHECK(init_module, syscall(SYS_init_module, BAD_PTR, 0, BAD_PTR))
CHECK(finit_module, syscall(SYS_finit_module, -1, BAD_PTR, 0))
CHECK(open_by_handle_at, syscall(SYS_open_by_handle_at, -1, BAD_PTR, 0))
CHECK(personality, personality_linux32())
CHECK(socket_netlink, try_socket(AF_NETLINK, SOCK_RAW))
CHECK(socket_packet, try_socket(AF_PACKET, SOCK_RAW))
CHECK(socket_vsock, try_socket(AF_VSOCK, SOCK_STREAM))
CHECK(socket_alg, try_socket(AF_ALG, SOCK_SEQPACKET))
CHECK(ioctl_tiocsti, ioctl(-1, TIOCSTI, BAD_PTR))
CHECK(ioctl_tioclinux, ioctl(-1, TIOCLINUX, BAD_PTR))
CHECK(x32_getpid, syscall(X32_SYSCALL_BIT | X32_NR_GETPID))
CHECK(i386_getpid, i386_getpid())
/* Ordinary work that must stay allowed. */
CHECK(fork, try_clone_flags(0))
CHECK(socket_inet, try_socket(AF_INET, SOCK_STREAM))
CHECK(socket_unix, try_socket(AF_UNIX, SOCK_STREAM))
CHECK(ioctl_fionread, ioctl(-1, FIONREAD, BAD_PTR))
CHECK(getpid, getpid())
#undef CHECK

/* clang-format off */
static const struct syscall_check blocked_checks[] = {
#define C(n) { #n, try_##n }
	C(clone_newuser), C(clone_newns), C(clone_newnet), C(clone3), C(unshare_newuser),
	C(unshare_newns), C(unshare_newnet), C(setns), C(mount), C(umount2), C(pivot_root),
	C(open_tree), C(move_mount), C(fsopen), C(io_uring_setup), C(bpf), C(userfaultfd),
	C(perf_event_open), C(keyctl), C(add_key), C(ptrace), C(process_vm_readv),
	C(kexec_load), C(init_module), C(finit_module), C(open_by_handle_at), C(personality),
	C(socket_netlink), C(socket_packet), C(socket_vsock), C(socket_alg), C(ioctl_tiocsti),
	C(ioctl_tioclinux),
	{ "x32_getpid", try_x32_getpid, "x32", ENOSYS },
	{ "i386_getpid", try_i386_getpid, "i386", 1000 + SIGSEGV },
};

static const struct syscall_check allowed_checks[] = {
	C(fork), C(socket_inet), C(socket_unix), C(ioctl_fionread), C(getpid),
#undef C
};
/* clang-format on */

static int syscall_child(void *arg)
{
	const struct syscall_check *c = arg;

	errno = 0;
	if (c->call() >= 0)
		return 0;
	return errno ? errno : 255;
}

/* 0 = call succeeded, errno, or 1000+signal. */
static const char *describe_result(int r, char *buf, size_t size)
{
	if (r == 0)
		snprintf(buf, size, "succeeded");
	else if (r >= 1000)
		snprintf(buf, size, "killed by signal %d", r - 1000);
	else
		snprintf(buf, size, "%s (%s)", strerrorname_np(r) ?: "?", strerror(r));
	return buf;
}

static bool is_blocked(int r)
{
	return r == EPERM || r == ENOSYS || r == 1000 + SIGSYS;
}

static bool is_kernel_refusal(const struct syscall_check *c, int r)
{
	return c->abi && r == c->kernel_refusal;
}

static void print_result(const char *state, const struct syscall_check *c, int r)
{
	char desc[96];

	describe_result(r, desc, sizeof(desc));
	if (is_kernel_refusal(c, r))
		printf("%s %s: blocked by the kernel: %s ABI not enabled (%s)\n", state, c->name,
		       c->abi, desc);
	else
		printf("%s %s: %s\n", state, c->name, desc);
}

static int check_table(const struct syscall_check *t, size_t n, bool want_blocked, int argc,
		       char **argv)
{
	int fail = 0;

	for (size_t i = 0; i < n; i++) {
		bool selected = argc == 0, good;
		int r;

		for (int j = 0; j < argc && !selected; j++)
			selected = streq(argv[j], t[i].name);
		if (!selected)
			continue;
		r = run_in_child(syscall_child, (void *)&t[i]);
		good = (is_blocked(r) || is_kernel_refusal(&t[i], r)) == want_blocked;
		print_result(want_blocked ? "blocked" : "allowed", &t[i], r);
		if (!good)
			printf("#   %s should be %s\n", t[i].name,
			       want_blocked ? "blocked (EPERM)" : "allowed");
		fail |= !good;
	}
	return fail;
}

int probe_syscalls(int argc, char **argv)
{
	int fail;

	fail = check_table(blocked_checks, ELEMENTSOF(blocked_checks), true, argc, argv);
	fail |= check_table(allowed_checks, ELEMENTSOF(allowed_checks), false, argc, argv);
	return fail;
}

int probe_abi(int argc, char **argv)
{
	for (size_t i = 0; i < ELEMENTSOF(blocked_checks); i++) {
		const struct syscall_check *c = &blocked_checks[i];
		char desc[96];
		int r;

		if (!c->abi || !streq(c->abi, argv[0]))
			continue;
		r = run_in_child(syscall_child, (void *)c);
		if (r == 0) {
			printf("abi %s: runs\n", c->abi);
			return 0;
		}
		describe_result(r, desc, sizeof(desc));
		if (is_kernel_refusal(c, r)) {
			printf("abi %s: blocked by the kernel: %s ABI not enabled (%s)\n", c->abi,
			       c->abi, desc);
			return 1;
		}
		printf("abi %s: blocked by something else (%s)\n", c->abi, desc);
		return 2;
	}
	fprintf(stderr, "airlock-probe abi: unknown ABI '%s' (i386, x32)\n", argv[0]);
	return 3;
}

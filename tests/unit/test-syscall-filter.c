/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The default seccomp profile (caps_drop_all() and Landlock: test-caps-landlock.c).
 * Everything kernel-touching happens in forked children. Syscall checks pass bad pointers
 * or bad flags (bubblewrap's try-syscall technique): a syscall the filter lets through
 * fails with EFAULT/EINVAL/EBADF, one it blocks fails with EPERM (ENOSYS for clone3). As
 * root, the same probes also run without the filter, proving each EPERM is the filter's.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/ioprio.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "policy.h"
#include "sandbox-test-util.h"
#include "syscall-abi.h"
#include "syscall-filter.h"
#include "syscall-filter-internal.h"
#include "test.h"

#define BAD 1L /* an unmapped address: "allowed" shows as EFAULT */
#define ALLOWED (-1) /* any result but EPERM/ENOSYS: the filter let it through */

struct probe {
	const char *name;
	long nr;
	long a[6];
	int expect; /* under the filter: EPERM, ENOSYS or ALLOWED */
	bool control; /* harmless to run unfiltered as root, and then never EPERM */
};

/* clang-format off */
#define NS(flag) { "clone(" #flag "|CLONE_THREAD)", SYS_clone, { (flag) | CLONE_THREAD }, EPERM, true }
#define AF(fam, exp) { "socket(" #fam ")", SYS_socket, { fam, 0xffff }, exp, true }
#define PROTO(fam, proto, exp) { "socket(" #fam ", " #proto ")", SYS_socket, { fam, 0xffff, proto }, exp, true }
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
/* The head of struct sched_attr (<linux/sched/types.h> clashes with glibc's sched.h). */
struct test_sched_attr {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};
#define NO_PID 0x7ffffff0L /* no such process, user or group: harmless unfiltered */

static const struct probe probes[] = {
	/* namespaces */
	{ "unshare(0)", SYS_unshare, { 0 }, EPERM, true },
	{ "unshare(CLONE_NEWUSER)", SYS_unshare, { CLONE_NEWUSER }, EPERM, false },
	{ "setns", SYS_setns, { -1, 0 }, EPERM, true },
	NS(CLONE_NEWNS), NS(CLONE_NEWCGROUP), NS(CLONE_NEWUTS), NS(CLONE_NEWIPC),
	NS(CLONE_NEWUSER), NS(CLONE_NEWPID), NS(CLONE_NEWNET),
	{ "clone(CLONE_THREAD)", SYS_clone, { CLONE_THREAD }, ALLOWED, true },
	{ "clone3", SYS_clone3, { 0, 0 }, ENOSYS, true },
	/* the mount family */
	{ "mount", SYS_mount, { BAD, BAD, BAD, 0, BAD }, EPERM, true },
	{ "umount2", SYS_umount2, { BAD, ~0L }, EPERM, true },
	{ "pivot_root", SYS_pivot_root, { BAD, BAD }, EPERM, true },
	{ "move_mount", SYS_move_mount, { -1, BAD, -1, BAD, ~0L }, EPERM, true },
	{ "open_tree", SYS_open_tree, { -1, BAD, ~0L }, EPERM, true },
	{ "fsopen", SYS_fsopen, { BAD, ~0L }, EPERM, true },
	{ "fsmount", SYS_fsmount, { -1, ~0L, 0 }, EPERM, true },
	{ "fsconfig", SYS_fsconfig, { -1, ~0L }, EPERM, true },
	{ "fspick", SYS_fspick, { -1, BAD, ~0L }, EPERM, true },
	{ "mount_setattr", SYS_mount_setattr, { -1, BAD, ~0L, BAD, 0 }, EPERM, true },
	{ "chroot", SYS_chroot, { BAD }, EPERM, true },
	/* kernel attack surface */
	{ "io_uring_setup", SYS_io_uring_setup, { 0, BAD }, EPERM, true },
	{ "io_uring_enter", SYS_io_uring_enter, { -1 }, EPERM, true },
	{ "io_uring_register", SYS_io_uring_register, { -1 }, EPERM, true },
	{ "bpf", SYS_bpf, { 0xffff, 0, 0 }, EPERM, true },
	{ "userfaultfd", SYS_userfaultfd, { ~0L }, EPERM, true },
	{ "perf_event_open", SYS_perf_event_open, { BAD, 0, -1, -1, 0 }, EPERM, true },
	{ "keyctl", SYS_keyctl, { 0xffff }, EPERM, true },
	{ "add_key", SYS_add_key, { BAD, BAD, 0, 0, 0 }, EPERM, true },
	{ "request_key", SYS_request_key, { BAD, BAD, 0, 0 }, EPERM, true },
	{ "ptrace", SYS_ptrace, { 0xffff, 0 }, EPERM, true },
	{ "process_vm_readv", SYS_process_vm_readv, { 0, 0, 0, 0, 0, ~0L }, EPERM, true },
	{ "process_vm_writev", SYS_process_vm_writev, { 0, 0, 0, 0, 0, ~0L }, EPERM, true },
	{ "process_madvise", SYS_process_madvise, { -1, 0, 0, 0, ~0L }, EPERM, true },
	{ "pidfd_getfd", SYS_pidfd_getfd, { -1, 0, 0 }, EPERM, true },
	{ "kcmp", SYS_kcmp, { 0, 0, ~0L }, EPERM, true },
	{ "open_by_handle_at", SYS_open_by_handle_at, { -1, BAD, 0 }, EPERM, true },
	{ "name_to_handle_at", SYS_name_to_handle_at, { -1, BAD, BAD, BAD, ~0L }, EPERM, true },
	{ "modify_ldt", SYS_modify_ldt, { 0xff, 0, 0 }, EPERM, true },
	/* host state: never run unfiltered */
	{ "kexec_load", SYS_kexec_load, { 0, 0, 0, 0xffff0000L }, EPERM, false },
	{ "kexec_file_load", SYS_kexec_file_load, { -1, -1, 0, 0, ~0L }, EPERM, false },
	{ "init_module", SYS_init_module, { BAD, 0, BAD }, EPERM, false },
	{ "finit_module", SYS_finit_module, { -1, BAD, 0 }, EPERM, false },
	{ "delete_module", SYS_delete_module, { BAD, 0 }, EPERM, false },
	{ "swapon", SYS_swapon, { BAD, 0 }, EPERM, false },
	{ "swapoff", SYS_swapoff, { BAD }, EPERM, false },
	{ "reboot", SYS_reboot, { 0, 0, 0, 0 }, EPERM, false },
	{ "acct", SYS_acct, { BAD }, EPERM, false },
	{ "quotactl", SYS_quotactl, { ~0L, BAD, 0, BAD }, EPERM, false },
	{ "settimeofday", SYS_settimeofday, { BAD, BAD }, EPERM, false },
	{ "clock_settime", SYS_clock_settime, { ~0L, BAD }, EPERM, false },
	{ "clock_adjtime", SYS_clock_adjtime, { ~0L, BAD }, EPERM, false },
	{ "adjtimex", SYS_adjtimex, { BAD }, EPERM, false },
	{ "syslog", SYS_syslog, { ~0L, 0, 0 }, EPERM, false },
	{ "lookup_dcookie", SYS_lookup_dcookie, { 0, BAD, 0 }, EPERM, false },
	{ "vhangup", SYS_vhangup, { 0 }, EPERM, false },
	{ "iopl", SYS_iopl, { 99 }, EPERM, false },
	{ "ioperm", SYS_ioperm, { 0, 0, 0 }, EPERM, false },
	{ "nfsservctl", SYS_nfsservctl, { 0 }, EPERM, false },
	/* personality: query and PER_LINUX only */
	{ "personality(PER_LINUX32)", SYS_personality, { PER_LINUX32 }, EPERM, false },
	{ "personality(ADDR_NO_RANDOMIZE)", SYS_personality, { ADDR_NO_RANDOMIZE }, EPERM, false },
	{ "personality(0xffffffff)", SYS_personality, { 0xffffffffL }, ALLOWED, true },
	{ "personality(PER_LINUX)", SYS_personality, { PER_LINUX }, ALLOWED, true },
	/* socket families */
	AF(AF_NETLINK, EPERM), AF(AF_PACKET, EPERM), AF(AF_VSOCK, EPERM), AF(AF_ALG, EPERM),
	AF(AF_KEY, EPERM), AF(AF_BLUETOOTH, EPERM), AF(AF_XDP, EPERM), AF(AF_CAN, EPERM),
	AF(AF_UNIX, ALLOWED), AF(AF_INET, ALLOWED), AF(AF_INET6, ALLOWED),
	{ "socketpair(AF_INET)", SYS_socketpair, { AF_INET, 0xffff, 0, BAD }, EPERM, true },
	/* inet protocols: 0, TCP, UDP and ICMP(v6) only (bad type 0xffff: EINVAL if allowed) */
	PROTO(AF_INET, IPPROTO_TCP, ALLOWED), PROTO(AF_INET, IPPROTO_UDP, ALLOWED),
	PROTO(AF_INET, IPPROTO_ICMP, ALLOWED), PROTO(AF_INET6, IPPROTO_TCP, ALLOWED),
	PROTO(AF_INET6, IPPROTO_UDP, ALLOWED), PROTO(AF_INET6, IPPROTO_ICMPV6, ALLOWED),
	PROTO(AF_INET, IPPROTO_SCTP, EPERM), PROTO(AF_INET, IPPROTO_UDPLITE, EPERM),
	PROTO(AF_INET, IPPROTO_MPTCP, EPERM), PROTO(AF_INET, IPPROTO_ICMPV6, EPERM),
	PROTO(AF_INET6, IPPROTO_SCTP, EPERM), PROTO(AF_INET6, IPPROTO_UDPLITE, EPERM),
	PROTO(AF_INET6, IPPROTO_MPTCP, EPERM), PROTO(AF_INET6, IPPROTO_ICMP, EPERM),
	PROTO(AF_INET, 1L << 32 | IPPROTO_TCP, EPERM),
	/* other processes: pid 0 (self) only for prlimit; nothing by user (pid 1: pidns test) */
	{ "prlimit64(0)", SYS_prlimit64, { 0, RLIMIT_NOFILE, 0, BAD }, ALLOWED, true },
	{ "prlimit64(1<<32)", SYS_prlimit64, { 1L << 32, RLIMIT_NOFILE, 0, BAD }, ALLOWED, true },
	{ "prlimit64(1)", SYS_prlimit64, { 1, RLIMIT_NOFILE, 0, BAD }, EPERM, true },
	{ "prlimit64(no such pid)", SYS_prlimit64, { NO_PID, RLIMIT_NOFILE, 0, BAD }, EPERM, true },
	{ "setpriority(PRIO_USER)", SYS_setpriority, { PRIO_USER, NO_PID, 0 }, EPERM, true },
	{ "setpriority(PRIO_PROCESS)", SYS_setpriority, { PRIO_PROCESS, NO_PID, 0 }, ALLOWED, true },
	{ "setpriority(PRIO_PGRP)", SYS_setpriority, { PRIO_PGRP, NO_PID, 0 }, ALLOWED, true },
	{ "getpriority(PRIO_USER)", SYS_getpriority, { PRIO_USER, NO_PID }, ALLOWED, true },
	{ "ioprio_set(WHO_USER)", SYS_ioprio_set, { IOPRIO_WHO_USER, NO_PID, 0 }, EPERM, true },
	{ "ioprio_set(WHO_PROCESS)", SYS_ioprio_set, { IOPRIO_WHO_PROCESS, NO_PID, 0 }, ALLOWED, true },
	{ "sched_setaffinity", SYS_sched_setaffinity, { NO_PID, 0, BAD }, ALLOWED, true },
	{ "sched_setscheduler", SYS_sched_setscheduler, { NO_PID, 0, BAD }, ALLOWED, true },
	{ "socketpair(AF_UNIX)", SYS_socketpair, { AF_UNIX, 0xffff, 0, BAD }, ALLOWED, true },
	/* ioctl: the kernel truncates the request to 32 bits, so must the filter */
	{ "ioctl(TIOCSTI)", SYS_ioctl, { -1, TIOCSTI }, EPERM, true },
	{ "ioctl(TIOCLINUX)", SYS_ioctl, { -1, TIOCLINUX }, EPERM, true },
	{ "ioctl(1<<32|TIOCSTI)", SYS_ioctl, { -1, (1L << 32) | TIOCSTI }, EPERM, true },
	{ "ioctl(~0<<32|TIOCLINUX)", SYS_ioctl, { -1, (long)(~0UL << 32) | TIOCLINUX }, EPERM, true },
	{ "ioctl(TCGETS)", SYS_ioctl, { -1, TCGETS }, ALLOWED, true },
	{ "ioctl(TIOCSTI+1)", SYS_ioctl, { -1, TIOCSTI + 1 }, ALLOWED, true },
	{ "ioctl(TIOCLINUX-1)", SYS_ioctl, { -1, TIOCLINUX - 1 }, ALLOWED, true },
	{ "ioctl(TIOCGPTN)", SYS_ioctl, { -1, TIOCGPTN }, ALLOWED, true },
	{ "ioctl(FIONREAD)", SYS_ioctl, { -1, FIONREAD }, ALLOWED, true },
	/* essentials with bad arguments */
	{ "openat", SYS_openat, { -1, BAD, 0 }, ALLOWED, true },
	{ "mmap", SYS_mmap, { 0, 0, 0, 0, -1, 0 }, ALLOWED, true },
	{ "execve", SYS_execve, { BAD, 0, 0 }, ALLOWED, true },
	{ "io_setup", SYS_io_setup, { 0, BAD }, ALLOWED, true },
};
/* clang-format on */

/* In a child: no_new_privs, then the filter. Exits 100 when that fails. */
static void child_lock_down(const struct syscall_filter *f)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall_filter_install(f) < 0)
		_exit(100);
}

/* Runs every probe in a child (filtered when f is set); results[i] is 0 or the errno. */
static int probes_run(const struct syscall_filter *f, int *results)
{
	_cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
	int fds[2], status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	rfd = fds[0];
	wfd = fds[1];

	pid = fork();
	if (pid == 0) {
		int res[ELEMENTSOF(probes)];

		if (f)
			child_lock_down(f);
		for (size_t i = 0; i < ELEMENTSOF(probes); i++) {
			const struct probe *p = &probes[i];
			long r;

			if (!f && !p->control) {
				res[i] = 0;
				continue;
			}
			r = syscall(p->nr, p->a[0], p->a[1], p->a[2], p->a[3], p->a[4], p->a[5]);
			res[i] = r < 0 ? errno : 0;
		}
		_exit(write_all(wfd, res, sizeof(res)) < 0 ? 101 : 0);
	}
	wfd = safe_close(wfd);
	if (read_full(rfd, results, sizeof(int) * ELEMENTSOF(probes)) !=
	    (ssize_t)(sizeof(int) * ELEMENTSOF(probes)))
		return -EIO;
	status = sandbox_test_child_wait(pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static bool probe_result_ok(const struct probe *p, int err)
{
	if (p->expect == ALLOWED)
		return err != EPERM && err != ENOSYS;
	return err == p->expect;
}

TEST(compile_and_measure)
{
	_cleanup_filter_ struct syscall_filter *f = NULL;
	struct policy p = { .seccomp = POLICY_SECCOMP_DEFAULT };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_OK(syscall_filter_compile(&p, &f));
	clock_gettime(CLOCK_MONOTONIC, &t1);

	ASSERT_TRUE(syscall_filter_size(f) > 100);
	ASSERT_TRUE(syscall_filter_size(f) < BPF_MAXINSNS);
	printf("# default profile: %zu BPF instructions, compiled in %.2f ms\n",
	       syscall_filter_size(f),
	       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);

	p.seccomp = _POLICY_SECCOMP_MAX;
	ASSERT_ERROR(syscall_filter_compile(&p, &f), EINVAL);
	ASSERT_ERROR(syscall_filter_install(NULL), EINVAL);
}

TEST(probes_filtered)
{
	_cleanup_filter_ struct syscall_filter *f = sandbox_test_filter_compile();
	int res[ELEMENTSOF(probes)];
	unsigned bad = 0;

	ASSERT_TRUE(f);
	ASSERT_OK(probes_run(f, res));
	for (size_t i = 0; i < ELEMENTSOF(probes); i++)
		if (!probe_result_ok(&probes[i], res[i])) {
			printf("#   %s: got %s, expected %s\n", probes[i].name, strerror(res[i]),
			       probes[i].expect == ALLOWED ? "allowed"
							   : strerror(probes[i].expect));
			bad++;
		}
	ASSERT_EQ(bad, 0);
}

/* Without the filter, as root, the probes must not fail with EPERM: the EPERM is ours. */
TEST(probes_unfiltered_control)
{
	int res[ELEMENTSOF(probes)];
	unsigned bad = 0;

	if (geteuid() != 0) {
		TEST_SKIP("control run needs root");
	}
	ASSERT_OK(probes_run(NULL, res));
	for (size_t i = 0; i < ELEMENTSOF(probes); i++)
		if (probes[i].control && (res[i] == EPERM || res[i] == ENOSYS)) {
			printf("#   %s: unfiltered %s\n", probes[i].name, strerror(res[i]));
			bad++;
		}
	ASSERT_EQ(bad, 0);
}

/* Returns 0, or the number of the first check that failed. */
static int essentials_check(void)
{
	_cleanup_close_ int fd = -EBADF, s4 = -EBADF, s6 = -EBADF, su = -EBADF;
	int pair[2], status;
	void *m;
	long pid;

	if (syscall(SYS_getpid) != getpid() || getpid() <= 0)
		return 1;
	fd = openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 2;
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || munmap(m, 1 << 20) < 0)
		return 3;
	/* A raw clone without namespace flags is fork. */
	pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(42);
	status = sandbox_test_child_wait(pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 42)
		return 4;
	s4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	su = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s4 < 0 || su < 0 || (s6 < 0 && errno != EAFNOSUPPORT))
		return 5;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return 6;
	close(pair[0]);
	close(pair[1]);
	if (socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0) >= 0 || errno != EPERM)
		return 7;
	if (ioctl(fd, TIOCSTI, "x") >= 0 || errno != EPERM)
		return 8;
	if (syscall(SYS_clone3, NULL, 0) >= 0 || errno != ENOSYS)
		return 9;
	if (personality(0xffffffff) < 0)
		return 10;
	return 0;
}

TEST(essentials_work)
{
	_cleanup_filter_ struct syscall_filter *f = sandbox_test_filter_compile();
	int status;
	pid_t pid;

	ASSERT_TRUE(f);
	pid = fork();
	if (pid == 0) {
		child_lock_down(f);
		_exit(essentials_check());
	}
	status = sandbox_test_child_wait(pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

static long i386_getpid(void)
{
	long r = 20; /* __NR_getpid of the i386 ABI */

	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
	return r;
}

/* Runs fn in a child, filtered or not; returns the wait status. */
static int child_run(const struct syscall_filter *f, long (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		if (f)
			child_lock_down(f);
		_exit(fn() == getpid() ? 0 : 1);
	}
	return sandbox_test_child_wait(pid);
}

TEST(i386_abi_killed)
{
	_cleanup_filter_ struct syscall_filter *f = sandbox_test_filter_compile();
	int status;

	ASSERT_TRUE(f);
	status = child_run(NULL, i386_getpid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		TEST_SKIP("kernel lacks IA32 emulation (int 0x80 status %#x)", status);
	}
	status = child_run(f, i386_getpid);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGSYS);
}

static long x32_getpid(void)
{
	long r = syscall(0x40000000L | SYS_getpid);

	/* Denied: EPERM (or the process is killed before we get here). */
	return r < 0 && errno == EPERM ? getpid() : -1;
}

TEST(x32_abi_denied)
{
	_cleanup_filter_ struct syscall_filter *f = sandbox_test_filter_compile();
	int status;

	ASSERT_TRUE(f);
	status = child_run(f, x32_getpid);
	if (WIFSIGNALED(status))
		ASSERT_EQ(WTERMSIG(status), SIGSYS);
	else
		ASSERT_EQ(WEXITSTATUS(status), 0);
}

/* The kernel's own answer to an x32 getpid, without a filter. */
static long x32_getpid_unfiltered(void)
{
	return syscall(0x40000000L | SYS_getpid);
}

/* What a child that tried fn unfiltered says: the kernel runs the ABI, or refuses it. */
static enum syscall_abi_state abi_state_of(long (*fn)(void))
{
	int status = child_run(NULL, fn);
	bool runs = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	return runs ? SYSCALL_ABI_RUNS : SYSCALL_ABI_OFF;
}

TEST(abi_detect_agrees_with_direct_tries)
{
	struct syscall_abi abis[SYSCALL_ABI_MAX];

	ASSERT_EQ(syscall_abi_detect(abis), 3);
	ASSERT_STREQ(abis[0].name, "x86_64");
	ASSERT_EQ(abis[0].state, SYSCALL_ABI_NATIVE);
	ASSERT_STREQ(abis[1].name, "i386");
	ASSERT_EQ(abis[1].state, abi_state_of(i386_getpid));
	ASSERT_STREQ(abis[2].name, "x32");
	ASSERT_EQ(abis[2].state, abi_state_of(x32_getpid_unfiltered));
	ASSERT_STREQ(syscall_abi_state_to_string(SYSCALL_ABI_OFF), "off");
	ASSERT_TRUE(syscall_abi_state_to_string(_SYSCALL_ABI_STATE_MAX) == NULL);
}

/* Execs argv under the filter; returns its wait status and up to len-1 bytes of stdout. */
static int exec_filtered(const struct syscall_filter *f, char *const argv[], char *out, size_t len)
{
	_cleanup_close_ int rfd = -EBADF;
	int fds[2];
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	rfd = fds[0];
	pid = fork();
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(102);
		alarm(60); /* survives execve: a hang fails the test instead of the suite */
		child_lock_down(f);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	n = read_full(rfd, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	return sandbox_test_child_wait(pid);
}

TEST(exec_shell_and_python)
{
	_cleanup_filter_ struct syscall_filter *f = sandbox_test_filter_compile();
	char *const sh[] = { "/bin/sh", "-c", "echo ok", NULL };
	char *const py[] = { "/usr/bin/python3", "-c",
			     "import multiprocessing as mp\n"
			     "with mp.Pool(2) as p: print(sum(p.map(abs, [-1, -2, 3])))",
			     NULL };
	char out[256];
	int status;

	ASSERT_TRUE(f);
	status = exec_filtered(f, sh, out, sizeof(out));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_STREQ(out, "ok\n");

	if (access(py[0], X_OK) < 0) {
		TEST_SKIP("%s not installed", py[0]);
	}
	status = exec_filtered(f, py, out, sizeof(out));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_STREQ(out, "6\n");
}

/* A shell script exercising the toolchains the profile is built for; absent tools are skipped. */
static const char toolchain_script[] =
	"set -e; cd \"$1\"; export HOME=\"$1\" PATH=/usr/bin:/bin\n"
	"if command -v gcc >/dev/null && command -v make >/dev/null; then\n"
	"  printf '#include <stdio.h>\\nint main(void){puts(\"hi\");return 0;}\\n' > h.c\n"
	"  printf 'h: h.c\\n\\tgcc -O1 -o h h.c\\n' > Makefile\n"
	"  make -s >/dev/null; test \"$(./h)\" = hi; echo gcc\n"
	"fi\n"
	"if command -v git >/dev/null; then\n"
	"  git init -q r; cd r; git config user.email t@e; git config user.name t\n"
	"  echo x > f; git add f; git commit -qm m; cd ..\n"
	"  git clone -q r c; test -f c/f; echo git\n"
	"fi\n"
	"tar czf a.tgz h.c 2>/dev/null || tar czf a.tgz Makefile\n"
	"tar tzf a.tgz >/dev/null; echo tar\n"
	"if command -v node >/dev/null; then\n"
	"  node -e \"const {Worker}=require('worker_threads');"
	"const cp=require('child_process');const fs=require('fs');"
	"fs.writeFileSync('n.txt','n');"
	"new Worker('process.exit(0)',{eval:true}).on('exit',c=>{"
	"if(c||cp.execSync('cat n.txt').toString()!=='n')process.exit(1);console.log('node')})\"\n"
	"fi\n"
	"if command -v npm >/dev/null; then npm --version >/dev/null; echo npm; fi\n"
	"if command -v curl >/dev/null; then\n"
	"  curl -s file:///etc/hostname >/dev/null; echo curl\n"
	"fi\n"
	"if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import venv' 2>/dev/null; then\n"
	"  /usr/bin/python3 -m venv --without-pip v\n"
	"  v/bin/python -c 'import sys; assert sys.prefix != sys.base_prefix'\n"
	"  echo venv\n"
	"  command -v curl >/dev/null && /usr/bin/python3 -c \"if 1:\n"
	"    import http.server, threading, subprocess\n"
	"    s = http.server.HTTPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler)\n"
	"    threading.Thread(target=s.serve_forever, daemon=True).start()\n"
	"    u = 'http://127.0.0.1:%d/' % s.server_port\n"
	"    subprocess.run(['curl', '-sf', '-o', '/dev/null', u], check=True)\n"
	"    print('curl-http')\" 2>/dev/null\n"
	"fi\n";

TEST(toolchains_work)
{
	_cleanup_filter_ struct syscall_filter *f = sandbox_test_filter_compile();
	char dir[] = "/tmp/airlock-test-tc-XXXXXX";
	char *const argv[] = { "/bin/sh", "-c", (char *)toolchain_script, "sh", dir, NULL };
	char out[512], cmd[64];
	int status;

	ASSERT_TRUE(f);
	ASSERT_TRUE(mkdtemp(dir));
	status = exec_filtered(f, argv, out, sizeof(out));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
	for (char *c = out; *c; c++)
		if (*c == '\n')
			*c = ' ';
	printf("# toolchains under the filter: %s\n", out);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

static struct syscall_filter *filter_compile_exec(void)
{
	char *exec[] = { "/usr", NULL };
	struct policy p = { .seccomp = POLICY_SECCOMP_DEFAULT, .filesystem.exec = exec };
	struct syscall_filter *f = NULL;

	if (syscall_filter_compile(&p, &f) < 0)
		return NULL;
	return f;
}

/* 0 when memfd_create answers as expected (want_errno 0: works) for both flag sets. */
static int memfd_check(int want_errno)
{
	static const unsigned flags[] = { MFD_CLOEXEC, MFD_CLOEXEC | MFD_ALLOW_SEALING,
					  MFD_CLOEXEC | MFD_NOEXEC_SEAL };

	for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
		int fd = memfd_create("airlock-test", flags[i]);

		if (fd >= 0)
			close(fd);
		if (want_errno ? fd >= 0 || errno != want_errno
			       : fd < 0 && !(flags[i] & MFD_NOEXEC_SEAL && errno == EINVAL))
			return 10 + (int)i;
	}
	return 0;
}

static int memfd_child(const struct syscall_filter *f, int want_errno)
{
	pid_t pid = fork();

	if (pid == 0) {
		child_lock_down(f);
		_exit(memfd_check(want_errno));
	}
	return sandbox_test_child_wait(pid);
}

/* With an exec allowlist, no anonymous file may be created: Landlock cannot see them. */
TEST(exec_allowlist_denies_memfd)
{
	_cleanup_filter_ struct syscall_filter *plain = sandbox_test_filter_compile();
	_cleanup_filter_ struct syscall_filter *exec = filter_compile_exec();
	int res[ELEMENTSOF(probes)], status;

	ASSERT_TRUE(plain && exec);
	status = memfd_child(plain, 0);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	status = memfd_child(exec, EPERM);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);

	/* Everything else is the default profile. */
	ASSERT_OK(probes_run(exec, res));
	for (size_t i = 0; i < ELEMENTSOF(probes); i++)
		if (!probe_result_ok(&probes[i], res[i]))
			TEST_FAIL_("exec variant: %s: %s", probes[i].name, strerror(res[i]));
	printf("# exec variant: %zu BPF instructions (default %zu)\n", syscall_filter_size(exec),
	       syscall_filter_size(plain));
}

#define EXPECT_EPERM(call, step)                   \
	do {                                       \
		if ((call) >= 0 || errno != EPERM) \
			return (step);             \
	} while (0)
#define EXPECT_OK(call, step)          \
	do {                           \
		if ((call) < 0)        \
			return (step); \
	} while (0)

/* In the pid namespace, filtered, in a session of our own: init (pid 1) is out of reach. */
static int pid1_attack(void)
{
	struct rlimit zero = { 0, 0 }, cur;
	struct sched_param sp = { 0 };
	struct test_sched_attr attr = { .size = sizeof(attr), .sched_policy = SCHED_IDLE };
	int idle = IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0), status;
	cpu_set_t set;
	pid_t own;

	EXPECT_EPERM(prlimit(getppid(), RLIMIT_CPU, &zero, NULL), 20);
	EXPECT_EPERM(syscall(SYS_prlimit64, 1L << 32 | 1, RLIMIT_NOFILE, &zero, NULL), 21);
	EXPECT_EPERM(prlimit(1, RLIMIT_NOFILE, NULL, &cur), 22);
	EXPECT_OK(prlimit(0, RLIMIT_NOFILE, NULL, &cur), 23);
	EXPECT_OK(prlimit(0, RLIMIT_NOFILE, &cur, NULL), 24);
	EXPECT_EPERM(setpriority(PRIO_PROCESS, 1, 19), 25);
	EXPECT_EPERM(syscall(SYS_setpriority, PRIO_PROCESS, 1L << 32 | 1, 19), 26);
	EXPECT_EPERM(setpriority(PRIO_PGRP, 1, 19), 27);
	EXPECT_EPERM(setpriority(PRIO_USER, 0, 19), 28);
	EXPECT_OK(sched_getaffinity(0, sizeof(set), &set), 29);
	EXPECT_EPERM(sched_setaffinity(1, sizeof(set), &set), 30);
	EXPECT_EPERM(sched_setscheduler(1, SCHED_IDLE, &sp), 31);
	EXPECT_EPERM(sched_setparam(1, &sp), 32);
	EXPECT_EPERM(syscall(SYS_sched_setattr, 1, &attr, 0), 33);
	EXPECT_EPERM(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 1, idle), 34);
	EXPECT_EPERM(syscall(SYS_ioprio_set, IOPRIO_WHO_USER, 0, idle), 35);

	/* Our own processes and threads stay reachable (nice, renice, taskset, ionice). */
	own = fork();
	if (own == 0) {
		pause();
		_exit(0);
	}
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 1), 40);
	EXPECT_OK(setpriority(PRIO_PROCESS, own, 5), 41);
	EXPECT_OK(setpriority(PRIO_PGRP, 0, 2), 42);
	EXPECT_OK(sched_setaffinity(own, sizeof(set), &set), 43);
	EXPECT_OK(sched_setscheduler(own, SCHED_BATCH, &sp), 44);
	EXPECT_OK(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, own, idle), 45);
	EXPECT_OK(getpriority(PRIO_PROCESS, 1), 46);
	kill(own, SIGKILL);
	status = sandbox_test_child_wait(own);
	return WIFSIGNALED(status) ? 0 : 47;
}

/*
 * Filtered, with RLIMIT_CORE at airlock's 1: a change of it succeeds but is not applied
 * (whatever the high bits of the resource), one that also asks for the old value fails,
 * and every other limit stays the task's to change.
 */
static int core_limit_attack(void)
{
	struct rlimit zero = { 0, 0 }, cur, nofile;

	EXPECT_OK(setrlimit(RLIMIT_CORE, &zero), 50);
	EXPECT_OK(prlimit(0, RLIMIT_CORE, &zero, NULL), 51);
	EXPECT_OK(syscall(SYS_prlimit64, 0, 1L << 32 | RLIMIT_CORE, &zero, NULL), 52);
	EXPECT_OK(syscall(SYS_setrlimit, 1L << 32 | RLIMIT_CORE, &zero), 53);
	EXPECT_EPERM(prlimit(0, RLIMIT_CORE, &zero, &cur), 54);
	EXPECT_OK(getrlimit(RLIMIT_CORE, &cur), 55);
	if (cur.rlim_cur != 1 || cur.rlim_max != 1)
		return 56;
	EXPECT_OK(getrlimit(RLIMIT_NOFILE, &nofile), 57);
	nofile.rlim_cur = nofile.rlim_max = 64;
	EXPECT_OK(setrlimit(RLIMIT_NOFILE, &nofile), 58);
	nofile.rlim_cur = 32;
	EXPECT_OK(prlimit(0, RLIMIT_NOFILE, &nofile, &cur), 59);
	EXPECT_OK(syscall(SYS_setrlimit, RLIMIT_NOFILE, &nofile), 60);
	EXPECT_OK(getrlimit(RLIMIT_NOFILE, &cur), 61);
	return cur.rlim_cur == 32 && cur.rlim_max == 64 ? 0 : 62;
}

TEST(core_limit_stays)
{
	_cleanup_filter_ struct syscall_filter *f = sandbox_test_filter_compile();
	struct rlimit one = { 1, 1 };
	int status;
	pid_t pid;

	ASSERT_TRUE(f);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		if (setrlimit(RLIMIT_CORE, &one) < 0)
			_exit(2);
		child_lock_down(f);
		_exit(core_limit_attack());
	}
	status = sandbox_test_child_wait(pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

/* Runs fn in a child of ours, in a new session, filtered when f is set: its exit code. */
static int pid1_child(const struct syscall_filter *f, int (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (setsid() < 0)
			_exit(2);
		if (f)
			child_lock_down(f);
		_exit(fn());
	}
	status = sandbox_test_child_wait(pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

static int pid1_read_limit(void)
{
	struct rlimit cur;

	return prlimit(1, RLIMIT_NOFILE, NULL, &cur) < 0 ? errno : 0;
}

/* pid 1 of a fresh pid namespace, standing in for the sandbox's init. */
static int pid1_main(const struct syscall_filter *f)
{
	struct rlimit cpu0, cpu1;
	int nice0, r;

	if (getpid() != 1 || setsid() < 0 || getrlimit(RLIMIT_CPU, &cpu0) < 0)
		return 4;
	nice0 = getpriority(PRIO_PROCESS, 0);
	/* Control: without the filter, the same uid may touch init. */
	r = pid1_child(NULL, pid1_read_limit);
	if (r != 0)
		return 5;
	r = pid1_child(f, pid1_attack);
	if (r != 0)
		return r;
	if (getrlimit(RLIMIT_CPU, &cpu1) < 0 || cpu1.rlim_cur != cpu0.rlim_cur ||
	    getpriority(PRIO_PROCESS, 0) != nice0)
		return 6;
	return 0;
}

TEST(init_out_of_reach)
{
	_cleanup_filter_ struct syscall_filter *f = sandbox_test_filter_compile();
	int status;
	pid_t pid;

	ASSERT_TRUE(f);
	if (geteuid() != 0) {
		TEST_SKIP("a pid namespace needs root");
	}
	pid = fork();
	if (pid == 0) {
		pid_t init;

		if (unshare(CLONE_NEWPID) < 0)
			_exit(77);
		init = fork();
		if (init == 0)
			_exit(pid1_main(f));
		status = sandbox_test_child_wait(init);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 99);
	}
	status = sandbox_test_child_wait(pid);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		TEST_SKIP("no pid namespaces");
	}
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

TEST_MAIN()

/* Each program compiled at build time is exactly what libseccomp compiles now. */
TEST(builtin_matches_fresh_compile)
{
	char *exec[] = { "/usr", NULL };

	for (int v = 0; v < _SYSCALL_FILTER_VARIANT_MAX; v++) {
		struct policy p = { .seccomp = POLICY_SECCOMP_DEFAULT };
		struct syscall_filter *builtin = NULL, *fresh = NULL;
		bool same;

		if (v == SYSCALL_FILTER_EXEC_ALLOWLIST)
			p.filesystem.exec = exec;
		ASSERT_EQ(syscall_filter_variant_of(&p), v);
		ASSERT_OK(syscall_filter_compile(&p, &builtin));
		ASSERT_OK(syscall_filter_compile_profile(POLICY_SECCOMP_DEFAULT, v, &fresh));
		same = builtin->prog.len == fresh->prog.len &&
		       memcmp(builtin->prog.filter, fresh->prog.filter,
			      fresh->prog.len * sizeof(struct sock_filter)) == 0;
		syscall_filter_free(builtin);
		syscall_filter_free(fresh);
		ASSERT_TRUE(same);
	}
	ASSERT_ERROR(syscall_filter_compile_profile(POLICY_SECCOMP_DEFAULT,
						    _SYSCALL_FILTER_VARIANT_MAX,
						    &(struct syscall_filter *){ NULL }),
		     EINVAL);
}

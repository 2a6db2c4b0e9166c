/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The default seccomp profile: an allowlist of what real toolchains (gcc, make, python3,
 * node, git, coreutils, shells, tar, curl) need. Everything else fails with EPERM.
 * Argument filters narrow clone (no namespace flags), socket/socketpair (unix, inet,
 * inet6), ioctl (no TIOCSTI/TIOCLINUX) and personality (query and PER_LINUX only).
 * clone3 fails with ENOSYS because its flags sit in memory BPF cannot read; glibc then
 * falls back to clone, whose flags we can check. Only the native ABI is allowed: i386
 * (int 0x80) and x32 (nr | 0x40000000) syscalls kill the process.
 *
 * libseccomp's context never leaves this file: compile() exports the BPF into a memfd and
 * keeps a plain struct sock_fprog, so install() is a single syscall in a forked child.
 * See docs/seccomp.md.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "cleanup.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "policy.h"
#include "syscall-filter.h"
#include "syscall-filter-internal.h"


DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release);

/* Every CLONE_NEW* flag clone(2) accepts (CLONE_NEWTIME exists only for clone3/unshare). */
#define CLONE_NEW_MASK                                                                            \
	((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
		    CLONE_NEWPID | CLONE_NEWNET))

/*
 * Allowed without conditions. Names unknown to the native ABI or to this libseccomp are
 * skipped, so one table serves every architecture.
 */
/* clang-format off */
static const char *const syscall_allow[] = {
	/* file descriptors and I/O */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "close", "close_range",
	"lseek", "_llseek", "dup", "dup2", "dup3", "fcntl", "fcntl64", "flock", "fsync",
	"fdatasync", "sync", "syncfs", "sync_file_range", "truncate", "ftruncate", "fallocate",
	"fadvise64", "readahead", "sendfile", "sendfile64", "copy_file_range", "splice", "tee",
	"vmsplice", "memfd_create", "pipe", "pipe2",
	/* file system metadata */
	"stat", "fstat", "lstat", "newfstatat", "fstatat64", "stat64", "fstat64", "lstat64",
	"statx", "statfs", "fstatfs", "statfs64", "fstatfs64", "access", "faccessat",
	"faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "getcwd", "chdir",
	"fchdir", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link",
	"linkat", "unlink", "unlinkat", "symlink", "symlinkat",
	"chown", "fchown", "lchown", "fchownat", "utime", "utimes", "futimesat",
	"utimensat", "umask", "getxattr", "lgetxattr", "fgetxattr",
	"listxattr", "llistxattr", "flistxattr", "setxattr", "lsetxattr", "fsetxattr",
	"removexattr", "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1",
	"inotify_add_watch", "inotify_rm_watch",
	/* memory */
	"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mlock", "mlock2",
	"munlock", "mlockall", "munlockall", "mincore", "msync", "membarrier", "pkey_alloc",
	"pkey_free", "pkey_mprotect", "get_mempolicy", "set_mempolicy", "mbind",
	/* processes and threads (clone is filtered below) */
	"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
	"kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "getpid", "getppid",
	"gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
	"getgroups", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
	"setgroups", "setfsuid", "setfsgid", "getpgid", "setpgid", "getpgrp", "getsid",
	"setsid", "getpriority", "setpriority", "ioprio_get", "ioprio_set", "prctl",
	"arch_prctl", "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex",
	"futex_waitv", "getrlimit", "setrlimit", "prlimit64", "getrusage", "times", "capget",
	"capset", "uname", "sysinfo", "getrandom", "getcpu", "restart_syscall", "seccomp",
	"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
	/* scheduling */
	"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
	"sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_getattr",
	"sched_setattr", "sched_get_priority_max", "sched_get_priority_min",
	"sched_rr_get_interval",
	/* time, timers and sleeping */
	"nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
	"alarm", "pause", "getitimer", "setitimer", "timer_create", "timer_settime",
	"timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create",
	"timerfd_settime", "timerfd_gettime",
	/* signals */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigreturn", "rt_sigpending",
	"rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigsuspend",
	"sigaltstack", "signalfd", "signalfd4",
	/* event loops (libuv, python asyncio) */
	"poll", "ppoll", "select", "_newselect", "pselect6", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
	/* POSIX AIO; System V and POSIX IPC (private to the task's ipc namespace) */
	"io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
	"msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl",
	"shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend",
	"mq_timedreceive", "mq_notify", "mq_getsetattr",
	/* sockets (socket and socketpair are filtered below) */
	"bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
	"setsockopt", "getsockopt",
};
/* clang-format on */

#define ARG(n, cmp_op, a, b)                                               \
	{                                                                  \
		.arg = (n), .op = (cmp_op), .datum_a = (a), .datum_b = (b) \
	}

/* Conditional rules: each row allows (or answers) a syscall only when its argument matches. */
struct syscall_rule {
	const char *name;
	uint32_t action;
	unsigned n_cmp; /* 0 or 1 */
	struct scmp_arg_cmp cmp;
};

static const struct syscall_rule syscall_rules[] = {
	/* No namespace flags: flags are argument 0 of clone on every ABI we build for. */
	{ "clone", SCMP_ACT_ALLOW, 1, ARG(0, SCMP_CMP_MASKED_EQ, CLONE_NEW_MASK, 0) },
	/* Flags live in a struct: refuse with ENOSYS so glibc retries with clone. */
	{ "clone3", SCMP_ACT_ERRNO(ENOSYS), 0, {} },
	{ "socket", SCMP_ACT_ALLOW, 1, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0) },
	{ "socket", SCMP_ACT_ALLOW, 1, ARG(0, SCMP_CMP_EQ, AF_INET, 0) },
	{ "socket", SCMP_ACT_ALLOW, 1, ARG(0, SCMP_CMP_EQ, AF_INET6, 0) },
	{ "socketpair", SCMP_ACT_ALLOW, 1, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0) },
	/*
	 * No set-uid or set-gid file may come into being (systemd's RestrictSUIDSGID=): an
	 * idmapped read-write workspace stores the task's files as the workspace owner, so a
	 * set-uid file there would be a set-uid file of that owner on the host. Each row
	 * allows the call when its mode carries neither bit; open/openat also when they do
	 * not create. openat2 hides its mode in a struct: ENOSYS makes callers fall back.
	 */
	{ "chmod", SCMP_ACT_ALLOW, 1, ARG(1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) },
	{ "fchmod", SCMP_ACT_ALLOW, 1, ARG(1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) },
	{ "fchmodat", SCMP_ACT_ALLOW, 1, ARG(2, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) },
	{ "creat", SCMP_ACT_ALLOW, 1, ARG(1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) },
	{ "mknod", SCMP_ACT_ALLOW, 1, ARG(1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) },
	{ "mknodat", SCMP_ACT_ALLOW, 1, ARG(2, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) },
	{ "open", SCMP_ACT_ALLOW, 1, ARG(1, SCMP_CMP_MASKED_EQ, O_CREAT | __O_TMPFILE, 0) },
	{ "open", SCMP_ACT_ALLOW, 1, ARG(2, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) },
	{ "openat", SCMP_ACT_ALLOW, 1, ARG(2, SCMP_CMP_MASKED_EQ, O_CREAT | __O_TMPFILE, 0) },
	{ "openat", SCMP_ACT_ALLOW, 1, ARG(3, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) },
	{ "openat2", SCMP_ACT_ERRNO(ENOSYS), 0, {} },
	/* The kernel reads personality as an unsigned int: compare the low 32 bits. */
	{ "personality", SCMP_ACT_ALLOW, 1, ARG(0, SCMP_CMP_MASKED_EQ, 0xffffffffu, PER_LINUX) },
	{ "personality", SCMP_ACT_ALLOW, 1, ARG(0, SCMP_CMP_MASKED_EQ, 0xffffffffu, 0xffffffffu) },
};

/* ioctl requests refused: terminal input injection and the console multiplexer. */
static const uint32_t ioctl_deny[] = { TIOCSTI, TIOCLINUX };

static int syscall_filter_add(scmp_filter_ctx ctx, const char *name, uint32_t action,
			      unsigned n_cmp, const struct scmp_arg_cmp *cmp)
{
	int nr;

	nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
	if (nr < 0)
		return 0; /* not a syscall of this ABI or unknown to libseccomp */

	return seccomp_rule_add_array(ctx, action, nr, n_cmp, n_cmp ? cmp : NULL);
}

/* Whether some denied request has bits 31..bit equal to prefix's. */
static bool ioctl_prefix_has_denied(uint32_t prefix, unsigned bit)
{
	uint32_t mask = (uint32_t)(0xffffffffull << bit);

	for (size_t i = 0; i < ELEMENTSOF(ioctl_deny); i++)
		if ((ioctl_deny[i] & mask) == (prefix & mask))
			return true;
	return false;
}

/*
 * Allows ioctl for every request except ioctl_deny. A conditional EPERM under an
 * unconditional allow is impossible (EPERM is the default action, libseccomp refuses it),
 * and the kernel truncates the request to 32 bits, so a 64-bit "!=" could be bypassed with
 * high bits. Instead we cover the complement with masked-equal rules on the low 32 bits:
 * prefix/bit name the subtree of values whose bits 31..bit equal prefix's, which holds a
 * denied value; each half of it without one is allowed whole, the others are split again
 * (about 32 rules per denied value, all on the ioctl branch of the filter).
 */
static int syscall_filter_add_ioctl(scmp_filter_ctx ctx, uint32_t prefix, unsigned bit)
{
	unsigned b;
	uint32_t mask;

	if (bit == 0)
		return 0; /* a single, denied value */

	b = bit - 1;
	mask = (uint32_t)(0xffffffffull << b);
	for (uint32_t half = 0; half < 2; half++) {
		uint32_t child = ((prefix & ~(1u << b)) | (half << b)) & mask;
		int r;

		if (ioctl_prefix_has_denied(child, b)) {
			r = syscall_filter_add_ioctl(ctx, child, b);
		} else {
			struct scmp_arg_cmp cmp = ARG(1, SCMP_CMP_MASKED_EQ, mask, child);

			r = syscall_filter_add(ctx, "ioctl", SCMP_ACT_ALLOW, 1, &cmp);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int syscall_filter_add_default(scmp_filter_ctx ctx)
{
	int r;

	for (size_t i = 0; i < ELEMENTSOF(syscall_allow); i++) {
		r = syscall_filter_add(ctx, syscall_allow[i], SCMP_ACT_ALLOW, 0, NULL);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ELEMENTSOF(syscall_rules); i++) {
		const struct syscall_rule *rule = &syscall_rules[i];

		r = syscall_filter_add(ctx, rule->name, rule->action, rule->n_cmp, &rule->cmp);
		if (r < 0)
			return r;
	}
	return syscall_filter_add_ioctl(ctx, 0, 32);
}

static int syscall_filter_new_ctx(scmp_filter_ctx *ret)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	int r;

	/* seccomp_init() uses the native ABI only: other ABIs hit the bad-arch action. */
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return -ENOMEM;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		return r;
	/* We load the program ourselves; never let libseccomp touch the process. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(ctx);
	return 0;
}

/* libseccomp 2.5 has no export to memory: write the BPF into a memfd and read it back. */
static int syscall_filter_export(scmp_filter_ctx ctx, struct sock_fprog *ret)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ struct sock_filter *insns = NULL;
	struct stat st;
	ssize_t n;
	int r;

	fd = memfd_create("airlock-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;

	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;

	insns = malloc(st.st_size);
	if (!insns)
		return -ENOMEM;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	n = read_full(fd, insns, st.st_size);
	if (n < 0)
		return (int)n;
	if (n != st.st_size)
		return -EIO;

	ret->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	ret->filter = TAKE_PTR(insns);
	return 0;
}

int syscall_filter_compile_profile(enum policy_seccomp_profile profile,
				   struct syscall_filter **ret)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	_cleanup_free_ struct syscall_filter *f = NULL;
	int r;

	assert(ret);

	if (profile != POLICY_SECCOMP_DEFAULT)
		return -EINVAL;

	r = syscall_filter_new_ctx(&ctx);
	if (r < 0)
		return r;
	r = syscall_filter_add_default(ctx);
	if (r < 0)
		return r;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	r = syscall_filter_export(ctx, &f->prog);
	if (r < 0)
		return r;

	log_debug("seccomp: compiled default profile, %u BPF instructions", f->prog.len);
	*ret = TAKE_PTR(f);
	return 0;
}

struct syscall_filter *syscall_filter_free(struct syscall_filter *f)
{
	if (!f)
		return NULL;
	if (!f->builtin)
		free(f->prog.filter);
	free(f);
	return NULL;
}

size_t syscall_filter_size(const struct syscall_filter *f)
{
	return f ? f->prog.len : 0;
}

int syscall_filter_install(const struct syscall_filter *f)
{
	if (!f || !f->prog.filter)
		return -EINVAL;

	/* Raw syscall: async-signal-safe, no allocation. The kernel copies the program. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f->prog) < 0)
		return -errno;
	return 0;
}

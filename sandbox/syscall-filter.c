/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The default seccomp profile: an allowlist of what real toolchains (gcc, make, python3,
 * node, git, coreutils, shells, tar, curl) need. Everything else fails with EPERM.
 * Argument filters narrow clone (no namespace flags), socket/socketpair (unix, inet and
 * inet6 with TCP, UDP or ICMP), ioctl (no TIOCSTI/TIOCLINUX), personality (query and
 * PER_LINUX only), the calls that act on other processes (prlimit64 on the caller
 * only; priorities, I/O priorities and scheduling of any process but init, pid 1), and
 * RLIMIT_CORE, which the task may read but not change (a change succeeds unapplied). With
 * an exec allowlist (a second variant) memfd_create is refused: Landlock cannot see
 * anonymous files.
 * clone3 fails with ENOSYS because its flags sit in memory BPF cannot read; glibc then
 * falls back to clone, whose flags we can check. Only the native ABI is allowed: i386
 * (int 0x80) and x32 (nr | 0x40000000) syscalls kill the process.
 *
 * This is the compiler, run at build time by syscall-filter-gen (and by the unit tests):
 * libseccomp's context never leaves this file, and the exported BPF becomes a plain
 * struct sock_fprog. The run-time side (syscall-filter-builtin.c) only installs it, with
 * a single syscall in a forked child, so airlock itself does not link libseccomp.
 * See docs/seccomp.md.
 */

#include <assert.h>
#include <netinet/in.h>
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
#include <sys/resource.h>
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
	"vmsplice", "pipe", "pipe2",
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
	"setsid", "getpriority", "ioprio_get", "prctl",
	"arch_prctl", "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex",
	"futex_waitv", "getrlimit", "getrusage", "times", "capget",
	"capset", "uname", "sysinfo", "getrandom", "getcpu", "restart_syscall", "seccomp",
	"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
	/* scheduling (the setters are filtered below) */
	"sched_yield", "sched_getaffinity", "sched_getparam", "sched_getscheduler",
	"sched_getattr", "sched_get_priority_max", "sched_get_priority_min",
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

/* Conditional rules: each row allows (or answers) a syscall only when its arguments match. */
struct syscall_rule {
	const char *name;
	uint32_t action;
	unsigned n_cmp; /* 0..4 comparisons, all of which must hold */
	struct scmp_arg_cmp cmp[4];
};

/*
 * An inet socket of protocol proto. The kernel reads family and protocol as int; an
 * allowlist may compare all 64 bits, since a value with high bits set matches no row.
 */
/* clang-format off */
#define INET(fam, proto)                                                   \
	{ "socket", SCMP_ACT_ALLOW, 2,                                     \
	  { ARG(0, SCMP_CMP_EQ, fam, 0), ARG(2, SCMP_CMP_EQ, proto, 0) } }
/* clang-format on */
/* The low 32 bits of argument n are v (the kernel reads the argument as a 32-bit int). */
#define ARG32(n, v) ARG(n, SCMP_CMP_MASKED_EQ, 0xffffffffu, v)

/* clang-format off */
static const struct syscall_rule syscall_rules[] = {
	/* No namespace flags: flags are argument 0 of clone on every ABI we build for. */
	{ "clone", SCMP_ACT_ALLOW, 1, { ARG(0, SCMP_CMP_MASKED_EQ, CLONE_NEW_MASK, 0) } },
	/* Flags live in a struct: refuse with ENOSYS so glibc retries with clone. */
	{ "clone3", SCMP_ACT_ERRNO(ENOSYS), 0, {} },
	{ "socket", SCMP_ACT_ALLOW, 1, { ARG(0, SCMP_CMP_EQ, AF_UNIX, 0) } },
	/* inet: the default protocol, TCP, UDP and ping sockets; no SCTP, UDP-Lite, MPTCP */
	INET(AF_INET, 0), INET(AF_INET, IPPROTO_TCP), INET(AF_INET, IPPROTO_UDP),
	INET(AF_INET, IPPROTO_ICMP), INET(AF_INET6, 0), INET(AF_INET6, IPPROTO_TCP),
	INET(AF_INET6, IPPROTO_UDP), INET(AF_INET6, IPPROTO_ICMPV6),
	{ "socketpair", SCMP_ACT_ALLOW, 1, { ARG(0, SCMP_CMP_EQ, AF_UNIX, 0) } },
	/*
	 * Resource limits of the caller only (pid 0): the sandbox's init runs as the task's
	 * uid, and prlimit(1, RLIMIT_CPU, {0, 0}) would kill it and forge the exit cause.
	 * Reading any limit is allowed here, setting any but RLIMIT_CORE below
	 * (syscall_excepts). A new RLIMIT_CORE is answered with success and ignored: at 0
	 * instead of airlock's 1 the kernel would hand a crashing task's memory to a pipe
	 * core_pattern (rlimits.c), and programs that disable their own core dumps
	 * (ssh-agent, gpg-agent) give up on an error. Setting it while reading the old value
	 * fails (EPERM): the old value would not be written.
	 */
	{ "prlimit64", SCMP_ACT_ALLOW, 2, { ARG32(0, 0), ARG(2, SCMP_CMP_EQ, 0, 0) } },
	{ "prlimit64", SCMP_ACT_ERRNO(0), 4,
	  { ARG32(0, 0), ARG32(1, RLIMIT_CORE), ARG(2, SCMP_CMP_NE, 0, 0),
	    ARG(3, SCMP_CMP_EQ, 0, 0) } },
	{ "setrlimit", SCMP_ACT_ERRNO(0), 1, { ARG32(0, RLIMIT_CORE) } },
	/*
	 * No set-uid or set-gid file may come into being (systemd's RestrictSUIDSGID=): an
	 * idmapped read-write workspace stores the task's files as the workspace owner, so a
	 * set-uid file there would be a set-uid file of that owner on the host. Each row
	 * allows the call when its mode carries neither bit; open/openat also when they do
	 * not create. openat2 hides its mode in a struct: ENOSYS makes callers fall back.
	 */
	{ "chmod", SCMP_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) } },
	{ "fchmod", SCMP_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) } },
	{ "fchmodat", SCMP_ACT_ALLOW, 1, { ARG(2, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) } },
	{ "creat", SCMP_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) } },
	{ "mknod", SCMP_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) } },
	{ "mknodat", SCMP_ACT_ALLOW, 1, { ARG(2, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) } },
	{ "open", SCMP_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_MASKED_EQ, O_CREAT | __O_TMPFILE, 0) } },
	{ "open", SCMP_ACT_ALLOW, 1, { ARG(2, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) } },
	{ "openat", SCMP_ACT_ALLOW, 1, { ARG(2, SCMP_CMP_MASKED_EQ, O_CREAT | __O_TMPFILE, 0) } },
	{ "openat", SCMP_ACT_ALLOW, 1, { ARG(3, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0) } },
	{ "openat2", SCMP_ACT_ERRNO(ENOSYS), 0, {} },
	/* The kernel reads personality as an unsigned int: compare the low 32 bits. */
	{ "personality", SCMP_ACT_ALLOW, 1, { ARG32(0, PER_LINUX) } },
	{ "personality", SCMP_ACT_ALLOW, 1, { ARG32(0, 0xffffffffu) } },
};
/* clang-format on */

/* ioctl requests refused: terminal input injection and the console multiplexer. */
static const uint32_t ioctl_deny[] = { TIOCSTI, TIOCLINUX };
/* The sandbox's init: it runs as the task's uid, so only the filter keeps it out of reach. */
static const uint32_t pid_init[] = { 1 };
/* The one resource limit the task may not change (see prlimit64 above). */
static const uint32_t rlimit_core[] = { RLIMIT_CORE };

/* IOPRIO_WHO_* (<linux/ioprio.h> exports them only since Linux 5.17). */
enum { IOPRIO_WHO_PROCESS_ = 1, IOPRIO_WHO_PGRP_ = 2 };
static_assert(PRIO_PROCESS == 0 && PRIO_PGRP == 1, "setpriority's which is matched by mask");

/*
 * Rules that allow a syscall for every 32-bit value of one argument but a few (the kernel
 * reads these arguments as 32-bit ints, so a 64-bit "!=" could be bypassed with high bits).
 * Each rule may carry one more comparison that must hold as well.
 */
struct syscall_except {
	const char *name;
	unsigned arg;
	const uint32_t *deny;
	size_t n_deny;
	unsigned n_cmp; /* 0 or 1 */
	struct scmp_arg_cmp cmp;
};

#define EXCEPT(name, arg, deny) name, arg, deny, ELEMENTSOF(deny)

static const struct syscall_except syscall_excepts[] = {
	{ EXCEPT("ioctl", 1, ioctl_deny), 0, {} },
	{ EXCEPT("prlimit64", 1, rlimit_core), 1, ARG32(0, 0) },
	{ EXCEPT("setrlimit", 0, rlimit_core), 0, {} },
	/*
	 * Scheduling of other processes: any but init, so that nice, renice of a child,
	 * taskset and per-thread priorities (by tid) keep working. setpriority by process or
	 * process group only (PRIO_USER would reach init); pgrp 1 is init's alone, since the
	 * task runs in a session of its own.
	 */
	{ EXCEPT("setpriority", 1, pid_init), 1, ARG(0, SCMP_CMP_MASKED_EQ, 0xfffffffeu, 0) },
	{ EXCEPT("ioprio_set", 1, pid_init), 1, ARG32(0, IOPRIO_WHO_PROCESS_) },
	{ EXCEPT("ioprio_set", 1, pid_init), 1, ARG32(0, IOPRIO_WHO_PGRP_) },
	{ EXCEPT("sched_setaffinity", 0, pid_init), 0, {} },
	{ EXCEPT("sched_setparam", 0, pid_init), 0, {} },
	{ EXCEPT("sched_setscheduler", 0, pid_init), 0, {} },
	{ EXCEPT("sched_setattr", 0, pid_init), 0, {} },
};

static int syscall_filter_add(scmp_filter_ctx ctx, const char *name, uint32_t action,
			      unsigned n_cmp, const struct scmp_arg_cmp *cmp)
{
	int nr;

	nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
	if (nr < 0)
		return 0; /* not a syscall of this ABI or unknown to libseccomp */

	return seccomp_rule_add_array(ctx, action, nr, n_cmp, n_cmp ? cmp : NULL);
}

/* Whether some denied value has bits 31..bit equal to prefix's. */
static bool except_prefix_has_denied(const struct syscall_except *e, uint32_t prefix, unsigned bit)
{
	uint32_t mask = (uint32_t)(0xffffffffull << bit);

	for (size_t i = 0; i < e->n_deny; i++)
		if ((e->deny[i] & mask) == (prefix & mask))
			return true;
	return false;
}

/*
 * Allows e->name for every value of its argument except e->deny. A conditional EPERM under
 * an unconditional allow is impossible (EPERM is the default action, libseccomp refuses
 * it). Instead we cover the complement with masked-equal rules on the low 32 bits:
 * prefix/bit name the subtree of values whose bits 31..bit equal prefix's, which holds a
 * denied value; each half of it without one is allowed whole, the others are split again
 * (about 32 rules per denied value, all on the syscall's own branch of the filter).
 */
static int syscall_filter_add_except(scmp_filter_ctx ctx, const struct syscall_except *e,
				     uint32_t prefix, unsigned bit)
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

		if (except_prefix_has_denied(e, child, b)) {
			r = syscall_filter_add_except(ctx, e, child, b);
		} else {
			struct scmp_arg_cmp cmp[2] = {
				ARG(e->arg, SCMP_CMP_MASKED_EQ, mask, child),
				e->cmp,
			};

			r = syscall_filter_add(ctx, e->name, SCMP_ACT_ALLOW, 1 + e->n_cmp, cmp);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int syscall_filter_add_default(scmp_filter_ctx ctx, enum syscall_filter_variant variant)
{
	int r;

	for (size_t i = 0; i < ELEMENTSOF(syscall_allow); i++) {
		r = syscall_filter_add(ctx, syscall_allow[i], SCMP_ACT_ALLOW, 0, NULL);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ELEMENTSOF(syscall_rules); i++) {
		const struct syscall_rule *rule = &syscall_rules[i];

		r = syscall_filter_add(ctx, rule->name, rule->action, rule->n_cmp, rule->cmp);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ELEMENTSOF(syscall_excepts); i++) {
		r = syscall_filter_add_except(ctx, &syscall_excepts[i], 0, 32);
		if (r < 0)
			return r;
	}

	/*
	 * Anonymous files: Landlock cannot restrict them (they have no path), and the loader
	 * maps one even when it is sealed non-executable (MFD_NOEXEC_SEAL stops execve only).
	 * With an exec allowlist, memfd_create fails with EPERM.
	 */
	if (variant == SYSCALL_FILTER_EXEC_ALLOWLIST)
		return 0;
	return syscall_filter_add(ctx, "memfd_create", SCMP_ACT_ALLOW, 0, NULL);
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
				   enum syscall_filter_variant variant, struct syscall_filter **ret)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	_cleanup_free_ struct syscall_filter *f = NULL;
	int r;

	assert(ret);

	if (profile != POLICY_SECCOMP_DEFAULT || variant < 0 ||
	    variant >= _SYSCALL_FILTER_VARIANT_MAX)
		return -EINVAL;

	r = syscall_filter_new_ctx(&ctx);
	if (r < 0)
		return r;
	r = syscall_filter_add_default(ctx, variant);
	if (r < 0)
		return r;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	r = syscall_filter_export(ctx, &f->prog);
	if (r < 0)
		return r;

	log_debug("seccomp: compiled default profile (variant %d), %u BPF instructions",
		  (int)variant, f->prog.len);
	*ret = TAKE_PTR(f);
	return 0;
}

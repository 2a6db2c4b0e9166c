/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "fd-util.h"
#include "helper-file.h"
#include "macro.h"
#include "signer.h"

/* How long the supervisor waits for the signer before signing in-process. */
#define SIGNER_TIMEOUT_MS 10000

int signer_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET ? -EPIPE : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Exactly len bytes within the timeout: -EPIPE on EOF, -ETIMEDOUT. */
static int recv_exact(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, SIGNER_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	n = read_full(fd, buf, len);
	if (n < 0)
		return n == -ECONNRESET ? -EPIPE : (int)n;
	return (size_t)n == len ? 0 : -EPIPE;
}

/* What the child reads until its execve(): written before it starts, never after. */
struct spawn_args {
	int exe, theirs, dir, devnull; /* each above the signer's two fds: none is overwritten */
	char *argv[3];
	char parent[24];
};

/* An fd at a number above the signer's two, CLOEXEC; fd is closed. */
static int fd_above(int fd)
{
	int n;

	if (fd < 0)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, SIGNER_STATE_FD + 1);
	if (n < 0)
		n = -errno;
	safe_close(fd);
	return n;
}

/* Closes the child's fds on our side; writes nothing: the child may still be reading *a. */
static void spawn_args_close(const struct spawn_args *a)
{
	safe_close(a->exe);
	safe_close(a->theirs);
	safe_close(a->dir);
	safe_close(a->devnull);
}

/* Our end of the socket, and the child's fds in *a; h says what is wrong with the program. */
static int spawn_prepare(int state_fd, struct spawn_args *a, struct helper_file *h)
{
	int sv[2], dir, r;

	*a = (struct spawn_args){
		.exe = -EBADF, .theirs = -EBADF, .dir = -EBADF, .devnull = -EBADF
	};
	a->exe = fd_above(helper_file_open(SIGNER_PROGRAM, AIRLOCK_BINDIR, AIRLOCK_HELPER_DIR, h));
	if (a->exe < 0)
		return a->exe;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		spawn_args_close(a);
		return r;
	}
	a->theirs = fd_above(sv[1]);
	dir = fcntl(state_fd, F_DUPFD_CLOEXEC, SIGNER_STATE_FD + 1);
	a->dir = dir < 0 ? -errno : dir;
	a->devnull = fd_above(open_devnull());
	if (a->theirs < 0 || a->dir < 0 || a->devnull < 0) {
		r = a->theirs < 0 ? a->theirs : a->dir < 0 ? a->dir : a->devnull;
		safe_close(sv[0]);
		spawn_args_close(a);
		return r;
	}
	snprintf(a->parent, sizeof(a->parent), "%d", (int)getpid());
	a->argv[0] = (char *)SIGNER_PROGRAM;
	a->argv[1] = a->parent;
	a->argv[2] = NULL;
	return sv[0];
}

/*
 * The child's system calls, made without the C library: the child shares our memory and
 * our thread's TLS, so a wrapper's failure would write our errno while we read it (and a
 * sanitizer's interceptor could take its locks). Each returns -errno. On other machines
 * the child is started with CLONE_VFORK: we then wait until its execve() is done, so its
 * errno writes race with nothing.
 */
#if defined(__x86_64__)
#define SPAWN_CLONE_FLAGS (CLONE_VM | SIGCHLD)
__attribute__((always_inline)) static inline long raw_syscall(long nr, long a, long b, long c,
							      long d, long e)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
#define SPAWN_CLONE_FLAGS (CLONE_VM | SIGCHLD)
__attribute__((always_inline)) static inline long raw_syscall(long nr, long a, long b, long c,
							      long d, long e)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4)
			 : "memory", "cc");
	return x0;
}
#else
#define SPAWN_CLONE_FLAGS (CLONE_VM | CLONE_VFORK | SIGCHLD)
__attribute__((always_inline)) static inline long raw_syscall(long nr, long a, long b, long c,
							      long d, long e)
{
	long r = syscall(nr, a, b, c, d, e);

	return r < 0 ? -errno : r;
}
#endif

/*
 * The child until its execve(). It shares our memory (CLONE_VM: starting it copies no page
 * table, and costs us no copy-on-write fault afterwards) but not our fd table, and runs
 * while we go on: so it makes system calls only, its own (raw_syscall()), and reads nothing
 * of ours but *arg, which nobody writes again. Not instrumented: a sanitizer's code could
 * use our thread's state (ASan also warns of the foreign stack). When the execveat()
 * fails, the child says why on its socket, and the run names the program's problem.
 */
__attribute__((no_sanitize("address", "undefined"))) static int spawn_child(void *arg)
{
	static char *const no_env[] = { NULL };
	const struct spawn_args *a = arg;
	struct signer_ready_msg m = { .exec_failed = 1 };
	long r;

	r = raw_syscall(SYS_dup3, a->devnull, 0, 0, 0, 0);
	if (r >= 0)
		r = raw_syscall(SYS_dup3, a->devnull, 1, 0, 0, 0);
	if (r >= 0)
		r = raw_syscall(SYS_dup3, a->theirs, SIGNER_SOCKET_FD, 0, 0, 0);
	if (r >= 0)
		r = raw_syscall(SYS_dup3, a->dir, SIGNER_STATE_FD, 0, 0, 0);
	/* The file opened and checked (helper-file.h), with nothing of our environment. */
	if (r >= 0)
		r = raw_syscall(SYS_execveat, a->exe, (long)"", (long)a->argv, (long)no_env,
				AT_EMPTY_PATH);
	m.error = (int32_t)r;
	(void)raw_syscall(SYS_write, a->theirs, (long)&m, sizeof(m), 0, 0);
	(void)raw_syscall(SYS_exit_group, 127, 0, 0, 0, 0);
	return 127; /* not reached */
}

int signer_spawn(int state_fd, pid_t *ret_pid, struct helper_file *h)
{
	/* The child's stack and arguments: static, as one process starts one signer. */
	static uint8_t stack[64 * 1024] __attribute__((aligned(16)));
	static struct spawn_args a;
	static bool used;
	sigset_t all, old;
	int ours;
	pid_t pid;

	if (used)
		return -EBUSY;
	used = true;
	ours = spawn_prepare(state_fd, &a, h);
	if (ours < 0)
		return ours;
	/*
	 * Every signal blocked in the child from its start (it answers its socket only, and
	 * dies with us). Not vfork() (posix_spawn()) where raw_syscall() is ours: that waits
	 * for the execve(), 1-15 ms here under load.
	 */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone(spawn_child, stack + sizeof(stack), SPAWN_CLONE_FLAGS, &a);
	if (pid < 0)
		pid = -errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* The child has its own copies of these (its fd table is a copy). */
	spawn_args_close(&a);
	if (pid < 0) {
		safe_close(ours);
		return pid;
	}
	*ret_pid = pid;
	return ours;
}

void signer_pin(pid_t pid, bool here)
{
	cpu_set_t cpus;
	int cpu = sched_getcpu();

	if (pid <= 0)
		return;
	if (!here) { /* our CPUs again: its exit then takes an idle one, not ours */
		if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
			(void)sched_setaffinity(pid, sizeof(cpus), &cpus);
		return;
	}
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	(void)sched_setaffinity(pid, sizeof(cpus), &cpus);
}

int signer_ready(int fd, uint8_t pub[SIGN_PUBLIC_SIZE], struct helper_file *h)
{
	struct signer_ready_msg m;
	int r;

	r = recv_exact(fd, &m, sizeof(m));
	if (r < 0)
		return r;
	if (m.error > 0 || m.error < -4095 || (m.exec_failed && m.error == 0))
		return -EPROTO;
	if (m.exec_failed) {
		/* ENOENT of an execveat() of an fd: a #! script (its fd is CLOEXEC) or no loader. */
		snprintf(h->problem, sizeof(h->problem), "cannot be executed: %s%s",
			 strerror(-m.error),
			 m.error == -ENOENT ? " (a script, or a program whose loader is missing)"
					    : "");
		return m.error;
	}
	if (m.error < 0)
		return m.error;
	memcpy(pub, m.pub, SIGN_PUBLIC_SIZE);
	return 0;
}

int signer_sign(int fd, const void *data, size_t len, uint8_t sig[SIGN_SIGNATURE_SIZE])
{
	struct signer_answer a;
	uint32_t n = (uint32_t)len;
	int r;

	if (len > SIGNER_MAX_BYTES)
		return -EMSGSIZE;
	r = signer_send_all(fd, &n, sizeof(n));
	if (r >= 0)
		r = signer_send_all(fd, data, len);
	if (r >= 0)
		r = recv_exact(fd, &a, sizeof(a));
	if (r < 0)
		return r;
	if (a.error != 0)
		return a.error < 0 && a.error >= -4095 ? a.error : -EPROTO;
	memcpy(sig, a.sig, SIGN_SIGNATURE_SIZE);
	return 0;
}

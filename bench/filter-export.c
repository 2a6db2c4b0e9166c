/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes airlock's default seccomp program, exactly as the kernel holds it after
 * syscall_filter_install(), as raw struct sock_filter[] to a file: the format of
 * `bwrap --seccomp FD`. Lets the startup benchmark give bwrap the same filter. Not part of
 * the test suite. Needs root (PTRACE_SECCOMP_GET_FILTER wants CAP_SYS_ADMIN).
 *
 *   filter-export OUTPUT
 *
 * The filter is installed in a traced child that then stops itself; the parent reads the
 * program back with ptrace, so this tool needs no access to libseccomp or to the opaque
 * struct syscall_filter.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "policy.h"
#include "syscall-filter.h"

static _Noreturn void child_main(const struct syscall_filter *f)
{
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
		_exit(10);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(11);
	if (syscall_filter_install(f) < 0)
		_exit(12);
	/* Raw syscalls: the default profile allows kill/getpid of oneself. */
	syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
	_exit(13);
}

/* Reads filter 0 of the stopped tracee pid into *ret (malloc); returns its length or -errno. */
static long read_filter(pid_t pid, struct sock_filter **ret)
{
	_cleanup_free_ struct sock_filter *insns = NULL;
	long n;

	n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, NULL);
	if (n <= 0)
		return n < 0 ? -errno : -ENODATA;
	insns = calloc((size_t)n, sizeof(*insns));
	if (!insns)
		return -ENOMEM;
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, insns) != n)
		return -EIO;
	*ret = TAKE_PTR(insns);
	return n;
}

static long export_default(struct sock_filter **ret)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	struct syscall_filter *f = NULL;
	long n;
	int status, r;
	pid_t pid;

	r = policy_new_default(&p);
	if (r < 0)
		return r;
	r = syscall_filter_compile(p, &f);
	if (r < 0)
		return r;

	pid = fork();
	if (pid == 0)
		child_main(f);
	syscall_filter_free(f);
	if (pid < 0)
		return -errno;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP)
		n = -ECHILD;
	else
		n = read_filter(pid, ret);
	kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	return n;
}

int main(int argc, char **argv)
{
	_cleanup_free_ struct sock_filter *insns = NULL;
	_cleanup_close_ int fd = -EBADF;
	long n;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: filter-export OUTPUT\n");
		return 2;
	}
	n = export_default(&insns);
	if (n < 0) {
		fprintf(stderr, "filter-export: %s\n", strerror((int)-n));
		return 1;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		fprintf(stderr, "filter-export: cannot create '%s': %m\n", argv[1]);
		return 1;
	}
	r = write_all(fd, insns, (size_t)n * sizeof(*insns));
	if (r < 0) {
		fprintf(stderr, "filter-export: cannot write '%s': %s\n", argv[1], strerror(-r));
		return 1;
	}
	printf("%ld\n", n);
	return 0;
}

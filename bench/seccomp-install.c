/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Benchmark of the default seccomp profile: BPF size, compile time, install time, and the
 * per-syscall cost it adds (getppid, which the filter reaches late in its binary tree, and
 * getpid). Not part of the test suite. Build by hand from the source tree:
 *
 *   cc -O2 -D_GNU_SOURCE -Icommon -Ipolicy -Isandbox bench/seccomp-install.c \
 *      sandbox/syscall-filter.c common/fd-util.c common/log.c -lseccomp -o seccomp-install
 *   ./seccomp-install [iterations]
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fd-util.h"
#include "policy.h"
#include "syscall-filter.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* ns per call of syscall nr, averaged over n calls. */
static double syscall_ns(long nr, long n)
{
	double t0 = now_us();

	for (long i = 0; i < n; i++)
		syscall(nr);
	return (now_us() - t0) * 1e3 / n;
}

/* In a child: install (timed), then time syscalls. Writes 3 doubles to fd. */
static void child_measure(const struct syscall_filter *f, int fd, long n)
{
	double r[3] = { 0 };
	double t0;

	if (f) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(1);
		t0 = now_us();
		if (syscall_filter_install(f) < 0)
			_exit(1);
		r[0] = now_us() - t0;
	}
	r[1] = syscall_ns(SYS_getppid, n);
	r[2] = syscall_ns(SYS_getpid, n);
	_exit(write_all(fd, r, sizeof(r)) < 0);
}

static int measure(const struct syscall_filter *f, long n, double r[3])
{
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		child_measure(f, fds[1], n);
	close(fds[1]);
	if (read_full(fds[0], r, 3 * sizeof(double)) != 3 * sizeof(double))
		r[0] = -1;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return r[0] < 0 ? -EIO : 0;
}

int main(int argc, char **argv)
{
	struct policy p = { .seccomp = POLICY_SECCOMP_DEFAULT };
	struct syscall_filter *f = NULL;
	long iterations = argc > 1 ? atol(argv[1]) : 200;
	double t0, compile_us, base[3], filt[3], install_us = 0;

	if (iterations <= 0)
		iterations = 200;

	t0 = now_us();
	for (long i = 0; i < iterations; i++) {
		f = syscall_filter_free(f);
		if (syscall_filter_compile(&p, &f) < 0)
			return 1;
	}
	compile_us = (now_us() - t0) / iterations;

	if (measure(NULL, 1000000, base) < 0)
		return 1;
	for (long i = 0; i < iterations; i++) {
		if (measure(f, 1, filt) < 0)
			return 1;
		install_us += filt[0];
	}
	if (measure(f, 1000000, filt) < 0)
		return 1;

	printf("bpf_instructions %zu\n", syscall_filter_size(f));
	printf("compile_us %.1f\n", compile_us);
	printf("install_us %.1f\n", install_us / iterations);
	printf("getppid_ns unfiltered %.1f filtered %.1f\n", base[1], filt[1]);
	printf("getpid_ns unfiltered %.1f filtered %.1f\n", base[2], filt[2]);
	syscall_filter_free(f);
	return 0;
}

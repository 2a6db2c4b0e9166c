/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the sandbox unit tests; see sandbox-test-util.h. */

#include <errno.h>
#include <sys/wait.h>

#include "policy.h"
#include "sandbox-test-util.h"
#include "syscall-filter.h"

struct syscall_filter *sandbox_test_filter_compile(void)
{
	struct policy p = { .seccomp = POLICY_SECCOMP_DEFAULT };
	struct syscall_filter *f = NULL;

	if (syscall_filter_compile(&p, &f) < 0)
		return NULL;
	return f;
}

void sandbox_test_filter_freep(struct syscall_filter **f)
{
	syscall_filter_free(*f);
}

int sandbox_test_child_wait(pid_t pid)
{
	int status;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

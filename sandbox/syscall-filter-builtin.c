/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run-time side of the seccomp profiles: each profile variant is compiled once, when
 * airlock is built (syscall-filter-gen runs syscall-filter.c's libseccomp compiler and emits
 * the BPF as C), so a run only copies a pointer instead of spending milliseconds in
 * libseccomp, and the airlock binary does not load libseccomp at all. The unit tests check
 * each built-in program equals a fresh compile.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "policy.h"
#include "syscall-filter-internal.h"
#include "syscall-filter.h"

enum syscall_filter_variant syscall_filter_variant_of(const struct policy *p)
{
	return p->filesystem.exec ? SYSCALL_FILTER_EXEC_ALLOWLIST : SYSCALL_FILTER_PLAIN;
}

int syscall_filter_compile(const struct policy *p, struct syscall_filter **ret)
{
	const struct syscall_filter_program *prog;
	struct syscall_filter *f;

	assert(p && ret);

	if (p->seccomp != POLICY_SECCOMP_DEFAULT)
		return -EINVAL;
	prog = &syscall_filter_builtin_default[syscall_filter_variant_of(p)];
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->prog.len = prog->len;
	f->prog.filter = (struct sock_filter *)prog->insns;
	f->builtin = true;
	*ret = f;
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

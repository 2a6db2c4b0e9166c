/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run-time side of the seccomp profiles: each profile is compiled once, when airlock
 * is built (syscall-filter-gen runs syscall-filter.c's libseccomp compiler and emits the
 * BPF as C), so a run only copies a pointer instead of spending milliseconds in
 * libseccomp. The unit tests check the built-in program equals a fresh compile.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "policy.h"
#include "syscall-filter-internal.h"
#include "syscall-filter.h"

int syscall_filter_compile(const struct policy *p, struct syscall_filter **ret)
{
	struct syscall_filter *f;

	assert(p && ret);

	if (p->seccomp != POLICY_SECCOMP_DEFAULT)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->prog.len = syscall_filter_builtin_default_len;
	f->prog.filter = (struct sock_filter *)syscall_filter_builtin_default;
	f->builtin = true;
	*ret = f;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the filter compiler, the build-time generator and the built-in programs. */

#include <linux/filter.h>
#include <stdbool.h>

#include "policy.h"

struct syscall_filter;

struct syscall_filter {
	struct sock_fprog prog;	/* prog.filter is owned (malloc) unless builtin */
	bool builtin;		/* prog.filter points into the program compiled at build time */
};

/*
 * Compiles a profile with libseccomp (the slow path: milliseconds). Used at build time by
 * syscall-filter-gen and by tests that compare the built-in program with a fresh one.
 * Returns 0 and *ret (owned by the caller) or -errno.
 */
int syscall_filter_compile_profile(enum policy_seccomp_profile profile,
				   struct syscall_filter **ret);

/* The default profile compiled at build time (syscall-filter-builtin-data.c, generated). */
extern const struct sock_filter syscall_filter_builtin_default[];
extern const unsigned short syscall_filter_builtin_default_len;

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the filter compiler, the build-time generator and the built-in programs. */

#include <linux/filter.h>
#include <stdbool.h>

#include "policy.h"

struct syscall_filter;

struct syscall_filter {
	struct sock_fprog prog; /* prog.filter is owned (malloc) unless builtin */
	bool builtin; /* prog.filter points into the program compiled at build time */
};

/*
 * Variants of a profile, picked by the policy; each is compiled at build time.
 * EXEC_ALLOWLIST is used when the policy sets filesystem.exec: it also refuses
 * memfd_create (EPERM), since an anonymous file escapes the Landlock exec allowlist.
 */
enum syscall_filter_variant {
	SYSCALL_FILTER_PLAIN,
	SYSCALL_FILTER_EXEC_ALLOWLIST,
	_SYSCALL_FILTER_VARIANT_MAX,
};

/*
 * Compiles a profile variant with libseccomp (the slow path: milliseconds). Used at build
 * time by syscall-filter-gen and by tests that compare the built-in programs with fresh
 * ones. Returns 0 and *ret (owned by the caller), -EINVAL for an unknown profile or
 * variant, or another -errno. Logs at debug level only.
 */
int syscall_filter_compile_profile(enum policy_seccomp_profile profile,
				   enum syscall_filter_variant variant,
				   struct syscall_filter **ret);

/* A BPF program compiled at build time (static storage). */
struct syscall_filter_program {
	const struct sock_filter *insns;
	unsigned short len;
};

/* The default profile's variants (syscall-filter-builtin-data.c, generated at build time). */
extern const struct syscall_filter_program
	syscall_filter_builtin_default[_SYSCALL_FILTER_VARIANT_MAX];

/* The variant a policy needs. */
enum syscall_filter_variant syscall_filter_variant_of(const struct policy *p);

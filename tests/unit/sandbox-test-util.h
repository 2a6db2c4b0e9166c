/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Helpers shared by the sandbox unit tests (test-syscall-filter.c and
 * test-caps-landlock.c). This file is compiled into each of those test executables.
 */

#include <sys/types.h>

#include "cleanup.h"

struct syscall_filter;

/*
 * Compiles the default seccomp profile (POLICY_SECCOMP_DEFAULT, no exec allowlist).
 * Returns the filter, owned by the caller (free it with syscall_filter_free() or declare
 * the variable _cleanup_filter_), or NULL on any failure. Does not log.
 */
struct syscall_filter *sandbox_test_filter_compile(void);

/* Frees *f (which may be NULL); the destructor behind _cleanup_filter_. */
void sandbox_test_filter_freep(struct syscall_filter **f);
#define _cleanup_filter_ _cleanup_(sandbox_test_filter_freep)

/*
 * Waits for the child pid, retrying on EINTR. Returns its wait status, or -1 when pid is
 * negative (a failed fork) or waitpid() fails otherwise. Does not log.
 */
int sandbox_test_child_wait(pid_t pid);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The task's resource limits (internal to sandbox/; the table is in rlimits.c). */

#include <sys/resource.h>
#include <sys/types.h>

struct policy;

/* The limit the task gets for resource (pure). Returns 0, or -EINVAL for an unknown one. */
int sandbox_rlimit_for(const struct policy *p, int resource, struct rlimit *ret);

/*
 * Sets every resource limit of pid (the sandbox's init, not yet released: the task
 * inherits them) from the table, whatever the caller's were. Runs in the parent: raising a
 * hard limit needs CAP_SYS_RESOURCE in the initial user namespace, which the child never
 * has. Where the parent lacks it too, a lower hard limit of the caller stays: the task gets
 * less than the table, never more. RLIMIT_NOFILE is only raised here (to at least the
 * policy's value): init still opens files while it builds the sandbox, and lowers it to
 * the policy's value before it starts the task. Returns 0 or -errno. Does not log.
 */
int sandbox_rlimits_pin(pid_t pid, const struct policy *p);
